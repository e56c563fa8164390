//! The rest of the `gc` module: statistics, `gc.callbacks`, introspection
//! (`get_objects`, `get_referrers`, `get_referents`, `is_tracked`), debug
//! flags, `garbage`, re-entrancy.

use gc_tests::{child_mode, fresh, log, run_child, take_log};
use pygc::gc::{self, CollectionInfo, DebugFlags, GenerationStats, Phase};
use pygc::{Finalize, Gc, GcAny, Trace};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

#[derive(Trace)]
struct Node {
    next: RefCell<Vec<Gc<Node>>>,
}

fn node() -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(Vec::new()),
    })
}

fn self_cycle() {
    let n = node();
    n.next.borrow_mut().push(n.clone());
}

fn contains(objects: &[GcAny], target: &GcAny) -> bool {
    objects.iter().any(|o| GcAny::ptr_eq(o, target))
}

#[test]
fn stats_accumulate_per_generation() {
    fresh();
    gc::disable();
    let s0 = gc::get_stats();
    self_cycle();
    self_cycle();
    assert_eq!(gc::collect_generation(0), 2);
    self_cycle();
    assert_eq!(gc::collect_generation(1), 1);
    assert_eq!(gc::collect_generation(1), 0);
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    struct Legacy(RefCell<Option<Gc<Legacy>>>);
    impl Finalize for Legacy {
        fn finalize(&self) {}
    }
    let l = Gc::new(Legacy(RefCell::new(None)));
    *l.0.borrow_mut() = Some(l.clone());
    drop(l);
    self_cycle();
    assert_eq!(gc::collect(), 2);
    let s1 = gc::get_stats();
    let diff = |g: usize| GenerationStats {
        collections: s1[g].collections - s0[g].collections,
        collected: s1[g].collected - s0[g].collected,
        uncollectable: s1[g].uncollectable - s0[g].uncollectable,
    };
    assert_eq!(
        diff(0),
        GenerationStats {
            collections: 1,
            collected: 2,
            uncollectable: 0
        }
    );
    assert_eq!(
        diff(1),
        GenerationStats {
            collections: 2,
            collected: 1,
            uncollectable: 0
        }
    );
    assert_eq!(
        diff(2),
        GenerationStats {
            collections: 1,
            collected: 1,
            uncollectable: 1
        }
    );
    // Clean up the uncollectable self-cycle.
    for g in gc::take_garbage() {
        g.downcast_ref::<Legacy>().unwrap().0.borrow_mut().take();
    }
    gc::enable();
}

type Events = Rc<RefCell<Vec<(Phase, CollectionInfo)>>>;

fn record_all() -> (Events, gc::CallbackId) {
    let events: Events = Rc::default();
    let sink = events.clone();
    let id = gc::add_callback(move |phase, info| sink.borrow_mut().push((phase, *info)));
    (events, id)
}

#[test]
fn callbacks_see_start_then_stop_with_figures() {
    fresh();
    gc::disable();
    let (events, id) = record_all();
    for _ in 0..3 {
        self_cycle();
    }
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    struct Legacy(RefCell<Option<Gc<Legacy>>>);
    impl Finalize for Legacy {
        fn finalize(&self) {}
    }
    let l = Gc::new(Legacy(RefCell::new(None)));
    *l.0.borrow_mut() = Some(l.clone());
    drop(l);
    assert_eq!(gc::collect(), 4);
    let ev = events.borrow().clone();
    assert_eq!(ev.len(), 2);
    let (p0, start) = ev[0];
    let (p1, stop) = ev[1];
    assert_eq!((p0, p1), (Phase::Start, Phase::Stop));
    assert_eq!(
        (start.generation, start.collected, start.uncollectable),
        (2, 0, 0)
    );
    assert_eq!(start.duration, Duration::ZERO);
    assert_eq!(
        (stop.generation, stop.collected, stop.uncollectable),
        (2, 3, 1)
    );
    events.borrow_mut().clear();
    gc::collect_generation(1);
    let ev = events.borrow().clone();
    assert_eq!(
        ev.iter().map(|e| (e.0, e.1.generation)).collect::<Vec<_>>(),
        [(Phase::Start, 1), (Phase::Stop, 1)]
    );
    assert!(gc::remove_callback(id));
    for g in gc::take_garbage() {
        g.downcast_ref::<Legacy>().unwrap().0.borrow_mut().take();
    }
    gc::enable();
}

#[test]
fn big_collection_reports_a_duration() {
    fresh();
    gc::disable();
    let (events, id) = record_all();
    for _ in 0..100_000 {
        self_cycle();
    }
    assert_eq!(gc::collect(), 100_000);
    let ev = events.borrow().clone();
    let (phase, stop) = ev[1];
    assert_eq!(phase, Phase::Stop);
    assert_eq!(stop.collected, 100_000);
    assert!(stop.duration > Duration::ZERO);
    assert!(gc::remove_callback(id));
    gc::enable();
}

