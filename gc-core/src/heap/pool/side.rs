//! Side-table numbers for the pool's blocks: a full collection's
//! per-object state outside the objects (`collector::side`).
//!
//! # Invariant
//!
//! * **P5 (side indices).** [`Pool::number_blocks`] gives every page with
//!   a used block a `side_base` such that the blocks below `bump` of all
//!   such pages get distinct indices `side_base + (offset - FIRST_BLOCK) /
//!   block`, all below the total it returns; every other page (empty, and
//!   any page carved or reused later: `alloc_slow` resets the field) has
//!   `side_base == u32::MAX`, whose indices are all at least `u32::MAX`.
//!   So while no block is allocated after the numbering, [`side_index`]
//!   of every allocated block is a distinct index below the total: a side
//!   table of that length, indexed with a bounds check, is only read or
//!   written at a block's own slot. (A block allocated later in breach of
//!   `Trace` rule T3 gets an index out of range if its page was empty —
//!   carved or reused pages are reset — and an unrelated one otherwise.)

use super::{page_of, Page, Pool, CLASS_GRANULE, FIRST_BLOCK, GRANULE_WORDS, PAGE_SIZE};
use std::ptr::NonNull;

/// `ceil(2^32 / block)`, a page's `magic`: `offset * magic >> 32 ==
/// offset / block` for every offset within a page (the error, `offset /
/// 2^32` at most, stays below `1 / block`).
pub(super) const fn magic(block: u32) -> u32 {
    (1u64 << 32).div_ceil(block as u64) as u32
}

/// The side-table index of an allocated block (P5): distinct for each
/// allocated block of the pool and below [`Pool::number_blocks`]'s total
/// while no block has been allocated since the numbering; at least
/// `u32::MAX` for a block of a page carved or reused since.
///
/// # Safety
/// `block` was returned by [`Pool::alloc`] of a live pool and has not been
/// freed since (its page is live, P2).
#[inline(always)]
pub(crate) unsafe fn side_index(block: *const u8) -> usize {
    let page = page_of(block);
    // SAFETY: P2: the page of a used block is live; its fields are read
    // through the raw pointer (the owner may hold no reference now).
    let (base, magic) = unsafe { ((*page).side_base, (*page).magic) };
    let offset = (block as usize - page as usize - FIRST_BLOCK) as u64;
    base as usize + ((offset * u64::from(magic)) >> 32) as usize
}

impl Pool {
    /// Number the allocated blocks of the pool for a side table (P5): each
    /// page with a used block gets its `side_base`, the others
    /// `u32::MAX`. Returns the number of indices handed out (the side
    /// table's length), or `None` if it would not fit in a `u32` (a heap
    /// of more than 4G blocks: the caller does without a side table).
    pub(crate) fn number_blocks(&self) -> Option<usize> {
        let mut total: usize = 0;
        let mut chunk = self.chunks.get();
        while !chunk.is_null() {
            // SAFETY: P2: chunks on the list are live, and so are their
            // carved pages (initialised by `new_page`); the header is
            // written through the raw pointer, no reference is kept.
            unsafe {
                let c = &*chunk;
                for i in 0..c.carved {
                    let p = c.base.add(i * PAGE_SIZE).cast::<Page>();
                    if (*p).used == 0 {
                        (*p).side_base = u32::MAX;
                        continue;
                    }
                    // Truncated only if the total is refused below.
                    (*p).side_base = total as u32;
                    total += ((*p).bump as usize - FIRST_BLOCK) / (*p).block as usize;
                }
                chunk = c.next;
            }
        }
        u32::try_from(total).ok().filter(|&t| t < u32::MAX)?;
        Some(total)
    }

    /// Call `f` with the start of every allocated block (P4), page by page
    /// in address order within each chunk, newest chunk first: the
    /// collector's full-collection sweep. A page with free blocks first
    /// maps them (one bit per 8-byte granule, on the stack): the pool's
    /// `alloc` and `free` pay nothing for the sweep. `f` must neither allocate nor free pool blocks (the
    /// collector calls it while tracing: `Trace` rule T3).
    ///
    /// `f` also gets the block's side index, `side_base + (offset -
    /// FIRST_BLOCK) / block`: what [`side_index`] computes from the
    /// block's address (P5), counted as the walk goes (meaningful while the
    /// last [`Pool::number_blocks`] holds, as that function's are).
    #[inline(always)]
    pub(crate) fn for_each_allocated_block(&self, mut f: impl FnMut(NonNull<u8>, usize)) {
        let mut chunk = self.chunks.get();
        while !chunk.is_null() {
            // SAFETY: P2: chunks on the list are live; `f` frees no block
            // (caller), so no page or chunk is released while they are
            // visited.
            let (base, carved, next) = unsafe { ((*chunk).base, (*chunk).carved, (*chunk).next) };
            for i in 0..carved {
                // SAFETY: P2: carved pages lie in the chunk and are
                // initialised; the header's fields are copied out, no
                // reference to it is kept across `f`.
                let (page, used, block, bump, free, side_base) = unsafe {
                    let page = base.add(i * PAGE_SIZE);
                    let p = page.cast::<Page>();
                    (
                        page,
                        (*p).used,
                        (*p).block as usize,
                        (*p).bump,
                        (*p).free,
                        (*p).side_base as usize,
                    )
                };
                if used == 0 {
                    // Empty (maybe in the cache, with stale fields).
                    continue;
                }
                // SAFETY: P2: `bump <= PAGE_SIZE` (see `Page::bump`) and the
                // first block lies in the page.
                let (end, mut b) = unsafe { (page.add(bump as usize), page.add(FIRST_BLOCK)) };
                let mut index = side_base;
                if free.is_null() {
                    while b < end {
                        // SAFETY: P4: below `bump` and not free: allocated.
                        f(unsafe { NonNull::new_unchecked(b) }, index);
                        // SAFETY: P2: at most `end`, inside the page.
                        b = unsafe { b.add(block) };
                        index += 1;
                    }
                    continue;
                }
                let mut map = [0u64; GRANULE_WORDS];
                let granule = |b: *mut u8| (b as usize - page as usize) / CLASS_GRANULE;
                let mut fb = free;
                while !fb.is_null() {
                    let g = granule(fb);
                    map[g / 64] |= 1 << (g % 64);
                    // SAFETY: P2: free blocks of the page hold the next one
                    // in their first word.
                    fb = unsafe { fb.cast::<*mut u8>().read() };
                }
                while b < end {
                    let g = granule(b);
                    if map[g / 64] & (1 << (g % 64)) == 0 {
                        // SAFETY: P4: below `bump` and not free: allocated.
                        f(unsafe { NonNull::new_unchecked(b) }, index);
                    }
                    // SAFETY: P2: at most `end`, inside the page.
                    b = unsafe { b.add(block) };
                    index += 1;
                }
            }
            chunk = next;
        }
    }
}
