//! Intrusive, circular, doubly linked lists of tracked objects (CPython's
//! `gc_list_*`), and the collector's few list moves that handle the
//! `NEXT_UNREACHABLE` bits. Together with `heap::header` this is the only
//! code that reads or writes the link words (`next`, `prev`).
//!
//! A list is a sentinel [`Header`] (the *head*) at a stable address. An
//! empty list's head points at itself. Link words hold plain addresses; the
//! flag bits of `prev` ([`PREV_FLAGS`]) are preserved by every operation here
//! except where a function says otherwise.
//!
//! # Invariants
//!
//! * **L1 (nodes)** is written at [`Node`]: a node's header is allocated
//!   while the node is used.
//! * **L2 (links).** A linked node's `next` word, masked of
//!   [`NEXT_UNREACHABLE`], is the address of the next node of its list or of
//!   the list's head, and its `prev` word, masked of [`PREV_FLAGS`], that of
//!   the previous one; the two directions agree — except from `update_refs`
//!   (or the fused first pass of `subtract_refs`, or the incremental mode's
//!   `form_increment`, which does it as it appends each object to the
//!   increment: [`append`] reads only the head's `prev`) until `move_unreachable`
//!   relinks the object, when a COLLECTING object's `prev` holds `gc_refs`
//!   and only `next` links (the collector then reads no such `prev` as a
//!   link) — or, when `deduce_unreachable` finds the whole set to be trash
//!   and takes it at once ([`take_singly`]), until [`relink_unreachable`] or the
//!   delete walk's [`link_next_back`] links it (the walk links each
//!   node's successor before it deletes the node, so every node a release
//!   can unlink — one whose value is dropped, behind the walk — and its
//!   successor have `prev` links). `NEXT_UNREACHABLE` appears only on the collector's unreachable
//!   list, from `move_unreachable` until the mask is cleared; [`next`] and
//!   the functions built on it are used on lists without it, [`next_masked`]
//!   on lists that may carry it.
//!
//! Every function here keeps L2, given L1 and L2 on entry; a node read from
//! a link word is a node by L2 (its header is linked, so it is live, I4).
//! Freeing an object requires unlinking it first ([`remove`], or the
//! collector's walks that relink what stays), so no link word ever holds
//! the address of freed memory.

use super::header::{
    Header, Node, NEXT_UNREACHABLE, PREV_COLLECTING, PREV_FLAGS, PREV_SHIFT, SENTINEL_VTABLE,
};
use std::ptr::NonNull;

/// A list head with a stable address.
///
/// The head is held as a raw pointer (from `Box::into_raw`), not a `Box`:
/// list links reach it through addresses stored as integers, and a `Box`
/// would assert unique access that those writes violate (Miri, tree
/// borrows).
pub(crate) struct List {
    head: Node,
}

impl List {
    pub(crate) fn new() -> Self {
        let raw = Box::into_raw(Box::new(Header::new(&SENTINEL_VTABLE)));
        // SAFETY: L1: `Box::into_raw` never returns null, and the head lives
        // until `drop`, after every use of the list.
        let head = unsafe { Node::new(NonNull::new_unchecked(raw)) };
        init(head);
        List { head }
    }

    #[inline(always)]
    pub(crate) fn head(&self) -> Node {
        self.head
    }
}

impl Drop for List {
    fn drop(&mut self) {
        // SAFETY: L1: allocated by `Box::into_raw` in `new`, freed once
        // here; the owner drops a list only when no node links to its head.
        drop(unsafe { Box::from_raw(self.head.as_ptr()) });
    }
}

/// The node a link word names (flag bits masked off by the caller).
#[inline(always)]
fn node(word: usize) -> Node {
    debug_assert!(word & PREV_FLAGS == 0 && word != 0, "gc: corrupt list link");
    // SAFETY: L2: callers pass link words of lists, which hold the non-zero
    // addresses of linked headers or heads, live by L1/I4.
    unsafe { Node::new(NonNull::new_unchecked(word as *mut Header)) }
}

/// The next node (the list must not carry `NEXT_UNREACHABLE`, L2).
#[inline(always)]
pub(crate) fn next(n: Node) -> Node {
    node(n.next_word())
}

