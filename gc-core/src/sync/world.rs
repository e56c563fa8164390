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
//! There is one world per process ([`world`], a `const`-initialised
//! static). Each thread owns one [`ThreadSlot`] (its own cache-line pair),
//! taken from the world's registry on its first attach and given back when
//! the thread exits. A permit touches only the hot part of its thread's
//! slot ([`Attach`]), and nothing another thread writes while the world
//! runs:
//!
//! * `attached` is the thread's permit depth: taking a permit adds one,
//!   releasing one subtracts one (plain stores, no read-modify-write: only
//!   the owner writes it). The outermost permit's stores (0 → 1, 1 → 0)
//!   are the attach and the detach the collector sees.
//! * `flags` sends the unusual cases down a cold path with one test: a
//!   stop request (the collector sets it in every slot), the fallback
//!   barrier pair, the owner's thread exiting.
//!
//! Attaching is thus an increment, a compiler fence, a load and a test;
//! detaching a decrement, a load and a test. No lock is taken, no shared
//! cache line is read, and no atomic read-modify-write or hardware fence is
//! executed unless a collector is asking the world to stop (or the platform
//! has no process-wide barrier: see W1's fallback).
//!
//! # Protocol
//!
//! Invariants W1–W5, relied on by `sync` (its S1, S2, S6) and by the
//! comments here:
//!
//! * **W1 (Dekker pair, asymmetric).** A mutator attaches by storing depth
//!   1 to its slot's `attached`, a *light* barrier, then a load of its
//!   slot's `flags`; a collector requests a stop by setting [`STOP`] in
//!   the world's `stop` word and in every registered slot's `flags` (under
//!   the registry mutex), a *heavy* barrier, then loads every slot's
//!   `attached`. The barriers make each slot's pair a store-buffering
//!   (Dekker) test in which at least one side sees the other's store:
//!   either the mutator sees the request (and backs off: detaches and
//!   waits for the world to run), or the collector sees the slot attached
//!   (and waits, or gives up). The barriers, chosen once per process
//!   ([`Barrier`], before the first slot is handed out or the first stop
//!   is requested) and copied into each slot's `flags` ([`FENCE`]):
//!   1. *membarrier* (Linux ≥ 4.14, registered for
//!      `MEMBARRIER_CMD_PRIVATE_EXPEDITED`): light = a compiler fence (the
//!      store stays before the load in program order), heavy =
//!      `fence(SeqCst)`, `membarrier(PRIVATE_EXPEDITED)`, `fence(SeqCst)`.
//!      The syscall runs a full memory barrier on every CPU that runs a
//!      thread of this process, at some point of that thread's execution
//!      (a thread not running passed a context switch, itself a full
//!      barrier). Per mutator: if its load of `flags` comes after that
//!      point, it sees the request, stored before the syscall; otherwise
//!      its store to the slot came before the point too, and is visible to
//!      the collector's loads, made after the syscall returned.
//!   2. *fallback* (no membarrier, Miri, loom): light = heavy =
//!      `fence(SeqCst)`: two `SeqCst` fences order the two stores before
//!      the two loads in the single total order of `SeqCst` fences (C++
//!      [atomics.fences], the store-buffering litmus test; loom checks this
//!      form). The slot's [`FENCE`] flag sends every attach to the cold
//!      path, which issues the fence and loads `flags` again.
//!
//!   If the heavy barrier fails (the syscall returns an error, which a
//!   registered process does not see), the collector treats the stop as
//!   failed: the world is never assumed stopped without W1.
//! * **W2 (happens-before).** Detaching is a `Release` store of the
//!   decremented depth (0 for the outermost permit); the collector's
//!   `Acquire` load that reads it makes everything the mutator did while
//!   attached happen before the stopped phase. The collector withdraws the
//!   request with `Release` read-modify-writes of every slot's `flags`,
//!   then a `Release` store of `stop` (under the gate mutex); a mutator's
//!   `Acquire` load of its `flags` that reads the cleared flag makes the
//!   stopped phase happen before the mutator's next attached section.
//!   (These are ordinary acquire/release pairs, which ThreadSanitizer
//!   sees; W1 only decides *which* values the loads can return.)
//! * **W3 (bounded stop).** The collector waits for detached slots only
//!   until its deadline; then it withdraws the request and reports
//!   failure. Nothing else it does waits on a mutator, so no cycle of
//!   waits can include it for longer than its deadline. A mutator that
//!   backs off waits only for `stop` to clear, which every collector does
//!   within its deadline or at the end of its stopped phase (after
//!   clearing the slots' flags).
//! * **W4 (one collector).** At most one thread requests a stop at a time
//!   (the sync heap's `collecting` flag). Only it sets or clears [`STOP`],
//!   in `stop` and in the slots' `flags`, under the registry mutex; a slot
//!   handed out copies `stop` into its `flags` under the same mutex.
//! * **W5 (slots).** A slot is owned by at most one thread at a time (the
//!   registry hands it out and takes it back under its mutex, detached);
//!   only its owner stores to its `attached` (plain stores of its permit
//!   depth) and sets or clears [`EXITING`] (its thread-local owner is
//!   gone: the permit that brings the depth back to 0 gives the slot
//!   back). A thread's slot stays its own while its depth is non-zero (a
//!   thread holding a permit holds its slot). Slots are never freed (a
//!   thread exiting gives its slot back for the next thread), so the
//!   registry holds `&'static` references and the collector can scan a
//!   slot whose thread is exiting. A thread takes its slot (under the
//!   registry mutex, copying the request state into its flags) *before*
//!   it first attaches, so a collector that did not set that slot's flag
//!   had set `stop` before the copy (the mutex), which the copy carries.
//!
//! A thread whose thread-local *owner* is already destroyed (code running
//! in another thread-local's destructor) still attaches through its slot:
//! the slot pointers live in a `const` thread-local without a destructor,
//! always accessible; such a thread's slot carries [`EXITING`], and the
//! last permit it releases gives the slot back.
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
use crate::primitive::{self, fence, AtomicU32, AtomicUsize, Condvar, Mutex, Ordering};
use std::cell::Cell;
use std::marker::PhantomData;

