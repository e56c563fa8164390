//! PEP 848's generational-incremental collector
//! ([`Mode::Incremental`](crate::gc::Mode::Incremental)) over
//! the per-thread heap.
//!
//! # The spaces (see `heap::spaces` for the lists and tags)
//!
//! New objects go to the *nursery*. Every `threshold0` net allocations the
//! automatic trigger fires (the nursery is "half full", in the PEP's words),
//! and the triggers alternate:
//!
//! * a **young collection** (generation 0): the nursery becomes the newest
//!   *aging space*; once there are more than `ceil_even(threshold1) / 2`
//!   aging spaces, the oldest is collected and its survivors are promoted to
//!   the old generation's *visited* space (PEP 848; see "Where promoted
//!   objects go"). An object is scanned once before promotion, not twice as
//!   in the generational mode.
//! * an **increment** (generation 1) of the old generation: starting from
//!   the least recently scanned object (the head of the *pending* space), the
//!   increment takes that object and everything it transitively reaches in
//!   the pending space, and again from the new head, until it holds
//!   `work_to_do` objects; it is collected as one region, survivors join the
//!   visited space. When the pending space is empty the sweep is complete:
//!   visited and pending swap roles (a flag flip, no walk).
//!
//! `collect_generation(2)` and `collect()` collect the whole heap (nursery,
//! aging spaces and both old spaces) at once; all of it ends up in the
//! visited space, so the next increment starts a new sweep.
//!
//! # Where promoted objects go
//!
//! As PEP 848's pseudocode says, young survivors join the visited space:
//! the sweep under way does not scan them, the next one does. They wait on
//! a list of their own (`Spaces::promoted`, with the visited tag), which
//! joins the visited list's tail when the sweep ends, behind the objects
//! the sweep visited. The reason is the order of the old generation: a
//! sweep takes increments from the pending space's head, and the closure of
//! an object takes whatever it reaches that is still pending. Kept in
//! promotion order — everything the sweep visited was old when it started,
//! so older than what was promoted meanwhile — the old generation stays
//! ordered oldest first, and objects usually point at older ones (a
//! structure is built from parts that exist before it), so an increment's
//! closure finds its referents already visited and stays small. (Within
//! one young collection's survivors the order is newest first: its first
//! pass reverses the aging space, [`FirstPass::UpdateReversed`], and
//! survivors keep the scan order. So the old generation is ordered oldest
//! first by batch, and the closure of a batch's first object takes what it
//! reaches of its own batch: at most one young collection's survivors,
//! which the budget grants anyway.) Appended
//! to the visited list as they come, newly promoted parents would be
//! interleaved ahead of the children the sweep moves there later; in the
//! next sweep a parent would come first and its closure would take every
//! pending descendant: measured on a 2M-object chain built with automatic
//! collection on, 183 s against 0.94 s (gc-bench `pauses`, "growing").
//!
//! (Until 2026-12-03 promoted objects joined the pending space's tail,
//! which keeps the same order; but then the sweep under way scans them too,
//! and it must outpace promotion to end: it took `threshold0` objects per
//! increment on top of the promoted ones, about 1.5 increment scans per
//! object of a growing heap against PEP 848's one.)
//!
//! # The work budget, in objects
//!
//! Each increment's budget grows by the number of objects young collections
//! promoted since the last increment (the sweep keeps pace with promotion:
//! PEP 848), but by at least `threshold0` (progress even when nothing is
//! promoted, as CPython 3.14's budget grows with new objects: old garbage
//! is found by automatic collection alone, however steady the heap). Each
//! increment spends it: `work_to_do -= survivors`, and `work_to_do += 2 *
//! reclaimed` (much garbage found: sweep faster, PEP 848). It is capped at
//! the young generation's size, `threshold0 * (threshold1 + 2)` — more than
//! one young collection can promote — so an increment never grows without
//! bound from accumulated budget; unspent budget is dropped when a sweep
//! completes, debt is kept (see `finish_sweep`). A sweep therefore scans
//! the old generation as it was when the sweep started, and nothing is
//! added to its pending space meanwhile: in a heap that only grows, each
//! object is scanned by about one increment.
//!
//! An increment is a transitive closure, so one increment may exceed its
//! budget: a single pending object that reaches most of the old generation
//! (the root of a large tree, when the root happens to be the least recently
//! scanned object) makes an increment as large as a full collection. The
//! PEP names this limit (its "Future work"). It is the rule, not the
//! exception, for a live heap that is one strongly connected component (a
//! tree whose nodes hold their parent: every closure is the whole tree, so
//! the first increment of every sweep is a full collection of it; measured
//! in BENCHMARKS.md). Heaps whose references point from newer to older
//! objects (children built before parents, without back-references) are
//! swept in small increments.
//!
//! # Why every unreachable cycle is collected (PEP 848's argument)
//!
//! Collecting a region frees every cycle wholly in the region that nothing
//! outside it references (the same `gc_collect_region` as the generational
//! mode: `gc_refs` counts references from outside the region, so the region
//! can be any set of objects and nothing reachable is freed). An increment
//! is closed under references within the pending space, so a garbage cycle
//! that is wholly in the pending space when an increment takes one of its
//! objects is wholly in that increment. Every young object is eventually
//! promoted or freed, every sweep empties the pending space (nothing joins
//! it while the sweep runs), and the budget is positive at least every other
//! increment, so: a garbage cycle that is
//! wholly old when a sweep starts and not referenced by other garbage is
//! freed during that sweep; a cycle referenced by other garbage is freed in
//! the sweep after its referrers are (in a chain of garbage cycles each
//! sweep frees at least the cycles nothing else references). A cycle
//! spanning young and old objects is wholly old once its young objects are
//! promoted. `collect()` frees all of it at once, as the generational mode
//! does.
//!
//! # Everything else holds inside an increment
//!
//! Young collections, increments and full collections all run
//! `gc_collect_region`: PEP 442 finalizers once, resurrection (resurrected
//! objects join the visited space), legacy finalizers to `gc.garbage`, weak
//! handles cleared and their callbacks run, SAVEALL, panics of user code
//! contained (a panicking `Trace` impl aborts, as it does anywhere in the
//! collector). Frozen objects are on the permanent list, which no
//! collection scans and no increment's closure enters (their tag is
//! `TAG_PERMANENT`, never the pending space's). Untracked objects are on no
//! list and never traced.
//!
//! The fused first pass of the generational mode serves the full collection
//! (everything but the frozen objects is collected, and every tag but
//! `TAG_PERMANENT` is `<= 2`), not young collections: it tells members of
//! the collected set by their tag (`<= g`), and young objects outside the
//! collected aging space share tag 0. A young collection's `update_refs`
//! walk reverses its list instead ([`FirstPass::UpdateReversed`]), so that
//! `move_unreachable` scans the aging space newest first: objects mostly
//! point at older ones, so each is then marked reachable by its referrer
//! before the scan reaches it, instead of being moved to `unreachable` and
//! rescued (in allocation order nearly every object of a growing heap
//! was). An increment saves more another way: the closure walk does each
//! object's `update_refs` as it takes it (`COLLECTING` set, `gc_refs =
//! strong`), which is also the mark that it was taken — the pending tag on
//! an object without `COLLECTING` means "in the pending space, not yet
//! taken" — and subtracts each edge it follows between objects of the
//! increment, so the region is collected with [`FirstPass::Subtracted`]
//! (see `form_increment`).

