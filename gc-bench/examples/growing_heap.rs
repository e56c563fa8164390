//! The growing heap (issue 19): build a 2,000,000-node chain front to back
//! — each node holds the previous one, as a Lisp's `(cons n acc)` does —
//! with **automatic collection on and default thresholds**, against `Rc`
//! in the same run.
//!
//! ```text
//! cargo run -p gc-bench --release --example growing_heap [-- [--mode generational] [NODES] [RUNS]]
//! ```
//!
//! Each run builds the chain in a process of its own (this program,
//! started again with `--child KIND`), so each starts from a fresh heap
//! (empty generations, counts at zero, default thresholds) and pays for
//! its own memory, timing the build alone in thread CPU time; the chain is
//! dropped afterwards, untimed. (In one process the order decided the
//! ratio: on this machine's VM a page fault costs about 1 µs, and a run
//! that followed one which had freed its memory to the allocator's free
//! lists took 20–50 ms less than one that followed a run whose memory
//! went back to the kernel.) Each round runs pygc, `Rc`, and pygc again
//! with `gc` callbacks; the best of `RUNS` rounds (default 5) is reported.
//! The ratio to `Rc` comes from the runs without callbacks: reading the
//! thread's CPU clock is a system call (about 1 µs on this machine's VM),
//! and two per collection added ~6 ms to a 2M-node build before the
//! callbacks moved to runs of their own. The instrumented run gives the
//! collector's own time per generation: the thread CPU time between each
//! collection's start and stop callbacks (and the callbacks' own
//! wall-clock durations, which a loaded machine inflates); its share per
//! surviving object is that time divided by `NODES`.

use gc_bench::{apply_mode, pygc_shapes, rc_shapes, take_mode};
use pygc::gc::{self, Phase};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use gc_bench::thread_cpu_ns as cpu_ns;

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

/// One pygc build; with `instrument`, `gc` callbacks time each collection.
fn pygc_run(nodes: usize, mode: String, instrument: bool) -> GcRun {
    std::thread::spawn(move || {
        apply_mode(&mode).expect("checked in main");
        let stats = Rc::new(RefCell::new(GcRun::default()));
        let id = instrument.then(|| {
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
        });
        let start = cpu_ns();
        let chain = pygc_shapes::list(nodes);
        let ns = cpu_ns() - start;
        if let Some(id) = id {
            gc::remove_callback(id);
        }
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

/// What a child process builds (`--child KIND`).
const KINDS: [&str; 3] = ["pygc", "rc", "pygc-callbacks"];

/// Run one build in this process and print it as one line for the parent.
fn child(kind: &str, nodes: usize, mode: String) {
    let run = match kind {
        "pygc" => pygc_run(nodes, mode, false),
        "pygc-callbacks" => pygc_run(nodes, mode, true),
        "rc" => GcRun {
            ns: rc_run(nodes),
            ..GcRun::default()
        },
        other => exit(&format!("unknown child kind {other:?}")),
    };
    let mut line = format!("RESULT {}", run.ns);
    for g in 0..3 {
        line.push_str(&format!(
            " {} {} {}",
            run.collections[g],
            run.collector_cpu_ns[g],
            run.collector[g].as_nanos()
        ));
    }
    println!("{line}");
}

/// Run one build in a fresh process (every run pays for its own memory,
/// as a program that builds the structure does).
fn in_child(kind: &str, nodes: usize, mode: &str) -> GcRun {
    let exe = std::env::current_exe().expect("current_exe");
    let out = std::process::Command::new(exe)
        .args(["--mode", mode, &nodes.to_string(), "1", "--child", kind])
        .output()
        .expect("run a child");
    assert!(out.status.success(), "child {kind}: {}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| exit(&format!("child {kind} printed no result: {text}")));
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect();
    let mut run = GcRun {
        ns: f[0],
        ..GcRun::default()
    };
    for g in 0..3 {
        run.collections[g] = f[1 + 3 * g] as usize;
        run.collector_cpu_ns[g] = f[2 + 3 * g];
        run.collector[g] = Duration::from_nanos(f[3 + 3 * g] as u64);
    }
    run
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let child_kind = args.iter().position(|a| a == "--child").map(|i| {
        let kind = args.get(i + 1).cloned().unwrap_or_default();
        args.drain(i..(i + 2).min(args.len()));
        kind
    });
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
    if let Some(kind) = child_kind {
        if !KINDS.contains(&kind.as_str()) {
            exit(&format!("--child: one of {KINDS:?}"));
        }
        child(&kind, nodes, mode);
        return;
    }
    let (t0, t1, t2) = gc::get_threshold();
    println!(
        "growing heap: a {nodes}-node chain built front to back; automatic collection on, \
         thresholds ({t0}, {t1}, {t2}), mode {mode}; best of {runs} interleaved runs, each in a \
         process of its own, thread CPU time"
    );
    let mut best_plain = f64::MAX;
    let mut best_gc: Option<GcRun> = None;
    let mut best_rc = f64::MAX;
    for run in 0..runs {
        let p = in_child("pygc", nodes, &mode).ns;
        let r = in_child("rc", nodes, &mode).ns;
        let g = in_child("pygc-callbacks", nodes, &mode);
        println!(
            "run {run}: pygc {:7.1} ms   Rc {:7.1} ms   pygc with callbacks {:7.1} ms",
            p / 1e6,
            r / 1e6,
            g.ns / 1e6
        );
        best_plain = best_plain.min(p);
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
        best_plain / 1e6,
        per(best_plain),
        best_rc / 1e6,
        per(best_rc),
        best_plain / best_rc
    );
    println!(
        "best instrumented run (gc callbacks): pygc {:.1} ms ({:.1} ns/node)",
        g.ns / 1e6,
        per(g.ns)
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
         surviving object, {:.0}% of the instrumented build (callbacks' wall durations: \
         {:.1} ms); pygc - Rc = {:.1} ns per object",
        collector_cpu / 1e6,
        per(collector_cpu),
        100.0 * collector_cpu / g.ns,
        collector.as_secs_f64() * 1e3,
        per(best_plain - best_rc)
    );
}

fn exit(message: &str) -> ! {
    eprintln!("growing_heap: {message}");
    std::process::exit(2)
}
