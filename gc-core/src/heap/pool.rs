//! A size-class pool for the tracked objects of the per-thread heap
//! (CPython's pymalloc, simplified).
//!
//! Tracked objects are small and short-lived, and a collector frees them by
//! the hundred thousand; the global allocator's general-purpose `malloc` /
//! `free` cost more than everything else in `Gc::new` + drop. So objects of
//! a tracked type whose allocation is at most [`MAX_BLOCK`] bytes with an
//! alignment of at most [`BLOCK_ALIGN`] come from here instead.
//!
//! # Structure
//!
//! Memory comes from the global allocator in *chunks* of [`CHUNK_PAGES`]
//! pages of [`PAGE_SIZE`] bytes, aligned to `PAGE_SIZE` (one large aligned
//! allocation wastes almost nothing; one allocation per 16 KiB page made
//! `malloc`'s alignment gaps resident and cost half as much memory again).
//! A page serves one *size class* (blocks of `8 * (class + 1)` bytes; even
//! classes for 16-aligned types) at a time: a small [`Page`] header at its start, then the blocks. A block's
//! page is found by masking the address, so a block carries no header.
//!
//! * Each class has a doubly linked list of its pages that have a free
//!   block (`usable`); allocation takes from the first. A page that fills up
//!   leaves the list; a free into a full page puts it back at the front.
//! * Within a page, freed blocks form a LIFO free list; never-used blocks
//!   are handed out by bumping an offset. Pages of a chunk are carved one by
//!   one as needed, so memory is not touched before it is used.
//! * A page whose last block is freed goes to a cache of empty pages that
//!   any class can reuse — unless it is the only usable page of its class
//!   (that keeps a `new` + drop loop from recycling a page each time). The
//!   cache is a bit per page in its chunk, and a list of the chunks with a
//!   cached page; the page cached last is reused first if it is still
//!   there (a page that empties and fills again and again stays the same,
//!   cache-hot page), then a chunk's cached pages lowest address first, so
//!   objects allocated one after another lie in address order whether
//!   their pages are fresh or reused (the collector's passes stream them).
//! * A chunk whose pages are all carved and all in the cache is returned to
//!   the global allocator once the cache holds more empty pages than it may
//!   keep (P3): [`KEEP_EMPTY_PAGES`], or as many pages as were in use at the
//!   peak since the last full collection, whichever is more. So a program
//!   that frees a large structure and builds another reuses the same pages
//!   (a fresh chunk from the global allocator costs a page fault per 4 KiB
//!   when it is first written: 4x the time of building a 1M-node list in
//!   gc-bench's `a1_list_build`). Each full collection ends an *epoch*
//!   ([`Pool::end_epoch`]): it gives back every empty chunk beyond
//!   [`KEEP_EMPTY_PAGES`] or the pages the epoch had in use at its peak,
//!   whichever is more, and restarts the peak. So a program that builds a
//!   working set, drops it and collects, again and again, keeps its pages
//!   (returning them at each collection had cost a page fault per 4 KiB on
//!   every rebuild: 5 ms instead of 1 ms per 100k 2-cycles in gc-bench's
//!   `b_pairs_create`), and a cache that an epoch does not use goes back at
//!   the full collection that ends it: an idle pool that served one size
//!   class keeps at most [`MAX_IDLE_PAGES_ONE_CLASS`] after two.
//!   (pymalloc frees an empty arena at once; glibc's `malloc`, behind `Rc`,
//!   keeps small freed blocks in its bins and trims its top past a
//!   threshold that grows with the program's use.) The cache is used
//!   before any page is carved, so the pages the pool holds never exceed
//!   its peak use: keeping them delays their return, never raises the
//!   peak.
//! * The pool keeps a list of its chunks, so the heap can tell at thread
//!   exit whether any block is still allocated.
//!
//! # Invariants
//!
//! * **P1 (ownership).** An object of the per-thread heap is in a pool block
//!   iff its type is tracked, its allocation [`fits`], and the thread's heap
//!   existed when it was allocated. Once the heap of a thread is gone
//!   (`heap()` returns `None`) it never comes back, and the heap is only
//!   freed when no block of its pool is allocated ([`Pool::all_free`]), so:
//!   at deallocation, `heap()` is `Some` iff the block came from the pool.
//!   Per-thread objects never change threads (`Gc`, `Weak` and `GcAny` are
//!   `!Send`), so a block is always freed into the pool that made it.
//! * **P2 (pages).** A page's `used` counts its blocks not on its free list
//!   and below `bump`; a page is on its class's `usable` list iff
//!   `used < capacity` and it is not in the empty cache; it is in the empty
//!   cache iff `used == 0` and it was taken off `usable`. Bit `i` of a
//!   chunk's `cached` is set iff its page `i` is in the cache (so only
//!   carved pages' bits are set); a chunk is on the pool's cache list
//!   (`empty`) iff `cached != 0`; `hot` is null or a page in the cache; a
//!   chunk is freed only when `cached == ALL_CACHED` (every page carved
//!   and cached: no block of it is in use).
//! * **P3 (retention).** `carved_pages` counts the pages carved from the
//!   pool's live chunks, `empty_count` those in the cache; `peak_in_use`
//!   is at least `carved_pages - empty_count` and only
//!   [`Pool::end_epoch`] and [`Pool::trim`] lower it (to that value). A
//!   chunk is released by `free_slow` only when the cache holds more than
//!   `max(KEEP_EMPTY_PAGES, peak_in_use)` pages, and by `end_epoch` only
//!   while it holds at least `max(KEEP_EMPTY_PAGES, peak_in_use) +
//!   CHUNK_PAGES` (by `trim`, for a pool no thread uses,
//!   `KEEP_EMPTY_PAGES + CHUNK_PAGES`).
//!   (Bookkeeping only: no `unsafe` relies on P3.)
//! * **P4 (blocks in use).** In a page with `used > 0` the blocks below
//!   `bump` are exactly its allocated blocks and the blocks on its free
//!   list; so [`Pool::for_each_allocated_block`], which skips the free
//!   ones, visits every allocated block of the pool once.
//! * **P5 (side indices)** is written in `pool::side`.
//!
//! Turning off the Cargo feature `pool` (on by default) turns the pool off
//! (every object uses the global allocator), so that other allocators, heap
//! profilers, valgrind and Miri see every object's lifetime as a separate
//! allocation.

