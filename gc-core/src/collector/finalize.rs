//! `finalize_garbage` (PEP 442), `handle_resurrected_objects` and its
//! fallback when the world cannot be stopped again, `keep_unconfirmed_trash`.

use super::heap::CollectorHeap;
use super::reachability::{deduce_unreachable, FirstPass};
use super::validate::validate_list;
use crate::heap::header::{Node, FINALIZED, WEAK_CLEARED};
use crate::heap::list::{self, List};
use crate::heap::weakcb::run_reporting_panics;
use crate::trace::FinalizerKind;

/// `finalize_garbage`: run `finalize` once on each trash object that has a PEP 442
/// finalizer and is not finalized yet. The object holds an extra strong
/// reference during the call; the list is not modified by user code (trash
/// cannot be unlinked while COLLECTING is set).
///
/// Returns whether any finalizer ran (if none did, no user code could have
/// made trash reachable again, and `handle_resurrected_objects` has nothing
/// to find).
pub(super) fn finalize_garbage<H: CollectorHeap>(collectable: Node) -> bool {
    let mut ran = false;
    let seen = List::new();
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        list::move_to(node, seen.head());
        let obj = node.obj();
        if (obj.vtable.finalizer_kind)() == FinalizerKind::Pep442 && !H::has_flag(obj, FINALIZED) {
            H::set_flag(obj, FINALIZED);
            H::inc_strong(obj);
            ran = true;
            run_reporting_panics(
                &|| format!("finalizer of {}", (obj.vtable.type_name)()),
                || {
                    // SAFETY: I5, I6: the value is intact (nothing is dropped before
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

/// `handle_resurrected_objects`: recompute reachability inside `unreachable` with current counts:
/// whatever a finalizer made reachable again (and all it reaches) survives
/// and moves to `old`; the rest goes to `still_unreachable`.
pub(super) fn handle_resurrected_objects<H: CollectorHeap>(
    heap: &H,
    unreachable: Node,
    still_unreachable: Node,
    old: Node,
    old_tag: usize,
) {
    for node in list::iter(unreachable) {
        node.clear_collecting();
    }
    let _resurrected = deduce_unreachable(
        heap,
        unreachable,
        still_unreachable,
        false,
        FirstPass::Update,
        old_tag,
        false,
    );
    // CPython's clear_unreachable_mask.
    let mut node = list::next_masked(still_unreachable);
    while node != still_unreachable {
        node.clear_unreachable_mask();
        node = list::next(node);
    }
    validate_list(still_unreachable, Some(true));
    // Survivors are alive again: weak handles made from now on work (I2;
    // the ones cleared in handle_weakrefs stay dead through their old
    // epoch).
    for node in list::iter(unreachable) {
        H::clear_flag(node.obj(), WEAK_CLEARED);
    }
    list::merge(unreachable, old);
}

/// `handle_resurrected_objects`' stand-in when the world cannot be stopped
/// again after the finalizers ran (sync heap, bounded stop): without a still graph the collector cannot
/// tell which trash a finalizer resurrected, so it treats all of it as
/// resurrected — CPython's outcome for a resurrected object: it joins
/// `old`, finalized (its finalizer never runs again) with its weak handles
/// cleared, and a later collection frees it if it is still unreachable.
/// The list lock is held throughout: once COLLECTING is cleared another
/// thread's refcount death may unlink the object (sync S4).
pub(super) fn keep_unconfirmed_trash<H: CollectorHeap>(
    heap: &H,
    unreachable: Node,
    old: Node,
    old_tag: usize,
) {
    let _lists = heap.lock_lists();
    let mut node = list::next(unreachable);
    while node != unreachable {
        let h = node;
        h.clear_collecting();
        h.clear_unreachable_mask();
        if !H::SYNC {
            h.set_tag(old_tag);
        }
        node = list::next(node);
    }
    list::merge(unreachable, old);
}
