//! Refcount death on the sync heap: its [`DeathHeap`] hooks for the one
//! death path in `heap::death` (whose module docs give the steps), and its
//! per-thread trashcan. What differs from the per-thread heap: how a dying
//! object is unlinked (from a nursery without a lock, N5, or from a list
//! under the list lock, S4; trash and zombies are recognised there, under
//! the lock), how a resurrected one is tracked again (under the list lock,
//! counted back), the registries (behind mutexes), and the trashcan (in
//! thread-locals that may be gone at thread exit).

use super::counts::SyncCounts;
use super::heap::{heap, SyncCallback, SyncHeap};
use super::nursery;
use super::world::world;
use crate::heap::death::{self, DeathHeap};
use crate::heap::death::{DeathOps, Erased};
use crate::heap::header::{Node, ObjPtr, RefCounter, HAS_CALLBACKS, IN_NURSERY};
use crate::heap::list;
use crate::heap::owned::Reclaim;
use crate::heap::Heap;
use crate::primitive::{self, Ordering};
use std::cell::{Cell, RefCell};

/// This thread's trashcan state: nesting depth of deaths, and whether
/// deaths were deferred (no destructor: always accessible).
struct Trash {
    depth: Cell<usize>,
    pending: Cell<bool>,
}

#[cfg(not(loom))]
std::thread_local! {
    static TRASH: Trash = const { Trash { depth: Cell::new(0), pending: Cell::new(false) } };
}
// loom's `thread_local!` has no `const` form.
#[cfg(loom)]
#[allow(clippy::missing_const_for_thread_local)]
mod trash_tls {
    use super::*;
    loom::thread_local! {
        pub(super) static TRASH: Trash = Trash { depth: Cell::new(0), pending: Cell::new(false) };
    }
}
#[cfg(loom)]
use trash_tls::TRASH;

#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    primitive::thread_local! {
    /// This thread's deferred deaths.
    pub(super) static DEFERRED: RefCell<Vec<ObjPtr>> = RefCell::new(Vec::new());
    }
}
use tls::DEFERRED;

/// The strong count of a sync object just reached zero on this thread: its
/// death ([`death::release`] on the sync heap).
///
/// # Safety
/// `obj` is a live sync object whose last strong reference the caller just
/// released; `ops` fits its type.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
    // SAFETY: I1: forwarded from the caller.
    unsafe { death::release(heap(), obj, ops) }
}