use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::{self, NonNull};

/// Bytes per page (and the alignment of pages); 4 KiB under loom, whose
/// models leak each execution's sync pools (world slots are never freed).
pub(crate) const PAGE_SIZE: usize = if cfg!(loom) { 4096 } else { 16 * 1024 };
/// The largest alignment a pooled type may have.
pub(crate) const BLOCK_ALIGN: usize = 16;
/// The largest block; bigger objects use the global allocator.
pub(crate) const MAX_BLOCK: usize = 512;
/// Number of size classes.
const NUM_CLASSES: usize = MAX_BLOCK / CLASS_GRANULE;
/// Size classes are multiples of 8 bytes: block `c` is `8 * (c + 1)` bytes.
/// A type aligned to 16 gets an even class (a multiple of 16 bytes), so its
/// blocks, at `FIRST_BLOCK + i * block` in a 16 KiB-aligned page, are
/// 16-aligned; blocks of other classes are 8-aligned.
const CLASS_GRANULE: usize = 8;
/// Pages per chunk (the unit the pool gets from and returns to the global
/// allocator): 512 KiB (64 KiB under Miri, so that small tests there still
/// span several chunks).
pub(crate) const CHUNK_PAGES: usize = if cfg!(loom) {
    1
} else if cfg!(miri) {
    4
} else {
    32
};
/// Under loom a page holds at most this many blocks, so that a model's few
/// allocations fill pages and reach the slow paths (the sync pool's
/// takeover of blocks freed by other threads, `sync::pool`).
#[cfg(loom)]
const LOOM_PAGE_BLOCKS: u32 = 2;
/// Empty pages the cache keeps before whole empty chunks are returned.
pub(crate) const KEEP_EMPTY_PAGES: usize = CHUNK_PAGES;
/// Most pages an idle pool (no block in use) that served one size class
/// keeps: the cache, the chunk being carved, and the chunk of the class's
/// last usable page (each class in use may pin one more chunk that way).
pub(crate) const MAX_IDLE_PAGES_ONE_CLASS: usize = KEEP_EMPTY_PAGES + 2 * CHUNK_PAGES;
/// Offset of the first block: the page header, rounded up.
const FIRST_BLOCK: usize = 64;
/// Bits of a page's free-block map: one per 8-byte granule of the page.
const GRANULE_WORDS: usize = PAGE_SIZE / CLASS_GRANULE / 64;

