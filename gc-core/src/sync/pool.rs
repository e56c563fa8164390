//! The sync heap's object pool (issue 17): tracked objects of the sync heap
//! that fit the per-thread heap's size classes (`heap::pool::fits`) come from a pool
//! owned by the allocating thread's world slot, freed from any thread —
//! mimalloc's design (local free lists only the owner touches, plus an
//! atomic list other threads push freed blocks onto), with the per-thread
//! heap's pages and size classes (`heap::pool`) underneath.
//!
//! Each world slot (`world::ThreadSlot`, W5) carries a [`SyncPool`]: a
//! `heap::pool::Pool` (pages, classes, free lists, chunk retention P2/P3)
//! used by one thread at a time, and `remote`, a lock-free LIFO of blocks
//! that other threads (or the collector) freed. A block's pool is read from
//! its page header (`heap::pool::owner_of`). A free on the thread that owns
//! the block's pool is the per-thread pool's free (no atomic); any other
//! free pushes the block on its pool's `remote` list with one
//! compare-exchange. The owner takes the whole list over (one swap) when an
//! allocation finds no usable page of its class, before a page is taken
//! from the cache or carved: freed memory is reused before the pool grows.
//!
//! The pool moves with its slot: an exiting thread gives the slot back and
//! the next thread that takes a slot adopts it, pool and all (as the
//! nursery). Until then the slot's pool keeps its pages: those holding
//! blocks still in use (freed later from other threads, onto `remote`),
//! plus the empty pages the pool keeps for reuse (P3). A full collection of
//! the sync heap reclaims the pools of slots that no thread holds (under
//! the registry lock): it takes their `remote` lists over and gives back
//! their empty chunks beyond `KEEP_EMPTY_PAGES` ([`SyncPool::reclaim`]).
//! The pool of a slot a thread holds is trimmed only by its own chunk
//! releases (P3).
//!
//! # Invariants (SP1–SP3)
//!
//! * **SP1 (owner).** A slot's `Pool` (pages' free lists, bump offsets,
//!   counts, usable lists, chunks) is read and written only by the thread
//!   that holds the slot (W5: one at a time; its [`MINE`] points at the
//!   pool exactly while it holds it), attached or not, or by a thread that
//!   holds the world's registry lock while the slot is on the registry's
//!   free list (no thread holds it). Slot hand-overs go through the
//!   registry lock, so each user's accesses happen before the next's. (loom
//!   checks the exclusion: the pool is in `primitive::UnsafeCell`.)
//! * **SP2 (block ownership).** An object of the sync heap is in a pool
//!   block iff its type is tracked and its allocation fits (`heap::pool::fits`, decided by
//!   type and layout alone, so its free finds the same answer), and it was
//!   allocated by a thread holding a slot (`Gc::new` takes one first). The
//!   block's page names its pool (`owner_of`, set when the page was carved,
//!   not changed while any of its blocks is in use), and pools are never
//!   freed (slots never are, W5), so any thread may read it and reach the
//!   pool.
//! * **SP3 (remote frees).** A block freed by a thread that does not hold
//!   its pool's slot is linked (its first word) and pushed on the pool's
//!   `remote` list by a `Release` compare-exchange; the owner takes the
//!   whole list with an `Acquire` swap (so the freeing thread's last uses
//!   of the block, and the link word, happen before the owner reuses it),
//!   and only then returns each block to its page (`Pool::free_block`).
//!   Until then the block counts as used in its page (P2), so no page or
//!   chunk that holds it is reused or given back. Every operation on
//!   `remote` is a read-modify-write (pushes never pop single blocks), so
//!   there is no ABA and each swap acquires every push before it (release
//!   sequence).

use crate::heap::pool::{self, Pool};
use crate::primitive::{AtomicPtr, Ordering, UnsafeCell};
use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::{self, NonNull};

#[cfg(not(loom))]
std::thread_local! {
    /// The pool of the slot this thread holds, or null (SP1).
    static MINE: Cell<*const SyncPool> = const { Cell::new(ptr::null()) };
}
#[cfg(loom)]
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    loom::thread_local! {
        pub(super) static MINE: Cell<*const SyncPool> = Cell::new(ptr::null());
    }
}
#[cfg(loom)]
use tls::MINE;

/// One world slot's pool (see the module docs).
pub(crate) struct SyncPool {
    /// The pages (SP1).
    local: UnsafeCell<Pool>,
    /// Blocks other threads freed, linked through their first word (SP3):
    /// the last pushed, null if none.
    remote: AtomicPtr<u8>,
}

// SAFETY: SP1: `local` is used by one thread at a time (the slot's holder, or
// the registry lock's holder for a free slot); `remote` is atomic; blocks and
// pages are plain memory handed over by SP3.
unsafe impl Sync for SyncPool {}
// SAFETY: SP1: as above.
unsafe impl Send for SyncPool {}

