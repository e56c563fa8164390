//! Collections of dead graphs: the delete walk's fast paths (issue 19) and
//! their fallbacks. Trash whose value is dropped is freed inline when only
//! its implicit weak reference is left (by the walk right after its drop,
//! or by the release of its last handle while another trash value is
//! dropped, tested before the thread's heap is looked up); a weak handle,
//! a weak callback registered during the delete, a `Drop` that keeps a
//! handle to trash or that panics takes the general path. Each test runs
//! on a fresh thread, so a fresh heap: with no PEP 442 type and no weak
//! callback registered beforehand its collections take the lean path.

use gc_tests::{DropCounter, DropProbe};
use pygc::{gc, weakref, Gc, Trace, Weak};
use std::cell::RefCell;

/// Run `f` on a new thread (a fresh per-thread heap), automatic collection
/// off; fail if it panics.
fn on_a_fresh_heap(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        gc::disable();
        f();
    })
    .join()
    .expect("the test thread panicked");
}

#[derive(Trace)]
struct Node {
    #[trace(skip)]
    _probe: DropProbe,
    edges: RefCell<Vec<Gc<Node>>>,
}

fn node(dropped: &DropCounter) -> Gc<Node> {
    Gc::new(Node {
        _probe: dropped.probe(),
        edges: RefCell::new(Vec::new()),
    })
}

fn link(from: &Gc<Node>, to: &Gc<Node>) {
    from.edges.borrow_mut().push(to.clone());
}

#[test]
fn dead_pairs_are_each_dropped_once_and_freed() {
    on_a_fresh_heap(|| {
        let dropped = DropCounter::new();
        // Miri-sized under Miri.
        let n = if cfg!(miri) { 20 } else { 1000 };
        let mut weak = Vec::new();
        for _ in 0..n {
            let (a, b) = (node(&dropped), node(&dropped));
            link(&a, &b);
            link(&b, &a);
            weak.push(Gc::downgrade(&a));
        }
        // The weak handles keep half of the objects' memory (the general
        // path); build as many pairs without any.
        for _ in 0..n {
            let (a, b) = (node(&dropped), node(&dropped));
            link(&a, &b);
            link(&b, &a);
        }
        assert_eq!(gc::collect(), 4 * n);
        assert_eq!(dropped.get(), 4 * n);
        assert!(weak.iter().all(|w| w.upgrade().is_none()));
        assert!(weak.iter().all(|w| w.strong_count() == 0));
        drop(weak);
        assert!(gc::get_objects(None).is_empty());
    });
}

/// A ring `x → y → z → x` with `x → z` too, allocated `x, z, y`, so that
/// (in list order) the walk drops `x` (kept: `z` holds it), then `z`
/// (frees `x` by release; kept: `y` holds it), then `y` (frees `z` by
/// release, and itself). Returns the three nodes.
fn ring(dropped: &DropCounter) -> [Gc<Node>; 3] {
    let x = node(dropped);
    let z = node(dropped);
    let y = node(dropped);
    link(&x, &y);
    link(&x, &z);
    link(&y, &z);
    link(&z, &x);
    [x, y, z]
}

#[test]
fn weak_handles_into_a_dead_graph_keep_the_memory_not_the_value() {
    on_a_fresh_heap(|| {
        let dropped = DropCounter::new();
        let [x, y, z] = ring(&dropped);
        let weak: Vec<Weak<Node>> = [&x, &y, &z].iter().map(|n| Gc::downgrade(n)).collect();
        drop((x, y, z));
        assert_eq!(gc::collect(), 3);
        assert_eq!(dropped.get(), 3);
        for w in &weak {
            assert!(w.upgrade().is_none());
            assert_eq!(w.strong_count(), 0);
            assert_eq!(w.clone().upgrade().map(|_| ()), None);
        }
        // The last weak handles free the memory (Miri and valgrind
        // without the pool check that it is freed once, and not before).
        drop(weak);
        assert!(gc::get_objects(None).is_empty());
    });
}

