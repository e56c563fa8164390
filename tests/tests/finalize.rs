//! PEP 442 finalizers, ported from CPython's `Lib/test/test_finalization.py`
//! (3.11) where it applies, plus finalizers doing hostile things inside a
//! collection.
//!
//! CPython's `SimpleBase.test()` context disables the gc and records
//! `del_calls` / `survivors` / `errors` in class-wide lists; here that is
//! [`Rec`], per thread (each test runs on its own thread).

use gc_tests::{fresh, log, take_log, DropCounter, DropProbe};
use pygc::{gc, Finalize, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};

/// Per-thread record of finalizer calls, survivors and sanity errors.
struct Rec {
    del_calls: Vec<usize>,
    errors: Vec<String>,
}

thread_local! {
    static REC: RefCell<Rec> = const { RefCell::new(Rec { del_calls: Vec::new(), errors: Vec::new() }) };
    static SURVIVORS: RefCell<Vec<Gc<Obj>>> = const { RefCell::new(Vec::new()) };
}

fn del_calls() -> Vec<usize> {
    let mut v = REC.with(|r| r.borrow().del_calls.clone());
    v.sort_unstable();
    v
}

fn survivors() -> Vec<usize> {
    let mut v: Vec<usize> = SURVIVORS.with(|s| s.borrow().iter().map(|o| o.id).collect());
    v.sort_unstable();
    v
}

