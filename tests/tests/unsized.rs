//! Unsized values on the per-thread heap: `Gc<dyn Trait>`, `Gc<str>`,
//! `Gc<[T]>`, `coerce!`, the constructors, and cycles through them
//! (issue 15). Small enough to run under Miri.

use gc_tests::{fresh, log, take_log, DropCounter, DropProbe};
use pygc::{coerce, debug, gc, Finalize, Gc, GcAny, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::mem::size_of;
use std::rc::Rc;

trait Shape: Trace {
    fn area(&self) -> f64;
    fn name(&self) -> String;
}

#[derive(Trace)]
struct Circle {
    r: f64,
    #[trace(skip)]
    _probe: Option<DropProbe>,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.0 * self.r * self.r
    }
    fn name(&self) -> String {
        "circle".into()
    }
}

/// A shape that holds handles: tracked.
#[derive(Trace)]
struct Group {
    parts: RefCell<Vec<Gc<dyn Shape>>>,
    #[trace(skip)]
    _probe: Option<DropProbe>,
}

impl Shape for Group {
    fn area(&self) -> f64 {
        self.parts.borrow().iter().map(|p| p.area()).sum()
    }
    fn name(&self) -> String {
        "group".into()
    }
}

fn circle(r: f64, c: &DropCounter) -> Gc<dyn Shape> {
    coerce!(Gc::new(Circle {
        r,
        _probe: Some(c.probe()),
    }))
}

fn group(c: &DropCounter) -> Gc<dyn Shape> {
    coerce!(Gc::new(Group {
        parts: RefCell::new(Vec::new()),
        _probe: Some(c.probe()),
    }))
}

fn add(g: &Gc<dyn Shape>, part: Gc<dyn Shape>) {
    let any = Gc::to_any(g);
    any.downcast_ref::<Group>()
        .expect("a group")
        .parts
        .borrow_mut()
        .push(part);
}

#[test]
fn sizes() {
    assert_eq!(size_of::<Gc<dyn Shape>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<Option<Gc<dyn Shape>>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<Gc<str>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<Gc<[u8]>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<Gc<Circle>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<Gc<u8>>>(), size_of::<usize>());
    // Header sizes of sized values are unchanged.
    assert_eq!(pygc::__private::header_bytes::<Group>(), 32);
    assert_eq!(pygc::__private::header_bytes::<u64>(), 8);
}

#[test]
fn coerce_shares_the_object() {
    fresh();
    let drops = DropCounter::new();
    let c = Gc::new(Circle {
        r: 2.0,
        _probe: Some(drops.probe()),
    });
    let s: Gc<dyn Shape> = coerce!(c.clone());
    assert_eq!(s.area(), 12.0);
    assert_eq!(Gc::strong_count(&s), 2);
    assert!(Gc::<dyn Shape>::ptr_eq(&coerce!(c.clone()), &s));
    assert_eq!(
        Gc::as_ptr(&s) as *const u8,
        Gc::as_ptr(&c) as *const u8,
        "same address"
    );
    assert!(!Gc::is_tracked(&s), "a circle owns no handle");
    drop(c);
    assert_eq!(drops.get(), 0);
    let s2 = s.clone();
    drop(s);
    assert_eq!(Gc::strong_count(&s2), 1);
    drop(s2);
    assert_eq!(drops.get(), 1);
}

#[test]
fn upcast_to_supertrait() {
    let drops = DropCounter::new();
    let s = circle(1.0, &drops);
    let t: Gc<dyn Trace> = coerce!(s.clone());
    assert_eq!(Gc::strong_count(&s), 2);
    assert_eq!(Gc::to_any(&t).type_name(), Gc::to_any(&s).type_name());
    drop((s, t));
    assert_eq!(drops.get(), 1);
}

#[test]
fn type_name_and_downcast_of_the_concrete_type() {
    let drops = DropCounter::new();
    let s = circle(1.0, &drops);
    let any: GcAny = Gc::to_any(&s);
    assert!(any.type_name().ends_with("Circle"), "{}", any.type_name());
    assert!(any.is::<Circle>());
    let back: Gc<Circle> = any.downcast().ok().unwrap();
    assert_eq!(back.r, 1.0);
    assert_eq!(Gc::to_any(&Gc::<str>::from("x")).type_name(), "str");
    assert_eq!(Gc::to_any(&Gc::<[u8]>::from(vec![1])).type_name(), "[u8]");
    let g = group(&drops);
    assert!(Gc::to_any(&g).type_name().ends_with("Group"));
    assert!(Gc::is_tracked(&g));
}