thread_local! {
    /// Callbacks that ran, by name.
    static RAN: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    /// `weakref.finalize` objects made during the delete.
    static FINALIZERS: RefCell<Vec<weakref::Finalizer>> = const { RefCell::new(Vec::new()) };
    /// Handles to trash stashed by a `Drop` (a contract breach).
    static STASH: RefCell<Vec<Gc<Holder>>> = const { RefCell::new(Vec::new()) };
}

/// What an [`Edge`]'s `Drop` does before its handle goes.
#[derive(Clone, Copy, PartialEq)]
enum Act {
    Nothing,
    /// Register a weak callback on the target (trash whose value may be
    /// intact): allowed, it makes no handle.
    Register(&'static str),
    /// Panic (reported by the collector; the value counts as dropped).
    Panic,
    /// Stash a clone of the handle in a global: breaks `Trace` rule 5, the
    /// target becomes a zombie (header I5, HAZARDS 11).
    Stash,
}

/// A traced handle with a `Drop` that acts before the handle is released.
struct Edge {
    to: Gc<Holder>,
    act: Act,
}

// SAFETY: T1: reports the one handle it owns. Its `Drop` makes no handle
// except with `Act::Stash`, the breach a test pins down.
unsafe impl Trace for Edge {
    fn trace(&self, tracer: &mut pygc::Tracer<'_>) {
        self.to.trace(tracer);
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        match self.act {
            Act::Nothing => {}
            Act::Register(name) => {
                let fin =
                    weakref::finalize(&self.to, move || RAN.with(|r| r.borrow_mut().push(name)));
                FINALIZERS.with(|f| f.borrow_mut().push(fin));
            }
            Act::Panic => panic!("a Drop of trash panics"),
            Act::Stash => STASH.with(|s| s.borrow_mut().push(self.to.clone())),
        }
    }
}

#[derive(Trace)]
struct Holder {
    edges: RefCell<Vec<Edge>>,
    #[trace(skip)]
    _probe: DropProbe,
}

fn holder(dropped: &DropCounter) -> Gc<Holder> {
    Gc::new(Holder {
        edges: RefCell::new(Vec::new()),
        _probe: dropped.probe(),
    })
}

fn edge(from: &Gc<Holder>, to: &Gc<Holder>, act: Act) {
    from.edges.borrow_mut().push(Edge {
        to: to.clone(),
        act,
    });
}

/// [`ring`]'s shape with [`Holder`]s: `x → y`, `x → z` (with `x_to_z`'s
/// act), `y → z` (with `y_to_z`'s act), `z → x`; allocated `x, z, y`.
fn holder_ring(dropped: &DropCounter, x_to_y: Act, x_to_z: Act, y_to_z: Act) -> [Gc<Holder>; 3] {
    let x = holder(dropped);
    let z = holder(dropped);
    let y = holder(dropped);
    edge(&x, &y, x_to_y);
    edge(&x, &z, x_to_z);
    edge(&y, &z, y_to_z);
    edge(&z, &x, Act::Nothing);
    [x, y, z]
}

#[test]
fn weak_callbacks_registered_by_a_drop_during_the_delete_run_once() {
    // The first trash value dropped registers a `weakref.finalize` on the
    // other two (intact trash). The heap had no callback when the
    // collection began (the lean path): each runs once, when its object
    // is freed — `z` by a release, `y` by the walk (in list order).
    on_a_fresh_heap(|| {
        let dropped = DropCounter::new();
        let nodes = holder_ring(
            &dropped,
            Act::Register("y"),
            Act::Register("z"),
            Act::Nothing,
        );
        drop(nodes);
        assert_eq!(gc::collect(), 3);
        assert_eq!(dropped.get(), 3);
        let mut ran = RAN.with(|r| r.take());
        ran.sort_unstable();
        assert_eq!(ran, ["y", "z"]);
        let fins = FINALIZERS.with(|f| f.take());
        assert!(fins.iter().all(|f| !f.alive()));
        assert!(gc::get_objects(None).is_empty());
    });
}

#[test]
fn a_panicking_drop_in_a_dead_graph_is_reported_and_the_rest_is_freed() {
    on_a_fresh_heap(|| {
        let dropped = DropCounter::new();
        let nodes = holder_ring(&dropped, Act::Panic, Act::Nothing, Act::Nothing);
        drop(nodes);
        // The panic unwinds out of `x`'s edge list: its other edges are
        // dropped by the unwinding, and `x` counts as dropped.
        assert_eq!(gc::collect(), 3);
        assert_eq!(dropped.get(), 3);
        assert!(gc::get_objects(None).is_empty());
        // Pairs (the walk's inline free) with a panic in each second drop.
        let n = if cfg!(miri) { 5 } else { 100 };
        for _ in 0..n {
            let (a, b) = (holder(&dropped), holder(&dropped));
            edge(&a, &b, Act::Nothing);
            edge(&b, &a, Act::Panic);
        }
        assert_eq!(gc::collect(), 2 * n);
        assert_eq!(dropped.get(), 3 + 2 * n);
        assert!(gc::get_objects(None).is_empty());
    });
}

#[test]
fn a_drop_that_keeps_a_handle_to_trash_leaves_a_zombie_not_a_dangling_handle() {
    // `y`'s edge stashes `z` in a global as `y` is dropped: `z` (dropped
    // already) keeps a strong handle, so neither the walk nor a release
    // may free it; it is reported and becomes a zombie, freed by its last
    // handle without a second drop.
    on_a_fresh_heap(|| {
        let dropped = DropCounter::new();
        let nodes = holder_ring(&dropped, Act::Nothing, Act::Nothing, Act::Stash);
        let weak_z = Gc::downgrade(&nodes[2]);
        drop(nodes);
        assert_eq!(gc::collect(), 3);
        assert_eq!(dropped.get(), 3);
        assert!(weak_z.upgrade().is_none());
        let stashed = STASH.with(|s| s.take());
        assert_eq!(stashed.len(), 1);
        assert_eq!(Gc::strong_count(&stashed[0]), 1);
        // A later collection leaves the zombie alone (not linked, not
        // collecting), and its value is not dropped again.
        assert_eq!(gc::collect(), 0);
        drop(stashed);
        assert_eq!(dropped.get(), 3);
        drop(weak_z);
        assert!(gc::get_objects(None).is_empty());
    });
}

// ---------------------------------------------------------------------------
// All-trash collections: `deduce_unreachable` skips `move_unreachable` when
// no object of the set is referenced from outside it, and (lean path, no
// legacy finalizer) the delete walk links the singly linked trash list as
// it goes. The order CPython exposes must not change.
// ---------------------------------------------------------------------------

thread_local! {
    static DROP_ORDER: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Records its id when dropped (a `Trace` type may not implement `Drop`:
/// this is a skipped field of one).
struct IdProbe(u32);

impl Drop for IdProbe {
    fn drop(&mut self) {
        DROP_ORDER.with(|o| o.borrow_mut().push(self.0));
    }
}

/// A node that records its id when its value is dropped.
#[derive(Trace)]
struct Ordered {
    #[trace(skip)]
    id: IdProbe,
    edges: RefCell<Vec<Gc<Ordered>>>,
}

/// `n` objects with ids `first..first + n`, allocated in that order, each
/// pointing at the next and the last at the first, plus (when `chords`)
/// edges from every object to the one two places back: one ring that the
/// delete walk drops in list order, whose drops release objects both
/// behind and ahead of the walk.
fn ordered_ring(first: u32, n: u32, chords: bool) -> Vec<Gc<Ordered>> {
    let nodes: Vec<_> = (first..first + n)
        .map(|id| {
            Gc::new(Ordered {
                id: IdProbe(id),
                edges: RefCell::new(Vec::new()),
            })
        })
        .collect();
    let len = nodes.len();
    for (i, node) in nodes.iter().enumerate() {
        node.edges.borrow_mut().push(nodes[(i + 1) % len].clone());
        if chords {
            node.edges
                .borrow_mut()
                .push(nodes[(i + len - 2) % len].clone());
        }
    }
    nodes
}

fn take_drop_order() -> Vec<u32> {
    DROP_ORDER.with(|o| o.take())
}

#[test]
fn an_all_trash_collection_drops_in_list_order_as_a_mixed_one_does() {
    // The same two rings collected once with nothing else on the heap (all
    // trash: the shortcut) and once next to a live object that points into
    // neither (the set has a root: move_unreachable runs): both drop the
    // values in allocation order, the generation list's order.
    on_a_fresh_heap(|| {
        for chords in [false, true] {
            let mut trash = ordered_ring(0, 40, chords);
            trash.extend(ordered_ring(40, 3, chords));
            drop(trash);
            assert_eq!(gc::collect(), 43);
            let all_trash = take_drop_order();
            assert_eq!(all_trash, (0..43).collect::<Vec<_>>());
            assert!(gc::get_objects(None).is_empty());

            let mut trash = ordered_ring(0, 40, chords);
            let live = ordered_ring(1000, 1, false);
            trash.extend(ordered_ring(40, 3, chords));
            drop(trash);
            assert_eq!(gc::collect(), 43);
            assert_eq!(take_drop_order(), all_trash);
            assert_eq!(gc::get_objects(None).len(), 1);
            live[0].edges.borrow_mut().clear();
            drop(live);
            assert_eq!(take_drop_order(), vec![1000]);
        }
    });
}

#[test]
fn an_all_trash_collection_under_saveall_keeps_the_list_order() {
    // SAVEALL is off the lean path: the shortcut's list is linked back
    // (prev links, NEXT_UNREACHABLE) before the phases after it walk it.
    on_a_fresh_heap(|| {
        gc::set_debug(gc::DebugFlags::SAVEALL);
        drop(ordered_ring(0, 5, true));
        assert_eq!(gc::collect(), 5);
        gc::set_debug(gc::DebugFlags::empty());
        let saved = gc::take_garbage();
        let ids: Vec<u32> = saved
            .iter()
            .map(|g| g.downcast_ref::<Ordered>().unwrap().id.0)
            .collect();
        assert_eq!(ids, (0..5).collect::<Vec<_>>());
        for g in &saved {
            g.downcast_ref::<Ordered>()
                .unwrap()
                .edges
                .borrow_mut()
                .clear();
        }
        drop(saved);
        assert_eq!(take_drop_order(), (0..5).collect::<Vec<_>>());
        assert!(gc::get_objects(None).is_empty());
    });
}

#[test]
fn a_young_generation_of_dropped_cycles_is_all_trash_next_to_older_objects() {
    // Generation 0 holds only dropped cycles (all trash), generation 2 a
    // live ring that points at nothing young: the young collection frees
    // the cycles and leaves the old ring alone.
    on_a_fresh_heap(|| {
        let old = ordered_ring(1000, 4, true);
        gc::collect();
        for k in 0..10 {
            drop(ordered_ring(10 * k, 10, k % 2 == 0));
        }
        assert_eq!(gc::collect_generation(0), 100);
        assert_eq!(take_drop_order(), (0..100).collect::<Vec<_>>());
        assert_eq!(gc::get_objects(None).len(), 4);
        assert_eq!(gc::collect(), 0);
        drop(old);
        assert_eq!(gc::collect(), 4);
        assert_eq!(take_drop_order(), (1000..1004).collect::<Vec<_>>());
    });
}

#[test]
fn an_all_trash_collection_with_a_weak_callback_runs_it() {
    // A registered weak callback takes the collection off the lean path:
    // the shortcut's list is linked back, handle_weakrefs clears and calls.
    on_a_fresh_heap(|| {
        let ring = ordered_ring(0, 6, false);
        let called = std::rc::Rc::new(std::cell::Cell::new(0));
        let c = called.clone();
        let _w = Gc::downgrade_with_callback(&ring[3], move || c.set(c.get() + 1));
        let weak = Gc::downgrade(&ring[0]);
        drop(ring);
        assert_eq!(gc::collect(), 6);
        assert_eq!(called.get(), 1);
        assert!(weak.upgrade().is_none());
        assert_eq!(take_drop_order(), (0..6).collect::<Vec<_>>());
    });
}
