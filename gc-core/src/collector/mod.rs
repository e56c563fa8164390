//! The generational cycle collector: CPython 3.12's `gc_collect_main`, phase
//! by phase, over the per-thread heap's lists.
//!
//! # The pipeline (see `DESIGN.md` for the why)
//!
//! ```text
//! collect_main(generation):
//!   merge younger generations into `young`
//!   update_refs(young)            gc_refs = strong, COLLECTING set
//!   subtract_refs(young)          gc_refs -= edges from inside `young`
//!   move_unreachable(young, unreachable)
//!   young survivors -> older generation
//!   move_legacy_finalizers(unreachable, finalizers)
//!   move_legacy_finalizer_reachable(finalizers)
//!   handle_weakrefs(unreachable)  clear, then callbacks of live weak handles
//!   finalize_garbage(unreachable) PEP 442, once per object
//!   handle_resurrected_objects(unreachable, final_unreachable, old)
//!   delete_garbage(final_unreachable, old)      drop, and free what is dead
//!   handle_legacy_finalizers(finalizers, old)   -> gc::garbage()
//! ```
//!
//! On the *lean path* (per-thread heap, no debug flags, no weak callbacks,
//! no PEP 442 type ever allocated on the heap) the three phases between
//! `move_unreachable` and `delete_garbage` have nothing to do and are
//! skipped, including the walk that sets `WEAK_CLEARED`: `Weak::upgrade`
//! refuses `COLLECTING` objects (header I2). User code still runs during
//! `delete_garbage` — `Drop` impls of trash values, finalizers and weak
//! callbacks of outside objects that die by refcount meanwhile — but none of
//! it can reach trash: no strong handle to trash exists outside trash, and
//! weak ones cannot upgrade (COLLECTING, then strong 0).
//!
//! # Contracts
//!
//! * Between `update_refs` and the end of `move_unreachable` no user code
//!   runs except `Trace::trace`; a panic there aborts the process
//!   (HAZARDS 4), because the lists are mid-rewrite.
//! * After `move_unreachable`, exactly the objects of `unreachable` (and
//!   later `final_unreachable`) carry `PREV_COLLECTING`; they are owned by
//!   the collector (header I5): a drop of their last strong handle does
//!   nothing, `get_mut`/`try_unwrap` refuse them, and they are on no
//!   generation list, so `gc::get_objects`/`get_referrers` never see them
//!   (HAZARDS 12).
//! * Weak handles to trash are cleared before any finalizer runs (HAZARDS 14);
//!   finalizers run before any value is dropped, so they see intact objects
//!   (HAZARDS 10); an object's memory is freed only after its own value is
//!   dropped and no strong handle to it is left (HAZARDS 11, header I5).
//! * A collection never nests: the heap's `collecting` flag is set for its
//!   duration, including the `gc` callbacks.
//!
//! # One core, two heaps
//!
//! The phases are generic over [`CollectorHeap`]: how an object's counts are
//! read and written (plain cells for the per-thread heap, atomics for the
//! sync heap), where the generation bookkeeping lives, and how the world is
//! stopped. The per-thread heap's `stop_world`/`resume_world` do nothing;
//! the sync heap's stop every mutator that could change an edge or a list
//! (see `sync`'s module docs). The world is stopped for phases 1–4 and the
//! weak-clearing half of phase 5, released while user code runs (callbacks,
//! finalizers), stopped again for phase 7, and released for phase 8: user
//! code never runs while the world is stopped (HAZARDS 18).

use crate::gc::{CollectionInfo, DebugFlags, Phase};
use crate::handle::strong::Gc;
use crate::heap::header::{
    counts_to_header, Header, ObjPtr, FINALIZED, HAS_CALLBACKS, HEADER_SIZE, MUT_EXPOSED,
    NEXT_UNREACHABLE, PREV_DROPPED, PREV_FLAGS, TAG_PERMANENT, WEAK_CLEARED,
};
use crate::heap::list::{self, List};
use crate::heap::weakcb::{run_reporting_panics, Entry};
use crate::heap::NUM_GENERATIONS;
use crate::trace::{
    FinalizerKind, Trace, TraceMode, Tracer, FAST_REACHABLE, FAST_SUBTRACT, NOT_FUSED,
};
use std::collections::HashSet;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

/// What the collector needs from a heap (per-thread or sync).
///
/// # Contract
/// Implementations guarantee that while the world is stopped
/// ([`CollectorHeap::stop_world`] .. [`CollectorHeap::resume_world`]) no
/// other thread links, unlinks or reads list headers, changes a traced
/// edge, upgrades a weak handle or starts a refcount death; and that
/// [`CollectorHeap::lock_lists`] excludes list changes by other threads.
pub(crate) trait CollectorHeap {
    /// Whether this is the sync heap (its objects are visited through
    /// `sync::Gc` handles; the per-thread heap's through `Gc`).
    const SYNC: bool;
    /// A weak callback (`Box<dyn FnOnce()>`, `+ Send` for sync).
    type Callback: FnOnce();
    /// Proof that the lists are locked (`()` for the per-thread heap).
    type ListGuard<'a>
    where
        Self: 'a;

    fn gen_head(&self, generation: usize) -> NonNull<Header>;
    fn permanent_head(&self) -> NonNull<Header>;
    fn lock_lists(&self) -> Self::ListGuard<'_>;
    fn stop_world(&self);
    fn resume_world(&self);

    /// The object's strong count.
    fn strong(obj: ObjPtr) -> u32;
    fn inc_strong(obj: ObjPtr);
    /// Decrement; `true` if it reached zero.
    fn dec_strong(obj: ObjPtr) -> bool;
    fn has_flag(obj: ObjPtr, flag: u32) -> bool;
    /// Whether `Gc::get_mut` may have lent out the value (header I6);
    /// always false for the sync heap.
    fn mut_exposed(obj: ObjPtr) -> bool;
    fn set_flag(obj: ObjPtr, flag: u32);
    fn clear_flag(obj: ObjPtr, flag: u32);
    /// Release one weak reference; `true` if none is left.
    fn dec_weak(obj: ObjPtr) -> bool;

