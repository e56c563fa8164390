//! Pause times (issue 18): a live heap of N objects, then a churn of
//! short-lived 2-cycles through it with automatic collection on; every
//! collection's duration from `gc` callbacks.
//!
//! ```text
//! cargo run -p gc-bench --release --example pauses -- [--mode generational] [N] [PAIRS] [--batch OBJECTS] [--csv FILE]
//! ```
//!
//! - The live heap: workload c's complete binary tree of `N` nodes
//!   (default 1,000,000) with strong parent handles, built with automatic
//!   collection on, then one `gc::collect()` so the churn starts with the
//!   whole tree in generation 2 (untimed, not counted).
//! - The churn: `PAIRS` (default 5,000,000) two-node cycles, each kept alive
//!   until `--batch OBJECTS` (default 10,000) more objects were allocated (a
//!   batch, then dropped whole, as workload f does with 1,000: a cycle that
//!   is garbage at once would be collected young and never promote; with
//!   10,000 most pairs are promoted to generation 2 before they die, so full
//!   collections run), default thresholds.
//! - Reported: collections per generation, max and 99th-percentile pause
//!   (the callbacks' wall-clock durations: what the program waits; and the
//!   thread CPU time between start and stop callbacks, which a loaded
//!   machine does not inflate), total collector time and the churn's own thread CPU time, peak RSS
//!   (`VmHWM`, so run one `N` per process). `--csv FILE` writes one line
//!   per collection (`ms_since_start,generation,pause_us,cpu_us,collected`) for a
//!   plot of pauses over the run. The last line,
//!   `summary,N,mode,batch,gen2_collections,max_pause_ms,p99_ms,collector_cpu_ms,churn_cpu_ms,peak_rss_kib`,
//!   is for scripts.
//! - `--mode incremental` selects PEP 848's collector
//!   (`pygc::gc::set_mode`, see `gc_bench::apply_mode`).

use gc_bench::{apply_mode, peak_rss_kib, pygc_shapes, take_mode};
use pygc::gc::{self, Phase};
use pygc::Gc;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gc_bench::thread_cpu_ns as cpu_ns;

/// One collection seen by the callback.
#[derive(Clone, Copy)]
struct Pause {
    at: Duration,
    generation: usize,
    /// The callback's duration (wall clock: what the program waits).
    duration: Duration,
    /// Thread CPU time between the start and stop callbacks.
    cpu: Duration,
    collected: usize,
}

