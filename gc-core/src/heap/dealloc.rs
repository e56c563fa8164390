//! Refcount death, in CPython's order (`subtype_dealloc`), with the trashcan.
//!
//! When the last strong handle of an object is dropped, [`release`] runs:
//!
//! 1. If the object is cyclic trash owned by a running collection
//!    ([`PREV_COLLECTING`](super::header::PREV_COLLECTING) still set, I5),
//!    nothing happens: the collector drops and frees it (HAZARDS 11).
//! 2. **Trashcan** (HAZARDS 5): past [`TRASHCAN_LIMIT`] nested deallocations
//!    a tracked object is unlinked and pushed on the heap's deferred list
//!    (linked through `prev`); the outermost deallocation drains that list
//!    iteratively, so dropping a 10-million-node chain uses bounded stack.
//! 3. [`destroy`]: run `finalize` once if the type has a finalizer and the
//!    object is not yet [`FINALIZED`]: the strong count is set to 1 for the
//!    call (weak handles can still upgrade, as in CPython), then decremented;
//!    if it is still above zero the finalizer *resurrected* the object, which
//!    lives on untouched (HAZARDS 6).
//! 4. Otherwise set [`WEAK_CLEARED`] (upgrades fail from now on), run the
//!    weak callbacks whose handles are alive, newest first.
//! 5. Unlink from the generation list, drop the value, release the implicit
//!    weak reference; free the memory if no weak handle is left.
//!
//! Panics in a finalizer or callback are caught and reported on stderr. A
//! panic in the value's own `Drop` (a skipped field's type) propagates; the
//! object is then leaked, never freed twice or half-freed.

use super::header::{ObjPtr, FINALIZED, HAS_CALLBACKS, WEAK_CLEARED};
use super::weakcb::run_reporting_panics;
use super::{heap, list, Heap};
use crate::trace::FinalizerKind;

/// Nesting depth past which deallocations are deferred (CPython uses 50).
pub(crate) const TRASHCAN_LIMIT: usize = 50;

/// The strong count of `obj` just reached zero: reclaim it (or not, see the
/// module docs).
///
/// # Safety
/// `obj` is a live object whose strong count was just decremented to zero by
/// the caller, which owned that last strong reference.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release(obj: ObjPtr) {
    let header = obj.header();
    if let Some(h) = header {
        // SAFETY: the object is live (caller's contract), so is its header.
        if unsafe { h.as_ref() }.is_collecting() {
            return; // I5: cyclic trash, the collector owns it.
        }
    }
    let Some(heap) = heap() else {
        // SAFETY: forwarded; no heap means no trashcan and no registry.
        unsafe { destroy(obj, None) };
        return;
    };
    let depth = heap.trash_depth.get();
    if let (Some(h), true) = (header, depth >= TRASHCAN_LIMIT) {
        // SAFETY: live header (caller's contract).
        let hr = unsafe { h.as_ref() };
        if hr.is_linked() {
            list::remove(h);
        }
        hr.prev.set(heap.trash_delete_later.get());
        heap.trash_delete_later.set(h.as_ptr() as usize);
        return;
    }
    let _restore = DepthGuard { heap, depth };
    heap.trash_depth.set(depth + 1);
    // SAFETY: forwarded from the caller.
    unsafe { destroy(obj, Some(heap)) };
    heap.trash_depth.set(depth);
    if depth == 0 {
        drain_trashcan(heap);
    }
}

/// Restores the trashcan depth if a `Drop` impl unwinds through `release`.
struct DepthGuard {
    heap: &'static Heap,
    depth: usize,
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        self.heap.trash_depth.set(self.depth);
    }
}

/// Destroy the deferred objects one at a time, at depth 1.
fn drain_trashcan(heap: &'static Heap) {
    loop {
        let top = heap.trash_delete_later.get();
        if top == 0 {
            break;
        }
        let h = list::ptr(top);
        // SAFETY: deferred objects are live (strong 0, value not dropped);
        // their `prev` holds the next deferred link.
        let hr = unsafe { h.as_ref() };
        heap.trash_delete_later.set(hr.prev.get());
        hr.prev.set(0);
        let _restore = DepthGuard { heap, depth: 0 };
        heap.trash_depth.set(1);
        // SAFETY: the deferred object's last strong reference was dropped
        // and nothing else can reach it (strong is 0, upgrades fail).
        unsafe { destroy(super::header::Header::obj(h), Some(heap)) };
        heap.trash_depth.set(0);
    }
}

/// Finalize (maybe resurrect), clear weak handles, drop and free `obj`.
///
/// # Safety
/// As for [`release`]; the object is not linked into a collector-private list.
unsafe fn destroy(obj: ObjPtr, heap: Option<&'static Heap>) {
    // SAFETY: live object (caller's contract).
    let counts = unsafe { obj.counts() };
    let vt = obj.vtable;
    let header = obj.header();
    // Untrack first (CPython's subtype_dealloc does too): while user code
    // runs below, the object has no strong count of its own and must not be
    // seen by a collection that finalizers or callbacks may start.
    if let Some(h) = header {
        // SAFETY: live header.
        if unsafe { h.as_ref() }.is_linked() {
            list::remove(h);
        }
    }
    if (vt.finalizer_kind)() != FinalizerKind::None && !counts.has_flag(FINALIZED) {
        counts.set_flag(FINALIZED); // I3: before the call.
        counts.set_strong(1);
        run_reporting_panics(&|| format!("finalizer of {}", (vt.type_name)()), || {
            // SAFETY: the value is intact and we hold a strong reference.
            unsafe { (vt.finalize)(obj.counts) }
        });
        if !counts.dec_strong() {
            // Resurrected: the object lives on, tracked again so that cycles
            // through it can still be collected.
            if let (Some(h), Some(heap)) = (header, heap) {
                // SAFETY: live header; unlinked above.
                let hr = unsafe { h.as_ref() };
                if !hr.is_linked() {
                    hr.prev.set(0);
                    list::append(h, heap.gen_head(0));
                }
            }
            return;
        }
    }
    clear_weak_handles_and_run_callbacks(obj, heap);
    if header.is_some() {
        if let Some(heap) = heap {
            heap.note_dealloc();
        }
    }
    // SAFETY: strong is zero, upgrades fail (WEAK_CLEARED): nothing can
    // observe the value any more; it is dropped exactly once (I1).
    unsafe { (vt.drop_value)(obj.counts) };
    if counts.dec_weak() {
        // SAFETY: the implicit weak was the last reference (I1).
        unsafe { (vt.dealloc)(obj.counts) };
    }
}

/// Set [`WEAK_CLEARED`] and run the object's weak callbacks, newest first,
/// one at a time (a callback that drops another callback's handle cancels
/// it, since the entry is taken only when it is about to run).
pub(crate) fn clear_weak_handles_and_run_callbacks(obj: ObjPtr, heap: Option<&'static Heap>) {
    // SAFETY: callers pass live objects.
    let counts = unsafe { obj.counts() };
    counts.set_flag(WEAK_CLEARED);
    if !counts.has_flag(HAS_CALLBACKS) {
        return;
    }
    counts.clear_flag(HAS_CALLBACKS);
    let Some(heap) = heap else { return };
    let addr = obj.counts.as_ptr() as usize;
    loop {
        let entry = {
            let mut reg = heap.weak_callbacks.borrow_mut();
            reg.pop_newest(addr)
        };
        let Some(entry) = entry else { break };
        let type_name = obj.vtable.type_name;
        run_reporting_panics(
            &|| format!("weak callback of {}", type_name()),
            entry.callback,
        );
    }
}
