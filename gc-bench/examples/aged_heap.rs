//! Full collections of an idle live heap whose list order is scattered
//! over the pool's pages (issue 19): where sweeping the pages in address
//! order (`FirstPass::Swept`) beats following the generation list.
//!
//! ```text
//! cargo run -p gc-bench --release --example aged_heap [-- NODES]
//! ```
//!
//! Two heaps of `NODES` live objects (default 1,000,000), automatic
//! collection off, each on a fresh thread; ten `gc::collect()` calls are
//! timed on each (thread CPU time, ns per object; best and mean):
//!
//! - **fresh tree**: workload c's tree (`pygc_shapes::tree`), built in one
//!   go: list order is allocation order is address order;
//! - **aged**: `NODES` objects with two random edges each, after `2 *
//!   NODES` random replacements (drop one, make a new one): the pool reuses
//!   the freed block (LIFO), so addresses stay put while the generation
//!   list is in replacement order — scattered over the pages, as in a
//!   long-running program.
//!
//! To compare with the list walk, run the same example built from the
//! commit before the sweep (its numbers are in BENCHMARKS.md, "Full
//! collections in address order").

use gc_bench::pygc_shapes;
use gc_bench::thread_cpu_ns as cpu_ns;
use pygc::{gc, Gc, Trace};
use std::cell::RefCell;

/// An object of the aged heap: two edges, 48 bytes of value.
#[derive(Trace)]
struct Obj {
    a: RefCell<Option<Gc<Obj>>>,
    b: RefCell<Option<Gc<Obj>>>,
    _pad: [u64; 2],
}

fn obj() -> Gc<Obj> {
    Gc::new(Obj {
        a: RefCell::new(None),
        b: RefCell::new(None),
        _pad: [0; 2],
    })
}

/// The aged heap (see the module docs).
fn aged(n: usize) -> Vec<Gc<Obj>> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut v: Vec<Gc<Obj>> = (0..n).map(|_| obj()).collect();
    for _ in 0..2 * n {
        let i = rnd();
        v[i] = obj();
    }
    for o in &v {
        *o.a.borrow_mut() = Some(v[rnd()].clone());
        *o.b.borrow_mut() = Some(v[rnd()].clone());
    }
    v
}

/// Ten timed full collections of what `build` makes, on a fresh thread:
/// (best, mean) ns per object.
fn timed<T: 'static>(n: usize, build: fn(usize) -> T) -> (f64, f64) {
    std::thread::spawn(move || {
        gc::disable();
        let heap = build(n);
        gc::collect();
        let (mut best, mut sum) = (f64::MAX, 0.0);
        for _ in 0..10 {
            let start = cpu_ns();
            gc::collect();
            let t = (cpu_ns() - start) / n as f64;
            best = best.min(t);
            sum += t;
        }
        drop(heap);
        (best, sum / 10.0)
    })
    .join()
    .expect("aged_heap run")
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(1_000_000, |s| {
        s.parse().unwrap_or_else(|_| {
            eprintln!("aged_heap: NODES must be a number");
            std::process::exit(2)
        })
    });
    let (tb, tm) = timed(n, pygc_shapes::tree);
    let (ab, am) = timed(n, aged);
    println!(
        "full collections of {n} live objects, ns/object (best, mean of 10): fresh tree {tb:.1} \
         {tm:.1}, aged {ab:.1} {am:.1}"
    );
}
