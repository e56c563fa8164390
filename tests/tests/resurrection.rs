//! Resurrection and weak handles (issue 14), on both heaps: weak handles made
//! after a resurrection work (header I2: clearing kills the handles alive at
//! that moment, not the object's future), `weak_count` counts live handles
//! only, callbacks run once; `Gc::from_finalizing` lets a finalizer
//! resurrect its own object and refuses everything else.

use gc_tests::{fresh, log, take_log};
use pygc::{gc, Finalize, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};

// ---------------------------------------------------------------------------
// The program: resurrection through a self-edge
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(finalize)]
struct N {
    id: u32,
    edges: RefCell<Vec<Gc<N>>>,
}

thread_local! {
    static STASH: RefCell<Vec<Gc<N>>> = const { RefCell::new(Vec::new()) };
}

impl Finalize for N {
    fn finalize(&self) {
        // Stash a handle to itself, found through its own self-edge.
        let me = self
            .edges
            .borrow()
            .iter()
            .find(|g| std::ptr::eq(Gc::as_ptr(g), self))
            .cloned();
        if let Some(e) = me {
            STASH.with(|s| s.borrow_mut().push(e));
        }
    }
}

#[test]
fn weak_handles_made_after_a_resurrection_work() {
    fresh();
    let a = Gc::new(N {
        id: 0,
        edges: RefCell::new(vec![]),
    });
    a.edges.borrow_mut().push(a.clone());
    let before = Gc::downgrade(&a);
    let ran = std::rc::Rc::new(Cell::new(0));
    let r = ran.clone();
    let before_cb = Gc::downgrade_with_callback(&a, move || r.set(r.get() + 1));
    drop(a);
    assert_eq!(gc::collect(), 0, "resurrected: nothing collected");
    assert_eq!(ran.get(), 1, "the callback of a cleared handle ran once");
    let back = STASH.with(|s| s.borrow_mut().pop()).expect("resurrected");
    assert_eq!(back.id, 0);
    // Handles made before the collection were cleared with the trash ...
    assert!(before.upgrade().is_none());
    assert!(before_cb.upgrade().is_none());
    assert_eq!(
        before.strong_count(),
        2,
        "the referent's count (self-edge + back), as Rc's"
    );
    assert_eq!(before.weak_count(), 0, "live handles only");
    assert_eq!(Gc::weak_count(&back), 0, "cleared handles are not counted");
    // ... but the object's future is intact.
    let w = Gc::downgrade(&back);
    assert!(
        w.upgrade().is_some(),
        "a weak handle made after the resurrection works"
    );
    assert!(Gc::ptr_eq(&w.upgrade().unwrap(), &back));
    assert_eq!(Gc::weak_count(&back), 1);
    let w2 = w.clone();
    assert_eq!(Gc::weak_count(&back), 2);
    let stale_clone = before.clone();
    assert!(
        stale_clone.upgrade().is_none(),
        "a clone of a cleared handle is cleared"
    );
    assert_eq!(Gc::weak_count(&back), 2);
    drop(stale_clone);
    drop(w2);
    assert_eq!(Gc::weak_count(&back), 1);
    assert_eq!(w.weak_count(), 1);
    // Callbacks registered after the resurrection run when it finally dies;
    // the earlier one never runs again.
    let later = ran.clone();
    let after_cb = Gc::downgrade_with_callback(&back, move || later.set(later.get() + 10));
    drop(back);
    assert_eq!(gc::collect(), 1, "its cycle is collected the second time");
    assert_eq!(ran.get(), 11);
    assert!(w.upgrade().is_none());
    assert!(after_cb.upgrade().is_none());
    drop((before, before_cb));
}

#[test]
fn repeated_resurrections_keep_the_epochs_apart() {
    fresh();
    thread_local! { static SAVED: RefCell<Option<Gc<Phoenix>>> = const { RefCell::new(None) }; }
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    struct Phoenix {
        lives: Cell<u32>,
    }
    impl Finalize for Phoenix {
        fn finalize(&self) {
            // Legacy (tp_del) finalizers run at every refcount death, after
            // the weak handles were cleared.
            log(format!("tp_del {}", self.lives.get()));
            if self.lives.get() > 0 {
                self.lives.set(self.lives.get() - 1);
                let me = Gc::from_finalizing(self).expect("own finalizer");
                SAVED.with(|s| *s.borrow_mut() = Some(me));
            }
        }
    }
    let p = Gc::new(Phoenix {
        lives: Cell::new(2),
    });
    let mut olds: Vec<Weak<Phoenix>> = Vec::new();
    let mut current = p;
    for round in 0..2 {
        let w = Gc::downgrade(&current);
        olds.push(w.clone());
        drop(current);
        assert!(
            w.upgrade().is_none(),
            "round {round}: cleared before tp_del"
        );
        current = SAVED.with(|s| s.borrow_mut().take()).expect("resurrected");
        assert_eq!(Gc::weak_count(&current), 0);
        assert!(olds.iter().all(|o| o.upgrade().is_none()));
    }
    let last = Gc::downgrade(&current);
    assert_eq!(Gc::weak_count(&current), 1);
    drop(current);
    assert_eq!(take_log(), ["tp_del 2", "tp_del 1", "tp_del 0"]);
    assert!(last.upgrade().is_none());
}

