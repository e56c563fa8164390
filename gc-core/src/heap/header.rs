//! Object layout: the header every heap object carries, its flag bits, and
//! the invariants that the rest of the crate relies on.
//!
//! # Layout
//!
//! Every `Gc<T>` points at a [`GcBox<T>`]: the reference counts followed by the
//! value.
//!
//! ```text
//!  tracked T (may own handles)                 untracked T (owns none)
//!  ┌──────────────────────────────┐ ◄─ Header
//!  │ next   usize  (list link)    │
//!  │ prev   usize  (link | flags) │
//!  │ vtable &'static VTable       │
//!  ├──────────────────────────────┤ ◄─ GcBox   ┌──────────────────────────┐ ◄─ GcBox
//!  │ strong u32                   │            │ strong u32               │
//!  │ weak   u32  (count | flags)  │            │ weak   u32 (count|flags) │
//!  ├──────────────────────────────┤            ├──────────────────────────┤
//!  │ value: T                     │            │ value: T                 │
//!  └──────────────────────────────┘            └──────────────────────────┘
//!   header: 32 bytes (for align(T) <= 8)         header: 8 bytes
//! ```
//!
//! A type is *tracked* when `T::__gc_tracked()` is true (the derive computes
//! it from the fields: a type that can never own a `Gc`/`Weak` is untracked).
//! Only tracked objects carry the [`Header`]; it sits immediately before the
//! [`Counts`], so `counts = header + HEADER_SIZE` and back, for every `T`. When
//! `align(T) > 8`, padding goes *before* the header, never between header and
//! counts.
//!
//! # Invariants
//!
//! * **I1 (counts).** `strong` is the number of live `Gc` handles (plus one,
//!   temporarily, while a refcount-death finalizer runs). The weak word's count
//!   is the number of live `Weak` handles **plus one implicit weak** that stands
//!   for "the value has not been dropped yet". The allocation is freed exactly
//!   when that count reaches zero, and the value is dropped exactly once, before
//!   the implicit weak is released.
//! * **I2 (weak epochs).** Clearing kills the weak handles that exist at
//!   that moment, not the object's future. Every `Weak` remembers the *weak
//!   epoch* of its referent when it was made (a clone copies it). An
//!   object's epoch is 0 until its handles are cleared while it may live on
//!   — the collector's `handle_weakrefs` on cyclic trash, or a refcount death with
//!   a legacy finalizer (which CPython runs after clearing) — and each such
//!   clearing with handles alive adds one (`heap::weakepoch`: an entry in
//!   the heap's epoch table, flagged by [`WEAK_EPOCH`], that also counts the
//!   *stale* handles, those of older epochs, still alive). A `Weak` may
//!   create a `Gc` only while `strong > 0`, [`WEAK_CLEARED`] is unset, its
//!   epoch is the object's, and (tracked types, per-thread heap)
//!   [`PREV_COLLECTING`] is unset: cyclic trash cannot be upgraded to even
//!   where the collector has not set `WEAK_CLEARED` on it (its lean path
//!   skips that walk when no trash object can have a finalizer or weak
//!   callback; user code that runs during the delete — a `Drop` impl, an
//!   outside object's finalizer — and tries to upgrade to trash is refused
//!   by this check). `WEAK_CLEARED` is set before weak callbacks run
//!   (refcount death) and, outside the lean path, for all cyclic trash
//!   before any finalizer runs; it is unset again only when the object is
//!   resurrected (survives the collection, is saved by `SAVEALL`, or a
//!   legacy finalizer resurrects it), and never on a zombie (I5). `weak_count`
//!   counts the handles of the current epoch only. The epoch entry is
//!   removed when the value is dropped (stale-ness no longer matters then:
//!   strong is 0 for ever); epochs never decrease while the value lives.
//! * **I3 (finalized).** [`FINALIZED`] is set before `Finalize::finalize` is
//!   called and never unset: no object with a PEP 442 finalizer is finalized
//!   twice. A legacy finalizer (`tp_del`) runs at every refcount death, as
//!   in CPython (it may resurrect the object and die again).
//! * **I4 (tracking).** A tracked-type object is *linked* (on exactly one
//!   generation list, or on one of the collector's private lists during a
//!   collection) iff `next != 0`. It is linked from allocation until its value
//!   is about to be dropped. An unlinked object's `prev` is 0, the
//!   trashcan's deferred-deallocation link (a header address, so bit 1 is
//!   clear), or exactly [`PREV_DROPPED`] for a zombie (I5).
//! * **I5 (collecting).** [`PREV_COLLECTING`] is set only by the collector,
//!   on objects of the set being collected; outside a collection no object
//!   has it. While it is set the upper bits of `prev` hold `gc_refs` instead
//!   of a pointer, until `move_unreachable` restores the link. An object that
//!   keeps the flag after `move_unreachable` is cyclic trash, owned by the
//!   collector: a drop of its last strong handle does nothing while its
//!   value is intact (the collector drops it in `delete_garbage`). Once
//!   `delete_garbage` has dropped the value it adds [`PREV_DROPPED`]; from
//!   then on the object is freed as soon as its strong count is 0 — by
//!   `delete_garbage` right after the drop, or by the release of its last
//!   strong handle while another trash value is dropped (per-thread heap;
//!   the sync heap frees all trash after the last drop). Nothing can reach
//!   such an object afterwards: no strong handle is left, weak handles
//!   cannot upgrade (strong is 0) and it is unlinked first.
//!
//!   A trash object that still has strong handles after every trash value
//!   was dropped can only come from a `Trace`/`Drop` impl that broke its
//!   contract (rule 5: a `Drop` that cloned or moved a handle out). The
//!   per-thread heap contains the damage as far as it can: the object
//!   becomes a *zombie* — unlinked, `COLLECTING` cleared, `prev` exactly
//!   [`PREV_DROPPED`], `WEAK_CLEARED` set. Later collections see it as an
//!   object outside their set (not linked, not collecting), so edges to it
//!   count as outside references; the `gc`/`debug` functions do not trace a
//!   dropped value (zombie or dropped trash), `get_mut`/`try_unwrap` refuse
//!   it, upgrades fail, and its last handle frees it without a second drop.
//!   Dereferencing such a handle still reads a dropped value: that is the
//!   breach itself, which no check can undo. On the sync heap a handle that
//!   escaped to another thread this way can race with the collector.
//! * **I6 (values).** A value is only ever accessed through `&T` while
//!   `strong > 0` or while the collector/dealloc owns the object (finalizer
//!   calls, tracing). `&mut T` is only created by `Gc::get_mut` when the
//!   handle is unique (strong == 1, no weak handles); it sets
//!   [`MUT_EXPOSED`], and nothing traces the value or makes a new handle to
//!   it while the flag is set and strong is 1 (a second strong handle, a
//!   `downgrade` that clears the flag, or an edge found by the collector that
//!   clears it: each proves the `&mut` dead).
//! * **I7 (generation tags, per-thread heap).** An object of the per-thread
//!   heap that is linked on a generation list carries that generation's
//!   index in bits 1–2 of `prev` ([`PREV_TAG_MASK`]; [`TAG_PERMANENT`] on the
//!   permanent list) — except while COLLECTING or on one of the collector's
//!   private lists, where the bits are 0. Every place that links an object
//!   into a generation list sets the tag (`track_new` and resurrection: 0;
//!   `move_unreachable`: the generation survivors move to; the legacy and
//!   SAVEALL lists joining the old generation; `freeze`/`unfreeze`). The
//!   fused first pass of a collection of generation `g` relies on it: an
//!   edge to a linked object without COLLECTING whose tag is `<= g` leads to
//!   a member of the collected set that the walk has not reached yet; a
//!   full collection's sweep over the pool's pages (heap H2) tells members
//!   from frozen objects the same way.
//!   Sync-heap objects do not use tags (their collector does not fuse).
//!   In the incremental mode (`heap::spaces`) the same lists carry the same
//!   tags — generation 0 is the nursery, lists 1 and 2 the old
//!   generation's two spaces, and the promoted list (`Spaces::promoted`,
//!   which joins the visited space when a sweep ends) carries the visited
//!   space's tag — and the aging spaces' lists tag 0; there the
//!   tag of an old object tells the pending space from the visited one (the
//!   increment's closure walk relies on it), and the fused pass is not used
//!   (young objects outside the collected aging space share tag 0).
//! * **I8 (unsized values)** is written in `heap::dst`: [`HAS_HEADER`] in
//!   the weak word says whether an object has a header; what describes an
//!   object without one.
//! * **I9 (pinned values).** A value is moved out of its object only by
//!   `try_unwrap`/`into_inner` (per-thread and sync) or through the `&mut T`
//!   of `get_mut`; all of them refuse an object with [`PINNED`], which
//!   `Gc::pin` sets before the handle exists. Every other end of a value
//!   is a drop in place (refcount death, the collector) before its memory
//!   is freed, or a leak (memory never freed). So a `Pin<Gc<T>>` keeps
//!   `Pin`'s contract even though the heap hands out other handles to the
//!   same object (`gc::get_objects`, `get_referents`, `from_finalizing`,
//!   `GcAny::downcast`).
//! * **I10 (layout).** An object is one allocation, laid out as drawn above:
//!   padding, then (a run-time slice with a header only) its length word,
//!   then the [`Header`] if it is tracked, then the [`Counts`] (8 bytes, or
//!   the sync heap's atomics of the same size), then the value at the
//!   vtable's `value_offset` past the counts, aligned for it. The
//!   allocation's `Layout` is a function of the concrete type (and length)
//!   alone (`allocation_layout`), so whoever frees it recomputes it; it
//!   comes from the pool exactly when the pool's rule says so (P1) and is
//!   returned there, else to the global allocator. Pointer arithmetic
//!   between header, counts and value stays inside the allocation.