fn clear_survivors() {
    let taken = SURVIVORS.with(|s| std::mem::take(&mut *s.borrow_mut()));
    drop(taken);
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

/// CPython's `SimpleBase.test()`: gc disabled, records cleared; at the end
/// errors re-raised, and cleanup.
fn with_test(f: impl FnOnce()) {
    fresh();
    gc::disable();
    REC.with(|r| {
        let mut r = r.borrow_mut();
        r.del_calls.clear();
        r.errors.clear();
    });
    f();
    let errors = REC.with(|r| std::mem::take(&mut r.borrow_mut().errors));
    assert!(errors.is_empty(), "sanity errors in finalizers: {errors:?}");
    clear_survivors();
    gc::enable();
    gc::collect();
    assert!(
        gc::garbage().is_empty(),
        "no test here should leave gc.garbage"
    );
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// `Simple`: records the call.
    Simple,
    /// `SimpleResurrector`: stores itself in SURVIVORS.
    Resurrector,
    /// `SuicidalSelfCycle` / `SuicidalChained`: breaks its own references.
    Suicidal,
}

static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// All the test objects: a self reference (`SelfCycleBase.ref`), chain links
/// (`ChainedBase.left/right`), a weak self handle to resurrect through.
#[derive(Trace)]
#[trace(finalize)]
struct Obj {
    id: usize,
    #[trace(skip)]
    kind: Kind,
    me: Weak<Obj>,
    self_ref: RefCell<Option<Gc<Obj>>>,
    left: RefCell<Option<Gc<Obj>>>,
    right: RefCell<Option<Gc<Obj>>>,
    chained: bool,
    suicided: Cell<bool>,
    /// Strong handle to self kept for resurrecting from cyclic trash (weak
    /// handles to trash are already cleared when finalizers run).
    anchor: RefCell<Option<Gc<Obj>>>,
    #[trace(skip)]
    _probe: Option<DropProbe>,
}

impl Obj {
    fn new(kind: Kind, self_cycle: bool, probe: Option<DropProbe>) -> Gc<Obj> {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let o = Gc::new_cyclic(|me| Obj {
            id,
            kind,
            me: me.clone(),
            self_ref: RefCell::new(None),
            left: RefCell::new(None),
            right: RefCell::new(None),
            chained: false,
            suicided: Cell::new(false),
            anchor: RefCell::new(None),
            _probe: probe,
        });
        if self_cycle {
            *o.self_ref.borrow_mut() = Some(o.clone());
        }
        o
    }

    fn new_chained(kind: Kind) -> Gc<Obj> {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Gc::new_cyclic(|me| Obj {
            id,
            kind,
            me: me.clone(),
            self_ref: RefCell::new(None),
            left: RefCell::new(None),
            right: RefCell::new(None),
            chained: true,
            suicided: Cell::new(false),
            anchor: RefCell::new(None),
            _probe: None,
        })
    }

    fn check_sanity(&self) -> Result<(), String> {
        if let Some(r) = self.self_ref.borrow().as_ref() {
            if r.id != self.id {
                return Err(format!("{}: self.ref is not self", self.id));
            }
        }
        if self.chained {
            if self.suicided.get() {
                if self.left.borrow().is_some() || self.right.borrow().is_some() {
                    return Err(format!("{}: suicided but still linked", self.id));
                }
            } else {
                let left = self.left.borrow();
                let left = left.as_ref().ok_or("no left")?;
                if left.suicided.get() {
                    if left.right.borrow().is_some() {
                        return Err(format!("{}: left suicided, right still set", self.id));
                    }
                } else if left.right.borrow().as_ref().map(|o| o.id) != Some(self.id) {
                    return Err(format!("{}: left.right is not self", self.id));
                }
                let right = self.right.borrow();
                let right = right.as_ref().ok_or("no right")?;
                if right.suicided.get() {
                    if right.left.borrow().is_some() {
                        return Err(format!("{}: right suicided, left still set", self.id));
                    }
                } else if right.left.borrow().as_ref().map(|o| o.id) != Some(self.id) {
                    return Err(format!("{}: right.left is not self", self.id));
                }
            }
        }
        Ok(())
    }
}

impl Finalize for Obj {
    fn finalize(&self) {
        REC.with(|r| r.borrow_mut().del_calls.push(self.id));
        if let Err(e) = self.check_sanity() {
            REC.with(|r| r.borrow_mut().errors.push(e));
        }
        match self.kind {
            Kind::Simple => {}
            Kind::Resurrector => {
                // At refcount death the weak self handle still upgrades; in
                // cyclic trash it is cleared, so use the anchor.
                let me = self
                    .me
                    .upgrade()
                    .or_else(|| self.anchor.borrow().clone())
                    .or_else(|| self.self_ref.borrow().clone());
                match me {
                    Some(me) => SURVIVORS.with(|s| s.borrow_mut().push(me)),
                    None => REC.with(|r| {
                        r.borrow_mut()
                            .errors
                            .push(format!("{}: no handle to resurrect through", self.id))
                    }),
                }
            }
            Kind::Suicidal => {
                self.suicided.set(true);
                let a = self.self_ref.borrow_mut().take();
                let b = self.left.borrow_mut().take();
                let c = self.right.borrow_mut().take();
                drop((a, b, c));
            }
        }
    }
}

// --- SimpleFinalizationTest -------------------------------------------------

#[test]
fn simple() {
    with_test(|| {
        let s = Obj::new(Kind::Simple, false, None);
        let ids = vec![s.id];
        let wr = Gc::downgrade(&s);
        drop(s);
        gc::collect();
        assert_eq!(del_calls(), ids);
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(wr.upgrade().is_none());
        gc::collect();
        assert_eq!(del_calls(), ids);
    });
}

#[test]
fn simple_resurrect() {
    let wr = RefCell::new(Weak::new());
    with_test(|| {
        let s = Obj::new(Kind::Resurrector, false, None);
        let ids = vec![s.id];
        *wr.borrow_mut() = Gc::downgrade(&s);
        drop(s);
        gc::collect();
        assert_eq!(del_calls(), ids);
        assert_eq!(survivors(), ids);
        assert!(
            wr.borrow().upgrade().is_some(),
            "refcount resurrection leaves weak handles alone"
        );
        clear_survivors();
        gc::collect();
        assert_eq!(del_calls(), ids, "never finalized twice");
        assert_eq!(survivors(), Vec::<usize>::new());
    });
    assert!(wr.borrow().upgrade().is_none());
}

// --- SelfCycleFinalizationTest ----------------------------------------------

#[test]
fn self_cycle_simple() {
    with_test(|| {
        let dropped = DropCounter::new();
        let s = Obj::new(Kind::Simple, true, Some(dropped.probe()));
        let ids = vec![s.id];
        let wr = Gc::downgrade(&s);
        drop(s);
        assert_eq!(
            del_calls(),
            Vec::<usize>::new(),
            "a cycle needs the collector"
        );
        assert_eq!(gc::collect(), 1);
        assert_eq!(del_calls(), ids);
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(wr.upgrade().is_none());
        assert_eq!(dropped.get(), 1);
        gc::collect();
        assert_eq!(del_calls(), ids);
    });
}

#[test]
fn self_cycle_resurrect() {
    with_test(|| {
        let dropped = DropCounter::new();
        let s = Obj::new(Kind::Resurrector, true, Some(dropped.probe()));
        let ids = vec![s.id];
        let wr = Gc::downgrade(&s);
        drop(s);
        gc::collect();
        assert_eq!(del_calls(), ids);
        assert_eq!(survivors(), ids);
        // "XXX is this desirable?" -- CPython clears weakrefs before finalizers.
        assert!(wr.upgrade().is_none());
        assert_eq!(dropped.get(), 0, "resurrected: not freed");
        let s = SURVIVORS.with(|v| v.borrow()[0].clone());
        assert!(Gc::is_finalized(&s));
        assert!(s.check_sanity().is_ok(), "a resurrected object is intact");
        drop(s);
        clear_survivors();
        assert_eq!(gc::collect(), 1);
        assert_eq!(del_calls(), ids, "not finalized a second time");
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(wr.upgrade().is_none());
        assert_eq!(dropped.get(), 1);
    });
}

#[test]
fn self_cycle_suicide() {
    // The GC must cope with an object that kills its last reference during
    // its finalizer.
    with_test(|| {
        let dropped = DropCounter::new();
        let s = Obj::new(Kind::Suicidal, true, Some(dropped.probe()));
        let ids = vec![s.id];
        let wr = Gc::downgrade(&s);
        drop(s);
        gc::collect();
        assert_eq!(del_calls(), ids);
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(wr.upgrade().is_none());
        assert_eq!(dropped.get(), 1, "freed exactly once");
        gc::collect();
        assert_eq!(del_calls(), ids);
        assert!(wr.upgrade().is_none());
    });
}

// --- CycleChainFinalizationTest ---------------------------------------------

fn build_chain(kinds: &[Kind]) -> Vec<Gc<Obj>> {
    let nodes: Vec<_> = kinds.iter().map(|k| Obj::new_chained(*k)).collect();
    let n = nodes.len();
    for i in 0..n {
        let left = nodes[(i + n - 1) % n].clone();
        *left.right.borrow_mut() = Some(nodes[i].clone());
        *nodes[i].left.borrow_mut() = Some(left);
    }
    // Resurrectors keep a strong handle to themselves to come back through.
    for node in &nodes {
        if node.kind == Kind::Resurrector {
            *node.anchor.borrow_mut() = Some(node.clone());
        }
    }
    nodes
}

fn check_non_resurrecting_chain(kinds: &[Kind]) {
    with_test(|| {
        let nodes = build_chain(kinds);
        let ids: Vec<_> = nodes.iter().map(|o| o.id).collect();
        let wrs: Vec<_> = nodes.iter().map(Gc::downgrade).collect();
        drop(nodes);
        assert_eq!(gc::collect(), kinds.len());
        assert_eq!(del_calls(), sorted(ids.clone()));
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(wrs.iter().all(|w| w.upgrade().is_none()));
        gc::collect();
        assert_eq!(del_calls(), sorted(ids));
    });
}

fn check_resurrecting_chain(kinds: &[Kind]) {
    with_test(|| {
        let nodes = build_chain(kinds);
        let ids: Vec<_> = nodes.iter().map(|o| o.id).collect();
        let survivor_ids: Vec<_> = nodes
            .iter()
            .filter(|o| o.kind == Kind::Resurrector)
            .map(|o| o.id)
            .collect();
        let wrs: Vec<_> = nodes.iter().map(Gc::downgrade).collect();
        drop(nodes);
        gc::collect();
        assert_eq!(del_calls(), sorted(ids.clone()));
        assert_eq!(survivors(), sorted(survivor_ids));
        // "XXX desirable?" -- cleared before the finalizers ran.
        assert!(wrs.iter().all(|w| w.upgrade().is_none()));
        // Break the anchors so the next collection can free everything.
        SURVIVORS.with(|s| {
            for o in s.borrow().iter() {
                o.anchor.borrow_mut().take();
            }
        });
        clear_survivors();
        gc::collect();
        assert_eq!(del_calls(), sorted(ids));
        assert_eq!(survivors(), Vec::<usize>::new());
        assert!(gc::get_objects(None).is_empty(), "everything freed at last");
    });
}

use Kind::{Resurrector as R, Simple as S, Suicidal as X};

#[test]
fn chain_homogenous() {
    check_non_resurrecting_chain(&[S, S, S]);
}

#[test]
fn chain_homogenous_resurrect() {
    check_resurrecting_chain(&[R, R, R]);
}

#[test]
fn chain_homogenous_suicidal() {
    check_non_resurrecting_chain(&[X, X, X]);
}

#[test]
fn chain_heterogenous_suicidal_one() {
    check_non_resurrecting_chain(&[X, S, X, S]);
}

#[test]
fn chain_heterogenous_suicidal_two() {
    check_non_resurrecting_chain(&[X, X, S, S]);
}

#[test]
fn chain_heterogenous_resurrect_one() {
    check_resurrecting_chain(&[R, S, R, S]);
}

#[test]
fn chain_heterogenous_resurrect_two() {
    check_resurrecting_chain(&[R, S, X, R, S, X]);
}

#[test]
fn chain_heterogenous_resurrect_three() {
    check_resurrecting_chain(&[R, R, S, S, X, X]);
}

// --- LegacyFinalizationTest -------------------------------------------------

#[derive(Trace)]
#[trace(legacy_finalize)]
struct Legacy {
    name: &'static str,
    self_ref: RefCell<Option<Gc<Legacy>>>,
}

impl Finalize for Legacy {
    fn finalize(&self) {
        log(format!("tp_del {}", self.name));
    }
}

#[test]
fn legacy_without_cycle_is_finalized_by_refcount() {
    fresh();
    take_log();
    let s = Gc::new(Legacy {
        name: "s",
        self_ref: RefCell::new(None),
    });
    let wr = Gc::downgrade(&s);
    drop(s);
    assert_eq!(gc::collect(), 0);
    assert_eq!(take_log(), ["tp_del s"]);
    assert!(wr.upgrade().is_none());
    gc::collect();
    assert!(take_log().is_empty());
    assert!(gc::garbage().is_empty());
}

#[test]
fn legacy_self_cycle_ends_in_garbage() {
    fresh();
    take_log();
    let s = Gc::new(Legacy {
        name: "s",
        self_ref: RefCell::new(None),
    });
    *s.self_ref.borrow_mut() = Some(s.clone());
    let wr = Gc::downgrade(&s);
    drop(s);
    assert_eq!(gc::collect(), 1);
    assert!(
        take_log().is_empty(),
        "no finalizer runs for uncollectable trash"
    );
    let garbage = gc::garbage();
    assert_eq!(garbage.len(), 1);
    // Uncollectable objects' weak handles are not cleared.
    let alive = wr
        .upgrade()
        .expect("weak handle to uncollectable garbage still upgrades");
    assert_eq!(garbage[0].as_ptr(), Gc::as_ptr(&alive) as *const ());
    drop(alive);
    // Break the cycle to allow collection.
    garbage[0]
        .downcast_ref::<Legacy>()
        .unwrap()
        .self_ref
        .borrow_mut()
        .take();
    drop(garbage);
    assert!(wr.upgrade().is_some(), "gc.garbage still holds it");
    drop(gc::take_garbage());
    assert!(gc::garbage().is_empty());
    assert!(wr.upgrade().is_none());
    assert_eq!(
        take_log(),
        ["tp_del s"],
        "freed by refcount: finalized normally"
    );
}

// --- Hostile finalizers in cyclic trash ---------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct Node {
    name: String,
    next: RefCell<Option<Gc<Node>>>,
    other: RefCell<Option<Gc<Node>>>,
    #[trace(skip)]
    action: Action,
    #[trace(skip)]
    _probe: DropProbe,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    None,
    Panic,
    ReadNext,
    DropOther,
    Allocate,
    Collect,
}

