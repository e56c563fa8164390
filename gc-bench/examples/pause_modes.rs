//! Pause times of automatic collection, both collector modes in one run
//! (issue 18, "Bounded pauses"; `pauses.rs` measures one mode per run with
//! workload c's tree and batched churn, `--mode incremental` included).
//!
//! ```text
//! cargo run -p gc-bench --release --example pause_modes -- \
//!     [--mode generational|incremental|both] [--sizes 1000000,4000000] \
//!     [--churn 5000000] [--window 1000] [--growing 2000000] [--csv pauses.csv]
//! ```
//!
//! Each configuration runs in a child process of its own (a fresh heap and
//! a peak RSS of its own):
//!
//! - **pauses**: build a live binary tree of N nodes (recursively, children
//!   before parents) with automatic collection on, then churn short-lived
//!   2-cycles through it (each pair kept alive while the next `--window` pairs, default 1000, are
//!   made: long enough to outlive a young collection sometimes),
//!   automatic collection on. Reported for the churn phase: collections per
//!   generation, the longest pause (wall time from the `gc` callbacks'
//!   durations, and this thread's CPU time between its start and stop
//!   callbacks: on a shared machine a preempted collection's wall time
//!   includes other processes' time slices), the 99th percentile, the total
//!   collector time (wall and CPU), the phase's wall time; and the process's
//!   peak RSS. `--csv` writes every pause (mode, N, time since
//!   the churn began, generation, duration) for plotting.
//! - **growing**: build a chain of M live objects (each new node points at
//!   the previous head, as a Lisp `cons` list grows) with automatic
//!   collection on; wall time, against the same chain of `Rc`s.

use pygc::gc::{self, CollectionInfo, Mode, Phase};
use pygc::{Gc, Trace};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Trace)]
struct Tree {
    left: Option<Gc<Tree>>,
    right: Option<Gc<Tree>>,
}

fn build(n: usize) -> Option<Gc<Tree>> {
    if n == 0 {
        return None;
    }
    let left = (n - 1) / 2;
    let l = build(left);
    let r = build(n - 1 - left);
    Some(Gc::new(Tree { left: l, right: r }))
}

#[derive(Trace)]
struct Pair {
    other: RefCell<Option<Gc<Pair>>>,
}

#[derive(Trace)]
struct Cons {
    _next: Option<Gc<Cons>>,
}

struct RcCons {
    next: Option<Rc<RcCons>>,
}

/// This thread's CPU time: the machine may be shared, and a preempted
/// collection's wall time counts the other processes' time slices too.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn parse_mode(s: &str) -> Mode {
    match s {
        "generational" => Mode::Generational,
        "incremental" => Mode::Incremental,
        _ => panic!("--mode: generational, incremental or both, not {s:?}"),
    }
}

/// Child: one pause configuration. Prints one result line (and the pauses
/// to stderr as CSV rows when asked).
fn child_pauses(mode: Mode, n: usize, churn: usize, window_len: usize, csv: bool) {
    gc::set_mode(mode);
    let tree = build(n);
    // (time since the churn began, generation, wall duration, CPU duration)
    type Pause = (Duration, usize, Duration, Duration);
    let pauses: Rc<RefCell<Vec<Pause>>> = Rc::default();
    let sink = pauses.clone();
    let began = Instant::now();
    let cpu_at_start = std::cell::Cell::new(Duration::ZERO);
    gc::add_callback(move |phase: Phase, info: &CollectionInfo| match phase {
        Phase::Start => cpu_at_start.set(thread_cpu()),
        Phase::Stop => sink.borrow_mut().push((
            began.elapsed(),
            info.generation,
            info.duration,
            thread_cpu() - cpu_at_start.get(),
        )),
    });
    let started = Instant::now();
    let mut window: Vec<Option<Gc<Pair>>> = (0..window_len.max(1)).map(|_| None).collect();
    for i in 0..churn {
        let a = Gc::new(Pair {
            other: RefCell::new(None),
        });
        let b = Gc::new(Pair {
            other: RefCell::new(Some(a.clone())),
        });
        *a.other.borrow_mut() = Some(b);
        let at = i % window.len();
        window[at] = Some(a);
    }
    let wall = started.elapsed();
    drop(window);
    let pauses = pauses.borrow();
    let mut per_gen = [0usize; 3];
    let mut durations: Vec<Duration> = Vec::with_capacity(pauses.len());
    let mut cpu: Vec<Duration> = Vec::with_capacity(pauses.len());
    for &(_, g, d, c) in pauses.iter() {
        per_gen[g] += 1;
        durations.push(d);
        cpu.push(c);
    }
    durations.sort();
    cpu.sort();
    let cpu_total: Duration = cpu.iter().sum();
    let cpu_max = cpu.last().copied().unwrap_or_default();
    let total: Duration = durations.iter().sum();
    let max = durations.last().copied().unwrap_or_default();
    let p99 = durations
        .get((durations.len() * 99) / 100)
        .copied()
        .unwrap_or_default();
    println!(
        "RESULT pauses {:?} {n} {} {} {} {:.2} {:.2} {:.3} {:.1} {:.1} {:.1} {:.1}",
        mode,
        per_gen[0],
        per_gen[1],
        per_gen[2],
        max.as_secs_f64() * 1e3,
        cpu_max.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        cpu_total.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3,
        peak_rss_mib()
    );
    if csv {
        let mut err = std::io::stderr().lock();
        for &(at, g, d, c) in pauses.iter() {
            let _ = writeln!(
                err,
                "CSV {:?},{n},{:.6},{g},{:.6},{:.6}",
                mode,
                at.as_secs_f64(),
                d.as_secs_f64() * 1e3,
                c.as_secs_f64() * 1e3
            );
        }
    }
    drop(tree);
}