mod barrier;
use barrier::Barrier;
pub(crate) use barrier::Deadline;
#[cfg(not(loom))]
use barrier::SLICE;

/// A collector requests a stop (`stop` and every slot's `flags`; W1, W4).
const STOP: u32 = 1;
/// The barrier pair is the fallback (W1.2): attaches take the cold path,
/// which issues the fence.
const FENCE: u32 = 2;
/// `flags`: the slot's thread is exiting; its last permit gives the slot
/// back (W5).
const EXITING: u32 = 4;
/// `stop`: the barrier pair is not chosen yet (W1).
#[cfg(not(loom))]
const UNSET: u32 = 8;

/// The part of a slot a permit touches (module docs).
pub(crate) struct Attach {
    /// The owner's permit depth (W5); non-zero = attached (W1).
    attached: AtomicUsize,
    /// [`STOP`] | [`FENCE`] | [`EXITING`].
    flags: AtomicU32,
}

/// One thread's state, alone on its cache-line pair, so that threads
/// attaching at once do not share a line.
#[repr(align(128))]
pub(crate) struct ThreadSlot {
    attach: Attach,
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
    /// A slot for this thread, its flags copied from `stop` (read under
    /// the registry mutex: W4, W5).
    fn take(&mut self, stop: u32) -> &'static ThreadSlot {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot: &'static ThreadSlot = Box::leak(Box::new(ThreadSlot {
                    attach: Attach {
                        attached: AtomicUsize::new(0),
                        flags: AtomicU32::new(0),
                    },
                    nursery: Nursery::new(),
                    pool: SyncPool::new(),
                }));
                slot.pool.init();
                self.all.push(slot);
                slot
            }
        };
        slot.attach
            .flags
            .store(stop & (STOP | FENCE), Ordering::Relaxed);
        slot
    }
}

/// The pair a chosen `stop` word names (W1).
fn barrier_of(stop: u32) -> Barrier {
    if stop & FENCE != 0 {
        Barrier::Fence
    } else {
        Barrier::Membarrier
    }
}

