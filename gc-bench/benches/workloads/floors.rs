//! Issue 19's floors, next to the rows they bound (ids `floor: …` in the
//! groups `b_pairs_collect`, `c_tree_alive_collect`, `c_tree_dead_collect`),
//! and the growing heap with automatic collection on (`a1_growing_build`).
//!
//! - **c alive** — three bare sequential passes over the same memory
//!   (`gc_bench::floor`: 1M 72-byte nodes in the pool's page layout; each
//!   pass reads and writes every node's header word, in address order).
//! - **b** — freeing the same objects without a collection: 100k pygc
//!   `Pair`s, each `a` holding its `b` (no cycle), dropped (refcount death:
//!   drop glue and the pool's free for each object).
//! - **c dead** — freeing the same nodes without a collection: a 1M-node
//!   pygc tree of the same `Tree` type with no parent handles (acyclic),
//!   dropped at the root (refcount deaths, through the trashcan).
//! - **growing heap** — a 2M-node chain built front to back (each node holds
//!   the previous one) with automatic collection on, CPython 3.12's
//!   thresholds: pygc in both collector modes against `Rc`. Each build runs
//!   in a process of its own (this benchmark binary, started again), which
//!   times it in its thread CPU time: every build starts from a fresh heap
//!   and pays for its own pages, as a program that builds the chain once
//!   does (as the `growing_heap` example; in one process the allocator's
//!   state left by the previous build decided the ratio: `Rc` 27–44 ms
//!   against 120–140 ms in fresh processes on this machine).

use super::{batched, clock, repeated};
use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use gc_bench::pygc_shapes::{self, Pair};
use gc_bench::sizes::{PAIRS, TREE};
use pygc::Gc;
use std::cell::RefCell;
use std::hint::black_box;
use std::time::Duration;

/// Nodes of the growing chain.
pub const GROWING: usize = 2_000_000;

/// c alive's floor.
pub fn c_alive(g: &mut BenchmarkGroup<'_, WallTime>) {
    let mut heap = None;
    g.bench_function("floor: three bare passes", |b| {
        let heap = heap.get_or_insert_with(gc_bench::floor::Heap::build);
        b.iter_custom(|iters| repeated(iters, || heap.three_bare_passes()))
    });
}

/// b's floor.
pub fn b(g: &mut BenchmarkGroup<'_, WallTime>) {
    pygc::gc::collect();
    pygc::gc::disable();
    g.bench_function("floor: free the pairs", |bench| {
        bench.iter_custom(|iters| {
            batched(
                iters,
                || {
                    (0..PAIRS)
                        .map(|_| {
                            let b = Gc::new(Pair {
                                other: RefCell::new(None),
                            });
                            Gc::new(Pair {
                                other: RefCell::new(Some(b)),
                            })
                        })
                        .collect::<Vec<_>>()
                },
                drop,
            )
        })
    });
    pygc::gc::enable();
}

/// c dead's floor.
pub fn c_dead(g: &mut BenchmarkGroup<'_, WallTime>) {
    pygc::gc::collect();
    pygc::gc::disable();
    g.bench_function("floor: free the nodes", |b| {
        b.iter_custom(|iters| batched(iters, || pygc_shapes::acyclic_tree(TREE), drop))
    });
    pygc::gc::enable();
}

/// Set in a process started to build the growing chain once.
const GROWING_ENV: &str = "GC_BENCH_GROWING_CHILD";

/// In a process started by [`growing_runs`]: build the chain once, print
/// the build's thread CPU time in nanoseconds, and return `true`.
pub fn growing_child() -> bool {
    let Some(kind) = std::env::var_os(GROWING_ENV) else {
        return false;
    };
    let ns = match kind.to_str() {
        Some("Rc") => time_build(|| gc_bench::rc_shapes::list(GROWING)),
        Some(mode) => {
            gc_bench::apply_mode(mode).expect("a collector mode");
            time_build(|| gc_bench::pygc_shapes::list(GROWING))
        }
        None => panic!("{GROWING_ENV}: not UTF-8"),
    };
    println!("{ns}");
    true
}

fn time_build<L>(build: impl Fn() -> L) -> u128 {
    let start = clock::now();
    let chain = black_box(build());
    let ns = start.elapsed().as_nanos();
    // The process ends next (and `Rc`'s drop of a 2M chain recurses once
    // per node, past a main thread's stack).
    std::mem::forget(chain);
    ns
}

/// Build the growing chain `iters` times, each in a process of its own
/// (`kind`: `Rc` or a pygc collector mode), and add up the builds' times.
fn growing_runs(iters: u64, kind: &str) -> Duration {
    let exe = std::env::current_exe().expect("current_exe");
    (0..iters)
        .map(|_| {
            let out = std::process::Command::new(&exe)
                .env(GROWING_ENV, kind)
                .output()
                .expect("run a growing-heap build");
            assert!(out.status.success(), "growing-heap build: {}", out.status);
            let ns: u64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("the child prints its build time");
            Duration::from_nanos(ns)
        })
        .sum()
}

/// The growing heap: pygc (generational, the default), pygc incremental,
/// and `Rc`, automatic collection on, each build in a fresh process.
pub fn growing(g: &mut BenchmarkGroup<'_, WallTime>) {
    for (id, kind) in [
        ("pygc", "generational"),
        ("pygc incremental", "incremental"),
        ("Rc", "Rc"),
    ] {
        g.bench_function(id, |b| b.iter_custom(|iters| growing_runs(iters, kind)));
    }
}
