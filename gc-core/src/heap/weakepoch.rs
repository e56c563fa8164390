//! Weak epochs (header I2): clearing an object's weak handles kills the
//! handles that exist at that moment, not the object's future.
//!
//! CPython clears each weakref object; a weakref made later to a resurrected
//! object works. Our weak handles are plain pointers, so each remembers the
//! epoch of its referent when it was made, and clearing an object that may
//! live on moves it to a new epoch. Epochs are rare (only resurrection after
//! a clearing needs them), so they live in a side table keyed by the
//! object's address, like the weak callbacks, and the [`WEAK_EPOCH`] bit of
//! the weak word says whether to look: objects that were never cleared
//! with handles alive cost nothing. An entry lives from the first bump until
//! the value is dropped; the address cannot be reused before that (the
//! allocation outlives the value, I1).
//!
//! The functions here are the per-thread heap's; the sync heap keeps its own
//! table under a mutex (`sync::counts::weak_epochs`) and races are handled
//! there.

use super::header::{Counts, WEAK_EPOCH};
use std::collections::HashMap;

/// The epoch of a handle cleared on its own: one owned by cyclic trash,
/// which `handle_weakrefs` clears whatever it points at, as CPython clears
/// every weakref object in the unreachable set (bpo-38006). Never an
/// object's epoch (`Epoch::bump` stops short of it), so such a handle is
/// stale for good; its referent's entry counts it in `stale` while it
/// lives (so `weak_count` leaves it out).
pub(crate) const CLEARED: u32 = u32::MAX;

/// Whether a weak handle to an object was ever made in this process (by
/// `downgrade` or `new_cyclic`, either heap): until then no trash can own
/// one, and `handle_weakrefs` skips its walk that clears trash-owned
/// handles. A hint read by the collector with the world stopped; a plain
/// std atomic (not modelled under loom: a stale `false` would only skip
/// the clearing, which changes no count and frees nothing).
static WEAK_HANDLES_MADE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A weak handle to an object is being made (see [`weak_handles_made`]).
#[inline(always)]
pub(crate) fn note_weak_handle_made() {
    use std::sync::atomic::Ordering::Relaxed;
    if !WEAK_HANDLES_MADE.load(Relaxed) {
        WEAK_HANDLES_MADE.store(true, Relaxed);
    }
}

/// Whether a weak handle was ever made (then trash may own one).
#[inline]
pub(crate) fn weak_handles_made() -> bool {
    WEAK_HANDLES_MADE.load(std::sync::atomic::Ordering::Relaxed)
}

/// One object's epoch state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Epoch {
    /// The current epoch: handles made now get it.
    pub(crate) epoch: u32,
    /// Live handles of older epochs (dead to `upgrade`, still holding the
    /// allocation).
    pub(crate) stale: u32,
    /// Handles of the current epoch turned into raw pointers
    /// (`Weak::into_raw`): `Weak::from_raw` gives the current epoch to this
    /// many and 0 (an epoch older than any current one but 0's) to the
    /// rest. A bump resets it: those handles are stale now, as 0 says.
    pub(crate) raw_live: u32,
    /// [`CLEARED`] handles turned into raw pointers: `Weak::from_raw` gives
    /// [`CLEARED`] to this many first (they stay counted in `stale`).
    pub(crate) raw_cleared: u32,
}

/// Epochs by object address.
pub(crate) type Table = HashMap<usize, Epoch>;

/// The entry of the object at `addr`, made (or reset) if `fresh`: the
/// object had no `WEAK_EPOCH` flag, so whatever the table holds at its
/// address is not its own (both heaps' bumps and clears).
pub(crate) fn entry_of(table: &mut Table, addr: usize, fresh: bool) -> &mut Epoch {
    let e = table.entry(addr).or_default();
    if fresh {
        *e = Epoch::default();
    }
    e
}

impl Epoch {
    /// Move to the next epoch: all `handles` alive now become stale.
    pub(crate) fn bump(&mut self, handles: u32) {
        self.epoch = self
            .epoch
            .checked_add(1)
            .filter(|&e| e != CLEARED)
            .expect("gc: weak epoch overflow (4 billion resurrections of one object)");
        self.stale = handles;
        self.raw_live = 0;
    }

    /// Clear one live handle of `epoch` on its own (a handle owned by
    /// trash, [`CLEARED`]): returns whether it was live (then it is counted
    /// as stale from now on, and its owner stores [`CLEARED`]); a handle
    /// already stale is counted already.
    pub(crate) fn clear_one(&mut self, epoch: u32) -> bool {
        if epoch != self.epoch {
            return false;
        }
        self.stale += 1;
        true
    }

    /// A handle of `epoch` becomes a raw pointer (`Weak::into_raw`).
    pub(crate) fn note_into_raw(&mut self, epoch: u32) {
        if epoch == CLEARED {
            self.raw_cleared += 1;
        } else if epoch == self.epoch && epoch != 0 {
            self.raw_live += 1;
        }
    }

    /// The epoch of a handle rebuilt from a raw pointer (`Weak::from_raw`):
    /// raw pointers of one object are interchangeable, so any of the
    /// recorded ones (I2 holds: a pointer made before the last bump is
    /// rebuilt stale, and the stale count is unchanged).
    pub(crate) fn take_from_raw(&mut self) -> u32 {
        if self.raw_cleared > 0 {
            self.raw_cleared -= 1;
            CLEARED
        } else if self.raw_live > 0 {
            self.raw_live -= 1;
            self.epoch
        } else {
            0
        }
    }

