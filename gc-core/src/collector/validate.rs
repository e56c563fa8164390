//! Debug-build checks between phases (CPython's `validate_list`).

use super::heap::CollectorHeap;
use crate::heap::header::{Node, TAG_PERMANENT};
use crate::heap::list;
use crate::types::NUM_GENERATIONS;

/// Debug builds, per-thread heap: check header I7 before a collection —
/// every object of generation `g` carries tag `g` (all of the younger
/// generations, which the fused pass relies on; the first 1 000 objects of
/// the older and permanent lists, to keep debug tests linear).
pub(super) fn validate_tags<H: CollectorHeap>(heap: &H, generation: usize) {
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
                node.tag(),
                tag,
                "gc: generation tag (header I7) wrong on a {}",
                (node.vtable().type_name)()
            );
        }
    }
}

/// Debug builds: check that `head` is a well-formed list and, if given,
/// that every object's COLLECTING flag has the expected value.
pub(super) fn validate_list(head: Node, collecting: Option<bool>) {
    if !cfg!(debug_assertions) {
        return;
    }
    let mut prev = head;
    let mut node = list::next(head);
    while node != head {
        let h = node;
        assert!(
            !h.is_tentatively_unreachable(),
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
