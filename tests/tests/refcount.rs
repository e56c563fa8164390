//! Refcount semantics (issue "foundation"): values die the moment their last
//! handle goes, finalizers and weak callbacks run in CPython's order, deep
//! chains free without recursion, resurrection, panics, overflow.

use gc_tests::{child_mode, fresh, log, run_child, take_log, DropCounter, DropProbe};
use pygc::{gc, Finalize, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

// ---------------------------------------------------------------------------
// Seed 004: DataObject dies on `del`, on reassignment and at function exit.
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct DataObject {
    name: String,
}

impl DataObject {
    fn new(name: &str) -> Gc<DataObject> {
        log(format!("Creating {name}"));
        Gc::new(DataObject { name: name.into() })
    }
}

impl Finalize for DataObject {
    fn finalize(&self) {
        log(format!("Deleting {}", self.name));
    }
}

fn function_scope() {
    let temp = DataObject::new("Temp");
    log(format!("Using {}", temp.name));
}

#[test]
fn data_object_lifecycle() {
    fresh();
    take_log();
    let mut obj1 = DataObject::new("Object 1");
    assert_eq!(obj1.name, "Object 1");
    let obj2 = DataObject::new("Object 2");
    drop(obj2);
    log("after del obj2");
    obj1 = DataObject::new("Object 3");
    log("after reassign");
    function_scope();
    log("after function");
    assert_eq!(obj1.name, "Object 3");
    drop(obj1);
    assert_eq!(
        take_log(),
        [
            "Creating Object 1",
            "Creating Object 2",
            "Deleting Object 2",
            "after del obj2",
            "Creating Object 3",
            "Deleting Object 1",
            "after reassign",
            "Creating Temp",
            "Using Temp",
            "Deleting Temp",
            "after function",
            "Deleting Object 3",
        ]
    );
    // Nothing was left for the collector.
    assert_eq!(gc::collect(), 0);
}

// ---------------------------------------------------------------------------
// sys.getrefcount, weak handles
// ---------------------------------------------------------------------------

#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
}

#[test]
fn strong_count_rises_and_falls() {
    let a = Gc::new(Node { next: None });
    assert_eq!(Gc::strong_count(&a), 1);
    let b = a.clone();
    assert_eq!(Gc::strong_count(&a), 2);
    let holder = Gc::new(Node {
        next: Some(a.clone()),
    });
    assert_eq!(Gc::strong_count(&a), 3);
    let any = Gc::to_any(&a);
    assert_eq!(Gc::strong_count(&a), 4);
    assert_eq!(any.strong_count(), 4);
    let w = Gc::downgrade(&a);
    assert_eq!(Gc::strong_count(&a), 4, "weak handles do not count");
    assert_eq!(Gc::weak_count(&a), 1);
    let up = w.upgrade().unwrap();
    assert_eq!(Gc::strong_count(&a), 5);
    drop(up);
    drop(any);
    assert_eq!(Gc::strong_count(&a), 3);
    drop(holder);
    assert_eq!(Gc::strong_count(&a), 2);
    drop(b);
    assert_eq!(Gc::strong_count(&a), 1);
    assert_eq!(w.strong_count(), 1);
    drop(a);
    assert_eq!(w.strong_count(), 0);
    assert_eq!(w.weak_count(), 0);
}

#[test]
fn weak_upgrade_after_death_is_none() {
    let counter = DropCounter::new();
    #[derive(Trace)]
    struct Probed {
        #[trace(skip)]
        _probe: DropProbe,
    }
    let a = Gc::new(Probed {
        _probe: counter.probe(),
    });
    let w = Gc::downgrade(&a);
    let w2 = w.clone();
    assert!(Gc::ptr_eq(&w.upgrade().unwrap(), &a));
    drop(a);
    assert_eq!(
        counter.get(),
        1,
        "dropped at once, weak handles notwithstanding"
    );
    assert!(w.upgrade().is_none());
    assert!(w2.upgrade().is_none());
    assert!(w.ptr_eq(&w2));
}

