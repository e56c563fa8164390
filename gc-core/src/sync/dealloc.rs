//! Refcount death on the sync heap, with its per-thread trashcan.

use super::counts::SyncCounts;
use super::heap::{heap, SyncHeap};
use super::nursery;
use crate::heap::dealloc::{DeathOps, Erased};
use crate::heap::header::{
    Node, ObjPtr, RefCounter, FINALIZED, HAS_CALLBACKS, IN_NURSERY, WEAK_CLEARED, WEAK_COUNT_MASK,
    WEAK_EPOCH,
};
use crate::heap::list;
use crate::heap::owned::Reclaim;
use crate::heap::weakcb::run_reporting_panics;
use crate::primitive::{self, Ordering};
use crate::trace::FinalizerKind;
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

// ---------------------------------------------------------------------------
// Refcount death (the sync twin of heap/dealloc.rs)
// ---------------------------------------------------------------------------

/// Past this nesting depth deaths are deferred (trashcan).
const TRASHCAN_LIMIT: usize = 50;

/// Restores the trashcan depth, also when a value's `Drop` panics.
struct Depth(usize);

impl Drop for Depth {
    #[inline(always)]
    fn drop(&mut self) {
        let _ = TRASH.try_with(|t| t.depth.set(self.0));
    }
}

/// The strong count of `obj` just reached zero on this thread.
///
/// # Safety
/// `obj` is a live sync object whose last strong reference the caller just
/// released; `ops` fits its type.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
    let depth = TRASH.try_with(|t| t.depth.get()).unwrap_or(0);
    if depth >= TRASHCAN_LIMIT && DEFERRED.try_with(|d| d.borrow_mut().push(obj)).is_ok() {
        let _ = TRASH.try_with(|t| t.pending.set(true));
        return;
    }
    // (Past the limit with the deferred list gone, at thread exit: no
    // deferral, HAZARDS 9.)
    {
        let _restore = Depth(depth);
        let _ = TRASH.try_with(|t| t.depth.set(depth + 1));
        // SAFETY: I1: forwarded from the caller.
        unsafe { destroy(obj, ops) };
    }
    if depth == 0 && TRASH.try_with(|t| t.pending.get()).unwrap_or(false) {
        drain_trashcan();
    }
}

/// Destroy the deferred deaths of this thread, outermost (depth 0).
#[cold]
#[inline(never)]
fn drain_trashcan() {
    loop {
        let next = DEFERRED.try_with(|d| d.borrow_mut().pop()).ok().flatten();
        let Some(obj) = next else { break };
        let _restore = Depth(0);
        let _ = TRASH.try_with(|t| t.depth.set(1));
        // SAFETY: I1, S3: deferred objects had their last strong reference dropped
        // on this thread and were not touched since.
        unsafe { destroy(obj, Erased) };
    }
    let _ = TRASH.try_with(|t| t.pending.set(false));
}

