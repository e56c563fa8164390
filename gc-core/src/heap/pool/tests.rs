//! Unit tests of the pool (P1–P3).
use super::*;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).unwrap()
}

#[test]
fn blocks_are_distinct_aligned_and_reused() {
    let pool = Pool::new();
    let l = layout(48);
    let blocks: Vec<_> = (0..2000).map(|_| pool.alloc(l)).collect();
    let mut addrs: Vec<usize> = blocks.iter().map(|b| b.as_ptr() as usize).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 2000);
    assert!(addrs.windows(2).all(|w| w[1] - w[0] >= 48));
    assert!(addrs.iter().all(|a| a % 8 == 0));
    let pages = pool.page_count();
    assert_eq!(pages, 2000usize.div_ceil((PAGE_SIZE - FIRST_BLOCK) / 48));
    for b in &blocks {
        // SAFETY: P1: allocated above with the same layout, freed once.
        unsafe { pool.free(*b, l) };
    }
    assert!(pool.all_free());
    // The empty pages stay cached (one partly carved chunk).
    assert_eq!(pool.page_count(), pages);
    // Reuse: the next allocation comes from a cached page.
    let again = pool.alloc(l);
    assert_eq!(pool.page_count(), pages);
    // SAFETY: P1: as above.
    unsafe { pool.free(again, l) };
}

#[test]
fn classes_are_8_byte_granular_and_keep_16_byte_alignment() {
    let l8 = Layout::from_size_align(40, 8).unwrap();
    let l16 = Layout::from_size_align(40, 16).unwrap();
    assert_eq!(CLASS_GRANULE * (class_of(l8) + 1), 40);
    assert_eq!(CLASS_GRANULE * (class_of(l16) + 1), 48);
    assert_eq!(
        class_of(Layout::from_size_align(48, 16).unwrap()),
        class_of(l16)
    );
    let pool = Pool::new();
    let a: Vec<_> = (0..1000).map(|_| pool.alloc(l8)).collect();
    let b: Vec<_> = (0..1000).map(|_| pool.alloc(l16)).collect();
    assert!(a.iter().all(|p| p.as_ptr() as usize % 8 == 0));
    assert!(b.iter().all(|p| p.as_ptr() as usize % 16 == 0));
    let mut addrs: Vec<usize> = a.iter().map(|p| p.as_ptr() as usize).collect();
    addrs.sort_unstable();
    assert!(addrs.windows(2).all(|w| w[1] - w[0] >= 40));
    for p in a {
        // SAFETY: P1: allocated above with `l8`, freed once.
        unsafe { pool.free(p, l8) };
    }
    for p in b {
        // SAFETY: P1: allocated above with `l16`, freed once.
        unsafe { pool.free(p, l16) };
    }
    assert!(pool.all_free());
}

#[test]
fn new_drop_loop_keeps_one_page() {
    let pool = Pool::new();
    let l = layout(40);
    for _ in 0..10_000 {
        let b = pool.alloc(l);
        // SAFETY: P1: as above.
        unsafe { pool.free(b, l) };
    }
    assert_eq!(pool.page_count(), 1);
}

#[test]
fn classes_do_not_mix_and_empty_pages_change_class() {
    let pool = Pool::new();
    let (a, b) = (layout(32), layout(200));
    let x = pool.alloc(a);
    let y = pool.alloc(b);
    assert_ne!(
        x.as_ptr() as usize / PAGE_SIZE,
        y.as_ptr() as usize / PAGE_SIZE
    );
    // SAFETY: P1: as above.
    unsafe {
        // Writing the whole block must not disturb the page header.
        std::ptr::write_bytes(y.as_ptr(), 0xAB, 200);
        pool.free(y, b);
        pool.free(x, a);
    }
    assert!(pool.all_free());
}

