//! Per-thread nurseries: where the sync heap's tracked objects live from
//! allocation until a collection gathers them (issue 17: allocation and
//! refcount death without a global lock).
//!
//! Each thread slot of the world (`world::ThreadSlot`, one per thread, W5)
//! carries a [`Nursery`]: chunks of *slots*, one word each, holding the
//! header addresses of the objects allocated there. An object in a nursery
//! is flagged [`IN_NURSERY`] in its weak word; its header's `prev` holds
//! the address of its slot and `next` is `NURSERY_NEXT` (not 0: the object
//! is tracked, header I4; not an address: no list walk ever reaches it;
//! `Header::enter_nursery` and friends write them, header.rs keeping the
//! link words to itself).
//! The young generation of the sync heap is the generation-0 list *plus*
//! every nursery. A collection stops the world and then *gathers* every
//! nursery into the generation-0 list, so the collector itself only ever
//! sees lists.
//!
//! Allocation takes a free slot of the allocating thread's own nursery;
//! refcount death empties the object's slot, whichever thread's nursery it
//! is in (a death on another thread than the allocation's is one store to
//! the other thread's slot: no link of a neighbour is touched, so there is
//! nothing to lock). Both run *attached* (the cost of a permit: a store
//! and a load on the thread's own slot, W1), which is what excludes the
//! collector's gathering. Emptied slots are reused by the owner: at once if
//! the death was on the owning thread, after a scan of its chunks
//! otherwise.
//!
//! # Invariants (N1–N6)
//!
//! * **N1 (owner state).** A nursery's bookkeeping ([`State`]: its chunk
//!   list, free slots, bump position, count delta) is read and written only
//!   by the thread that owns the nursery's world slot, while that thread is
//!   attached (holds a permit), or by the collector while the world is
//!   stopped. The two exclude each other (W1, W2), and W5 hands a slot to
//!   one thread at a time. (loom checks this: the state is in
//!   `primitive::UnsafeCell`.)
//! * **N2 (chunks).** Chunks are never freed and never move: a slot address
//!   in a header stays valid for the life of the process (like the world's
//!   slots, which own the nurseries). A chunk's `owner` is written before
//!   the chunk is used and never changes.
//! * **N3 (slot words).** A slot holds 0 (free) or the header address of
//!   the one object whose `prev` points at it. It goes from 0 to an address
//!   only by the owner (N1) for a fresh object; from an address to 0 only by
//!   the thread that owns that object's death (it took the strong count to
//!   zero, or holds its only handle in `try_unwrap`/`into_inner`) or by the
//!   collector's gather. A slot the owner reads as 0 is free for good
//!   until the owner fills it: the only thread that could still write it
//!   was the one that emptied it.
//! * **N4 (headers in a nursery).** While [`IN_NURSERY`] is set, the
//!   object's `next`/`prev` are written only by the thread that links it
//!   (before anyone else can reach it), by the thread that owns its death
//!   (N3), or by the collector's gather: never by a neighbour's unlink
//!   (a nursery has no neighbours). The flag is cleared only by the gather
//!   (world stopped) and by a re-link onto a list after a resurrection.
//!   After a death's unlink (`next == 0`) it may stay set: the object is
//!   then reachable only by the thread that destroys it.
//! * **N5 (who unlinks).** A thread that owns an object's death reads
//!   `IN_NURSERY` again once attached (or holding the list lock, which a
//!   gather also needs): if set, the object is still in its nursery and
//!   the thread empties the slot (N3) itself; if clear, a collection
//!   gathered it meanwhile and it is on a list: the list-lock path (S4).
//! * **N6 (counting).** The young count (CPython's `count[0]`) is the
//!   heap's `young` atomic plus each nursery's unflushed `delta`, flushed
//!   every [`FLUSH`] changes and by each gather: `gc::get_count` and the
//!   automatic trigger are off by at most `FLUSH` per thread, as in
//!   CPython's free-threaded build.

use super::counts::SyncCounts;
use crate::heap::header::{Header, Node, RefCounter, IN_NURSERY};
use crate::heap::list;
use crate::primitive::{AtomicUsize, Ordering, UnsafeCell};
use std::ptr::NonNull;

/// Bytes per chunk; chunks are aligned to it, so a slot's chunk (and its
/// owner) is found by masking the slot's address.
const CHUNK_BYTES: usize = 4096;

