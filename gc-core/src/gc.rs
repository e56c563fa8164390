//! The calling thread's collector: CPython's `gc` module.
//!
//! Every function here acts on the calling thread's heap (each thread has
//! its own; see [`crate::sync`] for the shared heap).
//!
//! # Examples
//!
//! ```
//! use pygc::{gc, Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Person { name: String, friend: RefCell<Option<Gc<Person>>> }
//!
//! let alice = Gc::new(Person { name: "Alice".into(), friend: RefCell::new(None) });
//! let bob = Gc::new(Person { name: "Bob".into(), friend: RefCell::new(None) });
//! *alice.friend.borrow_mut() = Some(bob.clone());
//! *bob.friend.borrow_mut() = Some(alice.clone());
//! drop((alice, bob));             // refcounts alone cannot free the pair
//! assert_eq!(gc::collect(), 2);   // the cycle collector can
//! ```
//!
//! # Modes
//!
//! Each thread's heap runs one of two collectors ([`set_mode`]):
//!
//! * [`Mode::Generational`] (the default): CPython 3.12's collector. Three
//!   generations; a full collection scans the whole heap at once, so its
//!   pause grows with the live heap.
//! * [`Mode::Incremental`]: PEP 848's generational-incremental collector
//!   (bounded pauses). New objects go to the *nursery*; young collections
//!   move it into the *aging spaces* and collect the oldest one, promoting
//!   survivors to the old generation; they alternate with *increments*,
//!   each a transitive closure taken within the old generation's *pending*
//!   space from its least recently scanned object, sized by a work budget
//!   that keeps pace with promotion. When the pending space is empty the
//!   sweep is complete and the *visited* space becomes pending. No automatic
//!   collection scans the whole heap, and every unreachable cycle is still
//!   collected (the collector's module docs give PEP 848's argument and the
//!   details). Everything a collection does — finalizers, resurrection,
//!   legacy finalizers, weak handles and callbacks, SAVEALL, frozen and
//!   untracked objects — works the same inside an increment.
//!
//! In the incremental mode the API means what PEP 848 says (counted in
//! objects, where the PEP counts kB):
//!
//! | | `Generational` | `Incremental` |
//! |---|---|---|
//! | `collect_generation(0)` | generation 0 | a young collection: the nursery becomes the newest aging space; the oldest is collected |
//! | `collect_generation(1)` | generations 0–1 | one increment of the old generation |
//! | `collect_generation(2)`, `collect()` | the whole heap | the whole heap |
//! | `threshold0` | gen-0 collection when `count0 > threshold0` | a collection every `threshold0` net allocations (the nursery is half full), young and increment alternating |
//! | `threshold1` | gen-1 every `threshold1` gen-0 collections | aging half-spaces of `threshold0` objects, rounded up to even: `ceil(threshold1 / 2)` aging spaces |
//! | `threshold2` | full collection every `threshold2` gen-1 ones (25 % rule) | ignored |
//! | `get_count()` | CPython's three counts | (net allocations since the last collection, young collections since the last increment, increments in the current sweep — 0 right after a sweep completes) |
//! | `get_stats()[g]`, callbacks' `generation` | generation `g` | 0: young collections, 1: increments, 2: full collections |
//! | `get_objects(Some(g))` | generation `g` | 0: the young generation (nursery and aging spaces), 1: none, 2: the old generation (both spaces), as CPython 3.14 |
//!
//! Switching (allowed between collections; called during one, it takes
//! effect when that collection ends) moves whole lists, never objects one
//! by one: to `Incremental`, generation 0 becomes the nursery, generation 1
//! the old generation's pending space (the first sweep starts with it) and
//! generation 2 its visited space; back to `Generational`, the nursery and
//! the aging spaces become generation 0 and the two old spaces generations
//! 1 and 2. Counts and the work budget restart from zero; statistics are
//! kept. `freeze()` moves every space to the permanent generation;
//! `unfreeze()` moves it back to generation 2 (an old space).
//!
//! The sync heap ([`crate::sync`]) keeps the generational collector: the
//! increment's closure tells pending from visited objects by a space tag in
//! each object's header, which only the per-thread heap keeps (header
//! invariant I7); the sync heap's objects carry no tags, and writing them
//! would add list-lock traffic to every promotion.

