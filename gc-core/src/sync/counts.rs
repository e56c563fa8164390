//! The sync heap's atomic reference counts (the orderings `Arc` uses) and
//! the weak-epoch bookkeeping done through them (header I2).

use super::pool::SyncPool;
use crate::heap::header::{
    Counts, RefCounter, MUT_EXPOSED, WEAK_CLEARED, WEAK_COUNT_MASK, WEAK_EPOCH,
};
use crate::heap::weakepoch::{entry_of, Epoch, Table, CLEARED};
use crate::primitive::{self, AtomicU32, Mutex, Ordering};
use std::ptr::NonNull;

/// The weak epochs of sync objects (header I2), see [`SyncCounts::add_weak`].
pub(crate) fn weak_epochs() -> &'static Mutex<Table> {
    #[cfg(not(loom))]
    static EPOCHS: std::sync::LazyLock<Mutex<Table>> =
        std::sync::LazyLock::new(|| Mutex::new(Table::new()));
    #[cfg(loom)]
    loom::lazy_static! {
        static ref EPOCHS: Mutex<Table> = Mutex::new(Table::new());
    }
    &EPOCHS
}

/// Atomic reference counts (same layout as the per-thread `Counts`).
/// Public only so that `coerce!` can name `GcBox<T, SyncCounts>` (hidden).
#[doc(hidden)]
#[repr(C)]
pub struct SyncCounts {
    pub(super) strong: AtomicU32,
    pub(super) weak: AtomicU32,
}

/// Counts above this abort, leaving room for racing increments (as `Arc`
/// aborts above `isize::MAX`).
const MAX_STRONG: u32 = u32::MAX >> 1;

impl RefCounter for SyncCounts {
    const POOLED: bool = false;
    const SYNC: bool = true;
    const OWN_POOL: bool = true;
    #[inline(always)]
    fn own_pool_alloc(layout: std::alloc::Layout) -> NonNull<u8> {
        SyncPool::alloc(layout)
    }
    #[inline(always)]
    unsafe fn own_pool_free(base: NonNull<u8>, layout: std::alloc::Layout) {
        // SAFETY: SP2: forwarded from the caller.
        unsafe { SyncPool::free(base, layout) }
    }
    fn new(strong: u32, weak: u32) -> Self {
        SyncCounts {
            strong: AtomicU32::new(strong),
            weak: AtomicU32::new(weak),
        }
    }
    #[inline(always)]
    unsafe fn of<'a>(counts: NonNull<Counts>) -> &'a Self {
        // SAFETY: I1, I10: sync objects store `SyncCounts` where the per-thread heap
        // stores `Counts` (`GcBox<T, SyncCounts>`, same layout); live per
        // the caller (I1).
        unsafe { counts.cast::<SyncCounts>().as_ref() }
    }
    #[inline(always)]
    fn strong(&self) -> u32 {
        SyncCounts::strong(self)
    }
    #[inline(always)]
    fn inc_strong(&self) {
        SyncCounts::inc_strong(self)
    }
    #[inline(always)]
    fn dec_strong(&self) -> bool {
        SyncCounts::dec_strong(self)
    }
    fn dec_weak(&self) -> bool {
        SyncCounts::dec_weak(self)
    }
    fn set_strong(&self, n: u32) {
        SyncCounts::set_strong(self, n)
    }
    fn release_if_last(&self) -> bool {
        SyncCounts::release_if_last(self)
    }
    #[inline(always)]
    fn weak_word(&self) -> u32 {
        SyncCounts::weak_word(self)
    }
    fn has_flag(&self, flag: u32) -> bool {
        SyncCounts::has_flag(self, flag)
    }
    fn test_and_set_flag(&self, flag: u32) -> bool {
        SyncCounts::set_flag(self, flag)
    }
    fn test_and_clear_flag(&self, flag: u32) -> bool {
        SyncCounts::clear_flag(self, flag)
    }
    #[inline(always)]
    fn mut_exposed(&self) -> bool {
        // `sync::Gc::get_mut` sets the flag under the list lock. Unlike the
        // per-thread heap, a second strong handle does not prove the `&mut`
        // dead to another thread (a clone does not synchronise): the flag
        // holds until the collector finds the object referenced only from
        // inside the heap, i.e. its handle moved into a traced object under
        // a guard or a list lock (header I6).
        SyncCounts::has_flag(self, MUT_EXPOSED)
    }
}

impl SyncCounts {
    #[inline(always)]
    pub(crate) fn strong(&self) -> u32 {
        // Acquire: pairs with the Release decrement so that a reader that
        // sees a count also sees the writes made before it changed.
        self.strong.load(Ordering::Acquire)
    }