#[test]
fn seed_002_callbacks_over_5000_self_cycles() {
    // gc.callbacks.append(cb); create 5 000 self-referencing objects; collect.
    fresh();
    gc::disable();
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = lines.clone();
    let id = gc::add_callback(move |phase, info| {
        sink.borrow_mut().push(match phase {
            Phase::Start => format!("start gen {}", info.generation),
            Phase::Stop => format!(
                "stop gen {}: collected {}, uncollectable {}",
                info.generation, info.collected, info.uncollectable
            ),
        });
    });
    for _ in 0..5_000 {
        self_cycle();
    }
    assert_eq!(gc::collect(), 5_000);
    assert_eq!(
        *lines.borrow(),
        ["start gen 2", "stop gen 2: collected 5000, uncollectable 0"]
    );
    assert_eq!(gc::collect(), 0);
    assert_eq!(lines.borrow().len(), 4);
    assert!(gc::remove_callback(id));
    // Removed: not called any more.
    gc::collect();
    assert_eq!(lines.borrow().len(), 4);
    gc::enable();
}

#[test]
fn remove_callback_of_unknown_id_is_false() {
    let id = gc::add_callback(|_, _| {});
    assert!(gc::remove_callback(id));
    assert!(!gc::remove_callback(id));
    // An id from another thread's heap is unknown here.
    let other = std::thread::spawn(|| gc::add_callback(|_, _| {}))
        .join()
        .unwrap();
    assert!(!gc::remove_callback(other));
}

#[test]
fn callbacks_run_in_registration_order() {
    fresh();
    take_log();
    let a = gc::add_callback(|p, _| log(format!("a {p:?}")));
    let b = gc::add_callback(|p, _| log(format!("b {p:?}")));
    gc::collect();
    assert_eq!(take_log(), ["a Start", "b Start", "a Stop", "b Stop"]);
    assert!(gc::remove_callback(a));
    gc::collect();
    assert_eq!(take_log(), ["b Start", "b Stop"]);
    assert!(gc::remove_callback(b));
}

#[test]
fn panicking_gc_callback_does_not_break_collection() {
    fresh();
    gc::disable();
    take_log();
    let bad = gc::add_callback(|phase, _| {
        if phase == Phase::Start {
            panic!("gc callback panics (expected by the test)");
        }
    });
    let good = gc::add_callback(|phase, info| log(format!("{phase:?} {}", info.collected)));
    self_cycle();
    self_cycle();
    assert_eq!(gc::collect(), 2);
    assert_eq!(take_log(), ["Start 0", "Stop 2"]);
    // Still registered and still harmless.
    self_cycle();
    assert_eq!(gc::collect(), 1);
    assert_eq!(take_log(), ["Start 0", "Stop 1"]);
    assert!(gc::remove_callback(bad));
    assert!(gc::remove_callback(good));
    gc::enable();
}

#[test]
fn collect_from_a_gc_callback_returns_zero() {
    fresh();
    gc::disable();
    let results = Rc::new(RefCell::new(Vec::new()));
    let sink = results.clone();
    let id = gc::add_callback(move |_, _| {
        self_cycle(); // garbage a nested collection could see
        sink.borrow_mut().push(gc::collect());
        sink.borrow_mut().push(gc::collect_generation(0));
    });
    self_cycle();
    // The Start callback runs before the collection: its cycle is found too.
    assert_eq!(gc::collect(), 2);
    assert_eq!(*results.borrow(), [0, 0, 0, 0]);
    assert!(gc::remove_callback(id));
    // The cycle the Stop callback made is left for the next collection.
    assert_eq!(gc::collect(), 1);
    gc::enable();
}

#[test]
fn callback_adding_and_removing_callbacks() {
    fresh();
    let added: Rc<Cell<Option<gc::CallbackId>>> = Rc::default();
    let slot = added.clone();
    let id = gc::add_callback(move |phase, _| {
        if phase == Phase::Start && slot.get().is_none() {
            slot.set(Some(gc::add_callback(|_, _| {})));
        }
    });
    gc::collect();
    let inner = added.get().expect("added during the collection");
    assert!(gc::remove_callback(inner));
    assert!(gc::remove_callback(id));
    // A callback removing itself.
    let me: Rc<Cell<Option<gc::CallbackId>>> = Rc::default();
    let me2 = me.clone();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    me.set(Some(gc::add_callback(move |_, _| {
        c.set(c.get() + 1);
        if let Some(id) = me2.get() {
            gc::remove_callback(id);
        }
    })));
    gc::collect();
    gc::collect();
    assert!(
        calls.get() <= 2,
        "removed itself during the first collection"
    );
    assert!(!gc::remove_callback(me.get().unwrap()));
}

