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
//!   a member of the collected set that the walk has not reached yet.
//!   Sync-heap objects do not use tags (their collector does not fuse).
//!   In the incremental mode (`heap::spaces`) the same lists carry the same
//!   tags — generation 0 is the nursery, lists 1 and 2 the old
//!   generation's two spaces — and the aging spaces' lists tag 0; there the
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

use crate::trace::{FinalizerKind, Tracer};
use std::any::TypeId;
use std::cell::Cell;
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

/// Weak word: `Finalize::finalize` has been called (or is running).
pub(crate) const FINALIZED: u32 = 1 << 31;
/// Weak word: weak handles to the object are dead (`upgrade` fails).
pub(crate) const WEAK_CLEARED: u32 = 1 << 30;
/// Weak word: the weak-callback registry may hold entries for this object.
pub(crate) const HAS_CALLBACKS: u32 = 1 << 29;
/// Weak word (per-thread heap only): `Gc::get_mut` handed out a `&mut T`
/// that may still be live. While it is set *and* the strong count is 1, the
/// collector does not trace the object (its edges count as outside
/// references, like a mutably borrowed `RefCell`) and no API hands out a new
/// handle to it. A strong count above 1 proves the `&mut` dead: `get_mut`
/// requires the only handle and no weak ones, and the borrow of that handle
/// must end before it can be cloned (or downgraded, which clears the flag).
/// The collector also clears it when it finds an edge to the object (its
/// only handle was moved into a traced object: the borrow has ended too).
/// Keeping it out of the strong word leaves `clone`/`drop` exactly `Rc`'s
/// instructions: one increment or decrement of memory and one branch.
pub(crate) const MUT_EXPOSED: u32 = 1 << 28;
/// Weak word: the object carries a [`Header`] (its type was tracked when it
/// was allocated, I8). Set at allocation, never changed. Handles to unsized
/// values read it: `Gc<dyn Trait>` cannot know from its type whether the
/// concrete value behind it has a header.
pub(crate) const HAS_HEADER: u32 = 1 << 27;
/// Weak word: the object's weak epoch is not 0 (I2): the heap's epoch
/// table may hold its entry (current epoch, stale handle count).
pub(crate) const WEAK_EPOCH: u32 = 1 << 26;
/// Weak word: the value is pinned (`Gc::pin`, I9): it is never moved out
/// of the object. Set at allocation, never changed.
pub(crate) const PINNED: u32 = 1 << 25;
/// Weak word: the bits that count weak handles (+1 implicit).
pub(crate) const WEAK_COUNT_MASK: u32 = PINNED - 1;

/// The reference counts at the start of every [`GcBox`].
#[repr(C)]
pub struct Counts {
    strong: Cell<u32>,
    weak: Cell<u32>,
}

/// The list links of a tracked object, just before its [`Counts`].
#[repr(C)]
pub(crate) struct Header {
    /// Next object on the list (`0` = not linked); low bit: [`NEXT_UNREACHABLE`].
    pub(crate) next: Cell<usize>,
    /// Previous object on the list, or `gc_refs << PREV_SHIFT`; low bits: flags.
    pub(crate) prev: Cell<usize>,
    /// How to trace, finalize, drop and free the object.
    pub(crate) vtable: &'static VTable,
}

/// Size of [`Header`]; the counts follow it directly.
pub(crate) const HEADER_SIZE: usize = std::mem::size_of::<Header>();
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