impl SyncPool {
    pub(crate) fn new() -> Self {
        SyncPool {
            local: UnsafeCell::new(Pool::new()),
            remote: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Tag the pool's pages with its address (SP2); once, when the slot is
    /// made (leaked, so the address is final), before any allocation.
    pub(crate) fn init(&'static self) {
        let tag = (self as *const SyncPool).cast::<()>();
        // SAFETY: SP1: the slot is being made under the registry lock; no
        // thread holds it yet.
        self.local.with_mut(|p| unsafe { &*p }.set_owner(tag));
    }

    /// This thread now holds (`Some`) or no longer holds (`None`) the slot
    /// of this pool (SP1). The world calls it under its registry lock, with
    /// the slot's hand-over.
    pub(crate) fn set_current(pool: Option<&'static SyncPool>) {
        let p = pool.map_or(ptr::null(), |p| p as *const SyncPool);
        let _ = MINE.try_with(|m| m.set(p));
    }

    /// A block for a sync object of `layout` (which fits) from the pool
    /// of the slot the calling thread holds.
    ///
    /// # Panics
    /// If the calling thread holds no slot (callers take one first: SP2).
    #[inline(always)]
    pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
        let mine = MINE.try_with(|m| m.get()).unwrap_or(ptr::null());
        assert!(!mine.is_null(), "gc: sync allocation without a world slot");
        // SAFETY: SP2: pools are never freed; SP1: `mine` is the pool of the
        // slot this thread holds.
        unsafe { (*mine).alloc_held(layout) }
    }

    /// [`SyncPool::alloc`] from this pool.
    ///
    /// # Safety
    /// SP1: the calling thread holds this pool's slot (e.g. it is attached
    /// to it).
    #[inline(always)]
    pub(crate) unsafe fn alloc_held(&self, layout: Layout) -> NonNull<u8> {
        let pool = self;
        pool.local.with_mut(|p| {
            // SAFETY: SP1: the caller holds the slot.
            let p = unsafe { &*p };
            if !p.has_usable(layout) {
                pool.take_remote(p);
            }
            p.alloc(layout)
        })
    }

    /// Return the block `base` of a sync object of `layout` (which
    /// fits) to its pool, from any thread.
    ///
    /// # Safety
    /// `base` was returned by [`SyncPool::alloc`] for `layout` and is not
    /// used any more (I1).
    #[inline(always)]
    pub(crate) unsafe fn free(base: NonNull<u8>, layout: Layout) {
        // SAFETY: SP2: the block is still in use, so its page is live.
        let owner = unsafe { pool::owner_of(base.as_ptr()) }.cast::<SyncPool>();
        let mine = MINE.try_with(|m| m.get()).unwrap_or(ptr::null());
        if ptr::eq(owner, mine) {
            // SAFETY: SP1: this thread holds the block's pool's slot; SP2:
            // the block came from that pool with this layout.
            unsafe { (*owner).local.with_mut(|p| (*p).free(base, layout)) };
        } else {
            // SAFETY: SP2: pools are never freed.
            unsafe { (*owner).push_remote(base) };
        }
    }

    /// SP3: hand a block to its pool's owner.
    ///
    /// # Safety
    /// `block` is a block of this pool, in use by nobody.
    #[cold]
    #[inline(never)]
    unsafe fn push_remote(&self, block: NonNull<u8>) {
        let block = block.as_ptr();
        let mut head = self.remote.load(Ordering::Relaxed);
        loop {
            // SAFETY: SP3: the block is ours until the push succeeds; it is at
            // least 16 bytes and 8-aligned (a pool block).
            unsafe { block.cast::<*mut u8>().write(head) };
            // Release: SP3 (the owner's Acquire swap reads this push or a
            // later one in its release sequence).
            match self.remote.compare_exchange_weak(
                head,
                block,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Take over the blocks other threads freed (SP3) into `p`, this pool's
    /// own pages.
    #[cold]
    #[inline(never)]
    fn take_remote(&self, p: &Pool) {
        if self.remote.load(Ordering::Relaxed).is_null() {
            return;
        }
        // Acquire: SP3.
        let mut block = self.remote.swap(ptr::null_mut(), Ordering::Acquire);
        while !block.is_null() {
            // SAFETY: SP3: each listed block was pushed, linked, by a
            // Release this swap acquired; it is this pool's, used by nobody.
            unsafe {
                let next = block.cast::<*mut u8>().read();
                p.free_block(NonNull::new_unchecked(block));
                block = next;
            }
        }
    }

    /// Take the remote list over and give back empty chunks beyond what the
    /// pool keeps (`Pool::trim`): for the pool of a slot no thread holds.
    ///
    /// # Safety
    /// SP1: the caller holds the registry lock and the slot is on its free
    /// list.
    pub(crate) unsafe fn reclaim(&self) {
        self.local.with_mut(|p| {
            // SAFETY: SP1: caller's contract.
            let p = unsafe { &*p };
            self.take_remote(p);
            p.trim();
        })
    }

    /// Pages this pool holds (tests and statistics).
    ///
    /// # Safety
    /// SP1, as for [`SyncPool::reclaim`], or the caller holds the slot.
    pub(crate) unsafe fn page_count(&self) -> usize {
        // SAFETY: SP1: caller's contract.
        self.local.with_mut(|p| unsafe { &*p }.page_count())
    }
}
