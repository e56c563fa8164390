//! Refcount death, in CPython's order (`subtype_dealloc`), with the
//! trashcan: one core for both heaps, generic over [`DeathHeap`] (what the
//! per-thread heap and the sync heap do differently) and over
//! [`DeathOps`] (how a value is finalized, dropped and freed: through its
//! vtable or statically). std's `raw_rc` is the model: one body over a
//! counter trait ([`RefCounter`]).
//!
//! When the last strong handle of an object is dropped, [`release`] runs:
//!
//! 1. The heap may end the death at once ([`DeathHeap::ends_before_trashcan`]):
//!    on the per-thread heap, cyclic trash owned by a running collection
//!    ([`PREV_COLLECTING`](super::header::PREV_COLLECTING) still set, I5) is
//!    left to the collector, which drops and frees it (HAZARDS 11), and a
//!    zombie (or trash whose value the collector dropped) is freed. The sync
//!    heap reads those marks under its list lock, in
//!    [`DeathHeap::unlink_dying`].
//! 2. **Trashcan** (HAZARDS 5): past [`TRASHCAN_LIMIT`] nested deaths on
//!    a thread the object is deferred ([`DeathHeap::defer`]); the
//!    outermost death drains the deferred ones iteratively, so dropping a
//!    10-million-node chain uses bounded stack. Without a trashcan (thread
//!    exit, HAZARDS 9) the object is destroyed at once.
//! 3. [`destroy`]: unlink the object first (CPython's `subtype_dealloc` does
//!    too: while user code runs below, the object has no strong count of its
//!    own and must not be seen by a collection that finalizers or callbacks
//!    may start). Run `finalize` once if the type has a PEP 442 finalizer and
//!    the object is not yet [`FINALIZED`] (claimed with one read-modify-write,
//!    so two threads never both run it): the strong count is set to 1 for
//!    the call (weak handles can still upgrade, as in CPython), then released
//!    if it is still the only reference ([`RefCounter::release_if_last`]);
//!    otherwise the finalizer *resurrected* the object, which is tracked again
//!    and lives on (HAZARDS 6). A legacy finalizer (`tp_del`) runs at every
//!    refcount death, after its weak handles are killed (a new epoch, I2) and
//!    their callbacks have run; if it resurrects the object, handles made from
//!    then on work.
//! 4. Otherwise set [`WEAK_CLEARED`] (upgrades fail from now on), run the
//!    weak callbacks whose handles are alive, newest first, and forget the
//!    weak epoch (I2).
//! 5. Drop the value, release the implicit weak reference; free the memory
//!    if no weak handle is left.
//!
//! Panics in a finalizer or callback are caught and reported on stderr. A
//! panic in the value's own `Drop` (a skipped field's type) propagates; the
//! object is then leaked, never freed twice or half-freed.

use super::header::{
    Counts, GcBox, Node, ObjPtr, RefCounter, FINALIZED, HAS_CALLBACKS, WEAK_CLEARED,
    WEAK_COUNT_MASK, WEAK_EPOCH,
};
use super::weakcb::run_reporting_panics;
use super::Heap;
use crate::trace::{FinalizerKind, Trace};

/// Nesting depth past which deaths are deferred (CPython uses 50).
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

/// What differs between the heaps at refcount death. Implemented by the
/// per-thread heap (`Option<&'static Heap>`: `None` at thread exit) and by
/// the sync heap.
pub(crate) trait DeathHeap: Copy {
    /// The heap's reference counts.
    type Counts: RefCounter;
    /// A weak callback of the heap's registry.
    type Callback: FnOnce();

