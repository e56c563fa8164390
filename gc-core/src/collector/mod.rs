//! The generational cycle collector: CPython 3.12's `gc_collect_main`, phase
//! by phase, over the per-thread heap's lists.
//!
//! # The pipeline (see `DESIGN.md` for the why)
//!
//! ```text
//! gc_collect_main(generation):
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
//! # Files, in pipeline order
//!
//! * `heap.rs` — [`CollectorHeap`], what a heap provides to the collector.
//! * `visit.rs` — the tracer's visits: one edge in each mode (CPython's
//!   `visit_decref`, `visit_reachable`, `visit_move`), also used by the `gc`
//!   and `debug` queries.
//! * `reachability.rs` — `deduce_unreachable`: `update_refs`,
//!   `subtract_refs`, `move_unreachable`.
//! * `legacy.rs` — `move_legacy_finalizers`,
//!   `move_legacy_finalizer_reachable`, `handle_legacy_finalizers`.
//! * `weakrefs.rs` — `handle_weakrefs` (clearing half, world stopped; the
//!   callbacks, world running).
//! * `finalize.rs` — `finalize_garbage`, `handle_resurrected_objects`.
//! * `delete.rs` — `delete_garbage`.
//! * `validate.rs` — `validate_list` (and the generation-tag check) between
//!   phases, debug builds only.
//! * `policy.rs` — when to collect (`gc_collect_generations`' choice).
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
//! (see `sync`'s module docs). The world is stopped from `update_refs`
//! through `move_legacy_finalizer_reachable` and the weak-clearing half of
//! `handle_weakrefs`, released while user code runs (callbacks,
//! finalizers), stopped again for `handle_resurrected_objects`, and
//! released for `delete_garbage`: user
//! code never runs while the world is stopped (HAZARDS 18).

mod delete;
mod finalize;
mod heap;
mod heaps;
pub(crate) mod incremental;
mod legacy;
mod policy;
mod reachability;
mod side;
mod side_visit;
mod validate;
mod visit;
mod weakrefs;

pub(crate) use heap::CollectorHeap;
pub(crate) use policy::due;
pub(crate) use visit::trace_object;

use crate::heap::header::Node;
use crate::heap::list::{self, List};
use crate::heap::weakcb::{run_reporting_panics, GcCallbackCell};
use crate::types::{CollectionInfo, DebugFlags, Phase, NUM_GENERATIONS};
use delete::delete_garbage;
use finalize::{finalize_garbage, handle_resurrected_objects, keep_unconfirmed_trash};
use legacy::{handle_legacy_finalizers, move_legacy_finalizer_reachable, move_legacy_finalizers};
use reachability::{deduce_unreachable, FirstPass};
use std::time::{Duration, Instant};
use validate::{validate_list, validate_tags};
use weakrefs::{handle_weakrefs, run_weak_callbacks};

fn debug_cycle(what: &str, node: Node) {
    let obj = node.obj();
    eprintln!(
        "gc: {what} <{} {:p}>",
        (obj.vtable.type_name)(),
        obj.value_ptr()
    );
}

/// Collect the objects of the list `young` (`update_refs` through
/// `handle_legacy_finalizers`): survivors, objects resurrected by
/// finalizers and legacy-finalizer garbage join `old` with generation tag
/// `old_tag` (header I7); trash is reclaimed. `young` may be `old` (a
/// collection of the oldest generation). `first`: how `update_refs` is
/// done ([`FirstPass`]: its own walk, fused into `subtract_refs` when
/// `young` is generation `g` of the per-thread heap with all of its
/// younger objects merged into it (header I7), or already done as the
/// objects joined `young`).
///
/// The world is stopped on entry (the caller stopped it) and running on
/// return. Returns `(collected, uncollectable, survivors)`.
///
/// This is CPython 3.13's `gc_collect_region`: the same pipeline serves the
/// generational collector and the incremental one (`incremental`), so
/// trash found in an increment is handled exactly as in a full collection.
pub(crate) fn gc_collect_region<H: CollectorHeap>(
    heap: &H,
    young: Node,
    old: Node,
    old_tag: usize,
    first: FirstPass,
) -> (usize, usize, usize) {
    let debug = heap.debug();
    if first != FirstPass::Subtracted {
        validate_list(young, Some(false));
    }
    // A collection of the whole heap (but the frozen objects) on a heap
    // whose pool's sweep finds every tracked object (heap H2) finds its
    // set in address order.
    let first = match first {
        FirstPass::Fused(g) if g == NUM_GENERATIONS - 1 && heap.sweepable() => FirstPass::Swept,
        other => other,
    };
    // Without any object of a legacy-finalizer type on the heap,
    // move_legacy_finalizers has nothing to move: handle_weakrefs clears
    // NEXT_UNREACHABLE instead.
    let legacy = heap.may_hold_legacy_finalizers();
    // The lean path (per-thread heap, no trash object can have a PEP 442
    // finalizer or a weak callback, no debug output): handle_weakrefs, finalize_garbage and
    // handle_resurrected_objects have
    // nothing to do (see the module docs for the user code that does run
    // during delete_garbage, and why it cannot reach trash). Weak handles
    // need no clearing walk either: upgrades of trash fail on its
    // COLLECTING flag until it is freed (header I2), and delete_garbage
    // clears the NEXT_UNREACHABLE bits as it goes.
    let lean = !H::SYNC
        && debug.is_empty()
        && !heap.has_weak_callbacks()
        && !heap.may_hold_pep442_finalizers();
    let unreachable = List::new();
    // On the lean path without legacy finalizers nothing walks the trash
    // before delete_garbage, whose walk can link a singly linked list.
    let deduced = deduce_unreachable(
        heap,
        young,
        unreachable.head(),
        H::SYNC,
        first,
        old_tag,
        lean && !legacy,
    );
    let survivors = deduced.survivors;
    if young != old {
        list::merge(young, old);
    }

    let finalizers = List::new();
    if legacy {
        move_legacy_finalizers(unreachable.head(), finalizers.head());
        move_legacy_finalizer_reachable::<H>(finalizers.head());
        validate_list(finalizers.head(), Some(false));
        validate_list(unreachable.head(), Some(true));
    }

    let mut collected = 0;
    let mut finalizers_ran = false;
    if lean {
        heap.resume_world();
    } else {
        let (to_call, discarded, to_finalize) = handle_weakrefs(heap, unreachable.head(), !legacy);
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
        if heap.stop_world() {
            handle_resurrected_objects(
                heap,
                unreachable.head(),
                final_unreachable.head(),
                old,
                old_tag,
            );
            heap.resume_world();
        } else {
            keep_unconfirmed_trash(heap, unreachable.head(), old, old_tag);
        }
    } else {
        list::merge(unreachable.head(), final_unreachable.head());
    }
    collected += delete_garbage(heap, final_unreachable.head(), old, old_tag, deduced.singly);

    let mut uncollectable = 0;
    for node in list::iter(finalizers.head()) {
        uncollectable += 1;
        if debug.contains(DebugFlags::UNCOLLECTABLE) {
            debug_cycle("uncollectable", node);
        }
    }
    handle_legacy_finalizers(heap, finalizers.head(), old, old_tag);
    (collected, uncollectable, survivors)
}

