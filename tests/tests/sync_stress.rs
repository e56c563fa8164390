//! Stress tests of the sync heap: mutator threads build, relink and drop
//! cycles while another thread collects in a loop. Afterwards every object
//! made has been dropped exactly once, and every object reachable during the
//! run stayed usable (each access checks a canary that dropping clears).
#![cfg(not(loom))]

use pygc::sync::{self, GcMutex};
use pygc::{Finalize, Trace};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};

static STRESS: Mutex<()> = Mutex::new(());

const CANARY: u64 = 0x5EED_CAFE_F00D_BEEF;

struct Probe {
    canary: u64,
    id: usize,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        assert_eq!(self.canary, CANARY, "dropped twice or corrupted");
        self.canary = 0;
        self.drops[self.id].fetch_add(1, SeqCst);
    }
}

#[derive(Trace)]
#[trace(finalize)]
struct Node {
    edges: GcMutex<Vec<sync::Gc<Node>>>,
    #[trace(skip)]
    probe: Probe,
    #[trace(skip)]
    finalized: AtomicUsize,
}

impl Finalize for Node {
    fn finalize(&self) {
        assert_eq!(self.probe.canary, CANARY, "finalizer saw a dropped object");
        assert_eq!(self.finalized.fetch_add(1, SeqCst), 0, "finalized twice");
        // Finalizers may read their edges: targets are intact.
        for e in self.edges.lock().iter() {
            assert_eq!(e.probe.canary, CANARY, "finalizer reached a dropped object");
        }
    }
}

fn check(node: &Node) {
    assert_eq!(node.probe.canary, CANARY, "a reachable object was freed");
}

