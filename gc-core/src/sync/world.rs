//! The world: per-thread state slots that mutators *attach* and *detach*,
//! and a bounded stop-the-world for the collector.
//!
//! The model is CPython's free-threaded build (a thread state is attached
//! while it runs Python code; a stop-the-world request waits until every
//! thread state is detached) and crossbeam-epoch's pin (a per-thread slot
//! scanned by whoever needs to know who is inside), with the asymmetric
//! fence of userspace RCU and Folly's hazard pointers: the collector, which
//! stops the world rarely, pays for a process-wide barrier
//! (`membarrier(2)`) so that a mutator, which attaches all the time, pays
//! for none.
//!
//! Each thread owns one [`ThreadSlot`] (its own cache line), taken from the
//! world's registry on its first attach and given back when the thread
//! exits. Attaching is a plain store to the thread's own slot, a compiler
//! fence and a load of the shared `stop` word; detaching is a store and a
//! load. Nested permits (a guard taken while another is held) only count in
//! a thread-local cell: only the outermost one touches the slot. No lock is
//! taken and no atomic read-modify-write or hardware fence is executed
//! unless a collector is asking the world to stop (or the platform has no
//! process-wide barrier: see W1's fallback).
//!
//! # Protocol
//!
//! Invariants W1–W5, relied on by `sync` (its S1, S2, S6) and by the
//! comments here:
//!
//! * **W1 (Dekker pair, asymmetric).** A mutator attaches with
//!   `slot.store(1)`, a *light* barrier, then `stop.load()`; a collector
//!   requests a stop with `stop.store(true)`, a *heavy* barrier, then loads
//!   every slot. The barriers make the pair a store-buffering (Dekker)
//!   test in which at least one side sees the other's store: either the
//!   mutator sees the request (and backs off: detaches and waits for the
//!   world to run), or the collector sees the slot attached (and waits, or
//!   gives up). The barriers, chosen once per process ([`Barrier`]):
//!   1. *membarrier* (Linux ≥ 4.14, registered for
//!      `MEMBARRIER_CMD_PRIVATE_EXPEDITED`): light = a compiler fence (the
//!      store stays before the load in program order), heavy =
//!      `fence(SeqCst)`, `membarrier(PRIVATE_EXPEDITED)`, `fence(SeqCst)`.
//!      The syscall runs a full memory barrier on every CPU that runs a
//!      thread of this process, at some point of that thread's execution
//!      (a thread not running passed a context switch, itself a full
//!      barrier). Per mutator: if its load of `stop` comes after that
//!      point, it sees the request, stored before the syscall; otherwise
//!      its store to the slot came before the point too, and is visible to
//!      the collector's loads, made after the syscall returned.
//!   2. *fallback* (no membarrier, Miri, loom): light = heavy =
//!      `fence(SeqCst)`: two `SeqCst` fences order the two stores before
//!      the two loads in the single total order of `SeqCst` fences (C++
//!      [atomics.fences], the store-buffering litmus test; loom checks this
//!      form).
//!
//!   If the heavy barrier fails (the syscall returns an error, which a
//!   registered process does not see), the collector treats the stop as
//!   failed: the world is never assumed stopped without W1.
//! * **W2 (happens-before).** Detaching is a `Release` store of 0; the
//!   collector's `Acquire` load that reads it makes everything the mutator
//!   did while attached happen before the stopped phase. The collector
//!   clears `stop` with a `Release` store (under the gate mutex); a
//!   mutator's `Acquire` load that reads it makes the stopped phase happen
//!   before the mutator's next attached section. (These are ordinary
//!   acquire/release pairs, which ThreadSanitizer sees; W1 only decides
//!   *which* values the loads can return.)
//! * **W3 (bounded stop).** The collector waits for detached slots only
//!   until its deadline; then it clears `stop` and reports failure. Nothing
//!   else it does waits on a mutator, so no cycle of waits can include it
//!   for longer than its deadline. A mutator that backs off waits only for
//!   `stop` to clear, which every collector does within its deadline or at
//!   the end of its stopped phase.
//! * **W4 (one collector).** At most one thread requests a stop at a time
//!   (the sync heap's `collecting` flag).
//! * **W5 (slots).** A slot is owned by at most one thread at a time (the
//!   registry hands it out and takes it back under its mutex, detached);
//!   only its owner stores to it, and only while its permit depth goes
//!   0 → 1 (store 1) or 1 → 0 (store 0). Slots are never freed (a thread
//!   exiting gives its slot back for the next thread), so the registry
//!   holds `&'static` references and the collector can scan a slot whose
//!   thread is exiting. A thread registers its slot (under the registry
//!   mutex) *before* it first attaches, so a collector that scanned the
//!   registry without seeing it made its stop request happen before that
//!   attach (the mutex), which then sees the request.
//!
//! A thread whose thread-local *owner* is already destroyed (code running
//! in another thread-local's destructor) still attaches through its slot:
//! the per-thread depth and slot live in a `const` thread-local without a
//! destructor, always accessible; the last permit such a thread releases
//! gives the slot back.
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

