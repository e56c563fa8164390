//! What a collector walk over workload c's tree costs on this machine,
//! without the collector: the memory-traffic floor that BENCHMARKS.md's
//! "Where the time still goes" refers to.
//!
//! ```text
//! cargo run -p gc-bench --release --example walk_floor
//! ```
//!
//! A stand-in for 1M `Tree` objects: 72-byte nodes (`next`, `prev`,
//! `vtable`, counts, parent, two `RefCell<Option<_>>`), laid out like the
//! pool lays them out (16 KiB pages, 64-byte page header), linked in
//! allocation order, with the tree's edges (parent `i / 2`, children
//! `2i + 1`, `2i + 2`). Links are indices, so the program is safe code; the
//! memory access pattern is the collector's. Each variant prints
//! nanoseconds of thread CPU time per node:
//!
//! - `read-only walk`: follow `next`, read the counts: the floor of any walk;
//! - `address-order sweep`: read every node's counts in address order, as a
//!   walk over the pool's pages rather than the generation list would;
//! - `three passes: read` / `three bare sequential passes` / `three passes,
//!   trial deletion`: issue 19's floor for c alive — three address-order
//!   passes over every node, reading only / reading and writing each node's
//!   header word / doing trial deletion's work (gc_refs = strong; subtract
//!   along the edges; read gc_refs and mark), with no list;
//! - `header subtract` / `header move_unreachable`: the two passes as
//!   pygc does them today (`gc_refs` in each object's `prev`, so every
//!   pass writes every object and the objects its edges reach);
//! - `side subtract` / `side move_unreachable`: the alternative design that
//!   keeps the objects read-only — internal reference counts and
//!   "reachable" flags in a side table of 4 bytes per object, found through
//!   the page header;
//! - `header subtract + prefetch`: today's pass with a software prefetch a
//!   few nodes ahead along the walk's stride.

use std::hint::black_box;

use gc_bench::floor::{Heap, NODE, NODES, NONE, PER_PAGE};
use gc_bench::thread_cpu_ns as cpu_ns;

fn timed(name: &str, heap: &mut Heap, pass: impl Fn(&mut Heap)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = cpu_ns();
        pass(heap);
        best = best.min((cpu_ns() - start) / NODES as f64);
    }
    println!("{name:32} {best:6.2} ns/node");
    best
}

fn first(heap: &Heap) -> usize {
    heap.nodes.iter().position(|n| n.strong != 0).unwrap()
}

