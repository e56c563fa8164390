//! What the collector needs from a heap: the [`CollectorHeap`] trait.

use crate::heap::header::{Header, ObjPtr};
use crate::heap::weakcb::Entry;
use crate::types::DebugFlags;
use std::ptr::NonNull;

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

    fn gen_head(&self, generation: usize) -> NonNull<Header>;
    fn permanent_head(&self) -> NonNull<Header>;
    fn lock_lists(&self) -> Self::ListGuard<'_>;
    /// Stop the world; `false` if it could not be stopped in time (the sync
    /// heap's bounded stop: then nothing is stopped and the collector must
    /// not read the graph).
    fn stop_world(&self) -> bool;
    fn resume_world(&self);

    /// The object's strong count.
    fn strong(obj: ObjPtr) -> u32;
    fn inc_strong(obj: ObjPtr);
    /// Decrement; `true` if it reached zero.
    fn dec_strong(obj: ObjPtr) -> bool;
    fn has_flag(obj: ObjPtr, flag: u32) -> bool;
    /// Whether `Gc::get_mut` may have lent out the value (header I6);
    /// always false for the sync heap.
    fn mut_exposed(obj: ObjPtr) -> bool;
    fn set_flag(obj: ObjPtr, flag: u32);
    fn clear_flag(obj: ObjPtr, flag: u32);
    /// Release one weak reference; `true` if none is left.
    fn dec_weak(obj: ObjPtr) -> bool;

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
    /// Free trash whose value `delete_garbage` dropped and whose strong
    /// count is 0 (header I5). Only called when `!SYNC`.
    fn free_dropped_trash(&self, node: NonNull<Header>);
    /// Take every weak callback registered for `obj`, oldest first.
    fn take_weak_callbacks(&self, obj: ObjPtr) -> Vec<Entry<Self::Callback>>;
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

    fn debug(&self) -> DebugFlags;
    /// Counter updates at the start of a collection of `generation`.
    fn begin_collection(&self, generation: usize);
    fn add_long_lived_pending(&self, survivors: usize);
    fn set_long_lived(&self, total: usize);
    /// `n` tracked objects were freed: `count[0] -= n`, never below zero.
    fn note_deallocs(&self, n: usize);
    fn record_stats(&self, generation: usize, collected: usize, uncollectable: usize);
}
