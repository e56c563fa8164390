//! Refcount death on the per-thread heap: the [`DeathOps`] (how a value is
//! finalized, dropped and freed), and the per-thread heap's [`DeathHeap`]
//! hooks for the one death path in [`super::death`] (whose module docs give
//! the steps, CPython's `subtype_dealloc` order, and the trashcan).

use super::death::{self, DeathHeap, DeathOps};
use super::header::{Counts, GcBox, Header, Node, ObjPtr, HAS_CALLBACKS, WEAK_COUNT_MASK};
use super::owned::Reclaim;
use super::weakcb::{run_reporting_panics, Callback};
use super::{heap, list, Heap};
use crate::trace::Trace;

/// The strong count of a per-thread object just reached zero: its death
/// ([`death::release`] on this thread's heap).
///
/// # Safety
/// `obj` is a live per-thread object whose strong count was just
/// decremented to zero by the caller, which owned that last strong
/// reference; `ops` fits its type.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
    // SAFETY: I1: forwarded from the caller.
    unsafe { death::release(heap(), obj, ops) }
}

/// Refcount death of a sized `T`, inlined into the out-of-line
/// `release_handle` (constant vtable and metadata; an `ObjPtr` passed to a
/// call goes through memory).
///
/// Cyclic trash is tested first, before the thread's heap is looked up
/// (step 1 of `heap::death`, which `ends_before_trashcan` would do next):
/// while a collection drops trash values, most releases that reach zero are
/// of other trash, which they leave to the collector (value intact) or free
/// (value dropped, header I5).
///
/// # Safety
/// As for [`release`]; `obj` is a `GcBox<T>` (the `ErasedType` of `T`).
#[inline(always)]
pub(crate) unsafe fn release_typed<T: Trace + 'static>(obj: ObjPtr) {
    let tracked = T::__gc_tracked();
    if tracked {
        // SAFETY: I8: a tracked type's object has a header; L1: live (the
        // caller's contract) until freed below, the node's last use.
        let h = unsafe { Node::of_counts(obj.counts) };
        if h.is_collecting() {
            // SAFETY: I5: cyclic trash whose last strong handle the caller
            // just released; `h` is a `GcBox<T>`'s header.
            unsafe { release_trash::<T>(h) };
            return;
        }
    }
    let ops = death::Typed::<T>::OPS;
    // SAFETY: I8: forwarded; `obj` is a `GcBox<T>` (ErasedType of `T`);
    // I5: a tracked one was just seen without PREV_COLLECTING.
    unsafe { death::release_checked(heap(), obj, ops, tracked) }
}

/// [`release_typed`] of cyclic trash (header I5), out of line (refcount
/// death's code around the test stays as it was: its instruction counts
/// are unchanged): trash whose value is intact is left to the collector;
/// dropped trash is freed, with `T`'s static code when only its implicit
/// weak reference is left.
///
/// # Safety
/// `h` is the header of a `GcBox<T>` with `PREV_COLLECTING`, whose last
/// strong handle the caller just released.
#[inline(never)]
unsafe fn release_trash<T: Trace + 'static>(h: Node) {
    if h.is_dropped_trash() {
        // SAFETY: I5: dropped trash (so linked) whose last strong handle
        // the caller released; I10: a `GcBox<T>`, freed by `T`'s static
        // code.
        unsafe { free_linked_trash(h, heap, || GcBox::<T>::dealloc(h.counts().cast())) };
    }
}

/// Free cyclic trash whose value `delete_garbage` has dropped and whose
/// strong count is 0, or a zombie whose last handle is gone (header I5):
/// unlink it from the collector's private list (a zombie is not linked),
/// run the weak callbacks registered on it since the collector took them
/// (by a `Drop` impl of the trash), release the implicit weak reference and
/// free the memory if no weak handle is left. `heap` gives the calling
/// thread's heap; it is asked only when the object has weak callbacks (the
/// collector's drop walk then spares a thread-local lookup per object).
///
/// # Safety
/// I5: `h` is dropped trash or a zombie, its strong count is 0, and it is
/// freed once: no node of it is used afterwards (L1).
#[cold]
pub(crate) unsafe fn free_dropped_trash(h: Node, heap: impl FnOnce() -> Option<&'static Heap>) {
    debug_assert!(h.value_dropped());
    if h.is_linked() {
        list::remove(h);
    } else {
        h.clear_unlinked_prev(); // the zombie mark
    }
    // SAFETY: I1: live object.
    let counts = unsafe { h.counts().as_ref() };
    debug_assert_eq!(counts.strong(), 0);
    if counts.has_flag(HAS_CALLBACKS) {
        run_callbacks_of_trash(heap(), h);
    }
    if counts.dec_weak() {
        let obj = h.obj();
        // SAFETY: I1: strong 0, value dropped, unlinked: the implicit weak was the
        // last reference (I1).
        unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
    }
}