use super::heap::CollectorHeap;
use super::reachability::trace_skipped;
use super::validate::validate_tags;
use super::visit::{take_into_increment, trace_value, AbortOnPanic, OVER_REPORTED};
use super::{finish_collection, gc_collect_region, FirstPass};
use crate::heap::header::Node;
use crate::heap::list::{self, List};
use crate::heap::Heap;
use crate::trace::{TraceMode, Tracer};
use crate::types::{DebugFlags, NUM_GENERATIONS};
use std::time::Instant;

/// The number of aging spaces: `threshold1` half-spaces, rounded up to an
/// even number, make `ceil(threshold1 / 2)` nursery-sized spaces.
fn aging_spaces(heap: &Heap) -> usize {
    heap.gen.threshold[1].get().div_ceil(2)
}

/// The cap of the work budget: the young generation's size.
fn work_cap(heap: &Heap) -> isize {
    let t0 = heap.gen.threshold[0].get().max(1);
    let t1 = heap.gen.threshold[1].get();
    t0.saturating_mul(t1.saturating_add(2))
        .min(isize::MAX as usize) as isize
}

/// Collect `generation` in the incremental mode: 0 a young collection, 1 an
/// increment of the old generation, 2 the whole heap. Returns
/// `Some((collected, uncollectable))` (the per-thread heap's world always
/// stops). The caller has made sure no other collection of this heap runs.
pub(crate) fn collect(heap: &Heap, generation: usize) -> Option<(usize, usize)> {
    let debug = heap.gen.debug.get();
    let started = Instant::now();
    if debug.contains(DebugFlags::STATS) {
        let young: usize = std::iter::once(heap.gen_head(0))
            .chain(heap.spaces.aging_heads())
            .map(list::len)
            .sum();
        eprintln!("gc: collecting generation {generation}...");
        eprintln!(
            "gc: objects in each space: young {young}, old pending {}, old visited {}",
            list::len(heap.gen_head(heap.spaces.pending())),
            list::len(heap.gen_head(heap.spaces.visited.get()))
                + list::len(heap.spaces.promoted.head()),
        );
        eprintln!(
            "gc: objects in permanent generation: {}",
            list::len(heap.permanent.head())
        );
    }
    // A full collection uses the fused first pass: check every tag.
    validate_tags(
        heap,
        if generation >= 2 {
            NUM_GENERATIONS - 1
        } else {
            0
        },
    );
    validate_aging_tags(heap);
    let (collected, uncollectable) = match generation {
        0 => young_collection(heap),
        1 => increment(heap),
        _ => full_collection(heap),
    };
    finish_collection(heap, generation, started, collected, uncollectable)
}