// ---------------------------------------------------------------------------
// Gc::from_finalizing
// ---------------------------------------------------------------------------

thread_local! {
    static KEEP: RefCell<Vec<Gc<Fin>>> = const { RefCell::new(Vec::new()) };
    static OTHER: RefCell<Option<Gc<Fin>>> = const { RefCell::new(None) };
    static RESULTS: RefCell<Vec<(u32, &'static str, bool)>> = const { RefCell::new(Vec::new()) };
}

#[derive(Clone, Copy, PartialEq)]
enum Plan {
    /// Resurrect itself with `from_finalizing(self)`.
    Resurrect,
    /// Try `from_finalizing` on a `Fin` on the stack.
    StackValue,
    /// Try it on the object in `OTHER`.
    OtherObject,
    /// Try it on the inner field that shares the object's address.
    InnerField,
    /// Drop the object in `OTHER` (nested finalizer), then resurrect.
    DropOther,
    /// Upgrade `outer` and try `from_finalizing` on it (nested, inner side).
    TryOuter,
}

#[derive(Trace)]
struct Inner {
    first: u32,
}

#[derive(Trace)]
#[trace(finalize)]
struct Fin {
    inner: Inner,
    #[trace(skip)]
    plan: Plan,
    edge: RefCell<Option<Gc<Fin>>>,
    outer: RefCell<Option<Weak<Fin>>>,
}

fn fin(id: u32, plan: Plan) -> Fin {
    Fin {
        inner: Inner { first: id },
        plan,
        edge: RefCell::new(None),
        outer: RefCell::new(None),
    }
}

fn result(id: u32, what: &'static str, some: bool) {
    RESULTS.with(|r| r.borrow_mut().push((id, what, some)));
}

impl Finalize for Fin {
    fn finalize(&self) {
        let id = self.inner.first;
        match self.plan {
            Plan::Resurrect => {
                let me = Gc::from_finalizing(self);
                result(id, "self", me.is_some());
                KEEP.with(|k| k.borrow_mut().extend(me));
            }
            Plan::StackValue => {
                let local = fin(99, Plan::Resurrect);
                result(id, "stack", Gc::from_finalizing(&local).is_some());
            }
            Plan::OtherObject => {
                let other = OTHER.with(|o| o.borrow().clone()).expect("OTHER set");
                result(id, "other", Gc::from_finalizing(&*other).is_some());
            }
            Plan::InnerField => {
                // Same address as the object's value, another type.
                result(
                    id,
                    "inner",
                    Gc::<Inner>::from_finalizing(&self.inner).is_some(),
                );
            }
            Plan::DropOther => {
                drop(OTHER.with(|o| o.borrow_mut().take()));
                let me = Gc::from_finalizing(self);
                result(id, "self after nested", me.is_some());
                KEEP.with(|k| k.borrow_mut().extend(me));
            }
            Plan::TryOuter => {
                let outer = self.outer.borrow().as_ref().and_then(Weak::upgrade);
                let outer = outer.expect("the outer object is mid-finalizer: upgradable");
                result(id, "outer", Gc::from_finalizing(&*outer).is_some());
            }
        }
    }
}

fn results() -> Vec<(u32, &'static str, bool)> {
    RESULTS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

#[test]
fn from_finalizing_at_refcount_death_resurrects() {
    fresh();
    let a = Gc::new(fin(1, Plan::Resurrect));
    let w = Gc::downgrade(&a);
    drop(a);
    assert_eq!(results(), [(1, "self", true)]);
    // Refcount-death resurrection leaves the weak handles alone.
    let back = w.upgrade().expect("weak handles made before still work");
    assert_eq!(Gc::weak_count(&back), 1);
    assert!(Gc::is_finalized(&back));
    assert!(Gc::is_tracked(&back), "tracked again");
    drop(back);
    let kept = KEEP.with(|k| k.borrow_mut().pop()).unwrap();
    assert_eq!(Gc::strong_count(&kept), 1);
    drop(kept);
    assert!(results().is_empty(), "never finalized twice");
    assert!(w.upgrade().is_none());
}

#[test]
fn from_finalizing_in_the_collector_resurrects_what_it_reaches() {
    fresh();
    let a = Gc::new(fin(1, Plan::Resurrect));
    let b = Gc::new(fin(2, Plan::StackValue));
    *a.edge.borrow_mut() = Some(b.clone());
    *b.edge.borrow_mut() = Some(a.clone());
    let wa = Gc::downgrade(&a);
    let wb = Gc::downgrade(&b);
    drop((a, b));
    assert_eq!(gc::collect(), 0, "all resurrected");
    let mut r = results();
    r.sort_by_key(|x| x.0);
    assert_eq!(r, [(1, "self", true), (2, "stack", false)]);
    assert!(
        wa.upgrade().is_none() && wb.upgrade().is_none(),
        "cleared before finalizers"
    );
    let a = KEEP.with(|k| k.borrow_mut().pop()).unwrap();
    let b = a.edge.borrow().clone().unwrap();
    assert!(Gc::is_finalized(&a) && Gc::is_finalized(&b));
    let (wa2, wb2) = (Gc::downgrade(&a), Gc::downgrade(&b));
    assert!(wa2.upgrade().is_some() && wb2.upgrade().is_some());
    drop((a, b));
    assert_eq!(
        gc::collect(),
        2,
        "collected the second time, not finalized again"
    );
    assert!(results().is_empty());
    assert!(wa2.upgrade().is_none() && wb2.upgrade().is_none());
}

#[test]
fn from_finalizing_refuses_everything_else() {
    fresh();
    // Not in any finalizer.
    let a = Gc::new(fin(1, Plan::Resurrect));
    assert!(Gc::from_finalizing(&*a).is_none());
    assert!(Gc::from_finalizing(&fin(5, Plan::Resurrect)).is_none());
    // A value on the stack, another (live) object, a field at the same
    // address with another type.
    OTHER.with(|o| *o.borrow_mut() = Some(a.clone()));
    drop(Gc::new(fin(2, Plan::StackValue)));
    drop(Gc::new(fin(3, Plan::OtherObject)));
    drop(Gc::new(fin(4, Plan::InnerField)));
    assert_eq!(
        results(),
        [
            (2, "stack", false),
            (3, "other", false),
            (4, "inner", false)
        ]
    );
    // Nested: the outer object's finalizer drops the inner one's last
    // handle; the inner finalizer cannot resurrect the outer object; the
    // outer one can again once the inner returned.
    let inner = Gc::new(fin(6, Plan::TryOuter));
    let outer = Gc::new(fin(7, Plan::DropOther));
    *inner.outer.borrow_mut() = Some(Gc::downgrade(&outer));
    OTHER.with(|o| *o.borrow_mut() = Some(inner));
    drop(a); // its finalizer resurrects it (kept in KEEP)
    drop(outer);
    assert_eq!(
        results(),
        [
            (1, "self", true),
            (6, "outer", false),
            (7, "self after nested", true)
        ]
    );
    // After the finalizer returned: the resurrected object is not
    // finalizing any more.
    let back = KEEP.with(|k| k.borrow_mut().pop()).unwrap();
    assert!(Gc::from_finalizing(&*back).is_none());
    drop(back);
    // The same in a collection: the trash's finalizers refuse other trash.
    let x = Gc::new(fin(8, Plan::OtherObject));
    let y = Gc::new(fin(9, Plan::StackValue));
    *x.edge.borrow_mut() = Some(y.clone());
    *y.edge.borrow_mut() = Some(x.clone());
    OTHER.with(|o| *o.borrow_mut() = Some(Gc::new(fin(10, Plan::Resurrect))));
    drop((x, y));
    assert_eq!(gc::collect(), 2);
    let mut r = results();
    r.sort_by_key(|x| x.0);
    assert_eq!(r, [(8, "other", false), (9, "stack", false)]);
    drop(OTHER.with(|o| o.borrow_mut().take()));
    drop(KEEP.with(|k| std::mem::take(&mut *k.borrow_mut())));
    results();
}

// ---------------------------------------------------------------------------
// The sync heap
// ---------------------------------------------------------------------------

mod sync_heap {
    use pygc::sync::{self, Gc, GcMutex, Weak};
    use pygc::{Finalize, Trace};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// The sync heap is process-wide: its tests run one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[derive(Trace)]
    #[trace(finalize)]
    struct S {
        id: u32,
        #[trace(skip)]
        resurrect: bool,
        edges: GcMutex<Vec<Gc<S>>>,
    }

    static STASH: Mutex<Vec<Gc<S>>> = Mutex::new(Vec::new());
    static REFUSED: AtomicUsize = AtomicUsize::new(0);

    impl Finalize for S {
        fn finalize(&self) {
            if self.resurrect {
                let me = Gc::from_finalizing(self).expect("own finalizer");
                STASH.lock().unwrap().push(me);
            } else {
                // Another object (its own edge target), a stack value.
                let other = self.edges.lock().first().cloned();
                if let Some(o) = other {
                    if Gc::from_finalizing(&*o).is_none() {
                        REFUSED.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let local = S {
                    id: 0,
                    resurrect: false,
                    edges: GcMutex::new(Vec::new()),
                };
                if Gc::from_finalizing(&local).is_none() {
                    REFUSED.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn s(id: u32, resurrect: bool) -> Gc<S> {
        Gc::new(S {
            id,
            resurrect,
            edges: GcMutex::new(Vec::new()),
        })
    }

    #[test]
    fn sync_weak_handles_made_after_a_resurrection_work() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        sync::gc::collect();
        let a = s(1, true);
        a.edges.lock().push(a.clone());
        let before = Gc::downgrade(&a);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let before_cb = Gc::downgrade_with_callback(&a, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        drop(a);
        sync::gc::collect();
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        let back = STASH.lock().unwrap().pop().expect("resurrected");
        assert_eq!(back.id, 1);
        assert!(before.upgrade().is_none() && before_cb.upgrade().is_none());
        assert_eq!(Gc::weak_count(&back), 0);
        let w = Gc::downgrade(&back);
        assert!(
            w.upgrade().is_some(),
            "a weak handle made after the resurrection works"
        );
        let w2 = w.clone();
        let stale = before.clone();
        assert!(stale.upgrade().is_none());
        assert_eq!(Gc::weak_count(&back), 2);
        drop((w2, stale));
        assert_eq!(Gc::weak_count(&back), 1);
        // On another thread too.
        let w3 = w.clone();
        let before3 = before.clone();
        std::thread::spawn(move || {
            assert!(w3.upgrade().is_some());
            assert!(before3.upgrade().is_none());
        })
        .join()
        .unwrap();
        let later = ran.clone();
        let after_cb = Gc::downgrade_with_callback(&back, move || {
            later.fetch_add(10, Ordering::SeqCst);
        });
        back.edges.lock().clear();
        drop(back);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            11,
            "the new callback ran, the old one not again"
        );
        assert!(w.upgrade().is_none() && after_cb.upgrade().is_none());
        drop((before, before_cb));
    }

    #[test]
    fn sync_from_finalizing_both_deaths_and_refusals() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        sync::gc::collect();
        REFUSED.store(0, Ordering::SeqCst);
        // Refcount death.
        let a = s(1, true);
        let wa: Weak<S> = Gc::downgrade(&a);
        drop(a);
        let back = STASH.lock().unwrap().pop().expect("resurrected");
        assert!(
            wa.upgrade().is_some(),
            "refcount death leaves weak handles alone"
        );
        assert!(
            Gc::from_finalizing(&*back).is_none(),
            "not in its finalizer any more"
        );
        drop(back);
        assert!(STASH.lock().unwrap().is_empty(), "never finalized twice");
        assert!(wa.upgrade().is_none());
        // Collector: x resurrects itself and y (which it reaches); y's
        // finalizer is refused for x and for a stack value.
        let x = s(2, true);
        let y = s(3, false);
        x.edges.lock().push(y.clone());
        y.edges.lock().push(x.clone());
        drop((x, y));
        assert_eq!(sync::gc::collect(), 0);
        assert_eq!(REFUSED.load(Ordering::SeqCst), 2);
        let x = STASH.lock().unwrap().pop().expect("resurrected");
        let y = x.edges.lock()[0].clone();
        assert_eq!(y.id, 3);
        assert!(Gc::downgrade(&y).upgrade().is_some());
        drop(y);
        drop(x);
        assert_eq!(sync::gc::collect(), 2);
        assert!(STASH.lock().unwrap().is_empty());
        // Outside any finalizer.
        let z = s(4, false);
        assert!(Gc::from_finalizing(&*z).is_none());
    }
}