/// [`free_dropped_trash`]'s weak callbacks, out of line (rare: a `Drop`
/// impl of trash registered them) and given the node (one register, where
/// an `ObjPtr` goes through memory), so that the common path keeps no
/// frame.
#[cold]
#[inline(never)]
fn run_callbacks_of_trash(heap: Option<&'static Heap>, h: Node) {
    death::clear_weak_handles_and_run_callbacks(heap, h.obj());
}

/// Free linked dropped trash whose strong count is 0 (per-thread heap):
/// the delete walk's free right after it dropped the value, and the
/// release of the last handle to trash the walk dropped earlier. When only
/// the implicit weak reference is left (no `Weak` handle, no callback,
/// I1) the object is unlinked and `dealloc` frees its memory at once,
/// inline: nothing can read the weak word again, so its decrement is not
/// written (as refcount death's fast path, `heap::death::destroy`).
/// Otherwise [`free_dropped_trash`].
///
/// # Safety
/// As for [`free_dropped_trash`]; `h` is linked (dropped trash still
/// carries `PREV_COLLECTING`, so it is on the collector's list, I5);
/// `dealloc` frees the object's allocation (I10), as its vtable's would.
#[inline(always)]
pub(crate) unsafe fn free_linked_trash(
    h: Node,
    heap: impl FnOnce() -> Option<&'static Heap>,
    dealloc: impl FnOnce(),
) {
    debug_assert!(h.is_linked() && h.is_dropped_trash());
    // SAFETY: I1: live object (the implicit weak is still held).
    let counts = unsafe { h.counts().as_ref() };
    debug_assert_eq!(counts.strong(), 0);
    if counts.weak_word() & (WEAK_COUNT_MASK | HAS_CALLBACKS) == 1 {
        list::remove(h);
        // I1, I5: value dropped, strong 0, unlinked, and the implicit weak
        // is the only reference left: the caller's was the last use of the
        // object (L1).
        dealloc();
    } else {
        // SAFETY: I5, L1: forwarded from the caller.
        unsafe { free_dropped_trash(h, heap) };
    }
}

/// `delete_garbage`'s step for one object of the per-thread heap (the
/// vtable's `delete_trash`, with `T`'s static code): drop the value of
/// `h` (a panic is reported and the value counts as dropped), mark it
/// dropped (`PREV_DROPPED`, I5), and free it at once if its strong count is
/// 0 ([`free_linked_trash`]); otherwise the release of its last handle
/// frees it later ([`release_trash`]), or it is left a zombie.
///
/// # Safety
/// `h` is the header of a `GcBox<T>` that is cyclic trash of the running
/// collection with an intact value, linked on the collector's list with a
/// clean `next` link (I5, L2); the collector calls this once per object
/// and does not use `h` afterwards (L1).
#[inline(always)]
pub(crate) unsafe fn delete_trash<T: Trace + 'static>(h: Node) {
    let counts = h.counts();
    run_reporting_panics(
        &|| format!("drop of {}", std::any::type_name::<T>()),
        || {
            // SAFETY: I5: the collector owns the trash; each value is dropped
            // exactly once, here; nothing reads it afterwards (weak handles
            // cannot upgrade to trash, strong handles live only in trash).
            unsafe { GcBox::<T>::drop_value_erased(counts, 0) }
        },
    );
    h.set_dropped();
    // SAFETY: I1: live (the implicit weak is still held).
    if unsafe { counts.as_ref() }.strong() == 0 {
        // SAFETY: I5: dropped trash with strong 0, linked, freed once
        // (the caller's contract); I10: a `GcBox<T>`, freed by `T`'s code.
        unsafe { free_linked_trash(h, heap, || GcBox::<T>::dealloc(counts.cast())) };
    }
}

/// [`delete_trash`] through the vtable, for the objects whose vtable has
/// no static code for it (unsized values).
///
/// # Safety
/// As for [`delete_trash`].
pub(crate) unsafe fn delete_trash_erased(h: Node) {
    drop_trash_value(h);
    let obj = h.obj();
    // SAFETY: I1: live (the implicit weak is still held).
    if unsafe { obj.counts() }.strong() == 0 {
        // SAFETY: I5: as in `delete_trash`; I1: the vtable's dealloc frees
        // exactly this object.
        unsafe { free_linked_trash(h, heap, || (obj.vtable.dealloc)(obj.counts, obj.meta)) };
    }
}

/// Drop one trash value (panics are reported, and the value counts as
/// dropped), then mark the object `PREV_DROPPED` (I5).
#[inline(always)]
pub(crate) fn drop_trash_value(node: Node) {
    let obj = node.obj();
    run_reporting_panics(&|| format!("drop of {}", (obj.vtable.type_name)()), || {
        // SAFETY: the collector owns the trash (I5); each value is dropped
        // exactly once, here; nothing reads it afterwards (weak handles
        // cannot upgrade to trash, strong handles live only in trash).
        unsafe { (obj.vtable.drop_value)(obj.counts, obj.meta) }
    });
    node.set_dropped();
}

