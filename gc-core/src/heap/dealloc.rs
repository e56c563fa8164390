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
//! 3. [`destroy`]: run `finalize` once if the type has a PEP 442 finalizer
//!    and the object is not yet [`FINALIZED`]: the strong count is set to 1
//!    for the call (weak handles can still upgrade, as in CPython), then
//!    decremented; if it is still above zero the finalizer *resurrected* the
//!    object, which lives on untouched (HAZARDS 6). A legacy finalizer
//!    (`tp_del`) runs at every refcount death, after the weak clearing below, as in CPython's
//!    `subtype_dealloc`: its weak handles are dead (a new epoch, header I2)
//!    and their callbacks have run; if it resurrects the object, handles
//!    made from then on work.
//! 4. Otherwise set [`WEAK_CLEARED`] (upgrades fail from now on), run the
//!    weak callbacks whose handles are alive, newest first.
//! 5. Unlink from the generation list, drop the value, release the implicit
//!    weak reference; free the memory if no weak handle is left.
//!
//! Panics in a finalizer or callback are caught and reported on stderr. A
//! panic in the value's own `Drop` (a skipped field's type) propagates; the
//! object is then leaked, never freed twice or half-freed.

use super::header::{
    Counts, GcBox, Header, Node, ObjPtr, RefCounter, FINALIZED, HAS_CALLBACKS, WEAK_CLEARED,
    WEAK_COUNT_MASK, WEAK_EPOCH,
};
use super::owned::Reclaim;
use super::weakcb::run_reporting_panics;
use super::{heap, list, Heap};
use crate::trace::{FinalizerKind, Trace};

/// Nesting depth past which deallocations are deferred (CPython uses 50).
pub(crate) const TRASHCAN_LIMIT: usize = 50;

/// How to finalize, drop and free an object: through its vtable
/// ([`Erased`], for `GcAny` and the trashcan) or statically for a known `T`
/// ([`Typed`], for `Gc<T>`: no indirect calls, the drop glue inlines).
pub(crate) trait DeathOps: Copy {
    fn tracked(self, obj: ObjPtr) -> bool;
    fn finalizer(self, obj: ObjPtr) -> FinalizerKind;
    /// # Safety
    /// `obj` is live with an intact value, owned by the caller.
    unsafe fn finalize(self, obj: ObjPtr);
    /// # Safety
    /// The value is dropped exactly once, by its owner (I1).
    unsafe fn drop_value(self, obj: ObjPtr);
    /// # Safety
    /// No reference is left (I1); `heap` is the calling thread's heap
    /// (`heap()`), passed in to spare a second thread-local read.
    unsafe fn dealloc(self, obj: ObjPtr, heap: Option<&'static Heap>);
}

/// [`DeathOps`] through the vtable.
#[derive(Clone, Copy)]
pub(crate) struct Erased;

impl DeathOps for Erased {
    #[inline(always)]
    fn tracked(self, obj: ObjPtr) -> bool {
        (obj.vtable.tracked)()
    }
    #[inline(always)]
    fn finalizer(self, obj: ObjPtr) -> FinalizerKind {
        (obj.vtable.finalizer_kind)()
    }
    #[inline(always)]
    unsafe fn finalize(self, obj: ObjPtr) {
        // SAFETY: I1: forwarded.
        unsafe { (obj.vtable.finalize)(obj.counts) }
    }
    #[inline(always)]
    unsafe fn drop_value(self, obj: ObjPtr) {
        // SAFETY: I1: forwarded.
        unsafe { (obj.vtable.drop_value)(obj.counts, obj.meta) }
    }
    #[inline(always)]
    unsafe fn dealloc(self, obj: ObjPtr, _: Option<&'static Heap>) {
        // SAFETY: I1: forwarded.
        unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) }
    }
}

/// [`DeathOps`] for a statically known `T`.
///
/// Generic over the counts `C`: the sync heap's death path uses the same
/// operations for its objects (`GcBox<T, SyncCounts>`).
pub(crate) struct Typed<T, C = Counts>(std::marker::PhantomData<fn() -> (T, C)>);