pub use super::counts::Counts;
pub(crate) use super::counts::{
    RefCounter, FINALIZED, HAS_CALLBACKS, HAS_HEADER, IN_NURSERY, MUT_EXPOSED, PINNED,
    WEAK_CLEARED, WEAK_COUNT_MASK, WEAK_EPOCH,
};
use crate::primitive::LinkCell;
use crate::trace::{FinalizerKind, Tracer};
use std::any::TypeId;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// Set in `prev` for objects of the set being collected (CPython's
/// `PREV_MASK_COLLECTING`).
pub(crate) const PREV_COLLECTING: usize = 1;
/// Bits 1–2 of `prev`: the generation tag of a linked object (I7).
pub(crate) const PREV_TAG_MASK: usize = 0b110;
/// The tag of the permanent generation (`gc.freeze()`).
pub(crate) const TAG_PERMANENT: usize = 3;
/// Set in `prev`, together with [`PREV_COLLECTING`], on cyclic trash whose
/// value `delete_garbage` has dropped (I5): bit 1, which is a generation
/// tag on linked objects but always 0 on the collector's private lists
/// (I7), so the two uses never meet. The last strong handle of such an
/// object frees it.
pub(crate) const PREV_DROPPED: usize = 0b010;
/// Number of low bits of `prev` reserved for flags; `gc_refs` lives above.
pub(crate) const PREV_SHIFT: u32 = 3;
/// Mask of the flag bits of `prev`.
pub(crate) const PREV_FLAGS: usize = (1 << PREV_SHIFT) - 1;
/// Set in `next` for objects tentatively moved to the unreachable list
/// (CPython's `NEXT_MASK_UNREACHABLE`); only during `move_unreachable`.
pub(crate) const NEXT_UNREACHABLE: usize = 1;
/// `next` of a sync object in a thread's nursery (`sync::nursery`, N4): not
/// 0 (the object is tracked, I4) and not an address (bit 2 of an 8-aligned
/// header address is 0; bit 0, `NEXT_UNREACHABLE`, is clear too), so no
/// list walk can take it for a link.
pub(crate) const NURSERY_NEXT: usize = 0b100;