const _: () = assert!(std::mem::size_of::<Page>() <= FIRST_BLOCK);
const _: () = assert!(FIRST_BLOCK % BLOCK_ALIGN == 0);

/// Whether an allocation of `layout` is served by the pool.
#[inline(always)]
pub(crate) const fn fits(layout: Layout) -> bool {
    cfg!(feature = "pool") && layout.size() <= MAX_BLOCK && layout.align() <= BLOCK_ALIGN
}

/// The size class of an allocation that [`fits`].
#[inline(always)]
pub(crate) const fn class_of(layout: Layout) -> usize {
    let granules = if layout.align() > CLASS_GRANULE {
        layout.size().div_ceil(BLOCK_ALIGN) * (BLOCK_ALIGN / CLASS_GRANULE)
    } else {
        layout.size().div_ceil(CLASS_GRANULE)
    };
    granules - 1
}

/// The header at the start of every page.
#[repr(C)]
struct Page {
    /// Freed blocks of this page (LIFO), linked through their first word.
    free: *mut u8,
    /// Offset of the first never-used block (at most `FIRST_BLOCK +
    /// capacity * block` once the page serves a class; `take_block` bumps
    /// it only while `used < capacity` and the free list is empty: then it
    /// is in range).
    bump: u32,
    /// Blocks handed out and not freed (P2).
    used: u32,
    /// Blocks the page holds in its current class.
    capacity: u32,
    /// Block size of the current class.
    block: u32,
    /// `ceil(2^32 / block)`: `offset * magic >> 32 == offset / block`
    /// for every offset within the page (`side::side_index`; the class is
    /// `block / 8 - 1`).
    magic: u32,
    /// The first side-table index of the page's blocks in the running
    /// full collection ([`Pool::number_blocks`], P5); `u32::MAX` on a page
    /// carved or reused since then (or never numbered).
    side_base: u32,
    /// Neighbours on the class's `usable` list (null in the empty cache).
    next: *mut Page,
    prev: *mut Page,
    /// The chunk the page belongs to.
    chunk: *mut Chunk,
    /// The owner tag of the pool (`Pool::set_owner`), written when the page
    /// is carved and never changed while it is (the sync pool finds a
    /// block's pool here, SP2).
    owner: *const (),
}

/// Bookkeeping of one chunk (a `Box` of its own, outside the chunk).
struct Chunk {
    /// Start of the chunk's memory: page `i` is at `base + i * PAGE_SIZE`.
    base: *mut u8,
    /// Pages handed out so far (`0..=CHUNK_PAGES`).
    carved: usize,
    /// Of those, the pages now in the empty cache: bit `i` for page `i`.
    cached: u32,
    /// Neighbours on the pool's list of chunks.
    next: *mut Chunk,
    prev: *mut Chunk,
    /// Neighbours on the pool's list of chunks with a cached page.
    cache_next: *mut Chunk,
    cache_prev: *mut Chunk,
}

