//! The tracer's visits: what one edge does in each [`TraceMode`], the
//! per-edge halves of `subtract_refs` (CPython's `visit_decref`) and
//! `move_unreachable` (`visit_reachable`), and the queries of the `gc` and
//! `debug` modules.

use super::heap::CollectorHeap;
use super::side_visit::{visit_side_count, visit_side_reach};
use crate::heap::dst::{has_header, is_thin, obj_of};
use crate::heap::header::{GcBox, Header, Node, HEADER_SIZE};
use crate::heap::list;
use crate::trace::{
    Trace, TraceMode, Tracer, FAST_CLOSURE, FAST_REACHABLE, FAST_SIDE_COUNT, FAST_SIDE_REACH,
    FAST_SUBTRACT, NOT_FUSED,
};
use crate::types::NUM_GENERATIONS;
use std::ptr::NonNull;

/// Trace the object of `header` with `tracer` — unless `Gc::get_mut` may
/// have a `&mut` to its value live (MUT_EXPOSED, header I6): then it
/// reports nothing, and what it holds counts as referenced from outside.
#[inline(always)]
pub(crate) fn trace_object<H: CollectorHeap>(header: Node, tracer: &mut Tracer<'_>) {
    if H::mut_exposed(header.obj()) {
        return;
    }
    trace_value(header, tracer)
}

/// Trace without the MUT_EXPOSED check (the caller made it).
#[inline(always)]
pub(super) fn trace_value(header: Node, tracer: &mut Tracer<'_>) {
    let obj = header.obj();
    // SAFETY: I5, I6: objects on the collector's lists have live, undropped values
    // (values are only dropped in delete_garbage, after the last trace).
    unsafe { (obj.vtable.trace)(obj.counts, tracer) }
}

/// [`trace_object`] for the per-thread collector's `move_unreachable`
/// (`tracer` is `FAST_REACHABLE`): through the vtable's `trace_reachable`,
/// which visits each edge on a copy of the tracer whose mode is a constant
/// (`Tracer::with_reachable`).
#[inline(always)]
pub(super) fn trace_object_reachable<H: CollectorHeap>(header: Node, tracer: &mut Tracer<'_>) {
    debug_assert!(!H::SYNC && tracer.fast == FAST_REACHABLE);
    if H::mut_exposed(header.obj()) {
        return;
    }
    let obj = header.obj();
    // SAFETY: I5, I6: as in `trace_value`: a live, undropped value; the
    // tracer is `FAST_REACHABLE`, the entry's one mode.
    unsafe { (obj.vtable.trace_reachable)(obj.counts, tracer) }
}

/// [`trace_value`] for the per-thread collector's `subtract_refs`
/// (`tracer` is `FAST_SUBTRACT`; the caller made the MUT_EXPOSED check):
/// through the vtable's `trace_subtract`, which visits each edge on a copy
/// of the tracer whose mode is a constant (`Tracer::with_subtract`).
#[inline(always)]
pub(super) fn trace_value_subtract(header: Node, tracer: &mut Tracer<'_>) {
    debug_assert!(!tracer.sync && tracer.fast == FAST_SUBTRACT);
    let obj = header.obj();
    // SAFETY: I5, I6: as in `trace_value`: a live, undropped value; the
    // tracer is `FAST_SUBTRACT`, the entry's one mode.
    unsafe { (obj.vtable.trace_subtract)(obj.counts, tracer) }
}

/// Aborts the process if dropped during unwinding: a `Trace` impl panicked
/// while the lists were being rewritten (HAZARDS 4). A collection may start
/// while the thread is already unwinding (a finalizer run by a drop during
/// a panic): only a panic that began inside the guarded section counts.
pub(super) struct AbortOnPanic {
    was_panicking: bool,
}

impl AbortOnPanic {
    pub(super) fn new() -> Self {
        AbortOnPanic {
            was_panicking: std::thread::panicking(),
        }
    }
}

impl Drop for AbortOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.was_panicking {
            eprintln!(
                "gc: a Trace::trace implementation panicked during a collection; \
                 the collector cannot continue safely, aborting"
            );
            std::process::abort();
        }
    }
}

// ---------------------------------------------------------------------------
// Tracer visits
// ---------------------------------------------------------------------------