#[test]
fn empty_weak_never_upgrades() {
    let w: Weak<Node> = Weak::new();
    assert!(w.upgrade().is_none());
    assert_eq!(w.strong_count(), 0);
    assert_eq!(w.weak_count(), 0);
    assert!(w.ptr_eq(&Weak::default()));
    assert!(w.clone().upgrade().is_none());
}

// ---------------------------------------------------------------------------
// Deep chains (the trashcan)
// ---------------------------------------------------------------------------

// 10 million nodes: measured at about 6 s to build and free in a debug
// build on the 2-core reference machine (under load), well below the 60 s
// limit, so debug and release builds use the same length.
const CHAIN_LEN: usize = 10_000_000;

#[test]
fn dropping_a_long_chain_does_not_overflow_the_stack() {
    let t = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            gc::disable(); // nothing to collect here; keep the build linear
            let mut head = Gc::new(Node { next: None });
            let tail = Gc::downgrade(&head);
            for _ in 1..CHAIN_LEN {
                head = Gc::new(Node { next: Some(head) });
            }
            assert_eq!(gc::get_count().0, CHAIN_LEN);
            assert!(tail.upgrade().is_some());
            drop(head);
            assert!(tail.upgrade().is_none(), "the whole chain is freed");
            assert_eq!(gc::get_count().0, 0);
            assert_eq!(gc::get_objects(None).len(), 0);
            gc::enable();
            assert_eq!(gc::collect(), 0);
        })
        .unwrap();
    t.join()
        .expect("the chain drop overflowed the stack or panicked");
}

/// Untracked (its only handle is in a skipped field), yet it owns a handle:
/// a chain of these must not recurse either.
#[derive(Trace)]
struct SkippedLink {
    #[trace(skip)]
    next: Option<Gc<SkippedLink>>,
}

#[test]
fn dropping_a_long_chain_of_untracked_objects_does_not_overflow_the_stack() {
    // Run in a child: a stack overflow aborts the whole process.
    if child_mode("untracked_chain") {
        let t = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut head = Gc::new(SkippedLink { next: None });
                assert!(!Gc::is_tracked(&head));
                let tail = Gc::downgrade(&head);
                for _ in 1..1_000_000 {
                    head = Gc::new(SkippedLink { next: Some(head) });
                }
                assert!(head.next.is_some());
                drop(head);
                assert!(tail.upgrade().is_none());
            })
            .unwrap();
        t.join().unwrap();
        println!("untracked chain freed");
        return;
    }
    let out = run_child(
        "dropping_a_long_chain_of_untracked_objects_does_not_overflow_the_stack",
        "untracked_chain",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("untracked chain freed"),
        "child failed: {stderr}"
    );
}

#[derive(Trace)]
#[trace(finalize)]
struct FinalizedLink {
    next: Option<Gc<FinalizedLink>>,
}

thread_local!(static LINKS_FINALIZED: Cell<usize> = const { Cell::new(0) });

impl Finalize for FinalizedLink {
    fn finalize(&self) {
        LINKS_FINALIZED.with(|c| c.set(c.get() + 1));
    }
}

#[test]
fn long_chain_of_finalized_objects_finalizes_each_once() {
    let t = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let n = 200_000;
            gc::disable();
            let mut head = Gc::new(FinalizedLink { next: None });
            for _ in 1..n {
                head = Gc::new(FinalizedLink { next: Some(head) });
            }
            drop(head);
            assert_eq!(LINKS_FINALIZED.with(Cell::get), n);
            assert_eq!(gc::get_count().0, 0);
        })
        .unwrap();
    t.join().unwrap();
}

// ---------------------------------------------------------------------------
// Resurrection at refcount death
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct Phoenix {
    me: Weak<Phoenix>,
    finalized: Cell<u32>,
}

thread_local! {
    static ASHES: RefCell<Vec<Gc<Phoenix>>> = const { RefCell::new(Vec::new()) };
}

impl Finalize for Phoenix {
    fn finalize(&self) {
        self.finalized.set(self.finalized.get() + 1);
        log("phoenix finalize");
        let me = self
            .me
            .upgrade()
            .expect("at refcount death weak handles still upgrade");
        ASHES.with(|a| a.borrow_mut().push(me));
    }
}