use crate::handle::any::GcAny;
use crate::heap::header::{Counts, Node, TAG_PERMANENT};
use crate::heap::owned::OwnedRef;
use crate::heap::{heap_or_panic, list, Heap};
use crate::trace::{TraceMode, Tracer};
use crate::types::NUM_GENERATIONS;

pub use crate::types::{CallbackId, CollectionInfo, DebugFlags, GenerationStats, Mode, Phase};

fn heap() -> &'static Heap {
    heap_or_panic()
}

/// Select the collector of the calling thread's heap. Switching keeps every
/// object and moves whole lists, never single objects (see the module docs,
/// "Modes", for where each generation's objects go); counts and the work
/// budget restart from zero, statistics are kept.
///
/// Called while a collection runs (from a finalizer, a weak callback, a
/// `Drop` impl of trash or a `gc` callback), the switch is deferred: it
/// happens when that collection ends, and [`get_mode`] reports the old mode
/// until then.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, Mode};
/// gc::set_mode(Mode::Incremental);
/// assert_eq!(gc::get_mode(), Mode::Incremental);
/// gc::set_mode(Mode::Generational);
/// ```
pub fn set_mode(mode: Mode) {
    let heap = heap();
    if heap.collecting.get() {
        heap.spaces.requested.set(Some(mode));
    } else {
        heap.switch_mode(mode);
    }
}

/// The collector mode in force on the calling thread's heap.
///
/// # Examples
///
/// ```
/// assert_eq!(pygc::gc::get_mode(), pygc::gc::Mode::Generational);
/// ```
pub fn get_mode() -> Mode {
    heap().spaces.mode.get()
}

fn check_generation(generation: usize) {
    if generation >= NUM_GENERATIONS {
        panic!("invalid generation: {generation} (generations are 0, 1 and 2)");
    }
}

/// Run a full collection; returns the number of unreachable objects found
/// (collected plus uncollectable), or 0 if a collection is already running
/// (called from a finalizer or callback).
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, Trace};
/// use std::cell::RefCell;
/// #[derive(Trace)]
/// struct L(RefCell<Vec<Gc<L>>>);
/// let l = Gc::new(L(RefCell::new(vec![])));
/// l.0.borrow_mut().push(l.clone()); // a list appended to itself
/// drop(l);
/// assert_eq!(gc::collect(), 1);
/// ```
pub fn collect() -> usize {
    heap().collect(NUM_GENERATIONS - 1)
}

/// Collect generation `generation` (and the younger ones). In the
/// incremental mode: 0 is a young collection, 1 one increment of the old
/// generation, 2 the whole heap (module docs, "Modes").
///
/// # Panics
///
/// If `generation > 2`: "invalid generation".
///
/// # Examples
///
/// ```
/// use pygc::gc;
/// assert_eq!(gc::collect_generation(0), 0);
/// ```
///
/// ```should_panic
/// pygc::gc::collect_generation(3); // panics: invalid generation
/// ```
pub fn collect_generation(generation: usize) -> usize {
    check_generation(generation);
    heap().collect(generation)
}

/// Turn automatic collection on.
///
/// # Examples
///
/// ```
/// pygc::gc::disable();
/// pygc::gc::enable();
/// assert!(pygc::gc::is_enabled());
/// ```
pub fn enable() {
    heap().gen.enabled.set(true)
}

/// Turn automatic collection off (`collect()` still works).
///
/// # Examples
///
/// ```
/// pygc::gc::disable();
/// assert!(!pygc::gc::is_enabled());
/// ```
pub fn disable() {
    heap().gen.enabled.set(false)
}

/// Whether automatic collection is on.
///
/// # Examples
///
/// ```
/// assert!(pygc::gc::is_enabled());
/// ```
pub fn is_enabled() -> bool {
    heap().gen.enabled.get()
}