/// Slots per chunk (under loom a few, to keep the models small).
#[cfg(not(loom))]
const SLOTS: usize = (CHUNK_BYTES - std::mem::size_of::<usize>()) / std::mem::size_of::<usize>();
#[cfg(loom)]
const SLOTS: usize = 2;

/// A nursery's count delta is added to the heap's young count once it
/// reaches this size (N6).
const FLUSH: isize = 32;

#[repr(C, align(4096))]
struct Chunk {
    /// The nursery the chunk belongs to (N2).
    owner: *const Nursery,
    slots: [AtomicUsize; SLOTS],
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Chunk>() == CHUNK_BYTES);

/// The owner's bookkeeping (N1).
struct State {
    chunks: Vec<NonNull<Chunk>>,
    /// Slots known to be free (emptied by the owner's own deaths, or found
    /// empty by a scan); none of them is at or past the bump position.
    free: Vec<NonNull<AtomicUsize>>,
    /// `chunks[bump_chunk].slots[bump_at..]` and every later chunk were
    /// never used since the last gather.
    bump_chunk: usize,
    bump_at: usize,
    /// Links minus unlinks not yet added to the heap's young count (N6).
    delta: isize,
}

/// A thread's nursery (owned by its world slot).
pub(crate) struct Nursery {
    state: UnsafeCell<State>,
}

// SAFETY: N1, N2: the state is accessed under N1's exclusion only; slots are
// atomics; chunks are never freed (N2).
unsafe impl Sync for Nursery {}
// SAFETY: N1, N2: as above.
unsafe impl Send for Nursery {}

impl Nursery {
    pub(crate) fn new() -> Self {
        Nursery {
            state: UnsafeCell::new(State {
                chunks: Vec::new(),
                free: Vec::new(),
                bump_chunk: 0,
                bump_at: 0,
                delta: 0,
            }),
        }
    }

    /// Put the fresh, unlinked object `h` in a free slot of this nursery.
    /// Returns a count delta to add to the heap's young count (N6), if one
    /// is due.
    ///
    /// # Safety
    /// N1: the caller is this nursery's owner, attached. `h` is the live
    /// header of a sync object, unlinked, with [`IN_NURSERY`] set, that no
    /// other thread can reach or that has no strong handle yet.
    #[inline]
    pub(crate) unsafe fn link(&self, h: Node) -> Option<isize> {
        self.state.with_mut(|s| {
            // SAFETY: N1: exclusive access to the owner's state.
            let s = unsafe { &mut *s };
            let slot = match s.free.pop() {
                Some(slot) => slot,
                None => self.fresh_slot(s),
            };
            // SAFETY: N2: chunks live for ever. N3: a free slot is the
            // owner's to fill.
            unsafe { slot.as_ref() }.store(h.addr(), Ordering::Relaxed);
            // N4: the caller's fresh object, nobody else writes its header.
            h.enter_nursery(slot.as_ptr() as usize);
            s.delta += 1;
            take_delta(s)
        })
    }

    /// A never-used slot, or (all used) one emptied by another thread's
    /// death, or a new chunk's.
    #[cold]
    fn fresh_slot(&self, s: &mut State) -> NonNull<AtomicUsize> {
        loop {
            if let Some(&chunk) = s.chunks.get(s.bump_chunk) {
                if s.bump_at < SLOTS {
                    // SAFETY: N2.
                    let slot = NonNull::from(&unsafe { chunk.as_ref() }.slots[s.bump_at]);
                    s.bump_at += 1;
                    return slot;
                }
                s.bump_chunk += 1;
                s.bump_at = 0;
                continue;
            }
            // Every slot was used since the last gather: reclaim the ones
            // other threads emptied (N3), and grow if that is under a
            // quarter of the slots (so that scans stay amortised O(1)).
            for &chunk in &s.chunks {
                // SAFETY: N2.
                for slot in &unsafe { chunk.as_ref() }.slots {
                    if slot.load(Ordering::Acquire) == 0 {
                        s.free.push(NonNull::from(slot));
                    }
                }
            }
            if s.free.len() < s.chunks.len() * SLOTS / 4 + 1 {
                let chunk = Box::new(Chunk {
                    owner: self,
                    slots: std::array::from_fn(|_| AtomicUsize::new(0)),
                });
                // N2: leaked, never freed.
                s.chunks.push(NonNull::from(Box::leak(chunk)));
            }
            if let Some(slot) = s.free.pop() {
                return slot;
            }
        }
    }

