//! What the debugging tools read from the calling thread's heap: every
//! tracked object, each object's edges and outside references.

use crate::heap::header::{Node, ObjPtr};
use crate::heap::{heap_or_panic, list};
use crate::trace::{TraceMode, Tracer};
use std::collections::HashMap;

/// Every handle `obj` owns (what its `trace` reports).
pub(super) fn edges_of(obj: ObjPtr) -> Vec<ObjPtr> {
    let mut out = Vec::new();
    // SAFETY: I1, I4: as below.
    if unsafe { obj.counts() }.mut_exposed() {
        return out; // a `&mut` from `Gc::get_mut` may be live (header I6)
    }
    // SAFETY: I1: callers pass objects kept alive by a handle or linked
    // (I4).
    if unsafe { obj.value_dropped_by_collector() } {
        return out; // header I5
    }
    let mut tracer = Tracer::new(TraceMode::Edges { out: &mut out });
    // SAFETY: I1, I4, I6: callers pass objects kept alive by a handle or linked on a
    // generation list (live, intact values).
    unsafe { (obj.vtable.trace)(obj.counts, &mut tracer) };
    out
}

pub(super) fn strong_of(obj: ObjPtr) -> usize {
    // SAFETY: I1, I4, I6: as in `edges_of`.
    unsafe { obj.counts() }.strong() as usize
}

pub(super) fn key(obj: ObjPtr) -> usize {
    obj.counts.as_ptr() as usize
}

/// Every tracked object of the calling thread (generations 0–2 and the
/// permanent generation).
pub(super) fn all_tracked() -> Vec<ObjPtr> {
    let heap = heap_or_panic();
    let mut out = Vec::new();
    for head in heap.tracked_lists() {
        out.extend(list::iter(head).map(Node::obj));
    }
    out.extend(list::iter(heap.permanent.head()).map(Node::obj));
    out
}

/// A shorter type name: module paths dropped (`a::b::Node<c::D>` → `Node<D>`).
///
/// # Examples
///
/// ```
/// use pygc::debug::short_type_name;
/// assert_eq!(short_type_name("a::b::Node<c::D, u8>"), "Node<D, u8>");
/// assert_eq!(short_type_name(std::any::type_name::<Vec<String>>()), "Vec<String>");
/// ```
pub fn short_type_name(full: &str) -> String {
    let mut out = String::new();
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

/// Outside references of every tracked object and of every object a
/// tracked object points to: strong count minus the edges reported by
/// tracked objects (the collector's `gc_refs` after `subtract_refs`).
pub(super) fn outside_refs_and_referrers() -> (HashMap<usize, usize>, HashMap<usize, Vec<ObjPtr>>) {
    let tracked = all_tracked();
    let mut internal: HashMap<usize, usize> = HashMap::new();
    let mut referrers: HashMap<usize, Vec<ObjPtr>> = HashMap::new();
    let mut seen: HashMap<usize, ObjPtr> = HashMap::new();
    for &obj in &tracked {
        seen.insert(key(obj), obj);
        for target in edges_of(obj) {
            *internal.entry(key(target)).or_default() += 1;
            referrers.entry(key(target)).or_default().push(obj);
            seen.entry(key(target)).or_insert(target);
        }
    }
    let outside = seen
        .iter()
        .map(|(&k, &obj)| {
            let inside = internal.get(&k).copied().unwrap_or(0);
            (k, strong_of(obj).saturating_sub(inside))
        })
        .collect();
    (outside, referrers)
}