/// Regression: `free_slow` held a `&mut Page` across `unlink`'s writes
/// through the raw page pointer, then wrote `next` through it (UB under
/// Tree and Stacked Borrows, caught by Miri). Runs every path of
/// `free_slow` (full page made usable; emptied head, middle and tail
/// page cached; a fully cached chunk released once the cache holds more
/// than KEEP_EMPTY_PAGES) and reuses cached pages for another class.
#[test]
fn emptied_pages_are_cached_released_and_reused_by_another_class() {
    let (pool, l, per_page) = largest_class();
    // Two full chunks and three pages of a third.
    let pages = 2 * CHUNK_PAGES + 3;
    let blocks: Vec<_> = (0..pages * per_page).map(|_| pool.alloc(l)).collect();
    assert_eq!(pool.page_count(), pages);
    let by_page: Vec<&[NonNull<u8>]> = blocks.chunks(per_page).collect();
    // One free per full page: every page is usable again, the last first.
    for page in &by_page {
        // SAFETY: P1: allocated above with `l`, freed once.
        unsafe { pool.free(page[0], l) };
    }
    // Empty them in an order that unlinks middle, tail and head pages.
    let order = [1, 0].into_iter().chain(2..pages);
    for i in order {
        for b in &by_page[i][1..] {
            // SAFETY: P1: as above.
            unsafe { pool.free(*b, l) };
        }
    }
    assert!(pool.all_free());
    // Every page was in use at the peak: the cache keeps them all (P3).
    assert_eq!(pool.page_count(), pages);
    // A full collection trims: the last page stays as its class's only
    // usable page; chunk 1 goes back; chunk 0 stays (the cache keeps
    // KEEP_EMPTY_PAGES); chunk 2 is still being carved: kept.
    pool.trim();
    assert_eq!(pool.page_count(), CHUNK_PAGES + 3);
    let kept = pool.page_count();

    // Cached pages now serve a small class (their old class must not
    // leak through: the debug class check in `free` would fire).
    let small = layout(16);
    let per_small_page = (PAGE_SIZE - FIRST_BLOCK) / 16;
    let n = 2 * per_small_page + 1;
    let xs: Vec<_> = (0..n).map(|_| pool.alloc(small)).collect();
    assert_eq!(pool.page_count(), kept, "no new page");
    let mut addrs: Vec<usize> = xs.iter().map(|b| b.as_ptr() as usize).collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), n);
    for (i, x) in xs.iter().enumerate() {
        // SAFETY: P1: a 16-byte block of ours.
        unsafe { x.as_ptr().cast::<[u64; 2]>().write([i as u64; 2]) };
    }
    // The big class still has its page: no page needed there either.
    let big = pool.alloc(l);
    assert_eq!(pool.page_count(), kept);
    for (i, x) in xs.iter().enumerate().rev() {
        // SAFETY: P1: as above; each block still holds its own value.
        unsafe {
            assert_eq!(x.as_ptr().cast::<[u64; 2]>().read(), [i as u64; 2]);
            pool.free(*x, small);
        }
    }
    // SAFETY: P1: as above.
    unsafe { pool.free(big, l) };
    assert!(pool.all_free());
    assert!(pool.page_count() <= kept);
}