fn run_stress(threads: usize, rounds: usize) {
    let _serial = STRESS.lock().unwrap_or_else(|e| e.into_inner());
    let per_thread = rounds * 6;
    let drops: Arc<Vec<AtomicUsize>> = Arc::new(
        (0..threads * per_thread)
            .map(|_| AtomicUsize::new(0))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let collector = {
        let stop = stop.clone();
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            let mut found = 0;
            while !stop.load(SeqCst) {
                found += sync::gc::collect();
                std::thread::yield_now();
            }
            found
        })
    };
    // A shared hub every thread links into and unlinks from.
    let hub: Arc<GcMutex<Vec<sync::Gc<Node>>>> = Arc::new(GcMutex::new(Vec::new()));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let drops = drops.clone();
            let barrier = barrier.clone();
            let hub = hub.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut next_id = t * per_thread;
                let mut make = || {
                    let id = next_id;
                    next_id += 1;
                    sync::Gc::new(Node {
                        edges: GcMutex::new(Vec::new()),
                        probe: Probe {
                            canary: CANARY,
                            id,
                            drops: drops.clone(),
                        },
                        finalized: AtomicUsize::new(0),
                    })
                };
                for round in 0..rounds {
                    // A 3-ring.
                    let (a, b, c) = (make(), make(), make());
                    a.edges.lock().push(b.clone());
                    b.edges.lock().push(c.clone());
                    c.edges.lock().push(a.clone());
                    // A pair reachable from the hub for a while.
                    let (d, e) = (make(), make());
                    d.edges.lock().push(e.clone());
                    e.edges.lock().push(d.clone());
                    hub.lock().push(d.clone());
                    // Move an edge between live objects (collector may be
                    // mid-collection).
                    let moved = a.edges.lock().pop();
                    if let Some(m) = moved {
                        check(&m);
                        d.edges.lock().push(m);
                    }
                    check(&a);
                    check(&b);
                    check(&c);
                    // A self-cycle with a weak handle.
                    let f = make();
                    f.edges.lock().push(f.clone());
                    let wf = sync::Gc::downgrade(&f);
                    drop((a, b, c, d, e, f));
                    if let Some(f) = wf.upgrade() {
                        check(&f);
                    }
                    // Unlink some hub entries (others' too).
                    if round % 3 == 0 {
                        let taken: Vec<_> = hub.lock().drain(..).collect();
                        for n in &taken {
                            check(n);
                            for e in n.edges.lock().iter() {
                                check(e);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    stop.store(true, SeqCst);
    let found = collector.join().expect("collector panicked");
    eprintln!("stress: {threads} threads x {rounds} rounds, concurrent collections found {found}");
    hub.lock().clear();
    drop(hub);
    // Everything is garbage now; a few collections reclaim it all (objects
    // resurrected by nothing, so two suffice; loop to be safe).
    for _ in 0..4 {
        sync::gc::collect();
    }
    for (id, d) in drops.iter().enumerate() {
        assert_eq!(
            d.load(SeqCst),
            1,
            "object {id} dropped {} times",
            d.load(SeqCst)
        );
    }
}

#[test]
fn four_mutators_and_a_collector() {
    run_stress(4, if cfg!(debug_assertions) { 100 } else { 3000 });
}

#[test]
fn repeated_twenty_times() {
    let rounds = if cfg!(debug_assertions) { 10 } else { 300 };
    for _ in 0..20 {
        run_stress(4, rounds);
    }
}

/// Cycles made on two threads are reclaimed by automatic collection
/// (allocation past `threshold[0]`), on whichever thread crosses it.
#[test]
fn cycles_are_collected_automatically_by_threshold() {
    let _serial = STRESS.lock().unwrap_or_else(|e| e.into_inner());
    sync::gc::collect();
    let old = sync::gc::get_threshold();
    sync::gc::set_threshold(50, 10, 10);
    let make = |id: usize, drops: &Arc<Vec<AtomicUsize>>| {
        sync::Gc::new(Node {
            edges: GcMutex::new(Vec::new()),
            probe: Probe {
                canary: CANARY,
                id,
                drops: drops.clone(),
            },
            finalized: AtomicUsize::new(0),
        })
    };
    // An automatic collection gives up after a short bounded wait when the
    // other thread is attached (never blocking an allocating thread, issue
    // 17): on a loaded machine, where a thread can be descheduled while it
    // holds a guard, every attempt of one round may give up. So rounds
    // repeat (each checked in full) until one collection ran. (This test
    // failed in about 1 % of runs while a round's closing collection left
    // the young count negative, `a_timed_out_automatic_...` below.)
    let mut automatic = 0;
    for _round in 0..20 {
        let before = sync::gc::get_stats()[0].collections;
        let drops: Arc<Vec<AtomicUsize>> =
            Arc::new((0..4000).map(|_| AtomicUsize::new(0)).collect());
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let drops = drops.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        // A two-node cycle, dropped at once: only the
                        // collector can reclaim it.
                        let a = make(t * 2000 + 2 * i, &drops);
                        let b = make(t * 2000 + 2 * i + 1, &drops);
                        a.edges.lock().push(b.clone());
                        b.edges.lock().push(a.clone());
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        automatic += sync::gc::get_stats()[0].collections - before;
        sync::gc::collect();
        for (id, d) in drops.iter().enumerate() {
            assert_eq!(d.load(SeqCst), 1, "object {id}");
        }
        if automatic > 0 {
            break;
        }
    }
    sync::gc::set_threshold(old.0, old.1, old.2);
    assert!(
        automatic > 0,
        "allocations past threshold[0] started collections"
    );
}

/// A back-off left by automatic collections that could not stop the world
/// (another thread held a guard) does not outlive the next collection:
/// that collection starts the young count again at 0, and so the back-off
/// measured from it. (It did: automatic collection then stayed off until
/// the young count passed the stale back-off again, which a program that
/// also collects by hand might never do.)
#[test]
fn a_timed_out_automatic_collection_does_not_disable_later_ones() {
    #[derive(Trace)]
    struct Cell {
        next: GcMutex<Option<sync::Gc<Cell>>>,
    }
    fn dead_cycles(n: usize) {
        for _ in 0..n {
            let a = sync::Gc::new(Cell {
                next: GcMutex::new(None),
            });
            let b = sync::Gc::new(Cell {
                next: GcMutex::new(Some(a.clone())),
            });
            *a.next.lock() = Some(b);
        }
    }
    let _serial = STRESS.lock().unwrap_or_else(|e| e.into_inner());
    sync::gc::collect();
    let old = sync::gc::get_threshold();
    sync::gc::set_threshold(50, 10, 10);
    let collections = || {
        sync::gc::get_stats()
            .iter()
            .map(|s| s.collections)
            .sum::<usize>()
    };

    // Another thread holds a guard while this one allocates far past the
    // threshold: every automatic attempt gives up (AUTO_STOP_TIMEOUT).
    let held = Arc::new(GcMutex::new(0_u32));
    let (locked, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let holder = {
        let (held, locked, release) = (held.clone(), locked.clone(), release.clone());
        std::thread::spawn(move || {
            let _guard = held.lock();
            locked.wait();
            release.wait();
        })
    };
    locked.wait();
    let before = collections();
    dead_cycles(2_500);
    let while_held = collections() - before;
    release.wait();
    holder.join().unwrap();
    assert_eq!(while_held, 0, "no collection could stop the world");

    assert!(sync::gc::collect() >= 5_000, "the cycles made meanwhile");
    let before = collections();
    dead_cycles(500);
    let after = collections() - before;
    sync::gc::set_threshold(old.0, old.1, old.2);
    sync::gc::collect();
    assert!(
        after > 0,
        "1000 allocations past threshold[0] = 50 started no collection"
    );
}
