//! `handle_weakrefs`: clear weak handles to trash (world stopped), then run
//! the callbacks that must run (world running).

use super::heap::CollectorHeap;
use super::visit::{trace_object, AbortOnPanic};
use crate::heap::header::{Node, ObjPtr, FINALIZED, HAS_CALLBACKS, WEAK_CLEARED};
use crate::heap::list;
use crate::heap::weakcb::{run_reporting_panics, Entry};
use crate::heap::weakepoch;
use crate::trace::{FinalizerKind, TraceMode, Tracer};
use std::collections::HashSet;

/// `handle_weakrefs`, first half (world stopped): clear every weak handle to trash (set
/// WEAK_CLEARED) and take the callbacks that must run: those whose handles
/// are alive and not themselves owned by trash. The others are returned too
/// (to be dropped once the world runs again: dropping a closure runs user
/// code).
///
/// A weak handle owned by trash is cleared here whatever it points at, and
/// loses its callback, as CPython clears every weakref object in the
/// unreachable set (bpo-38006): its referent may be outside the trash
/// (reachable only from it, behind a legacy finalizer) and die during
/// `delete_garbage` while the handle's owner still exists; CPython runs no
/// callback then, nor later if a finalizer resurrects the owner, and the
/// weakref returns `None` from then on.
///
/// The same walk notes whether any of the trash has a PEP 442 finalizer
/// still to run (`finalize_garbage` is skipped when none has: user code in
/// between cannot change either).
#[allow(clippy::type_complexity)]
pub(super) fn handle_weakrefs<H: CollectorHeap>(
    heap: &H,
    unreachable: Node,
    untag: bool,
) -> (
    Vec<(ObjPtr, Entry<H::Callback>)>,
    Vec<Entry<H::Callback>>,
    bool,
) {
    // Some object has a PEP 442 finalizer and is not FINALIZED yet.
    let mut to_finalize = false;
    // One walk: (untag,) count, note finalizers, clear weak handles, and
    // pick the objects with callbacks.
    let mut with_callbacks = Vec::new();
    let mut node = list::next_masked(unreachable);
    while node != unreachable {
        if untag {
            node.clear_unreachable_mask();
        }
        let next = list::next_masked(node);
        let obj = node.obj();
        if !to_finalize
            && (obj.vtable.finalizer_kind)() == FinalizerKind::Pep442
            && !H::has_flag(obj, FINALIZED)
        {
            to_finalize = true;
        }
        H::set_flag(obj, WEAK_CLEARED);
        // I2: the handles alive now die; later ones (after a resurrection)
        // work.
        heap.bump_weak_epoch(obj);
        if H::has_flag(obj, HAS_CALLBACKS) {
            H::clear_flag(obj, HAS_CALLBACKS);
            with_callbacks.push(obj);
        }
        node = next;
    }
    let mut to_call = Vec::new();
    let mut discarded = Vec::new();
    // (HAS_CALLBACKS is a hint: an object's entries may all be gone.)
    let callbacks = heap.has_weak_callbacks();
    if !callbacks && !weakepoch::weak_handles_made() {
        return (to_call, discarded, to_finalize);
    }
    // Which weak handles live inside trash? Each clears itself as it is
    // visited (`Tracer::visit_weak`: CPython clears every weakref object in
    // the unreachable set, bpo-38006, so a finalizer of trash, or the
    // owner once resurrected, gets `None` from it whatever it points at),
    // and the callback-owning ones are listed.
    let mut ids = Vec::new();
    {
        let _guard = AbortOnPanic::new();
        let mut tracer = Tracer::for_heap(TraceMode::WeakHandles { ids: &mut ids }, H::SYNC);
        for node in list::iter(unreachable) {
            trace_object::<H>(node, &mut tracer);
        }
    }
    if !callbacks {
        return (to_call, discarded, to_finalize);
    }
    let in_trash: HashSet<u64> = ids.iter().map(|&(_, id)| id).collect();
    for obj in with_callbacks {
        for entry in heap.take_weak_callbacks(obj).into_iter().rev() {
            if in_trash.contains(&entry.id) {
                discarded.push(entry);
            } else {
                to_call.push((obj, entry));
            }
        }
    }
    // Trash-owned handles to objects outside the trash (bpo-38006): their
    // callbacks go too. (Those to trash were taken just above.)
    for (referent, id) in ids {
        discarded.extend(heap.take_weak_callback(referent, id));
    }
    (to_call, discarded, to_finalize)
}

/// `handle_weakrefs`, second half (world running): drop the discarded callbacks, run the others.
/// Returns the number of weak handles freed here (always 0: weak handles
/// are not heap objects; CPython counts its weakref objects).
pub(super) fn run_weak_callbacks<C: FnOnce()>(
    to_call: Vec<(ObjPtr, Entry<C>)>,
    discarded: Vec<Entry<C>>,
) -> usize {
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