#[test]
fn resurrection_at_refcount_death() {
    fresh();
    take_log();
    let p = Gc::new_cyclic(|me| Phoenix {
        me: me.clone(),
        finalized: Cell::new(0),
    });
    let w = Gc::downgrade(&p);
    let cb_ran = Rc::new(Cell::new(0));
    let cb = cb_ran.clone();
    let wcb = Gc::downgrade_with_callback(&p, move || {
        cb.set(cb.get() + 1);
        log("callback");
    });
    assert!(!Gc::is_finalized(&p));
    drop(p);
    assert_eq!(
        take_log(),
        ["phoenix finalize"],
        "no callback: it was resurrected"
    );
    assert_eq!(cb_ran.get(), 0);
    // It lives on, finalized, its weak handles untouched.
    let back = w
        .upgrade()
        .expect("resurrected object's weak handles still upgrade");
    assert!(wcb.upgrade().is_some());
    assert!(Gc::is_finalized(&back));
    assert_eq!(back.finalized.get(), 1);
    assert_eq!(Gc::strong_count(&back), 2); // ASHES + back
    let saved = ASHES.with(|a| a.borrow_mut().pop().unwrap());
    assert!(Gc::ptr_eq(&saved, &back));
    drop(saved);
    drop(back);
    // Second death: the finalizer does not run again, weak handles die,
    // the callback runs now.
    assert!(take_log().iter().all(|e| e != "phoenix finalize"));
    assert!(w.upgrade().is_none());
    assert!(wcb.upgrade().is_none());
    assert_eq!(cb_ran.get(), 1);
    assert!(ASHES.with(|a| a.borrow().is_empty()));
    assert_eq!(gc::collect(), 0);
}

// ---------------------------------------------------------------------------
// Panicking finalizer
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct MayPanic {
    name: &'static str,
    panics: bool,
    #[trace(skip)]
    _probe: DropProbe,
}

impl Finalize for MayPanic {
    fn finalize(&self) {
        log(format!("finalize {}", self.name));
        if self.panics {
            panic!("finalizer of {} panics (expected by the test)", self.name);
        }
    }
}

#[derive(Trace)]
struct Cyc {
    next: RefCell<Option<Gc<Cyc>>>,
}

#[test]
fn panicking_finalizer_at_refcount_death_is_contained() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let objs: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            Gc::new(MayPanic {
                name,
                panics: name == "b",
                _probe: dropped.probe(),
            })
        })
        .collect();
    let weaks: Vec<_> = objs.iter().map(Gc::downgrade).collect();
    drop(objs);
    assert_eq!(take_log(), ["finalize a", "finalize b", "finalize c"]);
    assert_eq!(
        dropped.get(),
        3,
        "the panicking object is still freed, and so are later ones"
    );
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
    // The heap is consistent: a later collection works.
    let c = Gc::new(Cyc {
        next: RefCell::new(None),
    });
    *c.next.borrow_mut() = Some(c.clone());
    drop(c);
    assert_eq!(gc::collect(), 1);
}

// ---------------------------------------------------------------------------
// Weak callbacks at refcount death
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct Logged {
    name: &'static str,
}

impl Finalize for Logged {
    fn finalize(&self) {
        log(format!("finalize {}", self.name));
    }
}

#[test]
fn weak_callbacks_run_newest_first_after_the_finalizer() {
    take_log();
    let obj = Gc::new(Logged { name: "obj" });
    let w1 = Gc::downgrade_with_callback(&obj, || log("cb1"));
    let w2 = Gc::downgrade_with_callback(&obj, || log("cb2"));
    let w3 = Gc::downgrade_with_callback(&obj, || log("cb3"));
    let plain = w3.clone(); // a clone is a plain weak handle: no second run
    let dropped_early = Gc::downgrade_with_callback(&obj, || log("never"));
    drop(dropped_early);
    drop(obj);
    assert_eq!(take_log(), ["finalize obj", "cb3", "cb2", "cb1"]);
    assert!(w1.upgrade().is_none() && w2.upgrade().is_none() && plain.upgrade().is_none());
    drop((w1, w2, w3, plain));
    assert!(take_log().is_empty(), "callbacks run once");
}

