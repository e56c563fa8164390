//! Workloads a–g of `BENCHMARKS.md`: pygc against `Rc`, `Box` and the
//! peer crates (gcmodule, bacon_rajan_cc, rust-gc, dumpster, rust-cc).
//!
//! Every group reports per-object figures (`Throughput::Elements`), and the
//! collection workloads time only the collection (`iter_custom`, with the
//! graph built outside the timed region). Run everything with
//! `cargo bench -p gc-bench`, one group with e.g.
//! `cargo bench -p gc-bench -- d_clone_drop` (a plain filter is a substring
//! of `group/contender`). Each benchmark runs in a fresh process of its own
//! (see [`run_in_children`]); `GC_BENCH_ONE_PROCESS=1` runs them all in one.
//!
//! Criterion runs on a thread with a 4 GiB stack: dropping a 1M-node list
//! recurses once per node in `Rc`, `Box` and most peers (pygc does not:
//! it has CPython's trashcan). Only the pages actually used are touched.
//!
//! # Clock
//!
//! Every benchmark times its region with `iter_custom` and **the benchmark
//! thread's CPU time** (`CLOCK_THREAD_CPUTIME_ID`, user + system, so page
//! faults count), not wall-clock time: the machines this runs on are shared
//! and often have more runnable threads than cores, which inflates
//! wall-clock figures by whatever share of the core other processes take.
//! Set `GC_BENCH_CLOCK=wall` to time wall-clock instead. One clock read
//! costs well under a microsecond; the shortest timed region (f_young, one
//! generation-0 collection) is about ten.

mod contenders;
mod floors;

use contenders::{bacon, boxed, dumpster_, gcmodule_, pygc_, rc, rust_cc_, rust_gc};
use contenders::{Collector, Contender};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use gc_bench::sizes::*;
use std::hint::black_box;
use std::time::Duration;

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    elements: usize,
    measure: Duration,
) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measure)
        .throughput(Throughput::Elements(elements as u64));
    g
}

/// The benchmark clock (see the crate docs): this thread's CPU time, or
/// wall-clock time with `GC_BENCH_CLOCK=wall`.
mod clock {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    fn wall() -> bool {
        static WALL: OnceLock<bool> = OnceLock::new();
        *WALL.get_or_init(|| std::env::var("GC_BENCH_CLOCK").is_ok_and(|v| v == "wall"))
    }

    /// A reading of the benchmark clock.
    #[derive(Clone, Copy)]
    pub struct Stamp(Duration);

    /// Read the clock.
    #[inline(always)]
    pub fn now() -> Stamp {
        if wall() {
            static EPOCH: OnceLock<Instant> = OnceLock::new();
            return Stamp(EPOCH.get_or_init(Instant::now).elapsed());
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a
        // constant the kernel supports on every Linux this runs on.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        Stamp(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    impl Stamp {
        /// Time since this reading.
        #[inline(always)]
        pub fn elapsed(self) -> Duration {
            now().0.saturating_sub(self.0)
        }
    }
}

/// Run `timed(setup())` `iters` times and return the time spent in `timed`
/// only; `setup` and the drop of `timed`'s result are not timed.
fn batched<S, R>(
    iters: u64,
    mut setup: impl FnMut() -> S,
    mut timed: impl FnMut(S) -> R,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup();
        let start = clock::now();
        let out = timed(input);
        total += start.elapsed();
        drop(black_box(out));
    }
    total
}

/// Time `iters` runs of `f` in one stretch.
fn repeated(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = clock::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

// ---------------------------------------------------------------- a1, a2, d

/// a1: build a 1M-node list (untimed), drop its head (timed).
fn a1<C: Contender>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::cleanup();
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| batched(iters, || C::list(LIST), C::free_list))
    });
    C::cleanup();
}

/// a2: 1M × (new tracked object, drop it), automatic collection on.
fn a2<C: Contender>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::cleanup();
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            repeated(iters, || {
                for _ in 0..NEW_DROP {
                    drop(black_box(C::obj()));
                }
            })
        })
    });
    C::cleanup();
}