/// `Chunk::cached` when every page of the chunk is in the cache.
const ALL_CACHED: u32 = if CHUNK_PAGES == 32 {
    u32::MAX
} else {
    (1 << CHUNK_PAGES) - 1
};
const _: () = assert!(CHUNK_PAGES <= 32);

/// The pool of one per-thread heap (see the module docs).
pub(crate) struct Pool {
    usable: [Cell<*mut Page>; NUM_CLASSES],
    /// The empty-page cache: the chunks with a cached page (doubly linked
    /// through `cache_next`/`cache_prev`), whose `cached` bits say which.
    /// Pages are taken lowest address first within a chunk, so a structure
    /// rebuilt in the cache lies in address order as it did in fresh
    /// chunks (taken in the order they were freed, a page at a time, the
    /// pages of a 1M-node tree came back in reverse and its next full
    /// collection took 31 ms instead of 19).
    empty: Cell<*mut Chunk>,
    empty_count: Cell<usize>,
    /// The page last put in the cache, if it is still there: taken first,
    /// so a page that empties and fills again and again (short-lived
    /// objects) is the same, cache-hot page, as with a LIFO cache.
    hot: Cell<*mut Page>,
    /// Every chunk of the pool.
    chunks: Cell<*mut Chunk>,
    /// The chunk pages are carved from (`carved < CHUNK_PAGES`), if any.
    current: Cell<*mut Chunk>,
    /// Pages carved from the pool's chunks (in use or in the cache).
    carved_pages: Cell<usize>,
    /// The most pages in use (carved and not in the cache) since the last
    /// [`Pool::end_epoch`] or [`Pool::trim`]: how many empty pages the
    /// cache may keep (P3).
    peak_in_use: Cell<usize>,
    /// Copied into every page carved ([`owner_of`]); null unless set.
    owner: Cell<*const ()>,
}