#[test]
fn weak_callback_sees_its_referent_dead() {
    let obj = Gc::new(Logged { name: "x" });
    let w = Rc::new(RefCell::new(Gc::downgrade(&obj)));
    let seen = Rc::new(Cell::new(None));
    let (w2, seen2) = (w.clone(), seen.clone());
    let _cb = Gc::downgrade_with_callback(&obj, move || {
        seen2.set(Some(w2.borrow().upgrade().is_some()));
    });
    drop(obj);
    assert_eq!(
        seen.get(),
        Some(false),
        "weak handles are cleared before callbacks run"
    );
}

#[test]
fn a_callback_dropping_another_callback_handle_cancels_it() {
    take_log();
    let obj = Gc::new(Logged { name: "obj" });
    let first = Rc::new(RefCell::new(Some(Gc::downgrade_with_callback(
        &obj,
        || log("first"),
    ))));
    let slot = first.clone();
    let _second = Gc::downgrade_with_callback(&obj, move || {
        log("second");
        drop(slot.borrow_mut().take()); // cancels "first"
    });
    drop(obj);
    assert_eq!(take_log(), ["finalize obj", "second"]);
    assert!(first.borrow().is_none());
}

#[test]
fn callback_not_run_when_finalizer_resurrects() {
    take_log();
    let p = Gc::new_cyclic(|me| Phoenix {
        me: me.clone(),
        finalized: Cell::new(0),
    });
    let w = Gc::downgrade_with_callback(&p, || log("callback"));
    drop(p);
    assert_eq!(take_log(), ["phoenix finalize"]);
    assert!(w.upgrade().is_some());
    ASHES.with(|a| a.borrow_mut().clear());
    assert_eq!(take_log(), ["callback"]);
}

#[test]
fn callback_calling_collect_at_refcount_death() {
    // test_weakref.test_sf_bug_840829: a callback that runs gc.collect()
    // while an object is being torn down must not expose it to the collector.
    fresh();
    #[derive(Trace)]
    struct C {
        i: Option<Gc<C>>,
    }
    let c = Gc::new(C { i: None });
    let wr = Gc::downgrade_with_callback(&c, || {
        gc::collect();
    });
    drop(c);
    drop(wr);
    let c1 = Gc::new(C {
        i: Some(Gc::new(C { i: None })),
    });
    let collected = Rc::new(Cell::new(usize::MAX));
    let sink = collected.clone();
    let wr = Gc::downgrade_with_callback(c1.i.as_ref().unwrap(), move || {
        sink.set(gc::collect());
    });
    let c2 = Gc::new(C { i: Some(c1) });
    drop(c2);
    assert_eq!(collected.get(), 0);
    assert!(wr.upgrade().is_none());
    assert_eq!(gc::collect(), 0);
    assert!(gc::get_objects(None).is_empty());
}

// ---------------------------------------------------------------------------
// new_cyclic, try_unwrap & co
// ---------------------------------------------------------------------------

#[derive(Trace)]
struct SelfRef {
    me: Weak<SelfRef>,
    value: u32,
}

#[test]
fn new_cyclic_builds_a_self_referencing_value() {
    let called = Cell::new(false);
    let s = Gc::new_cyclic(|me| {
        assert!(
            me.upgrade().is_none(),
            "not yet alive while the closure runs"
        );
        assert_eq!(me.strong_count(), 0);
        called.set(true);
        SelfRef {
            me: me.clone(),
            value: 7,
        }
    });
    assert!(called.get());
    assert_eq!(Gc::strong_count(&s), 1);
    assert_eq!(Gc::weak_count(&s), 1);
    let again = s.me.upgrade().unwrap();
    assert!(Gc::ptr_eq(&again, &s));
    assert_eq!(again.value, 7);
    let w = Gc::downgrade(&s);
    drop(again);
    drop(s);
    assert!(w.upgrade().is_none());
}

