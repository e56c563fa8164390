//! The sync heap's bounded stop-the-world (issue 17) and its `Arc`-like API
//! under threads: collections never hang on a guard, say when they did not
//! run, and the value-moving methods are exact under races.
#![cfg(not(loom))]

use pygc::sync::{self, GcMutex};
use pygc::{Finalize, Trace};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// The tests here stop the world or count collections: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Trace)]
#[trace(finalize)]
struct Node {
    next: GcMutex<Option<sync::Gc<Node>>>,
    #[trace(skip)]
    _drops: DropProbe,
    #[trace(skip)]
    finalized: Arc<AtomicUsize>,
    #[trace(skip)]
    on_finalize: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Finalize for Node {
    fn finalize(&self) {
        self.finalized.fetch_add(1, SeqCst);
        if let Some(f) = self.on_finalize.lock().unwrap().take() {
            f();
        }
    }
}

/// Counts drops of the node it is part of.
struct DropProbe(Arc<AtomicUsize>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn node(drops: &Arc<AtomicUsize>, finalized: &Arc<AtomicUsize>) -> sync::Gc<Node> {
    sync::Gc::new(Node {
        next: GcMutex::new(None),
        _drops: DropProbe(drops.clone()),
        finalized: finalized.clone(),
        on_finalize: Mutex::new(None),
    })
}

/// The deadlock: a thread holding a `GcMutex` guard waits for a
/// user's `std::sync::Mutex` that the collecting thread holds. `collect`
/// returns (0: it did not run) instead of hanging, `try_collect` says
/// `None`, and once the guard is gone both collect.
#[test]
fn collect_returns_while_a_guard_waits_for_the_collector() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let fin = Arc::new(AtomicUsize::new(0));
    let a = node(&drops, &fin);
    let b = node(&drops, &fin);
    *a.next.lock() = Some(b.clone());
    *b.next.lock() = Some(a.clone());
    let shared = sync::Gc::new(GcMutex::new(0));
    drop((a, b)); // a 2-cycle to collect

    let user = Arc::new(Mutex::new(()));
    let held = user.lock().unwrap();
    let (locked_tx, locked_rx) = mpsc::channel();
    let t = {
        let user = user.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut guard = shared.lock();
            locked_tx.send(()).unwrap();
            let _user = user.lock().unwrap(); // waits for the collecting thread
            *guard += 1;
        })
    };
    locked_rx.recv().unwrap();

    let started = Instant::now();
    assert_eq!(sync::gc::try_collect(Duration::from_millis(20)), None);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(drops.load(SeqCst), 0, "nothing collected");
    let started = Instant::now();
    assert_eq!(sync::gc::collect(), 0, "gave up: the world did not stop");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "collect waits about a second, then returns: {waited:?}"
    );
    assert_eq!(drops.load(SeqCst), 0);

    drop(held);
    t.join().unwrap();
    assert_eq!(*shared.lock(), 1);
    let found = sync::gc::try_collect(Duration::from_secs(10)).expect("the world stops now");
    assert!(found >= 2);
    assert_eq!(drops.load(SeqCst), 2);
}

/// A thread that holds a guard cannot stop the world: `None` at once.
#[test]
fn try_collect_inside_a_guard_is_none() {
    let _s = serial();
    let m = sync::Gc::new(GcMutex::new(()));
    let g = m.lock();
    let started = Instant::now();
    assert_eq!(sync::gc::try_collect(Duration::from_secs(5)), None);
    assert_eq!(sync::gc::collect(), 0);
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(g);
    assert!(sync::gc::try_collect(Duration::from_secs(10)).is_some());
}

/// A guard released within the timeout: the collection waits for it and
/// runs.
#[test]
fn try_collect_waits_for_a_short_guard() {
    let _s = serial();
    let m = sync::Gc::new(GcMutex::new(0));
    let (tx, rx) = mpsc::channel();
    let t = {
        let m = m.clone();
        std::thread::spawn(move || {
            let mut g = m.lock();
            tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            *g += 1;
        })
    };
    rx.recv().unwrap();
    assert!(sync::gc::try_collect(Duration::from_secs(10)).is_some());
    t.join().unwrap();
    assert_eq!(*m.lock(), 1);
}