impl DeathHeap for &'static SyncHeap {
    type Counts = SyncCounts;
    type Callback = SyncCallback;

    #[inline(always)]
    unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, ops) }
    }
    #[inline(always)]
    fn pool(self) -> Option<&'static Heap> {
        None
    }
    /// Trash and zombies are recognised under the list lock, in
    /// [`DeathHeap::unlink_dying`] (S4).
    #[inline(always)]
    unsafe fn ends_before_trashcan(self, _: Node, _: bool) -> bool {
        false
    }
    #[inline(always)]
    fn trash_depth(self) -> Option<usize> {
        TRASH.try_with(|t| t.depth.get()).ok()
    }
    #[inline(always)]
    fn set_trash_depth(self, depth: usize) {
        let _ = TRASH.try_with(|t| t.depth.set(depth));
    }
    fn defer(self, obj: ObjPtr, _: Option<Node>) -> bool {
        // (The deferred list gone, at thread exit: no deferral, HAZARDS 9.)
        if DEFERRED.try_with(|d| d.borrow_mut().push(obj)).is_err() {
            return false;
        }
        let _ = TRASH.try_with(|t| t.pending.set(true));
        true
    }
    fn pop_deferred(self) -> Option<ObjPtr> {
        DEFERRED.try_with(|d| d.borrow_mut().pop()).ok().flatten()
    }
    #[inline(always)]
    fn trash_pending(self) -> bool {
        TRASH.try_with(|t| t.pending.get()).unwrap_or(false)
    }
    fn clear_trash_pending(self) {
        let _ = TRASH.try_with(|t| t.pending.set(false));
    }
    #[inline(always)]
    unsafe fn unlink_dying(self, h: Node, obj: ObjPtr) -> bool {
        // SAFETY: I1, S3: forwarded.
        unsafe { unlink_dying(self, h, obj) }
    }
    /// Counted in [`DeathHeap::unlink_dying`] (a resurrection counts it back).
    #[inline(always)]
    fn note_dealloc(self) {}
    fn retrack(self, h: Node, obj: ObjPtr) {
        // SAFETY: I1: live (caller's contract).
        let counts = unsafe { SyncCounts::of(obj.counts) };
        let _lists = self.lock_running();
        // Under the list lock (S4); unlinked by this death, so no other
        // thread writes the header (N4).
        if !h.is_linked() {
            // N4: on a list from now on, not in a nursery.
            counts.clear_flag(IN_NURSERY);
            self.young.fetch_add(1, Ordering::Relaxed);
            list::track(h, self.generations[0].head());
        }
    }
    fn pop_weak_callback(self, addr: usize) -> Option<SyncCallback> {
        let entry = primitive::lock(&self.weak_callbacks).pop_newest(addr);
        entry.map(|e| e.callback)
    }
    fn bump_epoch(self, obj: ObjPtr) {
        // SAFETY: I1: callers pass live objects.
        unsafe { SyncCounts::of(obj.counts) }.bump_epoch(obj.counts.as_ptr() as usize)
    }
    fn forget_epoch(self, obj: ObjPtr) {
        // SAFETY: I1: callers pass live objects.
        unsafe { SyncCounts::of(obj.counts) }.forget_epoch(obj.counts.as_ptr() as usize)
    }
}

/// Unlink a dying tracked object from its nursery or list; `false` if the
/// death ends here (trash the collector owns, or a zombie, freed here).
///
/// # Safety
/// `h` is the header of the live object `obj`, whose
/// strong count this thread just took to zero.
#[inline(always)]
unsafe fn unlink_dying(heap: &'static SyncHeap, h: Node, obj: ObjPtr) -> bool {
    // SAFETY: I1: live (caller's contract).
    let counts = unsafe { SyncCounts::of(obj.counts) };
    // Without a lock, when the object is in a nursery (N5): a hint first,
    // read again once attached (a gather may have moved it to a list
    // before this thread attached; none can while it is).
    if counts.has_flag(IN_NURSERY) {
        let flush = world().attached(|slot| {
            if !counts.has_flag(IN_NURSERY) {
                return None;
            }
            // SAFETY: N5: flagged and attached, and this thread owns the
            // death; flagged objects are linked until their death (N4).
            let emptied = unsafe { nursery::unlink(h) };
            // SAFETY: N1: `slot` is this attached thread's.
            Some(unsafe { slot.nursery.note_unlink(emptied) })
        });
        if let Some(flush) = flush {
            if let Some(delta) = flush {
                heap.add_young(delta);
            }
            return true;
        }
    }
    let w = heap.lock_running();
    let hr = h; // read under the list lock (S4)
    if hr.is_collecting() {
        return false; // trash: the collector owns it (I5)
    }
    if hr.is_zombie() {
        // I5: a collection dropped its value; only the memory is left.
        drop(w);
        // Weak callbacks a `Drop` of trash registered on it run now, at
        // its free (as the per-thread heap's `free_dropped_trash`).
        if counts.has_flag(HAS_CALLBACKS) {
            death::clear_weak_handles_and_run_callbacks(heap, obj);
        }
        if counts.dec_weak() {
            // SAFETY: I1: strong 0, value dropped, unlinked: the implicit
            // weak was the last reference (I1).
            unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
        }
        return false;
    }
    if hr.is_linked() {
        list::remove(h);
        // Counted as deallocated now (a resurrection counts it back).
        heap.sub_young(1);
    }
    true
}

impl Reclaim for SyncCounts {
    unsafe fn release(obj: ObjPtr) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, Erased) }
    }
}
