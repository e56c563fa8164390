//! loom models of the sync heap (`pygc::sync`).
//!
//! Run with (see README):
//! `RUSTFLAGS="--cfg loom" cargo test -p gc-tests --release --test loom`
//! Each model explores every interleaving of the sync heap's atomics and
//! locks up to `LOOM_MAX_PREEMPTIONS` (CI sets 2; unbounded when unset) and
//! prints the number of executions it explored.
#![cfg(loom)]

use loom::thread;
use pygc::sync::{self, GcMutex};
use pygc::{Finalize, Trace};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// Counts drops of the value it is part of (a skipped, non-traced field).
struct DropProbe(Arc<AtomicUsize>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[derive(Trace)]
#[trace(finalize)]
struct Node {
    next: GcMutex<Option<sync::Gc<Node>>>,
    #[trace(skip)]
    _drops: DropProbe,
    #[trace(skip)]
    finalized: Arc<AtomicUsize>,
}

impl Finalize for Node {
    fn finalize(&self) {
        self.finalized.fetch_add(1, SeqCst);
        // Finalizers may read their edges (the targets are intact).
        if let Some(next) = &*self.next.lock() {
            let _ = next.finalized.load(SeqCst);
        }
    }
}

struct Probes {
    drops: Arc<AtomicUsize>,
    finalized: Arc<AtomicUsize>,
}

impl Probes {
    fn new() -> Self {
        Probes {
            drops: Arc::new(AtomicUsize::new(0)),
            finalized: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn node(&self, next: Option<sync::Gc<Node>>) -> sync::Gc<Node> {
        sync::Gc::new(Node {
            next: GcMutex::new(next),
            _drops: DropProbe(self.drops.clone()),
            finalized: self.finalized.clone(),
        })
    }
}

/// Run `f` under loom and report how many executions were explored.
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        if let Ok(bound) = std::env::var("LOOM_MAX_PREEMPTIONS") {
            builder.preemption_bound = bound.parse().ok();
        }
    }
    builder.check(move || {
        counter.fetch_add(1, SeqCst);
        // Keep automatic collection out of the models: each one collects
        // explicitly where it means to.
        sync::gc::set_threshold(0, 10, 10);
        f();
    });
    println!(
        "loom model {name}: {} executions explored (preemption bound {:?})",
        executions.load(SeqCst),
        std::env::var("LOOM_MAX_PREEMPTIONS").ok()
    );
}

/// Two threads drop the last two handles: exactly one of them finalizes
/// and frees, exactly once.
#[test]
fn clone_drop_race_to_last_drop() {
    model("clone_drop_race_to_last_drop", || {
        let probes = Probes::new();
        let a = probes.node(None);
        let b = a.clone();
        let t = thread::spawn(move || drop(b));
        drop(a);
        t.join().unwrap();
        assert_eq!(probes.finalized.load(SeqCst), 1);
        assert_eq!(probes.drops.load(SeqCst), 1);
    });
}

/// `Weak::upgrade` racing the last strong drop never resurrects freed
/// memory: it either gets a usable handle or `None`.
#[test]
fn weak_upgrade_against_last_strong_drop() {
    model("weak_upgrade_against_last_strong_drop", || {
        let probes = Probes::new();
        let a = probes.node(None);
        let w = sync::Gc::downgrade(&a);
        let t = thread::spawn(move || {
            if let Some(strong) = w.upgrade() {
                // Usable: the value is intact.
                assert!(strong.next.lock().is_none());
            }
        });
        drop(a);
        t.join().unwrap();
        assert_eq!(probes.drops.load(SeqCst), 1);
        assert_eq!(probes.finalized.load(SeqCst), 1);
    });
}

/// `downgrade` on one thread against the drop of another handle.
#[test]
fn downgrade_against_drop() {
    model("downgrade_against_drop", || {
        let probes = Probes::new();
        let a = probes.node(None);
        let b = a.clone();
        let t = thread::spawn(move || {
            let w = sync::Gc::downgrade(&b);
            drop(b);
            w
        });
        drop(a);
        let w = t.join().unwrap();
        assert!(w.upgrade().is_none());
        assert_eq!(probes.drops.load(SeqCst), 1);
    });
}

/// A collection runs while another thread moves an edge from one live
/// object to another: the moved target must survive and stay usable.
#[test]
fn collector_against_mutator_moving_an_edge() {
    model("collector_against_mutator_moving_an_edge", || {
        let probes = Probes::new();
        let target = probes.node(None);
        let a = probes.node(Some(target));
        let b = probes.node(None);
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let moved = a2.next.lock().take();
            *b2.next.lock() = moved;
        });
        sync::gc::collect();
        t.join().unwrap();
        assert_eq!(probes.drops.load(SeqCst), 0, "nothing reachable was freed");
        let moved = b.next.lock().clone().expect("edge moved to b");
        assert!(moved.next.lock().is_none());
        drop(moved);
        drop((a, b));
        assert_eq!(probes.drops.load(SeqCst), 3);
    });
}

