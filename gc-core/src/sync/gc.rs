//! The sync heap's collector: the `gc` API for [`sync::Gc`](super::Gc).
//!
//! Collections run on the calling thread and stop the world only while
//! they read the graph (see the `sync` module docs). A thread that holds a
//! `GcMutex`/`GcRwLock` guard cannot collect (`collect` returns 0 there).
//!
//! # Examples
//!
//! ```
//! use pygc::sync::{self, GcMutex};
//! use pygc::Trace;
//!
//! #[derive(Trace)]
//! struct Peer { other: GcMutex<Option<sync::Gc<Peer>>> }
//!
//! let a = sync::Gc::new(Peer { other: GcMutex::new(None) });
//! let b = sync::Gc::new(Peer { other: GcMutex::new(Some(a.clone())) });
//! *a.other.lock() = Some(b.clone());
//! let weak = sync::Gc::downgrade(&a);
//! drop((a, b));
//! sync::gc::collect();
//! assert!(weak.upgrade().is_none());
//! ```

use super::counts::SyncCounts;
use super::heap::{heap, COLLECT_TIMEOUT};
use super::GcAny;
use crate::heap::header::RefCounter;
use crate::heap::list;
use crate::heap::owned::OwnedRef;
use crate::primitive::{self, Mutex, Ordering};
use crate::types::{CallbackId, CollectionInfo, GenerationStats, Phase, NUM_GENERATIONS};
use std::sync::Arc;
use std::time::Duration;

/// Full collection of the sync heap; the number of unreachable objects
/// found. Returns 0 also when no collection ran: another collection is
/// running, this thread holds a `GcMutex`/`GcRwLock` guard, or the world
/// did not stop within one second (some thread kept a guard that long — for
/// example while it waits for a lock this thread holds; see the module
/// docs). Use [`try_collect`] to tell these apart.
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::collect();
/// ```
pub fn collect() -> usize {
    heap()
        .collect(NUM_GENERATIONS - 1, COLLECT_TIMEOUT)
        .unwrap_or(0)
}

/// Full collection that waits at most `timeout` for the world to stop:
/// `Some(found)` if it ran, `None` if it could not (the world did not stop
/// in time, another collection is running, or this thread holds a guard);
/// then nothing was collected.
///
/// If the world stops for the first phases but not again after finalizers
/// ran (within `timeout` too), the trash whose finalizers ran is kept as if
/// resurrected and freed by a later collection; it is not counted.
///
/// # Examples
///
/// ```
/// use pygc::sync::{self, GcMutex};
/// use std::time::Duration;
///
/// let m = sync::Gc::new(GcMutex::new(0));
/// let guard = m.lock();
/// // This thread holds a guard: it cannot stop the world.
/// assert_eq!(sync::gc::try_collect(Duration::from_millis(10)), None);
/// drop(guard);
/// ```
pub fn try_collect(timeout: Duration) -> Option<usize> {
    heap().collect(NUM_GENERATIONS - 1, timeout)
}

/// Collect one generation (returns 0 when no collection ran, as
/// [`collect`]).
///
/// # Panics
///
/// If `generation > 2` ("invalid generation").
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::collect_generation(0);
/// ```
pub fn collect_generation(generation: usize) -> usize {
    if generation >= NUM_GENERATIONS {
        panic!("invalid generation: {generation} (generations are 0, 1 and 2)");
    }
    heap().collect(generation, COLLECT_TIMEOUT).unwrap_or(0)
}

/// Turn automatic collection on.
///
/// # Examples
///
/// ```
/// pygc::sync::gc::enable();
/// assert!(pygc::sync::gc::is_enabled());
/// ```
pub fn enable() {
    let heap = heap();
    let w = heap.lock_state();
    w.gen.enabled.set(true);
    heap.update_trigger(&w.gen);
}

/// Turn automatic collection off.
///
/// # Examples
///
/// ```
/// pygc::sync::gc::disable();
/// pygc::sync::gc::enable();
/// ```
pub fn disable() {
    let heap = heap();
    let w = heap.lock_state();
    w.gen.enabled.set(false);
    heap.update_trigger(&w.gen);
}

/// Whether automatic collection is on.
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::is_enabled();
/// ```
pub fn is_enabled() -> bool {
    heap().lock_state().gen.enabled.get()
}

/// The current counts (see [`crate::gc::get_count`]). The young count
/// (the first) is approximate while threads allocate: each thread adds its
/// allocations and deaths in batches of 32.
///
/// # Examples
///
/// ```
/// let (_c0, _c1, _c2) = pygc::sync::gc::get_count();
/// ```
pub fn get_count() -> (usize, usize, usize) {
    let heap = heap();
    let c = heap.lock_state().gen.counts();
    (heap.young_count(), c[1], c[2])
}

/// The thresholds, `(700, 10, 10)` by default.
///
/// # Examples
///
/// ```
/// let (t0, t1, t2) = pygc::sync::gc::get_threshold();
/// pygc::sync::gc::set_threshold(t0, t1, 7);
/// assert_eq!(pygc::sync::gc::get_threshold().2, 7);
/// pygc::sync::gc::set_threshold(t0, t1, t2);
/// ```
pub fn get_threshold() -> (usize, usize, usize) {
    let t = heap().lock_state().gen.thresholds();
    (t[0], t[1], t[2])
}

