//! Full collections with a side table (`collector::side`) against the
//! header passes: the same heaps, built from the same seed on two fresh
//! threads, collected one way on each, must free the same objects and
//! leave the survivors in the same order (`gc::get_objects`, which is
//! CPython's order: `move_unreachable`'s rescues move objects to the end).
//! The heaps mix what a full collection meets: cycles, chains scanned
//! oldest first (every object moved and rescued), young objects merged
//! into the old generation, frozen objects, memory kept by weak handles,
//! values lent by `get_mut` (whose unique handle may then be moved into
//! the heap), and a `Trace` impl that over-reports (HAZARDS 1).
#![cfg(feature = "pool")]

use gc_tests::{OverReporting, Rng};
use pygc::__private::{last_full_collection_used_side_table as used_side, set_side_table};
use pygc::{gc, Gc, Trace, Weak};
use std::cell::RefCell;

#[derive(Trace)]
struct Node {
    edges: RefCell<Vec<Gc<Node>>>,
    #[trace(skip)]
    id: usize,
}

fn node(id: usize) -> Gc<Node> {
    Gc::new(Node {
        edges: RefCell::new(Vec::new()),
        id,
    })
}

/// What one run observed: per collection, the number freed and the ids of
/// the tracked objects left (in `gc::get_objects` order), and which ids
/// died.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    collections: Vec<(usize, Vec<usize>)>,
    dead: Vec<usize>,
}

/// Run `f` on a fresh thread (a fresh heap and pool) whose full
/// collections take the side table as `mode` says (`set_side_table`),
/// with automatic collection off.
fn on_heap<R: Send + 'static>(mode: Option<bool>, f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(move || {
        drop(node(0));
        set_side_table(mode);
        gc::disable();
        f()
    })
    .join()
    .expect("test thread panicked")
}

fn survivors() -> Vec<usize> {
    gc::get_objects(None)
        .iter()
        .filter_map(|o| o.downcast_ref::<Node>().map(|n| n.id))
        .collect()
}

const N: usize = if cfg!(miri) { 80 } else { 4_000 };

/// Build a heap from `seed` and collect it three times, with side tables
/// (`side`) or without; every full collection must have taken the way
/// asked for.
fn scenario(seed: u64, side: bool) -> Observed {
    on_heap(Some(side), move || {
        let mut rng = Rng(seed | 1);
        let mut all: Vec<Gc<Node>> = Vec::new();
        let mut weak: Vec<Weak<Node>> = Vec::new();
        let mut roots: Vec<Gc<Node>> = Vec::new();
        let mut next_id = 0;
        let mut make = |all: &mut Vec<Gc<Node>>, weak: &mut Vec<Weak<Node>>| {
            let n = node(next_id);
            next_id += 1;
            weak.push(Gc::downgrade(&n));
            all.push(n.clone());
            n
        };
        // A chain whose objects each hold the one made before, and random
        // edges among everything.
        let mut prev: Option<Gc<Node>> = None;
        for i in 0..N {
            let n = make(&mut all, &mut weak);
            if i % 3 == 0 {
                if let Some(p) = prev.take() {
                    n.edges.borrow_mut().push(p);
                }
                prev = Some(n.clone());
            }
        }
        for _ in 0..N / 2 {
            let (a, b) = (rng.below(all.len()), rng.below(all.len()));
            all[a].edges.borrow_mut().push(all[b].clone());
        }
        // Rings of three: trash unless something outside reaches them.
        for _ in 0..N / 10 {
            let r = [0; 3].map(|_| rng.below(all.len()));
            for k in 0..3 {
                all[r[k]]
                    .edges
                    .borrow_mut()
                    .push(all[r[(k + 1) % 3]].clone());
            }
        }
        for _ in 0..N / 50 {
            roots.push(all[rng.below(all.len())].clone());
        }
        roots.extend(prev);
        // Some of it frozen: outside every later collection's set.
        if seed % 3 == 0 {
            gc::freeze();
        }
        // Young objects pointing both ways.
        for _ in 0..N / 4 {
            let n = make(&mut all, &mut weak);
            let old = all[rng.below(N)].clone();
            if rng.below(2) == 0 {
                n.edges.borrow_mut().push(old);
            } else {
                old.edges.borrow_mut().push(n.clone());
            }
        }
        // A value lent by `get_mut` (MUT_EXPOSED); for odd seeds its
        // unique handle is then moved into a heap object.
        let mut lent = node(usize::MAX);
        let target = all[rng.below(all.len())].clone();
        Gc::get_mut(&mut lent)
            .expect("unique")
            .edges
            .get_mut()
            .push(target);
        if seed % 2 == 1 {
            let holder = all[rng.below(all.len())].clone();
            holder.edges.borrow_mut().push(lent);
        } else {
            roots.push(lent);
        }
        drop(all);
        let mut observed = Observed {
            collections: Vec::new(),
            dead: Vec::new(),
        };
        let collect = |observed: &mut Observed| {
            let freed = gc::collect();
            assert_eq!(used_side(), side, "the way asked for was taken");
            observed.collections.push((freed, survivors()));
        };
        collect(&mut observed);
        // Drop some roots; make young objects again; collect twice more.
        for _ in 0..roots.len() / 2 {
            let i = rng.below(roots.len());
            roots.swap_remove(i);
        }
        collect(&mut observed);
        let mut young = Vec::new();
        for i in 0..N / 8 {
            let n = node(1_000_000 + i);
            if let Some(r) = roots.get(i % roots.len().max(1)) {
                n.edges.borrow_mut().push(r.clone());
                if i % 2 == 0 {
                    r.edges.borrow_mut().push(n.clone());
                }
            }
            young.push(n);
            // A young 2-cycle holding an old object: trash.
            let (a, b) = (node(2_000_000 + 2 * i), node(2_000_001 + 2 * i));
            a.edges.borrow_mut().push(b.clone());
            b.edges.borrow_mut().push(a.clone());
            if let Some(r) = roots.get(i % roots.len().max(1)) {
                a.edges.borrow_mut().push(r.clone());
            }
        }
        drop(young);
        collect(&mut observed);
        observed.dead = weak
            .iter()
            .enumerate()
            .filter(|(_, w)| w.upgrade().is_none())
            .map(|(i, _)| i)
            .collect();
        drop(roots);
        gc::unfreeze();
        gc::collect();
        observed
    })
}