/// d: 10M × (clone one handle, drop the clone).
fn d<C: Contender>(g: &mut BenchmarkGroup<'_, WallTime>)
where
    C::Obj: Clone,
{
    let handle = C::obj();
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            repeated(iters, || {
                for _ in 0..CLONE_DROP {
                    drop(black_box(handle.clone()));
                }
            })
        })
    });
    drop(handle);
    C::cleanup();
}

/// One handle operation `CLONE_DROP` times per iteration, benchmarked as
/// `name`: `op` on `subject`, its result dropped (the d rows of weak
/// handles, pygc against `Rc`; the peers' weak handles differ too much to
/// line up).
fn d_op<S, R>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, subject: &S, op: impl Fn(&S) -> R) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            repeated(iters, || {
                for _ in 0..CLONE_DROP {
                    drop(black_box(op(black_box(subject))));
                }
            })
        })
    });
}

/// d's weak twin: `downgrade` + drop of the weak handle. pygc's
/// `downgrade` also notes that a weak handle exists (one relaxed load and
/// a branch after the first: `weakepoch::note_weak_handle_made`).
fn d_weak(g: &mut BenchmarkGroup<'_, WallTime>) {
    d_op(
        g,
        "pygc",
        &gc_bench::pygc_shapes::obj(),
        pygc::Gc::downgrade,
    );
    d_op(g, "Rc", &gc_bench::rc_shapes::obj(), std::rc::Rc::downgrade);
}

/// `Weak::upgrade` + drop of the strong handle it gives (a parent pointer
/// followed in a tree).
fn d_upgrade(g: &mut BenchmarkGroup<'_, WallTime>) {
    let gc = gc_bench::pygc_shapes::obj();
    d_op(g, "pygc", &pygc::Gc::downgrade(&gc), pygc::Weak::upgrade);
    drop(gc);
    let rc = gc_bench::rc_shapes::obj();
    d_op(
        g,
        "Rc",
        &std::rc::Rc::downgrade(&rc),
        std::rc::Weak::upgrade,
    );
}

/// The sync heap's clone+drop against `std::sync::Arc` (issue: sync heap).
fn d_sync(g: &mut BenchmarkGroup<'_, WallTime>) {
    let gc = pygc::sync::Gc::new(pygc::sync::GcMutex::new(Vec::<pygc::sync::Gc<u64>>::new()));
    g.bench_function("pygc sync::Gc", |b| {
        b.iter_custom(|iters| {
            repeated(iters, || {
                for _ in 0..CLONE_DROP {
                    drop(black_box(gc.clone()));
                }
            })
        })
    });
    let arc = std::sync::Arc::new(std::sync::Mutex::new(Vec::<std::sync::Arc<u64>>::new()));
    g.bench_function("std::sync::Arc", |b| {
        b.iter_custom(|iters| {
            repeated(iters, || {
                for _ in 0..CLONE_DROP {
                    drop(black_box(arc.clone()));
                }
            })
        })
    });
}

/// a1 (build): make a 1M-node list (timed, automatic collection off, as
/// for every collector in issue 19's table; `growing_heap` times the same
/// shape with it on); drop it and reclaim it (untimed).
fn a1_build<C: Contender>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::cleanup();
    C::set_auto_collection(false);
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = clock::now();
                let list = black_box(C::list(LIST));
                total += start.elapsed();
                C::free_list(list);
            }
            total
        })
    });
    C::set_auto_collection(true);
    C::cleanup();
}

// ------------------------------------------------------------------ b, c, e

/// b: 100k two-node cycles made and dropped (untimed, automatic collection
/// off), then one full collection (timed).
fn b<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::collect();
    C::auto(false);
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                || {
                    C::collect();
                    C::dead_pairs(PAIRS)
                },
                |()| C::collect(),
            )
        })
    });
    C::auto(true);
}