impl Tracer<'_> {
    /// Visit a strong handle (`Gc<T>`), given as its box pointer: the
    /// collector layer names no handle type.
    ///
    /// # Safety
    /// `gc` is the pointer of a strong handle that the traced value owns
    /// (so its object is live, I1) and that stays put while this runs.
    #[inline(always)]
    pub(crate) unsafe fn visit_gc<T: ?Sized + Trace + 'static>(&mut self, gc: NonNull<GcBox<T>>) {
        // SAFETY: the caller's handle keeps the object alive (I1).
        let has_header = || unsafe { has_header(gc) };
        // The per-thread collector's hot paths first.
        if self.fast == FAST_SUBTRACT || self.fast == FAST_SIDE_COUNT {
            if has_header() {
                // SAFETY: I8: it has a header; L1: the caller's handle keeps
                // the object allocated (I1).
                let target = unsafe { Node::of_counts(gc.cast()) };
                self.subtract(target, 1);
            }
            return;
        }
        if self.fast == FAST_REACHABLE {
            if has_header() {
                // SAFETY: I8: it has a header; L1: the caller's handle keeps
                // the object allocated (I1).
                let target = unsafe { Node::of_counts(gc.cast()) };
                // SAFETY: L1: set from the `young` list head of this
                // collection, which outlives the tracer.
                let young = unsafe { Node::new(NonNull::new_unchecked(self.young)) };
                visit_reachable(target, young);
            }
            return;
        }
        if self.fast == FAST_CLOSURE {
            if has_header() {
                // SAFETY: I8: it has a header; L1: the caller's handle keeps
                // the object allocated (I1).
                let target = unsafe { Node::of_counts(gc.cast()) };
                visit_closure_cold(self.young, self.member_tag, target);
            }
            return;
        }
        if self.fast == FAST_SIDE_REACH {
            if has_header() {
                // SAFETY: I8: it has a header; L1: the caller's handle keeps
                // the object allocated (I1).
                let target = unsafe { Node::of_counts(gc.cast()) };
                // SAFETY: SD1: this tracer's table and list are the running
                // side-table collection's.
                unsafe {
                    visit_side_reach(
                        self.side,
                        self.side_len,
                        target,
                        self.young,
                        self.member_tag,
                    )
                };
            }
            return;
        }
        // Only the mode escapes to the slow path: the compiler may then keep
        // `fast` (and the run) in registers across a loop over many handles.
        let sync = self.sync;
        if let Some(mode) = self.mode_mut() {
            // SAFETY: I1: forwarded from the caller.
            unsafe { visit_gc_slow(mode, sync, gc) }
        }
    }

    /// Visit a slice of strong handles (`Vec<Gc<T>>` and friends). In the
    /// two hot modes, eight handles at a time are compared with the current
    /// run's target: a chunk that is all the same object (a list holding one
    /// handle many times, pyperformance's `gc_traversal`) is one addition in
    /// `FAST_SUBTRACT` ([`Tracer::subtract_slice`]) and nothing in
    /// `FAST_REACHABLE` ([`Tracer::visit_reachable_slice`]); the comparison
    /// vectorises. Other modes go through [`Tracer::visit_gc`] one handle at
    /// a time. Each edge is reported exactly once either way.
    ///
    /// # Safety
    /// As for [`Tracer::visit_gc`], for every pointer of `handles`.
    #[inline(always)]
    pub(crate) unsafe fn visit_gc_slice<T: ?Sized + Trace + 'static>(
        &mut self,
        handles: &[NonNull<GcBox<T>>],
    ) {
        let counting = self.fast == FAST_SUBTRACT || self.fast == FAST_SIDE_COUNT;
        // Handles to unsized values may differ in trackedness (I8): one by
        // one. For a sized `T` the first handle's answer is the static one.
        // SAFETY: the caller's handles keep their objects alive (I1).
        let same_type =
            is_thin::<T>() && handles.first().is_some_and(|&gc| unsafe { has_header(gc) });
        let reaching = self.fast == FAST_REACHABLE || self.fast == FAST_SIDE_REACH;
        if !same_type || !(counting || reaching) {
            for &gc in handles {
                // SAFETY: I1: forwarded from the caller.
                unsafe { self.visit_gc(gc) };
            }
            return;
        }
        if !counting {
            // SAFETY: I1: forwarded from the caller; `same_type`.
            unsafe { self.visit_reachable_slice(handles) };
            return;
        }
        // SAFETY: I1: forwarded from the caller; `same_type`.
        unsafe { self.subtract_slice(handles) };
    }

    /// [`Tracer::visit_gc_slice`] in `FAST_SUBTRACT`: consecutive handles
    /// to one object (a run) are subtracted at once, when the run ends; a
    /// chunk of eight handles equal to the run's is one addition (compared
    /// at once, which vectorises). The run ends with the slice, so each
    /// object's edges are subtracted exactly once either way, and nothing
    /// is pending when the slice is done.
    ///
    /// # Safety
    /// As for [`Tracer::visit_gc`], for every pointer of `handles`, each of
    /// which has a header (`visit_gc_slice`'s `same_type`).
    #[inline(always)]
    unsafe fn subtract_slice<T: ?Sized + Trace + 'static>(
        &mut self,
        handles: &[NonNull<GcBox<T>>],
    ) {
        const CHUNK: usize = 8;
        let Some((&first, rest)) = handles.split_first() else {
            return;
        };
        // The run: one of its handles and its length. Handles are only
        // compared (by address) until the run is subtracted.
        let mut run = (first, 1);
        let mut chunks = rest.chunks_exact(CHUNK);
        for chunk in &mut chunks {
            if chunk
                .iter()
                .all(|&gc| gc.cast::<u8>() == run.0.cast::<u8>())
            {
                run.1 += CHUNK;
                continue;
            }
            for &gc in chunk {
                self.extend_run(&mut run, gc);
            }
        }
        for &gc in chunks.remainder() {
            self.extend_run(&mut run, gc);
        }
        // SAFETY: I8: `same_type`: it has a header; L1: the caller's handle
        // keeps the object allocated (I1).
        self.subtract(unsafe { Node::of_counts(run.0.cast()) }, run.1);
    }

    /// One handle of [`Tracer::subtract_slice`]: it lengthens the run
    /// (`run`: its handle and length), or ends it (subtracted) and starts
    /// its own.
    #[inline(always)]
    fn extend_run<T: ?Sized + Trace + 'static>(
        &mut self,
        run: &mut (NonNull<GcBox<T>>, usize),
        gc: NonNull<GcBox<T>>,
    ) {
        if gc.cast::<u8>() == run.0.cast::<u8>() {
            run.1 += 1;
        } else {
            // SAFETY: I8: `subtract_slice`'s handles have headers
            // (`same_type`); L1: the traced value's handle keeps the object
            // allocated (I1).
            self.subtract(unsafe { Node::of_counts(run.0.cast()) }, run.1);
            *run = (gc, 1);
        }
    }

    /// [`Tracer::visit_gc_slice`] in `FAST_REACHABLE`: a handle equal to
    /// the last one visited is skipped, and so is a chunk of eight of them
    /// (compared at once). visit_reachable is idempotent (after one visit
    /// the target is scanned, or rescued with gc_refs >= 1, and stays
    /// reachable), so the skips are exact. `visit_gc` itself keeps no such
    /// run in this mode: a single handle (a struct field, the chain's one
    /// edge) has no repeat to skip, and the test cost every edge. The last
    /// target is kept in `run_target` for the next slice.
    ///
    /// # Safety
    /// As for [`Tracer::visit_gc`], for every pointer of `handles`, each of
    /// which has a header (`visit_gc_slice`'s `same_type`).
    #[inline(always)]
    unsafe fn visit_reachable_slice<T: ?Sized + Trace + 'static>(
        &mut self,
        handles: &[NonNull<GcBox<T>>],
    ) {
        const CHUNK: usize = 8;
        // Handles point HEADER_SIZE past their object's header; with no
        // run yet (null) this matches no handle. Addresses are only
        // compared, never read.
        let mut last = (self.run_target as usize).wrapping_add(HEADER_SIZE);
        let mut chunks = handles.chunks_exact(CHUNK);
        for chunk in &mut chunks {
            if chunk
                .iter()
                .all(|gc| gc.cast::<u8>().as_ptr() as usize == last)
            {
                continue;
            }
            for &gc in chunk {
                let addr = gc.cast::<u8>().as_ptr() as usize;
                if addr != last {
                    last = addr;
                    // SAFETY: I1: forwarded from the caller.
                    unsafe { self.visit_gc(gc) };
                }
            }
        }
        for &gc in chunks.remainder() {
            let addr = gc.cast::<u8>().as_ptr() as usize;
            if addr != last {
                last = addr;
                // SAFETY: I1: forwarded from the caller.
                unsafe { self.visit_gc(gc) };
            }
        }
        self.run_target = last.wrapping_sub(HEADER_SIZE) as *mut Header;
    }

    /// `n` edges to `target` in `FAST_SUBTRACT` ([`subtract_n`] with this
    /// tracer's tag, sum and over-report record) or `FAST_SIDE_COUNT`
    /// (counted into the target's side-table entry, and into `refs`, the
    /// pass's count of edges).
    #[inline(always)]
    fn subtract(&mut self, target: Node, n: usize) {
        if self.fast == FAST_SIDE_COUNT {
            // SAFETY: SD1: this tracer's table is the running side-table
            // collection's.
            unsafe { visit_side_count(self.side, self.side_len, target, n) };
            self.refs = self.refs.wrapping_add(n);
        } else {
            subtract_n(target, n, self.member_tag, &mut self.refs, &mut self.over);
        }
    }

    /// Report the object [`subtract_n`] found over-reported in this
    /// `FAST_SUBTRACT` pass, if any (HAZARDS 1): the rest of the collection
    /// is then conservative. Called when the pass ends, before anything
    /// reads `OVER_REPORTED`.
    pub(crate) fn report_over(&mut self) {
        if let Some(target) = NonNull::new(std::mem::replace(&mut self.over, std::ptr::null_mut()))
        {
            // SAFETY: L1: recorded by `subtract_n` in this pass from a member
            // of the collected set, which stays allocated until the
            // collection's delete step.
            over_reported(unsafe { Node::new(target) });
        }
    }

    /// Visit a strong handle of the sync heap. Only the sync collector
    /// follows it: for the per-thread collector a sync object is outside the
    /// collected set (and its header belongs to another lock domain).
    ///
    /// # Safety
    /// `counts` are the counts of a sync-heap object that a strong handle
    /// the traced value owns keeps alive (I1); `tracked` says whether it has
    /// a header (I8).
    #[inline(always)]
    pub(crate) unsafe fn visit_sync(
        &mut self,
        counts: NonNull<crate::heap::header::Counts>,
        tracked: bool,
    ) {
        let sync = self.sync;
        let Some(mode) = self.mode_mut() else {
            // `Tracer::with_reachable`'s copy: per-thread, a sync object is
            // outside the set.
            return;
        };
        match mode {
            TraceMode::RefersTo { target, found } => {
                if counts.as_ptr() as *const () == *target {
                    *found = true;
                }
            }
            TraceMode::Edges { .. } => {}
            _ => {
                if tracked && sync {
                    // SAFETY: I8 (`tracked`) and L1 (the owning handle keeps
                    // it allocated, I1): the caller's contract.
                    visit_tracked(mode, unsafe { Node::of_counts(counts) });
                }
            }
        }
    }

    /// Visit a weak handle to the object at `referent` (its registry key)
    /// that owns callback `callback` (only `handle_weakrefs` cares).
    /// Returns whether the handle must clear itself: in `handle_weakrefs`'
    /// walk, whose objects are all cyclic trash (CPython clears every
    /// weakref object in the unreachable set, bpo-38006).
    #[inline(always)]
    pub(crate) fn visit_weak(&mut self, referent: usize, callback: Option<u64>) -> bool {
        if let Some(TraceMode::WeakHandles { ids }) = self.mode_mut() {
            if let Some(id) = callback {
                ids.push((referent, id));
            }
            return true;
        }
        false
    }
}