    /// Whether any weak callback is registered at all.
    fn has_weak_callbacks(&self) -> bool;
    /// Whether an object of a type with a legacy finalizer may be on the
    /// heap (if not, phase 4 is skipped).
    fn may_hold_legacy_finalizers(&self) -> bool;
    /// Whether an object of a type with a PEP 442 finalizer may be on the
    /// heap (if not, and nothing else needs it, the lean path skips the
    /// weak-clearing walk).
    fn may_hold_pep442_finalizers(&self) -> bool;
    /// Free trash whose value `delete_garbage` dropped and whose strong
    /// count is 0 (header I5). Only called when `!SYNC`.
    fn free_dropped_trash(&self, node: NonNull<Header>);
    /// Take every weak callback registered for `obj`, oldest first.
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<Entry<Self::Callback>>;
    /// Refcount-death style: clear, then run `obj`'s callbacks one by one.
    fn run_weak_callbacks(&self, obj: ObjPtr);
    /// Append new strong handles to `objs` to `gc.garbage`.
    fn save_garbage(&self, objs: Vec<ObjPtr>);

    fn debug(&self) -> DebugFlags;
    /// Counter updates at the start of a collection of `generation`.
    fn begin_collection(&self, generation: usize);
    fn add_long_lived_pending(&self, survivors: usize);
    fn set_long_lived(&self, total: usize);
    /// `n` tracked objects were freed: `count[0] -= n`, never below zero.
    fn note_deallocs(&self, n: usize);
    fn record_stats(&self, generation: usize, collected: usize, uncollectable: usize);
}

#[inline(always)]
fn hdr<'a>(p: NonNull<Header>) -> &'a Header {
    // SAFETY: the collector only handles headers of live objects on its
    // lists (list module contract).
    unsafe { p.as_ref() }
}

/// Trace the object of `header` with `tracer` — unless `Gc::get_mut` may
/// have a `&mut` to its value live (MUT_EXPOSED, header I6): then it
/// reports nothing, and what it holds counts as referenced from outside.
#[inline(always)]
pub(crate) fn trace_object<H: CollectorHeap>(header: NonNull<Header>, tracer: &mut Tracer<'_>) {
    if H::mut_exposed(Header::obj(header)) {
        return;
    }
    trace_value(header, tracer)
}

/// Trace without the MUT_EXPOSED check (the caller made it).
#[inline(always)]
fn trace_value(header: NonNull<Header>, tracer: &mut Tracer<'_>) {
    let obj = Header::obj(header);
    // SAFETY: objects on the collector's lists have live, undropped values
    // (values are only dropped in delete_garbage, after the last trace).
    unsafe { (obj.vtable.trace)(obj.counts, tracer) }
}

/// Aborts the process if dropped during unwinding: a `Trace` impl panicked
/// while the lists were being rewritten (HAZARDS 4). A collection may start
/// while the thread is already unwinding (a finalizer run by a drop during
/// a panic): only a panic that began inside the guarded section counts.
struct AbortOnPanic {
    was_panicking: bool,
}

impl AbortOnPanic {
    fn new() -> Self {
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
    /// Visit a strong handle.
    #[inline(always)]
    pub(crate) fn visit_gc<T: Trace + 'static>(&mut self, gc: &Gc<T>) {
        // The per-thread collector's hot paths first.
        if self.fast == FAST_SUBTRACT {
            if T::__gc_tracked() {
                let target = counts_to_header(gc.ptr.cast()).as_ptr();
                if target == self.run_target {
                    self.run_len += 1;
                } else {
                    self.flush();
                    self.run_target = target;
                    self.run_len = 1;
                }
            }
            return;
        }
        if self.fast == FAST_REACHABLE {
            if T::__gc_tracked() {
                let target = counts_to_header(gc.ptr.cast());
                // visit_reachable is idempotent (after one visit the target
                // is scanned, or rescued with gc_refs >= 1), so a repeat of
                // the last target is skipped.
                if target.as_ptr() != self.run_target {
                    self.run_target = target.as_ptr();
                    // SAFETY: set from the `young` list head of this collection.
                    let young = unsafe { NonNull::new_unchecked(self.young) };
                    visit_reachable(target, young);
                }
            }
            return;
        }
        // Only the mode escapes to the slow path: the compiler may then keep
        // `fast` (and the run) in registers across a loop over many handles.
        visit_gc_slow(&mut self.mode, self.sync, gc)
    }