/// b (create): 100k two-node cycles made and dropped (timed, automatic
/// collection off), then one full collection (untimed).
fn b_create<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::collect();
    C::auto(false);
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = clock::now();
                C::dead_pairs(PAIRS);
                total += start.elapsed();
                C::collect();
            }
            total
        })
    });
    C::auto(true);
}

/// c (alive): one full collection over a live 1M-node tree with strong
/// parent pointers; nothing is found. Before each timed collection the root
/// handle is cloned and dropped (untimed): the candidate-buffer collectors
/// (bacon_rajan_cc, dumpster, rust-cc) only scan from objects whose count
/// was decremented, so this makes them traverse the tree too.
fn c_alive<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    collect_live::<C, _>(g, || C::tree(TREE));
}

/// Time a full collection over the live structure `build` makes (built and
/// collected once, untimed); before each timed collection a handle to its
/// top is cloned and dropped (untimed, see [`c_alive`]).
fn collect_live<C: Collector, R: Clone>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    build: impl Fn() -> R,
) {
    let mut top = None;
    C::auto(false);
    g.bench_function(C::NAME, |b| {
        let top = top.get_or_insert_with(|| {
            let t = build();
            C::collect();
            t
        });
        b.iter_custom(|iters| batched(iters, || drop(top.clone()), |()| C::collect()))
    });
    drop(top);
    C::collect();
    C::auto(true);
}

/// c (dead): build the tree, collect once (untimed), drop the root, then
/// time the full collection that reclaims the 1M nodes.
fn c_dead<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::auto(false);
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                || {
                    let r = C::tree(TREE);
                    C::collect();
                    drop(r);
                },
                |()| C::collect(),
            )
        })
    });
    C::collect();
    C::auto(true);
}

/// e (pyperformance `gc_collect`): 100 rings of 21 nodes created and
/// dropped (untimed, automatic collection off), one full collection timed.
fn e_collect<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    C::auto(false);
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                || {
                    C::collect();
                    drop(C::rings(RINGS, RING_LINKS));
                },
                |()| C::collect(),
            )
        })
    });
    C::auto(true);
}

/// e (pyperformance `gc_traversal`): 1,000 live lists, list n holds n
/// references to list n−1; a full collection frees nothing. The top list
/// is cloned and dropped before each collection (see [`c_alive`]).
fn e_traversal<C: Collector>(g: &mut BenchmarkGroup<'_, WallTime>) {
    collect_live::<C, _>(g, || C::levels(LEVELS));
}

// ------------------------------------------------------------------------ f

/// f: allocate `n` short-lived tracked objects; each lives until `batch`
/// objects have been allocated (a batch is kept in a Vec, then dropped).
fn churn<C: Contender>(n: usize, batch: usize) {
    let mut live = Vec::with_capacity(batch);
    for _ in 0..n {
        live.push(C::obj());
        if live.len() == batch {
            live.clear();
        }
    }
    drop(black_box(live));
}

/// f (total): with `old` live old objects, time 10M short-lived tracked
/// allocations under automatic collection at default settings. The group
/// runs 10 samples of one iteration each (its measurement time is far below
/// one iteration), i.e. ten full 10M runs; full collections come every few
/// million allocations, so a shorter iteration would make the figure depend
/// on how many of them land inside the measured window.
/// `first` runs once, before the old heap is built, if the benchmark is
/// selected at all.
fn f_total<C: Contender>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    old: usize,
    first: impl FnOnce(),
) {
    let mut heap: Option<Vec<C::Obj>> = None;
    let mut first = Some(first);
    g.bench_function(id, |b| {
        heap.get_or_insert_with(|| {
            if let Some(f) = first.take() {
                f();
            }
            let h = (0..old).map(|_| C::obj()).collect();
            C::cleanup();
            h
        });
        b.iter_custom(|iters| repeated(iters, || churn::<C>(CHURN, CHURN_BATCH)))
    });
    drop(heap);
    C::cleanup();
}

