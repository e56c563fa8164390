//! Unsized values on the sync heap: `sync::Gc<dyn Trait + Send + Sync>`,
//! `sync::Gc<str>`, `sync::Gc<[T]>`, `coerce!` on sync handles, the
//! constructors, and cycles through trait objects collected across
//! threads (issue 15).
#![cfg(not(loom))]

use pygc::sync::{self, GcMutex};
use pygc::{coerce, Finalize, Trace};
use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// The tests here count what a collection frees: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

trait Shape: Trace + Send + Sync {
    fn area(&self) -> f64;
    fn link(&self, _to: sync::Gc<dyn Shape>) {}
}

/// Counts drops of the value it is part of.
struct DropProbe(Arc<AtomicUsize>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[derive(Trace)]
struct Circle {
    r: f64,
    #[trace(skip)]
    _probe: DropProbe,
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.0 * self.r * self.r
    }
}

/// A shape that holds a handle to another shape: tracked.
#[derive(Trace)]
#[trace(finalize)]
struct Link {
    next: GcMutex<Option<sync::Gc<dyn Shape>>>,
    #[trace(skip)]
    _probe: DropProbe,
    #[trace(skip)]
    finalized: Arc<AtomicUsize>,
}

impl Finalize for Link {
    fn finalize(&self) {
        self.finalized.fetch_add(1, SeqCst);
    }
}

impl Shape for Link {
    fn area(&self) -> f64 {
        self.next.lock().as_ref().map_or(0.0, |n| n.area())
    }
    fn link(&self, to: sync::Gc<dyn Shape>) {
        *self.next.lock() = Some(to);
    }
}

fn link(drops: &Arc<AtomicUsize>, finalized: &Arc<AtomicUsize>) -> sync::Gc<dyn Shape> {
    coerce!(sync::Gc::new(Link {
        next: GcMutex::new(None),
        _probe: DropProbe(drops.clone()),
        finalized: finalized.clone(),
    }))
}

#[test]
fn sizes() {
    assert_eq!(size_of::<sync::Gc<dyn Shape>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<sync::Gc<str>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<sync::Gc<[u8]>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<sync::Gc<u8>>(), size_of::<usize>());
    assert_eq!(
        size_of::<Option<sync::Gc<dyn Shape>>>(),
        2 * size_of::<usize>()
    );
}

/// A cycle through trait objects, a boxed trait object and a slice of
/// handles (a -> s -> [b, leaf], b -> a) whose last handles are dropped on
/// two other threads is found and freed by a collection on a third;
/// finalizers run once, values drop once, weak handles are cleared.
#[test]
fn dyn_cycle_collected_across_threads() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let finalized = Arc::new(AtomicUsize::new(0));
    let a = link(&drops, &finalized);
    let b = link(&drops, &finalized);
    let leaf: sync::Gc<dyn Shape> = coerce!(sync::Gc::new(Circle {
        r: 1.0,
        _probe: DropProbe(drops.clone()),
    }));
    assert!(sync::Gc::is_tracked(&a));
    assert!(!sync::Gc::is_tracked(&leaf));
    let wa = sync::Gc::downgrade(&a);
    let wleaf = sync::Gc::downgrade(&leaf);
    let parts: sync::Gc<[sync::Gc<dyn Shape>]> = sync::Gc::from(vec![b.clone(), leaf]);
    let boxed: Box<dyn Shape> = Box::new(SliceShape(parts));
    let s: sync::Gc<dyn Shape> = sync::Gc::from(boxed);
    assert!(sync::Gc::is_tracked(&s));
    a.link(s);
    b.link(a.clone());
    let t1 = std::thread::spawn(move || drop(a));
    let t2 = std::thread::spawn(move || drop(b));
    t1.join().unwrap();
    t2.join().unwrap();
    assert_eq!(drops.load(SeqCst), 0);
    assert!(wa.upgrade().is_some(), "the cycle is alive until collected");
    let collected = std::thread::spawn(sync::gc::collect).join().unwrap();
    assert_eq!(collected, 4, "a, b, the boxed SliceShape and the slice");
    assert_eq!(drops.load(SeqCst), 3, "a, b and the leaf dropped");
    assert_eq!(finalized.load(SeqCst), 2, "each Link finalized once");
    assert!(wa.upgrade().is_none());
    assert!(wleaf.upgrade().is_none());
    assert_eq!(wa.strong_count(), 0);
}