#[test]
fn cycle_through_trait_objects_is_collected() {
    fresh();
    let drops = DropCounter::new();
    let a = group(&drops);
    let b = group(&drops);
    add(&a, b.clone());
    add(&b, a.clone());
    add(&b, circle(1.0, &drops));
    let wa: Weak<dyn Shape> = Gc::downgrade(&a);
    assert_eq!(b.name(), "group");
    drop((a, b));
    assert_eq!(drops.get(), 0);
    // The circle is untracked: freed by refcount when a group drops it.
    assert_eq!(gc::collect(), 2);
    assert_eq!(drops.get(), 3);
    assert!(wa.upgrade().is_none());
}

#[derive(Trace)]
#[trace(finalize)]
struct Fin {
    id: u32,
    next: RefCell<Option<Gc<dyn Node>>>,
}

impl Finalize for Fin {
    fn finalize(&self) {
        log(format!("fin {}", self.id));
    }
}

#[derive(Trace)]
#[trace(legacy_finalize)]
struct Legacy {
    next: RefCell<Option<Gc<dyn Node>>>,
}

impl Finalize for Legacy {
    fn finalize(&self) {
        log("legacy");
    }
}

trait Node: Trace {
    fn link(&self, to: Gc<dyn Node>);
}

impl Node for Fin {
    fn link(&self, to: Gc<dyn Node>) {
        *self.next.borrow_mut() = Some(to);
    }
}

impl Node for Legacy {
    fn link(&self, to: Gc<dyn Node>) {
        *self.next.borrow_mut() = Some(to);
    }
}

fn fin(id: u32) -> Gc<dyn Node> {
    coerce!(Gc::new(Fin {
        id,
        next: RefCell::new(None),
    }))
}

#[test]
fn pep442_finalizers_through_trait_objects() {
    fresh();
    take_log();
    let a = fin(1);
    let b = fin(2);
    a.link(b.clone());
    b.link(a.clone());
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let mut log = take_log();
    log.sort();
    assert_eq!(log, ["fin 1", "fin 2"]);
    // Refcount death runs it too.
    drop(fin(3));
    assert_eq!(take_log(), ["fin 3"]);
}

#[test]
fn legacy_finalizer_cycle_through_trait_objects_is_uncollectable() {
    fresh();
    take_log();
    let a: Gc<dyn Node> = coerce!(Gc::new(Legacy {
        next: RefCell::new(None),
    }));
    let b = fin(7);
    a.link(b.clone());
    b.link(a.clone());
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let garbage = gc::take_garbage();
    // Only the object with the legacy finalizer, as in CPython.
    assert_eq!(garbage.len(), 1);
    assert!(garbage[0].type_name().ends_with("Legacy"));
    assert!(take_log().is_empty(), "legacy cycles are not finalized");
    // Break the cycle by hand (as `gc.garbage` users do) and let it go.
    let legacy = garbage
        .iter()
        .find_map(|g| g.downcast_ref::<Legacy>())
        .unwrap();
    legacy.next.borrow_mut().take();
    drop(garbage);
    let mut log = take_log();
    log.sort();
    assert_eq!(log, ["fin 7", "legacy"]);
}

/// A node whose children are a slice of handles.
#[derive(Trace)]
struct Tree {
    kids: RefCell<Option<Gc<[Gc<Tree>]>>>,
    #[trace(skip)]
    _probe: DropProbe,
}

fn tree(c: &DropCounter) -> Gc<Tree> {
    Gc::new(Tree {
        kids: RefCell::new(None),
        _probe: c.probe(),
    })
}

#[test]
fn slices_of_handles_are_tracked_and_cycles_through_them_collected() {
    fresh();
    let drops = DropCounter::new();
    let root = tree(&drops);
    let kids: Gc<[Gc<Tree>]> = Gc::from(vec![root.clone(), tree(&drops), root.clone()]);
    assert!(Gc::is_tracked(&kids));
    *root.kids.borrow_mut() = Some(kids.clone());
    let wk = Gc::downgrade(&kids);
    drop((root, kids));
    assert_eq!(drops.get(), 0);
    assert_eq!(gc::collect(), 3);
    assert_eq!(drops.get(), 2);
    assert!(wk.upgrade().is_none());
}

#[test]
fn coerced_array_of_handles_in_a_cycle() {
    fresh();
    let drops = DropCounter::new();
    let a = tree(&drops);
    let arr: Gc<[Gc<Tree>]> = coerce!(Gc::new([a.clone(), a.clone()]));
    assert!(Gc::is_tracked(&arr));
    assert_eq!(Gc::to_any(&arr).type_name().matches("; 2]").count(), 1);
    *a.kids.borrow_mut() = Some(arr);
    drop(a);
    assert_eq!(gc::collect(), 2);
    assert_eq!(drops.get(), 1);
}

