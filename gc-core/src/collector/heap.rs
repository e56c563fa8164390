//! What the collector needs from a heap: the [`CollectorHeap`] trait.

use crate::heap::gen::GenState;
use crate::heap::header::{Node, ObjPtr, RefCounter};
use crate::heap::weakcb::{Entry, GcCallbackCell};
use crate::types::DebugFlags;
use std::time::Duration;

/// What the collector needs from a heap (per-thread or sync).
///
/// # Contract
/// Implementations guarantee that while the world is stopped
/// ([`CollectorHeap::stop_world`] .. [`CollectorHeap::resume_world`]) no
/// other thread links, unlinks or reads list headers, changes a traced
/// edge, upgrades a weak handle or starts a refcount death; and that
/// [`CollectorHeap::lock_lists`] excludes list changes by other threads.
pub(crate) trait CollectorHeap {
    /// Whether this is the sync heap (its objects are visited through
    /// `sync::Gc` handles; the per-thread heap's through `Gc`).
    const SYNC: bool;
    /// A weak callback (`Box<dyn FnOnce()>`, `+ Send` for sync).
    type Callback: FnOnce();
    /// Proof that the lists are locked (`()` for the per-thread heap).
    type ListGuard<'a>
    where
        Self: 'a;

    fn gen_head(&self, generation: usize) -> Node;
    fn permanent_head(&self) -> Node;
    fn lock_lists(&self) -> Self::ListGuard<'_>;
    /// Stop the world; `false` if it could not be stopped in time (the sync
    /// heap's bounded stop: then nothing is stopped and the collector must
    /// not read the graph).
    fn stop_world(&self) -> bool;
    fn resume_world(&self);

    /// The objects' reference counts (plain cells, or atomics for sync).
    type Counts: RefCounter;

    /// The counts of `obj`.
    #[inline(always)]
    fn counts<'a>(obj: ObjPtr) -> &'a Self::Counts {
        // SAFETY: I1: the collector only passes live objects of this heap.
        unsafe { Self::Counts::of(obj.counts) }
    }
    /// The object's strong count.
    #[inline(always)]
    fn strong(obj: ObjPtr) -> u32 {
        Self::counts(obj).strong()
    }
    #[inline(always)]
    fn inc_strong(obj: ObjPtr) {
        Self::counts(obj).inc_strong()
    }
    /// Decrement; `true` if it reached zero.
    #[inline(always)]
    fn dec_strong(obj: ObjPtr) -> bool {
        Self::counts(obj).dec_strong()
    }
    #[inline(always)]
    fn has_flag(obj: ObjPtr, flag: u32) -> bool {
        Self::counts(obj).has_flag(flag)
    }
    /// Whether `Gc::get_mut` may have lent out the value (header I6).
    #[inline(always)]
    fn mut_exposed(obj: ObjPtr) -> bool {
        Self::counts(obj).mut_exposed()
    }
    #[inline(always)]
    fn set_flag(obj: ObjPtr, flag: u32) {
        Self::counts(obj).test_and_set_flag(flag);
    }
    #[inline(always)]
    fn clear_flag(obj: ObjPtr, flag: u32) {
        Self::counts(obj).test_and_clear_flag(flag);
    }
    /// Release one weak reference; `true` if none is left.
    #[inline(always)]
    fn dec_weak(obj: ObjPtr) -> bool {
        Self::counts(obj).dec_weak()
    }

    /// Whether any weak callback is registered at all.
    fn has_weak_callbacks(&self) -> bool;
    /// Whether an object of a type with a legacy finalizer may be on the
    /// heap (if not, `move_legacy_finalizers` and
    /// `move_legacy_finalizer_reachable` are skipped).
    fn may_hold_legacy_finalizers(&self) -> bool;
    /// Whether an object of a type with a PEP 442 finalizer may be on the
    /// heap (if not, and nothing else needs it, the lean path skips the
    /// weak-clearing walk).
    fn may_hold_pep442_finalizers(&self) -> bool;
    /// Take every weak callback registered for `obj`, oldest first.
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<Entry<Self::Callback>>;
    /// Take the callback `id` registered for the object at `referent` (its
    /// registry key), if it is still registered.
    fn take_weak_callback(&self, referent: usize, id: u64) -> Option<Entry<Self::Callback>>;
    /// Kill the weak handles of `obj` alive now (header I2): a new weak
    /// epoch if it has any. (`WEAK_CLEARED` is the caller's.)
    fn bump_weak_epoch(&self, obj: ObjPtr);
    /// Whether any object has a weak-epoch entry.
    fn has_weak_epochs(&self) -> bool;
    /// The value of `obj` is about to be dropped: drop its epoch entry.
    fn forget_weak_epoch(&self, obj: ObjPtr);
    /// Refcount-death style: clear, then run `obj`'s callbacks one by one.
    fn run_weak_callbacks(&self, obj: ObjPtr);
    /// Append new strong handles to `objs` to `gc.garbage`.
    fn save_garbage(&self, objs: Vec<ObjPtr>);