    /// Visit a slice of strong handles (`Vec<Gc<T>>` and friends). In the
    /// two hot modes, eight handles at a time are compared with the current
    /// run's target: a chunk that is all the same object (a list holding one
    /// handle many times, pyperformance's `gc_traversal`) is one addition in
    /// `FAST_SUBTRACT` and nothing in `FAST_REACHABLE` (visit_reachable is
    /// idempotent); the comparison vectorises. Anything else goes through
    /// [`Tracer::visit_gc`] one handle at a time, so each edge is reported
    /// exactly once either way.
    #[inline(always)]
    pub(crate) fn visit_gc_slice<T: Trace + 'static>(&mut self, handles: &[Gc<T>]) {
        const CHUNK: usize = 8;
        let counting = self.fast == FAST_SUBTRACT;
        if !T::__gc_tracked() || !(counting || self.fast == FAST_REACHABLE) {
            for gc in handles {
                self.visit_gc(gc);
            }
            return;
        }
        let mut chunks = handles.chunks_exact(CHUNK);
        for chunk in &mut chunks {
            // The handles of the run's object point HEADER_SIZE past its
            // header; with no run (null) this matches no handle.
            let key = (self.run_target as usize).wrapping_add(HEADER_SIZE);
            if chunk.iter().all(|gc| gc.ptr.as_ptr() as usize == key) {
                if counting {
                    self.run_len += CHUNK;
                }
                continue;
            }
            for gc in chunk {
                self.visit_gc(gc);
            }
        }
        for gc in chunks.remainder() {
            self.visit_gc(gc);
        }
    }

    /// Subtract the pending run of `FAST_SUBTRACT` edges.
    #[inline(always)]
    pub(crate) fn flush(&mut self) {
        if let Some(target) = NonNull::new(self.run_target) {
            subtract_n(target, self.run_len, self.member_tag);
            self.run_target = std::ptr::null_mut();
            self.run_len = 0;
        }
    }

    /// Visit a strong handle of the sync heap. Only the sync collector
    /// follows it: for the per-thread collector a sync object is outside the
    /// collected set (and its header belongs to another lock domain).
    #[inline(always)]
    pub(crate) fn visit_sync(
        &mut self,
        counts: NonNull<crate::heap::header::Counts>,
        tracked: bool,
    ) {
        match &mut *self.mode {
            TraceMode::RefersTo { target, found } => {
                if counts.as_ptr() as *const () == *target {
                    *found = true;
                }
            }
            TraceMode::Referents { .. } | TraceMode::Edges { .. } => {}
            _ => {
                if tracked && self.sync {
                    visit_tracked(&mut self.mode, counts_to_header(counts));
                }
            }
        }
    }

    /// Visit a weak handle (only the weak phase cares).
    #[inline(always)]
    pub(crate) fn visit_weak(&mut self, callback: Option<u64>) {
        if let (TraceMode::WeakHandles { ids }, Some(id)) = (&mut *self.mode, callback) {
            ids.push(id);
        }
    }
}

/// The modes without a fast path, for a per-thread handle.
#[inline(never)]
fn visit_gc_slow<T: Trace + 'static>(mode: &mut TraceMode<'_>, sync: bool, gc: &Gc<T>) {
    match mode {
        TraceMode::Referents { out } => out.push(Gc::to_any(gc)),
        TraceMode::Edges { out } => out.push(gc.obj()),
        TraceMode::RefersTo { target, found } => {
            if gc.ptr.as_ptr() as *const () == *target {
                *found = true;
            }
        }
        _ => {
            if T::__gc_tracked() && !sync {
                visit_tracked(mode, counts_to_header(gc.ptr.cast()));
            }
        }
    }
}

/// One edge to a tracked object, for the modes that follow edges.
#[inline(always)]
fn visit_tracked(mode: &mut TraceMode<'_>, target: NonNull<Header>) {
    let t = hdr(target);
    match mode {
        TraceMode::SubtractRefs => subtract_one(target),
        TraceMode::VisitReachable { young } => visit_reachable(target, *young),
        TraceMode::MoveToList { list: to } => {
            // CPython's visit_move.
            if t.is_collecting() {
                list::move_to(target, *to);
                t.clear_collecting();
            }
        }
        TraceMode::WeakHandles { .. }
        | TraceMode::Referents { .. }
        | TraceMode::Edges { .. }
        | TraceMode::RefersTo { .. } => {}
    }
}

/// CPython's visit_decref: one edge to `target` from inside the collected
/// set.
#[inline(always)]
fn subtract_one(target: NonNull<Header>) {
    subtract_n(target, 1, NOT_FUSED)
}

/// `n` edges to `target` from inside the collected set. In the fused first
/// pass (`member_tag != NOT_FUSED`, per-thread heap only) a target that is a
/// member not reached by the walk yet (linked, tag `<= member_tag`, header
/// I7) gets its `update_refs` here, on first sight.
#[inline(always)]
fn subtract_n(target: NonNull<Header>, n: usize, member_tag: usize) {
    let t = hdr(target);
    if t.is_collecting() {
        let refs = t.gc_refs();
        if refs < n {
            over_reported(target);
        } else {
            t.set_gc_refs(refs - n);
        }
    } else if member_tag != NOT_FUSED && t.is_linked() && t.tag() <= member_tag {
        // SAFETY: linked objects of the per-thread heap are live and use
        // plain `Counts`.
        let strong = unsafe { Header::obj(target).counts() }.strong() as usize;
        if strong < n {
            over_reported(target);
            t.reset_gc_refs(0);
        } else {
            t.reset_gc_refs(strong - n);
        }
    }
}

/// HAZARDS 1: a `Trace` impl reported more edges to `target` than it has
/// strong handles. Make the rest of this collection conservative.
#[cold]
fn over_reported(target: NonNull<Header>) {
    let name = (hdr(target).vtable.type_name)();
    eprintln!(
        "gc: a Trace impl reported more references to a `{name}` than exist \
         (is the Trace impl correct?); this collection frees nothing"
    );
    OVER_REPORTED.with(|f| f.set(true));
}