fn main() {
    let mut heap = Heap::build();
    println!(
        "{NODES} nodes of {NODE} bytes, {PER_PAGE} per 16 KiB page; best of 5, thread CPU time"
    );
    timed("read-only walk", &mut heap, |heap| {
        let (mut n, mut sum) = (first(heap), 0u64);
        while n != NONE as usize {
            sum += u64::from(heap.nodes[n].strong);
            n = heap.nodes[n].next as usize;
        }
        black_box(sum);
    });
    timed("address-order sweep", &mut heap, |heap| {
        // What a walk over the pool's pages (instead of the list) would
        // read: every node, in address order, no dependent loads.
        let sum: u64 = heap.nodes.iter().map(|n| u64::from(n.strong)).sum();
        black_box(sum);
    });
    // Issue 19's floor for c alive ("c2"): three bare sequential passes
    // over the same nodes, in address order, no list and no edges. Each
    // pass reads and writes every node's header word (as update_refs,
    // subtract_refs and move_unreachable each touch every object).
    let three_read = timed("three passes: read", &mut heap, |heap| {
        let mut sum = 0u64;
        for _ in 0..3 {
            sum += heap.nodes.iter().map(|n| u64::from(n.strong)).sum::<u64>();
            black_box(&heap.nodes);
        }
        black_box(sum);
    });
    let three_rw = timed(
        "three bare sequential passes",
        &mut heap,
        Heap::three_bare_passes,
    );
    // The same three passes doing trial deletion's work in address order:
    // gc_refs = strong; subtract along each node's edges; then a pass that
    // reads gc_refs and marks (move_unreachable without the list).
    let three_td = timed("three passes, trial deletion", &mut heap, |heap| {
        for n in heap.nodes.iter_mut() {
            n.prev = (u64::from(n.strong) << 3) | 1;
        }
        for i in 0..heap.nodes.len() {
            for target in Heap::edges(&heap.nodes[i]) {
                if target != u64::from(NONE) {
                    let t = &mut heap.nodes[target as usize];
                    t.prev = t.prev.wrapping_sub(8);
                }
            }
        }
        let mut reachable = 0usize;
        for n in heap.nodes.iter_mut() {
            if n.prev >> 3 != 0 {
                reachable += 1;
            }
            n.prev |= 2;
        }
        black_box(reachable);
    });
    let header_sub = |prefetch: usize| {
        move |heap: &mut Heap| {
            let mut n = first(heap);
            while n != NONE as usize {
                let node = heap.nodes[n];
                let next = node.next as usize;
                if prefetch > 0 && next != NONE as usize {
                    // Guess the list keeps its stride; read that node's
                    // first word early (a software prefetch in safe code).
                    let guess = next + (next - n) * prefetch;
                    if let Some(ahead) = heap.nodes.get(guess) {
                        black_box(ahead.next);
                    }
                }
                heap.nodes[n].prev = (u64::from(node.strong) << 3) | 1;
                for target in Heap::edges(&node) {
                    if target != u64::from(NONE) {
                        let t = &mut heap.nodes[target as usize];
                        t.prev = t.prev.wrapping_sub(8);
                    }
                }
                n = next;
            }
        }
    };
    let sub = timed("header subtract", &mut heap, header_sub(0));
    let mu = timed("header move_unreachable", &mut heap, |heap| {
        let (mut n, mut prev) = (first(heap), 0u64);
        while n != NONE as usize {
            let node = heap.nodes[n];
            for target in Heap::edges(&node) {
                if target != u64::from(NONE) {
                    let t = &mut heap.nodes[target as usize];
                    if t.prev & 1 != 0 && t.prev >> 3 == 0 {
                        t.prev = 8 | 1;
                    }
                }
            }
            heap.nodes[n].prev = prev | 2;
            prev = n as u64;
            n = node.next as usize;
        }
    });
    let side_sub = timed("side subtract", &mut heap, |heap| {
        heap.side.fill(0);
        let mut n = first(heap);
        while n != NONE as usize {
            let node = heap.nodes[n];
            for target in Heap::edges(&node) {
                if target != u64::from(NONE) {
                    let s = heap.side_slot(target as usize);
                    heap.side[s] = heap.side[s].wrapping_add(4);
                }
            }
            n = node.next as usize;
        }
    });
    let side_mu = timed("side move_unreachable", &mut heap, |heap| {
        let (mut n, mut reachable) = (first(heap), 0usize);
        while n != NONE as usize {
            let node = heap.nodes[n];
            let me = heap.side[heap.side_slot(n)];
            if node.strong > me >> 2 || me & 2 != 0 {
                reachable += 1;
            }
            for target in Heap::edges(&node) {
                if target != u64::from(NONE) {
                    let s = heap.side_slot(target as usize);
                    if heap.side[s] & 2 == 0 {
                        heap.side[s] |= 2;
                    }
                }
            }
            n = node.next as usize;
        }
        black_box(reachable);
    });
    for distance in [4, 16] {
        timed(
            &format!("header subtract + prefetch {distance}"),
            &mut heap,
            header_sub(distance),
        );
    }
    println!(
        "two passes: header {:.2} ns/node, side table {:.2} ns/node",
        sub + mu,
        side_sub + side_mu
    );
    println!(
        "c alive's floor (issue 19): three bare sequential passes {three_rw:.2} ns/node \
         (read-only {three_read:.2}; doing trial deletion's work {three_td:.2})"
    );
}