/// The two count representations behind one interface (std's `raw_rc`
/// idea): [`Counts`] (plain cells, the per-thread heap) and the sync heap's
/// `SyncCounts` (atomics). The collector and refcount death are generic
/// over it.
pub(crate) trait RefCounter: Sized + 'static {
    /// Whether tracked objects with these counts may come from the calling
    /// thread's pool (`heap::pool`, invariant P1): only per-thread objects.
    const POOLED: bool;
    /// Whether these are the sync heap's counts (`TraceUnsized::__gc_erased`'s
    /// argument).
    const SYNC: bool;
    fn new(strong: u32, weak: u32) -> Self;
    /// The counts of the object whose counts start at `counts`.
    ///
    /// # Safety
    /// `counts` points at the counts of a live object (weak count > 0, I1)
    /// of this representation's heap.
    unsafe fn of<'a>(counts: NonNull<Counts>) -> &'a Self;
    /// The strong count.
    fn strong(&self) -> u32;
    /// Add a strong reference (aborts on overflow, HAZARDS 7).
    fn inc_strong(&self);
    /// Drop a strong reference; `true` when it was the last.
    fn dec_strong(&self) -> bool;
    /// Drop a weak reference; `true` when none is left (I1).
    fn dec_weak(&self) -> bool;
    /// Whether `flag` (a weak-word flag) is set.
    fn has_flag(&self, flag: u32) -> bool;
    /// Set `flag`; whether it was set already (one read-modify-write on
    /// the sync heap, so two threads never both see "unset").
    fn test_and_set_flag(&self, flag: u32) -> bool;
    /// Clear `flag`; whether it was set.
    fn test_and_clear_flag(&self, flag: u32) -> bool;
    /// Whether a `&mut` from `Gc::get_mut` may be live ([`MUT_EXPOSED`],
    /// I6). The sync heap reads the flag alone (see its collector impl).
    fn mut_exposed(&self) -> bool;
}

impl RefCounter for Counts {
    const POOLED: bool = true;
    const SYNC: bool = false;
    #[inline(always)]
    fn new(strong: u32, weak: u32) -> Self {
        Counts {
            strong: Cell::new(strong),
            weak: Cell::new(weak),
        }
    }
    #[inline(always)]
    unsafe fn of<'a>(counts: NonNull<Counts>) -> &'a Self {
        // SAFETY: I1: the caller vouches the object is live.
        unsafe { counts.as_ref() }
    }
    #[inline(always)]
    fn strong(&self) -> u32 {
        self.strong.get()
    }
    #[inline(always)]
    fn inc_strong(&self) {
        Counts::inc_strong(self)
    }
    #[inline(always)]
    fn dec_strong(&self) -> bool {
        Counts::dec_strong(self)
    }
    #[inline(always)]
    fn dec_weak(&self) -> bool {
        Counts::dec_weak(self)
    }
    #[inline(always)]
    fn has_flag(&self, flag: u32) -> bool {
        self.weak.get() & flag != 0
    }
    #[inline(always)]
    fn test_and_set_flag(&self, flag: u32) -> bool {
        let w = self.weak.get();
        self.weak.set(w | flag);
        w & flag != 0
    }
    #[inline(always)]
    fn test_and_clear_flag(&self, flag: u32) -> bool {
        let w = self.weak.get();
        self.weak.set(w & !flag);
        w & flag != 0
    }
    #[inline(always)]
    fn mut_exposed(&self) -> bool {
        Counts::mut_exposed(self)
    }
}

/// Per-type operations, so the collector can handle objects type-erased.
pub(crate) struct VTable {
    pub(crate) trace: unsafe fn(NonNull<Counts>, &mut Tracer<'_>),
    pub(crate) finalize: unsafe fn(NonNull<Counts>),
    pub(crate) finalizer_kind: fn() -> FinalizerKind,
    /// Drop the value; the `usize` is [`ObjPtr::meta`] (I8).
    pub(crate) drop_value: unsafe fn(NonNull<Counts>, usize),
    /// Free the allocation; the `usize` is [`ObjPtr::meta`] (I8).
    pub(crate) dealloc: unsafe fn(NonNull<Counts>, usize),
    pub(crate) type_id: fn() -> TypeId,
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) tracked: fn() -> bool,
    pub(crate) value_offset: usize,
}

/// The vtable of the list heads (sentinels); never called.
pub(crate) static SENTINEL_VTABLE: VTable = VTable {
    trace: |_, _| {},
    finalize: |_| {},
    finalizer_kind: || FinalizerKind::None,
    drop_value: |_, _| {},
    dealloc: |_, _| {},
    type_id: TypeId::of::<()>,
    type_name: || "<list head>",
    tracked: || false,
    value_offset: 0,
};

impl Counts {
    #[inline(always)]
    pub(crate) fn strong(&self) -> u32 {
        self.strong.get()
    }

    /// Whether a `&mut` from `Gc::get_mut` may be live ([`MUT_EXPOSED`]).
    #[inline(always)]
    pub(crate) fn mut_exposed(&self) -> bool {
        self.weak.get() & MUT_EXPOSED != 0 && self.strong.get() == 1
    }

    #[inline(always)]
    pub(crate) fn set_mut_exposed(&self) {
        self.set_flag(MUT_EXPOSED)
    }

