//! Legacy finalizers (`tp_del`): `move_legacy_finalizers`,
//! `move_legacy_finalizer_reachable`, `handle_legacy_finalizers`.

use super::heap::CollectorHeap;
use super::visit::{trace_object, AbortOnPanic};
use crate::heap::header::{Node, ObjPtr};
use crate::heap::list;
use crate::trace::{FinalizerKind, TraceMode, Tracer};
use crate::types::DebugFlags;

pub(super) fn has_legacy_finalizer(node: Node) -> bool {
    (node.vtable().finalizer_kind)() == FinalizerKind::Legacy
}

/// `move_legacy_finalizers`: clear NEXT_UNREACHABLE on all of `unreachable` (it becomes a
/// normal list) and move the objects with a legacy finalizer to
/// `finalizers`, clearing their COLLECTING flag.
pub(super) fn move_legacy_finalizers(unreachable: Node, finalizers: Node) {
    let mut node = list::next(unreachable);
    while node != unreachable {
        debug_assert!(node.is_tentatively_unreachable());
        node.clear_unreachable_mask();
        let next = list::next(node);
        if has_legacy_finalizer(node) {
            node.clear_collecting();
            list::move_to(node, finalizers);
        }
        node = next;
    }
}

/// `move_legacy_finalizer_reachable`: everything unreachable that `finalizers` reaches is
/// uncollectable too: move it over (the scan covers what it appends).
pub(super) fn move_legacy_finalizer_reachable<H: CollectorHeap>(finalizers: Node) {
    let _guard = AbortOnPanic::new();
    let mut tracer = Tracer::for_heap(TraceMode::MoveToList { list: finalizers }, H::SYNC);
    let mut node = list::next(finalizers);
    while node != finalizers {
        trace_object::<H>(node, &mut tracer);
        node = list::next(node);
    }
}

/// `handle_legacy_finalizers`: objects with a legacy finalizer (all of `finalizers` under
/// SAVEALL) go to `gc.garbage`; the list joins `old`.
pub(super) fn handle_legacy_finalizers<H: CollectorHeap>(
    heap: &H,
    finalizers: Node,
    old: Node,
    old_tag: usize,
) {
    let save_all = heap.debug().contains(DebugFlags::SAVEALL);
    let saved: Vec<ObjPtr> = list::iter(finalizers)
        .inspect(|&node| node.set_tag(old_tag))
        .filter(|&node| save_all || has_legacy_finalizer(node))
        .map(Node::obj)
        .collect();
    heap.save_garbage(saved);
    let _lists = heap.lock_lists();
    list::merge(finalizers, old);
}
