//! g: bytes per object header, and per-object memory of every contender.
//!
//! `cargo run -p gc-bench --release --example sizes`
//!
//! The first lines are pygc's `header_bytes::<T>()` (what an object
//! carries before its value) for a tracked and an untracked type. The table
//! then measures, for each contender, the resident memory of 1M lone
//! `Link { next: None }` objects (VmRSS delta / 1M): header + value +
//! malloc's own overhead and rounding.

#[path = "../benches/workloads/contenders.rs"]
#[allow(dead_code)]
mod contenders;

use contenders::Contender;
use gc_bench::{current_rss_kib, pygc_shapes};
use pygc::__private::header_bytes;

const N: usize = 1_000_000;

fn per_object<C: Contender>() {
    let before = current_rss_kib().expect("VmRSS");
    let objs: Vec<C::Obj> = (0..N).map(|_| C::obj()).collect();
    let after = current_rss_kib().expect("VmRSS");
    // The Vec of handles itself: one word per object.
    let vec_bytes = std::mem::size_of::<C::Obj>();
    let bytes = (after.saturating_sub(before)) as f64 * 1024.0 / N as f64 - vec_bytes as f64;
    println!("  {:<16} {:>6.1} bytes/object", C::NAME, bytes);
    drop(objs);
    C::cleanup();
}

/// Each contender is measured in a fresh process (`sizes NAME`): freed
/// memory stays in malloc's free lists, so a second contender measured in
/// the same process would reuse it and show no growth.
fn main() {
    if let Some(name) = std::env::args().nth(1) {
        match name.as_str() {
            "Box" => per_object::<contenders::boxed::C>(),
            "Rc" => per_object::<contenders::rc::C>(),
            "pygc" => per_object::<contenders::pygc_::C>(),
            "gcmodule" => per_object::<contenders::gcmodule_::C>(),
            "bacon_rajan_cc" => per_object::<contenders::bacon::C>(),
            "rust-gc" => per_object::<contenders::rust_gc::C>(),
            "dumpster" => per_object::<contenders::dumpster_::C>(),
            "rust-cc" => per_object::<contenders::rust_cc_::C>(),
            other => panic!("unknown contender {other}"),
        }
        return;
    }
    println!(
        "pygc header_bytes: tracked (Link {{ next: Option<Gc<Link>> }}) = {}, \
         untracked (u64) = {}, untracked (String) = {}",
        header_bytes::<pygc_shapes::Link>(),
        header_bytes::<u64>(),
        header_bytes::<String>()
    );
    println!("  targets: tracked <= 32, untracked <= 16; Rc's header is 16 (strong + weak)");
    println!(
        "value size: Link = {} bytes (one Option<handle>)",
        std::mem::size_of::<pygc_shapes::Link>()
    );
    println!(
        "resident memory of {N} lone Link objects (header + value + malloc's chunk overhead):"
    );
    let exe = std::env::current_exe().expect("current_exe");
    for name in [
        "Box",
        "Rc",
        "pygc",
        "gcmodule",
        "bacon_rajan_cc",
        "rust-gc",
        "dumpster",
        "rust-cc",
    ] {
        let status = std::process::Command::new(&exe)
            .arg(name)
            .status()
            .expect("run sizes for one contender");
        assert!(status.success(), "{name}: {status}");
    }
}