/// A cycle is collected on one thread (its finalizers run there) while
/// another thread drops the last handle of an object the cycle points to.
#[test]
fn finalizer_racing_a_drop() {
    model("finalizer_racing_a_drop", || {
        let probes = Probes::new();
        let outside = probes.node(None);
        let x = probes.node(Some(outside.clone()));
        let y = probes.node(Some(x.clone()));
        // x -> outside; make x <-> y a cycle: x.next = y would drop the
        // edge to outside, so let y point at x and x at outside, and close
        // the cycle through outside.next = y.
        *outside.next.lock() = Some(y.clone());
        drop((x, y));
        let t = thread::spawn(move || {
            // Touch the cycle through a guard (a permit), then drop the last
            // outside handle, racing the collector's world stops.
            let linked = outside.next.lock().is_some();
            assert!(linked);
            drop(outside);
        });
        sync::gc::collect();
        t.join().unwrap();
        sync::gc::collect();
        assert_eq!(probes.drops.load(SeqCst), 3);
        assert_eq!(
            probes.finalized.load(SeqCst),
            3,
            "each finalized exactly once"
        );
    });
}

/// A weak callback runs exactly once whether the referent dies by the
/// other thread's drop or by a collection on this thread.
#[test]
fn weak_callback_racing_a_drop() {
    model("weak_callback_racing_a_drop", || {
        let probes = Probes::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let a = probes.node(None);
        *a.next.lock() = Some(a.clone()); // self-cycle
        let c = calls.clone();
        let w = sync::Gc::downgrade_with_callback(&a, move || {
            c.fetch_add(1, SeqCst);
        });
        let plain = w.clone();
        let t = thread::spawn(move || {
            drop(a);
            // Upgrading races the collection that clears weak handles.
            if let Some(again) = plain.upgrade() {
                assert!(again.next.lock().is_some());
            }
        });
        sync::gc::collect();
        t.join().unwrap();
        sync::gc::collect();
        assert_eq!(calls.load(SeqCst), 1);
        assert!(w.upgrade().is_none());
        assert_eq!(probes.drops.load(SeqCst), 1);
    });
}

/// The new protocol (issue 17): a thread takes a guard (attaches) while the
/// collector requests a stop. Either the guard's thread backs off until the
/// collection is done, or the collector waits for the guard: the cycle the
/// guard breaks is never freed under it, and nothing is freed twice.
#[test]
fn guard_racing_a_stop_request() {
    model("guard_racing_a_stop_request", || {
        let probes = Probes::new();
        let a = probes.node(None);
        let b = probes.node(Some(a.clone()));
        *a.next.lock() = Some(b);
        let t = thread::spawn(move || {
            // Break the cycle under a's guard, then drop the last handle.
            let b = a.next.lock().take().expect("edge to b");
            assert!(b.next.lock().is_some(), "b intact under the guard");
            drop(b);
            drop(a);
        });
        let found = sync::gc::try_collect(std::time::Duration::from_secs(1));
        assert!(found.is_some(), "the guard is short: the world stops");
        t.join().unwrap();
        assert_eq!(probes.drops.load(SeqCst), 2);
        assert_eq!(probes.finalized.load(SeqCst), 2);
    });
}

/// Allocation (linking) and refcount death (unlinking) on two threads race
/// a collection on a third: the lists stay consistent and every object is
/// freed exactly once.
#[test]
fn allocation_and_death_racing_a_collection() {
    model("allocation_and_death_racing_a_collection", || {
        let probes = Arc::new(Probes::new());
        let p1 = probes.clone();
        let t1 = thread::spawn(move || {
            let x = p1.node(None);
            drop(x);
        });
        let p2 = probes.clone();
        let t2 = thread::spawn(move || {
            // A self-cycle: only a collection frees it.
            let y = p2.node(None);
            *y.next.lock() = Some(y.clone());
        });
        sync::gc::collect();
        t1.join().unwrap();
        t2.join().unwrap();
        sync::gc::collect();
        assert_eq!(probes.drops.load(SeqCst), 2);
        assert_eq!(probes.finalized.load(SeqCst), 2);
    });
}

/// `try_collect` gives up while another thread holds a guard and waits for
/// a lock the collecting thread holds (the deadlock): `None`,
/// nothing collected; after the lock is released the collection runs.
#[test]
fn try_collect_times_out_while_a_guard_is_held() {
    model("try_collect_times_out_while_a_guard_is_held", || {
        let probes = Probes::new();
        let a = probes.node(None);
        *a.next.lock() = Some(a.clone()); // a self-cycle to collect
        drop(a);
        let shared = probes.node(None);
        let user = Arc::new(loom::sync::Mutex::new(()));
        let held = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let user_guard = user.lock().unwrap();
        let t = {
            let (user, held, shared) = (user.clone(), held.clone(), shared.clone());
            thread::spawn(move || {
                let g = shared.next.lock();
                held.store(true, SeqCst);
                drop(user.lock().unwrap()); // waits for the collecting thread
                drop(g);
            })
        };
        while !held.load(SeqCst) {
            thread::yield_now();
        }
        // Zero timeout: under loom, "one scan" (time is not modelled).
        assert_eq!(sync::gc::try_collect(std::time::Duration::ZERO), None);
        assert_eq!(probes.drops.load(SeqCst), 0);
        drop(user_guard);
        t.join().unwrap();
        assert_eq!(
            sync::gc::try_collect(std::time::Duration::from_secs(1)),
            Some(1)
        );
        assert_eq!(probes.drops.load(SeqCst), 1);
        drop(shared);
    });
}