/// CPython's order: finalize (maybe resurrect), clear weak handles + run
/// callbacks, unlink, drop, free. The same steps, and the same
/// [`DeathOps`] (typed for a sized `T`, else through the vtable), as the
/// per-thread heap's `heap::dealloc::destroy`; what differs is how the
/// object is unlinked (nursery or list lock) and that a resurrection is
/// confirmed with a compare-exchange (another thread may be upgrading).
///
/// # Safety
/// As for [`release`].
#[inline(always)]
unsafe fn destroy<O: DeathOps>(obj: ObjPtr, ops: O) {
    let heap = heap();
    // SAFETY: I1: live (caller's contract).
    let counts = unsafe { SyncCounts::of(obj.counts) };
    let header = if ops.tracked(obj) {
        // SAFETY: I8: a tracked type's object has a header; L1: live until
        // this function frees it (caller's contract).
        Some(unsafe { Node::of_counts(obj.counts) })
    } else {
        None
    };
    if let Some(h) = header {
        // SAFETY: I1, S3: forwarded: this thread owns the death.
        if !unsafe { unlink_dying(heap, h, counts, obj) } {
            return;
        }
    }
    let vt = obj.vtable;
    let kind = ops.finalizer(obj);
    // The common case, as the per-thread heap's: no finalizer, no weak
    // handle (the weak count is the implicit one), no callback or epoch to
    // clear. Strong is 0 and no weak handle exists, so none can be made
    // (both need a handle): nothing but this thread can reach the object.
    if kind == FinalizerKind::None
        && counts.weak_word() & (WEAK_COUNT_MASK | HAS_CALLBACKS | WEAK_EPOCH) == 1
    {
        // SAFETY: I1: as above: we own the value and the last reference.
        unsafe {
            ops.drop_value(obj);
            ops.dealloc(obj, None);
        }
        return;
    }
    let addr = obj.counts.as_ptr() as usize;
    let legacy = kind == FinalizerKind::Legacy;
    if legacy {
        // As the per-thread heap (heap/dealloc.rs): CPython clears weakrefs
        // before `tp_del`, which runs at every refcount death.
        counts.bump_epoch(addr);
        clear_weak_handles_and_run_callbacks(heap, obj);
    }
    if kind != FinalizerKind::None && (!counts.set_flag(FINALIZED) || legacy) {
        counts.set_strong(1);
        run_reporting_panics(&|| format!("finalizer of {}", (vt.type_name)()), || {
            // SAFETY: I1, I6: intact value, we hold a strong reference.
            unsafe { ops.finalize(obj) }
        });
        if !counts.release_if_last() {
            // Resurrected (maybe by another thread's upgrade during the
            // call). This thread still holds the reference the finalizer
            // ran under: no other thread can start a death of the object
            // while it is re-linked (the count cannot reach zero).
            if legacy {
                counts.clear_flag(WEAK_CLEARED); // new handles work (I2)
            }
            if let Some(h) = header {
                let _lists = heap.lock_running();
                // Under the list lock (S4); unlinked by this death, so no
                // other thread writes the header (N4).
                if !h.is_linked() {
                    // N4: on a list from now on, not in a nursery.
                    counts.clear_flag(IN_NURSERY);
                    heap.young.fetch_add(1, Ordering::Relaxed);
                    list::track(h, heap.generations[0].head());
                }
            }
            if counts.dec_strong() {
                // The resurrecting handles are gone already: a new death,
                // of a linked object, owned by this thread.
                // SAFETY: I1: live, and we released its last strong reference.
                unsafe { release(obj, ops) };
            }
            return;
        }
    }
    clear_weak_handles_and_run_callbacks(heap, obj);
    counts.forget_epoch(addr);
    // SAFETY: I1, I2: strong 0 and WEAK_CLEARED: nobody can reach the value.
    unsafe { ops.drop_value(obj) };
    if counts.dec_weak() {
        // SAFETY: I1: the implicit weak was the last reference.
        unsafe { ops.dealloc(obj, None) };
    }
}

/// Unlink a dying tracked object from its nursery or list; `false` if the
/// death ends here (trash the collector owns, or a zombie, freed here).
///
/// # Safety
/// `h` is the header of the live object `obj` (counts `counts`), whose
/// strong count this thread just took to zero.
#[inline(always)]
unsafe fn unlink_dying(heap: &'static SyncHeap, h: Node, counts: &SyncCounts, obj: ObjPtr) -> bool {
    // Without a lock, when the object is in a nursery (N5): a hint first,
    // read again once attached (a gather may have moved it to a list
    // before this thread attached; none can while it is).
    if counts.has_flag(IN_NURSERY) {
        let flush = heap.world.attached(|slot| {
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
        heap.young.fetch_sub(1, Ordering::Relaxed);
    }
    true
}

pub(crate) fn clear_weak_handles_and_run_callbacks(heap: &SyncHeap, obj: ObjPtr) {
    // SAFETY: I1: callers pass live objects.
    let counts = unsafe { SyncCounts::of(obj.counts) };
    counts.set_flag(WEAK_CLEARED);
    if !counts.clear_flag(HAS_CALLBACKS) {
        return;
    }
    let addr = obj.counts.as_ptr() as usize;
    loop {
        let entry = primitive::lock(&heap.weak_callbacks).pop_newest(addr);
        let Some(entry) = entry else { break };
        let type_name = obj.vtable.type_name;
        run_reporting_panics(
            &|| format!("weak callback of {}", type_name()),
            entry.callback,
        );
    }
}

impl Reclaim for SyncCounts {
    unsafe fn release(obj: ObjPtr) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, Erased) }
    }
}