const CHUNK_LAYOUT: Layout = match Layout::from_size_align(CHUNK_PAGES * PAGE_SIZE, PAGE_SIZE) {
    Ok(l) => l,
    Err(_) => panic!("chunk layout"),
};

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool {
            usable: std::array::from_fn(|_| Cell::new(ptr::null_mut())),
            empty: Cell::new(ptr::null_mut()),
            empty_count: Cell::new(0),
            hot: Cell::new(ptr::null_mut()),
            chunks: Cell::new(ptr::null_mut()),
            current: Cell::new(ptr::null_mut()),
            carved_pages: Cell::new(0),
            peak_in_use: Cell::new(0),
            owner: Cell::new(ptr::null()),
        }
    }

    /// Tag every page carved from now on with `owner` ([`owner_of`]); call
    /// before the first allocation.
    pub(crate) fn set_owner(&self, owner: *const ()) {
        debug_assert!(self.chunks.get().is_null(), "gc: pool owner set late");
        self.owner.set(owner);
    }

    /// Whether the class of `layout` has a page with a free block (the
    /// next [`Pool::alloc`] takes its fast path).
    #[inline(always)]
    pub(crate) fn has_usable(&self, layout: Layout) -> bool {
        !self.usable[class_of(layout)].get().is_null()
    }

    /// A block for an allocation of `layout` (which [`fits`]).
    #[inline(always)]
    pub(crate) fn alloc(&self, layout: Layout) -> NonNull<u8> {
        let class = class_of(layout);
        let page = self.usable[class].get();
        if page.is_null() {
            return self.alloc_slow(class);
        }
        // SAFETY: P2: pages on a usable list are live pages of this pool with a
        // free block (P2).
        unsafe { take_block(page, &self.usable[class]) }
    }

    #[cold]
    #[inline(never)]
    fn alloc_slow(&self, class: usize) -> NonNull<u8> {
        let page = self.take_from_cache().unwrap_or_else(|| self.new_page());
        let in_use = self.carved_pages.get() - self.empty_count.get();
        if in_use > self.peak_in_use.get() {
            self.peak_in_use.set(in_use);
        }
        // SAFETY: P2: `page` is a live, empty page owned by this pool and on no
        // list.
        unsafe {
            let block = (CLASS_GRANULE * (class + 1)) as u32;
            let p = &mut *page;
            p.free = ptr::null_mut();
            p.bump = FIRST_BLOCK as u32;
            p.used = 0;
            p.capacity = ((PAGE_SIZE - FIRST_BLOCK) / block as usize) as u32;
            #[cfg(loom)]
            {
                p.capacity = p.capacity.min(LOOM_PAGE_BLOCKS);
            }
            p.block = block;
            p.magic = side::magic(block);
            p.side_base = u32::MAX;
            p.prev = ptr::null_mut();
            p.next = ptr::null_mut();
            self.usable[class].set(page);
            take_block(page, &self.usable[class])
        }
    }

    /// Carve a page from the current chunk (a new chunk if there is none).
    fn new_page(&self) -> *mut Page {
        let mut chunk = self.current.get();
        if chunk.is_null() {
            // SAFETY: I10: the layout has a non-zero size.
            let base = unsafe { std::alloc::alloc(CHUNK_LAYOUT) };
            if base.is_null() {
                std::alloc::handle_alloc_error(CHUNK_LAYOUT);
            }
            chunk = Box::into_raw(Box::new(Chunk {
                base,
                carved: 0,
                cached: 0,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                cache_next: ptr::null_mut(),
                cache_prev: ptr::null_mut(),
            }));
            // SAFETY: P2: a new live chunk on no list; chunks on the list
            // are live.
            unsafe { push_front(chunk, &self.chunks, chunk_links) };
            self.current.set(chunk);
        }
        // SAFETY: P2: `current` is a live chunk with `carved < CHUNK_PAGES`: the
        // page lies inside its allocation, aligned to PAGE_SIZE.
        unsafe {
            let c = &mut *chunk;
            let page = c.base.add(c.carved * PAGE_SIZE).cast::<Page>();
            c.carved += 1;
            self.carved_pages.set(self.carved_pages.get() + 1);
            if c.carved == CHUNK_PAGES {
                self.current.set(ptr::null_mut());
            }
            page.write(Page {
                free: ptr::null_mut(),
                bump: 0,
                used: 0,
                capacity: 0,
                block: 0,
                magic: 0,
                side_base: u32::MAX,
                next: ptr::null_mut(),
                prev: ptr::null_mut(),
                chunk,
                owner: self.owner.get(),
            });
            page
        }
    }

    /// Return a block.
    ///
    /// # Safety
    /// `block` was returned by [`Pool::alloc`] of this pool with the same
    /// `layout` and is not used any more.
    #[inline(always)]
    pub(crate) unsafe fn free(&self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: P1: forwarded.
        unsafe { self.free_in_class(block, class_of(layout)) }
    }

    /// Return a block, whatever its class (read from its page).
    ///
    /// # Safety
    /// `block` was returned by [`Pool::alloc`] of this pool and is not used
    /// any more.
    #[inline]
    pub(crate) unsafe fn free_block(&self, block: NonNull<u8>) {
        let page = page_of(block.as_ptr());
        // SAFETY: P2: the page of a used block is live.
        let class = unsafe { (*page).block } as usize / CLASS_GRANULE - 1;
        // SAFETY: P1: forwarded.
        unsafe { self.free_in_class(block, class) }
    }

    #[inline(always)]
    unsafe fn free_in_class(&self, block: NonNull<u8>, class: usize) {
        let block = block.as_ptr();
        let page = page_of(block);
        // SAFETY: P2: blocks lie inside their page, which is live while it
        // has a used block; the page belongs to this pool (P1).
        let p = unsafe { &mut *page };
        debug_assert_eq!(
            p.block as usize,
            CLASS_GRANULE * (class + 1),
            "gc: pool class mismatch"
        );
        // SAFETY: P2: the block is ours again and at least 16 bytes.
        unsafe { block.cast::<*mut u8>().write(p.free) };
        p.free = block;
        let used = p.used;
        p.used = used - 1;
        // A full page becomes usable again; an empty one goes to the cache
        // unless it is its class's only usable page (then it stays there).
        if used == p.capacity
            || (used == 1 && (self.usable[class].get() != page || !p.next.is_null()))
        {
            // SAFETY: P1: forwarded.
            unsafe { self.free_slow(page, class) }
        }
    }

    /// A page just stopped being full, or became empty.
    #[cold]
    #[inline(never)]
    unsafe fn free_slow(&self, page: *mut Page, class: usize) {
        let head = &self.usable[class];
        // No `&mut Page` here: `push_front` and `unlink` write the header
        // through `page`, which would invalidate such a reference (Tree and
        // Stacked Borrows); every access goes through the raw pointer.
        // SAFETY: P2: a live page of this pool (caller).
        let (used, capacity) = unsafe { ((*page).used, (*page).capacity) };
        if used + 1 == capacity {
            // It was full, so on no list: put it in front.
            // SAFETY: P2: list pages are live pages of this pool.
            unsafe { push_front(page, head, usable_links) };
        }
        // SAFETY: P2: a live page of this pool (caller).
        if used == 0 && (head.get() != page || !unsafe { (*page).next }.is_null()) {
            // Empty and not the class's only usable page: to the cache.
            // SAFETY: P2: it is on the usable list (it was not full, or was
            // just pushed); then on no list until it enters the cache.
            unsafe {
                unlink(page, head, usable_links);
                self.cache_page(page);
            }
        }
    }

    /// Visit every carved page.
    fn for_each_page(&self, mut f: impl FnMut(&Page)) {
        let mut chunk = self.chunks.get();
        while !chunk.is_null() {
            // SAFETY: P2: chunks on the list are live, and so are their carved
            // pages (initialised by `new_page`).
            unsafe {
                let c = &*chunk;
                for i in 0..c.carved {
                    f(&*c.base.add(i * PAGE_SIZE).cast::<Page>());
                }
                chunk = c.next;
            }
        }
    }

    /// Whether no block of the pool is allocated (the heap may be freed).
    pub(crate) fn all_free(&self) -> bool {
        let mut free = true;
        self.for_each_page(|p| free &= p.used == 0);
        free
    }

    /// Number of pages the pool holds (carved from its chunks), for tests
    /// and statistics.
    pub(crate) fn page_count(&self) -> usize {
        let mut n = 0;
        self.for_each_page(|_| n += 1);
        n
    }
}

