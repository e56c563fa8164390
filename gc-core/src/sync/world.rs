//! The world: per-thread state slots that mutators *attach* and *detach*,
//! and a bounded stop-the-world for the collector.
//!
//! The model is CPython's free-threaded build (a thread state is attached
//! while it runs Python code; a stop-the-world request waits until every
//! thread state is detached) and crossbeam-epoch's pin (a per-thread slot
//! written with one sequentially consistent store, scanned by whoever needs
//! to know who is inside). Each thread owns one [`ThreadSlot`], registered
//! in the world's slot list on its first attach and removed when the thread
//! exits. Attaching is a store to the thread's own slot and a load of the
//! shared `stop` word; detaching is a store. Nested permits (a guard taken
//! while another is held) only count in a thread-local cell. No lock is
//! taken unless a collector is asking the world to stop.
//!
//! # Protocol
//!
//! Invariants W1–W4, relied on by `sync` (its S1, S2, S6) and by the
//! `// SAFETY:` comments there:
//!
//! * **W1 (Dekker pair).** A mutator attaches with `slot.store(1, SeqCst)`
//!   then `stop.load(SeqCst)`; a collector requests a stop with
//!   `stop.store(true, SeqCst)` then loads every slot (`SeqCst`). In the
//!   single total order of these operations at least one side sees the
//!   other: either the mutator sees the request (and backs off: detaches
//!   and waits for the world to run), or the collector sees the slot
//!   attached (and waits, or gives up).
//! * **W2 (happens-before).** Detaching is a `Release` store of 0; the
//!   collector's `SeqCst` (hence `Acquire`) load that reads it makes
//!   everything the mutator did while attached happen before the stopped
//!   phase. The collector clears `stop` with a `Release` store (under the
//!   gate mutex); a mutator's `SeqCst` load that reads it makes the stopped
//!   phase happen before the mutator's next attached section.
//! * **W3 (bounded stop).** The collector waits for detached slots only
//!   until its deadline; then it clears `stop` and reports failure. Nothing
//!   else it does waits on a mutator, so no cycle of waits can include it
//!   for longer than its deadline. A mutator that backs off waits only for
//!   `stop` to clear, which every collector does within its deadline or at
//!   the end of its stopped phase.
//! * **W4 (one collector).** At most one thread requests a stop at a time
//!   (the sync heap's `collecting` flag).
//!
//! A thread whose thread-local state is already destroyed (code running in
//! another thread-local's destructor) attaches through the shared *orphan*
//! slot, a counter (`fetch_add`/`fetch_sub`) with the same protocol.
//!
//! # Waiting
//!
//! The collector re-scans the slots after a short spin, then sleeps on the
//! gate condition variable in slices of at most [`SLICE`]; a detaching
//! mutator that sees a stop request wakes it early (a missed wake-up costs
//! at most one slice, never correctness). Under `cfg(loom)` time does not
//! exist: a wait is a `yield_now`, a zero timeout means "one scan", and any
//! other timeout means "until the slots are detached" (loom reports a
//! deadlock if that never happens).

