//! The tracing contract: [`Trace`], [`Finalize`] and the opaque [`Tracer`].
//!
//! The collector never looks inside a value by itself. It asks the value to
//! *trace* itself: to call [`Trace::trace`] on every field that may own a
//! [`Gc`](crate::Gc) or [`Weak`](crate::Weak) handle. `#[derive(Trace)]` writes
//! that method for you; writing it by hand is `unsafe` because the collector's
//! soundness rests on it (see the contract on [`Trace`]).
//!
//! ```
//! use pygc::{Finalize, Gc, Trace};
//! use std::cell::{Cell, RefCell};
//!
//! #[derive(Trace)]
//! #[trace(finalize)]
//! struct Conn {
//!     peer: RefCell<Option<Gc<Conn>>>, // traced: an edge of the graph
//!     #[trace(skip)]
//!     closed: Cell<bool>,              // not traced
//! }
//!
//! impl Finalize for Conn {
//!     fn finalize(&self) {
//!         self.closed.set(true);       // runs once, before the value is dropped
//!     }
//! }
//!
//! let c = Gc::new(Conn { peer: RefCell::new(None), closed: Cell::new(false) });
//! *c.peer.borrow_mut() = Some(c.clone());
//! drop(c);
//! assert_eq!(pygc::gc::collect(), 1);
//! ```

use crate::heap::header::{ErasedType, Header, Node};

/// How a type's values are finalized. Written by `#[derive(Trace)]`; see
/// [`Trace::__gc_finalizer`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalizerKind {
    /// No finalizer: the value is dropped, nothing else runs.
    None,
    /// PEP 442 (`#[trace(finalize)]`): `Finalize::finalize` runs once, before
    /// the value is dropped, also for cyclic trash.
    Pep442,
    /// CPython's legacy `tp_del` (`#[trace(legacy_finalize)]`): runs at
    /// every refcount death, after the weak handles were cleared and their
    /// callbacks ran (as CPython's `subtype_dealloc`), but cyclic trash that
    /// reaches such an object is uncollectable and lands in `gc::garbage()`.
    Legacy,
}

/// A type-level recursion budget for [`Trace::__gc_tracked_with`].
#[doc(hidden)]
pub trait Fuel {
    /// One less.
    type Less: Fuel;
    /// No budget left.
    const EMPTY: bool;
}

/// An exhausted budget.
#[doc(hidden)]
pub struct FuelZero;

/// One more than `F`.
#[doc(hidden)]
pub struct FuelMore<F>(std::marker::PhantomData<F>);

impl Fuel for FuelZero {
    type Less = FuelZero;
    const EMPTY: bool = true;
}

impl<F: Fuel> Fuel for FuelMore<F> {
    type Less = F;
    const EMPTY: bool = false;
}

/// The budget `__gc_tracked` starts with: 12 levels of derived types.
#[doc(hidden)]
pub type FuelFull = FuelMore<
    FuelMore<
        FuelMore<
            FuelMore<
                FuelMore<
                    FuelMore<FuelMore<FuelMore<FuelMore<FuelMore<FuelMore<FuelMore<FuelZero>>>>>>>,
                >,
            >,
        >,
    >,
>;

/// The heap's type information, reachable from a value of a possibly
/// unsized type: every sized `Trace` type, `[T]` and `str` implement it,
/// and `dyn X` for any `X: Trace` gets it from its vtable (it is a
/// supertrait of [`Trace`]). Not a public API: do not implement or call it.
///
/// # Safety
///
/// [`__gc_erased`](TraceUnsized::__gc_erased) must describe the value's
/// concrete type exactly (it decides how the heap drops and frees it).
#[doc(hidden)]
pub unsafe trait TraceUnsized {
    /// The erased type of this value, for the per-thread heap (`sync ==
    /// false`) or the sync heap.
    #[doc(hidden)]
    fn __gc_erased(&self, sync: bool) -> ErasedType
    where
        Self: 'static;
}