/// The list links of a tracked object, just before its [`Counts`]. The
/// fields are private: the link words are written only here and in
/// `heap::list` (through the `*_word` accessors, which `scripts/check-layers.py`
/// keeps out of every other file); everyone else uses the named methods.
#[repr(C)]
pub(crate) struct Header {
    /// Next object on the list (`0` = not linked); low bit: [`NEXT_UNREACHABLE`].
    next: LinkCell,
    /// Previous object on the list, or `gc_refs << PREV_SHIFT`; low bits: flags.
    prev: LinkCell,
    /// How to trace, finalize, drop and free the object.
    vtable: &'static VTable,
}

/// Size of [`Header`]; the counts follow it directly.
pub(crate) const HEADER_SIZE: usize = std::mem::size_of::<Header>();
#[cfg(not(loom))]
const _: () = assert!(HEADER_SIZE == 24);
const _: () = assert!(std::mem::align_of::<Header>() == 8);
const _: () = assert!(std::mem::size_of::<Counts>() == 8);

/// A heap object: counts, then the value. `C` is [`Counts`] for the
/// per-thread heap and `sync::counts::SyncCounts` (atomics) for the sync heap; both
/// are 8 bytes with the same field order.
#[repr(C)]
pub struct GcBox<T: ?Sized, C = Counts> {
    pub(crate) counts: C,
    pub(crate) value: ManuallyDrop<T>,
}