impl<T, C> Clone for Typed<T, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, C> Copy for Typed<T, C> {}

impl<T: Trace + 'static, C: RefCounter> Typed<T, C> {
    pub(crate) const OPS: Typed<T, C> = Typed(std::marker::PhantomData);
}

impl<T: Trace + 'static, C: RefCounter> DeathOps for Typed<T, C> {
    #[inline(always)]
    fn tracked(self, _: ObjPtr) -> bool {
        T::__gc_tracked()
    }
    #[inline(always)]
    fn finalizer(self, _: ObjPtr) -> FinalizerKind {
        T::__gc_finalizer()
    }
    #[inline(always)]
    unsafe fn finalize(self, obj: ObjPtr) {
        // SAFETY: I1, I8: forwarded; `obj` is a `GcBox<T, C>` (typed caller).
        unsafe { GcBox::<T, C>::finalize_erased(obj.counts) }
    }
    #[inline(always)]
    unsafe fn drop_value(self, obj: ObjPtr) {
        // SAFETY: I1: forwarded.
        unsafe { GcBox::<T, C>::drop_value_erased(obj.counts, 0) }
    }
    #[inline(always)]
    unsafe fn dealloc(self, obj: ObjPtr, heap: Option<&'static Heap>) {
        // SAFETY: I1: forwarded.
        unsafe { GcBox::<T, C>::dealloc_with(obj.counts.cast(), heap) }
    }
}

/// The strong count of `obj` just reached zero: reclaim it (or not, see the
/// module docs).
///
/// # Safety
/// `obj` is a live object whose strong count was just decremented to zero by
/// the caller, which owned that last strong reference; `ops` fits its type.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O) {
    let header = if ops.tracked(obj) {
        // SAFETY: I8: a tracked object has a header; L1: the object is
        // live (caller's contract) until this function frees it, after the
        // last use of the node.
        Some(unsafe { Node::of_counts(obj.counts) })
    } else {
        None
    };
    if let Some(h) = header {
        let hr: &Header = &h;
        // I5: cyclic trash, the collector owns it; once its value is
        // dropped, the last handle going away only frees it. (Tested as two
        // cases so that trash whose value is intact costs one test.)
        if hr.is_collecting() {
            if hr.is_dropped_trash() {
                // SAFETY: I5: dropped trash whose last strong handle the
                // caller just released.
                unsafe { free_dropped_trash(h, heap()) };
            }
            return;
        }
        if hr.is_zombie() {
            // SAFETY: I5: a zombie whose last strong handle the caller just
            // released.
            unsafe { free_dropped_trash(h, heap()) };
            return;
        }
    }
    let Some(heap) = heap() else {
        // SAFETY: I1, H1: forwarded; no heap means no trashcan and no registry.
        unsafe { destroy(obj, ops, None) };
        return;
    };
    let depth = heap.trash_depth.get();
    if depth >= TRASHCAN_LIMIT {
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
        return;
    }
    let restore = DepthGuard { heap, depth };
    heap.trash_depth.set(depth + 1);
    // SAFETY: I1: forwarded from the caller.
    unsafe { destroy(obj, ops, Some(heap)) };
    std::mem::forget(restore);
    heap.trash_depth.set(depth);
    if depth == 0 && heap.trash_pending.get() {
        drain_trashcan(heap);
    }
}