// ---------------------------------------------------------------------------
// Introspection
// ---------------------------------------------------------------------------

#[derive(Trace)]
struct Holder {
    items: Vec<Gc<Leaf>>,
}

#[derive(Trace)]
struct Leaf(u32);

#[test]
fn get_referrers() {
    // test_gc.test_get_referrers
    fresh();
    let alist = Gc::new(Leaf(1));
    let h1 = Gc::new(Holder {
        items: vec![alist.clone()],
    });
    let h2 = Gc::new(Holder {
        items: vec![Gc::new(Leaf(2)), alist.clone()],
    });
    let unrelated = Gc::new(Holder {
        items: vec![Gc::new(Leaf(3))],
    });
    let got = gc::get_referrers(&Gc::to_any(&alist));
    assert_eq!(got.len(), 2);
    assert!(contains(&got, &Gc::to_any(&h1)));
    assert!(contains(&got, &Gc::to_any(&h2)));
    assert!(!contains(&got, &Gc::to_any(&unrelated)));
    // A handle inside an untraced (skipped) field is invisible.
    #[derive(Trace)]
    struct Hidden {
        #[trace(skip)]
        _leaf: Gc<Leaf>,
        _other: Option<Gc<Leaf>>,
    }
    let hidden = Gc::new(Hidden {
        _leaf: alist.clone(),
        _other: None,
    });
    assert_eq!(gc::get_referrers(&Gc::to_any(&alist)).len(), 2);
    // Frozen objects are not searched (they are in no generation).
    gc::freeze();
    assert!(gc::get_referrers(&Gc::to_any(&alist)).is_empty());
    gc::unfreeze();
    assert_eq!(gc::get_referrers(&Gc::to_any(&alist)).len(), 2);
    drop(hidden);
}

#[test]
fn get_referents() {
    // test_gc.test_get_referents
    let a = Gc::new(Leaf(1));
    let b = Gc::new(Leaf(2));
    let h = Gc::new(Holder {
        items: vec![a.clone(), b.clone(), a.clone()],
    });
    let got = gc::get_referents(&Gc::to_any(&h));
    assert_eq!(got.len(), 3, "each edge once, duplicates kept");
    assert!(GcAny::ptr_eq(&got[0], &Gc::to_any(&a)));
    assert!(GcAny::ptr_eq(&got[1], &Gc::to_any(&b)));
    assert!(GcAny::ptr_eq(&got[2], &Gc::to_any(&a)));
    assert_eq!(got[1].clone().downcast::<Leaf>().ok().unwrap().0, 2);
    // Untracked objects have no referents.
    assert!(gc::get_referents(&Gc::to_any(&a)).is_empty());
    assert!(gc::get_referents(&Gc::to_any(&Gc::new(7_i32))).is_empty());
    // Weak handles are not referents.
    #[derive(Trace)]
    struct W(pygc::Weak<Leaf>, Gc<Leaf>);
    let w = Gc::new(W(Gc::downgrade(&a), b.clone()));
    let got = gc::get_referents(&Gc::to_any(&w));
    assert_eq!(got.len(), 1);
    assert!(GcAny::ptr_eq(&got[0], &Gc::to_any(&b)));
    assert!(w.0.upgrade().is_some());
}

#[test]
fn is_tracked_semantics() {
    // test_gc.test_is_tracked: atoms are never tracked; containers of
    // handles are, even when empty (tracking is decided by type here).
    assert!(!Gc::is_tracked(&Gc::new(())));
    assert!(!Gc::is_tracked(&Gc::new(1_i32)));
    assert!(!Gc::is_tracked(&Gc::new(1.5_f64)));
    assert!(!Gc::is_tracked(&Gc::new(String::from("a"))));
    assert!(!Gc::is_tracked(&Gc::new(vec![1_u8, 2])));
    assert!(!Gc::is_tracked(&Gc::new((1_u8, String::new()))));
    assert!(!Gc::is_tracked(&Gc::new(Leaf(1))));
    assert!(!Gc::is_tracked(&Gc::new(std::collections::HashMap::<
        u32,
        String,
    >::new())));
    assert!(Gc::is_tracked(&Gc::new(Holder { items: vec![] })));
    assert!(Gc::is_tracked(&Gc::new(Vec::<Gc<Leaf>>::new())));
    assert!(Gc::is_tracked(&Gc::new(Some(Gc::new(Leaf(1))))));
    assert!(Gc::is_tracked(&Gc::new(RefCell::new(None::<Gc<u8>>))));
    let any = Gc::to_any(&Gc::new(Holder { items: vec![] }));
    assert!(any.is_tracked());
    assert!(!Gc::to_any(&Gc::new(3_u8)).is_tracked());
}

