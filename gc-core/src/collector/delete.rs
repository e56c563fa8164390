//! `delete_garbage`: drop the values of the final trash and free it.

use super::heap::CollectorHeap;
use super::visit::hdr;
use crate::heap::header::{Header, HAS_CALLBACKS, NEXT_UNREACHABLE, PREV_DROPPED, WEAK_CLEARED};
use crate::heap::list;
use crate::heap::weakcb::run_reporting_panics;
use crate::types::DebugFlags;
use std::ptr::NonNull;

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
pub(super) fn delete_garbage<H: CollectorHeap>(
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
            // Kept alive in gc.garbage: new weak handles work (I2).
            H::clear_flag(Header::obj(node), WEAK_CLEARED);
            saved.push(Header::obj(node));
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
            let obj = Header::obj(node);
            if H::has_flag(obj, HAS_CALLBACKS) {
                heap.run_weak_callbacks(obj);
            }
        }
    }
    // Epoch entries of trash (I2) go with its values. (On the lean path
    // the links may still carry NEXT_UNREACHABLE: mask it.)
    if heap.has_weak_epochs() {
        let mut node = list::ptr(hdr(collectable).next.get() & !NEXT_UNREACHABLE);
        while node != collectable {
            heap.forget_weak_epoch(Header::obj(node));
            node = list::ptr(hdr(node).next.get() & !NEXT_UNREACHABLE);
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
pub(super) fn drop_trash_value(node: NonNull<Header>) {
    let obj = Header::obj(node);
    run_reporting_panics(&|| format!("drop of {}", (obj.vtable.type_name)()), || {
        // SAFETY: the collector owns the trash (I5); each value is dropped
        // exactly once, here; nothing reads it afterwards (weak handles
        // cannot upgrade to trash, strong handles live only in trash).
        unsafe { (obj.vtable.drop_value)(obj.counts, obj.meta) }
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
pub(super) fn drop_and_free<H: CollectorHeap>(heap: &H, collectable: NonNull<Header>) -> usize {
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
pub(super) fn drop_then_free<H: CollectorHeap>(collectable: NonNull<Header>) -> usize {
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
                unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
            }
        }
        node = next;
    }
    list::set_next(prev, collectable);
    list::set_prev(collectable, prev);
    visited
}
