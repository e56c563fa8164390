//! The two heaps as the collector sees them, side by side: what really
//! differs between the per-thread heap and the sync heap (counts, locking,
//! where the registries live), and how each starts a collection.

use super::heap::CollectorHeap;
use crate::heap::death::{self, DeathHeap};
use crate::heap::gen::GenState;
use crate::heap::header::{Counts, Node, ObjPtr};
use crate::heap::owned::OwnedRef;
use crate::heap::weakcb::GcCallbackCell;
use crate::heap::weakcb::{self, Entry};
use crate::heap::{heap, GcCallback, Heap, SideMode};
use crate::primitive::{self, MutexGuard, Ordering};
use crate::sync::counts::SyncCounts;
use crate::sync::heap::{SyncCallback, SyncGcCallback, SyncHeap, WorldState, AUTO_STOP_TIMEOUT};
use crate::sync::world::{self, permits_held};
use crate::types::{CollectionInfo, Mode, Phase};
use std::time::Duration;

impl GcCallbackCell for GcCallback {
    fn call_unless_running(&self, phase: Phase, info: &CollectionInfo) {
        if let Ok(mut f) = self.try_borrow_mut() {
            f(phase, info)
        }
    }
}

impl GcCallbackCell for SyncGcCallback {
    fn call_unless_running(&self, phase: Phase, info: &CollectionInfo) {
        if let Ok(mut f) = self.try_lock() {
            f(phase, info)
        }
    }
}

impl Heap {
    /// Collect `generation` with the `gc` callbacks around it; 0 if a
    /// collection is already running (no nesting).
    pub(crate) fn collect(&self, generation: usize) -> usize {
        super::gc_collect_with_callback(self, generation, Duration::ZERO).unwrap_or(0)
    }

    /// The automatic trigger, which `Gc::new` starts when
    /// [`Heap::note_alloc`] reports a collection due (CPython's
    /// `gc_collect_generations`; in the incremental mode PEP 848's
    /// alternation of young collections and increments).
    #[cold]
    #[inline(never)]
    pub(crate) fn collect_generations(&self) -> usize {
        if !self.gen.enabled.get() || self.collecting.get() {
            return 0;
        }
        if self.spaces.mode.get() == Mode::Incremental {
            let young = self.spaces.young_next.get();
            self.spaces.young_next.set(!young);
            return self.collect(if young { 0 } else { 1 });
        }
        match super::due(&self.gen, self.gen.count[0].get()) {
            Some(g) => self.collect(g),
            None => 0,
        }
    }
}

impl CollectorHeap for Heap {
    const SYNC: bool = false;
    type Callback = weakcb::Callback;
    type ListGuard<'a> = ();
    type Counts = Counts;
    type GcCallback = GcCallback;

    fn gc_callbacks(&self) -> Vec<GcCallback> {
        let callbacks = self.callbacks.borrow();
        callbacks.iter().map(|(_, cb)| cb.clone()).collect()
    }
    fn begin_collecting(&self, _: Duration) -> bool {
        !self.collecting.replace(true)
    }
    fn end_collecting(&self) {
        self.collecting.set(false);
        // A mode asked for during the collection (gc::set_mode).
        if let Some(mode) = self.spaces.requested.take() {
            self.switch_mode(mode);
        }
    }
    fn run_collection(&self, generation: usize) -> Option<(usize, usize)> {
        let done = match self.spaces.mode.get() {
            Mode::Generational => super::gc_collect_main(self, generation),
            Mode::Incremental => super::incremental::collect(self, generation),
        };
        if generation == 2 {
            // A full collection: the pool gives back the empty chunks
            // beyond what this epoch used at its peak (P3).
            self.pool.end_epoch();
        }
        Some(done.expect("gc: the per-thread heap's world always stops"))
    }

    fn gen_head(&self, generation: usize) -> Node {
        self.generations[generation].head()
    }
    fn permanent_head(&self) -> Node {
        self.permanent.head()
    }
    fn lock_lists(&self) {}
    fn stop_world(&self) -> bool {
        true
    }
    fn resume_world(&self) {}

