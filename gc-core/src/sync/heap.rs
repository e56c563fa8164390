//! The sync heap itself (one per process): the list lock and the
//! generation bookkeeping, the world (permits), the registries. The
//! invariants S1–S6 are stated in the [`sync`](super) module docs.

use super::counts::SyncCounts;
use super::world::world;
use crate::heap::gen::GenState;
use crate::heap::header::{Node, IN_NURSERY};
use crate::heap::list::List;
use crate::heap::owned::OwnedRef;
use crate::heap::weakcb::Registry;
use crate::primitive::{
    self, AtomicBool, AtomicIsize, AtomicU64, Condvar, Mutex, MutexGuard, Ordering,
};
use crate::types::{CallbackId, CollectionInfo, Phase, NUM_GENERATIONS};
use std::sync::Arc;
use std::time::Duration;

/// How long `gc::collect` waits for the world to stop.
pub(crate) const COLLECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an automatic collection waits for the world to stop (it runs on
/// an allocating thread: it must not wait for other threads' guards).
pub(crate) const AUTO_STOP_TIMEOUT: Duration = Duration::from_micros(50);

/// A weak callback of the sync heap.
pub(crate) type SyncCallback = Box<dyn FnOnce() + Send>;
/// A `gc` callback of the sync heap.
pub(crate) type SyncGcCallback = Arc<Mutex<dyn FnMut(Phase, &CollectionInfo) + Send>>;

/// The lists' state: whether a collector stopped the world, and the
/// generation bookkeeping.
pub(crate) struct WorldState {
    pub(crate) stopped: bool,
    /// `count[0]` stays 0 here: the young count is [`SyncHeap::young`].
    pub(crate) gen: GenState,
}

/// How a new object's [`IN_NURSERY`] flag is set (`SyncHeap::track_new`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NurseryFlag {
    /// In the weak word the object was allocated with.
    AtAllocation,
    /// Now, with a plain store: no other thread can reach the object yet.
    Unshared,
    /// Now, with a read-modify-write: other threads may change the weak
    /// word meanwhile (`new_cyclic`'s lent weak handle).
    Shared,
}

/// A value alone on its pair of cache lines (the young count, which every
/// thread adds to now and then, must not share a line with what threads
/// read all the time: the trigger).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The sync heap (one per process).
pub(crate) struct SyncHeap {
    /// The list lock (S4) with the generation bookkeeping; `stopped` while
    /// a collector has the world stopped.
    pub(crate) state: Mutex<WorldState>,
    pub(crate) state_changed: Condvar,
    /// How long the running collection may wait for the world to stop
    /// (nanoseconds; set by the one collector before it starts).
    pub(crate) stop_timeout: AtomicU64,
    pub(crate) generations: [List; NUM_GENERATIONS],
    /// The young count (CPython's `count[0]`: tracked allocations minus
    /// deallocations since the last collection), less what the nurseries
    /// have not flushed yet (N6).
    pub(crate) young: Padded<AtomicIsize>,
    /// The young count past which an allocation starts an automatic
    /// collection (`threshold[0]` plus the back-off; `isize::MAX` when
    /// disabled), kept in step with `GenState` by [`SyncHeap::update_trigger`].
    pub(crate) trigger: AtomicIsize,
    pub(crate) permanent: List,
    /// A collection is running (no nesting, one collector at a time).
    pub(crate) collecting: AtomicBool,
    pub(crate) garbage: Mutex<Vec<OwnedRef<SyncCounts>>>,
    pub(crate) callbacks: Mutex<Vec<(CallbackId, SyncGcCallback)>>,
    pub(crate) next_callback_id: AtomicU64,
    pub(crate) weak_callbacks: Mutex<Registry<SyncCallback>>,
}

// SAFETY: S4: the list heads (`Cell`s inside `Header`) are only touched under
// the world mutex or by the collector while the world is stopped (S4);
// everything else is a lock or an atomic.
unsafe impl Sync for SyncHeap {}
// SAFETY: S4: as above; the heap is a process-wide static.
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

impl SyncHeap {
    fn new() -> SyncHeap {
        SyncHeap {
            stop_timeout: AtomicU64::new(0),
            state: Mutex::new(WorldState {
                stopped: false,
                gen: GenState::new(),
            }),
            state_changed: Condvar::new(),
            generations: [List::new(), List::new(), List::new()],
            young: Padded(AtomicIsize::new(0)),
            trigger: AtomicIsize::new(700),
            permanent: List::new(),
            collecting: AtomicBool::new(false),
            garbage: Mutex::new(Vec::new()),
            callbacks: Mutex::new(Vec::new()),
            next_callback_id: AtomicU64::new(1),
            weak_callbacks: Mutex::new(Registry::default()),
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

    /// Link a new object into this thread's nursery (N1, N3) and count it;
    /// returns whether an automatic collection is due (past `threshold[0]`,
    /// and past the back-off a failed automatic attempt left). `flag` says
    /// how [`IN_NURSERY`] gets set (N4).
    #[inline]
    pub(crate) fn track_new(
        &'static self,
        header: Node,
        counts: &SyncCounts,
        flag: NurseryFlag,
    ) -> bool {
        match flag {
            NurseryFlag::AtAllocation => debug_assert!(counts.has_flag(IN_NURSERY)),
            NurseryFlag::Unshared => counts.set_flag_unshared(IN_NURSERY),
            NurseryFlag::Shared => {
                counts.set_flag(IN_NURSERY);
            }
        }
        // SAFETY: N1: the slot is this attached thread's; the object is
        // fresh (or at strong 0, new_cyclic) and unlinked, flagged above.
        let flush = world().attached(|slot| unsafe { slot.nursery.link(header) });
        match flush {
            Some(delta) => self.add_young(delta),
            None => false,
        }
    }

    /// Add a nursery's count delta to the young count (N6); whether an
    /// automatic collection is due.
    #[inline]
    pub(crate) fn add_young(&self, delta: isize) -> bool {
        if delta < 0 {
            self.sub_young(-delta);
            return false;
        }
        let now = self.young.fetch_add(delta, Ordering::Relaxed) + delta;
        delta > 0 && now > self.trigger.load(Ordering::Relaxed)
    }

    /// Take `n` deallocations off the young count, never below 0 (as
    /// CPython's `count[0]`): a count driven below 0 by the deaths of
    /// objects made before the last collection (which reset it) would hold
    /// automatic collection off for as many allocations. (A nursery's
    /// delta nets its allocations and deaths, so within one flush the
    /// floor applies to the net.)
    pub(crate) fn sub_young(&self, n: isize) {
        let _ = self
            .young
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |y| {
                Some(y.saturating_sub(n).max(0))
            });
    }

    /// The young count (`count[0]`), never below zero.
    pub(crate) fn young_count(&self) -> usize {
        self.young.load(Ordering::Relaxed).max(0) as usize
    }

    /// Recompute [`SyncHeap::trigger`] after `g` changed (under the list lock).
    pub(crate) fn update_trigger(&self, g: &GenState) {
        let at = isize::try_from(g.trigger()).unwrap_or(isize::MAX);
        self.trigger.store(at, Ordering::Relaxed);
    }
}
