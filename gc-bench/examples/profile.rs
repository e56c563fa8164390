//! A small driver for profiling one pygc workload under callgrind.
//!
//! ```text
//! cargo build -p gc-bench --release --example profile
//! valgrind --tool=callgrind --toggle-collect='profile::timed_*' \
//!     target/release/examples/profile b
//! callgrind_annotate --inclusive=no callgrind.out.<pid> | head -40
//! ```
//!
//! Workloads (sizes are a tenth of the benchmarks' or less, to keep
//! valgrind fast): `a1`, `a1-build`, `growing` (a 200k chain built with
//! automatic collection on), `a2`, `b`, `b-floor`, `c-alive`, `c-dead`, `c-dead-floor`, `d`, `d-weak` (downgrade + drop the weak handle), `d-upgrade` (upgrade + drop), `e-collect`, `pairs-alive`,
//! `e-traversal`, `f`, and on the sync heap `sync-a2` (new+drop of a
//! tracked node `{ next: GcMutex<Option<Gc<_>>> }`, as `sync_threads`' row)
//! `sync-d` (clone+drop), `sync-d-weak` (downgrade + drop) and `sync-lock` (`GcMutex` lock+unlock). Only the `timed_*` functions are what the benchmark
//! times, so `--toggle-collect` restricts the profile to them. `a1`, `a1-build`, `a2`,
//! `d`, `d-weak`, `d-upgrade`, `f`, `growing`, `sync-a2`, `sync-d`, `sync-d-weak` and `sync-lock` take a second argument `rc` to run the same on `Rc`
//! (`Arc` with a `Mutex` for the sync rows), for an instruction-count comparison.

use gc_bench::pygc_shapes as s;
use pygc::gc;
use std::hint::black_box;

/// The sync heap's tracked node (as `sync_threads`' `new+drop` row).
#[derive(pygc::Trace)]
struct SyncNode {
    next: pygc::sync::GcMutex<Option<pygc::sync::Gc<SyncNode>>>,
}

fn sync_node() -> pygc::sync::Gc<SyncNode> {
    pygc::sync::Gc::new(SyncNode {
        next: pygc::sync::GcMutex::new(None),
    })
}

/// `sync_node`'s std counterpart.
struct ArcNode {
    next: std::sync::Mutex<Option<std::sync::Arc<ArcNode>>>,
}

fn arc_node() -> std::sync::Arc<ArcNode> {
    std::sync::Arc::new(ArcNode {
        next: std::sync::Mutex::new(None),
    })
}

#[inline(never)]
fn timed_collect() -> usize {
    gc::collect()
}

#[inline(never)]
fn timed_make<T>(make: impl FnOnce() -> T) -> T {
    make()
}

#[inline(never)]
fn timed_drop<T>(value: T) {
    drop(value);
}

#[inline(never)]
fn timed_new_drop<T>(n: usize, new: impl Fn() -> T) {
    for _ in 0..n {
        drop(black_box(new()));
    }
}

/// `op` on `h` a million times, each result dropped (`d-weak`, `d-upgrade`).
#[inline(never)]
fn timed_op_drop<T, R>(h: &T, op: impl Fn(&T) -> R) {
    for _ in 0..1_000_000 {
        drop(black_box(op(black_box(h))));
    }
}

#[inline(never)]
fn timed_clone_drop<T: Clone>(h: &T, n: usize) {
    for _ in 0..n {
        drop(black_box(h.clone()));
    }
}

#[inline(never)]
fn timed_lock_sync(n: &SyncNode, iters: usize) {
    for _ in 0..iters {
        drop(black_box(n.next.lock()));
    }
}

#[inline(never)]
fn timed_lock_std(n: &ArcNode, iters: usize) {
    for _ in 0..iters {
        drop(black_box(n.next.lock().unwrap()));
    }
}