thread_local! {
    static ALLOCATED: RefCell<Vec<Gc<Node>>> = const { RefCell::new(Vec::new()) };
    static NESTED_COLLECT: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Finalize for Node {
    fn finalize(&self) {
        log(format!("finalize {}", self.name));
        match self.action {
            Action::None => {}
            Action::Panic => panic!("finalizer of {} panics (expected by the test)", self.name),
            Action::ReadNext => {
                let next = self.next.borrow();
                let next = next.as_ref().expect("fields of trash are intact");
                log(format!("{} reads {}", self.name, next.name));
                let nn = next.next.borrow();
                log(format!(
                    "{} reads {}.next = {}",
                    self.name,
                    next.name,
                    nn.as_ref().unwrap().name
                ));
            }
            Action::DropOther => {
                let other = self.other.borrow_mut().take();
                log(format!("{} drops its handle", self.name));
                drop(other);
            }
            Action::Allocate => {
                let counter = DropCounter::new();
                let made: Vec<_> = (0..100_000)
                    .map(|i| node(&format!("new{i}"), Action::None, &counter))
                    .collect();
                ALLOCATED.with(|a| a.borrow_mut().extend(made));
            }
            Action::Collect => NESTED_COLLECT.with(|c| c.set(Some(gc::collect()))),
        }
    }
}

fn node(name: &str, action: Action, counter: &DropCounter) -> Gc<Node> {
    Gc::new(Node {
        name: name.into(),
        next: RefCell::new(None),
        other: RefCell::new(None),
        action,
        _probe: counter.probe(),
    })
}

/// A ring a -> b -> ... -> a of the given nodes; returns weak handles.
fn ring(nodes: &[Gc<Node>]) -> Vec<Weak<Node>> {
    for (i, n) in nodes.iter().enumerate() {
        *n.next.borrow_mut() = Some(nodes[(i + 1) % nodes.len()].clone());
    }
    nodes.iter().map(Gc::downgrade).collect()
}

fn sorted_log() -> Vec<String> {
    let mut l = take_log();
    l.sort();
    l
}

#[test]
fn finalizer_runs_once_for_cyclic_trash() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let nodes: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| node(n, Action::None, &dropped))
        .collect();
    let weaks = ring(&nodes);
    let probe = nodes[0].clone();
    drop(nodes);
    assert_eq!(gc::collect(), 0, "reachable from `probe`");
    assert!(take_log().is_empty());
    drop(probe);
    assert_eq!(gc::collect(), 3);
    assert_eq!(sorted_log(), ["finalize a", "finalize b", "finalize c"]);
    assert_eq!(dropped.get(), 3);
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
    assert_eq!(gc::collect(), 0);
    assert!(take_log().is_empty());
}

