//! The object pool (gc-core/src/heap/pool.rs): memory goes back, blocks are
//! never shared, and thread exit never frees a block the pool still owes.
//! (Built with gc-tests' feature `pool`, on by default, which turns on
//! pygc's; `pool_off.rs` checks the other case.)
#![cfg(feature = "pool")]

use pygc::__private::{pool_pages, POOL_MAX_IDLE_PAGES_ONE_CLASS as IDLE_MAX, POOL_PAGE_SIZE};
use pygc::{gc, Gc, Trace, Weak};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
    payload: [u64; 4],
}

fn node(i: u64) -> Gc<Node> {
    Gc::new(Node {
        next: RefCell::new(None),
        payload: [i; 4],
    })
}

/// Objects for the bulk tests: enough for hundreds of pages natively; under
/// Miri (far slower) still more pages than the empty-page cache keeps, so
/// the "pages go back" assertions keep their meaning.
const MANY: u64 = if cfg!(miri) { 5_000 } else { 100_000 };

/// Run `f` on a fresh thread (a fresh heap and pool).
fn on_fresh_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(f).join().expect("test thread panicked")
}

#[test]
fn dropped_objects_give_their_pages_back() {
    let (peak, kept, after_one, after_two) = on_fresh_thread(|| {
        let objects: Vec<_> = (0..MANY).map(node).collect();
        let peak = pool_pages();
        drop(objects);
        let kept = pool_pages();
        gc::collect();
        let after_one = pool_pages();
        gc::collect();
        (peak, kept, after_one, pool_pages())
    });
    // MANY objects of ~72 bytes fill many 16 KiB pages (more than an idle
    // pool keeps) ...
    assert!(
        peak * POOL_PAGE_SIZE >= MANY as usize * 64,
        "peak {peak} pages"
    );
    assert!(peak > IDLE_MAX, "peak {peak} pages");
    // ... which the pool keeps for reuse through the full collection that
    // ends the epoch they were used in (pool invariant P3) ...
    assert_eq!(kept, peak, "kept for reuse");
    assert_eq!(after_one, peak, "kept through the epoch's collection");
    // ... and then, unused for a whole epoch, all but a bounded number go
    // back to the global allocator, a chunk at a time.
    assert!(after_two <= IDLE_MAX, "{after_two} pages kept");
}

/// Freeing a large structure and building another reuses the same pages:
/// no chunk goes back to the global allocator (and no fresh memory is
/// faulted in) between the two, even with a full collection between them
/// (a working set rebuilt after each `gc::collect()`); the peak bounds what
/// is kept (P3).
#[test]
fn a_rebuilt_structure_reuses_the_kept_pages() {
    let (first, second, third, after) = on_fresh_thread(|| {
        gc::disable();
        let build = || (0..MANY).map(node).collect::<Vec<_>>();
        let a = build();
        let first = pool_pages();
        drop(a);
        let b = build();
        let second = pool_pages();
        drop(b);
        gc::collect();
        let c = build();
        let third = pool_pages();
        drop(c);
        gc::collect();
        gc::collect();
        (first, second, third, pool_pages())
    });
    assert!(first > IDLE_MAX, "first {first} pages");
    assert_eq!(second, first, "the second build took no new page");
    assert_eq!(
        third, first,
        "the build after a collection took no new page"
    );
    assert!(
        after <= IDLE_MAX,
        "{after} pages kept after an epoch without use"
    );
}

/// Bigger than [`Node`] (32 to a page): under Miri, the cycle test uses
/// these so that a few hundred objects still span more pages than an idle
/// pool keeps (the collector's passes over thousands of nodes are too slow there).
#[derive(Trace)]
struct Fat {
    next: RefCell<Option<Gc<Fat>>>,
    _payload: [u64; 56],
}

#[test]
fn collected_cycles_give_their_pages_back_too() {
    macro_rules! cycles {
        ($pairs:expr, $make:expr) => {
            on_fresh_thread(|| {
                gc::disable();
                for _ in 0..$pairs {
                    let a = $make;
                    let b = $make;
                    *a.next.borrow_mut() = Some(b.clone());
                    *b.next.borrow_mut() = Some(a);
                }
                let peak = pool_pages();
                assert_eq!(gc::collect(), 2 * $pairs);
                // Kept through the collection of the epoch that used them
                // (P3), given back at the next.
                assert_eq!(pool_pages(), peak);
                assert_eq!(gc::collect(), 0);
                (peak, pool_pages())
            })
        };
    }
    let (peak, after) = if cfg!(miri) {
        cycles!(
            640,
            Gc::new(Fat {
                next: RefCell::new(None),
                _payload: [0; 56],
            })
        )
    } else {
        cycles!(50_000, node(0))
    };
    assert!(peak > IDLE_MAX, "peak {peak} pages");
    assert!(after <= IDLE_MAX, "{after} pages kept");
}