    /// The heap's out-of-line entry to [`release`] (a resurrection's
    /// finalizer reference may be the last one left).
    ///
    /// # Safety
    /// As for [`release`].
    unsafe fn release<O: DeathOps>(obj: ObjPtr, ops: O);
    /// The pool that [`DeathOps::dealloc`] may return the memory to.
    fn pool(self) -> Option<&'static Heap>;
    /// Whether the death of the tracked object `h` ends before the
    /// trashcan (step 1 of the module docs; the heap then did what was left).
    /// `not_trash`: the caller has seen that `h` is not cyclic trash of a
    /// running collection (no `PREV_COLLECTING`, I5), so only the other
    /// cases are left to test.
    ///
    /// # Safety
    /// `h` is the header of a live object whose last strong reference the
    /// caller just released.
    unsafe fn ends_before_trashcan(self, h: Node, not_trash: bool) -> bool;
    /// The calling thread's nesting depth of deaths; `None` if the thread
    /// has no trashcan any more (thread exit).
    fn trash_depth(self) -> Option<usize>;
    /// Set the calling thread's nesting depth.
    fn set_trash_depth(self, depth: usize);
    /// Defer the death of `obj` (`header` its header if tracked) and note
    /// that the trashcan holds something; `false` if it could not.
    fn defer(self, obj: ObjPtr, header: Option<Node>) -> bool;
    /// The next deferred object, if any.
    fn pop_deferred(self) -> Option<ObjPtr>;
    /// Whether something was deferred since the last drain.
    fn trash_pending(self) -> bool;
    /// The deferred deaths are drained.
    fn clear_trash_pending(self);
    /// Unlink the dying tracked object `obj` (header `h`) from wherever the
    /// heap keeps it; `false` if the death ends here.
    ///
    /// # Safety
    /// `h` is the header of the live object `obj`, whose last strong
    /// reference the calling thread released; the death is this thread's.
    unsafe fn unlink_dying(self, h: Node, obj: ObjPtr) -> bool;
    /// A tracked object dies for good: count the deallocation.
    fn note_dealloc(self);
    /// A finalizer resurrected the tracked object `obj` (header `h`, unlinked
    /// by this death unless a `track` linked it again): track it again.
    fn retrack(self, h: Node, obj: ObjPtr);
    /// Take the newest weak callback registered on the object at `addr`.
    fn pop_weak_callback(self, addr: usize) -> Option<Self::Callback>;
    /// Kill the weak handles of `obj` alive now: a new epoch (I2).
    fn bump_epoch(self, obj: ObjPtr);
    /// The value of `obj`, which has a weak epoch, is about to go: its
    /// epoch entry goes (I2).
    fn forget_epoch(self, obj: ObjPtr);
}

/// The strong count of `obj` just reached zero: reclaim it (or not, see the
/// module docs).
///
/// # Safety
/// `obj` is a live object of `heap` whose strong count was just decremented
/// to zero by the caller, which owned that last strong reference; `ops` fits
/// its type.
#[inline(always)]
pub(crate) unsafe fn release<H: DeathHeap, O: DeathOps>(heap: H, obj: ObjPtr, ops: O) {
    // SAFETY: forwarded from the caller.
    unsafe { release_checked(heap, obj, ops, false) }
}

/// [`release`] of an object that the caller has seen is not cyclic trash
/// (`not_trash`, see [`DeathHeap::ends_before_trashcan`]).
///
/// # Safety
/// As for [`release`]; with `not_trash`, the object is tracked and its
/// header has no `PREV_COLLECTING` (I5).
#[inline(always)]
pub(crate) unsafe fn release_checked<H: DeathHeap, O: DeathOps>(
    heap: H,
    obj: ObjPtr,
    ops: O,
    not_trash: bool,
) {
    let header = if ops.tracked(obj) {
        // SAFETY: I8: a tracked object has a header; L1: the object is
        // live (caller's contract) until its death frees it, after the last
        // use of the node.
        Some(unsafe { Node::of_counts(obj.counts) })
    } else {
        None
    };
    if let Some(h) = header {
        // SAFETY: I1: forwarded from the caller.
        if unsafe { heap.ends_before_trashcan(h, not_trash) } {
            return;
        }
    }
    let Some(depth) = heap.trash_depth() else {
        // SAFETY: I1, H1: forwarded; no trashcan at thread exit (HAZARDS 9).
        unsafe { destroy(heap, obj, ops) };
        return;
    };
    if depth >= TRASHCAN_LIMIT && heap.defer(obj, header) {
        return;
    }
    {
        let _restore = Depth { heap, depth };
        heap.set_trash_depth(depth + 1);
        // SAFETY: I1: forwarded from the caller.
        unsafe { destroy(heap, obj, ops) };
    }
    if depth == 0 && heap.trash_pending() {
        drain_trashcan(heap);
    }
}