#[test]
fn new_cyclic_panicking_closure_leaves_no_object() {
    fresh();
    let before = gc::get_objects(None).len();
    let escaped: Rc<RefCell<Option<Weak<SelfRef>>>> = Rc::default();
    let slot = escaped.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Gc::new_cyclic(|me: &Weak<SelfRef>| -> SelfRef {
            *slot.borrow_mut() = Some(me.clone());
            panic!("closure panics (expected by the test)");
        })
    }));
    assert!(r.is_err());
    let w = escaped.borrow_mut().take().unwrap();
    assert!(w.upgrade().is_none());
    drop(w);
    assert_eq!(gc::get_objects(None).len(), before);
    assert_eq!(gc::collect(), 0);
}

#[test]
fn try_unwrap_into_inner_unwrap_or_clone() {
    take_log();
    // Unique: the value comes out, weak handles die, their callbacks run,
    // the finalizer does not (the value lives on).
    let a = Gc::new(Logged { name: "a" });
    let w = Gc::downgrade_with_callback(&a, || log("cb a"));
    let value = Gc::try_unwrap(a).ok().expect("unique handle");
    assert_eq!(value.name, "a");
    assert!(w.upgrade().is_none());
    assert_eq!(take_log(), ["cb a"]);
    {
        let _gone = value; // a plain Logged value going away: no finalizer
    }
    assert!(take_log().is_empty());

    // Shared: the handle comes back.
    let b = Gc::new(Logged { name: "b" });
    let b2 = b.clone();
    let b = Gc::try_unwrap(b).err().expect("shared handle");
    assert_eq!(Gc::strong_count(&b), 2);
    assert!(Gc::into_inner(b).is_none()); // drops one handle
    assert_eq!(Gc::strong_count(&b2), 1);
    assert_eq!(Gc::into_inner(b2).map(|l| l.name), Some("b"));
    assert!(take_log().is_empty());

    let v = Gc::new(vec![1, 2, 3]);
    let v2 = v.clone();
    assert_eq!(Gc::unwrap_or_clone(v), vec![1, 2, 3]);
    assert_eq!(Gc::strong_count(&v2), 1);
    assert_eq!(Gc::unwrap_or_clone(v2), vec![1, 2, 3]);

    // A tracked value taken out leaves the generation lists.
    fresh();
    let n = Gc::new(Node { next: None });
    assert_eq!(gc::get_count().0, 1);
    let Node { next } = Gc::try_unwrap(n).ok().unwrap();
    assert!(next.is_none());
    assert_eq!(gc::get_count().0, 0);
    assert!(gc::get_objects(None).is_empty());
}

#[test]
fn get_mut_only_for_a_unique_handle() {
    let mut a = Gc::new(5_u32);
    *Gc::get_mut(&mut a).unwrap() += 1;
    assert_eq!(*a, 6);
    let w = Gc::downgrade(&a);
    assert!(Gc::get_mut(&mut a).is_none(), "a weak handle exists");
    drop(w);
    assert!(Gc::get_mut(&mut a).is_some());
    let b = a.clone();
    assert!(
        Gc::get_mut(&mut a).is_none(),
        "another strong handle exists"
    );
    drop(b);
    assert!(Gc::get_mut(&mut a).is_some());

    // Tracked values: the object may leave the lists while `&mut` is out,
    // and must be found by the collector again once shared.
    let mut n = Gc::new(Cyc {
        next: RefCell::new(None),
    });
    Gc::get_mut(&mut n).unwrap().next = RefCell::new(None);
    *n.next.borrow_mut() = Some(n.clone()); // a self-cycle, after get_mut
    assert!(Gc::is_tracked(&n));
    let w = Gc::downgrade(&n);
    drop(n);
    assert_eq!(gc::collect(), 1);
    assert!(w.upgrade().is_none());
}