#[test]
fn panicking_finalizer_in_a_cycle() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let nodes = vec![
        node("a", Action::None, &dropped),
        node("b", Action::Panic, &dropped),
        node("c", Action::None, &dropped),
    ];
    let weaks = ring(&nodes);
    drop(nodes);
    assert_eq!(gc::collect(), 3, "the collection completes");
    assert_eq!(sorted_log(), ["finalize a", "finalize b", "finalize c"]);
    assert_eq!(dropped.get(), 3, "all freed");
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
    // And the collector still works.
    let again = vec![node("d", Action::None, &dropped)];
    ring(&again);
    drop(again);
    assert_eq!(gc::collect(), 1);
    assert_eq!(dropped.get(), 4);
}

#[test]
fn finalizer_reads_other_trash() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let nodes = vec![
        node("a", Action::ReadNext, &dropped),
        node("b", Action::ReadNext, &dropped),
        node("c", Action::ReadNext, &dropped),
    ];
    ring(&nodes);
    drop(nodes);
    assert_eq!(gc::collect(), 3);
    let l = sorted_log();
    assert_eq!(
        l,
        [
            "a reads b",
            "a reads b.next = c",
            "b reads c",
            "b reads c.next = a",
            "c reads a",
            "c reads a.next = b",
            "finalize a",
            "finalize b",
            "finalize c",
        ]
    );
    assert_eq!(dropped.get(), 3);
}