/// The next node, ignoring a `NEXT_UNREACHABLE` bit (L2).
#[inline(always)]
pub(crate) fn next_masked(n: Node) -> Node {
    node(n.next_word() & !NEXT_UNREACHABLE)
}

/// The previous node (L2: `n`'s `prev` holds a link, not `gc_refs`).
#[inline(always)]
pub(crate) fn prev(n: Node) -> Node {
    node(n.prev_word() & !PREV_FLAGS)
}

/// The tail of the list `head`: a head's `prev` word is a plain address
/// (no flag is ever set on a head), so it needs no mask.
#[inline(always)]
fn tail(head: Node) -> Node {
    debug_assert!(
        head.prev_word() & PREV_FLAGS == 0,
        "gc: flags on a list head"
    );
    node(head.prev_word())
}

#[inline(always)]
fn set_prev(n: Node, prev: Node) {
    n.set_prev_word(prev.addr() | (n.prev_word() & PREV_FLAGS));
}

#[inline(always)]
fn set_next(n: Node, next: Node) {
    n.set_next_word(next.addr());
}

/// Re-initialise `head` as an empty list.
pub(crate) fn init(head: Node) {
    head.set_next_word(head.addr());
    head.set_prev_word(head.addr());
}

#[inline(always)]
pub(crate) fn is_empty(head: Node) -> bool {
    head.next_word() == head.addr()
}

/// Append the unlinked `node` at the tail of `head`.
#[inline(always)]
pub(crate) fn append(node: Node, head: Node) {
    let last = prev(head);
    set_prev(node, last);
    set_next(node, head);
    set_next(last, node);
    set_prev(head, node);
}

/// Link the unlinked `node` at the tail of `head` with a clean `prev`
/// (no flags, no deferred link: tag 0, I7); CPython's `_PyObject_GC_TRACK`.
#[inline(always)]
pub(crate) fn track(node: Node, head: Node) {
    debug_assert!(!node.is_linked(), "gc: object already tracked");
    node.set_prev_word(0);
    append(node, head);
}

/// Unlink `node` from its list; afterwards `next == 0` (untracked) and
/// `prev == 0` (link and flags: an unlinked object has no generation tag,
/// and its `prev` must not look like a zombie's, header I4/I5).
#[inline(always)]
pub(crate) fn remove(node: Node) {
    let p = prev(node);
    let n = next(node);
    set_next(p, n);
    set_prev(n, p);
    node.set_next_word(0);
    node.set_prev_word(0);
}

/// Move `node` from its list to the tail of `head`.
#[inline(always)]
pub(crate) fn move_to(node: Node, head: Node) {
    let p = prev(node);
    let n = next(node);
    set_next(p, n);
    set_prev(n, p);
    append(node, head);
}