/// The mutator's light barrier of W1 on the fast path, between the slot
/// store and the `flags` load: a compiler fence (the membarrier pair; the
/// fallback pair's fence is issued on the cold path the [`FENCE`] flag
/// leads to).
#[inline(always)]
fn compiler_fence() {
    #[cfg(not(loom))]
    primitive::compiler_fence(Ordering::SeqCst);
}

/// The slots and the stop request (one per process: [`world`]).
pub(crate) struct World {
    /// [`STOP`] | [`FENCE`] | `UNSET`: what a slot handed out copies into
    /// its flags (W4); a mutator that backed off waits for it to clear.
    stop: AtomicU32,
    /// Chooses the barrier pair once (W1).
    #[cfg(not(loom))]
    choose: std::sync::Once,
    registry: Mutex<Registry>,
    /// Mutators backing off wait here for `stop` to clear; the collector
    /// sleeps here between scans.
    gate: Mutex<()>,
    gate_changed: Condvar,
}

#[cfg(not(loom))]
static WORLD: World = World {
    stop: AtomicU32::new(UNSET),
    choose: std::sync::Once::new(),
    registry: Mutex::new(Registry {
        all: Vec::new(),
        free: Vec::new(),
    }),
    gate: Mutex::new(()),
    gate_changed: Condvar::new(),
};

#[cfg(loom)]
loom::lazy_static! {
    static ref WORLD: World = World {
        // loom checks the fallback pair.
        stop: AtomicU32::new(FENCE),
        registry: Mutex::new(Registry {
            all: Vec::new(),
            free: Vec::new(),
        }),
        gate: Mutex::new(()),
        gate_changed: Condvar::new(),
    };
}

/// The process's world.
#[inline(always)]
pub(crate) fn world() -> &'static World {
    &WORLD
}

/// The thread-local side. No destructor, so always accessible, even from
/// other thread-locals' destructors.
struct Local {
    /// This thread's slot (W5).
    slot: Cell<Option<&'static ThreadSlot>>,
}

/// Gives the thread's slot back when the thread exits (W5).
struct Owner {
    /// This thread took a slot while its owner was alive.
    armed: Cell<bool>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if !self.armed.get() {
            return;
        }
        let _ = LOCAL.try_with(|l| {
            let Some(slot) = l.slot.get() else { return };
            if slot.attach.attached.load(Ordering::Relaxed) == 0 {
                world().give_back(l, slot);
            } else {
                // Permits outlive the owner (a guard kept in a later
                // thread-local, or forgotten): the slot stays attached, and
                // the last of them gives it back (W5).
                slot.attach.flags.fetch_or(EXITING, Ordering::Relaxed);
            }
        });
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static LOCAL: Local = const { Local { slot: Cell::new(None) } };
    static OWNER: Owner = const { Owner { armed: Cell::new(false) } };
}
// loom's `thread_local!` has no `const` form.
#[cfg(loom)]
#[allow(clippy::missing_const_for_thread_local)]
mod tls {
    use super::*;
    loom::thread_local! {
        pub(super) static LOCAL: Local = Local { slot: Cell::new(None) };
        pub(super) static OWNER: Owner = Owner { armed: Cell::new(false) };
    }
}
#[cfg(loom)]
use tls::{LOCAL, OWNER};

/// The slot this thread holds, if any.
#[inline(always)]
fn own_slot() -> Option<&'static ThreadSlot> {
    LOCAL.with(|l| l.slot.get())
}

/// A held permit (this thread is attached): while any exists, the world
/// cannot be stopped. Not `Send`: it is released on the thread that took
/// it, which holds its slot meanwhile (W5).
pub(crate) struct Permit {
    _not_send: PhantomData<*const ()>,
}

impl Drop for Permit {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: W5: a thread holding a permit holds its slot, and this is
        // the thread that took the permit (`Permit` is not `Send`).
        let hot = &unsafe { own_slot().unwrap_unchecked() }.attach;
        // W5: only this thread stores to its slot's depth.
        let depth = hot.attached.load(Ordering::Relaxed);
        hot.attached.store(depth - 1, Ordering::Release); // W2
        if hot.flags.load(Ordering::Relaxed) & (STOP | EXITING) != 0 {
            world().detach_slow(hot);
        }
    }
}

