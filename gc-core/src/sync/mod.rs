//! The thread-safe heap: [`Gc`], [`Weak`], [`GcAny`], [`GcMutex`],
//! [`GcRwLock`] and the [`gc`] module that collects it.
//!
//! Objects of this heap may be shared between threads (`T: Send + Sync`),
//! mutable state lives in [`GcMutex`] / [`GcRwLock`], and cycles across
//! threads are collected by the same collector core as the per-thread heap
//! (`collector::collect_main`, generic over `CollectorHeap`), on whichever
//! thread calls [`gc::collect`] or crosses the allocation threshold.
//!
//! ```
//! use pygc::sync::{gc, Gc, GcMutex, GcRwLock, Weak};
//! use pygc::Trace;
//! use std::thread;
//!
//! #[derive(Trace)]
//! struct Account {
//!     balance: GcMutex<i64>,
//!     peers: GcRwLock<Vec<Gc<Account>>>,
//!     owner: GcMutex<Weak<Account>>,
//! }
//!
//! let new = || Gc::new(Account {
//!     balance: GcMutex::new(0),
//!     peers: GcRwLock::new(Vec::new()),
//!     owner: GcMutex::new(Weak::new()),
//! });
//! let (a, b) = (new(), new());
//! let workers: Vec<_> = [(a.clone(), b.clone()), (b.clone(), a.clone())]
//!     .into_iter()
//!     .map(|(me, peer)| thread::spawn(move || {
//!         *me.balance.lock() += 10;
//!         me.peers.write().push(peer);         // a <-> b, across threads
//!     }))
//!     .collect();
//! for w in workers { w.join().unwrap(); }
//! *a.owner.lock() = Gc::downgrade(&b);
//! assert_eq!(*a.balance.lock() + *b.balance.lock(), 20);
//! let watch = Gc::downgrade(&a);
//! drop((a, b));
//! // The cycle is garbage now; the collector stops the world, finds it
//! // and frees both objects.
//! assert!(gc::collect() >= 2);
//! assert!(watch.upgrade().is_none());
//! ```
//!
//! # Synchronisation design
//!
//! Trial deletion needs a graph that holds still. Every guard of a
//! `GcMutex` or `GcRwLock` and every `Weak::upgrade` holds a *permit*: its
//! thread is *attached* (module `world`: a store to the thread's own slot
//! and a load of the shared stop word, no lock; invariants W1–W4). The
//! collector *stops the world* by requesting a stop and waiting until
//! every slot is detached — for a bounded time: if the world does not stop
//! by the deadline, the request is withdrawn and the collection does not
//! run (`gc::try_collect` returns `None`, `gc::collect` 0). A separate list
//! lock (`state`) guards the generation lists and counters: allocation
//! links and refcount death unlinks under it while the world runs; the
//! collector marks it `stopped` for its stopped phases.
//!
//! Invariants (S1–S6), relied on by the `// SAFETY:` comments here:
//!
//! * **S1 (edges).** A traced edge changes only through a `GcMutex` /
//!   `GcRwLock` guard (which holds a permit), when its owner's value is
//!   dropped, or through a `&mut` that `Gc::get_mut` lent out (the object is
//!   then MUT_EXPOSED and not traced, header I6). So while the world is
//!   stopped no traced edge of a linked object changes.
//! * **S2 (new strong handles).** A strong handle is made only by cloning an
//!   existing one (its object is already counted as referenced, or reached
//!   through a reachable object's field) or by `Weak::upgrade`, which holds a
//!   permit. So while the world is stopped the collector never misses an
//!   outside reference: increments by other threads only make `gc_refs` too
//!   large (conservative).
//! * **S3 (pending deaths).** A thread whose drop brought a strong count to
//!   zero may be waiting for the list lock; `update_refs` counts a zero
//!   strong count as one outside reference (that thread owns the object), so
//!   the object survives the collection and that thread finishes its death
//!   later. (`Gc::new_cyclic` links its object at strong 0 the same way.)
//! * **S4 (lists).** Headers' `next`/`prev` words are read or written only
//!   under the list lock while the world runs, or by the collector while
//!   it has stopped the world, or (trash) by the collector alone: trash is
//!   reachable from no other thread (no outside strong handle, weak handles
//!   cleared while stopped).
//! * **S5 (user code).** Finalizers, weak callbacks and `gc` callbacks run on
//!   the collecting thread with the world *running* (HAZARDS 18): they may
//!   lock `GcMutex`es held by other threads without deadlock. The world is
//!   stopped from `update_refs` through the weak-clearing half of
//!   `handle_weakrefs`, and for `handle_resurrected_objects`, only; no user code but
//!   `Trace::trace` runs then.
//! * **S6 (no self-deadlock, bounded waits).** A thread that holds a permit
//!   never stops the world (`try_collect` returns `None` there, `collect`
//!   0). A stop waits at most its deadline for other threads' permits (W3);
//!   a thread waiting for a permit or for the list lock waits only for a
//!   stop request or a stopped phase, which never waits on it. Automatic
//!   collections wait at most `AUTO_STOP_TIMEOUT` (50 µs) and then back
//!   off. If `handle_resurrected_objects` cannot stop the world again, the
//!   trash whose finalizers ran is kept as resurrected (`collector`'s
//!   `keep_unconfirmed_trash`) and freed by a later collection.
//!
//! # Lock order for users
//!
//! A guard is a permit: while a thread holds one, no collection can run.
//! Collections never block forever on that — `gc::collect` gives up after
//! one second and returns 0, `gc::try_collect(timeout)` after `timeout` and
//! returns `None`, automatic collections after 50 µs — but a collection
//! that gives up collects nothing. So:
//!
//! * do not hold a `GcMutex`/`GcRwLock` guard while waiting for something
//!   (a lock, a channel, a join) that another thread provides only after
//!   its `gc::collect()` returns: the collection gives up (it cannot hang);
//! * keep guards short, and never `mem::forget` one: until it is released
//!   every collection gives up;
//! * `gc::collect` inside a guard returns 0 at once (this thread is
//!   attached); collect after releasing it.
//!
//! Counts are atomics with the orderings `std::sync::Arc` uses (see
//! `SyncCounts`).