/// Objects per churn batch by default: a pair lives until this many more
/// objects were allocated, long enough to survive young collections and be
/// promoted (a generation-1 collection comes every ~7,000 allocations), so
/// the churn's garbage reaches generation 2 and full collections run.
const BATCH_OBJECTS: usize = 10_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, mut rest) = take_mode(args).unwrap_or_else(|e| exit(&e));
    apply_mode(&mode).unwrap_or_else(|e| exit(&e));
    let mut option = |name: &str| match rest.iter().position(|a| a == name) {
        Some(i) => {
            rest.remove(i);
            if i >= rest.len() {
                exit(&format!("{name} needs a value"));
            }
            Some(rest.remove(i))
        }
        None => None,
    };
    let csv = option("--csv");
    let batch_objects: usize = option("--batch").map_or(BATCH_OBJECTS, |b| {
        b.replace('_', "")
            .parse()
            .unwrap_or_else(|_| exit("--batch must be a number"))
    });
    let number = |i: usize, default: usize, what: &str| {
        rest.get(i).map_or(default, |s| {
            s.replace('_', "")
                .parse()
                .unwrap_or_else(|_| exit(&format!("{what} must be a number, not {s:?}")))
        })
    };
    let n = number(0, 1_000_000, "N");
    let pairs = number(1, 5_000_000, "PAIRS");

    let build_start = Instant::now();
    let tree = pygc_shapes::tree(n);
    gc::collect();
    let built = build_start.elapsed();

    let pauses = Rc::new(RefCell::new(Vec::<Pause>::new()));
    let start = Instant::now();
    let id = {
        let pauses = pauses.clone();
        let mut started = 0.0;
        gc::add_callback(move |phase, info| match phase {
            Phase::Start => started = cpu_ns(),
            Phase::Stop => pauses.borrow_mut().push(Pause {
                at: start.elapsed(),
                generation: info.generation,
                duration: info.duration,
                cpu: Duration::from_nanos((cpu_ns() - started) as u64),
                collected: info.collected,
            }),
        })
    };
    let cpu_start = cpu_ns();
    let mut batch: Vec<Gc<pygc_shapes::Pair>> = Vec::with_capacity(batch_objects / 2);
    for _ in 0..pairs {
        let a = Gc::new(pygc_shapes::Pair {
            other: RefCell::new(None),
        });
        let b = Gc::new(pygc_shapes::Pair {
            other: RefCell::new(Some(a.clone())),
        });
        *a.other.borrow_mut() = Some(b);
        batch.push(a);
        if batch.len() * 2 >= batch_objects {
            batch.clear();
        }
    }
    drop(batch);
    let churn_cpu = Duration::from_nanos((cpu_ns() - cpu_start) as u64);
    let churn_wall = start.elapsed();
    gc::remove_callback(id);
    let peak_kib = peak_rss_kib().unwrap_or(0);
    drop(tree);

    let pauses = pauses.borrow();
    let mut all: Vec<Duration> = pauses.iter().map(|p| p.duration).collect();
    all.sort();
    let mut gen2: Vec<Duration> = pauses
        .iter()
        .filter(|p| p.generation == 2)
        .map(|p| p.duration)
        .collect();
    gen2.sort();
    let total: Duration = all.iter().sum();
    let mut all_cpu: Vec<Duration> = pauses.iter().map(|p| p.cpu).collect();
    all_cpu.sort();
    let total_cpu: Duration = all_cpu.iter().sum();
    let per_gen = |g: usize| {
        let ps: Vec<&Pause> = pauses.iter().filter(|p| p.generation == g).collect();
        let sum: Duration = ps.iter().map(|p| p.duration).sum();
        let max = ps.iter().map(|p| p.duration).max().unwrap_or_default();
        (ps.len(), sum, max)
    };
    println!(
        "pauses: live tree of {n} nodes (built + collected in {:.0} ms), then {pairs} 2-cycles \
         churned in batches of {} objects; automatic collection on, mode {mode}",
        ms(built),
        batch_objects
    );
    for g in 0..3 {
        let (count, sum, max) = per_gen(g);
        println!(
            "  generation {g}: {count:6} collections, total {:9.2} ms, max {:8.3} ms",
            ms(sum),
            ms(max)
        );
    }
    println!(
        "  all collections: {}; max pause {:.3} ms, p99 {:.3} ms; generation 2: max {:.3} ms, p99 {:.3} ms",
        all.len(),
        ms(all.last().copied().unwrap_or_default()),
        ms(percentile(&all, 0.99)),
        ms(gen2.last().copied().unwrap_or_default()),
        ms(percentile(&gen2, 0.99))
    );
    println!(
        "  thread CPU per collection: max {:.3} ms, p99 {:.3} ms",
        ms(all_cpu.last().copied().unwrap_or_default()),
        ms(percentile(&all_cpu, 0.99))
    );
    println!(
        "  collector total {:.1} ms CPU ({:.1} ms wall) of the churn's {:.1} ms thread CPU ({:.1} ms wall); peak RSS {} MiB",
        ms(total_cpu),
        ms(total),
        ms(churn_cpu),
        ms(churn_wall),
        peak_kib / 1024
    );
    println!(
        "summary,{n},{mode},{batch_objects},{},{:.3},{:.3},{:.1},{:.1},{}",
        gen2.len(),
        ms(all.last().copied().unwrap_or_default()),
        ms(percentile(&all, 0.99)),
        ms(total_cpu),
        ms(churn_cpu),
        peak_kib
    );
    if let Some(path) = csv {
        let mut f = std::fs::File::create(&path)
            .unwrap_or_else(|e| exit(&format!("cannot create {path}: {e}")));
        writeln!(f, "ms_since_start,generation,pause_us,cpu_us,collected").expect("write csv");
        for p in pauses.iter() {
            writeln!(
                f,
                "{:.3},{},{:.1},{:.1},{}",
                ms(p.at),
                p.generation,
                p.duration.as_secs_f64() * 1e6,
                p.cpu.as_secs_f64() * 1e6,
                p.collected
            )
            .expect("write csv");
        }
        println!("  {} collections written to {path}", pauses.len());
    }
}

fn exit(message: &str) -> ! {
    eprintln!("pauses: {message}");
    std::process::exit(2)
}