/// `handle_resurrected_objects` cannot stop the world again (a finalizer handed a guard to a
/// thread that then waits for a lock the collecting thread holds): the
/// finalized trash is kept as resurrected, not freed and not finalized
/// again, and the next collection frees it.
#[test]
fn trash_is_kept_when_the_world_does_not_stop_after_finalizers() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let fin = Arc::new(AtomicUsize::new(0));
    let user = Arc::new(Mutex::new(()));
    let held = user.lock().unwrap();
    let shared = sync::Gc::new(GcMutex::new(0));
    let (start_tx, start_rx) = mpsc::channel::<()>();
    let (locked_tx, locked_rx) = mpsc::channel::<()>();
    let t = {
        let user = user.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            start_rx.recv().unwrap();
            let mut g = shared.lock();
            locked_tx.send(()).unwrap();
            let _u = user.lock().unwrap();
            *g += 1;
        })
    };
    let a = node(&drops, &fin);
    let b = node(&drops, &fin);
    *a.next.lock() = Some(b.clone());
    *b.next.lock() = Some(a.clone());
    // The finalizer (on the collecting thread, world running) lets the
    // other thread take its guard and waits until it holds it.
    *a.on_finalize.lock().unwrap() = Some(Box::new(move || {
        start_tx.send(()).unwrap();
        locked_rx.recv().unwrap();
    }));
    drop((a, b));
    let found = sync::gc::try_collect(Duration::from_millis(50)).expect("first stop succeeds");
    assert_eq!(found, 0, "nothing confirmed as trash");
    assert_eq!(fin.load(SeqCst), 2, "both finalized once");
    assert_eq!(drops.load(SeqCst), 0, "kept, not freed");
    drop(held);
    t.join().unwrap();
    let found = sync::gc::try_collect(Duration::from_secs(10)).unwrap();
    assert!(found >= 2);
    assert_eq!(drops.load(SeqCst), 2, "freed by the next collection");
    assert_eq!(fin.load(SeqCst), 2, "never finalized twice");
}

/// Of two threads calling `into_inner` on the last two handles, exactly one
/// gets the value (as `Arc::into_inner`).
#[test]
fn into_inner_race_gives_the_value_once() {
    let _s = serial();
    for _ in 0..200 {
        let drops = Arc::new(AtomicUsize::new(0));
        let fin = Arc::new(AtomicUsize::new(0));
        let a = node(&drops, &fin);
        let b = a.clone();
        let barrier = Arc::new(Barrier::new(2));
        let t = {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                sync::Gc::into_inner(b).is_some()
            })
        };
        barrier.wait();
        let here = sync::Gc::into_inner(a);
        let there = t.join().unwrap();
        assert!(here.is_some() != there, "exactly one gets it");
        drop(here);
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(fin.load(SeqCst), 0, "a moved-out value is not finalized");
    }
}

/// `try_unwrap` takes a tracked object off the heap: no list holds it, weak
/// handles are cleared and their callbacks run.
#[test]
fn try_unwrap_leaves_the_heap() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let fin = Arc::new(AtomicUsize::new(0));
    let a = node(&drops, &fin);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let w = sync::Gc::downgrade_with_callback(&a, move || {
        r.fetch_add(1, SeqCst);
    });
    let addr = sync::Gc::as_ptr(&a) as *const ();
    let value = sync::Gc::try_unwrap(a).ok().expect("unique");
    assert!(w.upgrade().is_none());
    assert_eq!(ran.load(SeqCst), 1);
    assert!(sync::gc::get_objects(None)
        .iter()
        .all(|o| o.as_ptr() != addr));
    drop(value);
    assert_eq!(drops.load(SeqCst), 1);
    assert!(sync::gc::try_collect(Duration::from_secs(10)).is_some());
}

/// `get_mut` on a tracked object while another thread collects in a loop:
/// the collector never traces the value lent out (the mutation races with
/// nothing), and the object is collected once its handle is in a cycle.
#[test]
fn get_mut_against_a_collecting_thread() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let fin = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let collector = {
        let (stop, runs) = (stop.clone(), runs.clone());
        std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                if sync::gc::try_collect(Duration::from_secs(10)).is_some() {
                    runs.fetch_add(1, SeqCst);
                }
                std::thread::yield_now();
            }
        })
    };
    // At least 2000 rounds, and until the other thread has collected a few
    // times during them (it may start late on a busy machine).
    let mut made = 0;
    while made < 2000 || (runs.load(SeqCst) < 3 && made < 2_000_000) {
        let mut a = node(&drops, &fin);
        let b = node(&drops, &fin);
        let inner = sync::Gc::get_mut(&mut a).expect("unique");
        *inner.next.get_mut() = Some(b.clone());
        *inner.next.get_mut() = None;
        *inner.next.get_mut() = Some(b.clone());
        *b.next.lock() = Some(a); // a 2-cycle through a's handle
        made += 1;
    }
    stop.store(true, SeqCst);
    collector.join().unwrap();
    assert!(
        runs.load(SeqCst) >= 3,
        "the other thread collected meanwhile"
    );
    sync::gc::collect();
    assert_eq!(drops.load(SeqCst), 2 * made);
}

/// `new_cyclic` on a tracked type: the weak handle upgrades afterwards from
/// another thread, and the self-referencing object is collected when
/// strong edges make it a cycle.
#[test]
fn new_cyclic_tracked_across_threads() {
    #[derive(Trace)]
    struct Me {
        me: sync::Weak<Me>,
        strong_me: GcMutex<Option<sync::Gc<Me>>>,
    }
    let _s = serial();
    let me = sync::Gc::new_cyclic(|w| {
        assert!(w.upgrade().is_none());
        Me {
            me: w.clone(),
            strong_me: GcMutex::new(None),
        }
    });
    let w = me.me.clone();
    let t = std::thread::spawn(move || w.upgrade().is_some());
    assert!(t.join().unwrap());
    *me.strong_me.lock() = Some(me.clone());
    let w = sync::Gc::downgrade(&me);
    drop(me);
    sync::gc::collect();
    assert!(w.upgrade().is_none());
}