#[test]
fn side_table_and_header_passes_agree() {
    let seeds: u64 = if cfg!(miri) { 2 } else { 12 };
    let mut freeing = [0; 3];
    for seed in 0..seeds {
        let header = scenario(seed, false);
        let side = scenario(seed, true);
        for (i, (freed, _)) in header.collections.iter().enumerate() {
            freeing[i] += usize::from(*freed > 0);
        }
        assert_eq!(header, side, "seed {seed}: the two ways disagree");
    }
    // Every collection of the scenario frees something for some seeds
    // (the comparison covers trash, not just survivors); Miri's two small
    // heaps need not.
    assert!(cfg!(miri) || freeing.iter().all(|&n| n > 0), "{freeing:?}");
}

/// A chain built front to back (each object holds the one made before it,
/// the last one held from outside), scanned oldest first: every object is
/// moved to the unreachable list and rescued by its successor, so the
/// survivors come out newest first, as in CPython.
#[test]
fn a_chain_is_rescued_in_cpythons_order() {
    for side in [false, true] {
        let order = on_heap(Some(side), move || {
            let mut head = node(0);
            for i in 1..N {
                let n = node(i);
                n.edges.borrow_mut().push(head);
                head = n;
            }
            assert_eq!(gc::collect(), 0);
            assert_eq!(used_side(), side);
            let order = survivors();
            drop(head);
            assert_eq!(gc::collect(), 0, "a chain without a cycle dies by refcount");
            order
        });
        let expected: Vec<usize> = (0..N).rev().collect();
        assert_eq!(order, expected, "side table: {side}");
    }
}

/// `n` dead 2-cycles (ids `0..2n`); a weak handle to one object of each.
fn dead_cycles(n: usize) -> Vec<Weak<Node>> {
    (0..n)
        .map(|i| {
            let a = node(2 * i);
            let b = node(2 * i + 1);
            a.edges.borrow_mut().push(b.clone());
            b.edges.borrow_mut().push(a.clone());
            Gc::downgrade(&a)
        })
        .collect()
}

/// HAZARDS 1 with a side table: the over-report is found when
/// `move_unreachable` reaches the object, after trash ahead of it on the
/// list was moved to the unreachable list; all of it goes back, and the
/// collection frees nothing.
#[test]
fn an_over_report_found_late_frees_nothing() {
    on_heap(Some(true), || {
        let cycles = dead_cycles(100);
        let liar = Gc::new(OverReporting { target: node(7) });
        let before = survivors();
        assert_eq!(gc::collect(), 0, "a broken count frees nothing");
        assert!(used_side());
        assert!(cycles.iter().all(|w| w.upgrade().is_some()));
        assert_eq!(liar.target.id, 7);
        assert_eq!(survivors().len(), before.len(), "every object is back");
        drop(liar);
        assert_eq!(gc::collect(), 200);
        assert!(used_side());
        assert!(cycles.iter().all(|w| w.upgrade().is_none()));
    });
}