/// CPython's `gc_collect_main`: collect `generation`; returns
/// `(collected, uncollectable)`, or `None` if the world could not be stopped
/// (nothing was done). The caller has made sure no other collection of
/// this heap runs.
pub(crate) fn gc_collect_main<H: CollectorHeap>(
    heap: &H,
    generation: usize,
) -> Option<(usize, usize)> {
    let debug = heap.debug();
    let started = Instant::now();
    if !heap.stop_world() {
        return None;
    }
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

    // Generation tags (header I7): survivors and anything else that joins
    // `old` get its index.
    let old_tag = (generation + 1).min(NUM_GENERATIONS - 1);
    let first = if H::SYNC {
        FirstPass::Update
    } else {
        FirstPass::Fused(generation)
    };
    let (collected, uncollectable, survivors) = gc_collect_region(heap, young, old, old_tag, first);
    // Survivors age.
    if young != old {
        if generation == NUM_GENERATIONS - 2 {
            heap.add_long_lived_pending(survivors);
        }
    } else {
        heap.set_long_lived(survivors);
    }
    finish_collection(heap, generation, started, collected, uncollectable)
}

/// The end of every collection, both modes (CPython's `gc_collect_main`
/// tail): the `DEBUG_STATS` line and the generation's statistics.
pub(super) fn finish_collection<H: CollectorHeap>(
    heap: &H,
    generation: usize,
    started: Instant,
    collected: usize,
    uncollectable: usize,
) -> Option<(usize, usize)> {
    if heap.debug().contains(DebugFlags::STATS) {
        eprintln!(
            "gc: done, {} unreachable, {} uncollectable, {:.4}s elapsed",
            collected + uncollectable,
            uncollectable,
            started.elapsed().as_secs_f64()
        );
    }
    heap.record_stats(generation, collected, uncollectable);
    Some((collected, uncollectable))
}

/// Collect `generation` between the `Phase::Start` and `Phase::Stop` `gc`
/// callbacks (CPython's `gc_collect_with_callback`); the one place `gc`
/// callbacks run. `None` if no collection could run: one runs already (no
/// nesting), or, on the sync heap, this thread holds a permit (S6) or the
/// world did not stop within `timeout` (which the per-thread heap ignores).
pub(crate) fn gc_collect_with_callback<H: CollectorHeap>(
    heap: &H,
    generation: usize,
    timeout: Duration,
) -> Option<usize> {
    if !heap.begin_collecting(timeout) {
        return None;
    }
    struct Done<'a, H: CollectorHeap>(&'a H);
    impl<H: CollectorHeap> Drop for Done<'_, H> {
        fn drop(&mut self) {
            self.0.end_collecting();
        }
    }
    let _done = Done(heap);
    let start_info = CollectionInfo {
        generation,
        collected: 0,
        uncollectable: 0,
        duration: Duration::ZERO,
    };
    run_gc_callbacks(heap, Phase::Start, &start_info);
    let started = Instant::now();
    let result = heap.run_collection(generation);
    // A collection that could not stop the world still ends its callbacks'
    // start/stop pair (with nothing collected).
    let (collected, uncollectable) = result.unwrap_or((0, 0));
    let stop_info = CollectionInfo {
        generation,
        collected,
        uncollectable,
        duration: started.elapsed(),
    };
    run_gc_callbacks(heap, Phase::Stop, &stop_info);
    result.map(|(c, u)| c + u)
}

/// Run the `gc` callbacks registered now, each once, panics reported; a
/// callback that is running already (it collected) is skipped.
fn run_gc_callbacks<H: CollectorHeap>(heap: &H, phase: Phase, info: &CollectionInfo) {
    for cb in heap.gc_callbacks() {
        run_reporting_panics(&|| "gc callback".to_string(), || {
            cb.call_unless_running(phase, info)
        });
    }
}
