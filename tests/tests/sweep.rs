//! Full collections that find their objects by sweeping the pool's pages
//! in address order (`collector::reachability::subtract_refs_swept`, heap
//! invariant H2) instead of following the generation list: the same
//! objects are found with other objects interleaved on the same pages —
//! frozen ones, other generations, freed blocks, memory kept by weak
//! handles, values lent by `get_mut` — and a heap with objects the sweep
//! cannot see (outside the pool, or a header off the block's start) falls
//! back to the list walk, then sweeps again once they are gone.
#![cfg(feature = "pool")]

use gc_tests::OverReporting;
use pygc::__private::full_collections_sweep as sweeps;
use pygc::{gc, Gc, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    #[trace(skip)]
    id: u64,
}

fn node(id: u64, _drops: &Drops) -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(None),
        id,
    })
}

/// (Unused marker: keeps the helpers' signatures uniform.)
type Drops = Rc<Cell<usize>>;

/// A 2-cycle, returned as a weak handle to one of its objects.
fn cycle(id: u64, drops: &Drops) -> Weak<Node> {
    let a = node(id, drops);
    let b = node(id + 1, drops);
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    Gc::downgrade(&a)
}

/// Run `f` on a fresh thread (a fresh heap and pool).
fn on_fresh_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f).join().expect("test thread panicked");
}

fn dead(w: &Weak<Node>) -> bool {
    w.upgrade().is_none()
}

const N: u64 = if cfg!(miri) { 60 } else { 3_000 };

#[test]
fn live_objects_and_cycles_interleaved_on_pages() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        let mut live = Vec::new();
        let mut trash = Vec::new();
        for i in 0..N {
            // A live chain and dead cycles side by side on the same pages.
            let n = node(i, &drops);
            if let Some(prev) = live.last() {
                *n.next.borrow_mut() = Some(Gc::clone(prev));
            }
            live.push(n);
            trash.push(cycle(1_000_000 + 2 * i, &drops));
        }
        assert!(sweeps());
        assert_eq!(gc::collect(), 2 * N as usize);
        assert!(trash.iter().all(dead));
        for (i, n) in live.iter().enumerate() {
            assert_eq!(n.id, i as u64);
        }
        assert_eq!(gc::collect(), 0, "survivors stay");
    });
}

#[test]
fn freed_blocks_and_weak_kept_memory_are_skipped() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        let mut all: Vec<Option<Gc<Node>>> = (0..N).map(|i| Some(node(i, &drops))).collect();
        // Free every other block: free blocks among allocated ones.
        let mut weak_only = Vec::new();
        for (i, slot) in all.iter_mut().enumerate() {
            if i % 2 == 0 {
                let n = slot.take().unwrap();
                if i % 4 == 0 {
                    // Dropped value, memory kept by a weak handle
                    // (allocated, unlinked).
                    weak_only.push(Gc::downgrade(&n));
                }
            }
        }
        // New cycles fill some freed blocks.
        let trash: Vec<_> = (0..N / 4)
            .map(|i| cycle(10_000_000 + 2 * i, &drops))
            .collect();
        assert!(sweeps());
        assert_eq!(gc::collect(), 2 * (N / 4) as usize);
        assert!(trash.iter().all(dead));
        assert!(weak_only.iter().all(dead));
        let kept: Vec<_> = all.iter().flatten().map(|n| n.id).collect();
        assert_eq!(kept.len(), (N / 2) as usize);
        assert!(kept.iter().all(|id| id % 2 == 1));
    });
}

#[test]
fn frozen_objects_interleaved_are_not_collected() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        let frozen_trash: Vec<_> = (0..N / 2).map(|i| cycle(2 * i, &drops)).collect();
        let frozen_live: Vec<_> = (0..N / 2).map(|i| node(N + i, &drops)).collect();
        gc::freeze();
        assert_eq!(gc::get_freeze_count(), (N + N / 2) as usize);
        // New objects (generation 0) between and after the frozen ones (in
        // blocks the frozen trash's neighbours freed: none here, so after
        // them); live ones point at frozen objects, and one frozen object
        // points at a new one.
        let trash: Vec<_> = (0..N / 2).map(|i| cycle(100_000 + 2 * i, &drops)).collect();
        let pointing: Vec<_> = (0..N / 2)
            .map(|i| {
                let n = node(200_000 + i, &drops);
                *n.next.borrow_mut() = Some(frozen_live[i as usize].clone());
                n
            })
            .collect();
        let held = node(999_999_999, &drops);
        *frozen_live[0].next.borrow_mut() = Some(held.clone());
        let wheld = Gc::downgrade(&held);
        drop(held);
        assert!(sweeps());
        assert_eq!(gc::collect(), 2 * (N / 2) as usize);
        assert!(trash.iter().all(dead));
        assert!(
            frozen_trash.iter().all(|w| !dead(w)),
            "frozen: never collected"
        );
        assert!(!dead(&wheld), "referenced from a frozen object");
        assert!(pointing
            .iter()
            .enumerate()
            .all(|(i, n)| n.next.borrow().as_ref().unwrap().id == N + i as u64));
        gc::unfreeze();
        assert_eq!(gc::collect(), 2 * (N / 2) as usize, "now they are");
        assert!(frozen_trash.iter().all(dead));
        drop((frozen_live, pointing));
    });
}

