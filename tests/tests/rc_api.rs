//! `Rc`'s whole API on both heaps' handles (issue 16, §4): raw pointers,
//! strong-count adjustment, `make_mut`, `pin` (header I9), the auto traits,
//! and `Weak`'s `as_ptr`/`into_raw`/`from_raw`, including the misuse that
//! panics and weak epochs through a raw round trip (header I2).
#![cfg(not(loom))]

use gc_tests::{DropCounter, DropProbe};
use pygc::{coerce, gc, sync, Finalize, Gc, Trace, Weak};
use std::cell::RefCell;
use std::marker::PhantomPinned;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

trait Shape: Trace {
    fn area(&self) -> f64;
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
}

fn circle(r: f64, c: &DropCounter) -> Gc<Circle> {
    Gc::new(Circle {
        r,
        _probe: Some(c.probe()),
    })
}

#[test]
fn into_raw_from_raw_round_trip() {
    let c = DropCounter::new();
    let a = circle(1.0, &c);
    let p = Gc::into_raw(a.clone());
    assert_eq!(p, Gc::as_ptr(&a));
    assert_eq!(Gc::strong_count(&a), 2, "the pointer holds a reference");
    // SAFETY: from `into_raw`, rebuilt once.
    let b = unsafe { Gc::from_raw(p) };
    assert!(Gc::ptr_eq(&a, &b));
    drop((a, b));
    assert_eq!(c.get(), 1);

    // Unsized: a trait object's pointer keeps its vtable.
    let s: Gc<dyn Shape> = coerce!(circle(2.0, &c));
    let p = Gc::into_raw(s);
    // SAFETY: as above.
    let s = unsafe { Gc::<dyn Shape>::from_raw(p) };
    assert_eq!(s.area(), 12.0);
    // A sized pointer cast to the trait object it coerces to.
    let p = Gc::into_raw(circle(1.0, &c)) as *const dyn Shape;
    // SAFETY: from `into_raw` of a `Gc<Circle>`, `Circle: Shape`.
    let t = unsafe { Gc::<dyn Shape>::from_raw(p) };
    assert_eq!(t.area(), 3.0);
    // Slices and strings.
    let p = Gc::into_raw(Gc::<str>::from("raw str"));
    // SAFETY: as above.
    assert_eq!(&*unsafe { Gc::<str>::from_raw(p) }, "raw str");
    let p = Gc::into_raw(Gc::<[u64]>::from(vec![1, 2]));
    // SAFETY: as above.
    assert_eq!(&unsafe { Gc::<[u64]>::from_raw(p) }[..], &[1, 2]);
    drop((s, t));
    assert_eq!(c.get(), 3);
}

#[test]
fn strong_count_adjustment() {
    let c = DropCounter::new();
    let a = circle(1.0, &c);
    let p = Gc::into_raw(a.clone());
    // SAFETY: `p` holds a strong reference throughout.
    unsafe { Gc::increment_strong_count(p) };
    assert_eq!(Gc::strong_count(&a), 3);
    // SAFETY: releases the increment's reference.
    unsafe { Gc::decrement_strong_count(p) };
    assert_eq!(Gc::strong_count(&a), 2);
    drop(a);
    assert_eq!(c.get(), 0);
    // SAFETY: the last reference: the value drops, as with the last handle.
    unsafe { Gc::decrement_strong_count(p) };
    assert_eq!(c.get(), 1);
}

#[test]
#[should_panic(expected = "no strong reference left")]
fn from_raw_twice_panics() {
    let a = Gc::new(String::from("twice"));
    let w = Gc::downgrade(&a); // keeps the memory: the misuse is detectable
    let p = Gc::into_raw(a);
    // SAFETY: the first rebuild is fine.
    drop(unsafe { Gc::from_raw(p) });
    assert!(w.upgrade().is_none());
    // The second is the misuse: it panics instead of reviving the object.
    // SAFETY: not satisfied on purpose; the check fires before any use.
    let _again = unsafe { Gc::from_raw(p) };
}

#[test]
fn make_mut_per_thread() {
    let mut a = Gc::new(vec![1]);
    let b = a.clone();
    Gc::make_mut(&mut a).push(2);
    assert_eq!((&a[..], &b[..]), (&[1, 2][..], &[1][..]));
    let p = Gc::as_ptr(&a);
    Gc::make_mut(&mut a).push(3);
    assert_eq!(Gc::as_ptr(&a), p, "unique: mutated in place");
    // A weak handle makes it shared: cloned, the weak one stays with the old.
    let w = Gc::downgrade(&a);
    Gc::make_mut(&mut a).push(4);
    assert_eq!(&a[..], &[1, 2, 3, 4]);
    assert!(
        w.upgrade().is_none(),
        "the old object was the only one left"
    );
}

#[derive(Trace)]
struct Pinned {
    n: u32,
    next: RefCell<Option<Gc<Pinned>>>,
    #[trace(skip)]
    _pin: PhantomPinned,
    #[trace(skip)]
    _probe: DropProbe,
}

