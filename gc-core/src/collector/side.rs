//! Full collections with a side table: trial deletion that leaves the
//! surviving objects untouched.
//!
//! CPython keeps `gc_refs` in each object's header, so `update_refs`,
//! `subtract_refs` and `move_unreachable` each write every object of the
//! set and every object an edge reaches: a full collection of a large live
//! heap dirties all of it (and writes it back) twice. A full collection of
//! the per-thread heap whose pool's sweep finds every tracked object (heap
//! H2, `FirstPass::Swept`) keeps its per-object state in a *side table*
//! instead: one `u32` per allocated pool block, found from the block's
//! address through its page header (`pool::side_index`, P5), holding the
//! number of edges from members to the object and two flags
//! (`side_visit::SIDE_REACHABLE`, `SIDE_TENTATIVE`). The objects
//! are only read, except those that turn out to be trash (moved to the
//! unreachable list, as CPython moves them) and the younger generations'
//! survivors (their generation tag changes, I7).
//!
//! * **First pass** ([`count_edges`]): the pool's sweep, address order. A
//!   member (linked; not frozen, I7) is traced, which adds one to the
//!   entry of each target (a target outside the set is counted too, and
//!   its entry is never read: only members are on the list). `gc_refs` (CPython's, after `subtract_refs`) is
//!   then `strong - count` for every member. Objects whose value
//!   `Gc::get_mut` may have lent out (MUT_EXPOSED) are traced at the end
//!   if their `gc_refs` is 0, as `subtract_refs` does.
//! * **`move_unreachable`** ([`move_unreachable_side`]): the list, in list
//!   order, doubly linked throughout. An object with `SIDE_REACHABLE` or
//!   `strong > count` is reachable: it is scanned (each member it reaches
//!   gets `SIDE_REACHABLE`; one on the unreachable list goes back to the
//!   list's tail, as `visit_reachable` rescues it) and stays where it is.
//!   Any other is moved to the unreachable list with `SIDE_TENTATIVE`. The
//!   decisions, the moves and so the order of survivors and trash are
//!   CPython's: `SIDE_REACHABLE` stands for the `gc_refs = 1` that
//!   `visit_reachable` writes, and a scanned object for one whose
//!   COLLECTING was cleared.
//! * **All trash.** When the first pass's sums say every edge led to a
//!   member and accounted for all of its handles (members' strong counts
//!   summed = edges counted), [`take_all_trash`] checks each member's
//!   `gc_refs` for 0 while it marks it as `update_refs` would, and takes
//!   the whole list at once, as the header passes' all-trash shortcut
//!   does (a dead structure: one walk over the objects instead of
//!   `move_unreachable`'s moves). The walk is the pool's sweep, address
//!   order, which counts each entry's index as it goes; a member that is
//!   not trash after all ends it, and one walk of the list gives the
//!   marked ones their links back.
//! * **Over-reports** (HAZARDS 1): a member whose count exceeds its strong
//!   count is found when `move_unreachable` reaches it; everything moved
//!   so far goes back and every object survives (the collection frees
//!   nothing, as the header passes do).
//!
//! **When.** A collection whose set is mostly trash (a large structure
//! dropped, then collected: workloads b and c dead) gains nothing from
//! leaving the survivors untouched and pays a walk more than the header
//! passes, whose first pass, when it finds the whole set to be trash,
//! marks it as it goes and takes it at once (`deduce_unreachable`'s
//! all-trash shortcut; here, the count pass and [`take_all_trash`]). Nor does
//! a set that `move_unreachable` mostly moves to the unreachable list and
//! back (a chain whose objects each hold an older one, scanned oldest
//! first: each is moved, then rescued by its successor): there every
//! object is written anyway, and the side table's moves cost more than the
//! header passes' runs. So the heap takes the side table unless its last
//! full collection moved more objects than half its set
//! (`CollectorHeap::note_full_collection`; both ways compute the same, so
//! the guess only decides the cost), or it has fewer than 64Ki objects
//! (a heap that stays in the caches pays little for writing headers).
//!
//! Afterwards the lists are as `deduce_unreachable` leaves them: the
//! survivors linked, tagged, without COLLECTING; the trash on the
//! unreachable list with COLLECTING and `NEXT_UNREACHABLE`.
//!
//! # Invariant
//!
//! * **SD1 (side table).** While a side-table collection runs, `side` (a
//!   table of `len` entries from `CollectorHeap::side_table`, reached only
//!   through the raw pointer the tracers and this module share) holds one
//!   entry per number that `Pool::number_blocks` gave out at its start,
//!   and the heap is sweepable (H2): every tracked object of the heap, and
//!   so every target with a header that a member's trace reports (`Gc`
//!   handles are `!Send`: a handle the thread holds is of its heap), starts
//!   an allocated pool block, whose `side_index` (P5) is its entry's index
//!   if below `len`. No block is allocated or freed before the table is
//!   given back (the passes run only `Trace` impls, rule T3); a page carved
//!   in breach of T3 maps out of range (P5), so an entry is only ever
//!   written at an allocated block's own index. A count fits its entry:
//!   the first pass counts at most [`MAX_EDGES`] edges in all, or the
//!   table is given up before anything reads it.