pub(crate) mod dst;
mod handle;
mod lock;
mod raw;
mod world;

pub mod gc;

pub use handle::{Gc, GcAny, Weak};
pub use lock::{GcMutex, GcMutexGuard, GcRwLock, GcRwLockReadGuard, GcRwLockWriteGuard};

use crate::collector::CollectorHeap;
use crate::heap::header::{
    CountsKind, Header, ObjPtr, FINALIZED, HAS_CALLBACKS, MUT_EXPOSED, WEAK_CLEARED,
    WEAK_COUNT_MASK, WEAK_EPOCH,
};
use crate::heap::list::{self, List};
use crate::heap::weakcb::{run_reporting_panics, Entry, Registry};
use crate::heap::weakepoch::{self, Epoch};
use crate::primitive::{
    self, AtomicBool, AtomicU32, AtomicU64, Condvar, Mutex, MutexGuard, Ordering,
};
use crate::trace::FinalizerKind;
use crate::types::{
    CallbackId, CollectionInfo, DebugFlags, GenerationStats, Phase, NUM_GENERATIONS,
};
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;
use world::{Deadline, Permit, World};

/// How long `gc::collect` waits for the world to stop.
pub(crate) const COLLECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an automatic collection waits for the world to stop (it runs on
/// an allocating thread: it must not wait for other threads' guards).
pub(crate) const AUTO_STOP_TIMEOUT: Duration = Duration::from_micros(50);

/// A weak callback of the sync heap.
pub(crate) type SyncCallback = Box<dyn FnOnce() + Send>;
/// A `gc` callback of the sync heap.
pub(crate) type SyncGcCallback = Arc<Mutex<dyn FnMut(Phase, &CollectionInfo) + Send>>;

/// Atomic reference counts (same layout as the per-thread `Counts`).
/// Public only so that `coerce!` can name `GcBox<T, SyncCounts>` (hidden).
#[doc(hidden)]
#[repr(C)]
pub struct SyncCounts {
    strong: AtomicU32,
    weak: AtomicU32,
}

/// Counts above this abort, leaving room for racing increments (as `Arc`
/// aborts above `isize::MAX`).
const MAX_STRONG: u32 = u32::MAX >> 1;

impl CountsKind for SyncCounts {
    const POOLED: bool = false;
    const SYNC: bool = true;
    fn new(strong: u32, weak: u32) -> Self {
        SyncCounts {
            strong: AtomicU32::new(strong),
            weak: AtomicU32::new(weak),
        }
    }
    #[inline(always)]
    fn weak_flag(&self, flag: u32) -> bool {
        self.has_flag(flag)
    }
    fn set_weak_flag(&self, flag: u32) {
        self.set_flag(flag);
    }
}

impl SyncCounts {
    /// # Safety
    /// `obj` is a live object of the sync heap.
    #[inline(always)]
    pub(crate) unsafe fn of<'a>(obj: NonNull<crate::heap::header::Counts>) -> &'a SyncCounts {
        // SAFETY: sync objects store `SyncCounts` where the per-thread heap
        // stores `Counts` (GcBox<T, SyncCounts>); live per the caller.
        unsafe { obj.cast::<SyncCounts>().as_ref() }
    }

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

    /// `Weak::upgrade`: increment only from non-zero (HAZARDS 16), never
    /// after `WEAK_CLEARED`. Acquire on success, as `Arc`'s upgrade.
    pub(crate) fn try_inc_strong(&self) -> bool {
        let mut s = self.strong.load(Ordering::Relaxed);
        loop {
            if s == 0 || self.has_flag(WEAK_CLEARED) {
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

    /// Increment only from non-zero (a zero count is a death in progress on
    /// another thread, S3); `false` if it was zero.
    pub(crate) fn try_inc_strong_from_nonzero(&self) -> bool {
        let mut s = self.strong.load(Ordering::Relaxed);
        loop {
            if s == 0 {
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
                let mut table = primitive::lock(&heap().weak_epochs);
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
                let mut table = primitive::lock(&heap().weak_epochs);
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
        primitive::lock(&heap().weak_epochs)
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
        let mut table = primitive::lock(&heap().weak_epochs);
        let fresh = !self.set_flag(WEAK_EPOCH);
        let handles = self.weak() - 1;
        if handles == 0 && fresh {
            self.clear_flag(WEAK_EPOCH);
            return;
        }
        let entry = table.entry(addr).or_default();
        if fresh {
            *entry = Epoch::default();
        }
        entry.bump(handles);
    }

    /// The value is about to be dropped: forget the epoch entry.
    pub(crate) fn forget_epoch(&self, addr: usize) {
        if self.has_flag(WEAK_EPOCH) {
            primitive::lock(&heap().weak_epochs).remove(&addr);
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

    pub(crate) fn clear_flag(&self, flag: u32) -> bool {
        self.weak.fetch_and(!flag, Ordering::AcqRel) & flag != 0
    }
}

#[cold]
fn overflow() -> ! {
    eprintln!("gc: reference count overflow; aborting");
    std::process::abort()
}

/// The generation bookkeeping, under the world mutex.
pub(crate) struct GenState {
    pub(crate) count: [usize; NUM_GENERATIONS],
    pub(crate) threshold: [usize; NUM_GENERATIONS],
    pub(crate) enabled: bool,
    pub(crate) long_lived_total: usize,
    pub(crate) long_lived_pending: usize,
    pub(crate) stats: [GenerationStats; NUM_GENERATIONS],
    pub(crate) debug: DebugFlags,
    /// Allocations past `threshold[0]` before the next automatic attempt
    /// (set when one could not stop the world, reset when one runs).
    pub(crate) auto_backoff: usize,
}

/// The lists' state: whether a collector stopped the world, and the
/// generation bookkeeping.
pub(crate) struct WorldState {
    stopped: bool,
    pub(crate) gen: GenState,
}

/// The sync heap (one per process).
pub(crate) struct SyncHeap {
    /// Per-thread slots and the stop request (`world` module).
    world: World,
    /// The list lock (S4) with the generation bookkeeping; `stopped` while
    /// a collector has the world stopped.
    state: Mutex<WorldState>,
    state_changed: Condvar,
    /// How long the running collection may wait for the world to stop
    /// (nanoseconds; set by the one collector before it starts).
    stop_timeout: AtomicU64,
    generations: [List; NUM_GENERATIONS],
    permanent: List,
    /// A collection is running (no nesting, one collector at a time).
    collecting: AtomicBool,
    pub(crate) garbage: Mutex<Vec<GcAny>>,
    pub(crate) callbacks: Mutex<Vec<(CallbackId, SyncGcCallback)>>,
    pub(crate) next_callback_id: AtomicU64,
    pub(crate) weak_callbacks: Mutex<Registry<SyncCallback>>,
    /// Weak epochs (header I2); see [`SyncCounts::add_weak`].
    pub(crate) weak_epochs: Mutex<weakepoch::Table>,
}

// SAFETY: the list heads (`Cell`s inside `Header`) are only touched under
// the world mutex or by the collector while the world is stopped (S4);
// everything else is a lock or an atomic.
unsafe impl Sync for SyncHeap {}
// SAFETY: as above; the heap is a process-wide static.
unsafe impl Send for SyncHeap {}

#[cfg(not(loom))]
static HEAP: std::sync::LazyLock<SyncHeap> = std::sync::LazyLock::new(SyncHeap::new);

#[cfg(loom)]
loom::lazy_static! {
    static ref HEAP: SyncHeap = SyncHeap::new();
}

/// The process-wide sync heap.
pub(crate) fn heap() -> &'static SyncHeap {
    &HEAP
}

// loom's `thread_local!` has no `const` form; keep one spelling for both.
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    primitive::thread_local! {
    /// This thread's trashcan: nesting depth and deferred deaths.
    pub(super) static TRASH: RefCell<(usize, Vec<ObjPtr>)> = RefCell::new((0, Vec::new()));
    }
}
use tls::TRASH;

impl SyncHeap {
    fn new() -> SyncHeap {
        SyncHeap {
            world: World::new(),
            stop_timeout: AtomicU64::new(0),
            state: Mutex::new(WorldState {
                stopped: false,
                gen: GenState {
                    count: [0; NUM_GENERATIONS],
                    threshold: [700, 10, 10],
                    enabled: true,
                    long_lived_total: 0,
                    long_lived_pending: 0,
                    stats: Default::default(),
                    debug: DebugFlags::empty(),
                    auto_backoff: 0,
                },
            }),
            state_changed: Condvar::new(),
            generations: [List::new(), List::new(), List::new()],
            permanent: List::new(),
            collecting: AtomicBool::new(false),
            garbage: Mutex::new(Vec::new()),
            callbacks: Mutex::new(Vec::new()),
            next_callback_id: AtomicU64::new(1),
            weak_callbacks: Mutex::new(Registry::default()),
            weak_epochs: Mutex::new(weakepoch::Table::new()),
        }
    }

    /// Lock the world mutex once the world runs (waits out a stopped phase).
    pub(crate) fn lock_running(&self) -> MutexGuard<'_, WorldState> {
        let mut w = primitive::lock(&self.state);
        while w.stopped {
            w = self
                .state_changed
                .wait(w)
                .unwrap_or_else(|e| e.into_inner());
        }
        w
    }

    /// Lock the world mutex without waiting for it to run (the collector,
    /// which stopped it, and counter reads).
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, WorldState> {
        primitive::lock(&self.state)
    }

    /// Take a permit (attach this thread; S1, S2): waits while a collector
    /// stops or has stopped the world (`world` W1).
    #[inline]
    pub(crate) fn permit(&'static self) -> Permit {
        self.world.permit()
    }

    /// Link a new object into generation 0 and count it; returns whether an
    /// automatic collection is due (past `threshold[0]`, and past the
    /// back-off a failed automatic attempt left).
    pub(crate) fn track_new(&self, header: NonNull<Header>) -> bool {
        let mut w = self.lock_running();
        list::append(header, self.generations[0].head());
        let g = &mut w.gen;
        g.count[0] += 1;
        g.count[0] > g.threshold[0] + g.auto_backoff && g.threshold[0] != 0 && g.enabled
    }

    /// Collect `generation` with the `gc` callbacks, waiting at most
    /// `timeout` for the world to stop (each time it stops it). `None` if it
    /// could not run: another collection runs, this thread holds a guard
    /// (S6), or the world did not stop in time.
    pub(crate) fn collect(&'static self, generation: usize, timeout: Duration) -> Option<usize> {
        if world::permits_held() > 0 {
            return None;
        }
        if self
            .collecting
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        struct Done(&'static SyncHeap);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.collecting.store(false, Ordering::Release);
            }
        }
        let _done = Done(self);
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        self.stop_timeout.store(nanos, Ordering::Relaxed);
        crate::collector::collect_with_callbacks(self, generation, |phase, info| {
            let callbacks: Vec<SyncGcCallback> = primitive::lock(&self.callbacks)
                .iter()
                .map(|(_, cb)| cb.clone())
                .collect();
            for cb in callbacks {
                run_reporting_panics(&|| "gc callback".to_string(), || {
                    if let Ok(mut f) = cb.try_lock() {
                        f(phase, info)
                    }
                });
            }
        })
    }

    /// The automatic trigger: waits at most [`AUTO_STOP_TIMEOUT`] for the
    /// world to stop; if it does not, backs off (the next attempt comes a
    /// quarter threshold of allocations later).
    pub(crate) fn collect_generations(&'static self) -> usize {
        let choice = {
            let w = self.lock_state();
            let g = &w.gen;
            crate::collector::generation_to_collect(
                g.count,
                g.threshold,
                g.long_lived_pending,
                g.long_lived_total,
            )
        };
        let Some(generation) = choice else { return 0 };
        match self.collect(generation, AUTO_STOP_TIMEOUT) {
            Some(n) => {
                self.lock_state().gen.auto_backoff = 0;
                n
            }
            None => {
                let mut w = self.lock_state();
                let g = &mut w.gen;
                g.auto_backoff = g.count[0].saturating_sub(g.threshold[0]) + g.threshold[0] / 4 + 1;
                0
            }
        }
    }

    /// All objects of the lists (for tests/tools), as new strong handles.
    pub(crate) fn objects(&self, generation: Option<usize>) -> Vec<GcAny> {
        let _w = self.lock_running();
        let mut out = Vec::new();
        let gens: Vec<usize> = match generation {
            Some(g) => vec![g],
            None => (0..NUM_GENERATIONS).collect(),
        };
        for g in gens {
            for node in list::iter(self.generations[g].head()) {
                let obj = Header::obj(node);
                // SAFETY: linked sync objects are live (S4 under the lock);
                // a zero count is a pending death (S3): skip it.
                let counts = unsafe { SyncCounts::of(obj.counts) };
                if counts.try_inc_strong_from_nonzero() {
                    // SAFETY: we just added the reference the handle owns.
                    out.push(unsafe { GcAny::from_obj(obj) });
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Refcount death (the sync twin of heap/dealloc.rs)
// ---------------------------------------------------------------------------

/// Past this nesting depth deaths are deferred (trashcan).
const TRASHCAN_LIMIT: usize = 50;

/// The strong count of `obj` just reached zero on this thread.
///
/// # Safety
/// `obj` is a live sync object whose last strong reference the caller just
/// released.
#[cold]
#[inline(never)]
pub(crate) unsafe fn release(obj: ObjPtr) {
    let deferred = TRASH.try_with(|t| {
        let mut t = t.borrow_mut();
        if t.0 >= TRASHCAN_LIMIT {
            t.1.push(obj);
            true
        } else {
            t.0 += 1;
            false
        }
    });
    match deferred {
        Ok(true) => return,
        Ok(false) => {}
        Err(_) => {
            // Thread exit destroyed the trashcan (HAZARDS 9): no deferral.
            // SAFETY: forwarded from the caller.
            unsafe { destroy(obj) };
            return;
        }
    }
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            let _ = TRASH.try_with(|t| t.borrow_mut().0 -= 1);
        }
    }
    {
        let _depth = Depth;
        // SAFETY: forwarded from the caller.
        unsafe { destroy(obj) };
    }
    loop {
        let next = TRASH
            .try_with(|t| {
                let mut t = t.borrow_mut();
                if t.0 == 0 {
                    let next = t.1.pop();
                    if next.is_some() {
                        t.0 += 1;
                    }
                    next
                } else {
                    None
                }
            })
            .ok()
            .flatten();
        let Some(obj) = next else { break };
        let _depth = Depth;
        // SAFETY: deferred objects had their last strong reference dropped
        // on this thread and were not touched since.
        unsafe { destroy(obj) };
    }
}

/// CPython's order: finalize (maybe resurrect), clear weak handles + run
/// callbacks, unlink, drop, free.
unsafe fn destroy(obj: ObjPtr) {
    let heap = heap();
    // SAFETY: live (caller's contract).
    let counts = unsafe { SyncCounts::of(obj.counts) };
    let header = obj.header();
    if let Some(h) = header {
        let mut w = heap.lock_running();
        // SAFETY: live header, read under the list lock (S4).
        let hr = unsafe { h.as_ref() };
        if hr.is_collecting() {
            return; // trash: the collector owns it (I5)
        }
        if hr.is_zombie() {
            // I5: a collection dropped its value; only the memory is left.
            drop(w);
            if counts.dec_weak() {
                // SAFETY: strong 0, value dropped, unlinked: the implicit
                // weak was the last reference (I1).
                unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) };
            }
            return;
        }
        if hr.is_linked() {
            list::remove(h);
            // Counted as deallocated now, in the same lock hold (a
            // resurrection below counts it back).
            w.gen.count[0] = w.gen.count[0].saturating_sub(1);
        }
    }
    let vt = obj.vtable;
    let addr = obj.counts.as_ptr() as usize;
    let kind = (vt.finalizer_kind)();
    let legacy = kind == FinalizerKind::Legacy;
    if legacy {
        // As the per-thread heap (heap/dealloc.rs): CPython clears weakrefs
        // before `tp_del`, which runs at every refcount death.
        counts.bump_epoch(addr);
        clear_weak_handles_and_run_callbacks(heap, obj);
    }
    if kind != FinalizerKind::None && (!counts.set_flag(FINALIZED) || legacy) {
        counts.set_strong(1);
        run_reporting_panics(&|| format!("finalizer of {}", (vt.type_name)()), || {
            // SAFETY: intact value, we hold a strong reference.
            unsafe { (vt.finalize)(obj.counts) }
        });
        if !counts.dec_strong() {
            // Resurrected (maybe by another thread's upgrade during the call).
            if legacy {
                counts.clear_flag(WEAK_CLEARED); // new handles work (I2)
            }
            if let Some(h) = header {
                let mut w = heap.lock_running();
                // SAFETY: live header, under the list lock.
                if !unsafe { h.as_ref() }.is_linked() {
                    w.gen.count[0] += 1;
                    // SAFETY: as above.
                    unsafe { h.as_ref() }.prev.set(0);
                    list::append(h, heap.generations[0].head());
                }
            }
            return;
        }
    }
    clear_weak_handles_and_run_callbacks(heap, obj);
    counts.forget_epoch(addr);
    // SAFETY: strong 0 and WEAK_CLEARED: nobody can reach the value.
    unsafe { (vt.drop_value)(obj.counts, obj.meta) };
    if counts.dec_weak() {
        // SAFETY: the implicit weak was the last reference (I1).
        unsafe { (vt.dealloc)(obj.counts, obj.meta) };
    }
}

fn clear_weak_handles_and_run_callbacks(heap: &SyncHeap, obj: ObjPtr) {
    // SAFETY: callers pass live objects.
    let counts = unsafe { SyncCounts::of(obj.counts) };
    counts.set_flag(WEAK_CLEARED);
    if !counts.clear_flag(HAS_CALLBACKS) {
        return;
    }
    let addr = obj.counts.as_ptr() as usize;
    loop {
        let entry = primitive::lock(&heap.weak_callbacks).pop_newest(addr);
        let Some(entry) = entry else { break };
        let type_name = obj.vtable.type_name;
        run_reporting_panics(
            &|| format!("weak callback of {}", type_name()),
            entry.callback,
        );
    }
}

impl CollectorHeap for SyncHeap {
    const SYNC: bool = true;
    type Callback = SyncCallback;
    type ListGuard<'a> = MutexGuard<'a, WorldState>;

    fn gen_head(&self, generation: usize) -> NonNull<Header> {
        self.generations[generation].head()
    }
    fn permanent_head(&self) -> NonNull<Header> {
        self.permanent.head()
    }
    fn lock_lists(&self) -> MutexGuard<'_, WorldState> {
        self.lock_running()
    }
    fn stop_world(&self) -> bool {
        let timeout = Duration::from_nanos(self.stop_timeout.load(Ordering::Relaxed));
        if !self.world.stop(Deadline::after(timeout)) {
            return false;
        }
        let mut w = primitive::lock(&self.state);
        debug_assert!(!w.stopped, "gc: one collector at a time");
        w.stopped = true;
        true
    }
    fn resume_world(&self) {
        let mut w = primitive::lock(&self.state);
        w.stopped = false;
        drop(w);
        self.state_changed.notify_all();
        self.world.resume();
    }

    fn strong(obj: ObjPtr) -> u32 {
        // SAFETY: the collector passes live sync objects.
        unsafe { SyncCounts::of(obj.counts) }.strong()
    }
    fn inc_strong(obj: ObjPtr) {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.inc_strong()
    }
    fn dec_strong(obj: ObjPtr) -> bool {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.dec_strong()
    }
    fn has_flag(obj: ObjPtr, flag: u32) -> bool {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.has_flag(flag)
    }
    fn set_flag(obj: ObjPtr, flag: u32) {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.set_flag(flag);
    }
    #[inline(always)]
    fn mut_exposed(obj: ObjPtr) -> bool {
        // `sync::Gc::get_mut` sets the flag under the list lock. Unlike the
        // per-thread heap, a second strong handle does not prove the `&mut`
        // dead to another thread (a clone does not synchronise): the flag
        // holds until the collector finds the object referenced only from
        // inside the heap, i.e. its handle moved into a traced object under
        // a guard or a list lock (header I6).
        // SAFETY: the collector passes live sync objects.
        unsafe { SyncCounts::of(obj.counts) }.has_flag(MUT_EXPOSED)
    }
    fn clear_flag(obj: ObjPtr, flag: u32) {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.clear_flag(flag);
    }
    fn dec_weak(obj: ObjPtr) -> bool {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.dec_weak()
    }
    fn may_hold_legacy_finalizers(&self) -> bool {
        true
    }
    fn may_hold_pep442_finalizers(&self) -> bool {
        true
    }
    fn free_dropped_trash(&self, _node: NonNull<Header>) {
        unreachable!("gc: the sync collector frees its trash after the last drop (drop_then_free)")
    }
    fn has_weak_callbacks(&self) -> bool {
        !primitive::lock(&self.weak_callbacks).is_empty()
    }
    fn bump_weak_epoch(&self, obj: ObjPtr) {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.bump_epoch(obj.counts.as_ptr() as usize)
    }
    fn has_weak_epochs(&self) -> bool {
        !primitive::lock(&self.weak_epochs).is_empty()
    }
    fn forget_weak_epoch(&self, obj: ObjPtr) {
        // SAFETY: live.
        unsafe { SyncCounts::of(obj.counts) }.forget_epoch(obj.counts.as_ptr() as usize)
    }
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<Entry<SyncCallback>> {
        primitive::lock(&self.weak_callbacks).take(obj.counts.as_ptr() as usize)
    }
    fn run_weak_callbacks(&self, obj: ObjPtr) {
        clear_weak_handles_and_run_callbacks(self, obj)
    }
    fn save_garbage(&self, objs: Vec<ObjPtr>) {
        let handles: Vec<GcAny> = objs
            .into_iter()
            .map(|o| {
                // SAFETY: the collector passes live objects it owns.
                unsafe { SyncCounts::of(o.counts) }.inc_strong();
                // SAFETY: the reference just added moves into the handle.
                unsafe { GcAny::from_obj(o) }
            })
            .collect();
        primitive::lock(&self.garbage).extend(handles);
    }
    fn debug(&self) -> DebugFlags {
        self.lock_state().gen.debug
    }
    fn begin_collection(&self, generation: usize) {
        let mut w = self.lock_state();
        if generation + 1 < NUM_GENERATIONS {
            w.gen.count[generation + 1] += 1;
        }
        for c in &mut w.gen.count[..=generation] {
            *c = 0;
        }
    }
    fn add_long_lived_pending(&self, survivors: usize) {
        self.lock_state().gen.long_lived_pending += survivors;
    }
    fn set_long_lived(&self, total: usize) {
        let mut w = self.lock_state();
        w.gen.long_lived_pending = 0;
        w.gen.long_lived_total = total;
    }
    fn note_deallocs(&self, n: usize) {
        let mut w = self.lock_state();
        w.gen.count[0] = w.gen.count[0].saturating_sub(n);
    }
    fn record_stats(&self, generation: usize, collected: usize, uncollectable: usize) {
        let mut w = self.lock_state();
        let s = &mut w.gen.stats[generation];
        s.collections += 1;
        s.collected += collected;
        s.uncollectable += uncollectable;
    }
}