/// A two-object cycle through trait objects alone (no refcount help).
#[test]
fn pure_dyn_cycle_needs_the_collector() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let finalized = Arc::new(AtomicUsize::new(0));
    let a = link(&drops, &finalized);
    let b = link(&drops, &finalized);
    a.link(b.clone());
    b.link(a.clone());
    let w: sync::Weak<dyn Shape> = sync::Gc::downgrade(&b);
    std::thread::spawn(move || {
        drop(a);
        drop(b);
    })
    .join()
    .unwrap();
    assert_eq!(drops.load(SeqCst), 0);
    assert_eq!(sync::gc::collect(), 2);
    assert_eq!(drops.load(SeqCst), 2);
    assert_eq!(finalized.load(SeqCst), 2);
    assert!(w.upgrade().is_none());
}

#[test]
fn str_and_slices() {
    let s: sync::Gc<str> = sync::Gc::from("hello");
    assert_eq!(&*s, "hello");
    assert!(!sync::Gc::is_tracked(&s));
    let t = s.clone();
    let s2 = std::thread::spawn(move || format!("{t}!")).join().unwrap();
    assert_eq!(s2, "hello!");
    assert_eq!(sync::Gc::strong_count(&s), 1);
    assert_eq!(&*sync::Gc::<str>::from(String::from("x")), "x");
    assert_eq!(&*sync::Gc::<str>::default(), "");
    assert_eq!(&*sync::Gc::<str>::from(Box::<str>::from("boxed")), "boxed");
    assert_eq!(s, sync::Gc::from("hello"));

    let xs: sync::Gc<[u32]> = (1..=3).collect();
    assert_eq!(&xs[..], &[1, 2, 3]);
    assert!(sync::Gc::<[u8]>::default().is_empty());
    assert_eq!(&sync::Gc::<[u8]>::from(&b"ab"[..])[..], b"ab");
    let arr: sync::Gc<[u8]> = coerce!(sync::Gc::new([7_u8; 3]));
    assert_eq!(&arr[..], &[7, 7, 7]);

    let h = sync::Gc::new(1_u8);
    let hs: sync::Gc<[sync::Gc<u8>]> = sync::Gc::from(vec![h.clone(), h.clone()]);
    assert!(sync::Gc::is_tracked(&hs));
    assert_eq!(sync::Gc::strong_count(&h), 3);
    drop(hs);
    assert_eq!(sync::Gc::strong_count(&h), 1);
}

#[derive(Trace)]
struct SliceShape(sync::Gc<[sync::Gc<dyn Shape>]>);

impl Shape for SliceShape {
    fn area(&self) -> f64 {
        self.0.iter().map(|s| s.area()).sum()
    }
}

#[test]
fn weak_on_unsized() {
    let drops = Arc::new(AtomicUsize::new(0));
    let c: sync::Gc<dyn Shape> = coerce!(sync::Gc::new(Circle {
        r: 2.0,
        _probe: DropProbe(drops.clone()),
    }));
    let w = sync::Gc::downgrade(&c);
    assert_eq!(w.strong_count(), 1);
    assert_eq!(w.weak_count(), 1);
    assert_eq!(sync::Gc::weak_count(&c), 1);
    let w2 = w.clone();
    assert!(w.ptr_eq(&w2));
    let up = std::thread::spawn(move || w2.upgrade().map(|g| g.area()))
        .join()
        .unwrap();
    assert_eq!(up, Some(12.0));
    assert!(sync::Gc::ptr_eq(&w.upgrade().unwrap(), &c));
    // Coercing a weak handle keeps its referent.
    let sized = sync::Gc::new(Circle {
        r: 1.0,
        _probe: DropProbe(drops.clone()),
    });
    let ws: sync::Weak<dyn Shape> = coerce!(sync::Gc::downgrade(&sized));
    assert_eq!(ws.upgrade().map(|g| g.area()), Some(3.0));
    drop(sized);
    assert!(ws.upgrade().is_none());
    // An untracked unsized object outlived by its weak handle: freed with
    // the erased type the handle took (I8).
    drop(c);
    assert_eq!(drops.load(SeqCst), 2);
    assert!(w.upgrade().is_none());
    assert_eq!(w.weak_count(), 0);
    drop(w);
    // An empty weak handle, coerced, stays empty.
    let e: sync::Weak<dyn Shape> = coerce!(sync::Weak::<Circle>::new());
    assert!(e.upgrade().is_none());
    assert_eq!(e.strong_count(), 0);
    // Weak handles to `str`.
    let s: sync::Gc<str> = sync::Gc::from("s");
    let ws = sync::Gc::downgrade(&s);
    assert_eq!(ws.upgrade().as_deref(), Some("s"));
    drop(s);
    assert!(ws.upgrade().is_none());
}