#[test]
fn blocks_are_reused_without_mixing_values() {
    on_fresh_thread(|| {
        // Interleave allocation and frees of two sizes; every value must
        // read back intact (a block handed out twice would clobber one).
        #[derive(Trace)]
        struct Big {
            next: RefCell<Option<Gc<Big>>>,
            data: [u64; 40],
        }
        let mut small = Vec::new();
        let mut big = Vec::new();
        let (rounds, per_round) = if cfg!(miri) { (10, 200) } else { (50, 1000) };
        for round in 0..rounds {
            for i in 0..per_round {
                small.push(node(round * per_round + i));
                big.push(Gc::new(Big {
                    next: RefCell::new(None),
                    data: [round * per_round + i; 40],
                }));
            }
            // Drop every other one, oldest first.
            let mut keep = true;
            small.retain(|_| {
                keep = !keep;
                keep
            });
            big.retain(|_| {
                keep = !keep;
                keep
            });
        }
        for n in &small {
            assert!(n.payload.iter().all(|&x| x == n.payload[0]));
        }
        for b in &big {
            assert!(b.data.iter().all(|&x| x == b.data[0]));
        }
        let mut seen: Vec<u64> = small.iter().map(|n| n.payload[0]).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), small.len(), "each value is in its own block");
    });
}

#[test]
fn over_aligned_and_large_objects_bypass_the_pool() {
    on_fresh_thread(|| {
        #[derive(Trace)]
        #[repr(align(64))]
        struct Aligned {
            next: RefCell<Option<Gc<Aligned>>>,
        }
        #[derive(Trace)]
        struct Large {
            next: RefCell<Option<Gc<Large>>>,
            _data: [u8; 4096],
        }
        let (n_aligned, n_large) = if cfg!(miri) { (100, 20) } else { (1000, 100) };
        let before = pool_pages();
        let a: Vec<_> = (0..n_aligned)
            .map(|_| {
                Gc::new(Aligned {
                    next: RefCell::new(None),
                })
            })
            .collect();
        let l: Vec<_> = (0..n_large)
            .map(|_| {
                Gc::new(Large {
                    next: RefCell::new(None),
                    _data: [7; 4096],
                })
            })
            .collect();
        assert!(a
            .iter()
            .all(|x| (&**x as *const Aligned as usize) % 64 == 0));
        assert_eq!(pool_pages(), before, "neither came from the pool");
        drop((a, l));
    });
}

thread_local! {
    static KEEP_WEAK: RefCell<Option<Weak<Node>>> = const { RefCell::new(None) };
}

#[test]
fn a_weak_handle_outliving_the_thread_heap_keeps_the_pool() {
    // The object dies while the thread runs; a weak handle to it lives in a
    // thread-local that is destroyed after the heap's guard. The heap (and
    // the pool page under the allocation) must then be kept (P1), and the
    // late drop must free the block into it, not into the global allocator.
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    on_fresh_thread(move || {
        #[derive(Trace)]
        struct Probe {
            next: RefCell<Option<Gc<Node>>>,
            #[trace(skip)]
            _probe: Counted,
        }
        // Register the thread-local's destructor first: destructors run in
        // reverse order, so this one runs after the heap's guard.
        KEEP_WEAK.with(|_| {});
        let strong = node(1);
        let keep = Gc::new(Probe {
            next: RefCell::new(Some(strong.clone())),
            _probe: Counted,
        });
        KEEP_WEAK.with(|k| *k.borrow_mut() = Some(Gc::downgrade(&strong)));
        drop((strong, keep));
        assert!(KEEP_WEAK.with(|k| k.borrow().as_ref().unwrap().upgrade().is_none()));
    });
    assert_eq!(DROPPED.load(Ordering::SeqCst), 1);
}

thread_local! {
    static LATE: Late = const { Late };
}

struct Late;

impl Drop for Late {
    fn drop(&mut self) {
        // Runs after the heap's guard freed the heap: objects made now come
        // from the global allocator and go back to it.
        let a = node(1);
        *a.next.borrow_mut() = Some(node(2));
        let w = Gc::downgrade(&a);
        assert_eq!(a.next.borrow().as_ref().unwrap().payload[0], 2);
        drop(a);
        assert!(w.upgrade().is_none());
    }
}

#[test]
fn objects_made_after_the_heap_is_gone_use_the_global_allocator() {
    on_fresh_thread(|| {
        LATE.with(|_| {});
        let x = node(0);
        drop(x);
    });
}