    fn may_hold_legacy_finalizers(&self) -> bool {
        self.legacy_seen.get()
    }
    fn may_hold_pep442_finalizers(&self) -> bool {
        self.pep442_seen.get()
    }
    fn has_weak_callbacks(&self) -> bool {
        !self.weak_callbacks.borrow().is_empty()
    }
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<weakcb::Entry> {
        self.weak_callbacks
            .borrow_mut()
            .take(obj.counts.as_ptr() as usize)
    }
    fn take_weak_callback(&self, referent: usize, id: u64) -> Option<weakcb::Entry> {
        self.weak_callbacks.borrow_mut().unregister(referent, id)
    }
    fn bump_weak_epoch(&self, obj: ObjPtr) {
        heap().bump_epoch(obj);
    }
    fn has_weak_epochs(&self) -> bool {
        !self.weak_epochs.borrow().is_empty()
    }
    fn forget_weak_epoch(&self, obj: ObjPtr) {
        heap().forget_epoch(obj);
    }
    fn run_weak_callbacks(&self, obj: ObjPtr) {
        // The per-thread heap is leaked ('static) while objects exist.
        death::clear_weak_handles_and_run_callbacks(heap(), obj);
    }
    fn save_garbage(&self, objs: Vec<ObjPtr>) {
        // SAFETY: I5, I6: the collector passes live objects with intact values.
        let mut garbage = self.garbage.borrow_mut();
        // SAFETY: the collector passes live objects with intact values (I5).
        garbage.extend(objs.into_iter().map(|o| unsafe { OwnedRef::new_ref(o) }));
    }
    fn with_gen<R>(&self, f: impl FnOnce(&GenState) -> R) -> R {
        f(&self.gen)
    }
    fn note_deallocs(&self, n: usize) {
        let c = self.gen.count[0].get();
        self.gen.count[0].set(c.saturating_sub(n));
    }
    fn sweepable(&self) -> bool {
        self.all_swept()
    }
    #[inline(always)]
    fn sweep_numbered(&self, mut f: impl FnMut(Node, usize)) {
        debug_assert!(self.all_swept());
        self.pool.for_each_allocated_block(|block, index| {
            // SAFETY: L1: with H2 (the caller checked `sweepable`) an
            // allocated pool block starts with the header of a tracked
            // object, which stays allocated while `f` runs (it frees
            // nothing, T3).
            f(unsafe { Node::new(block.cast()) }, index)
        })
    }
    fn side_table(&self) -> Option<Vec<u32>> {
        debug_assert!(self.all_swept());
        let mode = self.side_mode.get();
        let wanted = match mode {
            SideMode::Auto => !self.side_last_moved.get(),
            SideMode::Always => true,
            SideMode::Never => false,
        };
        if !wanted {
            return None;
        }
        let len = self.pool.number_blocks()?;
        if len < SIDE_MIN_BLOCKS && mode == SideMode::Auto {
            // A heap this small stays in the caches: writing its headers
            // costs little, and the table would cost more.
            return None;
        }
        let mut side = self.side.take();
        if side.capacity() > 4 * len.max(1024) {
            // Much larger than this heap needs now: let it go.
            side = Vec::new();
        }
        side.clear();
        side.resize(len, 0);
        Some(side)
    }
    fn return_side_table(&self, side: Vec<u32>) {
        self.side.set(side);
    }
    fn note_full_collection(&self, members: usize, moves: usize, side: bool) {
        self.side_used.set(side);
        // An empty set says nothing about the next one.
        if members > 0 {
            self.side_last_moved.set(moves > members / 2);
        }
    }
}

/// The fewest allocated pool blocks for which a full collection takes a
/// side table (`collector::side`): about 4 MiB of 64-byte objects, the
/// size of a last-level cache.
const SIDE_MIN_BLOCKS: usize = 1 << 16;

impl SyncHeap {
    /// Collect `generation` with the `gc` callbacks, waiting at most
    /// `timeout` for the world to stop (each time it stops it). `None` if it
    /// could not run: another collection runs, this thread holds a guard
    /// (S6), or the world did not stop in time.
    pub(crate) fn collect(&self, generation: usize, timeout: Duration) -> Option<usize> {
        super::gc_collect_with_callback(self, generation, timeout)
    }

    /// Stop the world and gather the nurseries into generation 0 (for
    /// `gc::get_objects`); `false` if it could not (as a collection that
    /// cannot run: S6, W3, W4).
    pub(crate) fn gather_nurseries(&self, timeout: Duration) -> bool {
        if !self.begin_collecting(timeout) {
            return false;
        }
        let stopped = self.stop_world();
        if stopped {
            self.resume_world();
        }
        self.end_collecting();
        stopped
    }

    /// The automatic trigger: waits at most [`AUTO_STOP_TIMEOUT`] for the
    /// world to stop; if it does not, backs off (the next attempt comes a
    /// quarter threshold of allocations later).
    #[cold]
    #[inline(never)]
    pub(crate) fn collect_generations(&self) -> usize {
        let choice = {
            let w = self.lock_state();
            super::due(&w.gen, self.young_count())
        };
        let Some(generation) = choice else { return 0 };
        match self.collect(generation, AUTO_STOP_TIMEOUT) {
            Some(n) => {
                let w = self.lock_state();
                w.gen.auto_backoff.set(0);
                self.update_trigger(&w.gen);
                n
            }
            None => {
                let young = self.young_count();
                let w = self.lock_state();
                let g = &w.gen;
                let t0 = g.threshold[0].get();
                g.auto_backoff.set(young.saturating_sub(t0) + t0 / 4 + 1);
                self.update_trigger(g);
                0
            }
        }
    }
}