#[test]
fn get_objects_lists_exactly_the_tracked_objects() {
    fresh();
    let h = Gc::new(Holder {
        items: vec![Gc::new(Leaf(1))],
    });
    let n = node();
    let all = gc::get_objects(None);
    assert_eq!(all.len(), 2);
    assert!(contains(&all, &Gc::to_any(&h)));
    assert!(contains(&all, &Gc::to_any(&n)));
    assert!(all.iter().any(|o| o.type_name().ends_with("Holder")));
    let back: Gc<Holder> = all
        .iter()
        .find(|o| o.is::<Holder>())
        .unwrap()
        .clone()
        .downcast()
        .ok()
        .unwrap();
    assert!(Gc::ptr_eq(&back, &h));
    assert_eq!(gc::get_objects(Some(0)).len(), 2);
    assert!(gc::get_objects(Some(1)).is_empty());
}

#[test]
fn gc_any_basics() {
    let a = Gc::new(5_i64);
    let any = Gc::to_any(&a);
    assert_eq!(any.type_name(), "i64");
    assert_eq!(any.as_ptr(), Gc::as_ptr(&a) as *const ());
    assert_eq!(any.strong_count(), 2);
    assert!(format!("{any:?}").contains("i64"));
    let any = any.downcast::<u8>().unwrap_err();
    let back = any.downcast::<i64>().unwrap();
    assert!(Gc::ptr_eq(&back, &a));
    assert_eq!(Gc::strong_count(&a), 2);
}

#[test]
fn is_finalized() {
    fresh();
    #[derive(Trace)]
    #[trace(finalize)]
    struct F(RefCell<Option<Gc<F>>>);
    thread_local!(static KEEP: RefCell<Option<Gc<F>>> = const { RefCell::new(None) });
    impl Finalize for F {
        fn finalize(&self) {
            // Resurrect through the self handle.
            KEEP.with(|k| *k.borrow_mut() = self.0.borrow().clone());
        }
    }
    let f = Gc::new(F(RefCell::new(None)));
    assert!(!Gc::is_finalized(&f));
    *f.0.borrow_mut() = Some(f.clone());
    drop(f);
    assert_eq!(gc::collect(), 0);
    let f = KEEP.with(|k| k.borrow_mut().take()).unwrap();
    assert!(Gc::is_finalized(&f));
    drop(f);
    assert_eq!(gc::collect(), 1);
    assert!(KEEP.with(|k| k.borrow().is_none()), "not finalized twice");
}

#[test]
fn garbage_and_take_garbage() {
    fresh();
    assert!(gc::garbage().is_empty());
    gc::set_debug(DebugFlags::SAVEALL);
    self_cycle();
    self_cycle();
    assert_eq!(gc::collect(), 2);
    let snap = gc::garbage();
    assert_eq!(snap.len(), 2);
    assert_eq!(gc::garbage().len(), 2, "a snapshot does not empty it");
    assert!(snap.iter().all(|g| g.is::<Node>()));
    drop(snap);
    gc::set_debug(DebugFlags::empty());
    let taken = gc::take_garbage();
    assert_eq!(taken.len(), 2);
    assert!(gc::garbage().is_empty());
    drop(taken);
    assert_eq!(gc::collect(), 2);
}

#[test]
fn debug_flags() {
    let f = DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE | DebugFlags::SAVEALL;
    assert_eq!(f, DebugFlags::LEAK);
    assert_eq!(DebugFlags::LEAK.bits(), 2 | 4 | 32);
    assert_eq!(DebugFlags::STATS.bits(), 1);
    assert!(DebugFlags::LEAK.contains(DebugFlags::SAVEALL));
    assert!(!DebugFlags::LEAK.contains(DebugFlags::STATS));
    assert!(DebugFlags::empty().is_empty());
    let mut g = DebugFlags::empty();
    g |= DebugFlags::STATS;
    assert_eq!(g, DebugFlags::from_bits(1));
    gc::set_debug(g);
    assert_eq!(gc::get_debug(), DebugFlags::STATS);
    gc::set_debug(DebugFlags::empty());
    assert!(gc::get_debug().is_empty());
}

#[test]
fn debug_output_goes_to_stderr() {
    if child_mode("debug_output") {
        gc::set_debug(DebugFlags::STATS | DebugFlags::COLLECTABLE | DebugFlags::UNCOLLECTABLE);
        self_cycle();
        gc::collect();
        return;
    }
    let out = run_child("debug_output_goes_to_stderr", "debug_output");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("collecting generation 2"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("collectable"), "stderr: {stderr}");
    assert!(stderr.contains("Node"), "stderr: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("collecting generation"),
        "stdout: {stdout}"
    );
}
