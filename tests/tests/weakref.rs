//! Weak handles, their callbacks and `weakref::finalize`, ported from
//! CPython's `Lib/test/test_weakref.py` (3.11) where it applies.

use gc_tests::{fresh, log, take_log, DropCounter, DropProbe};
use pygc::{gc, weakref, Finalize, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[derive(Trace)]
struct C {
    other: RefCell<Option<Gc<C>>>,
    wr: RefCell<Option<Weak<C>>>,
    name: &'static str,
}

fn c(name: &'static str) -> Gc<C> {
    Gc::new(C {
        other: RefCell::new(None),
        wr: RefCell::new(None),
        name,
    })
}

type Callback = Box<dyn FnOnce()>;

fn counter() -> (Rc<Cell<usize>>, impl Fn() -> Callback) {
    let n = Rc::new(Cell::new(0));
    let m = n.clone();
    (n, move || {
        let m = m.clone();
        Box::new(move || m.set(m.get() + 1)) as Callback
    })
}

#[test]
fn basic_callback() {
    let (called, cb) = counter();
    let o = c("o");
    let r = Gc::downgrade_with_callback(&o, cb());
    assert!(Gc::ptr_eq(&r.upgrade().unwrap(), &o));
    drop(o);
    assert!(
        r.upgrade().is_none(),
        "expected reference to be invalidated"
    );
    assert_eq!(called.get(), 1);
}

#[test]
fn multiple_callbacks() {
    let (called, cb) = counter();
    let o = c("o");
    let ref1 = Gc::downgrade_with_callback(&o, cb());
    let ref2 = Gc::downgrade_with_callback(&o, cb());
    drop(o);
    assert!(ref1.upgrade().is_none() && ref2.upgrade().is_none());
    assert_eq!(
        called.get(),
        2,
        "callback not called the right number of times"
    );
}

#[test]
fn multiple_selfref_callbacks() {
    // All references are invalidated before any callback is invoked: the
    // callback of the newest reference uses the oldest one.
    let o = c("o");
    let first: Rc<RefCell<Option<Weak<C>>>> = Rc::default();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (f1, s1) = (first.clone(), seen.clone());
    let (f2, s2) = (first.clone(), seen.clone());
    *first.borrow_mut() = Some(Gc::downgrade_with_callback(&o, move || {
        let f = f1.borrow();
        s1.borrow_mut()
            .push(f.as_ref().map(|w| w.upgrade().is_some()));
    }));
    let _ref1 = Gc::downgrade_with_callback(&o, move || {
        let f = f2.borrow();
        s2.borrow_mut()
            .push(f.as_ref().map(|w| w.upgrade().is_some()));
    });
    drop(o);
    assert_eq!(*seen.borrow(), [Some(false), Some(false)]);
}

#[test]
fn callback_of_a_dropped_weak_handle_never_runs() {
    let (called, cb) = counter();
    let o = c("o");
    let r = Gc::downgrade_with_callback(&o, cb());
    let clone = r.clone();
    drop(r);
    drop(o);
    assert_eq!(called.get(), 0);
    assert!(clone.upgrade().is_none());
}

#[test]
fn callback_in_cycle_resurrection() {
    // c1 and c2 are a cycle, each holding a callback-weak handle to the other:
    // those handles are trash themselves, so their callbacks never run (and
    // nothing gets resurrected). A callback-weak handle held outside the trash
    // does run.
    fresh();
    let alist: Rc<RefCell<Vec<String>>> = Rc::default();
    let c1 = c("c1");
    let c2 = c("c2");
    *c1.other.borrow_mut() = Some(c2.clone());
    *c2.other.borrow_mut() = Some(c1.clone());
    let (a1, a2) = (alist.clone(), alist.clone());
    // The callbacks would resurrect through a strong handle if they ran.
    let keep1 = Rc::new(RefCell::new(None::<Gc<C>>));
    let keep2 = keep1.clone();
    let c1_for_cb = Gc::downgrade(&c1);
    let c2_for_cb = Gc::downgrade(&c2);
    *c1.wr.borrow_mut() = Some(Gc::downgrade_with_callback(&c2, move || {
        a1.borrow_mut().push("c1's callback".into());
        *keep1.borrow_mut() = c1_for_cb.upgrade();
    }));
    *c2.wr.borrow_mut() = Some(Gc::downgrade_with_callback(&c1, move || {
        a2.borrow_mut().push("c2's callback".into());
        *keep2.borrow_mut() = c2_for_cb.upgrade();
    }));
    let a3 = alist.clone();
    let wr = Gc::downgrade_with_callback(&c1, move || a3.borrow_mut().push("C went away".into()));
    drop((c1, c2));
    assert!(
        alist.borrow().is_empty(),
        "del isn't enough to reclaim anything"
    );
    assert_eq!(gc::collect(), 2);
    assert_eq!(*alist.borrow(), ["C went away"]);
    assert!(wr.upgrade().is_none());
    alist.borrow_mut().clear();
    assert_eq!(gc::collect(), 0);
    assert!(alist.borrow().is_empty());
}

#[test]
fn callback_reachable_one_way() {
    // c2 -> c2 (self), c2 -> c1, c2.wr = weak(c1, callback reading c2):
    // the callback is trash (owned by c2), so it does not run.
    fresh();
    let ran = Rc::new(Cell::new(false));
    let c1 = c("c1");
    let c2 = c("c2");
    *c2.other.borrow_mut() = Some(c1.clone());
    #[derive(Trace)]
    struct Holder {
        me: RefCell<Option<Gc<Holder>>>,
        target: Gc<C>,
        wr: Weak<C>,
    }
    let r = ran.clone();
    let h = Gc::new(Holder {
        me: RefCell::new(None),
        target: c2.clone(),
        wr: Gc::downgrade_with_callback(&c1, move || r.set(true)),
    });
    *h.me.borrow_mut() = Some(h.clone());
    drop((c1, c2, h));
    assert_eq!(gc::collect(), 3);
    assert!(!ran.get());
}

#[derive(Trace)]
#[trace(finalize)]
struct Fin {
    name: &'static str,
    next: RefCell<Option<Gc<Fin>>>,
    peer: RefCell<Option<Weak<Fin>>>,
    #[trace(skip)]
    _probe: Option<DropProbe>,
}

impl Finalize for Fin {
    fn finalize(&self) {
        log(format!("finalize {}", self.name));
        if let Some(peer) = self.peer.borrow().as_ref() {
            log(format!(
                "{} upgrades peer: {}",
                self.name,
                if peer.upgrade().is_some() {
                    "some"
                } else {
                    "none"
                }
            ));
        }
    }
}

fn fin(name: &'static str) -> Gc<Fin> {
    Gc::new(Fin {
        name,
        next: RefCell::new(None),
        peer: RefCell::new(None),
        _probe: None,
    })
}

#[test]
fn callback_of_outside_weak_runs_before_finalizers() {
    fresh();
    take_log();
    let a = fin("a");
    let b = fin("b");
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    let wa = Gc::downgrade_with_callback(&a, || log("callback a"));
    let wb = Gc::downgrade_with_callback(&b, || log("callback b"));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let l = take_log();
    assert_eq!(l.len(), 4, "{l:?}");
    let last_callback = l.iter().rposition(|e| e.starts_with("callback")).unwrap();
    let first_finalizer = l.iter().position(|e| e.starts_with("finalize")).unwrap();
    assert!(
        last_callback < first_finalizer,
        "callbacks before finalizers: {l:?}"
    );
    assert!(l.contains(&"callback a".to_string()) && l.contains(&"callback b".to_string()));
    assert!(wa.upgrade().is_none() && wb.upgrade().is_none());
}

#[test]
fn callback_not_called_when_the_weak_handle_is_trash() {
    // A holds a callback-weak to B; A and B are both trash: no callback.
    fresh();
    take_log();
    let a = fin("a");
    let b = fin("b");
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    *a.peer.borrow_mut() = Some(Gc::downgrade_with_callback(&b, || log("B's callback")));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let l = take_log();
    assert!(!l.contains(&"B's callback".to_string()), "{l:?}");
    assert!(l.contains(&"a upgrades peer: none".to_string()), "{l:?}");
}

#[test]
fn callback_weak_inside_trash_to_a_live_object_is_dropped_silently() {
    fresh();
    take_log();
    let live = fin("live");
    let a = fin("a");
    *a.next.borrow_mut() = Some(a.clone());
    *a.peer.borrow_mut() = Some(Gc::downgrade_with_callback(&live, || {
        log("live's callback")
    }));
    drop(a);
    assert_eq!(gc::collect(), 1);
    drop(live);
    let l = take_log();
    assert_eq!(
        l,
        ["finalize a", "a upgrades peer: none", "finalize live"],
        "the handle was cleared with its owner's trash, and its callback died with it \
         (CPython 3.11 prints the same)"
    );
}

#[test]
fn upgrade_in_a_finalizer_of_other_trash_is_none() {
    fresh();
    take_log();
    let live = fin("live");
    let a = fin("a");
    let b = fin("b");
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    *a.peer.borrow_mut() = Some(Gc::downgrade(&b)); // trash
    *b.peer.borrow_mut() = Some(Gc::downgrade(&live)); // not trash
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let mut l = take_log();
    l.sort();
    assert_eq!(
        l,
        [
            "a upgrades peer: none",
            // CPython clears every weakref object in the unreachable set
            // (bpo-38006): `b`'s handle too, though `live` lives on.
            "b upgrades peer: none",
            "finalize a",
            "finalize b"
        ]
    );
    drop(live);
}

#[test]
fn callback_upgrading_other_trash_gets_none() {
    fresh();
    let a = fin("a");
    let b = fin("b");
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    let wb = Gc::downgrade(&b);
    let seen = Rc::new(Cell::new(None));
    let s = seen.clone();
    let _wa = Gc::downgrade_with_callback(&a, move || s.set(Some(wb.upgrade().is_some())));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(
        seen.get(),
        Some(false),
        "every weak handle to trash is cleared first"
    );
}

#[test]
fn ref_created_during_finalizer() {
    // Bug #1377858: a weak handle created in a finalizer must not dangle.
    #[derive(Trace)]
    #[trace(finalize)]
    struct Target {
        me: Weak<Target>,
    }
    thread_local!(static FROM_DEL: RefCell<Option<Weak<Target>>> = const { RefCell::new(None) });
    impl Finalize for Target {
        fn finalize(&self) {
            let me = self.me.upgrade().unwrap();
            FROM_DEL.with(|f| *f.borrow_mut() = Some(Gc::downgrade(&me)));
        }
    }
    let w = Gc::new_cyclic(|me| Target { me: me.clone() });
    drop(w);
    let from_del = FROM_DEL.with(|f| f.borrow_mut().take()).unwrap();
    assert!(from_del.upgrade().is_none());
    assert_eq!(from_del.strong_count(), 0);
}

#[test]
fn weak_count_tracks_handles() {
    let o = c("o");
    assert_eq!(Gc::weak_count(&o), 0);
    let w1 = Gc::downgrade(&o);
    let w2 = Gc::downgrade_with_callback(&o, || {});
    let w3 = w1.clone();
    assert_eq!(Gc::weak_count(&o), 3);
    assert_eq!(w2.weak_count(), 3);
    drop(w3);
    assert_eq!(Gc::weak_count(&o), 2);
    drop(o);
    assert_eq!(w1.weak_count(), 0);
    drop((w1, w2));
}

// ---------------------------------------------------------------------------
// weakref::finalize
// ---------------------------------------------------------------------------

#[test]
fn finalize_alive_call_detach() {
    let a = c("a");
    let res = Rc::new(RefCell::new(Vec::new()));
    let r = res.clone();
    let f = weakref::finalize(&a, move || r.borrow_mut().push(67 + 43 + 89));
    assert!(f.alive());
    assert!(f.call());
    assert!(!f.call());
    assert!(!f.call());
    assert!(!f.detach());
    assert!(!f.alive());
    assert_eq!(*res.borrow(), [199]);

    res.borrow_mut().clear();
    let r = res.clone();
    let f = weakref::finalize(&a, move || r.borrow_mut().push(199));
    assert!(f.detach());
    assert!(!f.call());
    assert!(!f.detach());
    assert!(!f.alive());
    drop(a);
    assert!(res.borrow().is_empty());
}

#[test]
fn finalize_runs_once_on_refcount_death() {
    let a = c("a");
    let res = Rc::new(Cell::new(0));
    let r = res.clone();
    let f = weakref::finalize(&a, move || r.set(r.get() + 1));
    drop(a);
    assert_eq!(res.get(), 1);
    assert!(!f.call());
    assert!(!f.detach());
    assert!(!f.alive());
    assert_eq!(res.get(), 1);
}

#[test]
fn finalize_survives_dropping_its_handle() {
    let a = c("a");
    let res = Rc::new(Cell::new(0));
    let r = res.clone();
    let _ = weakref::finalize(&a, move || r.set(r.get() + 1)); // handle dropped at once
    drop(a);
    assert_eq!(res.get(), 1, "the registry keeps it");
}

#[test]
fn finalize_runs_on_cycle_collection() {
    fresh();
    take_log();
    let a = fin("a");
    *a.next.borrow_mut() = Some(a.clone());
    let f = weakref::finalize(&a, || log("weakref.finalize"));
    drop(a);
    assert!(f.alive());
    assert_eq!(gc::collect(), 1);
    assert!(!f.alive());
    assert_eq!(take_log(), ["weakref.finalize", "finalize a"]);
}

#[test]
fn finalize_order_newest_first_with_callbacks() {
    take_log();
    let a = fin("a");
    let f1 = weakref::finalize(&a, || log("f1"));
    let _w = Gc::downgrade_with_callback(&a, || log("cb"));
    let f2 = weakref::finalize(&a, || log("f2"));
    drop(a);
    assert_eq!(take_log(), ["finalize a", "f2", "cb", "f1"]);
    assert!(!f1.alive() && !f2.alive());
}

#[test]
fn finalize_on_an_object_resurrected_at_refcount_death() {
    #[derive(Trace)]
    #[trace(finalize)]
    struct Phoenix {
        me: Weak<Phoenix>,
    }
    thread_local!(static SAVED: RefCell<Option<Gc<Phoenix>>> = const { RefCell::new(None) });
    impl Finalize for Phoenix {
        fn finalize(&self) {
            SAVED.with(|s| *s.borrow_mut() = self.me.upgrade());
        }
    }
    let p = Gc::new_cyclic(|me| Phoenix { me: me.clone() });
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let f = weakref::finalize(&p, move || r.set(r.get() + 1));
    drop(p);
    assert_eq!(ran.get(), 0, "resurrected: it did not die");
    assert!(f.alive());
    let back = SAVED.with(|s| s.borrow_mut().take()).unwrap();
    assert!(Gc::is_finalized(&back));
    drop(back);
    assert_eq!(ran.get(), 1, "runs at the real death");
    assert!(!f.alive());
}

#[test]
fn finalize_on_an_object_resurrected_from_cyclic_trash() {
    // In cyclic trash the weak phase runs before finalizers, so the
    // weakref.finalize callback runs even though the object then survives.
    fresh();
    #[derive(Trace)]
    #[trace(finalize)]
    struct Phoenix {
        me: RefCell<Option<Gc<Phoenix>>>,
        #[trace(skip)]
        _probe: DropProbe,
    }
    thread_local!(static SAVED: RefCell<Option<Gc<Phoenix>>> = const { RefCell::new(None) });
    impl Finalize for Phoenix {
        fn finalize(&self) {
            SAVED.with(|s| *s.borrow_mut() = self.me.borrow().clone());
        }
    }
    let dropped = DropCounter::new();
    let p = Gc::new(Phoenix {
        me: RefCell::new(None),
        _probe: dropped.probe(),
    });
    *p.me.borrow_mut() = Some(p.clone());
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let f = weakref::finalize(&p, move || r.set(r.get() + 1));
    drop(p);
    assert_eq!(gc::collect(), 0, "resurrected: nothing collected");
    assert_eq!(ran.get(), 1);
    assert!(!f.alive());
    assert_eq!(dropped.get(), 0);
    let back = SAVED.with(|s| s.borrow_mut().take()).unwrap();
    assert!(Gc::is_finalized(&back));
    drop(back);
    assert_eq!(gc::collect(), 1);
    assert_eq!(dropped.get(), 1);
    assert_eq!(ran.get(), 1, "ran once");
}

#[test]
fn callbacks_registered_on_trash_by_a_finalizer_run_when_it_is_freed() {
    // A finalizer registers a weakref.finalize and a weak callback on another
    // trash object (weak handles to it are already cleared). In CPython they
    // run when that object is deallocated at the end of the collection; they
    // must at least never stay registered against freed memory.
    #[derive(Trace)]
    #[trace(finalize)]
    struct N {
        name: &'static str,
        next: RefCell<Option<Gc<N>>>,
    }
    thread_local! {
        static LATE: RefCell<Vec<weakref::Finalizer>> = const { RefCell::new(Vec::new()) };
        static LATE_WEAK: RefCell<Vec<Weak<N>>> = const { RefCell::new(Vec::new()) };
    }
    impl Finalize for N {
        fn finalize(&self) {
            if self.name == "a" {
                let b = self.next.borrow().clone().unwrap();
                assert!(
                    Gc::downgrade(&b).upgrade().is_none(),
                    "a new weak to trash is dead"
                );
                let f = weakref::finalize(&b, || log("late finalize"));
                let w = Gc::downgrade_with_callback(&b, || log("late weak callback"));
                LATE.with(|l| l.borrow_mut().push(f));
                LATE_WEAK.with(|l| l.borrow_mut().push(w));
            }
        }
    }
    fresh();
    take_log();
    let a = Gc::new(N {
        name: "a",
        next: RefCell::new(None),
    });
    let b = Gc::new(N {
        name: "b",
        next: RefCell::new(Some(a.clone())),
    });
    *a.next.borrow_mut() = Some(b.clone());
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let mut l = take_log();
    l.sort();
    assert_eq!(l, ["late finalize", "late weak callback"]);
    assert!(LATE.with(|l| l.borrow().iter().all(|f| !f.alive())));
    // Addresses get reused: no stale entry may fire for new objects.
    for _ in 0..100 {
        let x = Gc::new(N {
            name: "x",
            next: RefCell::new(None),
        });
        let _f = weakref::finalize(&x, || log("x"));
    }
    assert_eq!(take_log(), vec!["x"; 100]);
    LATE_WEAK.with(|l| l.borrow_mut().clear());
}

#[test]
fn finalize_on_an_untracked_object() {
    let s = Gc::new(String::from("leaf"));
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let f = weakref::finalize(&s, move || r.set(true));
    assert!(f.alive());
    drop(s);
    assert!(ran.get());
}

#[test]
fn panicking_weak_callback_does_not_stop_the_others() {
    fresh();
    take_log();
    let o = c("o");
    let _w1 = Gc::downgrade_with_callback(&o, || log("first"));
    let _w2 = Gc::downgrade_with_callback(&o, || panic!("callback panics (expected by the test)"));
    let _w3 = Gc::downgrade_with_callback(&o, || log("third"));
    drop(o);
    assert_eq!(take_log(), ["third", "first"]);
    // In a collection too.
    let a = fin("a");
    *a.next.borrow_mut() = Some(a.clone());
    let _x = Gc::downgrade_with_callback(&a, || panic!("callback panics (expected by the test)"));
    let _y = Gc::downgrade_with_callback(&a, || log("y"));
    drop(a);
    assert_eq!(gc::collect(), 1);
    assert_eq!(take_log(), ["y", "finalize a"]);
}

thread_local! {
    static KEPT: RefCell<Vec<Gc<Keeper>>> = const { RefCell::new(Vec::new()) };
}

/// Trash that resurrects itself from its finalizer and owns a weak handle
/// with a callback to an object outside the trash.
#[derive(Trace)]
#[trace(finalize)]
struct Keeper {
    me: RefCell<Option<Gc<Keeper>>>,
    peer: RefCell<Option<Weak<Fin>>>,
}

impl Finalize for Keeper {
    fn finalize(&self) {
        let me = self.me.borrow().clone().expect("a self-cycle");
        KEPT.with(|k| k.borrow_mut().push(me));
    }
}

/// CPython clears every weakref object in the unreachable set, whatever it
/// points at (bpo-38006), before any finalizer runs: one whose owner a
/// finalizer resurrects never calls back, even when its referent dies
/// later (checked against CPython 3.11, 2026-12-03).
#[test]
fn callback_of_a_weak_in_resurrected_trash_never_runs() {
    fresh();
    take_log();
    let live = fin("live");
    let k = Gc::new(Keeper {
        me: RefCell::new(None),
        peer: RefCell::new(Some(Gc::downgrade_with_callback(&live, || {
            log("live's callback")
        }))),
    });
    *k.me.borrow_mut() = Some(k.clone());
    drop(k);
    assert_eq!(gc::collect(), 0, "the finalizer resurrected it");
    assert_eq!(KEPT.with(|k| k.borrow().len()), 1);
    drop(live);
    let l = take_log();
    assert_eq!(l, ["finalize live"], "no callback: {l:?}");
    let kept = KEPT.with(|k| k.borrow_mut().pop()).expect("kept");
    kept.me.borrow_mut().take();
    drop(kept);
    assert_eq!(take_log(), Vec::<String>::new());
}