use crate::primitive::{self, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest single sleep of a collector waiting for slots to detach.
#[cfg(not(loom))]
const SLICE: Duration = Duration::from_micros(200);

/// One thread's attached state (or, for the orphan slot, a count).
pub(crate) struct ThreadSlot {
    attached: AtomicUsize,
}

impl ThreadSlot {
    fn new() -> Self {
        ThreadSlot {
            attached: AtomicUsize::new(0),
        }
    }
}

/// The registered slots. Shared with every thread's `Local`, whose
/// destructor (at thread exit) must not reach the heap itself.
struct Registry {
    /// Every thread's slot (registered on first attach, removed at exit).
    slots: Mutex<Vec<Arc<ThreadSlot>>>,
    /// For threads whose thread-local state is gone.
    orphan: ThreadSlot,
}

/// The slots and the stop request.
pub(crate) struct World {
    /// A collector asks mutators to stay detached (W1).
    stop: AtomicBool,
    registry: Arc<Registry>,
    /// Mutators backing off wait here for `stop` to clear; the collector
    /// sleeps here between scans.
    gate: Mutex<()>,
    gate_changed: Condvar,
}

/// The thread-local side: permit depth and the registered slot.
struct Local {
    depth: Cell<usize>,
    slot: RefCell<Option<(Arc<ThreadSlot>, Arc<Registry>)>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        let Some((slot, world)) = self.slot.get_mut().take() else {
            return;
        };
        let depth = self.depth.get();
        if depth > 0 {
            // Permits outlive this thread-local (a guard kept in a later
            // thread-local, or forgotten): they stay attached, through the
            // orphan slot, and `Permit::drop` releases them there once the
            // thread-local is gone.
            world.orphan.attached.fetch_add(depth, Ordering::SeqCst);
        }
        slot.attached.store(0, Ordering::Release);
        primitive::lock(&world.slots).retain(|s| !Arc::ptr_eq(s, &slot));
        drop(world);
    }
}

// loom's `thread_local!` has no `const` form; keep one spelling for both.
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    primitive::thread_local! {
        pub(super) static LOCAL: Local = Local {
            depth: Cell::new(0),
            slot: RefCell::new(None),
        };
    }
}
use tls::LOCAL;

/// A held permit (this thread is attached): while any exists, the world
/// cannot be stopped. Not `Send`: it is released on the thread that took it.
pub(crate) struct Permit {
    orphan: bool,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Permit {
    #[inline]
    fn drop(&mut self) {
        let world = &super::heap().world;
        if self.orphan {
            world.detach_orphan();
            return;
        }
        let released = LOCAL.try_with(|l| {
            let d = l.depth.get() - 1;
            l.depth.set(d);
            if d == 0 {
                let slot = l.slot.borrow();
                if let Some((slot, _)) = slot.as_ref() {
                    world.detach(slot);
                }
            }
        });
        if released.is_err() {
            // The thread-local went away under this permit: `Local::drop`
            // moved it to the orphan slot.
            world.detach_orphan();
        }
    }
}

/// Permits this thread holds; during thread exit (thread-local gone) report
/// one, so the thread never tries to stop the world then (S6).
pub(crate) fn permits_held() -> usize {
    LOCAL.try_with(|l| l.depth.get()).unwrap_or(1)
}

/// When a stop attempt gives up.
#[derive(Clone, Copy)]
pub(crate) struct Deadline {
    #[cfg_attr(loom, allow(dead_code))]
    at: Option<Instant>,
    zero: bool,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(timeout),
            zero: timeout.is_zero(),
        }
    }

    #[cfg(not(loom))]
    fn remaining(&self) -> Option<Duration> {
        match self.at {
            Some(at) => at
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero()),
            None => Some(SLICE),
        }
    }
}

impl World {
    pub(crate) fn new() -> Self {
        World {
            stop: AtomicBool::new(false),
            registry: Arc::new(Registry {
                slots: Mutex::new(Vec::new()),
                orphan: ThreadSlot::new(),
            }),
            gate: Mutex::new(()),
            gate_changed: Condvar::new(),
        }
    }

    /// Attach this thread (take a permit). Waits while a collector has
    /// requested or holds a stop.
    #[inline]
    pub(crate) fn permit(&self) -> Permit {
        let attached = LOCAL.try_with(|l| {
            let d = l.depth.get();
            if d == 0 {
                let slot = l.slot.borrow();
                match slot.as_ref() {
                    Some((slot, _)) => self.attach(slot),
                    None => {
                        drop(slot);
                        let slot = Arc::new(ThreadSlot::new());
                        primitive::lock(&self.registry.slots).push(slot.clone());
                        self.attach(&slot);
                        *l.slot.borrow_mut() = Some((slot, self.registry.clone()));
                    }
                }
            }
            l.depth.set(d + 1);
        });
        match attached {
            Ok(()) => Permit {
                orphan: false,
                _not_send: PhantomData,
            },
            Err(_) => {
                self.attach_orphan();
                Permit {
                    orphan: true,
                    _not_send: PhantomData,
                }
            }
        }
    }