/// An increment's edge to `target` (`FAST_CLOSURE`; `increment` and
/// `pending_tag` are the tracer's `young` and `member_tag`). Out of line
/// and `#[cold]`: the hint keeps the compiler from testing this mode before
/// the two hot modes in every inlined visit (it did: 8 instructions more
/// per node in a full collection of workload c's live tree). Given the
/// fields, not the tracer, so that no pointer to the tracer escapes
/// (`Tracer::with_reachable`'s copy stays in registers).
#[cold]
#[inline(never)]
fn visit_closure_cold(increment: *mut Header, pending_tag: usize, target: Node) {
    // SAFETY: L1: set from the increment's list head, which outlives the
    // tracer (`form_increment`).
    let increment = unsafe { Node::new(NonNull::new_unchecked(increment)) };
    visit_closure(target, increment, pending_tag);
}

/// The modes without a fast path, for a per-thread handle.
///
/// # Safety
/// As for [`Tracer::visit_gc`].
#[inline(never)]
pub(super) unsafe fn visit_gc_slow<T: ?Sized + Trace + 'static>(
    mode: &mut TraceMode<'_>,
    sync: bool,
    gc: NonNull<GcBox<T>>,
) {
    match mode {
        // SAFETY: the caller's strong handle: live, value intact (I8).
        TraceMode::Edges { out } => out.push(unsafe { obj_of(gc) }),
        TraceMode::RefersTo { target, found } => {
            if std::ptr::eq(gc.cast::<()>().as_ptr(), *target) {
                *found = true;
            }
        }
        _ => {
            // SAFETY: the caller's handle keeps the object alive (I1).
            if !sync && unsafe { has_header(gc) } {
                // SAFETY: I8: it has a header; L1: the caller's handle keeps
                // it allocated (I1).
                visit_tracked(mode, unsafe { Node::of_counts(gc.cast()) });
            }
        }
    }
}