/// Set the thresholds; `t0 == 0` turns automatic collection off.
///
/// # Examples
///
/// ```
/// let old = pygc::sync::gc::get_threshold();
/// pygc::sync::gc::set_threshold(old.0, old.1, old.2);
/// ```
pub fn set_threshold(t0: usize, t1: usize, t2: usize) {
    let heap = heap();
    let w = heap.lock_state();
    w.gen.set_thresholds([t0, t1, t2]);
    heap.update_trigger(&w.gen);
}

/// Statistics per generation.
///
/// # Examples
///
/// ```
/// let before = pygc::sync::gc::get_stats()[2].collections;
/// pygc::sync::gc::collect();
/// // Other doctest threads may collect too: at least this one counted.
/// assert!(pygc::sync::gc::get_stats()[2].collections > before);
/// ```
pub fn get_stats() -> [GenerationStats; 3] {
    heap().lock_state().gen.stats()
}

/// Register a `gc` callback (`Send`; it runs on the collecting thread).
///
/// # Examples
///
/// ```
/// let id = pygc::sync::gc::add_callback(|_phase, _info| {});
/// assert!(pygc::sync::gc::remove_callback(id));
/// ```
pub fn add_callback(f: impl FnMut(Phase, &CollectionInfo) + Send + 'static) -> CallbackId {
    let heap = heap();
    let id = CallbackId::new(heap.next_callback_id.fetch_add(1, Ordering::Relaxed));
    let cb: super::heap::SyncGcCallback = Arc::new(Mutex::new(f));
    primitive::lock(&heap.callbacks).push((id, cb));
    id
}

/// Unregister a callback; `false` if unknown.
///
/// # Examples
///
/// ```
/// let id = pygc::sync::gc::add_callback(|_, _| {});
/// assert!(pygc::sync::gc::remove_callback(id));
/// assert!(!pygc::sync::gc::remove_callback(id));
/// ```
pub fn remove_callback(id: CallbackId) -> bool {
    let removed = {
        let mut cbs = primitive::lock(&heap().callbacks);
        cbs.iter()
            .position(|(i, _)| *i == id)
            .map(|at| cbs.remove(at))
    };
    removed.is_some()
}

/// A snapshot of the sync heap's `gc.garbage`.
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::garbage();
/// ```
pub fn garbage() -> Vec<GcAny> {
    let garbage = primitive::lock(&heap().garbage).clone();
    into_handles(garbage)
}

/// Empty the sync heap's `gc.garbage`.
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::take_garbage();
/// ```
pub fn take_garbage() -> Vec<GcAny> {
    let garbage = std::mem::take(&mut *primitive::lock(&heap().garbage));
    into_handles(garbage)
}

/// The heap's own references, as handles.
fn into_handles(refs: Vec<OwnedRef<SyncCounts>>) -> Vec<GcAny> {
    // SAFETY: I1: each reference moves into its handle.
    let handle = |r: OwnedRef<SyncCounts>| unsafe { GcAny::from_obj(r.into_obj()) };
    refs.into_iter().map(handle).collect()
}

/// Strong handles to the tracked objects of the sync heap (all
/// generations, or one).
///
/// Objects allocated since the last collection sit in their threads'
/// nurseries; for generation 0 (or all) this stops the world briefly to
/// gather them onto the generation-0 list, waiting at most a second. When
/// it cannot (this thread holds a guard, another collection runs, or the
/// world does not stop in time) the result lacks those young objects.
///
/// # Panics
///
/// If `generation` is `Some(g)` with `g > 2`.
///
/// # Examples
///
/// ```
/// let _ = pygc::sync::gc::get_objects(None);
/// ```
pub fn get_objects(generation: Option<usize>) -> Vec<GcAny> {
    if let Some(g) = generation {
        assert!(g < NUM_GENERATIONS, "invalid generation: {g}");
    }
    objects(generation)
}

/// All objects of the lists (for tests/tools), as new strong handles.
fn objects(generation: Option<usize>) -> Vec<GcAny> {
    let heap = heap();
    if generation.unwrap_or(0) == 0 {
        // The young objects are in the nurseries until a stop gathers them.
        heap.gather_nurseries(super::heap::COLLECT_TIMEOUT);
    }
    let _w = heap.lock_running();
    let mut out = Vec::new();
    let gens: Vec<usize> = match generation {
        Some(g) => vec![g],
        None => (0..NUM_GENERATIONS).collect(),
    };
    for g in gens {
        for node in list::iter(heap.generations[g].head()) {
            let obj = node.obj();
            // SAFETY: linked sync objects are live (S4 under the lock);
            // a zero count is a pending death (S3): skip it.
            let counts = unsafe { SyncCounts::of(obj.counts) };
            if counts.try_inc_strong_from_nonzero() {
                // SAFETY: I1: we just added the reference the handle owns.
                out.push(unsafe { GcAny::from_obj(obj) });
            }
        }
    }
    out
}
