//! Intrusive, circular, doubly linked lists of tracked objects (CPython's
//! `gc_list_*`). All pointer work on `next`/`prev` outside the collector's
//! `move_unreachable` lives here.
//!
//! A list is a sentinel [`Header`] (the *head*) at a stable address. An
//! empty list's head points at itself. Link words hold plain addresses; the
//! flag bits of `prev` ([`PREV_FLAGS`]) are preserved by every operation here,
//! and `next` must not carry [`NEXT_UNREACHABLE`](super::header::NEXT_UNREACHABLE)
//! when these functions are used.
//!
//! # Safety (for every function here)
//! Every `NonNull<Header>` passed in must be a live list head or a live
//! tracked object, and the lists involved must be well formed (each `next`
//! and `prev` of a linked node points at a linked node or the head, and the
//! two directions agree). The functions keep them well formed.

use super::header::{Header, PREV_FLAGS, SENTINEL_VTABLE};
use std::cell::Cell;
use std::ptr::NonNull;

/// A list head with a stable address.
///
/// The head is held as a raw pointer (from `Box::into_raw`), not a `Box`:
/// list links reach it through addresses stored as integers, and a `Box`
/// would assert unique access that those writes violate (Miri, tree
/// borrows).
pub(crate) struct List {
    head: NonNull<Header>,
}

impl List {
    pub(crate) fn new() -> Self {
        let raw = Box::into_raw(Box::new(Header {
            next: Cell::new(0),
            prev: Cell::new(0),
            vtable: &SENTINEL_VTABLE,
        }));
        // SAFETY: `Box::into_raw` never returns null.
        let head = unsafe { NonNull::new_unchecked(raw) };
        init(head);
        List { head }
    }

    #[inline(always)]
    pub(crate) fn head(&self) -> NonNull<Header> {
        self.head
    }
}

impl Drop for List {
    fn drop(&mut self) {
        // SAFETY: allocated by `Box::into_raw` in `new`, freed once here;
        // the owner drops a list only when no node links to its head.
        drop(unsafe { Box::from_raw(self.head.as_ptr()) });
    }
}

#[inline(always)]
pub(crate) fn ptr(word: usize) -> NonNull<Header> {
    debug_assert!(word & PREV_FLAGS == 0 && word != 0, "gc: corrupt list link");
    // SAFETY: callers pass link words of well-formed lists: non-zero
    // addresses of headers (flag bits masked off).
    unsafe { NonNull::new_unchecked(word as *mut Header) }
}

#[inline(always)]
fn hdr<'a>(p: NonNull<Header>) -> &'a Header {
    // SAFETY: module contract: every node and head passed in is live.
    unsafe { p.as_ref() }
}

#[inline(always)]
pub(crate) fn next(node: NonNull<Header>) -> NonNull<Header> {
    ptr(hdr(node).next.get())
}

#[inline(always)]
pub(crate) fn prev(node: NonNull<Header>) -> NonNull<Header> {
    ptr(hdr(node).prev.get() & !PREV_FLAGS)
}

#[inline(always)]
pub(crate) fn set_prev(node: NonNull<Header>, prev: NonNull<Header>) {
    let h = hdr(node);
    h.prev
        .set(prev.as_ptr() as usize | (h.prev.get() & PREV_FLAGS));
}

#[inline(always)]
pub(crate) fn set_next(node: NonNull<Header>, next: NonNull<Header>) {
    hdr(node).next.set(next.as_ptr() as usize);
}

/// Re-initialise `head` as an empty list.
pub(crate) fn init(head: NonNull<Header>) {
    let addr = head.as_ptr() as usize;
    hdr(head).next.set(addr);
    hdr(head).prev.set(addr);
}

#[inline(always)]
pub(crate) fn is_empty(head: NonNull<Header>) -> bool {
    hdr(head).next.get() == head.as_ptr() as usize
}

/// Append the unlinked `node` at the tail of `head`.
#[inline(always)]
pub(crate) fn append(node: NonNull<Header>, head: NonNull<Header>) {
    let last = prev(head);
    set_prev(node, last);
    set_next(node, head);
    set_next(last, node);
    set_prev(head, node);
}

/// Unlink `node` from its list; afterwards `next == 0` (untracked) and
/// `prev == 0` (link and flags: an unlinked object has no generation tag,
/// and its `prev` must not look like a zombie's, header I4/I5).
#[inline(always)]
pub(crate) fn remove(node: NonNull<Header>) {
    let p = prev(node);
    let n = next(node);
    set_next(p, n);
    set_prev(n, p);
    let h = hdr(node);
    h.next.set(0);
    h.prev.set(0);
}

/// Move `node` from its list to the tail of `head`.
#[inline(always)]
pub(crate) fn move_to(node: NonNull<Header>, head: NonNull<Header>) {
    let p = prev(node);
    let n = next(node);
    set_next(p, n);
    set_prev(n, p);
    append(node, head);
}

/// Append all of `from` to `to`; `from` becomes empty.
pub(crate) fn merge(from: NonNull<Header>, to: NonNull<Header>) {
    if is_empty(from) {
        return;
    }
    let to_tail = prev(to);
    let from_first = next(from);
    let from_last = prev(from);
    set_next(to_tail, from_first);
    set_prev(from_first, to_tail);
    set_next(from_last, to);
    set_prev(to, from_last);
    init(from);
}

/// Number of objects on the list (walks it).
pub(crate) fn len(head: NonNull<Header>) -> usize {
    let mut n = 0;
    let mut node = next(head);
    while node != head {
        n += 1;
        node = next(node);
    }
    n
}

/// Iterate the nodes of a list. The list must not be modified while the
/// iterator is live, except that the node last returned may be moved away
/// (the iterator has already read its successor).
pub(crate) struct Iter {
    head: NonNull<Header>,
    node: NonNull<Header>,
}

impl Iterator for Iter {
    type Item = NonNull<Header>;
    #[inline]
    fn next(&mut self) -> Option<NonNull<Header>> {
        if self.node == self.head {
            return None;
        }
        let current = self.node;
        self.node = next(current);
        Some(current)
    }
}

pub(crate) fn iter(head: NonNull<Header>) -> Iter {
    Iter {
        head,
        node: next(head),
    }
}