/// Per-type operations, so the collector can handle objects type-erased.
pub(crate) struct VTable {
    pub(crate) trace: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    /// `trace` for a tracer in `FAST_REACHABLE` mode only (the per-thread
    /// collector's `move_unreachable`): the same edges, visited through
    /// `Tracer::with_reachable`'s copy. Types without static code for it
    /// (unsized values) put `trace` here.
    pub(crate) trace_reachable: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    /// `trace` for a tracer in `FAST_SUBTRACT` mode only (the per-thread
    /// collector's `subtract_refs`), through `Tracer::with_subtract`'s
    /// copy. Types without static code for it put `trace` here.
    pub(crate) trace_subtract: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    /// `trace` for a tracer in `FAST_SIDE_COUNT` mode only (a side-table
    /// full collection's first pass), through `Tracer::with_side_count`'s
    /// copy. Types without static code for it put `trace` here.
    pub(crate) trace_side_count: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    /// `trace` for a tracer in `FAST_SIDE_REACH` mode only (a side-table
    /// full collection's `move_unreachable`), through
    /// `Tracer::with_side_reach`'s copy. Types without static code for it
    /// put `trace` here.
    pub(crate) trace_side_reach: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    pub(crate) finalize: unsafe fn(NonNull<Counts>),
    pub(crate) finalizer_kind: fn() -> FinalizerKind,
    /// Drop the value; the `usize` is [`ObjPtr::meta`] (I8).
    pub(crate) drop_value: unsafe fn(NonNull<Counts>, usize),
    /// Free the allocation; the `usize` is [`ObjPtr::meta`] (I8).
    pub(crate) dealloc: unsafe fn(NonNull<Counts>, usize),
    /// The per-thread collector's delete step for one trash object
    /// (`heap::dealloc::delete_trash`): drop the value, mark it dropped
    /// (I5), free it if nothing can reach it. Called only by the
    /// per-thread heap's `delete_garbage` walk, once per trash object.
    pub(crate) delete_trash: unsafe fn(Node),
    pub(crate) type_id: fn() -> TypeId,
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) tracked: fn() -> bool,
    pub(crate) value_offset: usize,
}

/// The vtable of the list heads (sentinels); never called.
pub(crate) static SENTINEL_VTABLE: VTable = VTable {
    trace: |_, _| {},
    trace_reachable: |_, _| {},
    trace_subtract: |_, _| {},
    trace_side_count: |_, _| {},
    trace_side_reach: |_, _| {},
    finalize: |_| {},
    finalizer_kind: || FinalizerKind::None,
    drop_value: |_, _| {},
    dealloc: |_, _| {},
    delete_trash: |_| {},
    type_id: TypeId::of::<()>,
    type_name: || "<list head>",
    tracked: || false,
    value_offset: 0,
};

/// A type-erased pointer to a heap object (its counts) with its vtable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ObjPtr {
    pub(crate) counts: NonNull<Counts>,
    pub(crate) vtable: &'static VTable,
    /// The length of an untracked slice or `str` (its vtable reads it,
    /// I8); 0 for every other object.
    pub(crate) meta: usize,
}

impl std::fmt::Debug for VTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str((self.type_name)())
    }
}

