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
//!   delete_garbage(final_unreachable, old)
//!   handle_legacy_finalizers(finalizers, old)   -> gc::garbage()
//! ```
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
//!   (HAZARDS 10); values are all dropped before any memory is freed
//!   (HAZARDS 11).
//! * A collection never nests: `Heap::collecting` is set for its duration,
//!   including the `gc` callbacks.

use crate::gc::{CollectionInfo, DebugFlags, Phase};
use crate::handle::any::GcAny;
use crate::handle::strong::Gc;
use crate::heap::dealloc::clear_weak_handles_and_run_callbacks;
use crate::heap::header::{
    counts_to_header, Header, ObjPtr, FINALIZED, HAS_CALLBACKS, NEXT_UNREACHABLE, PREV_FLAGS,
    WEAK_CLEARED,
};
use crate::heap::list::{self, List};
use crate::heap::weakcb::{run_reporting_panics, Entry};
use crate::heap::{Heap, NUM_GENERATIONS};
use crate::trace::{FinalizerKind, Trace, TraceMode, Tracer};
use std::collections::HashSet;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

#[inline(always)]
fn hdr<'a>(p: NonNull<Header>) -> &'a Header {
    // SAFETY: the collector only handles headers of live objects on its
    // lists (list module contract).
    unsafe { p.as_ref() }
}

/// Trace the object of `header` with `tracer`.
#[inline(always)]
fn trace_object(header: NonNull<Header>, tracer: &mut Tracer<'_>) {
    let obj = Header::obj(header);
    // SAFETY: objects on the collector's lists have live, undropped values
    // (values are only dropped in delete_garbage, after the last trace).
    unsafe { (obj.vtable.trace)(obj.counts, tracer) }
}

/// Aborts the process if dropped during unwinding: a `Trace` impl panicked
/// while the lists were being rewritten (HAZARDS 4).
struct AbortOnPanic;