    /// A handle of `epoch` was added (`+1`) or released (`-1`).
    pub(crate) fn note(&mut self, epoch: u32, delta: i32) {
        if epoch < self.epoch || epoch == CLEARED {
            self.stale = self.stale.wrapping_add_signed(delta);
        }
    }
}

/// The entry of `counts`' object, if it has one. The flag test is inlined
/// into the handle paths (`downgrade`, a weak handle's drop); the table is
/// looked up out of line, so those paths carry no hash-table code (which
/// made `downgrade` + drop five times `Rc`'s: BENCHMARKS.md, session 10).
#[inline(always)]
fn entry(counts: &Counts, addr: usize) -> Option<Epoch> {
    if !counts.has_flag(WEAK_EPOCH) {
        return None;
    }
    entry_slow(addr)
}

/// [`entry`]'s lookup: an object with `WEAK_EPOCH` (it was cleared with
/// weak handles alive, or owns a trash-cleared handle).
#[cold]
#[inline(never)]
fn entry_slow(addr: usize) -> Option<Epoch> {
    super::heap()?.weak_epochs.borrow().get(&addr).copied()
}

/// The object's current epoch (0 without an entry).
#[inline]
pub(crate) fn current(counts: &Counts, addr: usize) -> u32 {
    entry(counts, addr).map_or(0, |e| e.epoch)
}

/// The object's stale handles (0 without an entry).
#[inline]
pub(crate) fn stale(counts: &Counts, addr: usize) -> u32 {
    entry(counts, addr).map_or(0, |e| e.stale)
}

/// Kill every weak handle of the object alive now (I2): move it to a new
/// epoch if it has any. Does not touch `WEAK_CLEARED`.
pub(crate) fn bump(counts: &Counts, addr: usize) {
    let handles = counts.weak() - 1;
    let Some(heap) = super::heap() else { return };
    if handles == 0 {
        return;
    }
    let mut table = heap.weak_epochs.borrow_mut();
    entry_of(&mut table, addr, !counts.has_flag(WEAK_EPOCH)).bump(handles);
    counts.set_flag(WEAK_EPOCH);
}

/// Clear one weak handle of `epoch` to the object on its own (the handle
/// is owned by cyclic trash, `handle_weakrefs`): returns whether the owner
/// must store [`CLEARED`] (the handle was live; the object's entry, made
/// if needed, counts it as stale from now on). A referent without strong
/// handles is left alone: its handles are dead already, and its entry
/// (if any) went with its value.
pub(crate) fn clear_handle(counts: &Counts, addr: usize, epoch: u32) -> bool {
    if epoch == CLEARED || counts.strong() == 0 {
        return false;
    }
    let Some(heap) = super::heap() else {
        return false;
    };
    let mut table = heap.weak_epochs.borrow_mut();
    let cleared = entry_of(&mut table, addr, !counts.has_flag(WEAK_EPOCH)).clear_one(epoch);
    counts.set_flag(WEAK_EPOCH);
    cleared
}

/// A handle of `epoch` to the object was added (`+1`) or released (`-1`).
#[inline(always)]
pub(crate) fn note(counts: &Counts, addr: usize, epoch: u32, delta: i32) {
    if counts.has_flag(WEAK_EPOCH) {
        note_slow(addr, epoch, delta);
    }
}

/// [`note`] for an object with `WEAK_EPOCH`.
#[cold]
#[inline(never)]
fn note_slow(addr: usize, epoch: u32, delta: i32) {
    if let Some(heap) = super::heap() {
        if let Some(e) = heap.weak_epochs.borrow_mut().get_mut(&addr) {
            e.note(epoch, delta);
        }
    }
}

/// A handle of `epoch` to the object becomes a raw pointer.
pub(crate) fn note_into_raw(counts: &Counts, addr: usize, epoch: u32) {
    if epoch == 0 || !counts.has_flag(WEAK_EPOCH) {
        return;
    }
    if let Some(heap) = super::heap() {
        if let Some(e) = heap.weak_epochs.borrow_mut().get_mut(&addr) {
            e.note_into_raw(epoch);
        }
    }
}

/// The epoch of a handle to the object rebuilt from a raw pointer.
pub(crate) fn take_from_raw(counts: &Counts, addr: usize) -> u32 {
    if !counts.has_flag(WEAK_EPOCH) {
        return 0;
    }
    let Some(heap) = super::heap() else { return 0 };
    let mut table = heap.weak_epochs.borrow_mut();
    table.get_mut(&addr).map_or(0, Epoch::take_from_raw)
}

/// The object's value is being dropped: its entry is not needed any more.
#[inline(always)]
pub(crate) fn forget(counts: &Counts, addr: usize) {
    if counts.has_flag(WEAK_EPOCH) {
        forget_slow(addr);
    }
}

/// [`forget`] for an object with `WEAK_EPOCH`.
#[cold]
#[inline(never)]
fn forget_slow(addr: usize) {
    if let Some(heap) = super::heap() {
        heap.weak_epochs.borrow_mut().remove(&addr);
    }
}