    #[inline]
    fn attach(&self, slot: &ThreadSlot) {
        loop {
            slot.attached.store(1, Ordering::SeqCst); // W1
            if !self.stop.load(Ordering::SeqCst) {
                return;
            }
            self.detach(slot);
            self.wait_while_stopped();
        }
    }

    #[inline]
    fn detach(&self, slot: &ThreadSlot) {
        slot.attached.store(0, Ordering::Release); // W2
        if self.stop.load(Ordering::Relaxed) {
            self.wake_collector();
        }
    }

    fn attach_orphan(&self) {
        loop {
            self.registry.orphan.attached.fetch_add(1, Ordering::SeqCst); // W1
            if !self.stop.load(Ordering::SeqCst) {
                return;
            }
            self.detach_orphan();
            self.wait_while_stopped();
        }
    }

    fn detach_orphan(&self) {
        self.registry
            .orphan
            .attached
            .fetch_sub(1, Ordering::Release); // W2
        if self.stop.load(Ordering::Relaxed) {
            self.wake_collector();
        }
    }

    #[cold]
    fn wait_while_stopped(&self) {
        let mut g = primitive::lock(&self.gate);
        while self.stop.load(Ordering::Acquire) {
            g = self.gate_changed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    #[cold]
    fn wake_collector(&self) {
        #[cfg(not(loom))]
        {
            let _g = primitive::lock(&self.gate);
            self.gate_changed.notify_all();
        }
    }

    /// Whether every slot is detached (W1, W2: `SeqCst` loads).
    fn all_detached(&self) -> bool {
        if self.registry.orphan.attached.load(Ordering::SeqCst) != 0 {
            return false;
        }
        primitive::lock(&self.registry.slots)
            .iter()
            .all(|s| s.attached.load(Ordering::SeqCst) == 0)
    }

    /// Request a stop and wait until every slot is detached, or until
    /// `deadline`: `true` if the world is stopped (call [`World::resume`]
    /// later), `false` if it gave up (the request is withdrawn). The
    /// calling thread must hold no permit (S6) and be the only collector
    /// (W4).
    pub(crate) fn stop(&self, deadline: Deadline) -> bool {
        self.stop.store(true, Ordering::SeqCst); // W1
        let mut spins = 0u32;
        loop {
            if self.all_detached() {
                return true;
            }
            if !self.pause(deadline, &mut spins) {
                self.resume();
                return false;
            }
        }
    }

    /// Wait a little before the next scan; `false` once `deadline` passed.
    #[cfg(not(loom))]
    fn pause(&self, deadline: Deadline, spins: &mut u32) -> bool {
        if deadline.zero {
            return false;
        }
        let Some(remaining) = deadline.remaining() else {
            return false;
        };
        *spins += 1;
        if *spins <= 16 {
            for _ in 0..(1u32 << (*spins).min(6)) {
                std::hint::spin_loop();
            }
            return true;
        }
        if *spins <= 24 {
            std::thread::yield_now();
            return true;
        }
        let g = primitive::lock(&self.gate);
        let _ = self
            .gate_changed
            .wait_timeout(g, remaining.min(SLICE))
            .unwrap_or_else(|e| e.into_inner());
        true
    }

    #[cfg(loom)]
    fn pause(&self, deadline: Deadline, _spins: &mut u32) -> bool {
        if deadline.zero {
            return false;
        }
        loom::thread::yield_now();
        true
    }

    /// Withdraw the stop request / restart the world (W2: `Release` under
    /// the gate, then wake every mutator that backed off).
    pub(crate) fn resume(&self) {
        let g = primitive::lock(&self.gate);
        self.stop.store(false, Ordering::Release);
        drop(g);
        self.gate_changed.notify_all();
    }
}