#[test]
fn finalizer_drops_the_last_handle_of_other_trash() {
    // a <-> b is a cycle; a also holds the only handle to c (and c to a, so
    // c is trash of the same collection). a's finalizer drops c's handle:
    // c must be finalized once, freed once.
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let a = node("a", Action::DropOther, &dropped);
    let b = node("b", Action::None, &dropped);
    let c = node("c", Action::None, &dropped);
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    *c.next.borrow_mut() = Some(a.clone());
    *a.other.borrow_mut() = Some(c.clone());
    let wc = Gc::downgrade(&c);
    drop((a, b, c));
    assert_eq!(gc::collect(), 3);
    let l = sorted_log();
    assert_eq!(
        l,
        [
            "a drops its handle",
            "finalize a",
            "finalize b",
            "finalize c"
        ],
        "each finalized exactly once"
    );
    assert_eq!(dropped.get(), 3, "each freed exactly once");
    assert!(wc.upgrade().is_none());
    assert_eq!(gc::collect(), 0);
}

#[test]
fn finalizer_drops_the_last_handle_of_a_finalized_trash_object() {
    // Like above but c has no cycle of its own: only a holds it. c is trash
    // because a is.
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let a = node("a", Action::DropOther, &dropped);
    let c = node("c", Action::None, &dropped);
    *a.next.borrow_mut() = Some(a.clone());
    *a.other.borrow_mut() = Some(c);
    drop(a);
    assert_eq!(gc::collect(), 2);
    assert_eq!(
        sorted_log(),
        ["a drops its handle", "finalize a", "finalize c"]
    );
    assert_eq!(dropped.get(), 2);
}