    /// Count one unlink done by this nursery's owner (of an object in any
    /// nursery); returns a delta to flush if due (N6). If the emptied slot
    /// is this nursery's, it is reused at once.
    ///
    /// # Safety
    /// N1: the caller is this nursery's owner, attached; `slot` was just
    /// emptied by [`unlink`].
    #[inline]
    pub(crate) unsafe fn note_unlink(&self, slot: NonNull<AtomicUsize>) -> Option<isize> {
        let chunk = (slot.as_ptr() as usize & !(CHUNK_BYTES - 1)) as *const Chunk;
        self.state.with_mut(|s| {
            // SAFETY: N1.
            let s = unsafe { &mut *s };
            // SAFETY: N2: the slot lies in a live chunk, whose first word
            // is its immutable owner.
            if std::ptr::eq(unsafe { (*chunk).owner }, self) {
                s.free.push(slot);
            }
            s.delta -= 1;
            take_delta(s)
        })
    }

    /// Move every object of this nursery to the list `gen0` (clearing
    /// [`IN_NURSERY`]) and empty it; returns the nursery's count delta
    /// (N6), now zero.
    ///
    /// # Safety
    /// The caller has stopped the world (N1, N4) and `gen0` is the sync
    /// heap's generation-0 list.
    pub(crate) unsafe fn gather(&self, gen0: Node) -> isize {
        self.state.with_mut(|s| {
            // SAFETY: N1: the world is stopped.
            let s = unsafe { &mut *s };
            for (i, &chunk) in s.chunks.iter().enumerate() {
                let used = match i.cmp(&s.bump_chunk) {
                    std::cmp::Ordering::Less => SLOTS,
                    std::cmp::Ordering::Equal => s.bump_at,
                    std::cmp::Ordering::Greater => break,
                };
                // SAFETY: N2.
                for slot in &unsafe { chunk.as_ref() }.slots[..used] {
                    let addr = slot.load(Ordering::Acquire);
                    if addr == 0 {
                        continue;
                    }
                    slot.store(0, Ordering::Relaxed);
                    // SAFETY: N3: a full slot holds the header of a live
                    // tracked object, which stays allocated while it is in
                    // the nursery (L1: its death would have emptied the slot).
                    let h = unsafe { Node::new(NonNull::new_unchecked(addr as *mut Header)) };
                    // SAFETY: N3, L1: as above: live counts.
                    let counts = unsafe { SyncCounts::of(h.counts()) };
                    counts.clear_flag(IN_NURSERY);
                    // N4: the world is stopped; the header is ours.
                    h.leave_nursery();
                    list::track(h, gen0);
                }
            }
            s.free.clear();
            s.bump_chunk = 0;
            s.bump_at = 0;
            std::mem::take(&mut s.delta)
        })
    }
}

/// Empty the nursery slot of `h` and mark the header unlinked (N3, N4).
/// Returns the slot, for [`Nursery::note_unlink`].
///
/// # Safety
/// `h` is the live header of a sync object with [`IN_NURSERY`] set and
/// `next != 0`, read by a thread that owns the object's death and that
/// is attached or holds the list lock (N5).
#[inline]
pub(crate) unsafe fn unlink(h: Node) -> NonNull<AtomicUsize> {
    // SAFETY: N4: nobody else writes the header now, and it holds the
    // slot's (non-zero) address; N2: the slot is live.
    let slot = unsafe { NonNull::new_unchecked(h.nursery_slot() as *mut AtomicUsize) };
    // Release: the owner's scan (Acquire) that finds the slot empty reuses
    // it after this thread's last use (N3).
    // SAFETY: N2.
    unsafe { slot.as_ref() }.store(0, Ordering::Release);
    h.leave_nursery();
    slot
}

#[inline(always)]
fn take_delta(s: &mut State) -> Option<isize> {
    // `|delta| >= FLUSH` as one unsigned comparison.
    if (s.delta + (FLUSH - 1)) as usize >= (2 * FLUSH - 1) as usize {
        Some(std::mem::take(&mut s.delta))
    } else {
        None
    }
}
