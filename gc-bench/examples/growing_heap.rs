//! The growing heap (issue 19): build a 2,000,000-node chain front to back
//! — each node holds the previous one, as a Lisp's `(cons n acc)` does —
//! with **automatic collection on and default thresholds**, against `Rc`
//! in the same run.
//!
//! ```text
//! cargo run -p gc-bench --release --example growing_heap [-- [--mode generational] [NODES] [RUNS]]
//! ```
//!
//! Each run builds the chain on a fresh thread (so each pygc run starts
//! from a fresh heap: empty generations, counts at zero, default
//! thresholds), timing the build alone in thread CPU time; the chain is
//! dropped afterwards, untimed. pygc and `Rc` runs alternate; the best of
//! `RUNS` (default 5) is reported. `gc` callbacks give the collector's own
//! time in the best pygc run, per generation: the thread CPU time between
//! each collection's start and stop callbacks (and the callbacks' own
//! wall-clock durations, which a loaded machine inflates); its share per
//! surviving object is that time divided by `NODES`.

use gc_bench::{apply_mode, pygc_shapes, rc_shapes, take_mode};
use pygc::gc::{self, Phase};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

fn cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// One pygc run: build time and, per generation, collections and their
/// total duration.
#[derive(Clone, Copy, Default)]
struct GcRun {
    ns: f64,
    collections: [usize; 3],
    /// The callbacks' durations (wall clock).
    collector: [Duration; 3],
    /// Thread CPU time from each collection's start callback to its stop
    /// callback.
    collector_cpu_ns: [f64; 3],
}

fn pygc_run(nodes: usize, mode: String) -> GcRun {
    std::thread::spawn(move || {
        apply_mode(&mode).expect("checked in main");
        let stats = Rc::new(RefCell::new(GcRun::default()));
        let id = {
            let stats = stats.clone();
            let mut started = 0.0;
            gc::add_callback(move |phase, info| match phase {
                Phase::Start => started = cpu_ns(),
                Phase::Stop => {
                    let mut s = stats.borrow_mut();
                    s.collections[info.generation] += 1;
                    s.collector[info.generation] += info.duration;
                    s.collector_cpu_ns[info.generation] += cpu_ns() - started;
                }
            })
        };
        let start = cpu_ns();
        let chain = pygc_shapes::list(nodes);
        let ns = cpu_ns() - start;
        gc::remove_callback(id);
        drop(chain);
        let run = GcRun {
            ns,
            ..*stats.borrow()
        };
        run
    })
    .join()
    .expect("pygc run")
}

fn rc_run(nodes: usize) -> f64 {
    std::thread::spawn(move || {
        let start = cpu_ns();
        let mut chain = rc_shapes::list(nodes);
        let ns = cpu_ns() - start;
        // Drop iteratively: Rc's recursive drop would overflow the stack.
        while let Some(node) = chain {
            chain = Rc::try_unwrap(node).ok().and_then(|link| link.next);
        }
        ns
    })
    .join()
    .expect("Rc run")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = take_mode(args).unwrap_or_else(|e| exit(&e));
    apply_mode(&mode).unwrap_or_else(|e| exit(&e));
    let nodes: usize = rest
        .first()
        .map(|s| s.parse().unwrap_or_else(|_| exit("NODES must be a number")))
        .unwrap_or(2_000_000);
    let runs: usize = rest
        .get(1)
        .map(|s| s.parse().unwrap_or_else(|_| exit("RUNS must be a number")))
        .unwrap_or(5);
    let (t0, t1, t2) = gc::get_threshold();
    println!(
        "growing heap: a {nodes}-node chain built front to back; automatic collection on, \
         thresholds ({t0}, {t1}, {t2}), mode {mode}; best of {runs} interleaved runs, thread CPU time"
    );
    let mut best_gc: Option<GcRun> = None;
    let mut best_rc = f64::MAX;
    for run in 0..runs {
        let g = pygc_run(nodes, mode.clone());
        let r = rc_run(nodes);
        println!(
            "run {run}: pygc {:7.1} ms   Rc {:7.1} ms",
            g.ns / 1e6,
            r / 1e6
        );
        if best_gc.map_or(true, |b| g.ns < b.ns) {
            best_gc = Some(g);
        }
        best_rc = best_rc.min(r);
    }
    let g = best_gc.expect("at least one run");
    let collector: Duration = g.collector.iter().sum();
    let collector_cpu: f64 = g.collector_cpu_ns.iter().sum();
    let per = |x: f64| x / nodes as f64;
    println!(
        "best: pygc {:.1} ms ({:.1} ns/node), Rc {:.1} ms ({:.1} ns/node): {:.2}x Rc",
        g.ns / 1e6,
        per(g.ns),
        best_rc / 1e6,
        per(best_rc),
        g.ns / best_rc
    );
    for generation in 0..3 {
        println!(
            "  generation {generation}: {:6} collections, {:8.2} ms CPU ({:.1} ns per surviving object), {:8.2} ms wall",
            g.collections[generation],
            g.collector_cpu_ns[generation] / 1e6,
            per(g.collector_cpu_ns[generation]),
            g.collector[generation].as_secs_f64() * 1e3,
        );
    }
    println!(
        "collector share (thread CPU between start and stop callbacks): {:.1} ms = {:.1} ns per \
         surviving object, {:.0}% of pygc's build (callbacks' wall durations: {:.1} ms); \
         pygc - Rc = {:.1} ns per object",
        collector_cpu / 1e6,
        per(collector_cpu),
        100.0 * collector_cpu / g.ns,
        collector.as_secs_f64() * 1e3,
        per(g.ns - best_rc)
    );
}

fn exit(message: &str) -> ! {
    eprintln!("growing_heap: {message}");
    std::process::exit(2)
}