#[test]
fn handle_free_slices_and_strings_are_untracked() {
    let s: Gc<str> = Gc::from("hello");
    assert!(!Gc::is_tracked(&s));
    let xs: Gc<[u64]> = Gc::from(vec![1, 2, 3]);
    assert!(!Gc::is_tracked(&xs));
    let arr: Gc<[u64]> = coerce!(Gc::new([4_u64, 5]));
    assert!(!Gc::is_tracked(&arr));
    assert_eq!(&arr[..], &[4, 5]);
}

#[test]
fn constructors() {
    let drops = DropCounter::new();
    assert_eq!(&*Gc::<str>::from("a"), "a");
    assert_eq!(&*Gc::<str>::from(String::from("bc")), "bc");
    assert_eq!(&*Gc::<str>::from(Box::<str>::from("de")), "de");
    assert_eq!(&*Gc::<str>::default(), "");
    assert_eq!(&*Gc::<[u8]>::from(&[1_u8, 2][..]), &[1, 2]);
    assert_eq!(&*Gc::<[u8]>::from(Box::<[u8]>::from(&[3_u8][..])), &[3]);
    assert!(Gc::<[String]>::default().is_empty());
    let collected: Gc<[String]> = ["x", "y"].iter().map(|s| s.to_string()).collect();
    assert_eq!(&collected[..], &["x".to_string(), "y".to_string()]);
    let zst: Gc<[()]> = Gc::from(vec![(), (), ()]);
    assert_eq!(zst.len(), 3);
    // Elements are moved, not cloned, and dropped once.
    let probes: Gc<[Probed]> = Gc::from(vec![Probed(drops.probe()), Probed(drops.probe())]);
    assert_eq!(drops.get(), 0);
    drop(probes);
    assert_eq!(drops.get(), 2);
    // From<Box<dyn Trait>>: the concrete type decides trackedness.
    let b: Box<dyn Shape> = Box::new(Circle {
        r: 1.0,
        _probe: Some(drops.probe()),
    });
    let g: Gc<dyn Shape> = Gc::from(b);
    assert!(!Gc::is_tracked(&g));
    assert_eq!(g.name(), "circle");
    drop(g);
    assert_eq!(drops.get(), 3);
    let b: Box<dyn Shape> = Box::new(Group {
        parts: RefCell::new(vec![]),
        _probe: Some(drops.probe()),
    });
    let g: Gc<dyn Shape> = Gc::from(b);
    assert!(Gc::is_tracked(&g));
    add(&g, g.clone());
    drop(g);
    assert_eq!(gc::collect(), 1);
    assert_eq!(drops.get(), 4);
    // Boxed slices of handles are tracked.
    let hs: Gc<[Gc<u8>]> = Gc::from(vec![Gc::new(1_u8)].into_boxed_slice());
    assert!(Gc::is_tracked(&hs));
}

/// Holds a probe; owns no handle.
#[derive(Trace)]
struct Probed(
    #[trace(skip)]
    #[allow(dead_code)]
    DropProbe,
);

#[test]
fn weak_handles_to_unsized_values() {
    let drops = DropCounter::new();
    // Untracked: the weak handle frees the memory with what it took.
    let s = circle(1.0, &drops);
    let w = Gc::downgrade(&s);
    let w2 = w.clone();
    assert_eq!(w.strong_count(), 1);
    assert_eq!(w.weak_count(), 2);
    assert!(w.upgrade().is_some());
    drop(s);
    assert_eq!(drops.get(), 1);
    assert!(w.upgrade().is_none());
    drop(w);
    drop(w2);
    // Strings and slices.
    let st: Gc<str> = Gc::from("weak");
    let ws = Gc::downgrade(&st);
    assert_eq!(&*ws.upgrade().unwrap(), "weak");
    drop(st);
    assert!(ws.upgrade().is_none());
    drop(ws);
    let sl: Gc<[Gc<Tree>]> = Gc::from(vec![tree(&drops)]);
    let wl = Gc::downgrade(&sl);
    drop(sl);
    assert!(wl.upgrade().is_none());
    drop(wl);
    // Coerced weak handles, including an empty one.
    let c = Gc::new(Circle {
        r: 2.0,
        _probe: None,
    });
    let wc: Weak<dyn Shape> = coerce!(Gc::downgrade(&c));
    assert_eq!(wc.upgrade().unwrap().area(), 12.0);
    let empty: Weak<dyn Shape> = coerce!(Weak::<Circle>::new());
    assert!(empty.upgrade().is_none());
    let empty2: Weak<dyn Trace> = coerce!(empty.clone());
    assert!(empty2.upgrade().is_none());
    assert!(empty.ptr_eq(&coerce!(Weak::<Circle>::new())));
    drop(c);
    assert!(wc.upgrade().is_none());
}