#[test]
fn pin_keeps_the_value_in_place() {
    let c = DropCounter::new();
    let p = Gc::pin(Pinned {
        n: 1,
        next: RefCell::new(None),
        _pin: PhantomPinned,
        _probe: c.probe(),
    });
    let addr = &*p as *const Pinned;
    assert_eq!(p.n, 1);
    // The heap hands out other handles to the object (a tracked one):
    // none can move the value out, even as the only handle.
    let any = gc::get_objects(None)
        .into_iter()
        .find(|o| o.as_ptr() == addr as *const ())
        .expect("tracked");
    let mut g: Gc<Pinned> = any.downcast().ok().unwrap();
    drop(p);
    assert_eq!(Gc::strong_count(&g), 1);
    assert!(Gc::get_mut(&mut g).is_none(), "pinned: no &mut");
    let g = Gc::try_unwrap(g).err().expect("pinned: not unwrapped");
    assert_eq!(Gc::as_ptr(&g), addr);
    assert!(
        Gc::into_inner(g).is_none(),
        "pinned: dropped in place instead"
    );
    assert_eq!(c.get(), 1);
    // A plain object is not pinned.
    assert_eq!(Gc::try_unwrap(Gc::new(5)), Ok(5));
}

#[test]
fn auto_traits_as_rc() {
    fn unpin<T: Unpin>() {}
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
    unpin::<Gc<Pinned>>();
    unpin::<sync::Gc<(u8, PinnedSync)>>();
    unwind_safe::<Gc<u32>>();
    unwind_safe::<Gc<dyn Shape + std::panic::RefUnwindSafe>>();
    unwind_safe::<sync::Gc<u32>>();
    let g = Gc::new(5);
    let r = std::panic::catch_unwind(|| *g + 1);
    assert_eq!(r.ok(), Some(6));
}

#[derive(Trace)]
struct PinnedSync {
    #[trace(skip)]
    _pin: PhantomPinned,
}

#[test]
fn weak_as_ptr_and_raw_round_trip() {
    let a = Gc::new(7_u32);
    let w = Gc::downgrade(&a);
    assert_eq!(w.as_ptr(), Gc::as_ptr(&a));
    let s: Gc<dyn Shape> = coerce!(circle(1.0, &DropCounter::new()));
    let ws = Gc::downgrade(&s);
    assert_eq!(ws.as_ptr() as *const u8, Gc::as_ptr(&s) as *const u8);

    let p = w.clone().into_raw();
    assert_eq!(p, Gc::as_ptr(&a));
    assert_eq!(Gc::weak_count(&a), 2, "the pointer holds a weak reference");
    // SAFETY: from `into_raw`, rebuilt once.
    let w2 = unsafe { Weak::from_raw(p) };
    assert!(w2.ptr_eq(&w));
    assert_eq!(w2.upgrade().as_deref(), Some(&7));
    assert_eq!((w2.strong_count(), w2.weak_count()), (1, 2));
    // Outliving the value.
    let p = w2.into_raw();
    drop(a);
    // SAFETY: as above.
    let w3 = unsafe { Weak::from_raw(p) };
    assert!(w3.upgrade().is_none());
    assert_eq!((w3.strong_count(), w3.weak_count()), (0, 0));
    // The empty handle.
    let e = Weak::<u32>::new();
    let p = e.into_raw();
    // SAFETY: as above.
    let e = unsafe { Weak::from_raw(p) };
    assert!(e.upgrade().is_none());
    assert!(e.ptr_eq(&Weak::new()));
}

#[test]
#[should_panic(expected = "owns a weak callback")]
fn weak_into_raw_with_callback_panics() {
    let a = Gc::new(1);
    let w = Gc::downgrade_with_callback(&a, || {});
    let _ = w.into_raw();
}

thread_local! {
    static SAVED: RefCell<Option<Gc<Phoenix>>> = const { RefCell::new(None) };
}

#[derive(Trace)]
#[trace(finalize)]
struct Phoenix {
    me: RefCell<Option<Gc<Phoenix>>>,
}

impl Finalize for Phoenix {
    fn finalize(&self) {
        SAVED.with(|s| *s.borrow_mut() = Gc::from_finalizing(self));
    }
}

/// I2 through raw pointers: a handle cleared by a collection stays
/// cleared after `into_raw`/`from_raw`, one made after the resurrection
/// works, and the counts stay exact.
#[test]
fn weak_raw_round_trip_keeps_clearing() {
    let p = Gc::new(Phoenix {
        me: RefCell::new(None),
    });
    *p.me.borrow_mut() = Some(p.clone());
    let w_old = Gc::downgrade(&p);
    let raw_old = w_old.clone().into_raw();
    drop(p);
    gc::collect();
    let back = SAVED.with(|s| s.borrow_mut().take()).expect("resurrected");
    assert!(w_old.upgrade().is_none(), "cleared by the collection");
    assert_eq!(Gc::weak_count(&back), 0);
    let w_new = Gc::downgrade(&back);
    let raw_new = w_new.clone().into_raw();
    assert_eq!(Gc::weak_count(&back), 2);
    // SAFETY: each pointer from `into_raw`, rebuilt once.
    let (r1, r2) = unsafe { (Weak::from_raw(raw_old), Weak::from_raw(raw_new)) };
    // The two pointers are the same address: one handle is live, one not.
    let live = [&r1, &r2].iter().filter(|w| w.upgrade().is_some()).count();
    assert_eq!(live, 1);
    assert_eq!(Gc::weak_count(&back), 2);
    drop((w_old, r1, r2));
    assert_eq!(Gc::weak_count(&back), 1);
    assert!(w_new.upgrade().is_some());
    *back.me.borrow_mut() = None;
    drop(back);
    assert!(w_new.upgrade().is_none());
}

