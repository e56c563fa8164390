//! Refcount death on the sync heap, with its per-thread trashcan.

use super::counts::SyncCounts;
use super::heap::{heap, SyncHeap};
use crate::heap::header::{ObjPtr, RefCounter, FINALIZED, HAS_CALLBACKS, WEAK_CLEARED};
use crate::heap::list;
use crate::heap::owned::Reclaim;
use crate::heap::weakcb::run_reporting_panics;
use crate::primitive;
use crate::trace::FinalizerKind;
use std::cell::RefCell;

// loom's `thread_local!` has no `const` form; keep one spelling for both.
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    primitive::thread_local! {
    /// This thread's trashcan: nesting depth and deferred deaths.
    pub(super) static TRASH: RefCell<(usize, Vec<ObjPtr>)> = RefCell::new((0, Vec::new()));
    }
}
use tls::TRASH;

// ---------------------------------------------------------------------------
// Refcount death (the sync twin of heap/dealloc.rs)
// ---------------------------------------------------------------------------

/// Past this nesting depth deaths are deferred (trashcan).
const TRASHCAN_LIMIT: usize = 50;

/// The strong count of `obj` just reached zero on this thread.
///
/// # Safety
/// `obj` is a live sync object whose last strong reference the caller just
/// released.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release(obj: ObjPtr) {
    let deferred = TRASH.try_with(|t| {
        let mut t = t.borrow_mut();
        if t.0 >= TRASHCAN_LIMIT {
            t.1.push(obj);
            true
        } else {
            t.0 += 1;
            false
        }
    });
    match deferred {
        Ok(true) => return,
        Ok(false) => {}
        Err(_) => {
            // Thread exit destroyed the trashcan (HAZARDS 9): no deferral.
            // SAFETY: I1: forwarded from the caller.
            unsafe { destroy(obj) };
            return;
        }
    }
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            let _ = TRASH.try_with(|t| t.borrow_mut().0 -= 1);
        }
    }
    {
        let _depth = Depth;
        // SAFETY: I1: forwarded from the caller.
        unsafe { destroy(obj) };
    }
    loop {
        let next = TRASH
            .try_with(|t| {
                let mut t = t.borrow_mut();
                if t.0 == 0 {
                    let next = t.1.pop();
                    if next.is_some() {
                        t.0 += 1;
                    }
                    next
                } else {
                    None
                }
            })
            .ok()
            .flatten();
        let Some(obj) = next else { break };
        let _depth = Depth;
        // SAFETY: I1, S3: deferred objects had their last strong reference dropped
        // on this thread and were not touched since.
        unsafe { destroy(obj) };
    }
}

/// CPython's order: finalize (maybe resurrect), clear weak handles + run
/// callbacks, unlink, drop, free.
unsafe fn destroy(obj: ObjPtr) {
    let heap = heap();
    // SAFETY: I1: live (caller's contract).
    let counts = unsafe { SyncCounts::of(obj.counts) };
    // SAFETY: I1: live until this function frees it (caller's contract).
    let header = unsafe { obj.header() };
    if let Some(h) = header {
        let mut w = heap.lock_running();
        let hr = h; // read under the list lock (S4)
        if hr.is_collecting() {
            return; // trash: the collector owns it (I5)
        }
        if hr.is_zombie() {
            // I5: a collection dropped its value; only the memory is left.
            drop(w);
            if counts.dec_weak() {
                // SAFETY: I1: strong 0, value dropped, unlinked: the implicit
                // weak was the last reference (I1).
                unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
            }
            return;
        }
        if hr.is_linked() {
            list::remove(h);
            // Counted as deallocated now, in the same lock hold (a
            // resurrection below counts it back).
            w.gen.count[0] = w.gen.count[0].saturating_sub(1);
        }
    }
    let vt = obj.vtable;
    let addr = obj.counts.as_ptr() as usize;
    let kind = (vt.finalizer_kind)();
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
            unsafe { (vt.finalize)(obj.counts) }
        });
        if !counts.dec_strong() {
            // Resurrected (maybe by another thread's upgrade during the call).
            if legacy {
                counts.clear_flag(WEAK_CLEARED); // new handles work (I2)
            }
            if let Some(h) = header {
                let mut w = heap.lock_running();
                // Under the list lock (S4).
                if !h.is_linked() {
                    w.gen.count[0] += 1;
                    list::track(h, heap.generations[0].head());
                }
            }
            return;
        }
    }
    clear_weak_handles_and_run_callbacks(heap, obj);
    counts.forget_epoch(addr);
    // SAFETY: I1, I2: strong 0 and WEAK_CLEARED: nobody can reach the value.
    unsafe { (vt.drop_value)(obj.counts, obj.meta) };
    if counts.dec_weak() {
        // SAFETY: the implicit weak was the last reference (I1).
        unsafe { (vt.dealloc)(obj.counts, obj.meta) };
    }
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
        unsafe { release(obj) }
    }
}
