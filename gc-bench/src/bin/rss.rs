//! g: peak RSS of workload c (a 1M-node binary tree with strong parent
//! back-pointers), read from `/proc/self/status` (`VmHWM`).
//!
//! `cargo run -p gc-bench --release --bin rss -- [pygc|rc]` (default
//! `pygc`); each contender needs its own process, as VmHWM is a
//! high-water mark.

use gc_bench::sizes::TREE;
use gc_bench::{current_rss_kib, peak_rss_kib, pygc_shapes, rc_shapes};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "pygc".into());
    let kib = |v: Option<u64>| v.expect("/proc/self/status has VmHWM and VmRSS");
    let before = kib(peak_rss_kib());
    match which.as_str() {
        "pygc" => {
            pygc::gc::disable();
            let root = pygc_shapes::tree(TREE);
            let built = kib(current_rss_kib());
            pygc::gc::collect();
            report(&which, before, built);
            drop(root);
            let found = pygc::gc::collect();
            assert!(found >= TREE, "collect() found {found}");
        }
        "rc" => {
            let root = rc_shapes::tree(TREE);
            let built = kib(current_rss_kib());
            report(&which, before, built);
            // The tree is cyclic (strong parent pointers): Rc leaks it.
            std::mem::forget(root);
        }
        other => {
            eprintln!("unknown contender {other:?}: use pygc or rc");
            std::process::exit(2);
        }
    }
}

fn report(which: &str, before: u64, built: u64) {
    let peak = peak_rss_kib().expect("VmHWM");
    println!(
        "{which}: VmHWM {peak} KiB after building the {TREE}-node tree (+{} KiB over {before} KiB at start); \
         VmRSS with the tree {built} KiB; {:.1} bytes/node at peak (incl. the builder's Vec of {} bytes/node)",
        peak - before,
        (peak - before) as f64 * 1024.0 / TREE as f64,
        std::mem::size_of::<usize>()
    );
}
