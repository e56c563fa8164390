//! The reference counts at the start of every heap object, and the flags
//! of the weak word. Invariants I1 (counts) and I2 (weak epochs) are written
//! in `heap::header`, with the rest of the object layout.

use std::cell::Cell;
use std::ptr::NonNull;

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
/// Weak word: the object carries a [`Header`](super::header::Header) (its type was tracked when it
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
/// Weak word (sync heap only): the object is in a thread's nursery
/// (`sync::nursery`, rules N1–N6): its header's `prev` holds the address
/// of its nursery slot, not a list link.
pub(crate) const IN_NURSERY: u32 = 1 << 24;
/// Weak word: the bits that count weak handles (+1 implicit).
pub(crate) const WEAK_COUNT_MASK: u32 = IN_NURSERY - 1;

/// The reference counts at the start of every [`GcBox`](super::header::GcBox).
#[repr(C)]
pub struct Counts {
    strong: Cell<u32>,
    weak: Cell<u32>,
}

/// The two count representations behind one interface (std's `raw_rc`
/// idea): [`Counts`] (plain cells, the per-thread heap) and the sync heap's
/// `SyncCounts` (atomics). The collector and refcount death are generic
/// over it.
pub(crate) trait RefCounter: Sized + 'static {
    /// Whether tracked objects with these counts may come from the calling
    /// thread's pool (`heap::pool`, invariant P1): only per-thread objects.
    const POOLED: bool;
    /// Whether tracked objects with these counts that fit a pool come from
    /// the sync heap's per-slot pools (`sync::pool`, invariant SP2) through
    /// [`RefCounter::own_pool_alloc`] / [`RefCounter::own_pool_free`].
    const OWN_POOL: bool = false;
    /// A block of `layout` (which fits the pool) from the calling thread's
    /// own pool (SP2). Only called when [`RefCounter::OWN_POOL`].
    fn own_pool_alloc(layout: std::alloc::Layout) -> NonNull<u8> {
        let _ = layout;
        unreachable!("gc: no own pool")
    }
    /// Return a block from [`RefCounter::own_pool_alloc`].
    ///
    /// # Safety
    /// `base` came from `own_pool_alloc(layout)` and is not used any more.
    unsafe fn own_pool_free(base: NonNull<u8>, layout: std::alloc::Layout) {
        let _ = (base, layout);
        unreachable!("gc: no own pool")
    }
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
    /// Set the strong count while no other handle can exist (a finalizer
    /// at refcount death runs under a count of 1).
    fn set_strong(&self, n: u32);
    /// Drop a strong reference if it is the only one (1 → 0); `false`,
    /// keeping it, if others exist. The sync heap compares and exchanges
    /// (another thread may upgrade a weak handle meanwhile, as
    /// `Arc::try_unwrap`); the per-thread heap reads and writes.
    fn release_if_last(&self) -> bool;
    /// The whole weak word (count and flags).
    fn weak_word(&self) -> u32;
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
    fn set_strong(&self, n: u32) {
        Counts::set_strong(self, n)
    }
    #[inline(always)]
    fn release_if_last(&self) -> bool {
        let last = self.strong.get() == 1;
        if last {
            self.strong.set(0);
        }
        last
    }
    #[inline(always)]
    fn weak_word(&self) -> u32 {
        Counts::weak_word(self)
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