/// f: one untimed-by-criterion run of the churn on pygc, printing the
/// collections per generation (`gc::get_stats()` deltas) and their mean
/// duration (from a `gc::add_callback` callback).
fn f_report(old: usize) {
    use pygc::gc;
    use std::cell::RefCell;
    use std::rc::Rc;
    let heap: Vec<_> = (0..old).map(|_| pygc_shapes::obj()).collect();
    gc::collect();
    let durations = Rc::new(RefCell::new([(0usize, Duration::ZERO, Duration::ZERO); 3]));
    let sink = durations.clone();
    let id = gc::add_callback(move |phase, info| {
        if phase == gc::Phase::Stop {
            let d = &mut sink.borrow_mut()[info.generation];
            d.0 += 1;
            d.1 += info.duration;
            d.2 = d.2.max(info.duration);
        }
    });
    let before = gc::get_stats();
    let start = clock::now();
    churn::<pygc_::C>(CHURN, CHURN_BATCH);
    let total = start.elapsed();
    let after = gc::get_stats();
    gc::remove_callback(id);
    println!(
        "f report (pygc, old heap {old}): {CHURN} short-lived objects in {:.1} ms = {:.2} ns/object",
        total.as_secs_f64() * 1e3,
        total.as_nanos() as f64 / CHURN as f64
    );
    for (g, d) in durations.borrow().iter().enumerate() {
        let n = after[g].collections - before[g].collections;
        let mean = if d.0 == 0 {
            Duration::ZERO
        } else {
            d.1 / d.0 as u32
        };
        println!(
            "  gen{g}: {n} collections (get_stats delta), collected {}, mean {:.2} µs, max {:.2} µs, total {:.1} ms",
            after[g].collected - before[g].collected,
            mean.as_secs_f64() * 1e6,
            d.2.as_secs_f64() * 1e6,
            d.1.as_secs_f64() * 1e3
        );
    }
    drop(heap);
    gc::collect();
}

/// f (young): one generation-0 collection of 700 fresh objects (the default
/// threshold) with `old` live old objects in generation 2.
fn f_young(g: &mut BenchmarkGroup<'_, WallTime>, old: usize) {
    use pygc::gc;
    let mut heap = None;
    g.bench_function(format!("pygc/old={old}"), |b| {
        heap.get_or_insert_with(|| {
            let h: Vec<_> = (0..old).map(|_| pygc_shapes::obj()).collect();
            gc::collect();
            h
        });
        gc::disable();
        b.iter_custom(|iters| {
            batched(
                iters,
                || (0..700).map(|_| pygc_shapes::obj()).collect::<Vec<_>>(),
                |young| {
                    gc::collect_generation(0);
                    young
                },
            )
        });
        gc::enable();
    });
    drop(heap);
    gc::collect();
}

use gc_bench::pygc_shapes;

// ------------------------------------------------------------------------ g

fn g_sizes() {
    use pygc::__private::header_bytes;
    println!(
        "g: pygc header bytes: tracked (pygc_shapes::Link) = {}, untracked (u64) = {}; \
         Rc = {} (strong + weak)",
        header_bytes::<pygc_shapes::Link>(),
        header_bytes::<u64>(),
        2 * std::mem::size_of::<usize>()
    );
}

// --------------------------------------------------------------------- main

macro_rules! each {
    ($f:ident, $g:expr, [$($m:ident),*]) => {
        $( $f::<$m::C>($g); )*
    };
}