/// Debug builds: the first 1 000 objects of each aging space carry tag 0,
/// those of the promoted list the visited tag (header I7).
fn validate_aging_tags(heap: &Heap) {
    if !cfg!(debug_assertions) {
        return;
    }
    for head in heap.spaces.aging_heads() {
        for node in list::iter(head).take(1000) {
            assert_eq!(node.tag(), 0, "gc: aging space tag (header I7) wrong");
        }
    }
    for node in list::iter(heap.spaces.promoted.head()).take(1000) {
        assert_eq!(
            node.tag(),
            heap.spaces.visited.get(),
            "gc: promoted list tag (header I7) wrong"
        );
    }
}

/// A young collection: the nursery becomes the newest aging space, the
/// aging spaces beyond their number are collected, survivors are promoted
/// to the visited space and added to the work budget.
fn young_collection(heap: &Heap) -> (usize, usize) {
    let spaces = &heap.spaces;
    heap.gen.count[0].set(0);
    heap.gen.count[1].set(heap.gen.count[1].get() + 1);
    let newest = spaces.take_list();
    list::merge(heap.gen_head(0), newest.head());
    let oldest = {
        let mut aging = spaces.aging.borrow_mut();
        aging.push_front(newest);
        let keep = aging_spaces(heap);
        if aging.len() <= keep {
            return (0, 0);
        }
        let Some(oldest) = aging.pop_back() else {
            unreachable!("gc: more aging spaces than kept, yet none")
        };
        while aging.len() > keep {
            let Some(extra) = aging.pop_back() else { break };
            list::merge(extra.head(), oldest.head());
            spaces.give_back(extra);
        }
        oldest
    };
    // Survivors join the visited space, on its promoted list (see the
    // module docs, "Where promoted objects go"); the next increment's
    // budget grows by as many.
    let (collected, uncollectable, survivors) = gc_collect_region(
        heap,
        oldest.head(),
        spaces.promoted.head(),
        spaces.visited.get(),
        FirstPass::UpdateReversed,
    );
    spaces.give_back(oldest);
    spaces
        .promoted_since
        .set(spaces.promoted_since.get().saturating_add(survivors));
    (collected, uncollectable)
}

/// The pending space is empty: the sweep is complete. The visited space
/// becomes the pending one (a flag flip) and unspent budget is dropped (PEP
/// 848 resets it to 0) — but debt is kept: an increment whose closure
/// overshot its budget (a strongly connected heap makes one closure of the
/// whole old generation) is paid for before the next one starts, so the
/// collector's work stays proportional to allocation. Forgiving it made a
/// heap with parent handles collect itself whole at every other trigger.
fn finish_sweep(heap: &Heap) {
    let spaces = &heap.spaces;
    // The objects promoted during the sweep follow the ones it visited.
    list::merge(spaces.promoted.head(), heap.gen_head(spaces.visited.get()));
    spaces.visited.set(spaces.pending());
    spaces.work_to_do.set(spaces.work_to_do.get().min(0));
    heap.gen.count[2].set(0);
}