use super::heap::CollectorHeap;
use super::side_visit::{side_entry, SIDE_REACHABLE, SIDE_SHIFT, SIDE_TENTATIVE};
use super::visit::{is_member, over_reported, retry_skipped};
use crate::heap::header::Node;
use crate::heap::list;
use crate::trace::{Tracer, FAST_SIDE_COUNT, FAST_SIDE_REACH, NOT_FUSED};

/// Most edges the first pass may count: with fewer, no entry's count
/// (`u32` above [`SIDE_SHIFT`] flag bits) can wrap.
pub(super) const MAX_EDGES: usize = 1 << (32 - SIDE_SHIFT - 1);

/// The side table of one collection: the table and its raw pointer, from
/// which every access is made (SD1).
struct Side {
    table: Vec<u32>,
    ptr: *mut u32,
}

impl Side {
    fn new(mut table: Vec<u32>) -> Side {
        let ptr = table.as_mut_ptr();
        Side { table, ptr }
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    /// The entry of a member `node` (or of any allocated object of the
    /// heap), if it has one.
    #[inline(always)]
    fn entry(&self, node: Node) -> Option<*mut u32> {
        // SAFETY: SD1: this collection's table; a member is a tracked
        // object of the heap, allocated while it is on the list (I4).
        unsafe { side_entry(self.ptr, self.len(), node) }
    }

    /// The value of entry `index` (0 past the table: an object numbered
    /// out of range, SD1).
    #[inline(always)]
    fn at(&self, index: usize) -> u32 {
        if index < self.len() {
            // SAFETY: SD1: an index below `len` is inside the table, reached
            // through its pointer.
            unsafe { *self.ptr.add(index) }
        } else {
            0
        }
    }

    /// The entry's value (0 for an object without one).
    #[inline(always)]
    fn get(&self, node: Node) -> u32 {
        // SAFETY: SD1: an entry of the table, reached through its pointer.
        self.entry(node).map_or(0, |e| unsafe { *e })
    }
}

/// A full collection of the per-thread heap with a side table, if the
/// heap has one and wants it (`CollectorHeap::side_table`: see "When" in
/// the module docs): the first pass and `move_unreachable` over `base`
/// (the whole heap but the frozen objects, on a sweepable heap: H2), with
/// survivors tagged `tag` and trash on `unreachable` — singly linked if
/// `singly_ok` allows and the whole set was trash (`deduce_unreachable`'s
/// `Deduced::singly`). Returns the number of survivors and whether the
/// trash list is singly linked, or `None` (no object changed) if the heap
/// has no side table or the first pass counted too many edges for one
/// (SD1): then the caller runs the header passes.
pub(super) fn deduce_side<H: CollectorHeap>(
    heap: &H,
    base: Node,
    unreachable: Node,
    tag: usize,
    singly_ok: bool,
) -> Option<(usize, bool)> {
    debug_assert!(!H::SYNC && heap.sweepable());
    let side = Side::new(heap.side_table()?);
    let result = if list::is_empty(heap.permanent_head()) {
        deduce_with::<H, false>(heap, &side, base, unreachable, tag, singly_ok)
    } else {
        deduce_with::<H, true>(heap, &side, base, unreachable, tag, singly_ok)
    };
    heap.return_side_table(side.table);
    result
}

/// [`deduce_side`] once the table is taken, for a heap with frozen
/// objects (`FROZEN`: the member test reads the tag, I7) or without.
fn deduce_with<H: CollectorHeap, const FROZEN: bool>(
    heap: &H,
    side: &Side,
    base: Node,
    unreachable: Node,
    tag: usize,
    singly_ok: bool,
) -> Option<(usize, bool)> {
    let pass = count_edges::<H, FROZEN>(heap, side);
    if pass.edges >= MAX_EDGES {
        None
    } else if pass.strong == pass.edges
        && take_all_trash::<H, FROZEN>(heap, side, base, unreachable, tag)
    {
        // All trash (see `take_all_trash`).
        if !singly_ok {
            list::relink_unreachable(unreachable);
        }
        heap.note_full_collection(pass.members, pass.members, true);
        Some((0, singly_ok))
    } else {
        let (survivors, moves) = move_unreachable_side::<H>(side, base, unreachable, tag);
        heap.note_full_collection(pass.members, moves, true);
        Some((survivors, false))
    }
}

/// What the first pass counted.
struct Counted {
    /// Edges counted into the table (from members, to any object).
    edges: usize,
    /// Members.
    members: usize,
    /// The sum of the members' strong counts (wrapping; exact, as
    /// `Tracer::refs` is).
    strong: usize,
}

/// The whole set is trash if every member's `gc_refs` (`strong - count`)
/// is 0: `move_unreachable` would move each, in list order, to the
/// unreachable list and rescue none. The first pass's sums predict it
/// (all edges counted, members' strong counts: equal when every edge
/// leads to a member and accounts for all of its handles; an edge to an
/// object outside the set, a frozen one or a zombie, can make them equal
/// otherwise), and this walk checks it member by member while it marks
/// each as `update_refs` would (`gc_refs` 0, COLLECTING; the list singly
/// linked), then takes the list at once, as the header passes' all-trash
/// shortcut does. The walk is the first pass's sweep (address order, each
/// entry's index counted as it goes, not computed from the address); the
/// marks need no order, as the list's `next` links stay. If a member is
/// not trash after all, the sweep marks nothing more, the marked members
/// get their `prev` links back (tagged `tag`) from one walk of the list,
/// and `false` is returned: nothing else changed, and
/// `move_unreachable_side` runs.
fn take_all_trash<H: CollectorHeap, const FROZEN: bool>(
    heap: &H,
    side: &Side,
    base: Node,
    unreachable: Node,
    tag: usize,
) -> bool {
    let mut all = true;
    let mut marked = 0usize;
    heap.sweep_numbered(|node, index| {
        if !all || !is_member::<FROZEN>(node) {
            return;
        }
        let count = (side.at(index) >> SIDE_SHIFT) as usize;
        if count != H::strong(node.obj()) as usize {
            all = false;
            return;
        }
        node.reset_gc_refs(0);
        marked += 1;
    });
    if !all {
        list::relink_marked(base, tag);
        return false;
    }
    debug_assert_eq!(marked, list::len(base), "gc: members and list differ");
    list::take_singly(base, unreachable);
    true
}

/// The first pass (see the module docs).
fn count_edges<H: CollectorHeap, const FROZEN: bool>(heap: &H, side: &Side) -> Counted {
    let mut tracer = Tracer::for_side(
        FAST_SIDE_COUNT,
        side.ptr,
        side.len(),
        std::ptr::null_mut(),
        NOT_FUSED,
    );
    let mut skipped = Vec::new();
    let mut members = 0;
    let mut strong = 0usize;
    heap.sweep(|node| {
        if !is_member::<FROZEN>(node) {
            return;
        }
        members += 1;
        strong = strong.wrapping_add(H::strong(node.obj()) as usize);
        if H::mut_exposed(node.obj()) {
            skipped.push(node);
        } else {
            trace_count(node, &mut tracer);
        }
    });
    if !skipped.is_empty() {
        // `subtract_refs`' rule for values lent by `get_mut`. Past
        // MAX_EDGES counts may have wrapped: the caller gives the table up,
        // and nothing may act on them before (a lent value's flag cleared on
        // a wrong count would let the header passes trace it while the
        // `&mut` lives).
        let wrapped = std::cell::Cell::new(tracer.refs >= MAX_EDGES);
        retry_skipped::<H>(
            skipped,
            |node| {
                !wrapped.get()
                    && H::strong(node.obj()) as usize == (side.get(node) >> SIDE_SHIFT) as usize
            },
            |node| {
                trace_count(node, &mut tracer);
                wrapped.set(tracer.refs >= MAX_EDGES);
            },
        );
    }
    Counted {
        edges: tracer.refs,
        members,
        strong,
    }
}

/// The first pass's trace of one member, through the vtable's
/// `trace_side_count`.
#[inline(always)]
fn trace_count(node: Node, tracer: &mut Tracer<'_>) {
    let obj = node.obj();
    // SAFETY: I5, I6: a member of the collected set: a live, undropped
    // value; the tracer is `FAST_SIDE_COUNT`, the entry's one mode.
    unsafe { (obj.vtable.trace_side_count)(obj.counts, tracer) }
}

/// `move_unreachable` over the side table (see the module docs). Returns
/// the number of survivors and of moves to `unreachable`.
#[inline(never)]
fn move_unreachable_side<H: CollectorHeap>(
    side: &Side,
    young: Node,
    unreachable: Node,
    tag: usize,
) -> (usize, usize) {
    let mut moves = 0;
    let mut tracer = Tracer::for_side(FAST_SIDE_REACH, side.ptr, side.len(), young.as_ptr(), tag);
    let mut survivors = 0;
    let mut node = list::next(young);
    while node != young {
        // The table, its length and the tag are read from the tracer, not
        // kept in registers: the trace below is an opaque call, across
        // which this loop's other values then fit in the callee-saved
        // registers (no spills around each call).
        let (table, len, tag) = (tracer.side, tracer.side_len, tracer.member_tag);
        // SAFETY: SD1: this collection's table; a member is a tracked
        // object of the heap, allocated while it is on the list (I4).
        let Some(e) = (unsafe { side_entry(table, len, node) }) else {
            // SD1: every member has an entry; keep it, to be safe.
            debug_assert!(false, "gc: a member without a side-table entry");
            node.set_tag(tag);
            survivors += 1;
            node = list::next(node);
            continue;
        };
        // SAFETY: SD1: an entry of the table.
        let v = unsafe { *e };
        let strong = H::strong(node.obj()) as usize;
        let count = (v >> SIDE_SHIFT) as usize;
        if count > strong {
            // HAZARDS 1: more edges than handles.
            over_reported(node);
            list::side_restore(unreachable, young, tag);
            return (list::len(young), moves);
        }
        if v & SIDE_REACHABLE != 0 || strong > count {
            // SAFETY: SD1: as above.
            unsafe { *e = v | SIDE_REACHABLE };
            if node.tag() != tag {
                node.set_tag(tag);
            }
            if !H::mut_exposed(node.obj()) {
                let obj = node.obj();
                // SAFETY: I5, I6: a member: a live, undropped value; the
                // tracer is `FAST_SIDE_REACH`, the entry's one mode.
                unsafe { (obj.vtable.trace_side_reach)(obj.counts, &mut tracer) };
            }
            survivors += 1;
            node = list::next(node);
        } else {
            // SAFETY: SD1: as above.
            unsafe { *e = v | SIDE_TENTATIVE };
            node = list::side_move_unreachable(node, unreachable);
            moves += 1;
        }
    }
    unreachable.clear_unreachable_mask();
    (survivors, moves)
}