/// Free cyclic trash whose value `delete_garbage` has dropped and whose
/// strong count is 0, or a zombie whose last handle is gone (header I5):
/// unlink it from the collector's private list (a zombie is not linked),
/// run the weak callbacks registered on it since the collector took them
/// (by a `Drop` impl of the trash), release the implicit weak reference and
/// free the memory if no weak handle is left.
///
/// # Safety
/// I5: `h` is dropped trash or a zombie, its strong count is 0, and it is
/// freed once: no node of it is used afterwards (L1).
#[cold]
pub(crate) unsafe fn free_dropped_trash(h: Node, heap: Option<&'static Heap>) {
    debug_assert!(h.value_dropped());
    if h.is_linked() {
        list::remove(h);
    } else {
        h.clear_unlinked_prev(); // the zombie mark
    }
    let obj = h.obj();
    // SAFETY: I1: live object.
    let counts = unsafe { obj.counts() };
    debug_assert_eq!(counts.strong(), 0);
    if counts.has_flag(HAS_CALLBACKS) {
        clear_weak_handles_and_run_callbacks(obj, heap);
    }
    if counts.dec_weak() {
        // SAFETY: I1: strong 0, value dropped, unlinked: the implicit weak was the
        // last reference (I1).
        unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
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
#[cold]
#[inline(never)]
fn drain_trashcan(heap: &'static Heap) {
    loop {
        let untracked = heap.trash_untracked.borrow_mut().pop();
        if let Some(obj) = untracked {
            let _restore = DepthGuard { heap, depth: 0 };
            heap.trash_depth.set(1);
            // SAFETY: I1, I2: its last strong reference was dropped and nothing can
            // reach it (strong 0, upgrades fail); deferred exactly once.
            unsafe { destroy(obj, Erased, Some(heap)) };
            heap.trash_depth.set(0);
            continue;
        }
        let top = heap.trash_delete_later.get();
        if top == 0 {
            heap.trash_pending.set(false);
            break;
        }
        // SAFETY: L1: deferred objects are live (strong 0, value not
        // dropped, I1) until `destroy` below; `top` is one's address.
        let h = unsafe { Node::new(std::ptr::NonNull::new_unchecked(top as *mut Header)) };
        heap.trash_delete_later.set(h.take_deferred());
        let _restore = DepthGuard { heap, depth: 0 };
        heap.trash_depth.set(1);
        // SAFETY: I1, I2: the deferred object's last strong reference was dropped
        // and nothing else can reach it (strong is 0, upgrades fail).
        unsafe { destroy(h.obj(), Erased, Some(heap)) };
        heap.trash_depth.set(0);
    }
}

/// Finalize (maybe resurrect), clear weak handles, drop and free `obj`.
///
/// # Safety
/// As for [`release`]; the object is not linked into a collector-private list.
#[inline(always)]
unsafe fn destroy<O: DeathOps>(obj: ObjPtr, ops: O, heap: Option<&'static Heap>) {
    // SAFETY: I1: live object (caller's contract).
    let counts = unsafe { obj.counts() };
    let header = if ops.tracked(obj) {
        // SAFETY: I8: a tracked object has a header; L1: the object is
        // live (caller's contract) until this function frees it.
        Some(unsafe { Node::of_counts(obj.counts) })
    } else {
        None
    };
    // Untrack first (CPython's subtype_dealloc does too): while user code
    // runs below, the object has no strong count of its own and must not be
    // seen by a collection that finalizers or callbacks may start.
    if let Some(h) = header {
        if h.is_linked() {
            list::remove(h);
        }
    }
    let kind = ops.finalizer(obj);
    if kind != FinalizerKind::None
        && (kind == FinalizerKind::Legacy || !counts.has_flag(FINALIZED))
        // SAFETY: I1, I6: forwarded (live object, intact value, owned by us).
        && unsafe { finalize_at_death(obj, ops, header, heap, kind) }
    {
        return; // resurrected
    }
    // Fast path: only the implicit weak is left and no callback is
    // registered. Then nothing can reach the object any more (no handle of
    // any kind, unlinked), so nothing can observe WEAK_CLEARED: skip it and
    // the weak count's decrement. Dropping the value cannot create a handle
    // to it (that needs an existing one).
    let no_weak = counts.weak_word() & (WEAK_COUNT_MASK | HAS_CALLBACKS | WEAK_EPOCH) == 1;
    if !no_weak {
        clear_weak_handles_and_run_callbacks(obj, heap);
        if counts.has_flag(WEAK_EPOCH) {
            forget_epoch(obj);
        }
    }
    if header.is_some() {
        if let Some(heap) = heap {
            heap.note_dealloc();
        }
    }
    // SAFETY: I1, I2: strong is zero, upgrades fail (WEAK_CLEARED, or no weak handle
    // exists): nothing can observe the value any more; it is dropped exactly
    // once (I1).
    unsafe { ops.drop_value(obj) };
    if no_weak || counts.dec_weak() {
        // SAFETY: the implicit weak was the last reference (I1).
        unsafe { ops.dealloc(obj, heap) };
    }
}

/// Run the finalizer at refcount death (the caller checked that it must
/// run); returns whether it resurrected the object. Out of line: `destroy`
/// is inlined into every `release`, whose frame bounds the trashcan's stack
/// use (50 nested deaths on a 256 KiB stack, debug build included).
///
/// # Safety
/// As for [`destroy`].
#[inline(never)]
unsafe fn finalize_at_death<O: DeathOps>(
    obj: ObjPtr,
    ops: O,
    header: Option<Node>,
    heap: Option<&'static Heap>,
    kind: FinalizerKind,
) -> bool {
    // SAFETY: I1: live object (caller's contract).
    let counts = unsafe { obj.counts() };
    let legacy = kind == FinalizerKind::Legacy;
    if legacy {
        // CPython's subtype_dealloc clears the weakrefs (running their
        // callbacks) before `tp_del`, which runs at every refcount death
        // (I3): kill the handles alive now (I2); a resurrected object
        // starts a new epoch.
        super::weakepoch::bump(counts, obj.counts.as_ptr() as usize);
        clear_weak_handles_and_run_callbacks(obj, heap);
    }
    counts.set_flag(FINALIZED); // I3: before the call.
    counts.set_strong(1);
    run_reporting_panics(
        &|| format!("finalizer of {}", (obj.vtable.type_name)()),
        || {
            // SAFETY: I1, I6: the value is intact and we hold a strong reference.
            unsafe { ops.finalize(obj) }
        },
    );
    if counts.dec_strong() {
        return false;
    }
    // Resurrected: the object lives on, tracked again so that cycles
    // through it can still be collected. (A legacy one was cleared above:
    // handles made from now on work, I2.)
    if legacy {
        counts.clear_flag(WEAK_CLEARED);
    }
    if let (Some(h), Some(heap)) = (header, heap) {
        // Unlinked by `destroy`; tracked again with tag 0 (I7).
        if !h.is_linked() {
            list::track(h, heap.gen_head(0));
        }
    }
    true
}

/// The value is about to be dropped: its weak-epoch entry goes (I2).
#[cold]
#[inline(never)]
fn forget_epoch(obj: ObjPtr) {
    // SAFETY: I1: callers pass live objects.
    let counts = unsafe { obj.counts() };
    super::weakepoch::forget(counts, obj.counts.as_ptr() as usize);
}

/// Set [`WEAK_CLEARED`] and run the object's weak callbacks, newest first,
/// one at a time (a callback that drops another callback's handle cancels
/// it, since the entry is taken only when it is about to run).
#[inline(always)]
pub(crate) fn clear_weak_handles_and_run_callbacks(obj: ObjPtr, heap: Option<&'static Heap>) {
    // SAFETY: I1: callers pass live objects.
    let counts = unsafe { obj.counts() };
    counts.set_flag(WEAK_CLEARED);
    if counts.has_flag(HAS_CALLBACKS) {
        counts.clear_flag(HAS_CALLBACKS);
        if let Some(heap) = heap {
            run_callbacks_of(obj, heap);
        }
    }
}

#[cold]
#[inline(never)]
fn run_callbacks_of(obj: ObjPtr, heap: &'static Heap) {
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

impl Reclaim for Counts {
    unsafe fn release(obj: ObjPtr) {
        // SAFETY: I1: forwarded from the caller.
        unsafe { release(obj, Erased) }
    }
}