impl Drop for Pool {
    /// Free every page. The owner drops the pool only when
    /// [`Pool::all_free`] holds.
    fn drop(&mut self) {
        debug_assert!(self.all_free(), "gc: pool dropped with live blocks");
        let mut chunk = self.chunks.get();
        while !chunk.is_null() {
            // SAFETY: P2: chunks on the list are live and freed exactly once here.
            unsafe {
                let next = (*chunk).next;
                std::alloc::dealloc((*chunk).base, CHUNK_LAYOUT);
                drop(Box::from_raw(chunk));
                chunk = next;
            }
        }
    }
}

/// The page of a block (the block's address, rounded down to the page).
#[inline(always)]
fn page_of(block: *const u8) -> *mut Page {
    block
        .cast_mut()
        .wrapping_sub(block as usize & (PAGE_SIZE - 1))
        .cast()
}

/// The owner tag ([`Pool::set_owner`]) of the pool a block came from.
///
/// # Safety
/// `block` was returned by [`Pool::alloc`] of a live pool and has not been
/// freed since (its page is live, P2).
#[inline(always)]
pub(crate) unsafe fn owner_of(block: *const u8) -> *const () {
    // SAFETY: P2: the page of a used block is live; its `owner` word is
    // written when the page is carved, before any of its blocks is handed
    // out, and not again while a block is used (read through a raw pointer:
    // the owner thread may hold a `&mut` to the page's other fields).
    unsafe { ptr::addr_of!((*page_of(block)).owner).read() }
}