use super::nursery::Nursery;
use super::pool::SyncPool;
use crate::primitive::{self, fence, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use std::cell::{Cell, OnceCell};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest single sleep of a collector waiting for slots to detach.
#[cfg(not(loom))]
const SLICE: Duration = Duration::from_micros(200);

/// One thread's attached state, alone on its cache line (128 bytes: the
/// pair of lines x86's adjacent-line prefetcher fetches together), so that
/// threads attaching at once do not share a line.
#[repr(align(128))]
pub(crate) struct ThreadSlot {
    attached: AtomicUsize,
    /// The objects allocated by the slot's threads since the last gather
    /// (`nursery`, N1: its owner is this slot's thread, W5).
    pub(crate) nursery: Nursery,
    /// The memory of the tracked objects the slot's threads allocate
    /// (`pool`, SP1: its user is this slot's thread, W5).
    pub(crate) pool: SyncPool,
}

/// The slots ever handed out (W5).
struct Registry {
    /// Every slot; the collector scans them all.
    all: Vec<&'static ThreadSlot>,
    /// Detached slots of exited threads, for the next thread.
    free: Vec<&'static ThreadSlot>,
}

impl Registry {
    fn take(&mut self) -> &'static ThreadSlot {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        let slot: &'static ThreadSlot = Box::leak(Box::new(ThreadSlot {
            attached: AtomicUsize::new(0),
            nursery: Nursery::new(),
            pool: SyncPool::new(),
        }));
        slot.pool.init();
        self.all.push(slot);
        slot
    }
}

/// The W1 barrier pair this process uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Barrier {
    /// Light = compiler fence, heavy = `membarrier(PRIVATE_EXPEDITED)`.
    #[cfg_attr(
        any(loom, miri, not(any(target_os = "linux", target_os = "android"))),
        allow(dead_code)
    )]
    Membarrier,
    /// Light = heavy = `fence(SeqCst)`.
    Fence,
}

impl Barrier {
    /// Register for private expedited membarrier if the kernel has it.
    fn detect() -> Barrier {
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri)))]
        {
            use rustix::thread::{membarrier, membarrier_query, MembarrierCommand};
            let q = membarrier_query();
            if q.contains_command(MembarrierCommand::PrivateExpedited)
                && q.contains_command(MembarrierCommand::RegisterPrivateExpedited)
                && membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok()
            {
                return Barrier::Membarrier;
            }
        }
        Barrier::Fence
    }

    /// The mutator's side of W1, between its slot store and `stop` load.
    #[inline(always)]
    fn light(self) {
        #[cfg(not(loom))]
        if self == Barrier::Membarrier {
            primitive::compiler_fence(Ordering::SeqCst);
            return;
        }
        fence(Ordering::SeqCst);
    }

    /// The collector's side of W1, between its `stop` store and slot
    /// loads; `false` if the barrier could not be issued.
    fn heavy(self) -> bool {
        fence(Ordering::SeqCst);
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri)))]
        if self == Barrier::Membarrier {
            use rustix::thread::{membarrier, MembarrierCommand};
            if membarrier(MembarrierCommand::PrivateExpedited).is_err() {
                return false;
            }
            fence(Ordering::SeqCst);
        }
        true
    }
}

/// The slots and the stop request.
pub(crate) struct World {
    /// A collector asks mutators to stay detached (W1).
    stop: AtomicBool,
    barrier: Barrier,
    /// Shared with every thread's `Owner`, whose destructor (at thread
    /// exit) gives its slot back without reaching the heap itself.
    registry: Arc<Mutex<Registry>>,
    /// Mutators backing off wait here for `stop` to clear; the collector
    /// sleeps here between scans.
    gate: Mutex<()>,
    gate_changed: Condvar,
}

/// The thread-local side: permit depth and this thread's slot. No
/// destructor, so always accessible, even from other thread-locals'
/// destructors.
struct Local {
    depth: Cell<usize>,
    slot: Cell<Option<&'static ThreadSlot>>,
    /// The thread's `Owner` is gone: the last permit gives the slot back.
    exiting: Cell<bool>,
}

impl Local {
    const fn new() -> Local {
        Local {
            depth: Cell::new(0),
            slot: Cell::new(None),
            exiting: Cell::new(false),
        }
    }
}