/// Permits this thread holds (S6: a thread holding one never stops the
/// world).
pub(crate) fn permits_held() -> usize {
    LOCAL
        .try_with(|l| {
            l.slot
                .get()
                .map_or(0, |s| s.attach.attached.load(Ordering::Relaxed))
        })
        .unwrap_or(1)
}

impl World {
    /// Attach this thread (take a permit). Waits while a collector has
    /// requested or holds a stop.
    #[inline(always)]
    pub(crate) fn permit(&'static self) -> Permit {
        self.enter();
        Permit {
            _not_send: PhantomData,
        }
    }

    /// Attach this thread and run `f` with its slot: the slot is this
    /// thread's until the permit is released (W5), so `f` may use the
    /// slot's nursery as its owner (N1).
    #[inline(always)]
    pub(crate) fn attached<R>(&'static self, f: impl FnOnce(&'static ThreadSlot) -> R) -> R {
        self.enter();
        let _permit = Permit {
            _not_send: PhantomData,
        };
        // SAFETY: W5: an attached thread holds a slot.
        f(unsafe { own_slot().unwrap_unchecked() })
    }

    /// Run `f` with the slot this thread holds (W5), attaching only if it
    /// holds none yet (to take one). The slot stays this thread's while
    /// `f` runs, so `f` may use its pool (SP1) — but not its nursery unless
    /// attached (N1).
    #[inline(always)]
    pub(crate) fn with_own_slot<R>(&'static self, f: impl FnOnce(&'static ThreadSlot) -> R) -> R {
        match own_slot() {
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

    /// Take one more permit on this thread: add one to its depth (W5) and
    /// test its flags (W1: the outermost permit's store is the attach).
    #[inline(always)]
    fn enter(&'static self) {
        let Some(slot) = own_slot() else {
            return self.attach_new();
        };
        let hot = &slot.attach;
        // W5: only this thread stores to its slot's depth.
        let depth = hot.attached.load(Ordering::Relaxed);
        hot.attached.store(depth + 1, Ordering::Relaxed); // W1
        compiler_fence(); // W1 (membarrier pair)
                          // W1; W2: `Acquire`, so that a withdrawn request orders the
                          // stopped phase before this attached section.
        if hot.flags.load(Ordering::Acquire) != 0 {
            self.enter_slow(hot);
        }
    }

    /// Run `f` on every slot ever handed out (the collector's gather, with
    /// the world stopped).
    pub(crate) fn for_each_slot(&self, mut f: impl FnMut(&'static ThreadSlot)) {
        for &slot in &primitive::lock(&self.registry).all {
            f(slot);
        }
    }

    /// `enter` found flags: a request, the fallback pair or an exiting
    /// thread. Only the outermost permit acts on them: a nested one is
    /// attached already (its outermost permit passed W1).
    #[cold]
    #[inline(never)]
    fn enter_slow(&self, hot: &Attach) {
        if hot.attached.load(Ordering::Relaxed) == 1 {
            self.attach(hot);
        }
    }

    /// W1's mutator side once the slot's depth is 1: the light barrier,
    /// the flags test, backing off while a stop is requested.
    fn attach(&self, hot: &Attach) {
        loop {
            if hot.flags.load(Ordering::Relaxed) & FENCE != 0 {
                fence(Ordering::SeqCst); // W1 (fallback pair)
            }
            // W1; W2: `Acquire`, as in `enter`.
            if hot.flags.load(Ordering::Acquire) & STOP == 0 {
                return;
            }
            // A stop was requested: detach, wait for the world to run, and
            // attach again.
            hot.attached.store(0, Ordering::Release); // W2
            self.wake_collector();
            self.wait_while_stopped();
            hot.attached.store(1, Ordering::Relaxed); // W1
            compiler_fence(); // W1 (membarrier pair)
        }
    }

    /// This thread's first attach: take a slot (W5), arrange for it to be
    /// given back, attach.
    #[cold]
    #[inline(never)]
    fn attach_new(&'static self) {
        self.chosen(); // W1: the pair, before a slot copies it
        let slot = {
            let mut registry = primitive::lock(&self.registry);
            // W4: `stop` as of now, under the registry mutex (a request
            // withdrawn meanwhile must not stay in the slot's flags).
            let stop = self.stop.load(Ordering::Relaxed);
            registry.take(stop)
        };
        LOCAL.with(|l| l.slot.set(Some(slot)));
        SyncPool::set_current(Some(&slot.pool)); // SP1
        if OWNER.try_with(|o| o.armed.set(true)).is_err() {
            // The owner is gone (thread exit): the last permit gives the
            // slot back (W5).
            slot.attach.flags.fetch_or(EXITING, Ordering::Relaxed);
        }
        slot.attach.attached.store(1, Ordering::Relaxed); // W1
        compiler_fence(); // W1 (membarrier pair)
        self.attach(&slot.attach);
    }

    /// The `stop` word once the pair is chosen (W1: choosing registers
    /// membarrier before any slot or collector relies on it).
    #[cfg(not(loom))]
    fn chosen(&self) -> u32 {
        let word = self.stop.load(Ordering::Acquire);
        if word & UNSET == 0 {
            return word;
        }
        self.choose.call_once(|| {
            let mode = match Barrier::detect() {
                Barrier::Membarrier => 0,
                Barrier::Fence => FENCE,
            };
            // W4: no collector stores before the choice (`stop` makes it
            // first).
            self.stop.store(mode, Ordering::Release);
        });
        self.stop.load(Ordering::Acquire)
    }

    #[cfg(loom)]
    fn chosen(&self) -> u32 {
        self.stop.load(Ordering::Relaxed)
    }

    /// `Permit::drop` found a request or an exiting thread.
    #[cold]
    #[inline(never)]
    fn detach_slow(&self, hot: &Attach) {
        if hot.attached.load(Ordering::Relaxed) != 0 {
            return; // still attached (nested)
        }
        let flags = hot.flags.load(Ordering::Relaxed);
        if flags & EXITING != 0 {
            LOCAL.with(|l| {
                if let Some(slot) = l.slot.get() {
                    self.give_back(l, slot);
                }
            });
        }
        if flags & STOP != 0 {
            self.wake_collector();
        }
    }

    /// Give this thread's detached slot back to the registry (W5).
    fn give_back(&self, l: &Local, slot: &'static ThreadSlot) {
        slot.attach.flags.fetch_and(!EXITING, Ordering::Relaxed); // W5
        l.slot.set(None);
        SyncPool::set_current(None); // SP1
        primitive::lock(&self.registry).free.push(slot);
    }

    #[cold]
    fn wait_while_stopped(&self) {
        let mut g = primitive::lock(&self.gate);
        while self.stop.load(Ordering::Acquire) & STOP != 0 {
            g = self.gate_changed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wake a collector waiting for slots to detach.
    #[cold]
    #[inline(never)]
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
            .all(|s| s.attach.attached.load(Ordering::Acquire) == 0)
    }

    /// Request a stop and wait until every slot is detached, or until
    /// `deadline`: `true` if the world is stopped (call [`World::resume`]
    /// later), `false` if it gave up (the request is withdrawn). The
    /// calling thread must hold no permit (S6) and be the only collector
    /// (W4).
    pub(crate) fn stop(&self, deadline: Deadline) -> bool {
        let mode = self.chosen();
        {
            let registry = primitive::lock(&self.registry);
            self.stop.store(mode | STOP, Ordering::Relaxed); // W4
            for slot in &registry.all {
                // W1; `Release`: a mutator that sees the flag sees `stop`
                // set too (it waits for it to clear).
                slot.attach.flags.fetch_or(STOP, Ordering::Release);
            }
        }
        if !barrier_of(mode).heavy() {
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

    /// Withdraw the stop request / restart the world (W2, W4: the slots'
    /// flags, then `stop` under the gate, all under the registry mutex so
    /// that no slot handed out meanwhile copies a request withdrawn from
    /// the others; then wake every mutator that backed off).
    pub(crate) fn resume(&self) {
        {
            let registry = primitive::lock(&self.registry);
            for slot in &registry.all {
                slot.attach.flags.fetch_and(!STOP, Ordering::Release); // W2
            }
            let _g = primitive::lock(&self.gate);
            let mode = self.stop.load(Ordering::Relaxed) & !STOP;
            self.stop.store(mode, Ordering::Release); // W2
        }
        self.gate_changed.notify_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