impl PartialEq for VTable {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for VTable {}

impl ObjPtr {
    /// # Safety
    /// `counts` points at a live allocation (weak count > 0, I1).
    #[inline(always)]
    pub(crate) unsafe fn counts<'a>(self) -> &'a Counts {
        // SAFETY: I1, the caller's contract: the allocation is live.
        unsafe { self.counts.as_ref() }
    }

    /// The header of a tracked-type object.
    ///
    /// # Safety
    /// The object is live (weak count > 0, I1) for as long as the returned
    /// node is used (L1).
    #[inline(always)]
    pub(crate) unsafe fn header(self) -> Option<Node> {
        if (self.vtable.tracked)() {
            // SAFETY: I8: a tracked type's object has a header before its
            // counts; L1 is the caller's contract.
            Some(unsafe { Node::of_counts(self.counts) })
        } else {
            None
        }
    }

    /// Whether a collection has dropped this object's value (dropped trash
    /// still on the collector's list, or a zombie; I5).
    ///
    /// # Safety
    /// The object is live (I1).
    #[inline(always)]
    pub(crate) unsafe fn value_dropped_by_collector(self) -> bool {
        // SAFETY: I1, the caller's contract.
        unsafe { self.header() }.is_some_and(|h| h.value_dropped())
    }

    /// A pointer to the value.
    #[inline(always)]
    pub(crate) fn value_ptr(self) -> *const () {
        self.counts
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(self.vtable.value_offset)
            .cast()
    }
}

/// A pointer to a live [`Header`]: a list head or a tracked object.
///
/// * **L1 (nodes).** A `Node` points at a header that stays allocated for
///   as long as the node, or any copy of it, is used: a list head (its
///   [`List`](super::list::List) outlives the lists' users) or a tracked
///   object that is linked (I4), owned by the running collection (I5), or
///   kept alive by a handle or count its user holds (I1). [`Node::new`] and
///   [`Node::of_counts`] are `unsafe`: their callers vouch for this; every
///   other node comes from a list (`heap::list`, invariant L2) or is copied.
///   So reading the header through a node ([`Deref`]) and the list
///   operations on nodes are safe.
///
/// Nothing else is promised: what the link words mean (L2) and the
/// header's flags (I4–I7) are the list's and the collector's business.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(transparent)]
pub(crate) struct Node(NonNull<Header>);

impl Node {
    /// # Safety
    /// L1: `header` is a list head or the header of a tracked object that
    /// stays allocated while the node is used.
    #[inline]
    pub(crate) const unsafe fn new(header: NonNull<Header>) -> Node {
        Node(header)
    }

    /// The node of a tracked object, from its counts.
    ///
    /// # Safety
    /// `counts` are the counts of a tracked object (it has a header, I8)
    /// that stays allocated while the node is used (L1).
    #[inline]
    pub(crate) unsafe fn of_counts(counts: NonNull<Counts>) -> Node {
        // SAFETY: I8 and the layout above: the header lies HEADER_SIZE
        // bytes before the counts in the same allocation, so the result is
        // in bounds and non-null; L1 is the caller's contract.
        unsafe {
            Node(NonNull::new_unchecked(
                counts.as_ptr().cast::<u8>().sub(HEADER_SIZE).cast(),
            ))
        }
    }

    /// The header's address (what link words hold).
    #[inline]
    pub(crate) fn addr(self) -> usize {
        self.0.as_ptr() as usize
    }

    /// The header pointer.
    #[inline]
    pub(crate) fn as_ptr(self) -> *mut Header {
        self.0.as_ptr()
    }

    /// The counts of the object (for a list head: the address past its
    /// header, never read).
    #[inline]
    pub(crate) fn counts(self) -> NonNull<Counts> {
        // SAFETY: I10, L1: the layout above: the counts follow the header, so the
        // address is non-null (L1: a tracked object's header is live; a
        // list head's result is never dereferenced).
        unsafe {
            NonNull::new_unchecked(
                self.0
                    .as_ptr()
                    .cast::<u8>()
                    .wrapping_add(HEADER_SIZE)
                    .cast(),
            )
        }
    }