#[inline(never)]
fn timed_churn<T>(n: usize, batch: usize, new: impl Fn() -> T) {
    let mut live = Vec::with_capacity(batch);
    for _ in 0..n {
        live.push(new());
        if live.len() == batch {
            live.clear();
        }
    }
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "b".into());
    let rc = std::env::args().nth(2).as_deref() == Some("rc");
    match which.as_str() {
        "a1-build" if rc => drop(black_box(timed_make(|| gc_bench::rc_shapes::list(100_000)))),
        "a1-build" => {
            gc::disable();
            drop(black_box(timed_make(|| s::list(100_000))));
        }
        // The growing heap with automatic collection on (default
        // thresholds): build a 200k-node chain.
        "growing" if rc => drop(black_box(timed_make(|| gc_bench::rc_shapes::list(200_000)))),
        "growing" => drop(black_box(timed_make(|| s::list(200_000)))),
        "a1" if rc => timed_drop(gc_bench::rc_shapes::list(100_000)),
        "a1" => timed_drop(s::list(100_000)),
        "a2" if rc => timed_new_drop(100_000, gc_bench::rc_shapes::obj),
        "a2" => timed_new_drop(100_000, s::obj),
        "b" => {
            gc::disable();
            s::dead_pairs(20_000);
            println!("collected {}", timed_collect());
        }
        // b's floor: the same 20k pairs without a cycle (`a` holds `b`),
        // freed by refcount death (as `b_pairs_collect/floor: free the pairs`).
        "b-floor" => {
            gc::disable();
            let pairs: Vec<_> = (0..20_000)
                .map(|_| {
                    let b = pygc::Gc::new(s::Pair {
                        other: std::cell::RefCell::new(None),
                    });
                    pygc::Gc::new(s::Pair {
                        other: std::cell::RefCell::new(Some(b)),
                    })
                })
                .collect();
            timed_drop(pairs);
        }
        "c-alive" => {
            gc::disable();
            let root = s::tree(100_000);
            gc::collect();
            drop(root.clone());
            println!("collected {}", timed_collect());
            drop(root);
        }
        "c-dead" => {
            gc::disable();
            let root = s::tree(100_000);
            gc::collect();
            drop(root);
            println!("collected {}", timed_collect());
        }
        // c dead as gc-bench times it: the 1M-node tree built, collected
        // alive, dropped and collected, five times over (each later tree
        // is built in the pages the earlier one left); prints each
        // timed collection's milliseconds.
        "c-dead-rounds" => {
            gc::disable();
            for _ in 0..5 {
                let root = s::tree(1_000_000);
                gc::collect();
                drop(root);
                let start = std::time::Instant::now();
                let n = timed_collect();
                println!(
                    "collected {n} in {:.2} ms",
                    start.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        // c dead's floor: the same 100k `Tree` nodes without parent
        // handles, freed by refcount death from the root (as
        // `c_tree_dead_collect/floor: free the nodes`).
        "c-dead-floor" => {
            gc::disable();
            let root = s::acyclic_tree(100_000);
            gc::collect();
            timed_drop(root);
        }
        "d" if rc => timed_clone_drop(&gc_bench::rc_shapes::obj(), 1_000_000),
        "d" => timed_clone_drop(&s::obj(), 1_000_000),
        "d-weak" if rc => timed_op_drop(&gc_bench::rc_shapes::obj(), std::rc::Rc::downgrade),
        "d-weak" => timed_op_drop(&s::obj(), pygc::Gc::downgrade),
        "d-upgrade" if rc => {
            let strong = gc_bench::rc_shapes::obj();
            timed_op_drop(&std::rc::Rc::downgrade(&strong), std::rc::Weak::upgrade);
        }
        "d-upgrade" => {
            let strong = s::obj();
            timed_op_drop(&pygc::Gc::downgrade(&strong), pygc::Weak::upgrade);
        }
        // Nested values built inside out (`Gc::new(Link { next:
        // Some(Gc::new(..)) })`), held from outside: the list alternates
        // child, parent, so `move_unreachable` moves each child to
        // `unreachable` alone (a run of one) and its parent's trace rescues it.
        "pairs-alive" => {
            gc::disable();
            let held: Vec<_> = (0..100_000)
                .map(|_| {
                    pygc::Gc::new(s::Link {
                        next: Some(s::obj()),
                    })
                })
                .collect();
            println!("collected {}", timed_collect());
            drop(held);
        }
        "e-collect" => {
            gc::disable();
            drop(s::rings(100, 20));
            println!("collected {}", timed_collect());
        }
        "e-traversal" => {
            gc::disable();
            let top = s::levels(1_000);
            gc::collect();
            println!("collected {}", timed_collect());
            drop(top);
        }
        "f" if rc => {
            let old: Vec<_> = (0..100_000).map(|_| gc_bench::rc_shapes::obj()).collect();
            timed_churn(1_000_000, 1_000, gc_bench::rc_shapes::obj);
            drop(old);
        }
        "f" => {
            let old: Vec<_> = (0..100_000).map(|_| s::obj()).collect();
            gc::collect();
            timed_churn(1_000_000, 1_000, s::obj);
            drop(old);
        }
        "sync-a2" if rc => timed_new_drop(100_000, arc_node),
        "sync-a2" => timed_new_drop(100_000, sync_node),
        "sync-d" if rc => timed_clone_drop(&arc_node(), 1_000_000),
        "sync-d" => timed_clone_drop(&sync_node(), 1_000_000),
        "sync-d-weak" if rc => timed_op_drop(&arc_node(), std::sync::Arc::downgrade),
        "sync-d-weak" => timed_op_drop(&sync_node(), pygc::sync::Gc::downgrade),
        "sync-lock" if rc => timed_lock_std(&arc_node(), 1_000_000),
        "sync-lock" => timed_lock_sync(&sync_node(), 1_000_000),
        other => panic!("unknown workload {other:?}"),
    }
}
