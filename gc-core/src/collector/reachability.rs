//! `deduce_unreachable`: `update_refs`, `subtract_refs`, `move_unreachable`.

use super::heap::CollectorHeap;
use super::validate::validate_list;
use super::visit::{
    is_member, retry_skipped, trace_object, trace_object_reachable, trace_value,
    trace_value_subtract, AbortOnPanic, OVER_REPORTED,
};
use crate::heap::header::Node;
use crate::heap::list;
use crate::trace::{TraceMode, Tracer};
use crate::types::NUM_GENERATIONS;

/// `update_refs`: for each object in `containers`: `gc_refs = strong` and set
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
pub(super) fn update_refs<H: CollectorHeap>(containers: Node, zero_is_pending: bool) {
    let mut node = list::next(containers);
    while node != containers {
        update_ref::<H>(node, zero_is_pending);
        node = list::next(node);
    }
}

/// `update_refs` of one object.
#[inline(always)]
fn update_ref<H: CollectorHeap>(node: Node, zero_is_pending: bool) {
    let strong = H::strong(node.obj());
    let strong = if zero_is_pending {
        strong.max(1)
    } else {
        strong
    };
    node.reset_gc_refs(strong as usize);
}

/// `subtract_refs`: subtract the edges internal to `containers`: afterwards
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
/// With `fused = Some(g)` (per-thread heap, main pass) this is also `update_refs`:
/// each object gets `gc_refs = strong` when the walk or an edge first reaches
/// it (header I7 tells members from outsiders), which saves a walk over the
/// whole set; it then returns the sum of the members' `gc_refs` afterwards
/// (`Tracer::refs`; meaningless unfused).
pub(super) fn subtract_refs<H: CollectorHeap>(containers: Node, fused: Option<usize>) -> usize {
    let mut tracer = Tracer::for_heap(TraceMode::SubtractRefs, H::SYNC);
    if let Some(g) = fused {
        debug_assert!(!H::SYNC, "gc: only the per-thread heap keeps tags");
        tracer.member_tag = g;
    }
    let mut skipped = Vec::new();
    let mut node = list::next(containers);
    while node != containers {
        if fused.is_some() && !node.is_collecting() {
            first_sight::<H>(node, &mut tracer);
        }
        subtract_member::<H>(node, &mut tracer, &mut skipped);
        node = list::next(node);
    }
    trace_skipped::<H>(skipped, &mut tracer);
    tracer.report_over();
    tracer.refs
}

/// The fused first pass's walk reaches a member no edge reached before:
/// its `update_refs` (`gc_refs = strong`, COLLECTING), counted into the
/// sum of the members' `gc_refs` (`Tracer::refs`).
#[inline(always)]
fn first_sight<H: CollectorHeap>(node: Node, tracer: &mut Tracer<'_>) {
    let strong = H::strong(node.obj()) as usize;
    node.reset_gc_refs(strong);
    tracer.refs = tracer.refs.wrapping_add(strong);
}

/// `subtract_refs` of one member whose `gc_refs` is set: trace it, or put
/// it on `skipped` if its value may be lent out (MUT_EXPOSED).
#[inline(always)]
fn subtract_member<H: CollectorHeap>(node: Node, tracer: &mut Tracer<'_>, skipped: &mut Vec<Node>) {
    if H::mut_exposed(node.obj()) {
        skipped.push(node);
    } else if H::SYNC {
        trace_value(node, tracer);
    } else {
        trace_value_subtract(node, tracer);
    }
}

/// [`subtract_refs`] fused with `update_refs` (as `fused = Some(g)`) for a
/// collection of the whole per-thread heap, which finds its members by
/// sweeping the pool's pages in address order instead of following the
/// list (`FirstPass::Swept`; about half the memory cost per object:
/// BENCHMARKS.md). Subtraction does not depend on order, so what it
/// computes is what the list walk computes; the list is left as
/// `update_refs` leaves it (singly linked, counts in `prev`), and
/// `move_unreachable` walks it in list order, as always.
///
/// The sweep visits every tracked object of the heap, each once (heap
/// H2), the unlinked ones too. A member is one that is COLLECTING (an edge reached it
/// first) or tagged `<= g` (header I7: with the younger generations merged
/// into `g`, exactly the objects of its list; no collector-private list is
/// populated outside a collection, and collections do not nest). With the
/// permanent generation empty (`FROZEN == false`) every linked object is a
/// member, and the tag test is left out.
///
/// Returns the sum of the members' `gc_refs` afterwards (`Tracer::refs`)
/// and the number of members.
fn subtract_refs_swept<H: CollectorHeap, const FROZEN: bool>(heap: &H) -> (usize, usize) {
    debug_assert!(!H::SYNC, "gc: only the per-thread heap is swept");
    let g = NUM_GENERATIONS - 1;
    let mut tracer = Tracer::for_heap(TraceMode::SubtractRefs, H::SYNC);
    tracer.member_tag = g;
    let mut skipped = Vec::new();
    let mut members = 0usize;
    heap.sweep(|node| {
        // COLLECTING implies linked: outside a collection no object has it
        // (I5), an unlinked one's `prev` is 0, a deferred link or
        // PREV_DROPPED (I4, bit 0 clear), and this pass sets it on members
        // only.
        if !node.is_collecting() {
            if !is_member::<FROZEN>(node) {
                return;
            }
            first_sight::<H>(node, &mut tracer);
        }
        members += 1;
        subtract_member::<H>(node, &mut tracer, &mut skipped);
    });
    trace_skipped::<H>(skipped, &mut tracer);
    tracer.report_over();
    (tracer.refs, members)
}