/// A value the cycle collector can look inside.
///
/// # Safety
///
/// Implementing `Trace` by hand is `unsafe` because the collector trusts it.
/// `#[derive(Trace)]` upholds every rule below; prefer it. A manual
/// implementation must uphold (the crate's `// SAFETY:` comments cite the
/// rules as T1–T6):
///
/// 1. **T1: Report each owned edge at most once per call.** `trace` calls
///    [`Trace::trace`] on each field that can own a handle, once. Reporting a
///    handle twice, or reporting a handle the value does not own, makes the
///    collector subtract more references than exist: a reachable object could
///    look unreachable and be freed. (The collector detects a count that
///    would go below zero, prints a warning and frees nothing in that
///    collection, but it cannot detect every over-report.)
/// 2. **T2: Under-reporting is allowed, and leaks.** A handle that `trace` does not
///    report counts as a reference from outside the heap: its target is kept
///    alive (the cycle through it is never collected), never freed early.
/// 3. **T3: Do not mutate the object graph, allocate handles, drop handles, or
///    borrow a `RefCell` mutably in `trace`.** It runs while the collector's lists are in an intermediate
///    state. It must also not panic: a panic inside `trace` during a
///    collection aborts the process (the collector cannot safely continue).
/// 4. **T4: The answer must be stable while no user code runs**: the same value
///    reports the same handles each time it is traced within one collection,
///    unless a finalizer or callback changed it in between.
/// 5. **T5: `Drop` must not dereference handles, nor clone them or move them
///    out.** A type that owns handles must not read through them in its
///    `Drop` impl: when a cycle is collected its members are dropped in an
///    unspecified order, and a handle's target may already have been
///    dropped. Nor may its `Drop` clone a handle or move one out of the value
///    (into a thread-local, say): the target may be cyclic trash whose value
///    the collector is about to drop. Put such logic in [`Finalize`] instead
///    (the derive forbids `Drop` on derived types for this reason).
/// 6. **T6: [`Trace::__gc_tracked`] may only return `false` if no value of the
///    type ever owns a `Gc` or `Weak`.** (Returning `false` wrongly is still
///    not unsound — the handles count as outside references — but cycles
///    through such values are never collected.)
///
/// # Examples
///
/// ```
/// use pygc::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node {
///     name: String,
///     next: RefCell<Option<Gc<Node>>>,
/// }
///
/// let a = Gc::new(Node { name: "a".into(), next: RefCell::new(None) });
/// *a.next.borrow_mut() = Some(a.clone()); // a self-cycle
/// drop(a);
/// assert_eq!(pygc::gc::collect(), 1);
/// ```
///
/// A manual implementation forwards to each field:
///
/// ```
/// use pygc::{Gc, Trace, Tracer};
///
/// struct Pair(Gc<i32>, Gc<i32>);
///
/// // SAFETY: T1: reports each owned handle exactly once; T5: no `Drop`.
/// unsafe impl Trace for Pair {
///     fn trace(&self, tracer: &mut Tracer<'_>) {
///         self.0.trace(tracer);
///         self.1.trace(tracer);
///     }
/// }
/// # let _ = Gc::new(Pair(Gc::new(1), Gc::new(2)));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Trace`",
    label = "this type cannot be traced by the cycle collector",
    note = "derive it with `#[derive(Trace)]`, or mark the field `#[trace(skip)]` (its handles then count as outside references)"
)]
pub unsafe trait Trace: TraceUnsized {
    /// Report every handle this value owns to `tracer`, by calling `trace` on
    /// each field that may own one.
    fn trace(&self, tracer: &mut Tracer<'_>);

    /// Whether a value of this type may own a handle. `Gc<T>` of a type for
    /// which this is `false` is *untracked*: it never enters a generation list
    /// and costs the collector nothing (CPython's untracked atomic objects).
    /// Do not override this; override [`Trace::__gc_tracked_with`].
    #[doc(hidden)]
    #[inline(always)]
    fn __gc_tracked() -> bool
    where
        Self: Sized,
    {
        Self::__gc_tracked_with::<FuelFull>()
    }

    /// [`Trace::__gc_tracked`] with a type-level recursion budget `F`: a
    /// derived type answers `true` when `F` is exhausted, and asks its field
    /// types with `F::Less`, so mutually recursive types (`A` holds `Vec<B>`,
    /// `B` holds `Vec<A>`) terminate; containers pass `F` through. The
    /// derive computes it from the fields; the default is `true`.
    #[doc(hidden)]
    #[inline(always)]
    fn __gc_tracked_with<F: Fuel>() -> bool
    where
        Self: Sized,
    {
        true
    }

    /// The finalizer kind of the type, from `#[trace(finalize)]` or
    /// `#[trace(legacy_finalize)]`. Only the outermost type in a `Gc` matters.
    #[doc(hidden)]
    #[inline(always)]
    fn __gc_finalizer() -> FinalizerKind
    where
        Self: Sized,
    {
        FinalizerKind::None
    }

    /// Run the type's finalizer (`Finalize::finalize`) if it has one.
    #[doc(hidden)]
    #[inline(always)]
    fn __gc_finalize(&self) {}

    /// Trace every element of a slice of this type (what `[T]`, `Vec<T>`,
    /// `VecDeque<T>`, arrays and `SmallVec` call). The default traces the
    /// elements one by one; `Gc<T>` overrides it with a loop that counts
    /// runs of handles to one object eight at a time. Do not override this.
    #[doc(hidden)]
    #[inline(always)]
    fn __gc_trace_slice(slice: &[Self], tracer: &mut Tracer<'_>)
    where
        Self: Sized,
    {
        for v in slice {
            v.trace(tracer)
        }
    }
}

/// A finalizer: code that runs once, before the value is dropped, with the
/// whole value (and everything it points to) still intact.
///
/// Enable it with `#[trace(finalize)]` (PEP 442 semantics: runs for refcount
/// death and for cyclic trash, at most once per object, may resurrect) or
/// `#[trace(legacy_finalize)]` (CPython's `tp_del`: runs at every refcount
/// death, after the object's weak handles were cleared; cyclic trash reaching
/// such an object is uncollectable and appended to
/// [`gc::garbage`](crate::gc::garbage)). A finalizer resurrects its own object
/// with [`Gc::from_finalizing`](crate::Gc::from_finalizing).
///
/// Types that derive [`Trace`] may not implement `Drop`; `Finalize` is where
/// the "on destruction" logic goes.
///
/// # Examples
///
/// ```
/// use pygc::{Finalize, Gc, Trace};
/// use std::cell::Cell;
///
/// thread_local!(static DESTRUCTED: Cell<u32> = Cell::new(0));
///
/// #[derive(Trace)]
/// #[trace(finalize)]
/// struct Track;
///
/// impl Finalize for Track {
///     fn finalize(&self) {
///         DESTRUCTED.with(|d| d.set(d.get() + 1));
///     }
/// }
///
/// drop(Gc::new(Track));
/// assert_eq!(DESTRUCTED.with(Cell::get), 1);
/// ```
pub trait Finalize {
    /// Called once before the object is reclaimed. May read every handle the
    /// object owns (all of their targets are still alive), may store a handle
    /// somewhere (resurrection: the object then lives on and is never
    /// finalized again), and may panic (the panic is caught and reported on
    /// stderr; reclamation goes on).
    fn finalize(&self);
}

/// What the collector is doing while it traces (crate-private).
pub(crate) enum TraceMode<'a> {
    /// subtract_refs: decrement `gc_refs` of every collecting referent.
    SubtractRefs,
    /// move_unreachable's visit_reachable: rescue referents, append them to `young`.
    VisitReachable { young: Node },
    /// move_legacy_finalizer_reachable: move unreachable referents to `finalizers`.
    MoveToList { list: Node },
    /// The incremental mode's increment closure: take referents still in
    /// the pending space (tag `pending_tag`) into `increment`, with their
    /// `update_refs` done, and subtract the edges between the increment's
    /// objects (per-thread heap only).
    Closure { increment: Node, pending_tag: usize },
    /// handle_weakrefs: collect the weak handles with callbacks that trash
    /// owns, as (referent address, callback id).
    WeakHandles { ids: &'a mut Vec<(usize, u64)> },
    /// get_referrers: does the traced value own a handle to `target`?
    RefersTo { target: *const (), found: bool },
    /// get_referents and the debugging tools: every handle the value owns,
    /// tracked or not (the caller holds the value, so they stay live).
    Edges {
        out: &'a mut Vec<crate::heap::header::ObjPtr>,
    },
}

/// The visitor handed to [`Trace::trace`].
///
/// It is opaque: a `trace` implementation only passes it on, by calling
/// `trace(tracer)` on its fields. The collector decides what a visit does.
///
/// # Examples
///
/// ```
/// use pygc::{Gc, Trace, Tracer};
///
/// /// Holds handles in a container the crate has no impl for.
/// struct Slots { slots: Box<[Option<Gc<Slots>>; 4]> }
///
/// // SAFETY: T1: reports each owned handle once; T5: no `Drop`.
/// unsafe impl Trace for Slots {
///     fn trace(&self, tracer: &mut Tracer<'_>) {
///         for slot in self.slots.iter().flatten() {
///             slot.trace(tracer);
///         }
///     }
/// }
///
/// let s = Gc::new(Slots { slots: Box::new([None, None, None, None]) });
/// assert!(Gc::is_tracked(&s));
/// ```
pub struct Tracer<'a> {
    /// The per-thread collector's hot modes, tested before `mode` is
    /// matched: [`FAST_SUBTRACT`], [`FAST_REACHABLE`], [`FAST_CLOSURE`] or
    /// [`FAST_NONE`].
    pub(crate) fast: u8,
    /// `young` of `VisitReachable`, or `increment` of `Closure`, for the
    /// fast path.
    pub(crate) young: *mut Header,
    /// `FAST_REACHABLE`: the header of the last target of a slice's last
    /// chunk (`Tracer::visit_reachable_slice`), which lets the next slice
    /// skip a chunk of repeats; null if none.
    pub(crate) run_target: *mut Header,
    /// `FAST_SUBTRACT`: the sum of the members' `gc_refs` (wrapping), kept
    /// by the fused first pass (a member's strong count added when it is
    /// first seen, each edge subtracted from a member taken off): 0 after
    /// the pass means no member is referenced from outside the set, so all
    /// of it is trash (`reachability::deduce_unreachable`'s shortcut). The
    /// wrapping sum is exact: the true one counts strong handles, each a
    /// word of memory, so it is below `usize::MAX`.
    pub(crate) refs: usize,
    /// `FAST_SUBTRACT` in the fused first pass: the generation being
    /// collected (objects tagged `<=` it are members, header I7);
    /// `FAST_CLOSURE`: the pending tag; else [`NOT_FUSED`].
    pub(crate) member_tag: usize,
    /// `FAST_SUBTRACT`: an object whose edges outnumbered its strong count
    /// (HAZARDS 1), recorded by `subtract_n` and reported by
    /// [`Tracer::report_over`] when the pass ends; null if none. Recorded,
    /// not reported at once: the report is a call, and a call inside the
    /// per-edge code makes every trace save and restore registers.
    pub(crate) over: *mut Header,
    /// `FAST_SIDE_COUNT`, `FAST_SIDE_REACH`: the running full collection's
    /// side table (`collector::side`, SD1): its first entry and its
    /// length; null and 0 otherwise.
    pub(crate) side: *mut u32,
    pub(crate) side_len: usize,
    /// Boxed: the slow path gets a pointer to it that is not derived from
    /// the tracer, so the compiler can keep `fast` and the tracer's other
    /// fields in registers across a loop over many handles (a `Vec<Gc<T>>`).
    ///
    /// `None` only in the copy [`Tracer::with_reachable`] makes for one
    /// object's trace: `fast` is `FAST_REACHABLE` there, which reads no
    /// mode (the visits that match on it find nothing to do).
    pub(crate) mode: Option<Box<TraceMode<'a>>>,
    /// The sync heap is collecting (else the per-thread heap, or a query).
    pub(crate) sync: bool,
}

/// `Tracer::fast`: the per-thread collector's `SubtractRefs`.
pub(crate) const FAST_SUBTRACT: u8 = 0;
/// `Tracer::fast`: the per-thread collector's `VisitReachable`.
pub(crate) const FAST_REACHABLE: u8 = 1;
/// `Tracer::member_tag` outside the fused first pass.
pub(crate) const NOT_FUSED: usize = usize::MAX;
/// `Tracer::fast`: anything else (match on `mode`).
pub(crate) const FAST_NONE: u8 = 2;
/// `Tracer::fast`: the incremental mode's increment closure (`Closure`).
pub(crate) const FAST_CLOSURE: u8 = 3;
/// `Tracer::fast`: a side-table full collection's first pass, which counts
/// each edge into its target's side-table entry (`collector::side`).
pub(crate) const FAST_SIDE_COUNT: u8 = 4;
/// `Tracer::fast`: a side-table full collection's `move_unreachable`
/// (`collector::side`); `young` is the collected list, `member_tag` the
/// survivors' generation tag.
pub(crate) const FAST_SIDE_REACH: u8 = 5;

impl<'a> Tracer<'a> {
    pub(crate) fn new(mode: TraceMode<'a>) -> Self {
        Tracer::for_heap(mode, false)
    }

