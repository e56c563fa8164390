//! Full collections of a chain (issue 19): what `move_unreachable`'s
//! "rescue" costs when references point to older objects.
//!
//! ```text
//! cargo run -p gc-bench --release --example chain_collect [-- [--mode incremental] NODES]
//! ```
//!
//! Builds a `NODES`-node chain front to back (default 2,000,000; each node
//! holds the previous one, as `growing_heap` does) with automatic
//! collection off, then times three `gc::collect()` calls in a row (thread
//! CPU time, ns per node; best of 7 runs, each on a fresh thread):
//!
//! - **build order**: the generation list is oldest first, every object's
//!   only referrer comes after it, so CPython's `move_unreachable` moves
//!   every object but the head to `unreachable` and then rescues it back,
//!   one by one, from the head (the order CPython gives, and this library
//!   keeps, is the list reversed);
//! - **reversed**, twice: the list as the first collection left it (newest
//!   first), where every object is marked reachable before the walk reaches
//!   it: no rescue.
//!
//! The difference between the two is what the rescue costs; the growing
//! heap's collections all look like the first (each one appends a batch in
//! build order behind the previous, reversed ones).

use gc_bench::{apply_mode, pygc_shapes, take_mode};
use pygc::gc;

use gc_bench::thread_cpu_ns as cpu_ns;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, rest) = take_mode(args).unwrap_or_else(|e| exit(&e));
    apply_mode(&mode).unwrap_or_else(|e| exit(&e));
    let nodes: usize = rest.first().map_or(2_000_000, |s| {
        s.parse().unwrap_or_else(|_| exit("NODES must be a number"))
    });
    let mut best = [f64::MAX; 3];
    for _ in 0..7 {
        let mode = mode.clone();
        let run = std::thread::spawn(move || {
            apply_mode(&mode).expect("checked in main");
            gc::disable();
            let chain = pygc_shapes::list(nodes);
            let mut out = [0.0; 3];
            for slot in &mut out {
                let start = cpu_ns();
                gc::collect();
                *slot = (cpu_ns() - start) / nodes as f64;
            }
            drop(chain);
            out
        })
        .join()
        .expect("chain_collect run");
        for (b, r) in best.iter_mut().zip(run) {
            *b = b.min(r);
        }
    }
    println!(
        "full collections of a {nodes}-node chain (mode {mode}), best of 7, ns/node: build order \
         {:.1}, reversed {:.1}, again {:.1}",
        best[0], best[1], best[2]
    );
}

fn exit(message: &str) -> ! {
    eprintln!("chain_collect: {message}");
    std::process::exit(2)
}