/// Append all of `from` to `to`; `from` becomes empty.
pub(crate) fn merge(from: Node, to: Node) {
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
pub(crate) fn len(head: Node) -> usize {
    iter(head).count()
}

/// Iterate the nodes of a list. The list must not be modified while the
/// iterator is live, except that the node last returned may be moved away
/// (the iterator has already read its successor).
pub(crate) struct Iter {
    head: Node,
    node: Node,
}

impl Iterator for Iter {
    type Item = Node;
    #[inline]
    fn next(&mut self) -> Option<Node> {
        if self.node == self.head {
            return None;
        }
        let current = self.node;
        self.node = next(current);
        Some(current)
    }
}

pub(crate) fn iter(head: Node) -> Iter {
    Iter {
        head,
        node: next(head),
    }
}

/// `update_refs` back to front: call `f` on each node of `head`'s list,
/// front to back, while relinking the `next` words the other way round.
/// `f` may overwrite the node's `prev` (with `gc_refs`: L2's exception;
/// this reads no `prev` word, and writes only the head's). Afterwards the list is singly
/// linked in reverse order, its head's `prev` naming the new tail (the old
/// first node), as `move_unreachable` expects of a list `update_refs` left.
pub(crate) fn reverse_singly(head: Node, mut f: impl FnMut(Node)) {
    let first = next(head);
    let mut before = head;
    let mut n = first;
    while n != head {
        let after = next(n);
        f(n);
        set_next(n, before);
        before = n;
        n = after;
    }
    set_next(head, before);
    head.set_prev_word(first.addr());
}

/// `deduce_unreachable`'s all-trash shortcut: move every node of `from`,
/// singly linked as `update_refs` leaves a list (the head's `prev` names
/// the tail; the nodes' `prev` hold `gc_refs`), to the empty `to`, in
/// order; `from` becomes empty. The first node gets its `prev` link (to
/// `to`, flags kept); the others keep their counts (L2's exception) until
/// [`relink_unreachable`] or [`link_next_back`].
pub(crate) fn take_singly(from: Node, to: Node) {
    debug_assert!(is_empty(to), "gc: taking a list into a non-empty one");
    if is_empty(from) {
        return;
    }
    let first = next(from);
    let last = prev(from);
    set_next(to, first);
    set_prev(first, to);
    set_next(last, to);
    to.set_prev_word(last.addr());
    init(from);
}

/// Make the list [`take_singly`] left what `move_unreachable` leaves when
/// it moves every object to `head`: give every node its `prev` link (flags
/// kept) and `NEXT_UNREACHABLE` in its `next` word (the head's stays
/// clean, as [`finish_move_unreachable`] leaves it). Afterwards L2 holds
/// for the unreachable list.
pub(crate) fn relink_unreachable(head: Node) {
    let mut before = head;
    let mut n = next(head);
    while n != head {
        let after = next(n);
        set_prev(n, before);
        n.set_next_word(NEXT_UNREACHABLE | after.addr());
        before = n;
        n = after;
    }
}

/// The delete walk over a list [`take_singly`] left: give `node`'s
/// successor (a node or the head) its `prev` link to `node`, flags kept,
/// and return it. On a doubly linked list this writes what is there.
#[inline(always)]
pub(crate) fn link_next_back(node: Node) -> Node {
    let n = next(node);
    set_prev(n, node);
    n
}

// ---------------------------------------------------------------------------
// The collector's moves (`move_unreachable` and the walks after it)
// ---------------------------------------------------------------------------

/// `move_unreachable`, a survivor: relink `node` behind `prev` (its `prev`
/// held `gc_refs`), clearing COLLECTING and setting the generation tag
/// `tag` (I7). `young` is singly linked behind the scan (L2's exception).
#[inline(always)]
pub(crate) fn relink_survivor(node: Node, prev: Node, tag: usize) {
    node.set_prev_word(prev.addr() | (tag << 1));
}

/// `move_unreachable`, tentatively unreachable: take `node`, the successor
/// of `before` in the singly linked `young`, out of `young` and append it to
/// `unreachable` with `NEXT_UNREACHABLE` set (its `gc_refs` stays in
/// `prev`'s flag bits: COLLECTING is kept). `before` is then followed by
/// `node`'s old successor.
///
/// `node`'s `gc_refs` is 0 (the caller tested it), so its whole `prev` word
/// is its flags: it is kept as read, with no masking. (Read after the first
/// store, so that the caller's test keeps its load-and-compare: read
/// before, the compiler shares one load between the two, which costs the
/// test an instruction on every reachable object.)
#[inline(always)]
pub(crate) fn move_tentatively_unreachable(before: Node, node: Node, unreachable: Node) {
    let after = node.next_word();
    before.set_next_word(after);
    let flags = node.prev_word();
    debug_assert!(
        flags & !PREV_FLAGS == 0,
        "gc: moving an object with gc_refs"
    );
    append_tentatively_unreachable(node, flags, unreachable);
}

/// Link `node` (off any list) at the tail of `unreachable` as
/// `move_unreachable` does: `NEXT_UNREACHABLE` on its `next` and on the
/// link to it, `prev` the link with the flags `flags`.
#[inline(always)]
fn append_tentatively_unreachable(node: Node, flags: usize, unreachable: Node) {
    let last = tail(unreachable);
    last.set_next_word(NEXT_UNREACHABLE | node.addr());
    node.set_prev_word(last.addr() | flags);
    node.set_next_word(NEXT_UNREACHABLE | unreachable.addr());
    unreachable.set_prev_word(node.addr());
}

/// [`move_tentatively_unreachable`] for a run: `first`, the successor of
/// `before` in the singly linked `young`, has `gc_refs` 0, and so may the
/// nodes after it; move it and each following one up to the next with
/// `gc_refs > 0` or the head `young` (nothing is traced between two of
/// them, so nothing reads the lists in between) to the tail of
/// `unreachable`, in order. `before` is then followed by the node after
/// the run. Returns the number of nodes moved with `COUNT`, else 0.
///
/// The same lists as moving them one by one, with fewer stores: each
/// node's `prev` and its predecessor's `next` once, and the unreachable
/// head's tail and `before`'s `next` once per run, not per node (11
/// instructions per node instead of 16). A node whose `gc_refs` is 0 has
/// no other bits in its `prev` word than its flags, so the word is kept
/// as read.
///
/// Not inlined, and called for the second node of a run on (a run of one
/// is moved inline): inlined, its loop changed `move_unreachable`'s
/// register allocation and cost every reachable object an instruction.
#[inline(never)]
pub(crate) fn move_tentatively_unreachable_run<const COUNT: bool>(
    before: Node,
    first: Node,
    unreachable: Node,
    young: Node,
) -> usize {
    debug_assert!(
        young.prev_word() > PREV_FLAGS,
        "gc: a list head's prev is an address"
    );
    let mut last = tail(unreachable);
    let mut node = first;
    let mut moved = 0;
    loop {
        moved += usize::from(COUNT);
        let flags = node.prev_word();
        debug_assert!(
            flags & !PREV_FLAGS == 0,
            "gc: moving an object with gc_refs"
        );
        let after = next(node);
        last.set_next_word(NEXT_UNREACHABLE | node.addr());
        node.set_prev_word(last.addr() | flags);
        last = node;
        node = after;
        // The head `young` ends the run too: its `prev` word is an
        // address (its tail or itself), so its `gc_refs` reads as > 0.
        if node.gc_refs() > 0 {
            break;
        }
    }
    last.set_next_word(NEXT_UNREACHABLE | unreachable.addr());
    unreachable.set_prev_word(last.addr());
    before.set_next_word(node.addr());
    moved
}

/// A side-table collection's `move_unreachable` (`collector::side`): move
/// `node` from the doubly linked list being scanned to the tail of
/// `unreachable`, as [`move_tentatively_unreachable`] leaves an object:
/// `prev` the link with COLLECTING and no tag (I7), `NEXT_UNREACHABLE` on
/// its `next` and on the link to it. Returns the node after it.
#[inline(always)]
pub(crate) fn side_move_unreachable(node: Node, unreachable: Node) -> Node {
    let p = prev(node);
    let n = next(node);
    set_next(p, n);
    set_prev(n, p);
    append_tentatively_unreachable(node, PREV_COLLECTING, unreachable);
    n
}

/// A side-table collection's rescue: take `node` (moved by
/// [`side_move_unreachable`]) off the unreachable list and append it to
/// the doubly linked `young` with generation tag `tag`, COLLECTING clear.
#[inline(always)]
pub(crate) fn side_rescue(node: Node, young: Node, tag: usize) {
    let last = rescue_links(node, young);
    node.set_prev_word(last.addr() | (tag << 1));
}

/// A side-table collection's all-trash walk found a member that is not
/// trash (`collector::side::take_all_trash`): give every node it marked
/// (COLLECTING, its `prev` word holding `gc_refs`) its `prev` link back,
/// tagged `tag`. The nodes it did not mark keep their words.
pub(crate) fn relink_marked(head: Node, tag: usize) {
    relink(head, tag, |node| node.is_collecting());
}

/// Give each node of the list at `head` that `which` picks its `prev`
/// link back, tagged `tag` with COLLECTING clear, from one walk over the
/// `next` links.
#[inline(always)]
fn relink(head: Node, tag: usize, which: impl Fn(Node) -> bool) {
    let mut prev = head;
    let mut node = next(head);
    while node != head {
        if which(node) {
            node.set_prev_word(prev.addr() | (tag << 1));
        }
        prev = node;
        node = next(node);
    }
}

/// A side-table collection that found an over-report (HAZARDS 1) gives
/// back what it moved: every node of `unreachable` (as
/// [`side_move_unreachable`] left them) to the tail of `young`, and every
/// node of `young` gets tag `tag` with COLLECTING clear.
pub(crate) fn side_restore(unreachable: Node, young: Node, tag: usize) {
    let mut node = next_masked(unreachable);
    while node != unreachable {
        let after = next_masked(node);
        node.set_next_word(after.addr());
        node = after;
    }
    unreachable.clear_unreachable_mask();
    merge(unreachable, young);
    relink(young, tag, |_| true);
}

/// `move_unreachable`'s end: `young`'s tail is `last` (restores L2 for
/// `young`), and `unreachable`'s head link loses its `NEXT_UNREACHABLE` bit.
#[inline(always)]
pub(crate) fn finish_move_unreachable(young: Node, last: Node, unreachable: Node) {
    young.set_prev_word(last.addr());
    unreachable.clear_unreachable_mask();
}

/// `visit_reachable`: `node` was tentatively unreachable but is reachable
/// after all: unlink it from the unreachable list (whose `next` words carry
/// `NEXT_UNREACHABLE`; the predecessor keeps its bit), append it to
/// `young`, where `move_unreachable` will scan it again, and give it
/// `gc_refs = 1` (its flags kept).
///
/// `young` is singly linked while `move_unreachable` runs (L2's exception:
/// its objects' `prev` words hold `gc_refs`), so the append writes only
/// `next` links and the head's `prev` (the tail; a head's `prev` has no
/// flags), and `node`'s `prev` gets its count at once — not a link that the
/// count would overwrite (8 instructions fewer per rescue than `append` +
/// `set_gc_refs`).
///
/// `node`'s flags are exactly [`PREV_COLLECTING`]: it is of the set being
/// collected (I5), whose objects carry no generation tag (I7) and are not
/// dropped trash yet; so its new `prev` word is a constant.
#[inline(always)]
pub(crate) fn rescue_to(node: Node, young: Node) {
    rescue_links(node, young);
    node.set_prev_word((1 << PREV_SHIFT) | PREV_COLLECTING);
}

/// The links of a rescue: take `node` off the unreachable list (its flags
/// exactly [`PREV_COLLECTING`]) and make it the tail of `young` by its
/// `next` and the tail's links; its own `prev` word is the caller's to
/// write. Returns `young`'s old tail.
#[inline(always)]
fn rescue_links(node: Node, young: Node) -> Node {
    let next_word = node.next_word();
    let prev_word = node.prev_word();
    debug_assert_eq!(prev_word & PREV_FLAGS, PREV_COLLECTING, "gc: rescue flags");
    let p = self::node(prev_word & !PREV_FLAGS);
    let n = self::node(next_word & !NEXT_UNREACHABLE);
    p.set_next_word(next_word); // keeps NEXT_UNREACHABLE
    set_prev(n, p);
    let last = tail(young);
    set_next(last, node);
    set_next(node, young);
    young.set_prev_word(node.addr());
    last
}

/// `delete_garbage` on the sync heap: free the whole trash list in one walk
/// without unlinking each node (its neighbours go too): `keep` says which
/// nodes stay (zombies, relinked in order); the others are handed to `free`
/// with their link words zeroed (unlinked, I4) after their successor was
/// read. `head` is a well-formed list on return (L2).
pub(crate) fn drain_keeping(
    head: Node,
    mut keep: impl FnMut(Node) -> bool,
    mut free: impl FnMut(Node),
) {
    let mut last = head;
    let mut node = next(head);
    while node != head {
        let after = next(node);
        if keep(node) {
            set_next(last, node);
            set_prev(node, last);
            last = node;
        } else {
            node.set_next_word(0);
            node.set_prev_word(0);
            free(node);
        }
        node = after;
    }
    set_next(last, head);
    set_prev(head, last);
}
