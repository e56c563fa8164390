//! The thread-safe heap against `Arc<Mutex<_>>` and dumpster's `sync` heap,
//! per thread, on 1 and 2 threads (issue 17; BENCHMARKS.md "Sync heap per
//! thread").
//!
//! ```text
//! cargo run -p gc-bench --release --example sync_threads
//! cargo run -p gc-bench --release --example sync_threads -- lock   # rows naming "lock"
//! ```
//!
//! Every thread works on its own objects (nothing is shared), so the only
//! interaction between threads is what the library itself shares: for `Arc`
//! and `std::sync::Mutex` nothing, for `pygc::sync` its world and lists, for
//! dumpster its global collector state. Each row is nanoseconds of wall-clock
//! time per operation per thread, the minimum over `REPS` repetitions (the
//! machine is shared; the minimum is the least disturbed run). Rows:
//!
//! - `new+drop`: allocate a tracked node (one edge slot behind a lock) and
//!   drop it;
//! - `clone+drop`: clone and drop a handle to one node;
//! - `lock+unlock`: lock and unlock the node's lock (`GcMutex` / `Mutex`;
//!   dumpster has no lock of its own: its nodes hold a `std::sync::Mutex`);
//! - `read+unlock`, `write+unlock`: a `GcRwLock<u64>` in a `sync::Gc`
//!   against a `std::sync::RwLock<u64>` in an `Arc`;
//! - `2-cycle build+collect`: build `PAIRS` two-node cycles, drop them, then
//!   collect (per pair; `Arc` cannot collect cycles: not measured).

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const OPS: usize = 2_000_000;
const PAIRS: usize = 100_000;
const REPS: usize = 7;

mod pygc_node {
    use pygc::sync::{Gc, GcMutex};
    use pygc::Trace;

    #[derive(Trace)]
    pub struct Node {
        pub next: GcMutex<Option<Gc<Node>>>,
    }

    pub fn node() -> Gc<Node> {
        Gc::new(Node {
            next: GcMutex::new(None),
        })
    }
}

mod arc_node {
    use std::sync::{Arc, Mutex};

    pub struct Node {
        pub next: Mutex<Option<Arc<Node>>>,
    }

    pub fn node() -> Arc<Node> {
        Arc::new(Node {
            next: Mutex::new(None),
        })
    }
}

mod dumpster_node {
    use dumpster::sync::Gc;
    use std::sync::Mutex;

    #[derive(dumpster::Trace)]
    pub struct Node {
        pub next: Mutex<Option<Gc<Node>>>,
    }

    pub fn node() -> Gc<Node> {
        Gc::new(Node {
            next: Mutex::new(None),
        })
    }
}

/// Run `work` on `threads` threads at once (after a barrier); the slowest
/// thread's wall time divided by `ops`, minimum over `REPS`.
fn per_op(threads: usize, ops: usize, work: impl Fn() + Sync + Send + Copy + 'static) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..REPS {
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work();
                    start.elapsed()
                })
            })
            .collect();
        let slowest = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap_or(Duration::ZERO);
        best = best.min(slowest.as_nanos() as f64 / ops as f64);
    }
    best
}

fn row(name: &str, cells: &[(usize, f64)]) {
    let cells: Vec<String> = cells
        .iter()
        .map(|(t, ns)| format!("{t}T {ns:7.1}"))
        .collect();
    println!("{name:<40} {}", cells.join("  "));
}

/// Whether `name` is selected by the command line (`sync_threads lock`
/// runs the rows whose name contains "lock"; no argument: every row).
fn selected(name: &str) -> bool {
    std::env::args().skip(1).all(|a| name.contains(&a))
}

fn measure(name: &str, ops: usize, work: impl Fn() + Sync + Send + Copy + 'static) {
    if !selected(name) {
        return;
    }
    let cells: Vec<(usize, f64)> = [1, 2].iter().map(|&t| (t, per_op(t, ops, work))).collect();
    row(name, &cells);
}