    /// Clone: Relaxed, as `Arc::clone` — a new reference can only be made
    /// from an existing one, which already keeps the object alive.
    #[inline(always)]
    pub(crate) fn inc_strong(&self) {
        if self.strong.fetch_add(1, Ordering::Relaxed) > MAX_STRONG {
            overflow();
        }
    }

    /// Drop: Release so that this thread's uses of the value happen before
    /// the deallocation; the thread that reaches zero then makes an Acquire
    /// *load* of the counter before touching the value. That is what
    /// `Arc::drop` does under ThreadSanitizer (which cannot see fences); a
    /// load is as cheap as the fence (free on x86), so it is used always and
    /// TSan sees the heap's real synchronisation.
    #[inline(always)]
    pub(crate) fn dec_strong(&self) -> bool {
        if self.strong.fetch_sub(1, Ordering::Release) == 1 {
            let _ = self.strong.load(Ordering::Acquire);
            true
        } else {
            false
        }
    }

    /// Drop a strong reference if it is the only one (1 → 0, as
    /// `Arc::try_unwrap`); `false`, keeping it, if others exist. A death's
    /// finalizer ends with this: if another thread resurrected the object
    /// meanwhile, the dying thread keeps its reference until the object is
    /// linked again, so no second death can start before that.
    pub(crate) fn release_if_last(&self) -> bool {
        self.strong
            .compare_exchange(1, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// `Weak::upgrade`: increment only from non-zero (HAZARDS 16), never
    /// after `WEAK_CLEARED`. Acquire on success, as `Arc`'s upgrade.
    pub(crate) fn try_inc_strong(&self) -> bool {
        self.inc_strong_from_nonzero(true)
    }

    /// Increment only from non-zero (a zero count is a death in progress on
    /// another thread, S3); `false` if it was zero.
    pub(crate) fn try_inc_strong_from_nonzero(&self) -> bool {
        self.inc_strong_from_nonzero(false)
    }

    /// Increment from non-zero, and (`unless_cleared`) not once
    /// `WEAK_CLEARED` is set; Acquire on success, as `Arc`'s upgrade.
    #[inline(always)]
    fn inc_strong_from_nonzero(&self, unless_cleared: bool) -> bool {
        let mut s = self.strong.load(Ordering::Relaxed);
        loop {
            if s == 0 || (unless_cleared && self.has_flag(WEAK_CLEARED)) {
                return false;
            }
            if s > MAX_STRONG {
                overflow();
            }
            match self
                .strong
                .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Set the strong count while no other handle exists (finalizer).
    pub(crate) fn set_strong(&self, n: u32) {
        self.strong.store(n, Ordering::Release)
    }

    #[inline(always)]
    pub(crate) fn weak(&self) -> u32 {
        self.weak.load(Ordering::Acquire) & WEAK_COUNT_MASK
    }

    /// A weak handle is made: by `downgrade` (`of: None`; the handle gets
    /// the object's current epoch) or by cloning a handle of epoch `of`.
    /// Returns the new handle's epoch (header I2).
    ///
    /// Without [`WEAK_EPOCH`] the increment is a CAS that fails if the flag
    /// appears meanwhile; with it, the increment and the stale count change
    /// together under the epoch table's lock, which a bump also holds while
    /// it sets the flag and reads the count: so a bump counts exactly the
    /// handles incremented before it, and every later change to a stale
    /// handle is noted in the table.
    pub(crate) fn add_weak(&self, addr: usize, of: Option<u32>) -> u32 {
        let mut w = self.weak.load(Ordering::Relaxed);
        loop {
            if w & WEAK_COUNT_MASK > WEAK_COUNT_MASK / 2 {
                overflow();
            }
            if w & WEAK_EPOCH != 0 {
                let mut table = primitive::lock(weak_epochs());
                let entry = table.get_mut(&addr);
                let epoch = match (of, entry) {
                    (Some(e), Some(entry)) => {
                        entry.note(e, 1);
                        e
                    }
                    (Some(e), None) => e,
                    (None, entry) => entry.map_or(0, |entry| entry.epoch),
                };
                self.weak.fetch_add(1, Ordering::Relaxed);
                return epoch;
            }
            match self
                .weak
                .compare_exchange_weak(w, w + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return of.unwrap_or(0),
                Err(now) => w = now,
            }
        }
    }

    /// A weak handle of `epoch` is dropped: release its reference (as
    /// [`SyncCounts::dec_weak`]), noting it in the epoch table if needed
    /// (see [`SyncCounts::add_weak`]). Returns whether none is left.
    pub(crate) fn release_weak(&self, addr: usize, epoch: u32) -> bool {
        let mut w = self.weak.load(Ordering::Relaxed);
        loop {
            if w & WEAK_EPOCH != 0 {
                let mut table = primitive::lock(weak_epochs());
                if let Some(entry) = table.get_mut(&addr) {
                    entry.note(epoch, -1);
                }
                let last = self.dec_weak();
                drop(table);
                return last;
            }
            match self
                .weak
                .compare_exchange_weak(w, w - 1, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => {
                    if w & WEAK_COUNT_MASK == 1 {
                        // As `dec_weak`: Acquire on reaching zero.
                        let _ = self.weak.load(Ordering::Acquire);
                        return true;
                    }
                    return false;
                }
                Err(now) => w = now,
            }
        }
    }

    /// The object's weak epoch and stale handle count (I2).
    pub(crate) fn epoch(&self, addr: usize) -> Epoch {
        if !self.has_flag(WEAK_EPOCH) {
            return Epoch::default();
        }
        primitive::lock(weak_epochs())
            .get(&addr)
            .copied()
            .unwrap_or_default()
    }

    /// Kill the weak handles alive now (I2; `WEAK_CLEARED` is the caller's).
    pub(crate) fn bump_epoch(&self, addr: usize) {
        // No handle, and none can appear meanwhile (a bump happens at a
        // refcount death or on trash with the world stopped: no strong
        // handle to downgrade, no weak one to clone): nothing to kill.
        if self.weak.load(Ordering::Acquire) & (WEAK_COUNT_MASK | WEAK_EPOCH) == 1 {
            return;
        }
        let mut table = primitive::lock(weak_epochs());
        let fresh = !self.set_flag(WEAK_EPOCH);
        let handles = self.weak() - 1;
        if handles == 0 && fresh {
            self.clear_flag(WEAK_EPOCH);
            return;
        }
        entry_of(&mut table, addr, fresh).bump(handles);
    }

    /// Clear one weak handle of `epoch` to the object on its own (owned by
    /// cyclic trash; the collector, world stopped): returns whether the
    /// handle must store [`CLEARED`] (it was live; the entry, made if
    /// needed, counts it as stale from now on). Under the table lock, with
    /// `WEAK_EPOCH` set as a bump sets it, so concurrent clones and drops of
    /// other handles note themselves (see [`SyncCounts::add_weak`]).
    pub(crate) fn clear_handle(&self, addr: usize, epoch: u32) -> bool {
        if epoch == CLEARED || self.strong() == 0 {
            return false;
        }
        let mut table = primitive::lock(weak_epochs());
        let fresh = !self.set_flag(WEAK_EPOCH);
        entry_of(&mut table, addr, fresh).clear_one(epoch)
    }

    /// The value is about to be dropped: forget the epoch entry.
    pub(crate) fn forget_epoch(&self, addr: usize) {
        if self.has_flag(WEAK_EPOCH) {
            primitive::lock(weak_epochs()).remove(&addr);
        }
    }

    /// Release, then an Acquire load on reaching zero (see `dec_strong`), as
    /// `Weak::drop` of `Arc`.
    pub(crate) fn dec_weak(&self) -> bool {
        if self.weak.fetch_sub(1, Ordering::Release) & WEAK_COUNT_MASK == 1 {
            let _ = self.weak.load(Ordering::Acquire);
            true
        } else {
            false
        }
    }

    /// Flags: AcqRel read-modify-writes, so a flag set before an event is
    /// seen by whoever observes the event (e.g. `WEAK_CLEARED` before a
    /// failed upgrade).
    pub(crate) fn has_flag(&self, flag: u32) -> bool {
        self.weak.load(Ordering::Acquire) & flag != 0
    }

    /// Set a flag; returns whether it was already set.
    pub(crate) fn set_flag(&self, flag: u32) -> bool {
        self.weak.fetch_or(flag, Ordering::AcqRel) & flag != 0
    }

    /// Set a flag on an object no other thread can reach yet (a plain
    /// load and store, no read-modify-write).
    #[inline(always)]
    pub(crate) fn set_flag_unshared(&self, flag: u32) {
        let w = self.weak.load(Ordering::Relaxed);
        self.weak.store(w | flag, Ordering::Relaxed);
    }

    /// The whole weak word (count and flags), Acquire.
    #[inline(always)]
    pub(crate) fn weak_word(&self) -> u32 {
        self.weak.load(Ordering::Acquire)
    }

    pub(crate) fn clear_flag(&self, flag: u32) -> bool {
        self.weak.fetch_and(!flag, Ordering::AcqRel) & flag != 0
    }
}

#[cold]
fn overflow() -> ! {
    eprintln!("gc: reference count overflow; aborting");
    std::process::abort()
}