impl Drop for AbortOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
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
        match &mut self.mode {
            TraceMode::Referents { out } => out.push(Gc::to_any(gc)),
            TraceMode::RefersTo { target, found } => {
                if gc.ptr.as_ptr() as *const () == *target {
                    *found = true;
                }
            }
            _ => {
                if T::__gc_tracked() {
                    self.visit_tracked(counts_to_header(gc.ptr.cast()));
                }
            }
        }
    }

    /// Visit a weak handle (only the weak phase cares).
    #[inline(always)]
    pub(crate) fn visit_weak(&mut self, callback: Option<u64>) {
        if let (TraceMode::WeakHandles { ids }, Some(id)) = (&mut self.mode, callback) {
            ids.push(id);
        }
    }

    #[inline(always)]
    fn visit_tracked(&mut self, target: NonNull<Header>) {
        let t = hdr(target);
        match &mut self.mode {
            TraceMode::SubtractRefs => {
                // CPython's visit_decref.
                if t.is_collecting() {
                    let refs = t.gc_refs();
                    if refs == 0 {
                        over_reported(target);
                    } else {
                        t.set_gc_refs(refs - 1);
                    }
                }
            }
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
            | TraceMode::RefersTo { .. } => {}
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
fn update_refs(containers: NonNull<Header>) {
    let mut node = list::next(containers);
    while node != containers {
        let h = hdr(node);
        let strong = {
            let obj = Header::obj(node);
            // SAFETY: linked objects are live.
            unsafe { obj.counts() }.strong()
        };
        debug_assert!(
            strong > 0,
            "gc: an object with strong count 0 is on a generation list"
        );
        h.reset_gc_refs(strong as usize);
        node = list::ptr(h.next.get());
    }
}

/// Phase 2. Subtract the edges internal to `containers`: afterwards
/// `gc_refs` counts the references from outside the set. A `RefCell` that
/// cannot be borrowed reports no edges, so its targets stay outside-referenced
/// (HAZARDS 3).
fn subtract_refs(containers: NonNull<Header>) {
    let mut tracer = Tracer::new(TraceMode::SubtractRefs);
    let mut node = list::next(containers);
    while node != containers {
        trace_object(node, &mut tracer);
        node = list::ptr(hdr(node).next.get());
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
fn move_unreachable(young: NonNull<Header>, unreachable: NonNull<Header>) {
    let mut prev = young;
    let mut node = list::next(young);
    let mut tracer = Tracer::new(TraceMode::VisitReachable { young });
    while node != young {
        let h = hdr(node);
        if h.gc_refs() > 0 {
            trace_object(node, &mut tracer);
            // Relink to prev (the prev field held gc_refs).
            h.prev.set(prev.as_ptr() as usize); // also clears COLLECTING
            prev = node;
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
}

/// Phases 1–3 (CPython's deduce_unreachable). Also handles HAZARDS 1: if a
/// count went below zero, everything is declared reachable.
fn deduce_unreachable(base: NonNull<Header>, unreachable: NonNull<Header>) {
    let guard = AbortOnPanic;
    OVER_REPORTED.with(|f| f.set(false));
    update_refs(base);
    subtract_refs(base);
    if OVER_REPORTED.with(|f| f.get()) {
        let mut node = list::next(base);
        while node != base {
            hdr(node).set_gc_refs(1);
            node = list::ptr(hdr(node).next.get());
        }
    }
    move_unreachable(base, unreachable);
    drop(guard);
    validate_list(base, Some(false));
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
fn move_legacy_finalizer_reachable(finalizers: NonNull<Header>) {
    let _guard = AbortOnPanic;
    let mut tracer = Tracer::new(TraceMode::MoveToList { list: finalizers });
    let mut node = list::next(finalizers);
    while node != finalizers {
        trace_object(node, &mut tracer);
        node = list::next(node);
    }
}

// ---------------------------------------------------------------------------
// Weak handles, finalizers, resurrection
// ---------------------------------------------------------------------------

/// Phase 5. Clear every weak handle to trash (set WEAK_CLEARED), then run
/// the callbacks whose handles are alive and not themselves owned by trash.
/// Returns the number of weak handles freed here (always 0: weak handles are
/// not heap objects; CPython counts its weakref objects).
fn handle_weakrefs(unreachable: NonNull<Header>, heap: &'static Heap) -> usize {
    // Which callback-owning weak handles live inside trash?
    let mut ids = Vec::new();
    {
        let _guard = AbortOnPanic;
        let mut tracer = Tracer::new(TraceMode::WeakHandles { ids: &mut ids });
        for node in list::iter(unreachable) {
            trace_object(node, &mut tracer);
        }
    }
    let in_trash: HashSet<u64> = ids.into_iter().collect();
    let mut to_call: Vec<(ObjPtr, Entry)> = Vec::new();
    let mut discarded: Vec<Entry> = Vec::new();
    for node in list::iter(unreachable) {
        let obj = Header::obj(node);
        // SAFETY: trash objects are live until delete_garbage.
        let counts = unsafe { obj.counts() };
        counts.set_flag(WEAK_CLEARED);
        if counts.has_flag(HAS_CALLBACKS) {
            counts.clear_flag(HAS_CALLBACKS);
            let entries = heap
                .weak_callbacks
                .borrow_mut()
                .take(obj.counts.as_ptr() as usize);
            for entry in entries.into_iter().rev() {
                if in_trash.contains(&entry.id) {
                    discarded.push(entry);
                } else {
                    to_call.push((obj, entry));
                }
            }
        }
    }
    // Dropping closures may run user code: only now, with the registry free.
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
fn finalize_garbage(collectable: NonNull<Header>) {
    let seen = List::new();
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        list::move_to(node, seen.head());
        let obj = Header::obj(node);
        // SAFETY: trash is live until delete_garbage.
        let counts = unsafe { obj.counts() };
        if (obj.vtable.finalizer_kind)() == FinalizerKind::Pep442 && !counts.has_flag(FINALIZED) {
            counts.set_flag(FINALIZED);
            counts.inc_strong();
            run_reporting_panics(
                &|| format!("finalizer of {}", (obj.vtable.type_name)()),
                || {
                    // SAFETY: the value is intact (nothing is dropped before
                    // delete_garbage) and we hold a strong reference.
                    unsafe { (obj.vtable.finalize)(obj.counts) }
                },
            );
            // May reach 0: the object has COLLECTING, so release() leaves it.
            if counts.dec_strong() {
                // SAFETY: we owned that strong reference; release sees
                // COLLECTING and returns (I5).
                unsafe { crate::heap::dealloc::release(obj) };
            }
        }
    }
    list::merge(seen.head(), collectable);
}

/// Phase 7. Recompute reachability inside `unreachable` with current counts:
/// whatever a finalizer made reachable again (and all it reaches) survives
/// and moves to `old`; the rest goes to `still_unreachable`.
fn handle_resurrected_objects(
    unreachable: NonNull<Header>,
    still_unreachable: NonNull<Header>,
    old: NonNull<Header>,
) {
    for node in list::iter(unreachable) {
        hdr(node).clear_collecting();
    }
    deduce_unreachable(unreachable, still_unreachable);
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

/// Phase 8. Reclaim `collectable`: with SAVEALL, append each object to
/// `gc.garbage` and keep it (moved to `old`); otherwise drop every value in
/// place first — dropping one may bring another trash object's strong count
/// to zero, which does nothing while it has COLLECTING — and only then
/// unlink and free them (HAZARDS 11).
fn delete_garbage(heap: &'static Heap, collectable: NonNull<Header>, old: NonNull<Header>) {
    if heap.debug.get().contains(DebugFlags::SAVEALL) {
        let mut saved = Vec::new();
        for node in list::iter(collectable) {
            hdr(node).clear_collecting();
            // SAFETY: live trash object, value intact.
            saved.push(unsafe { GcAny::new_ref(Header::obj(node)) });
        }
        list::merge(collectable, old);
        heap.garbage.borrow_mut().extend(saved);
        return;
    }
    // Callbacks registered on trash after handle_weakrefs (by a finalizer):
    // run them now, as CPython does when tp_clear lets the object die.
    for node in list::iter(collectable) {
        let obj = Header::obj(node);
        // SAFETY: live trash.
        if unsafe { obj.counts() }.has_flag(HAS_CALLBACKS) {
            clear_weak_handles_and_run_callbacks(obj, Some(heap));
        }
    }
    for node in list::iter(collectable) {
        let obj = Header::obj(node);
        run_reporting_panics(&|| format!("drop of {}", (obj.vtable.type_name)()), || {
            // SAFETY: the collector owns the trash (I5); each value is
            // dropped exactly once, here; nothing reads it afterwards
            // (weak handles are cleared, strong handles live only in trash).
            unsafe { (obj.vtable.drop_value)(obj.counts) }
        });
    }
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        let obj = Header::obj(node);
        list::remove(node);
        hdr(node).prev.set(0); // clears COLLECTING
        heap.note_dealloc();
        // SAFETY: live until the implicit weak is released below.
        let counts = unsafe { obj.counts() };
        if counts.strong() != 0 {
            // Something still holds a strong handle to a dropped value:
            // only a Trace impl that broke its contract can cause this.
            // Leak the memory rather than free it under the handle.
            eprintln!(
                "gc: a collected `{}` still has {} strong handles after its cycle was dropped \
                 (a Trace impl reports edges it does not own?); leaking it",
                (obj.vtable.type_name)(),
                counts.strong()
            );
            continue;
        }
        if counts.dec_weak() {
            // SAFETY: the implicit weak was the last reference (I1).
            unsafe { (obj.vtable.dealloc)(obj.counts) };
        }
    }
}

/// Phase 9. Objects with a legacy finalizer (all of `finalizers` under
/// SAVEALL) go to `gc.garbage`; the list joins `old`.
fn handle_legacy_finalizers(
    heap: &'static Heap,
    finalizers: NonNull<Header>,
    old: NonNull<Header>,
) {
    let save_all = heap.debug.get().contains(DebugFlags::SAVEALL);
    let mut saved = Vec::new();
    for node in list::iter(finalizers) {
        if save_all || has_legacy_finalizer(node) {
            // SAFETY: live object, value intact.
            saved.push(unsafe { GcAny::new_ref(Header::obj(node)) });
        }
    }
    list::merge(finalizers, old);
    heap.garbage.borrow_mut().extend(saved);
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
/// `(collected, uncollectable)`. The caller has set `heap.collecting`.
fn collect_main(heap: &'static Heap, generation: usize) -> (usize, usize) {
    let debug = heap.debug.get();
    let started = Instant::now();
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
            list::len(heap.permanent.head())
        );
    }
    if generation + 1 < NUM_GENERATIONS {
        let c = &heap.count[generation + 1];
        c.set(c.get() + 1);
    }
    for c in &heap.count[..=generation] {
        c.set(0);
    }
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

    let unreachable = List::new();
    deduce_unreachable(young, unreachable.head());

    // Survivors age.
    if young != old {
        if generation == NUM_GENERATIONS - 2 {
            heap.long_lived_pending
                .set(heap.long_lived_pending.get() + list::len(young));
        }
        list::merge(young, old);
    } else {
        heap.long_lived_pending.set(0);
        heap.long_lived_total.set(list::len(young));
    }

    let finalizers = List::new();
    move_legacy_finalizers(unreachable.head(), finalizers.head());
    move_legacy_finalizer_reachable(finalizers.head());
    validate_list(finalizers.head(), Some(false));
    validate_list(unreachable.head(), Some(true));

    if debug.contains(DebugFlags::COLLECTABLE) {
        for node in list::iter(unreachable.head()) {
            debug_cycle("collectable", node);
        }
    }

    let mut collected = handle_weakrefs(unreachable.head(), heap);
    validate_list(unreachable.head(), Some(true));

    finalize_garbage(unreachable.head());

    let final_unreachable = List::new();
    handle_resurrected_objects(unreachable.head(), final_unreachable.head(), old);

    collected += list::len(final_unreachable.head());
    delete_garbage(heap, final_unreachable.head(), old);

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
    handle_legacy_finalizers(heap, finalizers.head(), old);

    let stats = &heap.stats[generation];
    let mut s = stats.get();
    s.collections += 1;
    s.collected += collected;
    s.uncollectable += uncollectable;
    stats.set(s);
    (collected, uncollectable)
}

/// Run the `gc` callbacks for `phase`, each with its own panic guard.
fn invoke_callbacks(heap: &'static Heap, phase: Phase, info: &CollectionInfo) {
    let callbacks: Vec<_> = heap
        .callbacks
        .borrow()
        .iter()
        .map(|(_, cb)| cb.clone())
        .collect();
    for cb in callbacks {
        run_reporting_panics(&|| "gc callback".to_string(), || {
            if let Ok(mut f) = cb.try_borrow_mut() {
                f(phase, info)
            }
        });
    }
}

/// Collect `generation` with the `gc` callbacks around it; 0 if a
/// collection is already running. CPython's `gc_collect_with_callback` plus
/// the `collecting` guard of its callers.
pub(crate) fn collect_with_callback(heap: &'static Heap, generation: usize) -> usize {
    if heap.collecting.get() {
        return 0;
    }
    heap.collecting.set(true);
    struct Done(&'static Heap);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.collecting.set(false);
        }
    }
    let _done = Done(heap);
    let start_info = CollectionInfo {
        generation,
        collected: 0,
        uncollectable: 0,
        duration: Duration::ZERO,
    };
    invoke_callbacks(heap, Phase::Start, &start_info);
    let started = Instant::now();
    let (collected, uncollectable) = collect_main(heap, generation);
    let stop_info = CollectionInfo {
        generation,
        collected,
        uncollectable,
        duration: started.elapsed(),
    };
    invoke_callbacks(heap, Phase::Stop, &stop_info);
    collected + uncollectable
}

/// The automatic trigger: collect the oldest generation whose count exceeds
/// its threshold, skipping a full collection while
/// `long_lived_pending < long_lived_total / 4`.
pub(crate) fn collect_generations(heap: &'static Heap) -> usize {
    for g in (0..NUM_GENERATIONS).rev() {
        if heap.count[g].get() > heap.threshold[g].get() {
            if g == NUM_GENERATIONS - 1
                && heap.long_lived_pending.get() < heap.long_lived_total.get() / 4
            {
                continue;
            }
            return collect_with_callback(heap, g);
        }
    }
    0
}