/// Child: build a chain of `m` objects; `mode` None is the `Rc` baseline.
fn child_growing(mode: Option<Mode>, m: usize) {
    let started = Instant::now();
    let name = match mode {
        Some(mode) => {
            gc::set_mode(mode);
            let mut head = None;
            for _ in 0..m {
                head = Some(Gc::new(Cons { _next: head }));
            }
            let built = started.elapsed();
            std::mem::forget(head); // teardown is not measured
            format!("{mode:?} {:.1}", built.as_secs_f64() * 1e3)
        }
        None => {
            let mut head: Option<Rc<RcCons>> = None;
            for _ in 0..m {
                head = Some(Rc::new(RcCons { next: head }));
            }
            let built = started.elapsed();
            // Iterative drop: a 2M-deep Rc chain would overflow the stack.
            while let Some(node) = head {
                head = Rc::try_unwrap(node).ok().and_then(|mut n| n.next.take());
            }
            format!("Rc {:.1}", built.as_secs_f64() * 1e3)
        }
    };
    println!("RESULT growing {name} {m} {:.1}", peak_rss_mib());
}

fn run_child(args: &[String]) -> Vec<String> {
    let exe = std::env::current_exe().expect("current_exe");
    let out = std::process::Command::new(exe)
        .args(args)
        .output()
        .expect("spawn child");
    assert!(
        out.status.success(),
        "child {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("RESULT"))
        .map(String::from)
        .collect();
    lines.extend(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("CSV "))
            .map(String::from),
    );
    lines
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    // Children.
    if let Some(spec) = arg("--child-pauses") {
        let v: Vec<&str> = spec.split(':').collect();
        child_pauses(
            parse_mode(v[0]),
            v[1].parse().unwrap(),
            v[2].parse().unwrap(),
            v[3].parse().unwrap(),
            v[4] == "1",
        );
        return;
    }
    if let Some(spec) = arg("--child-growing") {
        let v: Vec<&str> = spec.split(':').collect();
        let mode = if v[0] == "rc" {
            None
        } else {
            Some(parse_mode(v[0]))
        };
        child_growing(mode, v[1].parse().unwrap());
        return;
    }
    let modes: Vec<&str> = match arg("--mode").as_deref() {
        None | Some("both") => vec!["generational", "incremental"],
        Some("generational") => vec!["generational"],
        Some("incremental") => vec!["incremental"],
        Some(other) => panic!("--mode: generational, incremental or both, not {other:?}"),
    };
    let sizes: Vec<usize> = arg("--sizes")
        .unwrap_or_else(|| "1000000,4000000".into())
        .split(',')
        .map(|s| s.parse().expect("--sizes: comma-separated numbers"))
        .collect();
    let churn: usize = arg("--churn").map_or(5_000_000, |s| s.parse().unwrap());
    let growing: usize = arg("--growing").map_or(2_000_000, |s| s.parse().unwrap());
    let window: usize = arg("--window").map_or(1000, |s| s.parse().unwrap());
    let csv_path = arg("--csv");
    let mut csv_rows = Vec::new();

    println!(
        "pauses: live binary tree of N nodes, then {churn} short-lived 2-cycles (window {window}), automatic collection"
    );
    println!(
        "| mode | N | young/gen-0 | increments/gen-1 | full/gen-2 | max pause ms (wall) | max pause ms (CPU) | p99 ms (wall) | total collector ms (wall) | total collector ms (CPU) | churn wall ms | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &sizes {
        for mode in &modes {
            let csv = if csv_path.is_some() { "1" } else { "0" };
            for line in run_child(&[
                "--child-pauses".into(),
                format!("{mode}:{n}:{churn}:{window}:{csv}"),
            ]) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.first() == Some(&"RESULT") {
                    println!("| {} |", f[2..].join(" | "));
                } else {
                    csv_rows.push(line);
                }
            }
        }
    }
    if growing > 0 {
        println!();
        println!("growing: a chain of {growing} live objects built with automatic collection on");
        println!("| heap | build ms | objects | peak RSS MiB |");
        println!("|---|---|---|---|");
        let mut which = vec!["rc"];
        which.extend(&modes);
        for w in which {
            for line in run_child(&["--child-growing".into(), format!("{w}:{growing}")]) {
                let f: Vec<&str> = line.split_whitespace().collect();
                println!("| {} | {} | {} | {} |", f[2], f[3], f[4], f[5]);
            }
        }
    }
    if let Some(path) = csv_path {
        let mut out = String::from("mode,n,seconds,generation,pause_ms,cpu_ms\n");
        for row in csv_rows {
            out.push_str(&row);
            out.push('\n');
        }
        std::fs::write(&path, out).expect("write --csv");
    }
}