/// Gives the thread's slot back when the thread exits (W5).
struct Owner {
    registry: OnceCell<Arc<Mutex<Registry>>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        let Some(registry) = self.registry.take() else {
            return;
        };
        let _ = LOCAL.try_with(|l| {
            l.exiting.set(true);
            if l.depth.get() == 0 {
                if let Some(slot) = l.slot.take() {
                    SyncPool::set_current(None); // SP1
                    primitive::lock(&registry).free.push(slot);
                }
            }
            // Otherwise permits outlive the owner (a guard kept in a later
            // thread-local, or forgotten): the slot stays attached, and the
            // last of them gives it back.
        });
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static LOCAL: Local = const { Local::new() };
    static OWNER: Owner = const { Owner { registry: OnceCell::new() } };
}
// loom's `thread_local!` has no `const` form.
#[cfg(loom)]
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    loom::thread_local! {
        pub(super) static LOCAL: Local = Local::new();
        pub(super) static OWNER: Owner = Owner { registry: OnceCell::new() };
    }
}
#[cfg(loom)]
use tls::{LOCAL, OWNER};

/// A held permit (this thread is attached): while any exists, the world
/// cannot be stopped. Not `Send`: it is released on the thread that took it.
pub(crate) struct Permit {
    world: &'static World,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Permit {
    #[inline(always)]
    fn drop(&mut self) {
        let world = self.world;
        LOCAL.with(|l| {
            let d = l.depth.get() - 1;
            l.depth.set(d);
            if d == 0 {
                if let Some(slot) = l.slot.get() {
                    slot.attached.store(0, Ordering::Release); // W2
                    if world.stop.load(Ordering::Relaxed) || l.exiting.get() {
                        world.after_detach(l);
                    }
                }
            }
        });
    }
}