    /// The type-erased object this header belongs to.
    #[inline]
    pub(crate) fn obj(self) -> ObjPtr {
        ObjPtr {
            counts: self.counts(),
            vtable: self.vtable,
            meta: 0,
        }
    }
}

impl std::ops::Deref for Node {
    type Target = Header;
    #[inline]
    fn deref(&self) -> &Header {
        // SAFETY: L1: the header is allocated while the node is used; it is
        // only ever accessed through shared references (its words are cells).
        unsafe { self.0.as_ref() }
    }
}

impl Header {
    /// A header that is on no list (`next == 0`, I4), with `vtable`.
    #[inline(always)]
    pub(crate) fn new(vtable: &'static VTable) -> Header {
        Header {
            next: LinkCell::new(0),
            prev: LinkCell::new(0),
            vtable,
        }
    }

    /// How to trace, finalize, drop and free the object.
    #[inline(always)]
    pub(crate) fn vtable(&self) -> &'static VTable {
        self.vtable
    }

    /// The raw `next` word (link and [`NEXT_UNREACHABLE`]); `heap::list` only.
    #[inline(always)]
    pub(super) fn next_word(&self) -> usize {
        self.next.get()
    }

    /// Write the raw `next` word; `heap::list` only.
    #[inline(always)]
    pub(super) fn set_next_word(&self, word: usize) {
        self.next.set(word)
    }

    /// The raw `prev` word (link or `gc_refs`, and flags); `heap::list` only.
    #[inline(always)]
    pub(super) fn prev_word(&self) -> usize {
        self.prev.get()
    }

    /// Write the raw `prev` word; `heap::list` only.
    #[inline(always)]
    pub(super) fn set_prev_word(&self, word: usize) {
        self.prev.set(word)
    }

    #[inline(always)]
    pub(crate) fn is_linked(&self) -> bool {
        self.next.get() != 0
    }

    #[inline(always)]
    pub(crate) fn is_collecting(&self) -> bool {
        self.prev.get() & PREV_COLLECTING != 0
    }

    /// Cyclic trash whose value the collector has dropped ([`PREV_DROPPED`]).
    #[inline(always)]
    pub(crate) fn is_dropped_trash(&self) -> bool {
        self.prev.get() & (PREV_COLLECTING | PREV_DROPPED) == PREV_COLLECTING | PREV_DROPPED
    }

    /// A zombie (I5): dropped by a collection, yet still has strong handles.
    #[inline(always)]
    pub(crate) fn is_zombie(&self) -> bool {
        self.next.get() == 0 && self.prev.get() == PREV_DROPPED
    }

    /// Dropped trash or a zombie: the collector has dropped the value (I5).
    #[inline(always)]
    pub(crate) fn value_dropped(&self) -> bool {
        self.is_dropped_trash() || self.is_zombie()
    }

    /// Trash of a running collection, or a zombie: its value is the
    /// collector's (being dropped, or gone); no API may lend or trace it.
    #[inline(always)]
    pub(crate) fn is_owned_by_collector(&self) -> bool {
        self.is_collecting() || self.is_zombie()
    }

    #[inline(always)]
    pub(crate) fn gc_refs(&self) -> usize {
        self.prev.get() >> PREV_SHIFT
    }

    #[inline(always)]
    pub(crate) fn set_gc_refs(&self, refs: usize) {
        self.prev
            .set((refs << PREV_SHIFT) | (self.prev.get() & PREV_FLAGS))
    }

    /// `gc_refs = refs` and set [`PREV_COLLECTING`] (CPython's `gc_reset_refs`).
    #[inline(always)]
    pub(crate) fn reset_gc_refs(&self, refs: usize) {
        self.prev.set((refs << PREV_SHIFT) | PREV_COLLECTING)
    }

    /// The generation tag (I7).
    #[inline(always)]
    pub(crate) fn tag(&self) -> usize {
        (self.prev.get() & PREV_TAG_MASK) >> 1
    }

    /// Set the generation tag (I7), keeping the link and COLLECTING.
    #[inline(always)]
    pub(crate) fn set_tag(&self, tag: usize) {
        self.prev
            .set((self.prev.get() & !PREV_TAG_MASK) | (tag << 1));
    }

    #[inline(always)]
    pub(crate) fn clear_collecting(&self) {
        self.prev.set(self.prev.get() & !PREV_COLLECTING)
    }