fn run() {
    // Plots and HTML reports take seconds per benchmark here (about half the
    // run): off unless GC_BENCH_PLOTS is set. The JSON estimates that
    // `report.py` reads are written either way.
    let mut c = Criterion::default();
    if std::env::var_os("GC_BENCH_PLOTS").is_none() {
        c = c.without_plots();
    }
    let mut c = c.configure_from_args();
    pygc::gc::set_threshold(700, 10, 10);
    if std::env::var_os(CHILD_ENV).is_none() {
        g_sizes();
    }

    let s = Duration::from_secs;

    let mut g = group(&mut c, "d_clone_drop", CLONE_DROP, s(2));
    each!(
        d,
        &mut g,
        [pygc_, rc, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "d_downgrade_drop", CLONE_DROP, s(2));
    d_weak(&mut g);
    g.finish();

    let mut g = group(&mut c, "d_upgrade_drop", CLONE_DROP, s(2));
    d_upgrade(&mut g);
    g.finish();

    let mut g = group(&mut c, "d_sync_clone_drop", CLONE_DROP, s(2));
    d_sync(&mut g);
    g.finish();

    let mut g = group(&mut c, "a2_new_drop", NEW_DROP, s(2));
    each!(
        a2,
        &mut g,
        [pygc_, rc, boxed, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "a1_list_drop", LIST, s(2));
    each!(
        a1,
        &mut g,
        [pygc_, rc, boxed, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "a1_list_build", LIST, s(2));
    each!(
        a1_build,
        &mut g,
        [pygc_, rc, boxed, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "b_pairs_create", PAIRS, s(2));
    each!(
        b_create,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "b_pairs_collect", PAIRS, s(2));
    each!(
        b,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    floors::b(&mut g);
    g.finish();

    let mut g = group(&mut c, "c_tree_alive_collect", TREE, s(2));
    each!(
        c_alive,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    floors::c_alive(&mut g);
    g.finish();

    let mut g = group(&mut c, "c_tree_dead_collect", TREE, s(3));
    each!(
        c_dead,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    floors::c_dead(&mut g);
    g.finish();

    let mut g = group(&mut c, "a1_growing_build", floors::GROWING, s(3));
    floors::growing(&mut g);
    g.finish();

    let mut g = group(&mut c, "e_gc_collect", RINGS * (RING_LINKS + 1), s(1));
    each!(
        e_collect,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    let mut g = group(&mut c, "e_gc_traversal", LEVEL_REFS, s(1));
    each!(
        e_traversal,
        &mut g,
        [pygc_, gcmodule_, bacon, rust_gc, dumpster_, rust_cc_]
    );
    g.finish();

    // 10 samples × 1 iteration of CHURN objects (a measurement time far
    // below one iteration's duration forces one iteration per sample).
    let mut g = group(&mut c, "f_churn_total", CHURN, Duration::from_millis(10));
    // The pygc report runs only when the pygc benchmark is selected.
    f_total::<pygc_::C>(&mut g, "pygc", OLD, || {
        f_report(OLD);
        f_report(2 * OLD);
    });
    f_total::<pygc_::C>(&mut g, "pygc/old=2M", 2 * OLD, || {});
    f_total::<rc::C>(&mut g, "Rc", OLD, || {});
    f_total::<boxed::C>(&mut g, "Box", OLD, || {});
    f_total::<gcmodule_::C>(&mut g, "gcmodule", OLD, || {});
    f_total::<bacon::C>(&mut g, "bacon_rajan_cc", OLD, || {});
    f_total::<rust_gc::C>(&mut g, "rust-gc", OLD, || {});
    f_total::<dumpster_::C>(&mut g, "dumpster", OLD, || {});
    f_total::<rust_cc_::C>(&mut g, "rust-cc", OLD, || {});
    g.finish();

    let mut g = group(&mut c, "f_young_collect", 700, s(2));
    for old in [0, OLD, 2 * OLD] {
        f_young(&mut g, old);
    }
    g.finish();

    c.final_summary();
}

// ------------------------------------------------------- one process each

/// Every benchmark id `run` registers, by group (keep in sync with `run`).
const BENCHES: &[(&str, &[&str])] = &[
    (
        "d_clone_drop",
        &[
            "pygc",
            "Rc",
            "gcmodule",
            "bacon_rajan_cc",
            "rust-gc",
            "dumpster",
            "rust-cc",
        ],
    ),
    ("d_downgrade_drop", &["pygc", "Rc"]),
    ("d_upgrade_drop", &["pygc", "Rc"]),
    ("d_sync_clone_drop", &["pygc sync::Gc", "std::sync::Arc"]),
    ("a2_new_drop", ALL),
    ("a1_list_drop", ALL),
    ("a1_list_build", ALL),
    ("b_pairs_create", COLLECTORS),
    ("b_pairs_collect", COLLECTORS),
    ("b_pairs_collect", &["floor: free the pairs"]),
    ("c_tree_alive_collect", COLLECTORS),
    ("c_tree_alive_collect", &["floor: three bare passes"]),
    ("c_tree_dead_collect", COLLECTORS),
    ("c_tree_dead_collect", &["floor: free the nodes"]),
    ("a1_growing_build", &["pygc", "pygc incremental", "Rc"]),
    ("e_gc_collect", COLLECTORS),
    ("e_gc_traversal", COLLECTORS),
    (
        "f_churn_total",
        &[
            "pygc",
            "pygc/old=2M",
            "Rc",
            "Box",
            "gcmodule",
            "bacon_rajan_cc",
            "rust-gc",
            "dumpster",
            "rust-cc",
        ],
    ),
    (
        "f_young_collect",
        &["pygc/old=0", "pygc/old=1000000", "pygc/old=2000000"],
    ),
];
const ALL: &[&str] = &[
    "pygc",
    "Rc",
    "Box",
    "gcmodule",
    "bacon_rajan_cc",
    "rust-gc",
    "dumpster",
    "rust-cc",
];
const COLLECTORS: &[&str] = &[
    "pygc",
    "gcmodule",
    "bacon_rajan_cc",
    "rust-gc",
    "dumpster",
    "rust-cc",
];

/// Set in the child processes.
const CHILD_ENV: &str = "GC_BENCH_CHILD";

/// Criterion options that take a value (so the value is not the filter).
const VALUE_OPTIONS: &[&str] = &[
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--measurement-time",
    "--warm-up-time",
    "--sample-size",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--format",
    "-c",
    "--color",
];

/// Run every selected benchmark in a process of its own.
///
/// A collection's cost depends heavily on where its objects lie in memory
/// (a scan over a fragmented heap misses the cache on most objects: 2–4x
/// slower for b on this machine), and every benchmark leaves the allocator
/// in a different state. In one process the figures would depend on the
/// order the benchmarks run in; in fresh processes every contender starts
/// from the same, empty heap. Returns `false` to run in this process
/// instead: in a child, with `--test`/`--list`/`--profile-time`, with
/// `GC_BENCH_ONE_PROCESS` set, or with a filter that is a real regex (a
/// plain filter is matched as a substring of `group/contender`).
fn run_in_children() -> bool {
    if std::env::var_os(CHILD_ENV).is_some() || std::env::var_os("GC_BENCH_ONE_PROCESS").is_some() {
        return false;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = Vec::new();
    let mut filter = None;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if ["--test", "--list", "--profile-time"].contains(&a.as_str()) {
            return false;
        }
        if VALUE_OPTIONS.contains(&a.as_str()) {
            options.push(a);
            options.extend(it.next());
        } else if a.starts_with('-') {
            options.push(a);
        } else if filter.is_none() {
            filter = Some(a);
        } else {
            return false;
        }
    }
    let is_regex = |f: &str| f.chars().any(|c| "\\.+*?()|[]{}^$".contains(c));
    if filter.as_deref().is_some_and(is_regex) {
        return false;
    }
    g_sizes();
    let exe = std::env::current_exe().expect("current_exe");
    for (group, ids) in BENCHES {
        for id in *ids {
            let full = format!("{group}/{id}");
            if filter.as_deref().is_some_and(|f| !full.contains(f)) {
                continue;
            }
            let exact = format!("^{}$", regex_escape(&full));
            let status = std::process::Command::new(&exe)
                .args(&options)
                .arg(&exact)
                .env(CHILD_ENV, "1")
                .status()
                .expect("run a benchmark process");
            assert!(status.success(), "{full}: {status}");
        }
    }
    true
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn main() {
    if floors::growing_child() {
        return;
    }
    if run_in_children() {
        return;
    }
    std::thread::Builder::new()
        .name("gc-bench".into())
        .stack_size(4 << 30)
        .spawn(run)
        .expect("spawn the benchmark thread")
        .join()
        .expect("benchmark thread panicked");
}