impl CollectorHeap for SyncHeap {
    const SYNC: bool = true;
    type Callback = SyncCallback;
    type ListGuard<'a> = MutexGuard<'a, WorldState>;
    type Counts = SyncCounts;
    type GcCallback = SyncGcCallback;

    fn gc_callbacks(&self) -> Vec<SyncGcCallback> {
        let callbacks = primitive::lock(&self.callbacks);
        callbacks.iter().map(|(_, cb)| cb.clone()).collect()
    }
    fn begin_collecting(&self, timeout: Duration) -> bool {
        if permits_held() > 0
            || self
                .collecting
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        self.stop_timeout.store(nanos, Ordering::Relaxed);
        true
    }
    fn end_collecting(&self) {
        self.collecting.store(false, Ordering::Release);
    }
    fn run_collection(&self, generation: usize) -> Option<(usize, usize)> {
        let done = super::gc_collect_main(self, generation);
        if generation == 2 {
            // A full collection: the pools of slots no thread holds take
            // over their remote frees and give back empty chunks (SP1).
            world::world().reclaim_free_slots();
        }
        done
    }

    fn gen_head(&self, generation: usize) -> Node {
        self.generations[generation].head()
    }
    fn permanent_head(&self) -> Node {
        self.permanent.head()
    }
    fn lock_lists(&self) -> MutexGuard<'_, WorldState> {
        self.lock_running()
    }
    fn stop_world(&self) -> bool {
        let timeout = Duration::from_nanos(self.stop_timeout.load(Ordering::Relaxed));
        if !world::world().stop(world::Deadline::after(timeout)) {
            return false;
        }
        let mut w = primitive::lock(&self.state);
        debug_assert!(!w.stopped, "gc: one collector at a time");
        w.stopped = true;
        // Gather the nurseries into generation 0 (N1, N4: the world is
        // stopped; under the list lock, so no `try_unwrap` reads a nursery
        // header meanwhile, N5).
        let gen0 = self.generations[0].head();
        let mut delta = 0;
        // SAFETY: N1, N4: the world is stopped.
        world::world().for_each_slot(|slot| delta += unsafe { slot.nursery.gather(gen0) });
        // (Not a trigger: the world is stopped for a collection already.)
        let _ = self.add_young(delta);
        drop(w);
        true
    }
    fn resume_world(&self) {
        let mut w = primitive::lock(&self.state);
        w.stopped = false;
        drop(w);
        self.state_changed.notify_all();
        world::world().resume();
    }

    fn may_hold_legacy_finalizers(&self) -> bool {
        true
    }
    fn may_hold_pep442_finalizers(&self) -> bool {
        true
    }
    fn has_weak_callbacks(&self) -> bool {
        !primitive::lock(&self.weak_callbacks).is_empty()
    }
    fn bump_weak_epoch(&self, obj: ObjPtr) {
        crate::sync::heap::heap().bump_epoch(obj);
    }
    fn has_weak_epochs(&self) -> bool {
        !primitive::lock(crate::sync::counts::weak_epochs()).is_empty()
    }
    fn forget_weak_epoch(&self, obj: ObjPtr) {
        crate::sync::heap::heap().forget_epoch(obj);
    }
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<Entry<SyncCallback>> {
        primitive::lock(&self.weak_callbacks).take(obj.counts.as_ptr() as usize)
    }
    fn take_weak_callback(&self, referent: usize, id: u64) -> Option<Entry<SyncCallback>> {
        primitive::lock(&self.weak_callbacks).unregister(referent, id)
    }
    fn run_weak_callbacks(&self, obj: ObjPtr) {
        death::clear_weak_handles_and_run_callbacks(crate::sync::heap::heap(), obj)
    }
    fn save_garbage(&self, objs: Vec<ObjPtr>) {
        let mut garbage = primitive::lock(&self.garbage);
        // SAFETY: the collector passes live objects it owns (I5).
        garbage.extend(objs.into_iter().map(|o| unsafe { OwnedRef::new_ref(o) }));
    }
    fn with_gen<R>(&self, f: impl FnOnce(&GenState) -> R) -> R {
        f(&self.lock_state().gen)
    }
    fn begin_collection(&self, generation: usize) {
        let w = self.lock_state();
        w.gen.begin_collection(generation);
        // The young count starts again at 0, so a back-off left by
        // automatic attempts that could not stop the world (measured from
        // the count they saw) ends here too; kept, it would hold automatic
        // collection off until the count passed it again.
        w.gen.auto_backoff.set(0);
        self.update_trigger(&w.gen);
        self.young.store(0, Ordering::Relaxed);
    }
    fn note_deallocs(&self, n: usize) {
        let n = isize::try_from(n).unwrap_or(isize::MAX);
        self.sub_young(n);
    }
}