    /// Whether `next` carries [`NEXT_UNREACHABLE`] (tentatively unreachable,
    /// during `move_unreachable` and until the mask is cleared).
    #[inline(always)]
    pub(crate) fn is_tentatively_unreachable(&self) -> bool {
        self.next.get() & NEXT_UNREACHABLE != 0
    }

    /// Clear [`NEXT_UNREACHABLE`] (CPython's `clear_unreachable_mask`, one
    /// object); the link stays.
    #[inline(always)]
    pub(crate) fn clear_unreachable_mask(&self) {
        self.next.set(self.next.get() & !NEXT_UNREACHABLE)
    }

    /// Mark cyclic trash whose value `delete_garbage` dropped
    /// ([`PREV_DROPPED`], I5); the link and COLLECTING stay.
    #[inline(always)]
    pub(crate) fn set_dropped(&self) {
        self.prev.set(self.prev.get() | PREV_DROPPED)
    }

    /// Make an unlinked trash object a zombie: `prev` exactly
    /// [`PREV_DROPPED`] (I5).
    #[inline(always)]
    pub(crate) fn set_zombie(&self) {
        debug_assert!(!self.is_linked(), "gc: a zombie must be unlinked");
        self.prev.set(PREV_DROPPED)
    }

    /// Push an unlinked object on the trashcan's deferred list, whose top
    /// was `top` (0: empty): `prev` holds the link (I4). The caller keeps
    /// the new top, this header's address.
    #[inline(always)]
    pub(crate) fn defer_after(&self, top: usize) {
        debug_assert!(!self.is_linked(), "gc: only unlinked objects are deferred");
        self.prev.set(top)
    }

    /// Pop this object off the trashcan's deferred list: the next deferred
    /// object's address (0: none); `prev` is 0 again.
    #[inline(always)]
    pub(crate) fn take_deferred(&self) -> usize {
        self.prev.replace(0)
    }

    /// Put an unlinked object in a sync nursery slot at address `slot`
    /// (`sync::nursery`, N4): `prev` holds the slot's address, `next` is
    /// [`NURSERY_NEXT`] (tracked, I4, but on no list).
    #[inline(always)]
    pub(crate) fn enter_nursery(&self, slot: usize) {
        debug_assert!(!self.is_linked() && slot & PREV_FLAGS == 0 && slot != 0);
        self.prev.set(slot);
        self.next.set(NURSERY_NEXT);
    }

    /// The address of the nursery slot of an object in a nursery (N4).
    #[inline(always)]
    pub(crate) fn nursery_slot(&self) -> usize {
        debug_assert_eq!(self.next.get(), NURSERY_NEXT, "gc: not in a nursery");
        self.prev.get()
    }

    /// Take an object out of its nursery: unlinked (`next == 0`,
    /// `prev == 0`, I4).
    #[inline(always)]
    pub(crate) fn leave_nursery(&self) {
        debug_assert_eq!(self.next.get(), NURSERY_NEXT, "gc: not in a nursery");
        self.next.set(0);
        self.prev.set(0);
    }

    /// Forget an unlinked object's `prev` word (a zombie mark or a deferred
    /// link): `prev` is 0, as for an object that was never linked (I4).
    #[inline(always)]
    pub(crate) fn clear_unlinked_prev(&self) {
        debug_assert!(!self.is_linked());
        self.prev.set(0)
    }
}

/// How the heap handles the concrete type of a value: what
/// [`TraceUnsized::__gc_erased`](crate::trace::TraceUnsized::__gc_erased) returns. Not a public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct ErasedType {
    /// The vtable (of the concrete type; for a slice with a header, the
    /// one that reads the length from the allocation).
    pub(crate) vtable: &'static VTable,
    /// [`ObjPtr::meta`]: the length of a slice or `str`, else 0.
    pub(crate) meta: usize,
    /// Whether the type is tracked (has a header when allocated).
    pub(crate) tracked: bool,
    /// A tracked slice: an existing object's header holds the right vtable
    /// (it may be `[T; N]`'s, coerced), `vtable` is only for new ones.
    pub(crate) from_header: bool,
    /// Refcount death through this type's static code where there is one
    /// (`Typed` for a sized type).
    pub(crate) release: unsafe fn(ObjPtr),
}