/// P3 across epochs: the full collection that ends an epoch keeps the
/// pages the epoch used at its peak; an epoch that does not use them gives
/// them back when it ends (down to `KEEP_EMPTY_PAGES`, beside the class's
/// last usable page and the chunk being carved).
#[test]
fn an_epoch_keeps_its_peak_and_an_idle_epoch_gives_it_back() {
    let (pool, l, per_page) = largest_class();
    let pages = 4 * CHUNK_PAGES + 3;
    let fill = |pool: &Pool| -> Vec<NonNull<u8>> {
        (0..pages * per_page).map(|_| pool.alloc(l)).collect()
    };
    let empty = |pool: &Pool, blocks: Vec<NonNull<u8>>| {
        for b in blocks {
            // SAFETY: P1: allocated by `fill` with `l`, freed once.
            unsafe { pool.free(b, l) };
        }
        assert!(pool.all_free());
    };
    let blocks = fill(&pool);
    assert_eq!(pool.page_count(), pages);
    empty(&pool, blocks);
    pool.end_epoch();
    assert_eq!(pool.page_count(), pages, "the epoch's peak is kept");
    // The next epoch rebuilds the same working set from the cache.
    let blocks = fill(&pool);
    assert_eq!(pool.page_count(), pages, "no new page");
    empty(&pool, blocks);
    pool.end_epoch();
    assert_eq!(pool.page_count(), pages);
    // An epoch that uses none of it: everything beyond KEEP_EMPTY_PAGES
    // goes back, whole chunks at a time.
    pool.end_epoch();
    assert!(
        pool.page_count() <= KEEP_EMPTY_PAGES + CHUNK_PAGES + 3,
        "{} pages kept",
        pool.page_count()
    );
    assert!(pool.page_count() >= KEEP_EMPTY_PAGES);
}

/// P2's cache order: whatever order pages are emptied in, a chunk's cached
/// pages are reused lowest address first (a structure rebuilt in reused
/// pages lies in address order, as in fresh ones), after the page cached
/// last.
#[test]
fn cached_pages_are_reused_in_address_order() {
    let (pool, l, per_page) = largest_class();
    let pages = 2 * CHUNK_PAGES;
    let blocks: Vec<_> = (0..pages * per_page).map(|_| pool.alloc(l)).collect();
    let by_page: Vec<&[NonNull<u8>]> = blocks.chunks(per_page).collect();
    // Empty the pages in a scrambled order (7 is coprime to 2 * 32 and to
    // Miri's 2 * 4).
    for k in 0..pages {
        for b in by_page[k * 7 % pages] {
            // SAFETY: P1: allocated above with `l`, freed once.
            unsafe { pool.free(*b, l) };
        }
    }
    // The page emptied first stays its class's usable page (it was the
    // only one); the one emptied last was cached last, and is taken first
    // from the cache; the rest in address order.
    let again: Vec<_> = (0..pages * per_page).map(|_| pool.alloc(l)).collect();
    assert_eq!(pool.page_count(), pages, "no new page");
    let mut order: Vec<usize> = again.iter().map(|b| page_addr(*b)).collect();
    order.dedup();
    assert_eq!(order.len(), pages);
    assert_eq!(order[0], page_addr(by_page[0][0]));
    assert_eq!(
        order[1],
        page_addr(by_page[(pages - 1) * 7 % pages][0]),
        "hot first"
    );
    let cached = &order[2..];
    let descents = cached.windows(2).filter(|w| w[1] < w[0]).count();
    // Ascending within each chunk: at most one step down, between the two
    // chunks.
    assert!(descents <= 1, "pages reused out of order: {order:x?}");
    for b in again {
        // SAFETY: P1: as above.
        unsafe { pool.free(b, l) };
    }
    assert!(pool.all_free());
}

#[test]
fn pages_fill_up_and_come_back_when_a_block_is_freed() {
    let (pool, l, per_page) = largest_class();
    let first: Vec<_> = (0..per_page).map(|_| pool.alloc(l)).collect();
    assert_eq!(pool.page_count(), 1);
    let extra = pool.alloc(l); // the first page is full: a second one
    assert_eq!(pool.page_count(), 2);
    // SAFETY: P1: as above.
    unsafe { pool.free(first[3], l) };
    let reused = pool.alloc(l);
    assert_eq!(
        reused, first[3],
        "a freed block of a full page is reused first"
    );
    // SAFETY: P1: as above.
    unsafe {
        pool.free(reused, l);
        pool.free(extra, l);
        for (i, b) in first.iter().enumerate() {
            if i != 3 {
                pool.free(*b, l);
            }
        }
    }
    assert!(pool.all_free());
}