/// The end of `subtract_refs` for the objects it skipped as MUT_EXPOSED
/// (see [`subtract_refs`]): trace each whose `gc_refs` reached zero, until
/// none is left. `tracer` subtracts (`SubtractRefs`).
#[inline(always)]
pub(super) fn trace_skipped<H: CollectorHeap>(skipped: Vec<Node>, tracer: &mut Tracer<'_>) {
    if !skipped.is_empty() {
        retry_skipped::<H>(
            skipped,
            |node| node.gc_refs() == 0,
            |node| trace_value(node, tracer),
        );
    }
}

/// `move_unreachable`: split `young` into reachable (stays, links restored, COLLECTING
/// cleared) and `unreachable` (COLLECTING kept, `next` tagged with
/// NEXT_UNREACHABLE until `move_legacy_finalizers` clears it).
///
/// Returns the number of reachable objects left in `young`.
///
/// Survivors get the generation tag `survivor_tag` (header I7): the caller
/// merges them into that generation.
///
/// With `COUNT_MOVES` (a swept full collection, whose count guides the
/// next one's choice of a side table) also returns the number of moves to
/// `unreachable` (an object moved and rescued counts once per move); else
/// 0, and the loop counts nothing.
///
/// Not inlined into [`deduce_unreachable`]: its loop keeps its values in
/// registers then (inlined, one was reloaded from the stack per object).
#[inline(never)]
pub(super) fn move_unreachable<H: CollectorHeap, const COUNT_MOVES: bool>(
    young: Node,
    unreachable: Node,
    survivor_tag: usize,
) -> (usize, usize) {
    let mut reachable = 0;
    let mut moves = 0;
    let mut prev = young;
    let mut node = list::next(young);
    let mut tracer = Tracer::for_heap(TraceMode::VisitReachable { young }, H::SYNC);
    while node != young {
        if node.gc_refs() > 0 {
            if H::SYNC {
                trace_object::<H>(node, &mut tracer);
            } else {
                trace_object_reachable::<H>(node, &mut tracer);
            }
            // Relink to prev (the prev field held gc_refs); this also
            // clears COLLECTING.
            list::relink_survivor(node, prev, survivor_tag);
            prev = node;
            reachable += 1;
            node = list::next(prev);
        } else {
            // Move to unreachable; `young` is singly linked here.
            list::move_tentatively_unreachable(prev, node, unreachable);
            moves += usize::from(COUNT_MOVES);
            node = list::next(prev);
            // `young`'s own `prev` word is an address (its tail, or itself),
            // never below 8: read as `gc_refs` it is not 0, so this is
            // false at the head without comparing with it.
            if node.gc_refs() == 0 {
                // A run: the rest of it in one go (nothing is traced in
                // between, so no rescue can interleave).
                moves += list::move_tentatively_unreachable_run::<COUNT_MOVES>(
                    prev,
                    node,
                    unreachable,
                    young,
                );
                node = list::next(prev);
            }
        }
    }
    // Restore `young`'s tail link; the unreachable head's next may carry
    // the tag: clean it.
    list::finish_move_unreachable(young, prev, unreachable);
    (reachable, moves)
}

/// How [`deduce_unreachable`] gets `gc_refs = strong` onto its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstPass {
    /// A walk of its own: [`update_refs`].
    Update,
    /// [`update_refs`]' walk, which also reverses the list (singly linked,
    /// `list::reverse_singly`), so that `move_unreachable` scans it newest
    /// first. The incremental mode's young collections: an aging space is
    /// in allocation order and objects mostly point at older ones, so
    /// scanned oldest first nearly every object is moved to `unreachable`
    /// and rescued from there (the costliest path of `move_unreachable`);
    /// newest first, each is found reachable from its referrer before the
    /// scan reaches it. The order of survivors and trash is not CPython's
    /// (whose collector has no such collection); what is found is the same.
    UpdateReversed,
    /// Per-thread heap: the set is generation `g`, all of whose younger
    /// objects were merged into it; [`subtract_refs`] does `update_refs`
    /// on first sight (header I7).
    Fused(usize),
    /// As `Fused(g)` for the oldest generation `g` (the set is every
    /// tracked object of the per-thread heap but the frozen ones), on a
    /// heap the pool's sweep covers (heap H2): [`subtract_refs_swept`]
    /// walks the pool's pages in address order instead of the list.
    Swept,
    /// `update_refs` and `subtract_refs` done already, as the objects
    /// joined the set (per-thread heap, the incremental mode's increment:
    /// `incremental::form_increment`, which also reset and may have set
    /// `OVER_REPORTED`): the list is singly linked, every object COLLECTING
    /// with `gc_refs` counting the references from outside the set.
    Subtracted,
}