/// Restores the trashcan depth, also when a value's `Drop` unwinds.
struct Depth<H: DeathHeap> {
    heap: H,
    depth: usize,
}

impl<H: DeathHeap> Drop for Depth<H> {
    #[inline(always)]
    fn drop(&mut self) {
        self.heap.set_trash_depth(self.depth);
    }
}

/// Destroy the deferred deaths of this thread one at a time, at depth 1.
#[cold]
#[inline(never)]
fn drain_trashcan<H: DeathHeap>(heap: H) {
    while let Some(obj) = heap.pop_deferred() {
        let _restore = Depth { heap, depth: 0 };
        heap.set_trash_depth(1);
        // SAFETY: I1, I2, S3: a deferred object's last strong reference was
        // dropped on this thread and nothing else can reach it (strong is 0,
        // upgrades fail); deferred exactly once.
        unsafe { destroy(heap, obj, Erased) };
    }
    heap.clear_trash_pending();
}

/// Unlink, finalize (maybe resurrect), clear weak handles, drop and free
/// `obj` (steps 3–5 of the module docs).
///
/// # Safety
/// As for [`release`]; the object is not linked into a collector-private list.
#[inline(always)]
pub(crate) unsafe fn destroy<H: DeathHeap, O: DeathOps>(heap: H, obj: ObjPtr, ops: O) {
    // SAFETY: I1: live object (caller's contract).
    let counts = unsafe { H::Counts::of(obj.counts) };
    let header = if ops.tracked(obj) {
        // SAFETY: I8: a tracked object has a header; L1: the object is
        // live (caller's contract) until this function frees it.
        Some(unsafe { Node::of_counts(obj.counts) })
    } else {
        None
    };
    if let Some(h) = header {
        // SAFETY: I1, S3: forwarded: this thread owns the death.
        if !unsafe { heap.unlink_dying(h, obj) } {
            return;
        }
    }
    let kind = ops.finalizer(obj);
    if kind != FinalizerKind::None
        && (kind == FinalizerKind::Legacy || !counts.has_flag(FINALIZED))
        // SAFETY: I1, I6: forwarded (live object, intact value, owned by us).
        && unsafe { finalize_at_death(heap, obj, ops, header, kind) }
    {
        return; // resurrected
    }
    // Fast path: only the implicit weak is left and no callback or epoch is
    // registered. Then nothing can reach the object any more (no handle of
    // any kind, unlinked; strong 0, and a new handle needs an existing one),
    // so nothing can observe WEAK_CLEARED: skip it and the weak count's
    // decrement. Dropping the value cannot create a handle to it. (Acquire
    // on the sync heap: the last weak handle's release happened before.)
    let no_weak = counts.weak_word() & (WEAK_COUNT_MASK | HAS_CALLBACKS | WEAK_EPOCH) == 1;
    if !no_weak {
        clear_weak_for_good(heap, obj);
    }
    if header.is_some() {
        heap.note_dealloc();
    }
    // SAFETY: I1, I2: strong is zero, upgrades fail (WEAK_CLEARED, or no weak
    // handle exists): nothing can observe the value any more; it is dropped
    // exactly once (I1).
    unsafe { ops.drop_value(obj) };
    if no_weak || counts.dec_weak() {
        // SAFETY: I1: the implicit weak was the last reference.
        unsafe { ops.dealloc(obj, heap.pool()) };
    }
}