/// Hand out a block of `page`, the first page of `head` (it has one).
///
/// # Safety
/// `page` is a live page on the usable list `head`, with `used < capacity`.
#[inline(always)]
unsafe fn take_block(page: *mut Page, head: &Cell<*mut Page>) -> NonNull<u8> {
    // SAFETY: P2: caller's contract.
    let p = unsafe { &mut *page };
    let block = if !p.free.is_null() {
        let b = p.free;
        // SAFETY: P2: free blocks hold the next free block in their first word.
        p.free = unsafe { b.cast::<*mut u8>().read() };
        b
    } else {
        // SAFETY: P2: `used < capacity` and no free block: fewer than
        // `capacity` blocks were bumped, so block `bump` lies in the page.
        let b = unsafe { page.cast::<u8>().add(p.bump as usize) };
        p.bump += p.block;
        b
    };
    p.used += 1;
    if p.used == p.capacity {
        // Full: off the usable list (it is the first).
        head.set(p.next);
        if !p.next.is_null() {
            // SAFETY: P2: list pages are live.
            unsafe { (*p.next).prev = ptr::null_mut() };
        }
        p.next = ptr::null_mut();
    }
    // SAFETY: P2: inside a live allocation, not null.
    unsafe { NonNull::new_unchecked(block) }
}

/// The `next` and `prev` fields of a node of one of the pool's doubly
/// linked, null-terminated lists (pages on a class's `usable` list; chunks
/// on the pool's list of chunks, or on the cache list).
///
/// # Safety
/// The node is live (P2); the pointers are to its own fields.
type Links<T> = unsafe fn(*mut T) -> (*mut *mut T, *mut *mut T);

/// A page's links on its class's `usable` list.
unsafe fn usable_links(page: *mut Page) -> (*mut *mut Page, *mut *mut Page) {
    // SAFETY: P2: a live page (the `Links` contract).
    unsafe {
        (
            ptr::addr_of_mut!((*page).next),
            ptr::addr_of_mut!((*page).prev),
        )
    }
}

/// A chunk's links on the pool's list of chunks.
unsafe fn chunk_links(chunk: *mut Chunk) -> (*mut *mut Chunk, *mut *mut Chunk) {
    // SAFETY: P2: a live chunk (the `Links` contract).
    unsafe {
        (
            ptr::addr_of_mut!((*chunk).next),
            ptr::addr_of_mut!((*chunk).prev),
        )
    }
}

/// Put `node` at the front of the list `head` whose links `links` names.
///
/// # Safety
/// P2: `node` is live and on no list of that kind; the list's nodes are
/// live. (Every access is through raw pointers: no reference to a node may
/// be held across the call.)
unsafe fn push_front<T>(node: *mut T, head: &Cell<*mut T>, links: Links<T>) {
    // SAFETY: P2: caller's contract; list nodes are live.
    unsafe {
        let first = head.get();
        let (next, prev) = links(node);
        *prev = ptr::null_mut();
        *next = first;
        if !first.is_null() {
            *links(first).1 = node;
        }
    }
    head.set(node);
}

/// Take `node` off the list `head` whose links `links` names; its links
/// are left null.
///
/// # Safety
/// P2: `node` is live and on that list; the list's nodes are live. (As for
/// [`push_front`], raw pointers only.)
unsafe fn unlink<T>(node: *mut T, head: &Cell<*mut T>, links: Links<T>) {
    // SAFETY: P2: caller's contract; list nodes are live.
    unsafe {
        let (next_field, prev_field) = links(node);
        let (prev, next) = (*prev_field, *next_field);
        if prev.is_null() {
            head.set(next);
        } else {
            *links(prev).0 = next;
        }
        if !next.is_null() {
            *links(next).1 = prev;
        }
        *prev_field = ptr::null_mut();
        *next_field = ptr::null_mut();
    }
}

mod cache;
pub(crate) mod side;
#[cfg(test)]
mod tests;