/// One edge to a tracked object, for the modes that follow edges.
#[inline(always)]
pub(super) fn visit_tracked(mode: &mut TraceMode<'_>, target: Node) {
    let t = target;
    match mode {
        TraceMode::SubtractRefs => visit_decref(target),
        TraceMode::VisitReachable { young } => visit_reachable(target, *young),
        TraceMode::MoveToList { list: to } => {
            // CPython's visit_move.
            if t.is_collecting() {
                list::move_to(target, *to);
                t.clear_collecting();
            }
        }
        TraceMode::Closure {
            increment,
            pending_tag,
        } => visit_closure(target, *increment, *pending_tag),
        TraceMode::WeakHandles { .. } | TraceMode::Edges { .. } | TraceMode::RefersTo { .. } => {}
    }
}

/// The incremental mode's closure walk, one edge to `target` from an object
/// of the increment: `subtract_refs` for a target already taken
/// (COLLECTING: during `form_increment` only the increment's objects have
/// it, header I5); a target still in the pending space (linked, not
/// COLLECTING, tag `pending_tag`: its tag is its space, I7) is taken, with
/// its `update_refs` and this edge subtracted; anything else is outside
/// the increment.
#[inline(always)]
pub(super) fn visit_closure(target: Node, increment: Node, pending_tag: usize) {
    if target.is_collecting() {
        let refs = target.gc_refs();
        if refs == 0 {
            over_reported(target);
        } else {
            target.set_gc_refs(refs - 1);
        }
    } else if target.is_linked() && target.tag() == pending_tag {
        take_into_increment(target, increment, 1);
    }
}