    #[inline(always)]
    pub(crate) fn clear_mut_exposed(&self) {
        self.clear_flag(MUT_EXPOSED)
    }

    #[inline(always)]
    pub(crate) fn set_strong(&self, n: u32) {
        self.strong.set(n)
    }

    /// Add a strong reference; aborts on overflow past 2^31 - 1, as `Rc`
    /// aborts on overflow (HAZARDS 7).
    #[inline(always)]
    pub(crate) fn inc_strong(&self) {
        let n = self.strong.get().wrapping_add(1);
        self.strong.set(n);
        if (n as i32) < 0 {
            count_overflow();
        }
    }

    /// Drop a strong reference; returns `true` when it was the last.
    #[inline(always)]
    pub(crate) fn dec_strong(&self) -> bool {
        let n = self.strong.get() - 1;
        self.strong.set(n);
        n == 0
    }

    /// The weak handles, plus one while the value is not dropped (I1).
    /// The whole weak word: count and flags.
    #[inline(always)]
    pub(crate) fn weak_word(&self) -> u32 {
        self.weak.get()
    }

    #[inline(always)]
    pub(crate) fn weak(&self) -> u32 {
        self.weak.get() & WEAK_COUNT_MASK
    }

    #[inline(always)]
    pub(crate) fn inc_weak(&self) {
        let w = self.weak.get();
        if w & WEAK_COUNT_MASK == WEAK_COUNT_MASK {
            count_overflow();
        }
        self.weak.set(w + 1);
    }

    /// Drop a weak reference; returns `true` when the count reached zero.
    #[inline(always)]
    pub(crate) fn dec_weak(&self) -> bool {
        let w = self.weak.get() - 1;
        self.weak.set(w);
        w & WEAK_COUNT_MASK == 0
    }

    #[inline(always)]
    pub(crate) fn has_flag(&self, flag: u32) -> bool {
        self.weak.get() & flag != 0
    }

    #[inline(always)]
    pub(crate) fn set_flag(&self, flag: u32) {
        self.weak.set(self.weak.get() | flag)
    }

    #[inline(always)]
    pub(crate) fn clear_flag(&self, flag: u32) {
        self.weak.set(self.weak.get() & !flag)
    }
}

#[cold]
#[inline(never)]
fn count_overflow() -> ! {
    eprintln!(
        "gc: reference count overflow (a handle was leaked with mem::forget in a loop?); aborting"
    );
    std::process::abort()
}

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
        // SAFETY: forwarded: the allocation is live.
        unsafe { self.counts.as_ref() }
    }

    /// The header of a tracked-type object.
    #[inline(always)]
    pub(crate) fn header(self) -> Option<NonNull<Header>> {
        if (self.vtable.tracked)() {
            Some(counts_to_header(self.counts))
        } else {
            None
        }
    }

    /// Whether a collection has dropped this object's value (dropped trash
    /// still on the collector's list, or a zombie; I5).
    #[inline(always)]
    pub(crate) fn value_dropped_by_collector(self) -> bool {
        // SAFETY: callers pass live objects; a live object's header is live.
        self.header()
            .is_some_and(|h| unsafe { h.as_ref() }.value_dropped())
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

/// The header of a tracked object, from its counts.
#[inline(always)]
pub(crate) fn counts_to_header(counts: NonNull<Counts>) -> NonNull<Header> {
    // SAFETY: for tracked objects the header lies HEADER_SIZE bytes before
    // the counts in the same allocation (layout above); the result is non-null.
    unsafe { NonNull::new_unchecked(counts.as_ptr().cast::<u8>().sub(HEADER_SIZE).cast()) }
}

/// The counts of a tracked object, from its header.
#[inline(always)]
pub(crate) fn header_to_counts(header: NonNull<Header>) -> NonNull<Counts> {
    // SAFETY: inverse of `counts_to_header`; stays in the allocation.
    unsafe { NonNull::new_unchecked(header.as_ptr().cast::<u8>().add(HEADER_SIZE).cast()) }
}

impl Header {
    /// The type-erased object this header belongs to.
    #[inline(always)]
    pub(crate) fn obj(this: NonNull<Header>) -> ObjPtr {
        // SAFETY: headers handed around by the heap are live (I4).
        let vtable = unsafe { this.as_ref().vtable };
        ObjPtr {
            counts: header_to_counts(this),
            vtable,
            meta: 0,
        }
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
