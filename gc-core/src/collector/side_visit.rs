//! The side-table collection's per-edge halves (`collector::side`,
//! invariant SD1): counting an edge into its target's entry, and
//! `visit_reachable` over the table; and the entries' format.

use crate::heap::header::{Header, Node};
use crate::heap::list;
use std::ptr::NonNull;

/// A side-table entry's flag: `move_unreachable` found the object
/// reachable (CPython's `gc_refs` forced to 1, or the object scanned). Set
/// on an object outside the set too (an edge to a frozen object, say),
/// where nothing reads it.
pub(super) const SIDE_REACHABLE: u32 = 1;
/// A side-table entry's flag: `move_unreachable` moved the object to the
/// unreachable list (CPython's `NEXT_MASK_UNREACHABLE`); only members get
/// it.
pub(super) const SIDE_TENTATIVE: u32 = 2;
/// A side-table entry counts the edges to its object from members above
/// its flag bits: one edge adds `1 << SIDE_SHIFT`.
pub(super) const SIDE_SHIFT: u32 = 2;

/// The side-table entry of `target`, if the table has one (SD1).
///
/// # Safety
/// `side` and `len` are the running side-table collection's table (SD1),
/// `target` a tracked object of the heap that a live handle keeps
/// allocated.
#[inline(always)]
pub(super) unsafe fn side_entry(side: *mut u32, len: usize, target: Node) -> Option<*mut u32> {
    // SAFETY: SD1: every tracked object of the heap starts a pool block
    // of this heap's pool while the side table is in use (H2), and that
    // block is allocated (the caller's handle).
    let i = unsafe { crate::heap::pool::side::side_index(target.as_ptr().cast()) };
    // SAFETY: SD1: an index below `len` is inside the table.
    (i < len).then(|| unsafe { side.add(i) })
}

/// `n` edges to `target` from a member, in a side-table collection's
/// first pass: counted into its entry (wrapping; SD1 bounds the count).
///
/// # Safety
/// As for [`side_entry`].
#[inline(always)]
pub(super) unsafe fn visit_side_count(side: *mut u32, len: usize, target: Node, n: usize) {
    // SAFETY: forwarded.
    if let Some(e) = unsafe { side_entry(side, len, target) } {
        // SAFETY: SD1: inside the table, which nothing else references.
        unsafe { *e = (*e).wrapping_add((n as u32) << SIDE_SHIFT) };
    }
}

/// CPython's visit_reachable in a side-table collection's
/// `move_unreachable`: an object not yet known reachable becomes so; a
/// member moved to the unreachable list goes back to the tail of `young`
/// (tagged `tag`) to be scanned there.
///
/// # Safety
/// As for [`side_entry`]; `young` is the list being scanned (L1).
#[inline(always)]
pub(super) unsafe fn visit_side_reach(
    side: *mut u32,
    len: usize,
    target: Node,
    young: *mut Header,
    tag: usize,
) {
    // SAFETY: forwarded.
    if let Some(e) = unsafe { side_entry(side, len, target) } {
        // SAFETY: SD1: inside the table, which nothing else references.
        let v = unsafe { *e };
        if v & SIDE_REACHABLE == 0 {
            if v & SIDE_TENTATIVE != 0 {
                // SAFETY: L1: the running collection's list head.
                let young = unsafe { Node::new(NonNull::new_unchecked(young)) };
                list::side_rescue(target, young, tag);
            }
            // SAFETY: SD1: as above.
            unsafe { *e = v | SIDE_REACHABLE };
        }
    }
}