fn main() {
    println!("ns per operation per thread (wall clock, min of {REPS}); 1T = one thread, 2T = two");
    measure("new+drop   pygc::sync::Gc (tracked)", OPS, || {
        for _ in 0..OPS {
            drop(black_box(pygc_node::node()));
        }
    });
    measure("new+drop   Arc<Node{Mutex}>", OPS, || {
        for _ in 0..OPS {
            drop(black_box(arc_node::node()));
        }
    });
    measure("new+drop   dumpster::sync::Gc", OPS, || {
        for _ in 0..OPS {
            drop(black_box(dumpster_node::node()));
        }
    });
    measure("clone+drop pygc::sync::Gc", OPS, || {
        let n = pygc_node::node();
        for _ in 0..OPS {
            drop(black_box(n.clone()));
        }
    });
    measure("clone+drop Arc", OPS, || {
        let n = arc_node::node();
        for _ in 0..OPS {
            drop(black_box(n.clone()));
        }
    });
    measure("clone+drop dumpster::sync::Gc", OPS, || {
        let n = dumpster_node::node();
        for _ in 0..OPS {
            drop(black_box(n.clone()));
        }
    });
    measure("lock+unlock GcMutex", OPS, || {
        let n = pygc_node::node();
        for _ in 0..OPS {
            drop(black_box(n.next.lock()));
        }
    });
    measure("lock+unlock std Mutex (in Arc)", OPS, || {
        let n = arc_node::node();
        for _ in 0..OPS {
            drop(black_box(n.next.lock().unwrap()));
        }
    });
    measure("lock+unlock std Mutex (in dumpster Gc)", OPS, || {
        let n = dumpster_node::node();
        for _ in 0..OPS {
            drop(black_box(n.next.lock().unwrap()));
        }
    });
    measure("read+unlock GcRwLock", OPS, || {
        let l = pygc::sync::Gc::new(pygc::sync::GcRwLock::new(0u64));
        for _ in 0..OPS {
            drop(black_box(l.read()));
        }
    });
    measure("read+unlock std RwLock (in Arc)", OPS, || {
        let l = Arc::new(std::sync::RwLock::new(0u64));
        for _ in 0..OPS {
            drop(black_box(l.read().unwrap()));
        }
    });
    measure("write+unlock GcRwLock", OPS, || {
        let l = pygc::sync::Gc::new(pygc::sync::GcRwLock::new(0u64));
        for _ in 0..OPS {
            drop(black_box(l.write()));
        }
    });
    measure("write+unlock std RwLock (in Arc)", OPS, || {
        let l = Arc::new(std::sync::RwLock::new(0u64));
        for _ in 0..OPS {
            drop(black_box(l.write().unwrap()));
        }
    });
    measure("2-cycle build+collect pygc::sync (/pair)", PAIRS, || {
        for _ in 0..PAIRS {
            let a = pygc_node::node();
            let b = pygc_node::node();
            *a.next.lock() = Some(b.clone());
            *b.next.lock() = Some(a);
        }
        pygc::sync::gc::collect();
    });
    measure("2-cycle build+collect dumpster (/pair)", PAIRS, || {
        for _ in 0..PAIRS {
            let a = dumpster_node::node();
            let b = dumpster_node::node();
            *a.next.lock().unwrap() = Some(b.clone());
            *b.next.lock().unwrap() = Some(a);
        }
        dumpster::sync::collect();
    });
    // Collection alone, automatic collection off: build, then time collect.
    for threads in [1usize] {
        if !selected("collect only, 100k 2-cycles pygc (/pair)") {
            break;
        }
        let mut best = f64::INFINITY;
        for _ in 0..REPS {
            pygc::sync::gc::disable();
            let keep: Vec<_> = (0..threads).collect();
            for _ in &keep {
                for _ in 0..PAIRS {
                    let a = pygc_node::node();
                    let b = pygc_node::node();
                    *a.next.lock() = Some(b.clone());
                    *b.next.lock() = Some(a);
                }
            }
            let start = Instant::now();
            let found = pygc::sync::gc::collect();
            let t = start.elapsed();
            pygc::sync::gc::enable();
            assert!(found >= 2 * PAIRS * threads, "collected {found}");
            best = best.min(t.as_nanos() as f64 / (PAIRS * threads) as f64);
        }
        row(
            "collect only, 100k 2-cycles pygc (/pair)",
            &[(threads, best)],
        );
    }
}