/// The incremental mode: move `node` (linked, in the pending space, not
/// COLLECTING) to the tail of `increment` and do its `update_refs` there
/// (`gc_refs = strong`, COLLECTING set), which also marks it as taken, less
/// the `edges` from the increment that reached it (`subtract_refs`).
/// Afterwards `increment` is singly linked (`prev` holds counts), as
/// `update_refs` leaves a list; appending only reads the head's `prev`.
#[inline(always)]
pub(super) fn take_into_increment(node: Node, increment: Node, edges: usize) {
    list::move_to(node, increment);
    // SAFETY: I1: only the per-thread heap forms increments; its linked
    // objects are live and use plain `Counts`.
    let strong = unsafe { node.obj().counts() }.strong() as usize;
    if strong < edges {
        over_reported(node);
        node.reset_gc_refs(0);
    } else {
        node.reset_gc_refs(strong - edges);
    }
}

/// CPython's visit_decref: one edge to `target` from inside the collected
/// set.
#[inline(always)]
pub(super) fn visit_decref(target: Node) {
    let mut over = std::ptr::null_mut();
    subtract_n(target, 1, NOT_FUSED, &mut 0, &mut over);
    if !over.is_null() {
        over_reported(target);
    }
}

/// `n` edges to `target` from inside the collected set. In the fused first
/// pass (`member_tag != NOT_FUSED`, per-thread heap only) a target that is a
/// member not reached by the walk yet (linked, tag `<= member_tag`, header
/// I7) gets its `update_refs` here, on first sight.
///
/// `sum` is the sum of the members' `gc_refs` (`Tracer::refs`, wrapping),
/// kept up to date: `n` less for a member already counted, its strong
/// count less `n` more for one seen first, unchanged for an object outside
/// the set (and for an over-reported edge, which changes nothing).
///
/// An over-reported edge (HAZARDS 1) stores `target` in `over`, for the
/// caller to report ([`over_reported`]) once the trace is done: no call
/// here, so the inlined visits of a trace need no saved registers.
#[inline(always)]
pub(super) fn subtract_n(
    target: Node,
    n: usize,
    member_tag: usize,
    sum: &mut usize,
    over: &mut *mut Header,
) {
    let t = target;
    if t.is_collecting() {
        let refs = t.gc_refs();
        if refs < n {
            *over = target.as_ptr();
        } else {
            t.set_gc_refs(refs - n);
            *sum = sum.wrapping_sub(n);
        }
    } else if t.tag() < member_tag.wrapping_add(1) && t.is_linked() {
        // `tag <= member_tag`, and never for NOT_FUSED (`usize::MAX + 1`
        // wraps to 0): one comparison for both, the tag read from the word
        // `is_collecting` just read (checked before `is_linked`, which
        // reads the other link word; both must hold).
        // SAFETY: I4, I1: linked objects of the per-thread heap are live and use
        // plain `Counts`.
        let strong = unsafe { target.obj().counts() }.strong() as usize;
        if strong < n {
            *over = target.as_ptr();
            t.reset_gc_refs(0);
        } else {
            t.reset_gc_refs(strong - n);
            *sum = sum.wrapping_add(strong - n);
        }
    }
}