#[test]
fn side_indices_are_distinct_dense_and_exact() {
    // The multiply by MAGIC divides exactly for every offset of a page.
    for class in 0..NUM_CLASSES {
        let block = CLASS_GRANULE * (class + 1);
        for offset in 0..PAGE_SIZE - FIRST_BLOCK {
            let q = ((offset as u64 * u64::from(side::magic(block as u32))) >> 32) as usize;
            assert_eq!(q, offset / block, "class {class}, offset {offset}");
        }
    }
    // Blocks of several classes on several pages, some freed: every
    // allocated block gets its own index below the total (P5).
    let pool = Pool::new();
    let mut blocks = Vec::new();
    for (i, size) in [32, 72, 200, 512]
        .into_iter()
        .cycle()
        .take(4000)
        .enumerate()
    {
        let l = layout(size);
        let b = pool.alloc(l);
        if i % 3 == 0 {
            // SAFETY: P1: allocated just now with `l`, not used.
            unsafe { pool.free(b, l) };
        } else {
            blocks.push(b);
        }
    }
    let total = pool.number_blocks().expect("a small pool is numbered");
    let mut seen = vec![false; total];
    for b in &blocks {
        // SAFETY: P2: an allocated block of a live pool.
        let i = unsafe { side::side_index(b.as_ptr()) };
        assert!(i < total, "index {i} of {total}");
        assert!(!seen[i], "index {i} given twice");
        seen[i] = true;
    }
    // A page carved after the numbering maps out of range.
    let late = pool.alloc(layout(96));
    // SAFETY: P2: as above.
    assert!(unsafe { side::side_index(late.as_ptr()) } >= u32::MAX as usize);
    // SAFETY: P1: every block was allocated from `pool` with its layout's
    // class; `free_block` reads the class from the page.
    unsafe {
        pool.free_block(late);
        for b in blocks {
            pool.free_block(b);
        }
    }
    assert!(pool.all_free());
}

/// P2's hot page: a page that empties while the class fills another is
/// the first one reused, though a lower page is cached too (short-lived
/// objects keep cycling through the same, cache-hot page).
#[test]
fn the_page_cached_last_is_reused_first() {
    let (pool, l, per_page) = largest_class();
    // Pages 0, 1, 2 full; page 3 with one block, its class's usable page.
    let blocks: Vec<_> = (0..3 * per_page + 1).map(|_| pool.alloc(l)).collect();
    let (p0, p1) = (page_addr(blocks[0]), page_addr(blocks[per_page]));
    assert!(p0 < p1);
    for b in &blocks[..2 * per_page] {
        // SAFETY: P1: allocated above with `l`, freed once.
        unsafe { pool.free(*b, l) };
    }
    // Fill page 3; the next block comes from the cache: page 1, then 0.
    let fill: Vec<_> = (0..per_page - 1).map(|_| pool.alloc(l)).collect();
    let next = pool.alloc(l);
    assert_eq!(page_addr(next), p1, "the page cached last first");
    let more: Vec<_> = (0..per_page).map(|_| pool.alloc(l)).collect();
    assert_eq!(page_addr(more[per_page - 1]), p0, "then the lowest");
    for b in blocks[2 * per_page..]
        .iter()
        .chain(&fill)
        .chain([&next])
        .chain(&more)
    {
        // SAFETY: P1: as above.
        unsafe { pool.free(*b, l) };
    }
    assert!(pool.all_free());
}

/// A fresh pool, the layout of its largest class, and how many such blocks
/// a page holds.
fn largest_class() -> (Pool, Layout, usize) {
    (
        Pool::new(),
        layout(MAX_BLOCK),
        (PAGE_SIZE - FIRST_BLOCK) / MAX_BLOCK,
    )
}

/// The address of the page a block lies in.
fn page_addr(b: NonNull<u8>) -> usize {
    b.as_ptr() as usize & !(PAGE_SIZE - 1)
}