#[test]
fn generations_interleaved() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        let mut trash = Vec::new();
        let mut live = Vec::new();
        for round in 0..3u64 {
            for i in 0..N / 3 {
                trash.push(cycle(round * 1_000_000 + 2 * i, &drops));
                live.push(node(round * 1_000_000 + i, &drops));
            }
            // Round 0 ends in generation 2, round 1 in generation 1, round 2
            // stays in generation 0: all on the same pages.
            match round {
                0 => gc::collect_generation(1),
                1 => gc::collect_generation(0),
                _ => 0,
            };
        }
        // Dead cycles that span generations: old objects point at new
        // ones and back.
        let mut spanning = Vec::new();
        for (k, old) in live.iter().take(10).enumerate() {
            let young = node(7_000_000 + k as u64, &drops);
            *young.next.borrow_mut() = Some(old.clone());
            *old.next.borrow_mut() = Some(young.clone());
            spanning.push(Gc::downgrade(&young));
        }
        let young_only = cycle(9_000_000, &drops);
        drop(live.drain(..10).collect::<Vec<_>>());
        assert!(sweeps());
        // Round 2's cycles are still there; the others were collected young.
        assert_eq!(gc::collect(), 20 + 2 + 2 * (N / 3) as usize);
        assert!(spanning.iter().all(dead));
        assert!(dead(&young_only));
        assert!(trash.iter().all(dead));
        assert_eq!(gc::collect(), 0);
        assert_eq!(live.len(), 3 * (N / 3) as usize - 10);
    });
}

/// Over 512 bytes: the global allocator's (outside the pool).
#[derive(Trace)]
struct Big {
    next: RefCell<Option<Gc<Node>>>,
    #[trace(skip)]
    _payload: [u64; 80],
}

/// 16-aligned: in the pool, its header 8 bytes into the block.
#[derive(Trace)]
#[repr(align(16))]
struct Aligned {
    next: RefCell<Option<Gc<Node>>>,
}

#[test]
fn objects_the_sweep_cannot_see_fall_back_to_the_list() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        assert!(sweeps());
        let check = |what: &str, make: &dyn Fn(Gc<Node>) -> Box<dyn std::any::Any>| {
            // A dead cycle through the odd object: node -> odd -> node.
            let n = node(1, &drops);
            let odd = make(n.clone());
            assert!(!sweeps(), "{what}: the list walk finds it");
            let w = Gc::downgrade(&n);
            *n.next.borrow_mut() = Some(n.clone());
            drop(n);
            let trash = (0..10)
                .map(|i| cycle(100 + 2 * i, &drops))
                .collect::<Vec<_>>();
            assert_eq!(gc::collect(), 20, "{what}");
            assert!(trash.iter().all(dead));
            assert!(!dead(&w), "{what}: held by the odd object");
            drop(odd);
            gc::collect();
            assert!(dead(&w), "{what}");
            assert!(sweeps(), "{what}: gone, the sweep is back");
        };
        check("large", &|n| {
            Box::new(Gc::new(Big {
                next: RefCell::new(Some(n)),
                _payload: [0; 80],
            }))
        });
        check("16-aligned", &|n| {
            Box::new(Gc::new(Aligned {
                next: RefCell::new(Some(n)),
            }))
        });
        check("tracked slice", &|n| {
            Box::new(Gc::<[Gc<Node>]>::from(vec![n]))
        });
        // A cycle through the odd objects themselves (found by the list walk).
        let big = Gc::new(Big {
            next: RefCell::new(None),
            _payload: [0; 80],
        });
        let n = node(5, &drops);
        *n.next.borrow_mut() = Some(n.clone());
        let w = Gc::downgrade(&n);
        *big.next.borrow_mut() = Some(n);
        drop(big);
        assert!(sweeps(), "freed by refcount");
        assert_eq!(gc::collect(), 1);
        assert!(dead(&w));
    });
}

#[test]
fn lent_values_are_outside_references() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        // A value lent by get_mut (MUT_EXPOSED) among swept objects: what it
        // holds stays alive while the flag may matter.
        let mut lent = node(1, &drops);
        let target = node(2, &drops);
        let wt = Gc::downgrade(&target);
        Gc::get_mut(&mut lent)
            .expect("unique")
            .next
            .get_mut()
            .replace(target);
        let trash = (0..20)
            .map(|i| cycle(100 + 2 * i, &drops))
            .collect::<Vec<_>>();
        assert!(sweeps());
        assert_eq!(gc::collect(), 40);
        assert!(trash.iter().all(dead));
        assert!(!dead(&wt));
        // Close a cycle through the lent object's unique handle: it is only
        // referenced from the heap now, so the `&mut` has ended.
        let w = Gc::downgrade(&lent);
        let t = wt.upgrade().unwrap();
        *t.next.borrow_mut() = Some(lent);
        drop(t);
        assert_eq!(gc::collect(), 2);
        assert!(dead(&w) && dead(&wt));
    });
}

#[test]
fn over_reporting_trace_frees_nothing() {
    on_fresh_thread(|| {
        gc::disable();
        let drops = Rc::new(Cell::new(0));
        let trash = (0..20)
            .map(|i| cycle(100 + 2 * i, &drops))
            .collect::<Vec<_>>();
        let liar = Gc::new(OverReporting {
            target: node(1, &drops),
        });
        assert!(sweeps());
        assert_eq!(gc::collect(), 0, "a broken count frees nothing");
        assert!(trash.iter().all(|w| !dead(w)));
        assert_eq!(liar.target.id, 1);
        drop(liar);
        assert_eq!(gc::collect(), 40);
        assert!(trash.iter().all(dead));
    });
}
