//! Dead graphs on the sync heap: what a `Drop` of trash may do while the
//! collector deletes it, as `dead_graphs.rs` checks for the per-thread heap.
//! A weak callback registered on trash during the delete runs once, when
//! its object is freed (by the collector's free walk, or by the last handle
//! of a zombie), as CPython's `subtype_dealloc` runs a weakref's callback
//! made after `handle_weakrefs`; nothing registered on a freed object is
//! left behind for a later object at the same address.
#![cfg(not(loom))]

use pygc::sync::{self, GcMutex};
use pygc::Trace;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// The tests count collections and share the globals below: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Take the serial lock and start from empty globals and no leftover
/// trash (a failed test may leave either).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    RAN.lock().unwrap_or_else(|e| e.into_inner()).clear();
    WEAK.lock().unwrap_or_else(|e| e.into_inner()).clear();
    STASH.lock().unwrap_or_else(|e| e.into_inner()).clear();
    collect_all();
    guard
}

/// Callbacks that ran, by name.
static RAN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
/// Weak handles (with callbacks) made during the delete.
static WEAK: Mutex<Vec<sync::Weak<Holder>>> = Mutex::new(Vec::new());
/// Handles to trash stashed by a `Drop` (a contract breach).
static STASH: Mutex<Vec<sync::Gc<Holder>>> = Mutex::new(Vec::new());

fn take_ran() -> Vec<&'static str> {
    let mut ran = std::mem::take(&mut *RAN.lock().unwrap());
    ran.sort_unstable();
    ran
}