/// The per-thread heap at refcount death: `None` once the thread's heap is
/// gone (thread exit, H1): no trashcan, no registry, no pool.
impl DeathHeap for Option<&'static Heap> {
    type Counts = Counts;
    type Callback = Callback;

    #[inline(always)]
    unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, ops) }
    }
    #[inline(always)]
    fn pool(self) -> Option<&'static Heap> {
        self
    }
    #[inline(always)]
    unsafe fn ends_before_trashcan(self, h: Node, not_trash: bool) -> bool {
        let hr: &Header = &h;
        // I5: cyclic trash, the collector owns it; once its value is
        // dropped, the last handle going away only frees it. (Tested as two
        // cases so that trash whose value is intact costs one test.)
        if !not_trash && hr.is_collecting() {
            if hr.is_dropped_trash() {
                // SAFETY: I5: dropped trash whose last strong handle the
                // caller just released.
                unsafe { free_dropped_trash(h, || self) };
            }
            return true;
        }
        if hr.is_zombie() {
            // SAFETY: I5: a zombie whose last strong handle the caller just
            // released.
            unsafe { free_dropped_trash(h, || self) };
            return true;
        }
        false
    }
    #[inline(always)]
    fn trash_depth(self) -> Option<usize> {
        self.map(|heap| heap.trash_depth.get())
    }
    #[inline(always)]
    fn set_trash_depth(self, depth: usize) {
        if let Some(heap) = self {
            heap.trash_depth.set(depth);
        }
    }
    /// Tracked objects are unlinked and chained through `prev`; untracked
    /// ones (no header to link through; only a type that hides handles in
    /// `#[trace(skip)]` fields can chain them) go to a vector.
    #[inline(always)]
    fn defer(self, obj: ObjPtr, header: Option<Node>) -> bool {
        let Some(heap) = self else { return false };
        match header {
            Some(h) => {
                let hr: &Header = &h;
                if hr.is_linked() {
                    list::remove(h);
                }
                hr.defer_after(heap.trash_delete_later.get());
                heap.trash_delete_later.set(h.addr());
            }
            None => heap.trash_untracked.borrow_mut().push(obj),
        }
        heap.trash_pending.set(true);
        true
    }
    fn pop_deferred(self) -> Option<ObjPtr> {
        let heap = self?;
        let untracked = heap.trash_untracked.borrow_mut().pop();
        if untracked.is_some() {
            return untracked;
        }
        let top = heap.trash_delete_later.get();
        if top == 0 {
            return None;
        }
        // SAFETY: L1: deferred objects are live (strong 0, value not
        // dropped, I1) until their `destroy`; `top` is one's address.
        let h = unsafe { Node::new(std::ptr::NonNull::new_unchecked(top as *mut Header)) };
        heap.trash_delete_later.set(h.take_deferred());
        Some(h.obj())
    }
    #[inline(always)]
    fn trash_pending(self) -> bool {
        self.is_some_and(|heap| heap.trash_pending.get())
    }
    fn clear_trash_pending(self) {
        if let Some(heap) = self {
            heap.trash_pending.set(false);
        }
    }
    #[inline(always)]
    unsafe fn unlink_dying(self, h: Node, _: ObjPtr) -> bool {
        if h.is_linked() {
            list::remove(h);
        }
        true
    }
    #[inline(always)]
    fn note_dealloc(self) {
        if let Some(heap) = self {
            heap.note_dealloc();
        }
    }
    fn retrack(self, h: Node, _: ObjPtr) {
        // Unlinked by the death; tracked again with tag 0 (I7).
        if let Some(heap) = self {
            if !h.is_linked() {
                list::track(h, heap.gen_head(0));
            }
        }
    }
    fn pop_weak_callback(self, addr: usize) -> Option<Callback> {
        let entry = self?.weak_callbacks.borrow_mut().pop_newest(addr);
        entry.map(|e| e.callback)
    }
    fn bump_epoch(self, obj: ObjPtr) {
        // SAFETY: I1: callers pass live objects.
        let counts = unsafe { obj.counts() };
        super::weakepoch::bump(counts, obj.counts.as_ptr() as usize);
    }
    fn forget_epoch(self, obj: ObjPtr) {
        // SAFETY: I1: callers pass live objects.
        let counts = unsafe { obj.counts() };
        super::weakepoch::forget(counts, obj.counts.as_ptr() as usize);
    }
}

impl Reclaim for Counts {
    unsafe fn release(obj: ObjPtr) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, death::Erased) }
    }
}