/// Permits this thread holds (S6: a thread holding one never stops the
/// world).
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
            barrier: Barrier::detect(),
            registry: Arc::new(Mutex::new(Registry {
                all: Vec::new(),
                free: Vec::new(),
            })),
            gate: Mutex::new(()),
            gate_changed: Condvar::new(),
        }
    }

    /// Attach this thread (take a permit). Waits while a collector has
    /// requested or holds a stop. Only the outermost permit of a thread
    /// touches its slot.
    #[inline(always)]
    pub(crate) fn permit(&'static self) -> Permit {
        LOCAL.with(|l| self.enter(l));
        Permit {
            world: self,
            _not_send: PhantomData,
        }
    }

    /// Attach this thread and run `f` with its slot: the slot is this
    /// thread's until the permit is released (W5), so `f` may use the
    /// slot's nursery as its owner (N1).
    #[inline(always)]
    pub(crate) fn attached<R>(&'static self, f: impl FnOnce(&'static ThreadSlot) -> R) -> R {
        // As `permit`, also returning the slot (one thread-local access).
        let slot = LOCAL.with(|l| self.enter(l));
        let _permit = Permit {
            world: self,
            _not_send: PhantomData,
        };
        f(slot.expect("gc: an attached thread has a slot"))
    }

    /// Run `f` with the slot this thread holds (W5), attaching only if it
    /// holds none yet (to take one). The slot stays this thread's while
    /// `f` runs, so `f` may use its pool (SP1) — but not its nursery unless
    /// attached (N1).
    #[inline(always)]
    pub(crate) fn with_own_slot<R>(&'static self, f: impl FnOnce(&'static ThreadSlot) -> R) -> R {
        match LOCAL.with(|l| l.slot.get()) {
            Some(slot) => f(slot),
            None => self.attached(f),
        }
    }

    /// Take over the remote frees and give back the empty chunks of the
    /// pools of slots no thread holds (SP1: under the registry lock), after
    /// a full collection.
    pub(crate) fn reclaim_free_slots(&self) {
        let registry = primitive::lock(&self.registry);
        for slot in &registry.free {
            // SAFETY: SP1: the slot is on the free list and we hold the
            // registry lock.
            unsafe { slot.pool.reclaim() };
        }
    }

    /// Pages held by the pools of every slot that no thread holds, and by
    /// this thread's (tests and statistics).
    pub(crate) fn pool_pages(&self) -> (usize, usize) {
        let registry = primitive::lock(&self.registry);
        // SAFETY: SP1: free slots, under the registry lock.
        let free = registry
            .free
            .iter()
            .map(|s| unsafe { s.pool.page_count() })
            .sum();
        let mine = LOCAL
            .try_with(|l| l.slot.get())
            .ok()
            .flatten()
            // SAFETY: SP1: this thread holds the slot.
            .map_or(0, |s| unsafe { s.pool.page_count() });
        (mine, free)
    }

    /// The address of the slot this thread holds, 0 if none (tests).
    pub(crate) fn own_slot_id(&self) -> usize {
        LOCAL
            .try_with(|l| l.slot.get())
            .ok()
            .flatten()
            .map_or(0, |s| s as *const ThreadSlot as usize)
    }

    /// Take one more permit on this thread (`l` is its `LOCAL`): the
    /// outermost attaches its slot (W1). Returns the slot.
    #[inline(always)]
    fn enter(&'static self, l: &Local) -> Option<&'static ThreadSlot> {
        let d = l.depth.get();
        if d == 0 {
            match l.slot.get() {
                Some(slot) => self.attach(slot),
                None => self.attach_new(l),
            }
        }
        l.depth.set(d + 1);
        l.slot.get()
    }

    /// Run `f` on every slot ever handed out (the collector's gather, with
    /// the world stopped).
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(&'static ThreadSlot)) {
        for &slot in &primitive::lock(&self.registry).all {
            f(slot);
        }
    }

    /// W1's mutator side.
    #[inline(always)]
    fn attach(&self, slot: &ThreadSlot) {
        slot.attached.store(1, Ordering::Relaxed); // W1
                                                   // W1; then W2: `Acquire`, so that a `false` written by `resume`
                                                   // orders the stopped phase before this attached section.
        self.barrier.light();
        if self.stop.load(Ordering::Acquire) {
            self.back_off(slot);
        }
    }

    /// A stop was requested while attaching: detach, wait for the world to
    /// run, and attach again.
    #[cold]
    #[inline(never)]
    fn back_off(&self, slot: &ThreadSlot) {
        loop {
            slot.attached.store(0, Ordering::Release); // W2
            self.wake_collector();
            self.wait_while_stopped();
            slot.attached.store(1, Ordering::Relaxed); // W1
            self.barrier.light(); // W1
            if !self.stop.load(Ordering::Acquire) {
                return;
            }
        }
    }

    /// This thread's first attach: take a slot (W5), arrange for it to be
    /// given back, attach.
    #[cold]
    #[inline(never)]
    fn attach_new(&self, l: &Local) {
        let slot = primitive::lock(&self.registry).take();
        l.slot.set(Some(slot));
        SyncPool::set_current(Some(&slot.pool)); // SP1
        let owned = OWNER.try_with(|o| {
            o.registry.get_or_init(|| self.registry.clone());
        });
        if owned.is_err() {
            // The owner is gone (thread exit): the last permit gives the
            // slot back.
            l.exiting.set(true);
        }
        self.attach(slot);
    }

    /// After a detach that saw a stop request or an exiting thread.
    #[cold]
    #[inline(never)]
    fn after_detach(&self, l: &Local) {
        if l.exiting.get() {
            if let Some(slot) = l.slot.take() {
                SyncPool::set_current(None); // SP1
                primitive::lock(&self.registry).free.push(slot);
            }
        }
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

    /// Whether every slot is detached (W1, W2: `Acquire` loads after the
    /// heavy barrier).
    fn all_detached(&self) -> bool {
        primitive::lock(&self.registry)
            .all
            .iter()
            .all(|s| s.attached.load(Ordering::Acquire) == 0)
    }

    /// Request a stop and wait until every slot is detached, or until
    /// `deadline`: `true` if the world is stopped (call [`World::resume`]
    /// later), `false` if it gave up (the request is withdrawn). The
    /// calling thread must hold no permit (S6) and be the only collector
    /// (W4).
    pub(crate) fn stop(&self, deadline: Deadline) -> bool {
        self.stop.store(true, Ordering::Relaxed); // W1
        if !self.barrier.heavy() {
            // W1 cannot be had: never assume a stopped world without it.
            self.resume();
            return false;
        }
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn slot_has_its_own_cache_line() {
        assert_eq!(std::mem::align_of::<ThreadSlot>(), 128);
    }

    #[test]
    fn nested_permits_touch_the_slot_once() {
        let world: &'static World = Box::leak(Box::new(World::new()));
        let outer = world.permit();
        let slot = LOCAL.with(|l| l.slot.get()).expect("registered");
        assert_eq!(slot.attached.load(Ordering::Relaxed), 1);
        let inner = world.permit();
        assert_eq!(permits_held(), 2);
        drop(inner);
        assert_eq!(slot.attached.load(Ordering::Relaxed), 1, "outer still held");
        drop(outer);
        assert_eq!(slot.attached.load(Ordering::Relaxed), 0);
        assert_eq!(permits_held(), 0);
    }

    #[test]
    fn exited_threads_give_their_slot_back() {
        let world: &'static World = Box::leak(Box::new(World::new()));
        for _ in 0..4 {
            std::thread::spawn(move || drop(world.permit()))
                .join()
                .unwrap();
        }
        let r = primitive::lock(&world.registry);
        assert_eq!(r.all.len(), 1, "one slot, reused by each thread in turn");
        assert_eq!(r.free.len(), 1);
    }
}