    /// Run `f` on the heap's generation bookkeeping (the sync heap's under
    /// its list lock).
    fn with_gen<R>(&self, f: impl FnOnce(&GenState) -> R) -> R;
    fn debug(&self) -> DebugFlags {
        self.with_gen(|g| g.debug.get())
    }
    /// Counter updates at the start of a collection of `generation`.
    fn begin_collection(&self, generation: usize) {
        self.with_gen(|g| g.begin_collection(generation))
    }
    fn add_long_lived_pending(&self, survivors: usize) {
        self.with_gen(|g| g.add_long_lived_pending(survivors))
    }
    fn set_long_lived(&self, total: usize) {
        self.with_gen(|g| g.set_long_lived(total))
    }
    /// `n` tracked objects were freed: `count[0] -= n`, never below zero.
    fn note_deallocs(&self, n: usize);
    fn record_stats(&self, generation: usize, collected: usize, uncollectable: usize) {
        self.with_gen(|g| g.record_stats(generation, collected, uncollectable))
    }

    /// A registered `gc` callback.
    type GcCallback: GcCallbackCell;
    /// Snapshot of the registered `gc` callbacks (they may change the
    /// registry while they run).
    fn gc_callbacks(&self) -> Vec<Self::GcCallback>;
    /// Mark a collection as running, to wait at most `timeout` for the
    /// world to stop; `false` if one runs already (no nesting) or this
    /// thread may not collect now (sync heap, S6).
    fn begin_collecting(&self, timeout: Duration) -> bool;
    /// The collection marked by [`CollectorHeap::begin_collecting`] ended.
    fn end_collecting(&self);
    /// The collection itself (`gc_collect_main`, or the incremental mode's);
    /// `None` if the world could not be stopped.
    fn run_collection(&self, generation: usize) -> Option<(usize, usize)>;

    /// Whether [`CollectorHeap::sweep`] visits every tracked object of the
    /// heap now (per-thread heap: H2).
    fn sweepable(&self) -> bool {
        false
    }
    /// Call `f` with the header of every tracked object of the heap that is
    /// allocated (linked or not, I4), in the pool's address order; only while
    /// [`CollectorHeap::sweepable`] holds, and `f` frees and allocates
    /// nothing (it traces: `Trace` rule T3).
    fn sweep(&self, mut f: impl FnMut(Node)) {
        self.sweep_numbered(|node, _| f(node))
    }
    /// [`CollectorHeap::sweep`], with each object's side-table index as
    /// the running side-table collection's numbering gave it (pool P5: the
    /// index `side_index` computes from the object's address).
    fn sweep_numbered(&self, f: impl FnMut(Node, usize)) {
        let _ = f;
        unreachable!("gc: this heap has no sweep")
    }
    /// A side table for a full collection (`collector::side`, SD1): the
    /// pool's allocated blocks numbered (`Pool::number_blocks`, P5) and a
    /// zeroed table of one entry per number; `None` if the heap has none
    /// (sync heap, or a pool too large to number) or does not want one
    /// now (its last full collection moved most of its set, or a test turned
    /// side tables off). Only while [`CollectorHeap::sweepable`] holds.
    fn side_table(&self) -> Option<Vec<u32>> {
        None
    }
    /// A full collection of a sweepable heap (`FirstPass::Swept`, either
    /// way) had `members` objects in its set and moved objects to the
    /// unreachable list `moves` times (the all-trash shortcut counts as a
    /// move of each): the guess that [`CollectorHeap::side_table`] makes
    /// for the next one. `side`: this one used a side table.
    fn note_full_collection(&self, members: usize, moves: usize, side: bool) {
        let _ = (members, moves, side);
    }
    /// Give back the table of [`CollectorHeap::side_table`] for reuse.
    fn return_side_table(&self, side: Vec<u32>) {
        drop(side);
    }
}