#[test]
fn weak_callback_on_unsized() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let s: sync::Gc<str> = sync::Gc::from("cb");
    let w = sync::Gc::downgrade_with_callback(&s, move || {
        r.fetch_add(1, SeqCst);
    });
    let w: sync::Weak<str> = coerce!(w);
    std::thread::spawn(move || drop(s)).join().unwrap();
    assert_eq!(ran.load(SeqCst), 1);
    assert!(w.upgrade().is_none());
}

#[test]
fn any_and_traits_on_unsized() {
    let drops = Arc::new(AtomicUsize::new(0));
    let c: sync::Gc<dyn Shape> = coerce!(sync::Gc::new(Circle {
        r: 1.0,
        _probe: DropProbe(drops.clone()),
    }));
    let any = sync::Gc::to_any(&c);
    assert!(any.type_name().ends_with("Circle"));
    assert!(any.is::<Circle>());
    assert_eq!(any.downcast_ref::<Circle>().map(|c| c.r), Some(1.0));
    assert_eq!(any.as_ptr(), sync::Gc::as_ptr(&c) as *const ());
    drop(any);
    let mut c = c;
    assert!(sync::Gc::get_mut(&mut c).is_some());
    let s: sync::Gc<str> = sync::Gc::from("b");
    assert!(s > sync::Gc::from("a"));
    assert_eq!(format!("{s:?}"), "\"b\"");
    // A trait object of a supertrait.
    let t: sync::Gc<dyn Trace + Send + Sync> = coerce!(sync::Gc::new(5_u8));
    assert!(!sync::Gc::is_tracked(&t));
    drop(c);
    assert_eq!(drops.load(SeqCst), 1);
}

/// Unsized handles to small tracked objects live in the sync heap's slot
/// pools (`Gc::from(Box<dyn _>)` through `heap::dst`, `coerce!` of a
/// `Gc::new`; SP2): made on one thread, their last handles dropped on
/// another (remote frees, SP3), every value dropped once.
#[test]
#[cfg(feature = "pool")]
fn unsized_pooled_objects_freed_on_another_thread() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let finalized = Arc::new(AtomicUsize::new(0));
    let n = if cfg!(miri) { 20 } else { 2000 };
    let (d, f) = (drops.clone(), finalized.clone());
    let (shapes, grew) = std::thread::spawn(move || {
        let before = pygc::__private::sync_pool_pages().0;
        let shapes: Vec<sync::Gc<dyn Shape>> = (0..n)
            .flat_map(|_| {
                let boxed: Box<dyn Shape> = Box::new(Link {
                    next: GcMutex::new(None),
                    _probe: DropProbe(d.clone()),
                    finalized: f.clone(),
                });
                [sync::Gc::from(boxed), link(&d, &f)]
            })
            .collect();
        (shapes, pygc::__private::sync_pool_pages().0 > before)
    })
    .join()
    .unwrap();
    assert!(grew, "tracked unsized objects that fit come from the pool");
    assert!(shapes.iter().all(|s| s.area() == 0.0));
    std::thread::spawn(move || drop(shapes)).join().unwrap();
    assert_eq!(drops.load(SeqCst), 2 * n);
    assert_eq!(finalized.load(SeqCst), 2 * n);
}
