//! `delete_garbage`: drop the values of the final trash and free it.

use super::heap::CollectorHeap;
use crate::heap::dealloc::drop_trash_value;
use crate::heap::header::{Node, HAS_CALLBACKS, WEAK_CLEARED};
use crate::heap::list;
use crate::types::DebugFlags;

/// `delete_garbage`: reclaim `collectable`; returns the number of objects on it.
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
///
/// `singly`: `collectable` is singly linked as `deduce_unreachable`'s
/// all-trash shortcut leaves it (`Deduced::singly`; per-thread heap, no
/// SAVEALL, no weak callback): the walk links `prev` as it goes.
pub(super) fn delete_garbage<H: CollectorHeap>(
    heap: &H,
    collectable: Node,
    old: Node,
    old_tag: usize,
    singly: bool,
) -> usize {
    debug_assert!(
        !singly || !(H::SYNC || heap.debug().contains(DebugFlags::SAVEALL)),
        "gc: a singly linked trash list on a path that unlinks"
    );
    if heap.debug().contains(DebugFlags::SAVEALL) {
        let mut saved = Vec::new();
        for node in list::iter(collectable) {
            node.clear_collecting();
            node.set_tag(old_tag);
            // Kept alive in gc.garbage: new weak handles work (I2).
            H::clear_flag(node.obj(), WEAK_CLEARED);
            saved.push(node.obj());
        }
        let n = saved.len();
        heap.save_garbage(saved);
        let _lists = heap.lock_lists();
        list::merge(collectable, old);
        return n;
    }
    // Callbacks registered on trash after handle_weakrefs (by a finalizer):
    // run them now, as CPython does when tp_clear lets the object die.
    if heap.has_weak_callbacks() {
        for node in list::iter(collectable) {
            let obj = node.obj();
            if H::has_flag(obj, HAS_CALLBACKS) {
                heap.run_weak_callbacks(obj);
            }
        }
    }
    // Epoch entries of trash (I2) go with its values. (On the lean path
    // the links may still carry NEXT_UNREACHABLE: mask it.)
    if heap.has_weak_epochs() {
        let mut node = list::next_masked(collectable);
        while node != collectable {
            heap.forget_weak_epoch(node.obj());
            node = list::next_masked(node);
        }
    }
    let visited = if H::SYNC {
        drop_then_free(heap, collectable)
    } else if singly {
        drop_and_free::<true>(collectable)
    } else {
        drop_and_free::<false>(collectable)
    };
    // Zombies: trash that still has strong handles after every value was
    // dropped. Only a Trace impl that broke its contract can cause this.
    let mut zombies = 0;
    while !list::is_empty(collectable) {
        let node = list::next(collectable);
        let obj = node.obj();
        if H::strong(obj) == 0 {
            // The sync heap's free walk runs weak callbacks (user code),
            // which may have released the last handle of a node it had
            // kept (handles to trash exist only if a `Drop` broke rule T5):
            // freed now, as the free walk would have.
            list::remove(node);
            free_dropped::<H>(heap, node);
            continue;
        }
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
        node.set_zombie();
        zombies += 1;
    }
    list::init(collectable);
    heap.note_deallocs(visited - zombies);
    visited
}

/// Per-thread heap: one walk that drops each value and frees each object as
/// soon as nothing can reach it (see [`delete_garbage`]), one vtable call
/// per object (`delete_trash`: the type's drop and free, inlined into one
/// function). Returns the number of objects walked; the ones left on the
/// list are zombies.
///
/// The nodes' links may still carry `NEXT_UNREACHABLE` bits (the lean path
/// skips the walk that clears them; the head's link is clean, as
/// `move_unreachable` left it): each node's is cleared before its drop, so
/// every node behind the walk — the only ones a release can unlink — has a
/// clean link. The successor is read before the drop: its value is intact,
/// so no release during the drop can unlink or free it (I5), and `node`
/// may be freed by its own step.
///
/// `SINGLY`: the list is singly linked ([`delete_garbage`]'s `singly`):
/// each node's successor gets its `prev` link before the node is deleted,
/// so every node a release can unlink (dropped, so behind the walk) has
/// its links, and so has its successor, which the unlink writes (L2).
pub(super) fn drop_and_free<const SINGLY: bool>(collectable: Node) -> usize {
    let mut visited = 0;
    let mut node = list::next(collectable);
    while node != collectable {
        node.clear_unreachable_mask();
        let next = if SINGLY {
            list::link_next_back(node)
        } else {
            list::next(node)
        };
        visited += 1;
        // SAFETY: I5: trash of this collection with an intact value, linked
        // here with a clean link; each node is deleted once and not used
        // afterwards (L1).
        unsafe { (node.vtable().delete_trash)(node) };
        node = next;
    }
    visited
}

/// Sync heap: drop every value, then free in a second walk.
pub(super) fn drop_then_free<H: CollectorHeap>(heap: &H, collectable: Node) -> usize {
    let mut visited = 0;
    for node in list::iter(collectable) {
        drop_trash_value(node);
        visited += 1;
    }
    // Free in one walk that does not unlink each node (its neighbours are
    // being freed too): read the successor first, and relink only what
    // stays (zombies).
    list::drain_keeping(
        collectable,
        // A zombie: keep it on the list for delete_garbage to report.
        |node| H::strong(node.obj()) != 0,
        |node| free_dropped::<H>(heap, node),
    );
    visited
}

/// Free trash whose value is dropped and whose strong count is 0, already
/// unlinked (sync heap: [`drop_then_free`]'s walk; either heap: a node the
/// zombie walk of [`delete_garbage`] finds with no handle left). Weak
/// callbacks registered on it after `handle_weakrefs` (by a `Drop` of
/// trash) run first, as CPython's `subtype_dealloc` runs a weakref made
/// after the collector cleared the others; their registry entries go with
/// them, so none is left for a later object at the same address.
fn free_dropped<H: CollectorHeap>(heap: &H, node: Node) {
    let obj = node.obj();
    debug_assert_eq!(H::strong(obj), 0);
    if H::has_flag(obj, HAS_CALLBACKS) {
        heap.run_weak_callbacks(obj);
    }
    if H::dec_weak(obj) {
        // SAFETY: I1: value dropped, strong 0, unlinked: the implicit weak
        // was the last reference; L1: `node` is not used again.
        unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
    }
}