#[test]
fn a_cycle_through_two_objects_lent_by_get_mut_is_collected() {
    // x and y each had a `&mut` lent out by `get_mut`; x's only handle is
    // moved into y, y's into z, and z closes the cycle z -> y -> x -> z.
    // The collector learns that y's borrow is over from z's edge, and x's
    // only after tracing y: a second round of the exposed-object check.
    fresh();
    #[derive(Trace)]
    struct P {
        next: RefCell<Option<Gc<P>>>,
        #[trace(skip)]
        _probe: DropProbe,
    }
    let dropped = DropCounter::new();
    let p = |next| P {
        next: RefCell::new(next),
        _probe: dropped.probe(),
    };
    let mut x = Gc::new(p(None));
    let mut y = Gc::new(p(None));
    let _ = Gc::get_mut(&mut x).unwrap();
    *Gc::get_mut(&mut y).unwrap().next.get_mut() = Some(x); // moved
    let z = Gc::new(p(Some(y))); // moved
    {
        let y_ref = z.next.borrow();
        let x_ref = y_ref.as_ref().unwrap().next.borrow();
        *x_ref.as_ref().unwrap().next.borrow_mut() = Some(z.clone());
    }
    drop(z);
    assert_eq!(gc::collect(), 3);
    assert_eq!(dropped.get(), 3);
}

#[test]
fn a_handle_cloned_after_get_mut_ends_the_exposure() {
    // Clone-then-drop leaves the strong count at 1 with the flag still set:
    // the object is then conservatively not traced while its only handle
    // is on the stack (it is reachable anyway) — and collected once that
    // handle is moved into a cycle.
    fresh();
    let mut a = Gc::new(Cyc {
        next: RefCell::new(None),
    });
    let _ = Gc::get_mut(&mut a).unwrap();
    drop(a.clone());
    let w = Gc::downgrade(&a); // also ends the exposure
    let b = Gc::new(Cyc {
        next: RefCell::new(Some(a)),
    });
    *w.upgrade().unwrap().next.borrow_mut() = Some(b);
    assert_eq!(gc::collect(), 2);
    assert!(w.upgrade().is_none());
}

#[test]
fn get_mut_then_moving_the_unique_handle_into_a_cycle_is_collected() {
    // `get_mut` may untrack a tracked object; moving that (unique) handle
    // into another object without cloning it and then closing a cycle
    // through it must still leave a collectable cycle.
    fresh();
    #[derive(Trace)]
    struct Probed {
        next: RefCell<Option<Gc<Probed>>>,
        #[trace(skip)]
        _probe: DropProbe,
    }
    let dropped = DropCounter::new();
    let mut a = Gc::new(Probed {
        next: RefCell::new(None),
        _probe: dropped.probe(),
    });
    let _ = Gc::get_mut(&mut a).unwrap();
    let b = Gc::new(Probed {
        next: RefCell::new(Some(a)), // moved, not cloned
        _probe: dropped.probe(),
    });
    // a.next = b, through b's handle to a.
    *b.next.borrow().as_ref().unwrap().next.borrow_mut() = Some(b.clone());
    drop(b);
    assert_eq!(gc::collect(), 2, "the a <-> b cycle is collected");
    assert_eq!(dropped.get(), 2);
}

// ---------------------------------------------------------------------------
// Count overflow (HAZARDS 7)
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "2^32 clones take minutes in a debug build; runs in release (cargo test --release)"
)]
fn strong_count_overflow_aborts() {
    if child_mode("strong_overflow") {
        let g = Gc::new(0_u64);
        for _ in 0..(1_u64 << 32) {
            std::mem::forget(std::hint::black_box(g.clone()));
        }
        unreachable!("the strong count cannot hold 2^32 handles");
    }
    let out = run_child("strong_count_overflow_aborts", "strong_overflow");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "child must abort; stderr: {stderr}");
    assert!(stderr.contains("overflow"), "stderr: {stderr}");
    assert!(!stderr.contains("cannot hold"), "stderr: {stderr}");
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "2^28 downgrades take ~15 s in a debug build; runs in release (cargo test --release)"
)]
fn weak_count_overflow_aborts() {
    // The weak count has 28 bits: 2^28 forgotten weak handles overflow it.
    if child_mode("weak_overflow") {
        let g = Gc::new(0_u64);
        for _ in 0..(1_u64 << 28) {
            std::mem::forget(std::hint::black_box(Gc::downgrade(&g)));
        }
        unreachable!("the weak count cannot hold 2^28 handles");
    }
    let out = run_child("weak_count_overflow_aborts", "weak_overflow");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "child must abort; stderr: {stderr}");
    assert!(stderr.contains("overflow"), "stderr: {stderr}");
}