/// The collection thresholds, `(700, 10, 10)` by default (their meaning in
/// the incremental mode: module docs, "Modes").
///
/// # Examples
///
/// ```
/// assert_eq!(pygc::gc::get_threshold(), (700, 10, 10));
/// ```
pub fn get_threshold() -> (usize, usize, usize) {
    let [t0, t1, t2] = heap().gen.thresholds();
    (t0, t1, t2)
}

/// Set the collection thresholds. `t0 == 0` turns automatic collection off.
///
/// # Examples
///
/// ```
/// use pygc::gc;
/// gc::set_threshold(100, 5, 5);
/// assert_eq!(gc::get_threshold(), (100, 5, 5));
/// # gc::set_threshold(700, 10, 10);
/// ```
pub fn set_threshold(t0: usize, t1: usize, t2: usize) {
    heap().gen.set_thresholds([t0, t1, t2]);
}

/// The current collection counts: tracked allocations minus deallocations
/// since the last gen-0 collection, gen-0 collections since the last gen-1
/// collection, gen-1 collections since the last gen-2 collection. (In the
/// incremental mode: net allocations since the last collection, young
/// collections since the last increment, increments in the current sweep.)
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, Trace};
/// #[derive(Trace)]
/// struct T(Option<Gc<T>>);
/// gc::collect();
/// let t = Gc::new(T(None));
/// assert_eq!(gc::get_count().0, 1);
/// # drop(t);
/// ```
pub fn get_count() -> (usize, usize, usize) {
    let [c0, c1, c2] = heap().gen.counts();
    (c0, c1, c2)
}

/// Collection statistics per generation, since the thread started (in the
/// incremental mode: young collections, increments, full collections).
///
/// # Examples
///
/// ```
/// use pygc::gc;
/// let before = gc::get_stats()[2].collections;
/// gc::collect();
/// assert_eq!(gc::get_stats()[2].collections, before + 1);
/// ```
pub fn get_stats() -> [GenerationStats; 3] {
    heap().gen.stats()
}

/// Set the debugging flags.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, DebugFlags};
/// gc::set_debug(DebugFlags::SAVEALL);
/// assert_eq!(gc::get_debug(), DebugFlags::SAVEALL);
/// gc::set_debug(DebugFlags::empty());
/// ```
pub fn set_debug(flags: DebugFlags) {
    heap().gen.debug.set(flags)
}

/// The debugging flags.
///
/// # Examples
///
/// ```
/// assert!(pygc::gc::get_debug().is_empty());
/// ```
pub fn get_debug() -> DebugFlags {
    heap().gen.debug.get()
}

/// A snapshot of `gc.garbage`: uncollectable objects (those with a legacy
/// finalizer found in cyclic trash) and, under [`DebugFlags::SAVEALL`],
/// every unreachable object. The list keeps them alive.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, DebugFlags};
/// use pygc::{Gc, Trace};
/// use std::cell::RefCell;
/// #[derive(Trace)]
/// struct N(RefCell<Option<Gc<N>>>);
/// gc::set_debug(DebugFlags::SAVEALL);
/// let n = Gc::new(N(RefCell::new(None)));
/// *n.0.borrow_mut() = Some(n.clone());
/// drop(n);
/// assert_eq!(gc::collect(), 1);
/// assert_eq!(gc::garbage().len(), 1);
/// gc::set_debug(DebugFlags::empty());
/// let saved = gc::take_garbage();
/// saved[0].downcast_ref::<N>().unwrap().0.borrow_mut().take(); // break it
/// ```
pub fn garbage() -> Vec<GcAny> {
    let garbage = heap().garbage.borrow().clone();
    into_handles(garbage)
}

/// Empty `gc.garbage`, returning what it held.
///
/// # Examples
///
/// ```
/// assert!(pygc::gc::take_garbage().is_empty());
/// ```
pub fn take_garbage() -> Vec<GcAny> {
    let garbage = std::mem::take(&mut *heap().garbage.borrow_mut());
    into_handles(garbage)
}