#[test]
fn weak_callbacks_on_trait_objects() {
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let drops = DropCounter::new();
    let s = circle(1.0, &drops);
    let w = Gc::downgrade_with_callback(&s, move || r.set(r.get() + 1));
    // A coerced callback handle keeps its callback.
    let w: Weak<dyn Trace> = coerce!(w);
    drop(s);
    assert_eq!(ran.get(), 1);
    assert!(w.upgrade().is_none());
    // Cyclic trash through a trait object: the callback runs in the weak phase.
    fresh();
    let ran2 = Rc::new(Cell::new(0));
    let r2 = ran2.clone();
    let a = group(&drops);
    add(&a, a.clone());
    let _w = Gc::downgrade_with_callback(&a, move || r2.set(r2.get() + 1));
    drop(a);
    assert_eq!(gc::collect(), 1);
    assert_eq!(ran2.get(), 1);
}

#[test]
fn referrers_and_referents_see_trait_object_edges() {
    fresh();
    let drops = DropCounter::new();
    let g = group(&drops);
    let c = circle(1.0, &drops);
    add(&g, c.clone());
    let referents = gc::get_referents(&Gc::to_any(&g));
    assert_eq!(referents.len(), 1);
    assert!(referents[0].type_name().ends_with("Circle"));
    assert_eq!(referents[0].as_ptr(), Gc::as_ptr(&c) as *const ());
    let referrers = gc::get_referrers(&Gc::to_any(&c));
    assert_eq!(referrers.len(), 1);
    assert!(GcAny::ptr_eq(&referrers[0], &Gc::to_any(&g)));
    // Slices show up the same way.
    let t = tree(&drops);
    let kids: Gc<[Gc<Tree>]> = Gc::from(vec![t.clone()]);
    let referrers = gc::get_referrers(&Gc::to_any(&t));
    assert_eq!(referrers.len(), 1);
    assert!(GcAny::ptr_eq(&referrers[0], &Gc::to_any(&kids)));
    // And the debug graph names the concrete types.
    let graph = debug::refs_graph(&Gc::to_any(&g), 2);
    let text = format!("{graph:?}");
    assert!(text.contains("Circle"), "{text}");
}

#[test]
fn get_mut_and_unique_access() {
    let mut xs: Gc<[u32]> = Gc::from(vec![1, 2, 3]);
    Gc::get_mut(&mut xs).unwrap()[1] = 20;
    assert_eq!(&xs[..], &[1, 20, 3]);
    let ys = xs.clone();
    assert!(Gc::get_mut(&mut xs).is_none());
    drop(ys);
    assert!(Gc::get_mut(&mut xs).is_some());
}

#[test]
fn over_aligned_trait_objects() {
    #[derive(Trace)]
    #[repr(align(64))]
    struct Wide(u8, RefCell<Option<Gc<dyn Trace>>>);
    let w = Gc::new(Wide(7, RefCell::new(None)));
    let t: Gc<dyn Trace> = coerce!(w.clone());
    assert_eq!(Gc::as_ptr(&t) as *const u8 as usize % 64, 0);
    *w.1.borrow_mut() = Some(t);
    drop(w);
    assert_eq!(gc::collect(), 1);
}

#[test]
fn long_chain_through_trait_objects_drops_without_recursion_limits() {
    // Past the trashcan's nesting limit (50) either way; Miri is slow.
    let n = if cfg!(miri) { 300 } else { 100_000 };
    let mut head: Option<Gc<dyn Node>> = None;
    for id in 0..n {
        let n = fin(id);
        if let Some(h) = head.take() {
            n.link(h);
        }
        head = Some(n);
    }
    take_log();
    drop(head);
    assert_eq!(take_log().len(), n as usize);
}

#[test]
fn pool_serves_small_tracked_slices() {
    std::thread::spawn(|| {
        assert_eq!(pygc::__private::pool_pages(), 0);
        let keep: Vec<Gc<[Gc<u8>]>> = (0..64).map(|_| Gc::from(vec![Gc::new(0_u8)])).collect();
        assert!(pygc::__private::pool_pages() > 0);
        drop(keep);
    })
    .join()
    .unwrap();
}
