//! The sync heap itself (one per process): the list lock and the
//! generation bookkeeping, the world (permits), the registries. The
//! invariants S1–S6 are stated in the [`sync`](super) module docs.

use super::counts::SyncCounts;
use super::world::{Permit, World};
use crate::heap::header::Node;
use crate::heap::list::{self, List};
use crate::heap::owned::OwnedRef;
use crate::heap::weakcb::Registry;
use crate::primitive::{self, AtomicBool, AtomicU64, Condvar, Mutex, MutexGuard};
use crate::types::{
    CallbackId, CollectionInfo, DebugFlags, GenerationStats, Phase, NUM_GENERATIONS,
};
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
    pub(crate) stopped: bool,
    pub(crate) gen: GenState,
}

/// The sync heap (one per process).
pub(crate) struct SyncHeap {
    /// Per-thread slots and the stop request (`world` module).
    pub(crate) world: World,
    /// The list lock (S4) with the generation bookkeeping; `stopped` while
    /// a collector has the world stopped.
    pub(crate) state: Mutex<WorldState>,
    pub(crate) state_changed: Condvar,
    /// How long the running collection may wait for the world to stop
    /// (nanoseconds; set by the one collector before it starts).
    pub(crate) stop_timeout: AtomicU64,
    pub(crate) generations: [List; NUM_GENERATIONS],
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
    pub(crate) fn track_new(&self, header: Node) -> bool {
        let mut w = self.lock_running();
        list::append(header, self.generations[0].head());
        let g = &mut w.gen;
        g.count[0] += 1;
        g.count[0] > g.threshold[0] + g.auto_backoff && g.threshold[0] != 0 && g.enabled
    }
}
