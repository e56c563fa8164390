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

use super::{page_of, Page, Pool, FIRST_BLOCK, PAGE_SIZE};

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
}

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