/// The first pass's sums can predict a dead set that is not: an edge to an
/// object outside the set (here a frozen one) stands in for an outside
/// handle of a member. The all-trash walk then finds the member that is
/// not trash after trash it has already marked (dead cycles allocated
/// before it), gives the marked objects their links back, and the
/// collection frees exactly the dead cycles, as the header passes do.
#[test]
fn a_predicted_dead_set_that_is_not() {
    let mut orders = Vec::new();
    for side in [true, false] {
        let (freed, later, ids) = on_heap(Some(side), move || {
            let frozen = node(100);
            gc::collect();
            gc::freeze();
            // Dead 2-cycles first: marked before the walk meets `a`.
            let cycles = dead_cycles(20);
            // b (marked: its one handle is a's edge), then a, held from
            // outside; b's edge to the frozen object balances the sums.
            let b = node(41);
            let a = node(40);
            a.edges.borrow_mut().push(b.clone());
            b.edges.borrow_mut().push(a.clone());
            b.edges.borrow_mut().push(frozen.clone());
            drop(b);
            let freed = gc::collect();
            assert_eq!(used_side(), side);
            assert!(cycles.iter().all(|w| w.upgrade().is_none()));
            let ids = survivors();
            assert_eq!(a.edges.borrow()[0].id, 41);
            drop(a);
            let later = gc::collect();
            gc::unfreeze();
            drop(frozen);
            (freed, later, ids)
        });
        assert_eq!(freed, 40, "the dead cycles only (side table: {side})");
        assert_eq!(later, 2, "then a and b (side table: {side})");
        assert!(ids.contains(&40) && ids.contains(&41), "{ids:?}");
        orders.push(ids);
    }
    assert_eq!(
        orders[0], orders[1],
        "survivors' order: side table, header passes"
    );
}

/// The default guess: a small heap, or the first full collection, does
/// without; a large heap takes the side table after a full collection that
/// moved little (a tree, parents first), and not after one that moved most
/// of its set (a dropped structure).
#[test]
fn the_default_guess() {
    if cfg!(miri) {
        return;
    }
    // The default, whatever `PYGC_SIDE_TABLE` says.
    on_heap(None, || {
        let small = node(0);
        gc::collect();
        assert!(!used_side(), "first full collection");
        gc::collect();
        assert!(!used_side(), "a small heap");
        drop(small);
        // 100k objects: a tree, parents first in the list.
        let root = node(0);
        let mut level = vec![root.clone()];
        let mut id = 1;
        while id < 100_000 {
            let mut next = Vec::new();
            for p in &level {
                for _ in 0..2 {
                    let c = node(id);
                    id += 1;
                    p.edges.borrow_mut().push(c.clone());
                    c.edges.borrow_mut().push(p.clone());
                    next.push(c);
                }
            }
            level = next;
        }
        drop(level);
        gc::collect();
        gc::collect();
        assert!(used_side(), "a large heap after an orderly collection");
        drop(root);
        assert_eq!(gc::collect(), id, "the tree is trash");
        assert!(used_side());
        // That collection moved everything: make a tree again; the next
        // full collection does without, the one after takes it again.
        let keep = node(0);
        for i in 0..100_000 {
            let c = node(i);
            keep.edges.borrow_mut().push(c);
        }
        gc::collect();
        assert!(!used_side(), "after a collection that moved its set");
        gc::collect();
        assert!(used_side());
        drop(keep);
    });
}

/// A `PYGC_SIDE_TABLE` value that is not a mode is refused with a message
/// that names it, when the thread's heap is made (in a child process: the
/// environment is the process's).
#[test]
fn a_bad_side_table_setting_is_refused() {
    if cfg!(miri) {
        return;
    }
    const NAME: &str = "a_bad_side_table_setting_is_refused";
    if gc_tests::child_mode("bad_side_table") {
        drop(node(0));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(gc_tests::CHILD_ENV, "bad_side_table")
        .env("PYGC_SIDE_TABLE", "sometimes")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must fail: {stderr}");
    assert!(
        stderr.contains(
            "pygc: PYGC_SIDE_TABLE is \"sometimes\"; it must be `auto`, `always` or `never`"
        ),
        "{stderr}"
    );
}