/// The end of a subtract pass for the objects it skipped as MUT_EXPOSED
/// (`Gc::get_mut` may have lent their values out, header I6): each whose
/// `gc_refs` is 0 (`unreferenced`) is only referenced from inside the
/// heap, so the `&mut` has ended: its flag is cleared and it is traced
/// (`trace`, which may make more of them unreferenced), until none is
/// left. Rare: a value lent by `Gc::get_mut`.
#[cold]
#[inline(never)]
pub(super) fn retry_skipped<H: CollectorHeap>(
    mut skipped: Vec<Node>,
    unreferenced: impl Fn(Node) -> bool,
    mut trace: impl FnMut(Node),
) {
    loop {
        let before = skipped.len();
        skipped.retain(|&node| {
            if unreferenced(node) {
                H::clear_flag(node.obj(), crate::heap::header::MUT_EXPOSED);
                trace(node);
                false
            } else {
                true
            }
        });
        if skipped.len() == before {
            break;
        }
    }
}

/// HAZARDS 1: a `Trace` impl reported more edges to `target` than it has
/// strong handles. Make the rest of this collection conservative.
#[cold]
pub(super) fn over_reported(target: Node) {
    let name = (target.vtable().type_name)();
    eprintln!(
        "gc: a Trace impl reported more references to a `{name}` than exist \
         (is the Trace impl correct?); this collection frees nothing"
    );
    OVER_REPORTED.with(|f| f.set(true));
}

thread_local! {
    pub(super) static OVER_REPORTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// CPython's visit_reachable (see move_unreachable).
#[inline(always)]
pub(super) fn visit_reachable(target: Node, young: Node) {
    let t = target;
    // Objects of other generations, and ones move_unreachable already
    // scanned, do not have COLLECTING.
    if !t.is_collecting() {
        return;
    }
    if t.is_tentatively_unreachable() {
        // Tentatively unreachable, but reachable after all: take it off the
        // unreachable list and append it to `young` with gc_refs = 1,
        // where move_unreachable will scan it again.
        list::rescue_to(target, young);
    } else if t.gc_refs() == 0 {
        // Still ahead in move_unreachable's scan: just mark it reachable.
        t.set_gc_refs(1);
    }
}

/// Whether a swept object is a member of the full collection's set: linked
/// (not memory kept by weak handles after a drop, a zombie, a deferred
/// death or a `new_cyclic` value being built: I4, I5) and, if the heap has
/// frozen objects (`FROZEN`), not one of them (the permanent generation,
/// I7).
#[inline(always)]
pub(super) fn is_member<const FROZEN: bool>(node: Node) -> bool {
    node.is_linked() && !(FROZEN && node.tag() > NUM_GENERATIONS - 1)
}