thread_local! {
    static OVER_REPORTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

// ---------------------------------------------------------------------------
// Reachability: update_refs, subtract_refs, move_unreachable
// ---------------------------------------------------------------------------

/// Phase 1. For each object in `containers`: `gc_refs = strong` and set
/// COLLECTING. Afterwards `prev` holds counts, not links: the list is
/// singly linked until `move_unreachable` restores it.
///
/// An object whose strong count is already 0 is being released by another
/// thread that is waiting for the world (sync heap only): it counts as
/// referenced from outside (that thread owns it), so it and what it reaches
/// survive this collection.
///
/// In the resurrection pass (`zero_is_pending == false`) a zero count is
/// trash that a finalizer let go of: it stays garbage.
fn update_refs<H: CollectorHeap>(containers: NonNull<Header>, zero_is_pending: bool) {
    let mut node = list::next(containers);
    while node != containers {
        let h = hdr(node);
        let strong = H::strong(Header::obj(node));
        let strong = if zero_is_pending {
            strong.max(1)
        } else {
            strong
        };
        h.reset_gc_refs(strong as usize);
        node = list::ptr(h.next.get());
    }
}

/// Phase 2. Subtract the edges internal to `containers`: afterwards
/// `gc_refs` counts the references from outside the set. A `RefCell` that
/// cannot be borrowed reports no edges, so its targets stay outside-referenced
/// (HAZARDS 3).
///
/// Objects whose value `Gc::get_mut` may have lent out (MUT_EXPOSED) are
/// skipped. One whose count drops to zero all the same is referenced only
/// from inside the heap: its unique handle was moved into a traced object,
/// so the `&mut` has ended (header I6). Its flag is cleared and it is
/// traced after all, at the end (subtraction does not depend on order);
/// that may reveal more such objects, so repeat until none is left. Doing
/// this per object, after the walk, keeps the per-edge work to CPython's.
///
/// With `fused = Some(g)` (per-thread heap, main pass) this is also phase 1:
/// each object gets `gc_refs = strong` when the walk or an edge first reaches
/// it (header I7 tells members from outsiders), which saves a walk over the
/// whole set.
fn subtract_refs<H: CollectorHeap>(containers: NonNull<Header>, fused: Option<usize>) {
    let mut tracer = Tracer::for_heap(TraceMode::SubtractRefs, H::SYNC);
    if let Some(g) = fused {
        debug_assert!(!H::SYNC, "gc: only the per-thread heap keeps tags");
        tracer.member_tag = g;
    }
    let mut skipped = Vec::new();
    let mut node = list::next(containers);
    while node != containers {
        if fused.is_some() {
            let h = hdr(node);
            if !h.is_collecting() {
                h.reset_gc_refs(H::strong(Header::obj(node)) as usize);
            }
        }
        if H::mut_exposed(Header::obj(node)) {
            skipped.push(node);
        } else {
            trace_value(node, &mut tracer);
        }
        node = list::ptr(hdr(node).next.get());
    }
    tracer.flush();
    if skipped.is_empty() {
        return;
    }
    loop {
        let before = skipped.len();
        skipped.retain(|&node| {
            if hdr(node).gc_refs() == 0 {
                H::clear_flag(Header::obj(node), MUT_EXPOSED);
                trace_value(node, &mut tracer);
                tracer.flush();
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

/// CPython's visit_reachable (see move_unreachable).
#[inline(always)]
fn visit_reachable(target: NonNull<Header>, young: NonNull<Header>) {
    let t = hdr(target);
    // Objects of other generations, and ones move_unreachable already
    // scanned, do not have COLLECTING.
    if !t.is_collecting() {
        return;
    }
    let next_word = t.next.get();
    if next_word & NEXT_UNREACHABLE != 0 {
        // Tentatively unreachable, but reachable after all: unlink it from
        // the unreachable list by hand (the list functions do not handle the
        // NEXT_UNREACHABLE bits) and append it to `young`, where
        // move_unreachable will scan it again.
        let prev = list::ptr(t.prev.get() & !PREV_FLAGS);
        let next = list::ptr(next_word & !NEXT_UNREACHABLE);
        hdr(prev).next.set(next_word); // keeps NEXT_UNREACHABLE
        list::set_prev(next, prev);
        list::append(target, young);
        t.set_gc_refs(1);
    } else if t.gc_refs() == 0 {
        // Still ahead in move_unreachable's scan: just mark it reachable.
        t.set_gc_refs(1);
    }
}

/// Phase 3. Split `young` into reachable (stays, links restored, COLLECTING
/// cleared) and `unreachable` (COLLECTING kept, `next` tagged with
/// NEXT_UNREACHABLE until `move_legacy_finalizers` clears it).
///
/// Returns the number of reachable objects left in `young`.
///
/// Survivors get the generation tag `survivor_tag` (header I7): the caller
/// merges them into that generation.
fn move_unreachable<H: CollectorHeap>(
    young: NonNull<Header>,
    unreachable: NonNull<Header>,
    survivor_tag: usize,
) -> usize {
    let mut reachable = 0;
    let mut prev = young;
    let mut node = list::next(young);
    let mut tracer = Tracer::for_heap(TraceMode::VisitReachable { young }, H::SYNC);
    while node != young {
        let h = hdr(node);
        if h.gc_refs() > 0 {
            trace_object::<H>(node, &mut tracer);
            // Relink to prev (the prev field held gc_refs).
            // Also clears COLLECTING.
            h.prev.set(prev.as_ptr() as usize | (survivor_tag << 1));
            prev = node;
            reachable += 1;
        } else {
            // Move to unreachable; `young` is singly linked here.
            hdr(prev).next.set(h.next.get());
            let last = list::ptr(hdr(unreachable).prev.get() & !PREV_FLAGS);
            hdr(last)
                .next
                .set(NEXT_UNREACHABLE | node.as_ptr() as usize);
            h.prev
                .set(last.as_ptr() as usize | (h.prev.get() & PREV_FLAGS));
            h.next.set(NEXT_UNREACHABLE | unreachable.as_ptr() as usize);
            hdr(unreachable).prev.set(node.as_ptr() as usize);
        }
        node = list::ptr(hdr(prev).next.get());
    }
    hdr(young).prev.set(prev.as_ptr() as usize);
    // The unreachable head's next may carry the tag; clean it.
    let un = hdr(unreachable);
    un.next.set(un.next.get() & !NEXT_UNREACHABLE);
    reachable
}

/// Phases 1–3 (CPython's deduce_unreachable). Also handles HAZARDS 1: if a
/// count went below zero, everything is declared reachable.
///
/// `fused = Some(g)`: `base` is generation `g` of the per-thread heap, and
/// phases 1 and 2 run as one walk (see [`subtract_refs`]). Survivors are
/// tagged `survivor_tag`.
fn deduce_unreachable<H: CollectorHeap>(
    base: NonNull<Header>,
    unreachable: NonNull<Header>,
    zero_is_pending: bool,
    fused: Option<usize>,
    survivor_tag: usize,
) -> usize {
    let guard = AbortOnPanic::new();
    OVER_REPORTED.with(|f| f.set(false));
    if fused.is_none() {
        update_refs::<H>(base, zero_is_pending);
    }
    subtract_refs::<H>(base, fused);
    if OVER_REPORTED.with(|f| f.get()) {
        let mut node = list::next(base);
        while node != base {
            hdr(node).set_gc_refs(1);
            node = list::ptr(hdr(node).next.get());
        }
    }
    let reachable = move_unreachable::<H>(base, unreachable, survivor_tag);
    drop(guard);
    validate_list(base, Some(false));
    reachable
}

/// Debug builds, per-thread heap: check header I7 before a collection —
/// every object of generation `g` carries tag `g` (all of the younger
/// generations, which the fused pass relies on; the first 1 000 objects of
/// the older and permanent lists, to keep debug tests linear).
fn validate_tags<H: CollectorHeap>(heap: &H, generation: usize) {
    if !cfg!(debug_assertions) {
        return;
    }
    let lists = (0..NUM_GENERATIONS)
        .map(|g| (heap.gen_head(g), g))
        .chain(std::iter::once((heap.permanent_head(), TAG_PERMANENT)));
    for (head, tag) in lists {
        let limit = if tag <= generation { usize::MAX } else { 1000 };
        for node in list::iter(head).take(limit) {
            assert_eq!(
                hdr(node).tag(),
                tag,
                "gc: generation tag (header I7) wrong on a {}",
                (hdr(node).vtable.type_name)()
            );
        }
    }
}

/// Debug builds: check that `head` is a well-formed list and, if given,
/// that every object's COLLECTING flag has the expected value.
fn validate_list(head: NonNull<Header>, collecting: Option<bool>) {
    if !cfg!(debug_assertions) {
        return;
    }
    let mut prev = head;
    let mut node = list::next(head);
    while node != head {
        let h = hdr(node);
        assert_eq!(
            h.next.get() & NEXT_UNREACHABLE,
            0,
            "gc: stray NEXT_UNREACHABLE"
        );
        assert_eq!(list::prev(node), prev, "gc: list links disagree");
        if let Some(c) = collecting {
            assert_eq!(h.is_collecting(), c, "gc: COLLECTING flag not as expected");
        }
        prev = node;
        node = list::next(node);
    }
    assert_eq!(list::prev(head), prev, "gc: list tail link wrong");
}

// ---------------------------------------------------------------------------
// Legacy finalizers
// ---------------------------------------------------------------------------

fn has_legacy_finalizer(node: NonNull<Header>) -> bool {
    (hdr(node).vtable.finalizer_kind)() == FinalizerKind::Legacy
}

/// Phase 4a. Clear NEXT_UNREACHABLE on all of `unreachable` (it becomes a
/// normal list) and move the objects with a legacy finalizer to
/// `finalizers`, clearing their COLLECTING flag.
fn move_legacy_finalizers(unreachable: NonNull<Header>, finalizers: NonNull<Header>) {
    let mut node = list::next(unreachable);
    while node != unreachable {
        let h = hdr(node);
        debug_assert!(h.next.get() & NEXT_UNREACHABLE != 0);
        h.next.set(h.next.get() & !NEXT_UNREACHABLE);
        let next = list::ptr(h.next.get());
        if has_legacy_finalizer(node) {
            h.clear_collecting();
            list::move_to(node, finalizers);
        }
        node = next;
    }
}

/// Phase 4b. Everything unreachable that `finalizers` reaches is
/// uncollectable too: move it over (the scan covers what it appends).
fn move_legacy_finalizer_reachable<H: CollectorHeap>(finalizers: NonNull<Header>) {
    let _guard = AbortOnPanic::new();
    let mut tracer = Tracer::for_heap(TraceMode::MoveToList { list: finalizers }, H::SYNC);
    let mut node = list::next(finalizers);
    while node != finalizers {
        trace_object::<H>(node, &mut tracer);
        node = list::next(node);
    }
}

// ---------------------------------------------------------------------------
// Weak handles, finalizers, resurrection
// ---------------------------------------------------------------------------

/// Phase 5a (world stopped). Clear every weak handle to trash (set
/// WEAK_CLEARED) and take the callbacks that must run: those whose handles
/// are alive and not themselves owned by trash. The others are returned too
/// (to be dropped once the world runs again: dropping a closure runs user
/// code).
///
/// The same walk notes whether any of the trash has a PEP 442 finalizer
/// still to run (phase 6 is skipped when none has: user code in
/// between cannot change either).
#[allow(clippy::type_complexity)]
fn clear_weakrefs<H: CollectorHeap>(
    heap: &H,
    unreachable: NonNull<Header>,
    untag: bool,
) -> (
    Vec<(ObjPtr, Entry<H::Callback>)>,
    Vec<Entry<H::Callback>>,
    bool,
) {
    // Some object has a PEP 442 finalizer and is not FINALIZED yet.
    let mut to_finalize = false;
    // One walk: (untag,) count, note finalizers, clear weak handles, and
    // pick the objects with callbacks.
    let mut with_callbacks = Vec::new();
    let mut node = list::ptr(hdr(unreachable).next.get() & !NEXT_UNREACHABLE);
    while node != unreachable {
        let h = hdr(node);
        let mut next = h.next.get();
        if untag {
            next &= !NEXT_UNREACHABLE;
            h.next.set(next);
        }
        let obj = Header::obj(node);
        if !to_finalize
            && (obj.vtable.finalizer_kind)() == FinalizerKind::Pep442
            && !H::has_flag(obj, FINALIZED)
        {
            to_finalize = true;
        }
        H::set_flag(obj, WEAK_CLEARED);
        if H::has_flag(obj, HAS_CALLBACKS) {
            H::clear_flag(obj, HAS_CALLBACKS);
            with_callbacks.push(obj);
        }
        node = list::ptr(next);
    }
    let mut to_call = Vec::new();
    let mut discarded = Vec::new();
    if with_callbacks.is_empty() {
        return (to_call, discarded, to_finalize);
    }
    // Which callback-owning weak handles live inside trash?
    let mut ids = Vec::new();
    if heap.has_weak_callbacks() {
        let _guard = AbortOnPanic::new();
        let mut tracer = Tracer::for_heap(TraceMode::WeakHandles { ids: &mut ids }, H::SYNC);
        for node in list::iter(unreachable) {
            trace_object::<H>(node, &mut tracer);
        }
    }
    let in_trash: HashSet<u64> = ids.into_iter().collect();
    for obj in with_callbacks {
        for entry in heap.take_weak_callbacks(obj).into_iter().rev() {
            if in_trash.contains(&entry.id) {
                discarded.push(entry);
            } else {
                to_call.push((obj, entry));
            }
        }
    }
    (to_call, discarded, to_finalize)
}

/// Phase 5b (world running). Drop the discarded callbacks, run the others.
/// Returns the number of weak handles freed here (always 0: weak handles
/// are not heap objects; CPython counts its weakref objects).
fn run_weak_callbacks<C: FnOnce()>(
    to_call: Vec<(ObjPtr, Entry<C>)>,
    discarded: Vec<Entry<C>>,
) -> usize {
    drop(discarded);
    for (obj, entry) in to_call {
        let type_name = obj.vtable.type_name;
        run_reporting_panics(
            &|| format!("weak callback of {}", type_name()),
            entry.callback,
        );
    }
    0
}

/// Phase 6. Run `finalize` once on each trash object that has a PEP 442
/// finalizer and is not finalized yet. The object holds an extra strong
/// reference during the call; the list is not modified by user code (trash
/// cannot be unlinked while COLLECTING is set).
///
/// Returns whether any finalizer ran (if none did, no user code could have
/// made trash reachable again, and phase 7 has nothing to find).
fn finalize_garbage<H: CollectorHeap>(collectable: NonNull<Header>) -> bool {
    let mut ran = false;
    let seen = List::new();
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        list::move_to(node, seen.head());
        let obj = Header::obj(node);
        if (obj.vtable.finalizer_kind)() == FinalizerKind::Pep442 && !H::has_flag(obj, FINALIZED) {
            H::set_flag(obj, FINALIZED);
            H::inc_strong(obj);
            ran = true;
            run_reporting_panics(
                &|| format!("finalizer of {}", (obj.vtable.type_name)()),
                || {
                    // SAFETY: the value is intact (nothing is dropped before
                    // delete_garbage) and we hold a strong reference.
                    unsafe { (obj.vtable.finalize)(obj.counts) }
                },
            );
            // May reach 0: the object has COLLECTING, so its release would
            // do nothing (I5); there is nothing to call.
            H::dec_strong(obj);
        }
    }
    list::merge(seen.head(), collectable);
    ran
}

/// Phase 7. Recompute reachability inside `unreachable` with current counts:
/// whatever a finalizer made reachable again (and all it reaches) survives
/// and moves to `old`; the rest goes to `still_unreachable`.
fn handle_resurrected_objects<H: CollectorHeap>(
    unreachable: NonNull<Header>,
    still_unreachable: NonNull<Header>,
    old: NonNull<Header>,
    old_tag: usize,
) {
    for node in list::iter(unreachable) {
        hdr(node).clear_collecting();
    }
    let _resurrected =
        deduce_unreachable::<H>(unreachable, still_unreachable, false, None, old_tag);
    // CPython's clear_unreachable_mask.
    let mut node = list::next(still_unreachable);
    while node != still_unreachable {
        let h = hdr(node);
        h.next.set(h.next.get() & !NEXT_UNREACHABLE);
        node = list::ptr(h.next.get());
    }
    validate_list(still_unreachable, Some(true));
    list::merge(unreachable, old);
}

// ---------------------------------------------------------------------------
// Deletion
// ---------------------------------------------------------------------------

/// Phase 8. Reclaim `collectable`; returns the number of objects on it.
///
/// With SAVEALL, append each object to `gc.garbage` and keep it (moved to
/// `old`). Otherwise drop the values in place, in list order (HAZARDS 11):
/// dropping one may bring another trash object's strong count to zero,
/// which frees nothing while that object's value is intact (it still has
/// COLLECTING, I5).
///
/// Memory is freed once nothing can reach it: the object's own value is
/// dropped *and* its strong count is 0. The per-thread heap frees each
/// object at the first moment both hold — right after its own drop, or when
/// a later drop releases its last handle (`free_dropped_trash`, via
/// `PREV_DROPPED`) — so each object's memory is touched while it is still
/// in cache, in one walk. The sync heap drops every value first and frees
/// in a second walk (another thread's release must not unlink from this
/// private list). Whatever still has strong handles after every value was
/// dropped broke the `Trace`/`Drop` contract: it is reported and left a
/// zombie (I5), never freed under its handles.
fn delete_garbage<H: CollectorHeap>(
    heap: &H,
    collectable: NonNull<Header>,
    old: NonNull<Header>,
    old_tag: usize,
) -> usize {
    if heap.debug().contains(DebugFlags::SAVEALL) {
        let mut saved = Vec::new();
        for node in list::iter(collectable) {
            hdr(node).clear_collecting();
            hdr(node).set_tag(old_tag);
            saved.push(Header::obj(node));
        }
        let n = saved.len();
        heap.save_garbage(saved);
        let _lists = heap.lock_lists();
        list::merge(collectable, old);
        return n;
    }
    // Callbacks registered on trash after clear_weakrefs (by a finalizer):
    // run them now, as CPython does when tp_clear lets the object die.
    if heap.has_weak_callbacks() {
        for node in list::iter(collectable) {
            let obj = Header::obj(node);
            if H::has_flag(obj, HAS_CALLBACKS) {
                heap.run_weak_callbacks(obj);
            }
        }
    }
    let visited = if H::SYNC {
        drop_then_free::<H>(collectable)
    } else {
        drop_and_free::<H>(heap, collectable)
    };
    // Zombies: trash that still has strong handles after every value was
    // dropped. Only a Trace impl that broke its contract can cause this.
    let mut zombies = 0;
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        let obj = Header::obj(node);
        eprintln!(
            "gc: a collected `{}` still has {} strong handles after its cycle was dropped \
             (a Trace impl reports edges it does not own?); its value is gone, its memory \
             is kept until the last handle is dropped",
            (obj.vtable.type_name)(),
            H::strong(obj),
        );
        H::set_flag(obj, WEAK_CLEARED);
        list::remove(node);
        // A zombie (I5): unlinked and not COLLECTING, so later collections
        // treat it as outside their set; its last handle frees it without a
        // second drop.
        hdr(node).prev.set(PREV_DROPPED);
        zombies += 1;
    }
    list::init(collectable);
    heap.note_deallocs(visited - zombies);
    visited
}

/// Drop one trash value (panics are reported, and the value counts as
/// dropped), then mark the object [`PREV_DROPPED`].
#[inline(always)]
fn drop_trash_value(node: NonNull<Header>) {
    let obj = Header::obj(node);
    run_reporting_panics(&|| format!("drop of {}", (obj.vtable.type_name)()), || {
        // SAFETY: the collector owns the trash (I5); each value is dropped
        // exactly once, here; nothing reads it afterwards (weak handles
        // cannot upgrade to trash, strong handles live only in trash).
        unsafe { (obj.vtable.drop_value)(obj.counts) }
    });
    let h = hdr(node);
    h.prev.set(h.prev.get() | PREV_DROPPED);
}

/// Per-thread heap: one walk that drops each value and frees each object as
/// soon as nothing can reach it (see [`delete_garbage`]). Returns the number
/// of objects walked; the ones left on the list are zombies.
///
/// The nodes' links may still carry `NEXT_UNREACHABLE` bits (the lean path
/// skips the walk that clears them; the head's link is clean, as
/// `move_unreachable` left it): each node's is cleared before its drop, so
/// every node behind the walk — the only ones a release can unlink — has a
/// clean link.
fn drop_and_free<H: CollectorHeap>(heap: &H, collectable: NonNull<Header>) -> usize {
    let mut visited = 0;
    let mut node = list::next(collectable);
    while node != collectable {
        let h = hdr(node);
        h.next.set(h.next.get() & !NEXT_UNREACHABLE);
        drop_trash_value(node);
        visited += 1;
        // The successor's value is intact, so no release during the drop
        // could have unlinked it: it is still `node`'s successor.
        let next = list::next(node);
        if H::strong(Header::obj(node)) == 0 {
            heap.free_dropped_trash(node);
        }
        node = next;
    }
    visited
}

/// Sync heap: drop every value, then free in a second walk.
fn drop_then_free<H: CollectorHeap>(collectable: NonNull<Header>) -> usize {
    let mut visited = 0;
    for node in list::iter(collectable) {
        drop_trash_value(node);
        visited += 1;
    }
    // Free in one walk that does not unlink each node (its neighbours are
    // being freed too): read the successor first, and relink only what
    // stays (zombies).
    let mut prev = collectable;
    let mut node = list::next(collectable);
    while node != collectable {
        let h = hdr(node);
        let next = list::ptr(h.next.get());
        let obj = Header::obj(node);
        if H::strong(obj) != 0 {
            // A zombie: keep it on the list for delete_garbage to report.
            list::set_next(prev, node);
            list::set_prev(node, prev);
            prev = node;
        } else {
            h.next.set(0);
            h.prev.set(0);
            if H::dec_weak(obj) {
                // SAFETY: the implicit weak was the last reference (I1).
                unsafe { (obj.vtable.dealloc)(obj.counts) };
            }
        }
        node = next;
    }
    list::set_next(prev, collectable);
    list::set_prev(collectable, prev);
    visited
}

/// Phase 9. Objects with a legacy finalizer (all of `finalizers` under
/// SAVEALL) go to `gc.garbage`; the list joins `old`.
fn handle_legacy_finalizers<H: CollectorHeap>(
    heap: &H,
    finalizers: NonNull<Header>,
    old: NonNull<Header>,
    old_tag: usize,
) {
    let save_all = heap.debug().contains(DebugFlags::SAVEALL);
    let saved: Vec<ObjPtr> = list::iter(finalizers)
        .inspect(|&node| hdr(node).set_tag(old_tag))
        .filter(|&node| save_all || has_legacy_finalizer(node))
        .map(Header::obj)
        .collect();
    heap.save_garbage(saved);
    let _lists = heap.lock_lists();
    list::merge(finalizers, old);
}

fn debug_cycle(what: &str, node: NonNull<Header>) {
    let obj = Header::obj(node);
    eprintln!(
        "gc: {what} <{} {:p}>",
        (obj.vtable.type_name)(),
        obj.value_ptr()
    );
}

// ---------------------------------------------------------------------------
// One collection, and the generation policy
// ---------------------------------------------------------------------------

/// CPython's `gc_collect_main`: collect `generation`; returns
/// `(collected, uncollectable)`. The caller has made sure no other
/// collection of this heap runs.
pub(crate) fn collect_main<H: CollectorHeap>(heap: &H, generation: usize) -> (usize, usize) {
    let debug = heap.debug();
    let started = Instant::now();
    heap.stop_world();
    if debug.contains(DebugFlags::STATS) {
        eprintln!("gc: collecting generation {generation}...");
        eprintln!(
            "gc: objects in each generation: {} {} {}",
            list::len(heap.gen_head(0)),
            list::len(heap.gen_head(1)),
            list::len(heap.gen_head(2))
        );
        eprintln!(
            "gc: objects in permanent generation: {}",
            list::len(heap.permanent_head())
        );
    }
    if !H::SYNC {
        validate_tags(heap, generation);
    }
    heap.begin_collection(generation);
    for younger in 0..generation {
        list::merge(heap.gen_head(younger), heap.gen_head(generation));
    }
    let young = heap.gen_head(generation);
    let old = if generation < NUM_GENERATIONS - 1 {
        heap.gen_head(generation + 1)
    } else {
        young
    };
    validate_list(young, Some(false));

    // Generation tags (header I7): survivors and anything else that joins
    // `old` get its index.
    let old_tag = (generation + 1).min(NUM_GENERATIONS - 1);
    let fused = if H::SYNC { None } else { Some(generation) };
    let unreachable = List::new();
    let survivors = deduce_unreachable::<H>(young, unreachable.head(), H::SYNC, fused, old_tag);

    // Survivors age.
    if young != old {
        if generation == NUM_GENERATIONS - 2 {
            heap.add_long_lived_pending(survivors);
        }
        list::merge(young, old);
    } else {
        heap.set_long_lived(survivors);
    }

    // Without any object of a legacy-finalizer type on the heap, phase 4
    // has nothing to move: clear_weakrefs clears NEXT_UNREACHABLE instead.
    let finalizers = List::new();
    let legacy = heap.may_hold_legacy_finalizers();
    if legacy {
        move_legacy_finalizers(unreachable.head(), finalizers.head());
        move_legacy_finalizer_reachable::<H>(finalizers.head());
        validate_list(finalizers.head(), Some(false));
        validate_list(unreachable.head(), Some(true));
    }

    // The lean path (per-thread heap, no trash object can have a PEP 442
    // finalizer or a weak callback, no debug output): phases 5–7 have
    // nothing to do (see the module docs for the user code that does run
    // during delete_garbage, and why it cannot reach trash). Weak handles
    // need no clearing walk either: upgrades of trash fail on its
    // COLLECTING flag until it is freed (header I2), and delete_garbage
    // clears the NEXT_UNREACHABLE bits as it goes.
    let lean = !H::SYNC
        && debug.is_empty()
        && !heap.has_weak_callbacks()
        && !heap.may_hold_pep442_finalizers();
    let mut collected = 0;
    let mut finalizers_ran = false;
    if lean {
        heap.resume_world();
    } else {
        let (to_call, discarded, to_finalize) = clear_weakrefs(heap, unreachable.head(), !legacy);
        validate_list(unreachable.head(), Some(true));
        heap.resume_world();

        // From here on user code runs: the trash is private to this collection.
        if debug.contains(DebugFlags::COLLECTABLE) {
            for node in list::iter(unreachable.head()) {
                debug_cycle("collectable", node);
            }
        }
        collected += run_weak_callbacks(to_call, discarded);
        validate_list(unreachable.head(), Some(true));

        finalizers_ran = to_finalize && finalize_garbage::<H>(unreachable.head());
    }

    // Only a finalizer can hand out a reference to trash (weak handles are
    // cleared, trash is on no generation list, callbacks' captures are
    // outside references): without one, the trash is final as it is.
    let final_unreachable = List::new();
    if finalizers_ran {
        heap.stop_world();
        handle_resurrected_objects::<H>(unreachable.head(), final_unreachable.head(), old, old_tag);
        heap.resume_world();
    } else {
        list::merge(unreachable.head(), final_unreachable.head());
    }
    collected += delete_garbage(heap, final_unreachable.head(), old, old_tag);

    let mut uncollectable = 0;
    for node in list::iter(finalizers.head()) {
        uncollectable += 1;
        if debug.contains(DebugFlags::UNCOLLECTABLE) {
            debug_cycle("uncollectable", node);
        }
    }
    if debug.contains(DebugFlags::STATS) {
        eprintln!(
            "gc: done, {} unreachable, {} uncollectable, {:.4}s elapsed",
            collected + uncollectable,
            uncollectable,
            started.elapsed().as_secs_f64()
        );
    }
    handle_legacy_finalizers(heap, finalizers.head(), old, old_tag);
    heap.record_stats(generation, collected, uncollectable);
    (collected, uncollectable)
}

/// Run `collect_main` between `Phase::Start` and `Phase::Stop` callbacks
/// (CPython's `gc_collect_with_callback`). `invoke` runs the heap's `gc`
/// callbacks.
pub(crate) fn collect_with_callbacks<H: CollectorHeap>(
    heap: &H,
    generation: usize,
    invoke: impl Fn(Phase, &CollectionInfo),
) -> usize {
    let start_info = CollectionInfo {
        generation,
        collected: 0,
        uncollectable: 0,
        duration: Duration::ZERO,
    };
    invoke(Phase::Start, &start_info);
    let started = Instant::now();
    let (collected, uncollectable) = collect_main(heap, generation);
    let stop_info = CollectionInfo {
        generation,
        collected,
        uncollectable,
        duration: started.elapsed(),
    };
    invoke(Phase::Stop, &stop_info);
    collected + uncollectable
}

/// CPython's `gc_collect_generations` choice: the oldest generation whose
/// count exceeds its threshold, skipping a full collection while
/// `long_lived_pending < long_lived_total / 4`.
pub(crate) fn generation_to_collect(
    count: [usize; NUM_GENERATIONS],
    threshold: [usize; NUM_GENERATIONS],
    long_lived_pending: usize,
    long_lived_total: usize,
) -> Option<usize> {
    (0..NUM_GENERATIONS).rev().find(|&g| {
        count[g] > threshold[g]
            && !(g == NUM_GENERATIONS - 1 && long_lived_pending < long_lived_total / 4)
    })
}