/// The heap's own references, as handles.
fn into_handles(refs: Vec<OwnedRef<Counts>>) -> Vec<GcAny> {
    // SAFETY: I1: each reference moves into its handle.
    let handle = |r: OwnedRef<Counts>| unsafe { GcAny::from_obj(r.into_obj()) };
    refs.into_iter().map(handle).collect()
}

/// Register a callback called with [`Phase::Start`] before and
/// [`Phase::Stop`] after every collection (`gc.callbacks`). A panicking
/// callback is reported on stderr; the collection goes on.
///
/// # Examples
///
/// ```
/// use pygc::gc::{self, Phase};
/// use std::{cell::RefCell, rc::Rc};
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let sink = log.clone();
/// let id = gc::add_callback(move |phase, info| sink.borrow_mut().push((phase, info.generation)));
/// gc::collect();
/// assert_eq!(*log.borrow(), [(Phase::Start, 2), (Phase::Stop, 2)]);
/// assert!(gc::remove_callback(id));
/// ```
pub fn add_callback(f: impl FnMut(Phase, &CollectionInfo) + 'static) -> CallbackId {
    let heap = heap();
    let id = heap.next_callback_id.get();
    heap.next_callback_id.set(id + 1);
    heap.callbacks.borrow_mut().push((
        CallbackId::new(id),
        std::rc::Rc::new(std::cell::RefCell::new(f)),
    ));
    CallbackId::new(id)
}

/// Unregister a callback; `false` if it was not registered.
///
/// # Examples
///
/// ```
/// let id = pygc::gc::add_callback(|_, _| {});
/// assert!(pygc::gc::remove_callback(id));
/// assert!(!pygc::gc::remove_callback(id));
/// ```
pub fn remove_callback(id: CallbackId) -> bool {
    let removed = {
        let mut cbs = heap().callbacks.borrow_mut();
        cbs.iter()
            .position(|(i, _)| *i == id)
            .map(|at| cbs.remove(at))
    };
    removed.is_some()
}

fn handles_of(head: Node, out: &mut Vec<GcAny>) {
    for node in list::iter(head) {
        let obj = node.obj();
        // SAFETY: I4, I1: objects on generation lists are live, with strong > 0.
        if unsafe { obj.counts() }.mut_exposed() {
            continue; // a `&mut` from `Gc::get_mut` may be live (header I6)
        }
        // SAFETY: I4, I1: as above.
        out.push(unsafe { GcAny::new_ref(obj) });
    }
}

/// Every object the collector tracks (generations 0–2), or those of one
/// generation (in the incremental mode: 0 the young generation, 1 none, 2
/// the old generation).
///
/// # Panics
///
/// If `generation` is `Some(g)` with `g > 2`.
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, GcAny, Trace};
/// #[derive(Trace)]
/// struct T(Option<Gc<T>>);
/// let t = Gc::new(T(None));
/// assert!(gc::get_objects(Some(0)).iter().any(|o| GcAny::ptr_eq(o, &Gc::to_any(&t))));
/// ```
pub fn get_objects(generation: Option<usize>) -> Vec<GcAny> {
    let heap = heap();
    let mut out = Vec::new();
    let lists = match generation {
        Some(g) => {
            if g >= NUM_GENERATIONS {
                panic!("generation parameter must be less than the number of available generations (3), got {g}");
            }
            match heap.spaces.mode.get() {
                Mode::Generational => vec![heap.gen_head(g)],
                // PEP 848 / CPython 3.14: 0 is the young generation (the
                // nursery and the aging spaces), 1 is empty, 2 the old
                // generation (both spaces).
                Mode::Incremental => match g {
                    0 => {
                        let mut l = vec![heap.gen_head(0)];
                        l.extend(heap.spaces.aging_heads());
                        l
                    }
                    1 => vec![],
                    _ => heap.old_lists().to_vec(),
                },
            }
        }
        None => heap.tracked_lists(),
    };
    for head in lists {
        handles_of(head, &mut out);
    }
    out
}