// ---------------------------------------------------------------------------
// Object layout
// ---------------------------------------------------------------------------

#[test]
fn header_sizes() {
    use pygc::__private::header_bytes;
    #[derive(Trace)]
    struct Small(u8, Option<Gc<Small>>);
    #[derive(Trace)]
    struct Big([u64; 16], Vec<Gc<Big>>);
    #[derive(Trace)]
    struct Leaf(u8);
    assert_eq!(header_bytes::<Node>(), 32);
    assert_eq!(header_bytes::<Small>(), 32);
    assert_eq!(header_bytes::<Big>(), 32);
    assert_eq!(header_bytes::<Cyc>(), 32);
    assert_eq!(header_bytes::<u8>(), 8);
    assert_eq!(header_bytes::<u64>(), 8);
    assert_eq!(header_bytes::<String>(), 8);
    assert_eq!(header_bytes::<Leaf>(), 8);
    assert_eq!(header_bytes::<Vec<u32>>(), 8);
    assert!(Gc::is_tracked(&Gc::new(Node { next: None })));
    assert!(!Gc::is_tracked(&Gc::new(Leaf(1))));
}

#[test]
fn over_aligned_values_are_aligned() {
    #[derive(Trace)]
    #[repr(align(64))]
    struct Aligned(u8, Option<Gc<Aligned>>);
    #[derive(Trace)]
    #[repr(align(32))]
    struct AlignedLeaf(u8);
    for _ in 0..10 {
        let a = Gc::new(Aligned(3, None));
        assert_eq!(Gc::as_ptr(&a) as usize % 64, 0);
        assert_eq!(a.0, 3);
        let b = Gc::new(AlignedLeaf(4));
        assert_eq!(Gc::as_ptr(&b) as usize % 32, 0);
        assert_eq!(b.0, 4);
        let c = Gc::new(Aligned(5, Some(a.clone())));
        assert_eq!(c.1.as_ref().unwrap().0, 3);
    }
    assert_eq!(gc::collect(), 0);
}

#[test]
fn std_trait_impls_behave_like_rc() {
    use std::collections::{BTreeSet, HashSet};
    let a = Gc::new(3_i32);
    let b = Gc::new(3_i32);
    let c: Gc<i32> = 5.into();
    assert_eq!(a, b, "PartialEq compares values");
    assert!(!Gc::ptr_eq(&a, &b));
    assert!(a < c && c > b);
    assert_eq!(a.cmp(&c), std::cmp::Ordering::Less);
    let set: HashSet<Gc<i32>> = [a.clone(), b.clone(), c.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    let tree: BTreeSet<Gc<i32>> = [c.clone(), a.clone()].into_iter().collect();
    assert_eq!(tree.iter().map(|g| **g).collect::<Vec<_>>(), [3, 5]);
    assert_eq!(format!("{a}"), "3");
    assert_eq!(format!("{a:?}"), "3");
    assert_eq!(format!("{a:p}"), format!("{:p}", Gc::as_ptr(&a)));
    let d: Gc<String> = Gc::default();
    assert!(d.is_empty());
    let r: &i32 = a.as_ref();
    assert_eq!(*r, 3);
    let borrowed: &i32 = std::borrow::Borrow::borrow(&a);
    assert_eq!(*borrowed, 3);
    assert_eq!(format!("{:?}", Gc::downgrade(&a)), "(Weak)");
    assert_eq!(
        format!("{:?}", gc::DebugFlags::STATS | gc::DebugFlags::SAVEALL),
        "DebugFlags(STATS | SAVEALL)"
    );
}