/// One increment of the old generation (see the module docs).
fn increment(heap: &Heap) -> (usize, usize) {
    let spaces = &heap.spaces;
    heap.gen.count[0].set(0);
    heap.gen.count[1].set(0);
    if list::is_empty(heap.gen_head(spaces.pending())) {
        finish_sweep(heap);
    }
    heap.gen.count[2].set(heap.gen.count[2].get() + 1);
    // PEP 848: the budget keeps pace with promotion; at least threshold0,
    // so that a sweep ends however few objects are promoted.
    let t0 = heap.gen.threshold[0].get().max(1);
    let grant = spaces.promoted_since.replace(0).max(t0);
    let budget = spaces
        .work_to_do
        .get()
        .saturating_add(grant.min(isize::MAX as usize) as isize)
        .min(work_cap(heap));
    spaces.work_to_do.set(budget);
    if budget <= 0 {
        return (0, 0);
    }
    let visited_tag = spaces.visited.get();
    let pending_tag = spaces.pending();
    let increment = List::new();
    let size = form_increment(
        heap.gen_head(pending_tag),
        increment.head(),
        pending_tag,
        budget as usize,
    );
    let (collected, uncollectable, survivors) = gc_collect_region(
        heap,
        increment.head(),
        heap.gen_head(visited_tag),
        visited_tag,
        FirstPass::Subtracted,
    );
    let reclaimed = size.saturating_sub(survivors) as isize;
    let work = spaces
        .work_to_do
        .get()
        .saturating_sub(survivors as isize)
        .saturating_add(reclaimed.saturating_mul(2));
    spaces.work_to_do.set(work.min(work_cap(heap)));
    if list::is_empty(heap.gen_head(pending_tag)) {
        finish_sweep(heap);
    }
    (collected, uncollectable)
}

/// Move objects from `pending` to `increment` until it holds at least
/// `budget` objects or `pending` is empty: each time the least recently
/// scanned pending object (the head) and everything it transitively
/// reaches within `pending`. Returns the number moved.
///
/// The walk that forms the closure is also `update_refs` and
/// `subtract_refs` of the increment (`visit::visit_closure`): each object
/// gets `gc_refs = strong` as it is taken (COLLECTING set), which also
/// marks it as taken (the closure takes only objects that are not
/// COLLECTING and carry the pending tag), and each edge from an object of
/// the increment to one taken already, or taken by that edge, is
/// subtracted. Every object of the increment is traced once, when the scan
/// reaches it, so every edge between its objects is subtracted exactly once
/// — as `subtract_refs` would — and the increment is collected with
/// [`FirstPass::Subtracted`]: two walks fewer. Objects whose value
/// `Gc::get_mut` may have lent out are not traced (nothing they reach is
/// taken through them) and get `subtract_refs`' treatment at the end
/// (`reachability::trace_skipped`). The increment is singly linked from
/// here on, as `update_refs` leaves a list; survivors get the visited tag
/// from `move_unreachable`.
///
/// Only `Trace::trace` runs here; a panic in it aborts (the increment is a
/// local list the unwinding would free under its objects).
fn form_increment(pending: Node, increment: Node, pending_tag: usize, budget: usize) -> usize {
    let _guard = AbortOnPanic::new();
    OVER_REPORTED.with(|f| f.set(false));
    let mut tracer = Tracer::new(TraceMode::Closure {
        increment,
        pending_tag,
    });
    let mut skipped = Vec::new();
    let mut size = 0;
    let mut last = increment;
    while size < budget && !list::is_empty(pending) {
        let mut node = list::next(pending);
        take_into_increment(node, increment, 0);
        // Scan from the closure's first object to the end of the increment;
        // what the scan takes is appended and scanned in turn.
        while node != increment {
            if Heap::mut_exposed(node.obj()) {
                skipped.push(node);
            } else {
                trace_value(node, &mut tracer);
            }
            size += 1;
            last = node;
            node = list::next(node);
        }
    }
    debug_assert!(size == 0 || list::prev(increment) == last);
    trace_skipped::<Heap>(skipped, &mut Tracer::new(TraceMode::SubtractRefs));
    size
}

/// The whole heap: the nursery, the aging spaces and the pending space join
/// the visited space, which is collected as one region. The pending space
/// is left empty, so the next increment starts a new sweep.
fn full_collection(heap: &Heap) -> (usize, usize) {
    let spaces = &heap.spaces;
    for c in &heap.gen.count {
        c.set(0);
    }
    let visited_tag = spaces.visited.get();
    let visited = heap.gen_head(visited_tag);
    let aging: Vec<List> = spaces.aging.borrow_mut().drain(..).collect();
    for space in aging.into_iter().rev() {
        list::merge(space.head(), visited);
        spaces.give_back(space);
    }
    list::merge(heap.gen_head(0), visited);
    list::merge(heap.gen_head(spaces.pending()), visited);
    list::merge(spaces.promoted.head(), visited);
    // Every linked object but the frozen ones (TAG_PERMANENT) is on
    // `visited` now, and their tags (0, 1, 2) are all `<= 2`: the fused
    // first pass tells members by tag, as for a full collection of the
    // generational mode (header I7).
    let (collected, uncollectable, _) = gc_collect_region(
        heap,
        visited,
        visited,
        visited_tag,
        FirstPass::Fused(NUM_GENERATIONS - 1),
    );
    spaces.work_to_do.set(0);
    spaces.promoted_since.set(0);
    heap.gen.count[2].set(0);
    (collected, uncollectable)
}