    pub(crate) fn for_heap(mode: TraceMode<'a>, sync: bool) -> Self {
        let (fast, young, member_tag) = match (&mode, sync) {
            (TraceMode::SubtractRefs, false) => (FAST_SUBTRACT, std::ptr::null_mut(), NOT_FUSED),
            (TraceMode::VisitReachable { young }, false) => {
                (FAST_REACHABLE, young.as_ptr(), NOT_FUSED)
            }
            (
                TraceMode::Closure {
                    increment,
                    pending_tag,
                },
                false,
            ) => (FAST_CLOSURE, increment.as_ptr(), *pending_tag),
            _ => (FAST_NONE, std::ptr::null_mut(), NOT_FUSED),
        };
        Tracer {
            mode: Some(Box::new(mode)),
            sync,
            ..Tracer::bare(fast, young, member_tag)
        }
    }

    /// The mode of a tracer made by [`Tracer::for_heap`] (`None` in
    /// [`Tracer::with_reachable`]'s copy).
    #[inline(always)]
    pub(crate) fn mode_mut(&mut self) -> Option<&mut TraceMode<'a>> {
        self.mode.as_deref_mut()
    }

    /// A per-thread tracer in mode `fast` with no boxed mode, no slice run,
    /// a zero sum and no over-report: the local copies of `with_reachable`
    /// and `with_subtract` as they are, the base of `for_heap`'s.
    #[inline(always)]
    fn bare(fast: u8, young: *mut Header, member_tag: usize) -> Tracer<'a> {
        Tracer {
            fast,
            young,
            run_target: std::ptr::null_mut(),
            refs: 0,
            member_tag,
            over: std::ptr::null_mut(),
            side: std::ptr::null_mut(),
            side_len: 0,
            mode: None,
            sync: false,
        }
    }

    /// A tracer of a side-table full collection (`collector::side`): mode
    /// `fast` ([`FAST_SIDE_COUNT`] or [`FAST_SIDE_REACH`]) over the side
    /// table `side` of `side_len` entries; `young` and `tag` as
    /// `FAST_SIDE_REACH` uses them (the list and the survivors' tag).
    pub(crate) fn for_side(
        fast: u8,
        side: *mut u32,
        side_len: usize,
        young: *mut Header,
        tag: usize,
    ) -> Tracer<'a> {
        debug_assert!(fast == FAST_SIDE_COUNT || fast == FAST_SIDE_REACH);
        Tracer {
            side,
            side_len,
            ..Tracer::bare(fast, young, tag)
        }
    }

    /// Run `f` (one object's trace) with a copy of this `FAST_REACHABLE`
    /// tracer (the per-thread collector's `move_unreachable`) made here,
    /// whose fields the compiler sees whole: `fast` is a constant, so each
    /// inlined visit is `visit_reachable` alone (no test of the mode, no
    /// slow path that could call out), and the copy lives in registers
    /// (no call saves and restores them). What each edge does is what the
    /// tracer itself would do. The last target of a slice (`run_target`,
    /// which lets the next slice skip a chunk of repeats) starts empty for
    /// each object: `visit_reachable` is idempotent, so a repeat across two
    /// objects is visited again, which changes nothing (and costs less than
    /// carrying it over and back for every object that has no edge).
    #[inline(always)]
    pub(crate) fn with_reachable(&mut self, f: impl FnOnce(&mut Tracer<'a>)) {
        debug_assert!(self.fast == FAST_REACHABLE && !self.sync);
        let mut local = Tracer::bare(FAST_REACHABLE, self.young, NOT_FUSED);
        f(&mut local);
    }

    /// Run `f` (one object's trace) with a copy of this `FAST_SUBTRACT`
    /// tracer (the per-thread collector's `subtract_refs`), as
    /// [`Tracer::with_reachable`] does for `move_unreachable`: `fast` is a
    /// constant, so each inlined visit is `subtract_n` alone, and the copy
    /// lives in registers (no call saves and restores them: an
    /// over-reported edge is recorded in `over`, not reported). The copy
    /// starts with its own sum; at the end its sum and any over-reported
    /// object go back to this tracer.
    #[inline(always)]
    pub(crate) fn with_subtract(&mut self, f: impl FnOnce(&mut Tracer<'a>)) {
        debug_assert!(self.fast == FAST_SUBTRACT && !self.sync);
        let mut local = Tracer::bare(FAST_SUBTRACT, std::ptr::null_mut(), self.member_tag);
        f(&mut local);
        self.refs = self.refs.wrapping_add(local.refs);
        if !local.over.is_null() {
            self.over = local.over;
        }
    }

    /// Run `f` (one object's trace) with a copy of this side-table tracer
    /// whose mode is the constant `FAST` ([`FAST_SIDE_COUNT`] or
    /// [`FAST_SIDE_REACH`], this tracer's), as [`Tracer::with_subtract`]
    /// and [`Tracer::with_reachable`] do; the copy's count of edges goes
    /// back to this tracer (none in `FAST_SIDE_REACH`).
    #[inline(always)]
    pub(crate) fn with_side<const FAST: u8>(&mut self, f: impl FnOnce(&mut Tracer<'a>)) {
        debug_assert!(self.fast == FAST && !self.sync);
        let mut local =
            Tracer::for_side(FAST, self.side, self.side_len, self.young, self.member_tag);
        f(&mut local);
        self.refs = self.refs.wrapping_add(local.refs);
    }

    /// A `RefCell` (or lock) could not be borrowed: its content is not
    /// reported, so what it holds counts as referenced from outside for this
    /// collection (HAZARDS 3). Nothing else to record: the missing edges are
    /// the whole mechanism.
    #[inline(always)]
    pub(crate) fn note_borrowed_cell(&mut self) {}
}

impl std::fmt::Debug for Tracer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").finish_non_exhaustive()
    }
}
