//! The threaded-graph example: cycles through several threads are
//! collected, and under churn with a concurrent collector exactly the
//! reachable nodes survive. The sync heap and the node counter are
//! process-wide, so these tests run one at a time.

use gc_examples::threaded_graph::{self, churn, live_nodes, ring, Node};
use pygc::sync::{self, Gc};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_ring_through_every_thread_is_collected() {
    let _s = serial();
    for threads in [2, 4, 8] {
        assert_eq!(ring(threads), threads);
        assert_eq!(live_nodes(), 0);
    }
}

#[test]
fn a_cycle_made_on_two_threads_and_dropped_on_a_third() {
    let _s = serial();
    let a = Node::new(1, 0);
    let b = std::thread::spawn(|| Node::new(2, 1)).join().unwrap();
    a.edges.lock().push(b.clone());
    b.edges.lock().push(a.clone());
    let weak = Gc::downgrade(&a);
    std::thread::spawn(move || drop((a, b))).join().unwrap();
    assert_eq!(live_nodes(), 2, "refcounting cannot free the cycle");
    assert!(weak.upgrade().is_some());
    assert_eq!(sync::gc::collect(), 2);
    assert_eq!(live_nodes(), 0);
    assert!(weak.upgrade().is_none());
}

#[test]
fn churn_keeps_exactly_the_reachable_nodes() {
    let _s = serial();
    let r = churn(4, 3000, 32);
    assert!(r.created > 32, "{r:?}");
    assert!(r.cross_thread_edges > 0, "{r:?}");
    assert_eq!(
        r.live, r.reachable,
        "nothing unreachable left, nothing reachable freed"
    );
    assert!(r.reachable >= 32, "every slot holds a node");
    assert!(r.collected > 0, "cyclic garbage was collected: {r:?}");
    assert!(r.collected <= r.created);
    assert_eq!(r.live_after_drop, 0);
}

#[test]
fn run_prints_the_figures() {
    let _s = serial();
    let mut out = Vec::new();
    let r = threaded_graph::run(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(r.ring_collected, 4);
    assert_eq!(r.after_ring, 0);
    assert_eq!(r.churn.live, r.churn.reachable);
    assert_eq!(r.churn.live_after_drop, 0);
    assert!(text.contains("sync::gc::collect() -> 4; 0 nodes alive\n"));
    assert!(text.contains("registry dropped and collected: 0 nodes alive\n"));
}