/// The tracked objects (generations 0–2) that hold a strong handle to
/// `target`.
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, GcAny, Trace};
/// #[derive(Trace)]
/// struct Holder(Gc<i32>);
/// let x = Gc::new(1);
/// let h = Gc::new(Holder(x.clone()));
/// let referrers = gc::get_referrers(&Gc::to_any(&x));
/// assert_eq!(referrers.len(), 1);
/// assert!(GcAny::ptr_eq(&referrers[0], &Gc::to_any(&h)));
/// ```
pub fn get_referrers(target: &GcAny) -> Vec<GcAny> {
    let heap = heap();
    let target_ptr = target.obj.counts.as_ptr() as *const ();
    let mut out = Vec::new();
    let mut tracer = Tracer::new(TraceMode::RefersTo {
        target: target_ptr,
        found: false,
    });
    for head in heap.tracked_lists() {
        for node in list::iter(head) {
            let obj = node.obj();
            crate::collector::trace_object::<crate::heap::Heap>(node, &mut tracer);
            if let Some(TraceMode::RefersTo { found, .. }) = tracer.mode_mut() {
                if std::mem::take(found) {
                    // SAFETY: I1: live, strong > 0.
                    out.push(unsafe { GcAny::new_ref(obj) });
                }
            }
        }
    }
    out
}

/// The objects `object` holds strong handles to (what its `trace` reports).
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, Trace};
/// #[derive(Trace)]
/// struct Pair(Gc<i32>, Gc<i32>);
/// let p = Gc::new(Pair(Gc::new(1), Gc::new(2)));
/// assert_eq!(gc::get_referents(&Gc::to_any(&p)).len(), 2);
/// ```
pub fn get_referents(object: &GcAny) -> Vec<GcAny> {
    let mut out = Vec::new();
    // SAFETY: I1: `object` is a strong handle.
    if unsafe { object.obj.value_dropped_by_collector() } {
        return out; // header I5
    }
    let mut edges = Vec::new();
    let mut tracer = Tracer::new(TraceMode::Edges { out: &mut edges });
    // SAFETY: I1, I5: `object` keeps its value alive (a zombie's is gone: above).
    unsafe { (object.obj.vtable.trace)(object.obj.counts, &mut tracer) };
    drop(tracer);
    // SAFETY: I1: the value (kept by `object`) still owns a handle to each;
    // no user code ran since the trace.
    out.extend(edges.into_iter().map(|o| unsafe { GcAny::new_ref(o) }));
    out
}

/// Move every tracked object to the permanent generation, which
/// collections ignore (`gc.freeze()`).
///
/// # Examples
///
/// ```
/// use pygc::{gc, Gc, Trace};
/// #[derive(Trace)]
/// struct T(Option<Gc<T>>);
/// let t = Gc::new(T(None));
/// gc::freeze();
/// assert!(gc::get_freeze_count() >= 1);
/// gc::unfreeze();
/// assert_eq!(gc::get_freeze_count(), 0);
/// # drop(t);
/// ```
pub fn freeze() {
    let heap = heap();
    for head in heap.tracked_lists() {
        for node in list::iter(head) {
            node.set_tag(TAG_PERMANENT); // I7
        }
        list::merge(head, heap.permanent.head());
    }
    heap.gen.count[0].set(0);
}

/// Move the permanent generation back into the oldest generation.
///
/// # Examples
///
/// ```
/// pygc::gc::unfreeze();
/// assert_eq!(pygc::gc::get_freeze_count(), 0);
/// ```
pub fn unfreeze() {
    let heap = heap();
    for node in list::iter(heap.permanent.head()) {
        node.set_tag(NUM_GENERATIONS - 1); // I7
    }
    list::merge(heap.permanent.head(), heap.gen_head(NUM_GENERATIONS - 1));
}

/// The number of objects in the permanent generation.
///
/// # Examples
///
/// ```
/// assert_eq!(pygc::gc::get_freeze_count(), 0);
/// ```
pub fn get_freeze_count() -> usize {
    list::len(heap().permanent.head())
}