/// What [`deduce_unreachable`] found.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deduced {
    /// The number of reachable objects left in `base`.
    pub(super) survivors: usize,
    /// `unreachable` is singly linked (the all-trash shortcut, allowed by
    /// the caller's `singly_ok`): `next` links as always and the head's
    /// `prev` names the tail, but of the objects only the first has a `prev`
    /// link; the others' `prev` holds `gc_refs` 0 with COLLECTING (L2's
    /// exception, as `update_refs` leaves a list) until the delete walk
    /// links each before it needs it (`delete::drop_and_free`).
    pub(super) singly: bool,
}

/// `deduce_unreachable`: `update_refs`, `subtract_refs`, `move_unreachable`. Also handles HAZARDS 1: if a
/// count went below zero, everything is declared reachable.
///
/// `first`: how `update_refs` is done (see [`FirstPass`]). Survivors are
/// tagged `survivor_tag`.
///
/// **All trash.** After a fused first pass (`Fused`, `Swept`) the tracer
/// knows the sum of the members' `gc_refs`; when it is 0 no member is
/// referenced from outside the set, so every member is trash and
/// `move_unreachable` is skipped: it would move each object, in list
/// order, to `unreachable` and rescue none (only a reachable object's
/// trace rescues, and none is reachable), which is what moving the whole
/// list at once gives — the same trash in the same order (the set of a
/// dead-only collection: workloads b and c dead, a young generation of
/// dropped cycles). With `singly_ok` (the caller walks the trash only with
/// `next` until the delete walk, which links `prev` as it goes) the list
/// stays singly linked; otherwise one walk makes it what `move_unreachable`
/// leaves (`prev` links, `NEXT_UNREACHABLE`).
pub(super) fn deduce_unreachable<H: CollectorHeap>(
    heap: &H,
    base: Node,
    unreachable: Node,
    zero_is_pending: bool,
    first: FirstPass,
    survivor_tag: usize,
    singly_ok: bool,
) -> Deduced {
    let guard = AbortOnPanic::new();
    if first != FirstPass::Subtracted {
        OVER_REPORTED.with(|f| f.set(false));
    }
    if first == FirstPass::Swept {
        // A side table leaves the survivors untouched (`collector::side`).
        if let Some((survivors, singly)) =
            super::side::deduce_side(heap, base, unreachable, survivor_tag, singly_ok)
        {
            drop(guard);
            validate_list(base, Some(false));
            return Deduced { survivors, singly };
        }
    }
    // The sum of the members' `gc_refs` after a fused first pass.
    let mut refs = None;
    // The number of members of a swept set.
    let mut members = None;
    let fused = match first {
        FirstPass::Update => {
            update_refs::<H>(base, zero_is_pending);
            None
        }
        FirstPass::UpdateReversed => {
            list::reverse_singly(base, |node| update_ref::<H>(node, zero_is_pending));
            None
        }
        FirstPass::Fused(g) => Some(g),
        FirstPass::Swept => {
            // Without frozen objects every linked object is a member.
            let (sum, n) = if list::is_empty(heap.permanent_head()) {
                subtract_refs_swept::<H, false>(heap)
            } else {
                subtract_refs_swept::<H, true>(heap)
            };
            refs = Some(sum);
            members = Some(n);
            None
        }
        FirstPass::Subtracted => {
            debug_assert!(!H::SYNC, "gc: only the per-thread heap forms increments");
            None
        }
    };
    if !matches!(first, FirstPass::Subtracted | FirstPass::Swept) {
        let sum = subtract_refs::<H>(base, fused);
        if fused.is_some() {
            refs = Some(sum);
        }
    }
    if OVER_REPORTED.with(|f| f.get()) {
        let mut node = list::next(base);
        while node != base {
            node.set_gc_refs(1);
            node = list::next(node);
        }
    } else if refs == Some(0) {
        // All trash (see above).
        if let Some(n) = members {
            heap.note_full_collection(n, n, false);
        }
        list::take_singly(base, unreachable);
        if !singly_ok {
            list::relink_unreachable(unreachable);
        }
        drop(guard);
        validate_list(base, Some(false));
        return Deduced {
            survivors: 0,
            singly: singly_ok,
        };
    }
    let (survivors, moves) = if members.is_some() {
        move_unreachable::<H, true>(base, unreachable, survivor_tag)
    } else {
        move_unreachable::<H, false>(base, unreachable, survivor_tag)
    };
    if let Some(n) = members {
        heap.note_full_collection(n, moves, false);
    }
    drop(guard);
    validate_list(base, Some(false));
    Deduced {
        survivors,
        singly: false,
    }
}