#[test]
fn finalizer_allocating_during_a_collection() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let nodes = vec![
        node("a", Action::Allocate, &dropped),
        node("b", Action::None, &dropped),
    ];
    ring(&nodes);
    drop(nodes);
    let starts = std::rc::Rc::new(Cell::new(0));
    let s = starts.clone();
    let id = gc::add_callback(move |phase, _| {
        if phase == gc::Phase::Start {
            s.set(s.get() + 1);
        }
    });
    assert_eq!(gc::collect(), 2);
    assert_eq!(
        starts.get(),
        1,
        "no nested collection while the finalizer allocated"
    );
    assert!(gc::remove_callback(id));
    assert_eq!(dropped.get(), 2);
    let made = ALLOCATED.with(|a| std::mem::take(&mut *a.borrow_mut()));
    assert_eq!(made.len(), 100_000);
    assert_eq!(made[99_999].name, "new99999");
    assert!(made
        .iter()
        .all(|m| Gc::strong_count(m) == 1 && Gc::is_tracked(m)));
    drop(made);
    assert_eq!(gc::collect(), 0);
}

#[test]
fn finalizer_calling_collect_gets_zero() {
    fresh();
    take_log();
    NESTED_COLLECT.with(|c| c.set(None));
    let dropped = DropCounter::new();
    let nodes = vec![node("a", Action::Collect, &dropped)];
    ring(&nodes);
    // Some unrelated garbage that a nested collection could wrongly free.
    let other = vec![node("x", Action::None, &dropped)];
    ring(&other);
    drop((nodes, other));
    assert_eq!(gc::collect(), 2);
    assert_eq!(NESTED_COLLECT.with(Cell::get), Some(0));
    assert_eq!(dropped.get(), 2);
}

#[test]
fn is_finalized_is_set_before_the_finalizer_runs() {
    #[derive(Trace)]
    #[trace(finalize)]
    struct Check {
        me: Weak<Check>,
    }
    thread_local!(static SEEN: Cell<Option<bool>> = const { Cell::new(None) });
    impl Finalize for Check {
        fn finalize(&self) {
            let me = self.me.upgrade().unwrap();
            SEEN.with(|s| s.set(Some(Gc::is_finalized(&me))));
        }
    }
    let c = Gc::new_cyclic(|me| Check { me: me.clone() });
    assert!(!Gc::is_finalized(&c));
    drop(c);
    assert_eq!(SEEN.with(Cell::get), Some(true));
}