/// What an [`Edge`]'s `Drop` does before its handle goes.
#[derive(Clone, Copy, PartialEq)]
enum Act {
    Nothing,
    /// Register a weak callback on the target (trash whose value may be
    /// intact or dropped): allowed, it makes no strong handle.
    Register(&'static str),
    /// Stash a clone of the handle in a global: breaks `Trace` rule 5, the
    /// target becomes a zombie (header I5, HAZARDS 11).
    Stash,
    /// Both: register a callback, then stash the handle.
    RegisterAndStash(&'static str),
    /// Register a callback that, when it runs, also drops every stashed
    /// handle.
    RegisterReleasing(&'static str),
}

/// A traced handle with a `Drop` that acts before the handle is released.
struct Edge {
    to: sync::Gc<Holder>,
    act: Act,
}

// SAFETY: T1: reports the one handle it owns. Its `Drop` makes no strong
// handle except with `Act::Stash`/`RegisterAndStash`, the breach a test
// pins down.
unsafe impl Trace for Edge {
    fn trace(&self, tracer: &mut pygc::Tracer<'_>) {
        self.to.trace(tracer);
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let register = |name: &'static str, release: bool| {
            let w = sync::Gc::downgrade_with_callback(&self.to, move || {
                RAN.lock().unwrap().push(name);
                if release {
                    let stash = std::mem::take(&mut *STASH.lock().unwrap());
                    drop(stash);
                }
            });
            WEAK.lock().unwrap().push(w);
        };
        match self.act {
            Act::Nothing => {}
            Act::Register(name) => register(name, false),
            Act::RegisterReleasing(name) => register(name, true),
            Act::Stash => STASH.lock().unwrap().push(self.to.clone()),
            Act::RegisterAndStash(name) => {
                register(name, false);
                STASH.lock().unwrap().push(self.to.clone());
            }
        }
    }
}

/// Counts the drops of the value it is part of.
struct DropProbe(Arc<AtomicUsize>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[derive(Trace)]
struct Holder {
    edges: GcMutex<Vec<Edge>>,
    #[trace(skip)]
    _probe: DropProbe,
}

fn holder(dropped: &Arc<AtomicUsize>) -> sync::Gc<Holder> {
    sync::Gc::new(Holder {
        edges: GcMutex::new(Vec::new()),
        _probe: DropProbe(dropped.clone()),
    })
}

fn edge(from: &sync::Gc<Holder>, to: &sync::Gc<Holder>, act: Act) {
    from.edges.lock().push(Edge {
        to: to.clone(),
        act,
    });
}

/// A ring `x → y`, `x → z` (with `x_to_z`'s act), `y → z` (with `y_to_z`'s
/// act), `z → x`, with `x → y`'s act; allocated `x, z, y`.
fn holder_ring(
    dropped: &Arc<AtomicUsize>,
    x_to_y: Act,
    x_to_z: Act,
    y_to_z: Act,
) -> [sync::Gc<Holder>; 3] {
    let x = holder(dropped);
    let z = holder(dropped);
    let y = holder(dropped);
    edge(&x, &y, x_to_y);
    edge(&x, &z, x_to_z);
    edge(&y, &z, y_to_z);
    edge(&z, &x, Act::Nothing);
    [x, y, z]
}

/// Collect until a collection finds nothing (other tests' leftovers and
/// this one's: the count this test asserts is of the first).
fn collect_all() {
    while sync::gc::collect() != 0 {}
}

#[test]
fn weak_callbacks_registered_by_a_drop_during_the_delete_run_once() {
    let _s = serial();
    let dropped = Arc::new(AtomicUsize::new(0));
    let nodes = holder_ring(
        &dropped,
        Act::Register("y"),
        Act::Register("z"),
        Act::Nothing,
    );
    drop(nodes);
    assert_eq!(sync::gc::collect(), 3);
    assert_eq!(dropped.load(SeqCst), 3);
    assert_eq!(take_ran(), ["y", "z"]);
    let weak = std::mem::take(&mut *WEAK.lock().unwrap());
    assert_eq!(weak.len(), 2);
    assert!(weak.iter().all(|w| w.upgrade().is_none()));
    drop(weak);
    // Nothing is left registered on the freed objects' addresses: objects
    // made now (the pool may hand the same blocks out again) and freed by
    // refcount run no stale callback.
    let fresh: Vec<_> = (0..64).map(|_| holder(&dropped)).collect();
    drop(fresh);
    assert_eq!(take_ran(), Vec::<&str>::new());
}

#[test]
fn a_callback_registered_on_a_zombie_runs_when_its_last_handle_goes() {
    // `y`'s edge to `z` registers a callback on `z` and stashes a strong
    // handle to it as `y` is dropped: `z` (dropped already) becomes a
    // zombie, reported, and its last handle frees it — running the
    // callback then, once.
    let _s = serial();
    let dropped = Arc::new(AtomicUsize::new(0));
    let nodes = holder_ring(
        &dropped,
        Act::Nothing,
        Act::Nothing,
        Act::RegisterAndStash("z"),
    );
    drop(nodes);
    assert_eq!(sync::gc::collect(), 3);
    assert_eq!(dropped.load(SeqCst), 3);
    assert_eq!(take_ran(), Vec::<&str>::new());
    let stash = std::mem::take(&mut *STASH.lock().unwrap());
    assert_eq!(stash.len(), 1);
    drop(stash);
    assert_eq!(take_ran(), ["z"]);
    assert_eq!(dropped.load(SeqCst), 3, "a zombie is never dropped twice");
    let weak = std::mem::take(&mut *WEAK.lock().unwrap());
    assert!(weak.iter().all(|w| w.upgrade().is_none()));
}

#[test]
fn a_stashed_handle_to_trash_leaves_a_zombie_freed_once() {
    let _s = serial();
    let dropped = Arc::new(AtomicUsize::new(0));
    let nodes = holder_ring(&dropped, Act::Nothing, Act::Nothing, Act::Stash);
    let weak_z = sync::Gc::downgrade(&nodes[2]);
    drop(nodes);
    assert_eq!(sync::gc::collect(), 3);
    assert_eq!(dropped.load(SeqCst), 3);
    assert!(weak_z.upgrade().is_none());
    let stash = std::mem::take(&mut *STASH.lock().unwrap());
    assert_eq!(sync::Gc::strong_count(&stash[0]), 1);
    // Later collections see the zombie as outside their set.
    assert_eq!(sync::gc::collect(), 0);
    drop(stash);
    assert_eq!(weak_z.strong_count(), 0);
    drop(weak_z);
    assert_eq!(dropped.load(SeqCst), 3);
    assert_eq!(take_ran(), Vec::<&str>::new());
}

#[test]
fn a_callback_that_releases_a_stashed_handle_to_trash_frees_it() {
    // Allocated `x, z, y`. `x`'s drop registers on `y` a callback that drops
    // the stash; `y`'s drop registers a callback on `z` and stashes `z`. The
    // free walk keeps `z` (a handle is left), frees `y`, whose callback
    // releases `z`'s last handle: `z` is freed too (its callback runs), not
    // left a zombie with no handle to free it.
    let _s = serial();
    let dropped = Arc::new(AtomicUsize::new(0));
    let nodes = holder_ring(
        &dropped,
        Act::RegisterReleasing("y"),
        Act::Nothing,
        Act::RegisterAndStash("z"),
    );
    drop(nodes);
    assert_eq!(sync::gc::collect(), 3);
    assert_eq!(dropped.load(SeqCst), 3);
    assert_eq!(take_ran(), ["y", "z"]);
    assert!(STASH.lock().unwrap().is_empty());
    let weak = std::mem::take(&mut *WEAK.lock().unwrap());
    assert!(weak
        .iter()
        .all(|w| w.upgrade().is_none() && w.strong_count() == 0));
}