// ---- the sync heap ---------------------------------------------------

struct ArcProbe(Arc<AtomicUsize>);

impl Drop for ArcProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[derive(Trace)]
struct Payload {
    n: u32,
    #[trace(skip)]
    _probe: ArcProbe,
}

#[test]
fn sync_raw_pointers_across_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let a = sync::Gc::new(Payload {
        n: 4,
        _probe: ArcProbe(drops.clone()),
    });
    let addr = sync::Gc::into_raw(a.clone()) as usize;
    let n = std::thread::spawn(move || {
        // SAFETY: from `into_raw`, rebuilt once (on this thread).
        let b = unsafe { sync::Gc::from_raw(addr as *const Payload) };
        b.n
    })
    .join()
    .unwrap();
    assert_eq!(n, 4);
    assert_eq!(sync::Gc::strong_count(&a), 1);
    let p = sync::Gc::into_raw(a.clone());
    // SAFETY: `p` holds a reference throughout.
    unsafe { sync::Gc::increment_strong_count(p) };
    assert_eq!(sync::Gc::strong_count(&a), 3);
    // SAFETY: releases both references `p` holds.
    unsafe {
        sync::Gc::decrement_strong_count(p);
        sync::Gc::decrement_strong_count(p);
    }
    assert_eq!(sync::Gc::strong_count(&a), 1);
    // Unsized.
    let s: sync::Gc<str> = sync::Gc::from("sync str");
    let p = sync::Gc::into_raw(s);
    // SAFETY: as above.
    assert_eq!(&*unsafe { sync::Gc::<str>::from_raw(p) }, "sync str");
    drop(a);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn sync_pin_and_weak_raw() {
    let drops = Arc::new(AtomicUsize::new(0));
    let p = sync::Gc::pin(Payload {
        n: 9,
        _probe: ArcProbe(drops.clone()),
    });
    assert_eq!(p.n, 9);
    let addr = &*p as *const Payload;
    // An unpinned handle to the same object, as the heap can hand out
    // (`sync::gc::get_objects`, `from_finalizing`, `GcAny::downcast`).
    // SAFETY: `Pin::into_inner_unchecked`: the handle is not used to move
    // the value (that is what is being checked: the heap refuses).
    let mut g = unsafe { std::pin::Pin::into_inner_unchecked(p.clone()) };
    drop(p);
    assert_eq!(sync::Gc::strong_count(&g), 1);
    assert!(sync::Gc::get_mut(&mut g).is_none(), "pinned: no &mut");
    let g = sync::Gc::try_unwrap(g)
        .err()
        .expect("pinned: not unwrapped");
    assert_eq!(sync::Gc::as_ptr(&g), addr);
    assert!(sync::Gc::into_inner(g).is_none());
    assert_eq!(drops.load(SeqCst), 1);

    let a = sync::Gc::new(3_u8);
    let w = sync::Gc::downgrade(&a);
    assert_eq!(w.as_ptr(), sync::Gc::as_ptr(&a));
    // Raw pointers are not `Send`: the address crosses the thread.
    let p = w.clone().into_raw() as usize;
    let w2 = std::thread::spawn(move || {
        // SAFETY: from `into_raw`, rebuilt once.
        let w2 = unsafe { sync::Weak::from_raw(p as *const u8) };
        w2.upgrade().map(|g| *g)
    });
    assert_eq!(w2.join().unwrap(), Some(3));
    assert_eq!(sync::Gc::weak_count(&a), 1);
    let e = sync::Weak::<u8>::new().into_raw();
    // SAFETY: as above.
    assert!(unsafe { sync::Weak::from_raw(e) }.upgrade().is_none());
}

#[test]
#[should_panic(expected = "owns a weak callback")]
fn sync_weak_into_raw_with_callback_panics() {
    let a = sync::Gc::new(1);
    let w = sync::Gc::downgrade_with_callback(&a, || {});
    let _ = w.into_raw();
}

#[test]
#[should_panic(expected = "no strong reference left")]
fn sync_decrement_past_zero_panics() {
    let a = sync::Gc::new(String::from("x"));
    let w = sync::Gc::downgrade(&a);
    let p = sync::Gc::into_raw(a);
    // SAFETY: releases the one reference `p` holds.
    unsafe { sync::Gc::decrement_strong_count(p) };
    assert!(w.upgrade().is_none());
    // SAFETY: not satisfied on purpose: the check fires first.
    unsafe { sync::Gc::decrement_strong_count(p) };
}