/// Run the finalizer at refcount death (the caller checked that it may
/// have to run); returns whether it resurrected the object. Out of line:
/// `destroy` is inlined into every `release`, whose frame bounds the
/// trashcan's stack use (50 nested deaths on a 256 KiB stack, debug build
/// included).
///
/// # Safety
/// As for [`destroy`]; `header` is the object's header if it is tracked,
/// unlinked by this death.
#[inline(never)]
unsafe fn finalize_at_death<H: DeathHeap, O: DeathOps>(
    heap: H,
    obj: ObjPtr,
    ops: O,
    header: Option<Node>,
    kind: FinalizerKind,
) -> bool {
    // SAFETY: I1: live object (caller's contract).
    let counts = unsafe { H::Counts::of(obj.counts) };
    let legacy = kind == FinalizerKind::Legacy;
    if legacy {
        // CPython's subtype_dealloc clears the weakrefs (running their
        // callbacks) before `tp_del`, which runs at every refcount death
        // (I3): kill the handles alive now (I2); a resurrected object
        // starts a new epoch.
        heap.bump_epoch(obj);
        clear_weak_handles_and_run_callbacks(heap, obj);
    }
    // I3: claimed before the call, by one read-modify-write.
    if counts.test_and_set_flag(FINALIZED) && !legacy {
        return false;
    }
    counts.set_strong(1);
    run_reporting_panics(
        &|| format!("finalizer of {}", (obj.vtable.type_name)()),
        || {
            // SAFETY: I1, I6: the value is intact and we hold a strong reference.
            unsafe { ops.finalize(obj) }
        },
    );
    if counts.release_if_last() {
        return false;
    }
    // Resurrected (on the sync heap maybe by another thread's upgrade during
    // the call). This thread still holds the reference the finalizer ran
    // under, so no other death of the object can start while it is tracked
    // again, so that cycles through it can still be collected. (A legacy one
    // was cleared above: handles made from now on work, I2.)
    if legacy {
        counts.test_and_clear_flag(WEAK_CLEARED);
    }
    if let Some(h) = header {
        heap.retrack(h, obj);
    }
    if counts.dec_strong() {
        // The resurrecting handles are gone already (another thread's): a
        // new death, of a tracked object, owned by this thread.
        // SAFETY: I1: live, and we released its last strong reference.
        unsafe { H::release(obj, ops) };
    }
    true
}

/// Strong is 0 for ever and the value is about to leave (dropped, or moved
/// out by `try_unwrap`): kill the weak handles, run their callbacks and
/// forget the weak epoch (I2), whose table entry would outlive the object.
pub(crate) fn clear_weak_for_good<H: DeathHeap>(heap: H, obj: ObjPtr) {
    clear_weak_handles_and_run_callbacks(heap, obj);
    // SAFETY: I1: callers pass live objects.
    if unsafe { H::Counts::of(obj.counts) }.has_flag(WEAK_EPOCH) {
        forget_epoch(heap, obj);
    }
}

#[cold]
#[inline(never)]
fn forget_epoch<H: DeathHeap>(heap: H, obj: ObjPtr) {
    heap.forget_epoch(obj);
}

/// Set [`WEAK_CLEARED`] and run the object's weak callbacks, newest first,
/// one at a time (a callback that drops another callback's handle cancels
/// it, since the entry is taken only when it is about to run).
#[inline(always)]
pub(crate) fn clear_weak_handles_and_run_callbacks<H: DeathHeap>(heap: H, obj: ObjPtr) {
    // SAFETY: I1: callers pass live objects.
    let counts = unsafe { H::Counts::of(obj.counts) };
    counts.test_and_set_flag(WEAK_CLEARED);
    if counts.test_and_clear_flag(HAS_CALLBACKS) {
        run_callbacks_of(heap, obj);
    }
}

#[cold]
#[inline(never)]
fn run_callbacks_of<H: DeathHeap>(heap: H, obj: ObjPtr) {
    let addr = obj.counts.as_ptr() as usize;
    while let Some(callback) = heap.pop_weak_callback(addr) {
        let type_name = obj.vtable.type_name;
        run_reporting_panics(&|| format!("weak callback of {}", type_name()), callback);
    }
}