/// The attach fast path (issue 17): a thread takes a guard, then a nested
/// one (the outer one attaches its slot, depth 0 -> 1; the inner one only
/// raises the depth and must not back off if it sees the collector's
/// request), moves an edge under the inner guard and releases
/// both, while the collector requests a stop. The W1 barrier pair (under
/// loom: two `SeqCst` fences) means either the mutator sees the request
/// and backs off, or the collector sees the slot attached and waits: the
/// moved edge's target is never freed under the mutator, the garbage cycle
/// is freed exactly once.
#[test]
fn nested_guards_racing_a_stop_request() {
    model("nested_guards_racing_a_stop_request", || {
        let probes = Probes::new();
        // A garbage self-cycle for the collector to free.
        let g = probes.node(None);
        *g.next.lock() = Some(g.clone());
        drop(g);
        let a = probes.node(None);
        let b = probes.node(None);
        let c = probes.node(None);
        *b.next.lock() = Some(c);
        let t = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                let outer = b.next.lock();
                let mut inner = a.next.lock();
                // Move b -> c to a -> c with both guards held.
                let c = outer.as_ref().expect("b -> c").clone();
                *inner = Some(c);
                drop(inner);
                drop(outer);
                *b.next.lock() = None;
            })
        };
        let found = sync::gc::try_collect(std::time::Duration::from_secs(1));
        assert_eq!(found, Some(1), "the self-cycle, nothing else");
        t.join().unwrap();
        let c = a.next.lock().clone().expect("a -> c");
        assert!(c.next.lock().is_none(), "c alive and intact");
        assert_eq!(probes.drops.load(SeqCst), 1);
        drop((a, b, c));
        assert_eq!(probes.drops.load(SeqCst), 4);
    });
}

/// Per-thread nurseries (issue 17 item 2): an object allocated on the main
/// thread dies on another, which empties a slot of the main thread's
/// nursery without a lock (N3), while the main thread collects (its stop
/// gathers every nursery, N1/N4/N5). The other thread then allocates a
/// garbage self-cycle and exits, handing its nursery back with its world
/// slot; the next collection gathers and frees it. Last, the main thread
/// fills its nursery past its slots, reusing the emptied one after a scan.
#[test]
fn cross_thread_death_racing_a_gather() {
    model("cross_thread_death_racing_a_gather", || {
        let probes = Arc::new(Probes::new());
        let x = probes.node(None);
        let p = probes.clone();
        let t = thread::spawn(move || {
            drop(x);
            let y = p.node(None);
            *y.next.lock() = Some(y.clone());
        });
        let first = sync::gc::collect();
        t.join().unwrap();
        let second = sync::gc::collect();
        assert_eq!(first + second, 1, "the other thread's self-cycle");
        assert_eq!(probes.drops.load(SeqCst), 2);
        assert_eq!(probes.finalized.load(SeqCst), 2);
        let kept: Vec<_> = (0..3).map(|_| probes.node(None)).collect();
        drop(kept);
        assert_eq!(probes.drops.load(SeqCst), 5);
    });
}

/// Slot pools (issue 17, SP1–SP3; pages hold 2 blocks under loom): the
/// main thread fills a page, another thread drops both objects (remote
/// frees, a compare-exchange each) while the main thread allocates again
/// (its page is full: it takes the remote list over, racing the pushes).
/// The other thread exits with an object alive, in its pool; a third
/// thread drops it (a remote free into a slot no thread holds, or into
/// the slot it adopts) while a full collection reclaims the pools of free
/// slots under the registry lock.
#[test]
fn cross_thread_free_racing_allocation() {
    model("cross_thread_free_racing_allocation", || {
        let probes = Arc::new(Probes::new());
        let a = probes.node(None);
        let b = probes.node(None);
        let p = probes.clone();
        let t = thread::spawn(move || {
            drop(a);
            drop(b);
            p.node(None)
        });
        let c = probes.node(None);
        let d = probes.node(None);
        let y = t.join().unwrap();
        let t2 = thread::spawn(move || drop(y));
        sync::gc::collect();
        t2.join().unwrap();
        assert_eq!(probes.drops.load(SeqCst), 3);
        drop((c, d));
        assert_eq!(probes.drops.load(SeqCst), 5);
        assert_eq!(probes.finalized.load(SeqCst), 5);
    });
}
