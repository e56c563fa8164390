//! Cyclic garbage: what refcounting alone cannot free, the collector does
//! (the seeds' self-referencing list, alice/bob, Track rings, SAVEALL and
//! legacy finalizers), at scale and without recursion.

use gc_tests::{fresh, log, take_log, DropCounter, DropProbe};
use pygc::gc::{self, DebugFlags};
use pygc::{Finalize, Gc, GcAny, Trace, Weak};
use std::cell::RefCell;

#[derive(Trace)]
struct List(RefCell<Vec<Gc<List>>>);

#[test]
fn self_cycle_list() {
    fresh();
    let l = Gc::new(List(RefCell::new(vec![])));
    l.0.borrow_mut().push(l.clone()); // a list appended to itself
    assert_eq!(Gc::strong_count(&l), 2);
    let w = Gc::downgrade(&l);
    drop(l);
    assert!(w.upgrade().is_some(), "refcounting alone cannot free it");
    assert_eq!(gc::collect(), 1);
    assert!(w.upgrade().is_none());
    assert_eq!(gc::collect(), 0);
}

#[derive(Trace)]
struct Person {
    name: String,
    friend: RefCell<Option<Gc<Person>>>,
    #[trace(skip)]
    _probe: DropProbe,
}

#[test]
fn alice_and_bob() {
    fresh();
    let dropped = DropCounter::new();
    let alice = Gc::new(Person {
        name: "Alice".into(),
        friend: RefCell::new(None),
        _probe: dropped.probe(),
    });
    let bob = Gc::new(Person {
        name: "Bob".into(),
        friend: RefCell::new(None),
        _probe: dropped.probe(),
    });
    *alice.friend.borrow_mut() = Some(bob.clone());
    *bob.friend.borrow_mut() = Some(alice.clone());
    assert_eq!(alice.friend.borrow().as_ref().unwrap().name, "Bob");
    // One of them is still referenced: nothing to collect.
    drop(alice);
    assert_eq!(gc::collect(), 0);
    assert_eq!(bob.friend.borrow().as_ref().unwrap().name, "Alice");
    drop(bob);
    assert_eq!(dropped.get(), 0);
    assert_eq!(gc::collect(), 2);
    assert_eq!(dropped.get(), 2);
}

#[derive(Trace)]
#[trace(finalize)]
struct Track {
    id: usize,
    next: RefCell<Option<Gc<Track>>>,
}

impl Finalize for Track {
    fn finalize(&self) {
        log("Destructed");
        // Finalizers run before anything is torn down: the ring is intact.
        assert!(
            self.next.borrow().is_some(),
            "track {} lost its link",
            self.id
        );
    }
}

#[test]
fn ring_of_ten_tracks() {
    fresh();
    gc::disable();
    take_log();
    let tracks: Vec<_> = (0..10)
        .map(|id| {
            Gc::new(Track {
                id,
                next: RefCell::new(None),
            })
        })
        .collect();
    for i in 0..10 {
        *tracks[i].next.borrow_mut() = Some(tracks[(i + 1) % 10].clone());
    }
    let weak: Vec<_> = tracks.iter().map(Gc::downgrade).collect();
    drop(tracks);
    assert!(take_log().is_empty());
    assert_eq!(gc::collect(), 10);
    assert_eq!(take_log(), vec!["Destructed"; 10]);
    assert!(weak.iter().all(|w| w.upgrade().is_none()));
    gc::enable();
}

#[derive(Trace)]
struct Pair {
    other: RefCell<Option<Gc<Pair>>>,
    #[trace(skip)]
    _probe: DropProbe,
}

#[test]
fn many_two_node_cycles() {
    fresh();
    gc::disable();
    let dropped = DropCounter::new();
    for _ in 0..100_000 {
        let a = Gc::new(Pair {
            other: RefCell::new(None),
            _probe: dropped.probe(),
        });
        let b = Gc::new(Pair {
            other: RefCell::new(Some(a.clone())),
            _probe: dropped.probe(),
        });
        *a.other.borrow_mut() = Some(b);
    }
    assert_eq!(gc::get_count().0, 200_000);
    assert_eq!(dropped.get(), 0);
    assert_eq!(gc::collect(), 200_000);
    assert_eq!(dropped.get(), 200_000);
    assert_eq!(gc::get_count(), (0, 0, 0));
    assert!(gc::get_objects(None).is_empty());
    gc::enable();
}

#[derive(Trace)]
struct RingNode {
    next: RefCell<Option<Gc<RingNode>>>,
}

// A 1 000 000-node ring collects in about 3 s in a debug build on the
// reference machine, so debug and release use the same size.
const RING_LEN: usize = 1_000_000;

/// Runs `f` on a new thread — a fresh per-thread heap — with `stack_kib`
/// KiB of stack; `failure` says what a panic or overflow there means.
fn on_a_new_thread(stack_kib: usize, failure: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(stack_kib * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .expect(failure);
}

/// A chain of `links + 1` `Pair`s, each holding the one made before it;
/// returns the last.
fn pair_chain(links: usize, dropped: &DropCounter) -> Gc<Pair> {
    let mut chain = Gc::new(Pair {
        other: RefCell::new(None),
        _probe: dropped.probe(),
    });
    for _ in 0..links {
        chain = Gc::new(Pair {
            other: RefCell::new(Some(chain)),
            _probe: dropped.probe(),
        });
    }
    chain
}

#[test]
fn huge_ring_on_a_small_stack() {
    // Neither trial deletion nor the deletion of the trash may recurse.
    on_a_new_thread(
        256,
        "collecting a long ring overflowed the stack or panicked",
        || {
            gc::disable();
            let first = Gc::new(RingNode {
                next: RefCell::new(None),
            });
            let mut head = first.clone();
            for _ in 1..RING_LEN {
                head = Gc::new(RingNode {
                    next: RefCell::new(Some(head)),
                });
            }
            *first.next.borrow_mut() = Some(head);
            let w = Gc::downgrade(&first);
            drop(first);
            assert_eq!(gc::collect_generation(0), RING_LEN);
            assert!(w.upgrade().is_none());
            assert_eq!(gc::collect(), 0);
        },
    );
}

#[test]
fn a_long_chain_inside_the_trash_is_freed_without_recursion() {
    // Trial deletion and delete_garbage walk 300 000 trash objects that
    // form one long path: nothing may recurse along it.
    on_a_new_thread(
        256,
        "deleting a long chain of trash overflowed the stack or panicked",
        || {
            gc::disable();
            let dropped = DropCounter::new();
            let tail = pair_chain(300_000, &dropped);
            let head = Gc::new(List(RefCell::new(vec![])));
            head.0.borrow_mut().push(head.clone());
            // A self-cycle holding the only handle to a long Pair chain: all
            // of it is trash of one collection.
            #[derive(Trace)]
            struct Both(Gc<List>, Gc<Pair>, RefCell<Option<Gc<Both>>>);
            let both = Gc::new(Both(head.clone(), tail, RefCell::new(None)));
            *both.2.borrow_mut() = Some(both.clone());
            drop((head, both));
            assert_eq!(gc::collect(), 300_001 + 2);
            assert_eq!(dropped.get(), 300_001);
        },
    );
}

#[test]
fn deleting_young_trash_frees_an_old_chain_by_refcount() {
    // A gen-2 chain whose only reference comes from a young cycle: a gen-0
    // collection frees the cycle, and the chain then dies by refcount (the
    // trashcan) in the middle of delete_garbage. The trashcan lets up to 50
    // deallocations nest (CPython's limit), about 5 KB each in a debug
    // build, below delete_garbage's own frames: 512 KiB holds that, while
    // recursion over the 200k-node chain would need about 1 GB.
    on_a_new_thread(
        512,
        "the chain freed during delete_garbage overflowed the stack",
        || {
            gc::disable();
            let dropped = DropCounter::new();
            let chain = pair_chain(200_000, &dropped);
            gc::collect(); // the chain is in gen 2 now
            assert_eq!(gc::get_objects(Some(2)).len(), 200_001);
            let young = Gc::new(Pair {
                other: RefCell::new(Some(chain)),
                _probe: dropped.probe(),
            });
            let young2 = Gc::new(Pair {
                other: RefCell::new(Some(young.clone())),
                _probe: dropped.probe(),
            });
            // fork (a self-cycle) -> young2 -> young -> chain: the first
            // three are young trash.
            #[derive(Trace)]
            struct Fork(Gc<Pair>, RefCell<Option<Gc<Fork>>>);
            let fork = Gc::new(Fork(young2, RefCell::new(None)));
            *fork.1.borrow_mut() = Some(fork.clone());
            drop((young, fork));
            assert_eq!(gc::collect_generation(0), 3);
            assert_eq!(dropped.get(), 200_003);
            assert!(gc::get_objects(None).is_empty());
        },
    );
}

#[test]
fn reachable_cycles_are_kept_and_contents_intact() {
    fresh();
    let dropped = DropCounter::new();
    let a = Gc::new(Pair {
        other: RefCell::new(None),
        _probe: dropped.probe(),
    });
    let b = Gc::new(Pair {
        other: RefCell::new(Some(a.clone())),
        _probe: dropped.probe(),
    });
    *a.other.borrow_mut() = Some(b.clone());
    drop(b);
    // Reachable through `a` from the stack.
    for _ in 0..3 {
        assert_eq!(gc::collect(), 0);
        assert_eq!(gc::collect_generation(0), 0);
    }
    let b = a.other.borrow().clone().unwrap();
    assert!(Gc::ptr_eq(b.other.borrow().as_ref().unwrap(), &a));
    assert_eq!(dropped.get(), 0);
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(dropped.get(), 2);
}

#[test]
fn young_collections_do_not_touch_older_garbage() {
    fresh();
    gc::disable();
    let dropped = DropCounter::new();
    let a = Gc::new(Pair {
        other: RefCell::new(None),
        _probe: dropped.probe(),
    });
    let b = Gc::new(Pair {
        other: RefCell::new(Some(a.clone())),
        _probe: dropped.probe(),
    });
    *a.other.borrow_mut() = Some(b.clone());
    let wa = Gc::downgrade(&a);
    let any_a = Gc::to_any(&a);
    // Still referenced: two generation-1 collections age it into gen 2.
    assert_eq!(gc::collect_generation(1), 0);
    assert_eq!(gc::collect_generation(1), 0);
    assert!(gc::get_objects(Some(2))
        .iter()
        .any(|o| GcAny::ptr_eq(o, &any_a)));
    drop((a, b, any_a));
    // Now it is garbage in gen 2: young collections leave it alone.
    assert_eq!(gc::collect_generation(0), 0);
    assert_eq!(gc::collect_generation(1), 0);
    assert!(wa.upgrade().is_some(), "not collected, so not cleared");
    assert_eq!(dropped.get(), 0);
    assert_eq!(gc::get_objects(Some(2)).len(), 2);
    assert_eq!(gc::collect(), 2);
    assert!(wa.upgrade().is_none());
    assert_eq!(dropped.get(), 2);
    gc::enable();
}

#[test]
fn a_young_cycle_referenced_from_old_garbage_is_kept_by_a_young_collection() {
    // An old object (gen 2, garbage) refers to a young cycle: gen-0
    // collection sees an outside reference to the young cycle and keeps it.
    fresh();
    gc::disable();
    let old = Gc::new(List(RefCell::new(vec![])));
    old.0.borrow_mut().push(old.clone());
    gc::collect(); // `old` is in gen 2 now
    let young = Gc::new(List(RefCell::new(vec![])));
    young.0.borrow_mut().push(young.clone());
    old.0.borrow_mut().push(young.clone());
    let wy = Gc::downgrade(&young);
    drop((young, old));
    assert_eq!(gc::collect_generation(0), 0);
    assert!(wy.upgrade().is_some());
    assert_eq!(gc::collect(), 2);
    assert!(wy.upgrade().is_none());
    gc::enable();
}

#[test]
fn saveall_keeps_unreachable_objects_in_garbage() {
    fresh();
    gc::set_debug(DebugFlags::SAVEALL);
    let dropped = DropCounter::new();
    let a = Gc::new(Pair {
        other: RefCell::new(None),
        _probe: dropped.probe(),
    });
    let b = Gc::new(Pair {
        other: RefCell::new(Some(a.clone())),
        _probe: dropped.probe(),
    });
    *a.other.borrow_mut() = Some(b.clone());
    let l = Gc::new(List(RefCell::new(vec![])));
    l.0.borrow_mut().push(l.clone());
    let (wa, wl) = (Gc::downgrade(&a), Gc::downgrade(&l));
    let ptrs = [
        Gc::as_ptr(&a) as *const (),
        Gc::as_ptr(&b) as *const (),
        Gc::as_ptr(&l) as *const (),
    ];
    drop((a, b, l));
    assert_eq!(gc::collect(), 3);
    let garbage = gc::garbage();
    assert_eq!(garbage.len(), 3);
    for p in ptrs {
        assert!(garbage.iter().any(|g| g.as_ptr() == p));
    }
    assert_eq!(dropped.get(), 0, "kept alive");
    // CPython clears weakrefs to all unreachable objects, SAVEALL or not.
    assert!(wa.upgrade().is_none() && wl.upgrade().is_none());
    let pair = garbage
        .iter()
        .find_map(|g| g.downcast_ref::<Pair>())
        .unwrap();
    assert!(pair.other.borrow().is_some(), "saved objects are intact");
    // A second collection finds nothing: gc.garbage references them.
    drop(garbage);
    assert_eq!(gc::collect(), 0);
    assert_eq!(gc::garbage().len(), 3);
    gc::set_debug(DebugFlags::empty());
    // Dropping the list leaves cycles, which the collector now frees.
    drop(gc::take_garbage());
    assert_eq!(gc::collect(), 3);
    assert_eq!(dropped.get(), 2);
    assert!(gc::garbage().is_empty());
}

#[test]
fn saveall_still_runs_pep442_finalizers_once() {
    // CPython runs finalize_garbage before delete_garbage looks at SAVEALL.
    fresh();
    take_log();
    gc::set_debug(DebugFlags::SAVEALL);
    let t = Gc::new(Track {
        id: 0,
        next: RefCell::new(None),
    });
    *t.next.borrow_mut() = Some(t.clone());
    drop(t);
    assert_eq!(gc::collect(), 1);
    assert_eq!(take_log(), ["Destructed"]);
    let g = gc::take_garbage();
    let t = g[0].clone().downcast::<Track>().ok().unwrap();
    assert!(Gc::is_finalized(&t));
    drop((g, t));
    // Found again (and saved again) without a second finalization.
    assert_eq!(gc::collect(), 1);
    gc::set_debug(DebugFlags::empty());
    drop(gc::take_garbage());
    assert_eq!(gc::collect(), 1);
    assert!(take_log().is_empty());
}

// ---------------------------------------------------------------------------
// Legacy finalizers
// ---------------------------------------------------------------------------

#[derive(Trace)]
#[trace(legacy_finalize)]
struct Legacy {
    name: &'static str,
    link: RefCell<Option<Gc<Plain>>>,
}

impl Finalize for Legacy {
    fn finalize(&self) {
        log(format!("legacy finalize {}", self.name));
    }
}

#[derive(Trace)]
struct Plain {
    name: &'static str,
    link: RefCell<Option<Gc<Legacy>>>,
    #[trace(skip)]
    _probe: DropProbe,
}

#[test]
fn legacy_finalizer_makes_a_cycle_uncollectable() {
    fresh();
    take_log();
    let dropped = DropCounter::new();
    let before = gc::get_stats()[2];
    let leg = Gc::new(Legacy {
        name: "leg",
        link: RefCell::new(None),
    });
    let plain = Gc::new(Plain {
        name: "plain",
        link: RefCell::new(Some(leg.clone())),
        _probe: dropped.probe(),
    });
    *leg.link.borrow_mut() = Some(plain.clone());
    let (wl, wp) = (Gc::downgrade(&leg), Gc::downgrade(&plain));
    // An ordinary cycle collected in the same pass.
    let l = Gc::new(List(RefCell::new(vec![])));
    l.0.borrow_mut().push(l.clone());
    drop((leg, plain, l));

    assert_eq!(gc::collect(), 3, "2 uncollectable + 1 collected");
    let after = gc::get_stats()[2];
    assert_eq!(after.uncollectable - before.uncollectable, 2);
    assert_eq!(after.collected - before.collected, 1);
    assert!(
        take_log().is_empty(),
        "legacy finalizers are not called by the collector"
    );
    let garbage = gc::garbage();
    assert_eq!(
        garbage.len(),
        1,
        "only the object with the legacy finalizer"
    );
    assert_eq!(garbage[0].type_name(), std::any::type_name::<Legacy>());
    assert!(
        wl.upgrade().is_some() && wp.upgrade().is_some(),
        "alive, not cleared"
    );
    assert_eq!(dropped.get(), 0);
    // Still uncollectable at the next collection (it is in garbage now, so
    // reachable: nothing found).
    drop(garbage);
    assert_eq!(gc::collect(), 0);

    // Break the cycle by hand through the garbage handle.
    let garbage = gc::take_garbage();
    let leg = garbage[0].downcast_ref::<Legacy>().unwrap();
    let plain = leg.link.borrow_mut().take().unwrap();
    assert_eq!(plain.name, "plain");
    assert_eq!(plain.link.borrow().as_ref().unwrap().name, "leg");
    drop(plain); // plain still holds leg; plain is freed, then leg
    assert_eq!(dropped.get(), 1);
    assert!(take_log().is_empty());
    drop(garbage); // the last handle to leg: refcount death
    assert_eq!(
        take_log(),
        ["legacy finalize leg"],
        "finalized normally by refcount"
    );
    assert!(wl.upgrade().is_none() && wp.upgrade().is_none());
    assert_eq!(gc::collect(), 0);
}

#[test]
fn legacy_finalizer_with_saveall_saves_everything() {
    fresh();
    take_log();
    gc::set_debug(DebugFlags::SAVEALL);
    let dropped = DropCounter::new();
    let leg = Gc::new(Legacy {
        name: "leg",
        link: RefCell::new(None),
    });
    let plain = Gc::new(Plain {
        name: "plain",
        link: RefCell::new(Some(leg.clone())),
        _probe: dropped.probe(),
    });
    *leg.link.borrow_mut() = Some(plain.clone());
    drop((leg, plain));
    assert_eq!(gc::collect(), 2);
    let garbage = gc::garbage();
    assert_eq!(garbage.len(), 2);
    assert!(garbage.iter().any(|g| g.downcast_ref::<Plain>().is_some()));
    assert!(garbage.iter().any(|g| g.downcast_ref::<Legacy>().is_some()));
    assert!(take_log().is_empty());
    gc::set_debug(DebugFlags::empty());
    let leg = garbage
        .iter()
        .find_map(|g| g.downcast_ref::<Legacy>())
        .unwrap();
    leg.link.borrow_mut().take();
    drop(garbage);
    drop(gc::take_garbage());
    assert_eq!(take_log(), ["legacy finalize leg"]);
    assert_eq!(dropped.get(), 1);
    assert!(gc::get_objects(None).is_empty());
}

#[test]
fn trash_reachable_from_a_legacy_object_is_uncollectable_too() {
    // leg <-> back is a cycle with a legacy finalizer: both uncollectable,
    // only leg lands in garbage(). A self-cycle that refers to leg (but is
    // not reachable from it) is collected in the same pass.
    fresh();
    let dropped = DropCounter::new();
    let leg = Gc::new(Legacy {
        name: "leg",
        link: RefCell::new(None),
    });
    let back = Gc::new(Plain {
        name: "back",
        link: RefCell::new(Some(leg.clone())),
        _probe: dropped.probe(),
    });
    *leg.link.borrow_mut() = Some(back);
    // A separate cycle that is referenced only from the legacy cycle: hang it
    // below via a Holder.
    #[derive(Trace)]
    struct Holder(Gc<Legacy>, RefCell<Option<Gc<Holder>>>);
    let h = Gc::new(Holder(leg.clone(), RefCell::new(None)));
    *h.1.borrow_mut() = Some(h.clone());
    let wh = Gc::downgrade(&h);
    drop((leg, h));
    // The Holder self-cycle is not reachable *from* leg: it is collectable.
    assert_eq!(gc::collect(), 3);
    assert!(wh.upgrade().is_none());
    assert_eq!(gc::garbage().len(), 1);
    assert_eq!(dropped.get(), 0);
    let g = gc::take_garbage();
    g[0].downcast_ref::<Legacy>()
        .unwrap()
        .link
        .borrow_mut()
        .take();
    drop(g);
    assert_eq!(dropped.get(), 1);
}

#[test]
fn weak_handles_in_uncollectable_garbage_stay_usable() {
    fresh();
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    struct L {
        me: RefCell<Option<Gc<L>>>,
        peer: Weak<L>,
    }
    impl Finalize for L {
        fn finalize(&self) {}
    }
    let a = Gc::new(L {
        me: RefCell::new(None),
        peer: Weak::new(),
    });
    *a.me.borrow_mut() = Some(a.clone());
    let b = Gc::new(L {
        me: RefCell::new(None),
        peer: Gc::downgrade(&a),
    });
    *b.me.borrow_mut() = Some(b.clone());
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    let g = gc::take_garbage();
    assert_eq!(g.len(), 2);
    let with_peer = g
        .iter()
        .map(|o| o.downcast_ref::<L>().unwrap())
        .find(|l| l.peer.upgrade().is_some())
        .expect("a weak handle between uncollectable objects still works");
    assert!(with_peer.peer.upgrade().unwrap().me.borrow().is_some());
    for o in &g {
        o.downcast_ref::<L>().unwrap().me.borrow_mut().take();
    }
    drop(g);
    assert!(gc::get_objects(None).is_empty());
}

/// Runs `f` on a new thread: a fresh per-thread heap, on which no PEP 442
/// type has been allocated and no weak callback registered yet, so its
/// collections take the collector's lean path (no weak-clearing walk).
fn on_a_fresh_heap(f: impl FnOnce() + Send + 'static) {
    on_a_new_thread(2048, "the test thread panicked", f);
}

/// A `#[trace(skip)]` field whose `Drop` tries to upgrade a weak handle —
/// user code that runs while trash is being deleted (HAZARDS 13).
struct UpgradeOnDrop {
    target: Weak<Peer>,
    upgraded: std::rc::Rc<std::cell::Cell<Option<bool>>>,
}

impl Drop for UpgradeOnDrop {
    fn drop(&mut self) {
        self.upgraded.set(Some(self.target.upgrade().is_some()));
    }
}

#[derive(Trace)]
struct Peer {
    // Declared (so dropped) first: the upgrade runs while `other` still
    // holds the other object's strong count above zero.
    #[trace(skip)]
    on_drop: RefCell<Option<UpgradeOnDrop>>,
    other: RefCell<Option<Gc<Peer>>>,
}

/// Two trash objects, each of whose `Drop` tries to upgrade a weak handle to
/// the other; returns what the two upgrades gave.
fn upgrades_during_delete() -> [Option<bool>; 2] {
    let a = Gc::new(Peer {
        other: RefCell::new(None),
        on_drop: RefCell::new(None),
    });
    let b = Gc::new(Peer {
        other: RefCell::new(Some(a.clone())),
        on_drop: RefCell::new(None),
    });
    *a.other.borrow_mut() = Some(b.clone());
    let seen = [
        std::rc::Rc::new(std::cell::Cell::new(None)),
        std::rc::Rc::new(std::cell::Cell::new(None)),
    ];
    *a.on_drop.borrow_mut() = Some(UpgradeOnDrop {
        target: Gc::downgrade(&b),
        upgraded: seen[0].clone(),
    });
    *b.on_drop.borrow_mut() = Some(UpgradeOnDrop {
        target: Gc::downgrade(&a),
        upgraded: seen[1].clone(),
    });
    let (wa, wb) = (Gc::downgrade(&a), Gc::downgrade(&b));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert!(wa.upgrade().is_none() && wb.upgrade().is_none());
    [seen[0].get(), seen[1].get()]
}

#[test]
fn trash_cannot_be_upgraded_to_while_it_is_deleted_on_the_lean_path() {
    // Header I2: without finalizers or weak callbacks the collector does
    // not set WEAK_CLEARED on trash; the upgrades in the Drop impls must be
    // refused all the same: the first sees intact trash with a strong
    // count of 1, the second trash whose value is already dropped.
    on_a_fresh_heap(|| {
        gc::disable();
        assert_eq!(upgrades_during_delete(), [Some(false), Some(false)]);
    });
}

#[test]
fn trash_cannot_be_upgraded_to_while_it_is_deleted_with_finalizers_around() {
    // The same with a PEP 442 type on the heap (the full path, which clears
    // weak handles in a walk of its own first).
    #[derive(Trace)]
    #[trace(finalize)]
    struct Fin(Option<Gc<Fin>>); // tracked: may own a handle
    impl Finalize for Fin {
        fn finalize(&self) {}
    }
    on_a_fresh_heap(|| {
        gc::disable();
        drop(Gc::new(Fin(None)));
        assert_eq!(upgrades_during_delete(), [Some(false), Some(false)]);
    });
}

thread_local! {
    static STASH: RefCell<Vec<Gc<Zombie>>> = const { RefCell::new(Vec::new()) };
    static REFERENTS_SEEN: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// A handle whose `Drop` stashes a clone of itself: breaks the `Trace`
/// contract (rule 5), so the collector ends up with trash that still has
/// strong handles after every value was dropped.
struct Stasher(Gc<Zombie>);

// SAFETY: deliberately not — its `Drop` creates a handle to trash. This is
// the contract breach whose consequences the test pins down.
unsafe impl Trace for Stasher {
    fn trace(&self, tracer: &mut pygc::Tracer<'_>) {
        self.0.trace(tracer);
    }
}

impl Drop for Stasher {
    fn drop(&mut self) {
        // What `gc::get_referents` reports for the target mid-delete: its
        // referents while its value is intact, nothing once the collector
        // has dropped it (header I5).
        let seen = gc::get_referents(&Gc::to_any(&self.0)).len();
        REFERENTS_SEEN.with(|r| r.borrow_mut().push(seen));
        STASH.with(|s| s.borrow_mut().push(self.0.clone()));
    }
}

#[derive(Trace)]
struct Zombie {
    other: RefCell<Option<Stasher>>,
    #[trace(skip)]
    _probe: DropProbe,
}

#[test]
fn trash_with_handles_left_after_delete_is_never_dropped_twice_or_freed_early() {
    // Header I5's zombies: the collector drops both values, finds strong
    // handles left (in STASH), keeps the memory instead of freeing it, and
    // the last stashed handle frees it later without a second drop.
    on_a_fresh_heap(|| {
        gc::disable();
        let dropped = DropCounter::new();
        let a = Gc::new(Zombie {
            other: RefCell::new(None),
            _probe: dropped.probe(),
        });
        let b = Gc::new(Zombie {
            other: RefCell::new(Some(Stasher(a.clone()))),
            _probe: dropped.probe(),
        });
        *a.other.borrow_mut() = Some(Stasher(b.clone()));
        let weak = Gc::downgrade(&a);
        drop((a, b));
        assert_eq!(gc::collect(), 2);
        assert_eq!(
            dropped.get(),
            2,
            "both values are dropped by the collection"
        );
        assert_eq!(
            REFERENTS_SEEN.with(|r| r.take()),
            [1, 0],
            "get_referents traces an intact trash value, never a dropped one"
        );
        assert_eq!(STASH.with(|s| s.borrow().len()), 2);
        assert!(weak.upgrade().is_none(), "a zombie cannot be upgraded to");
        assert!(gc::get_objects(None).is_empty(), "zombies are on no list");
        let mut stashed = STASH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        assert!(
            Gc::get_mut(&mut stashed[0]).is_none(),
            "a zombie is not lent out"
        );
        assert!(gc::get_referents(&Gc::to_any(&stashed[0])).is_empty());
        // Later collections see a zombie as an object outside their set:
        // an edge to it from reachable data, from plain trash, or from trash
        // behind a legacy finalizer is an outside reference, never a member
        // to count, rescue or move.
        #[derive(Trace)]
        struct Holder(Gc<Zombie>, RefCell<Option<Gc<Holder>>>);
        #[derive(Trace)]
        #[trace(legacy_finalize)]
        struct Legacy(Gc<Zombie>, RefCell<Option<Gc<Legacy>>>);
        impl Finalize for Legacy {
            fn finalize(&self) {}
        }
        let kept = Gc::new(Holder(stashed[0].clone(), RefCell::new(None)));
        let trash = Gc::new(Holder(stashed[1].clone(), RefCell::new(None)));
        *trash.1.borrow_mut() = Some(trash.clone());
        let legacy = Gc::new(Legacy(stashed[0].clone(), RefCell::new(None)));
        *legacy.1.borrow_mut() = Some(legacy.clone());
        let legacy_weak = Gc::downgrade(&legacy);
        drop((trash, legacy));
        assert_eq!(gc::collect(), 2, "the Holder cycle and the Legacy one");
        assert_eq!(gc::garbage().len(), 1, "the Legacy cycle is uncollectable");
        assert_eq!(gc::collect(), 0);
        // Break the uncollectable cycle, as a CPython user would after
        // looking at gc.garbage; it then dies by refcount.
        let legacy = legacy_weak.upgrade().expect("alive in garbage");
        *legacy.1.borrow_mut() = None;
        drop(legacy);
        drop(gc::take_garbage());
        assert!(legacy_weak.upgrade().is_none());
        drop(kept);
        drop(stashed); // frees both (valgrind checks: once, and not before)
        assert_eq!(dropped.get(), 2, "no value is dropped twice");
        assert_eq!(gc::collect(), 0);
        drop(weak);
    });
}

#[derive(Trace)]
struct Many {
    vec: RefCell<Vec<Gc<Many>>>,
    deque: RefCell<std::collections::VecDeque<Gc<Many>>>,
    array: RefCell<Option<[Gc<Many>; 9]>>,
}

fn many() -> Gc<Many> {
    Gc::new(Many {
        vec: RefCell::new(Vec::new()),
        deque: RefCell::new(std::collections::VecDeque::new()),
        array: RefCell::new(None),
    })
}

#[test]
fn slices_of_repeated_handles_are_counted_exactly() {
    // `Vec`, `VecDeque` and arrays of handles are traced in chunks of eight
    // (Tracer::visit_gc_slice). Runs that start, end and change inside a
    // chunk must count every edge exactly once: one edge too many makes the
    // collection free nothing (HAZARDS 1), one too few keeps the cycle.
    fresh();
    for outside in [false, true] {
        let x = many();
        let (y, z) = (many(), many());
        y.vec.borrow_mut().push(x.clone());
        z.deque.borrow_mut().push_back(x.clone());
        {
            let mut vec = x.vec.borrow_mut();
            vec.extend(std::iter::repeat_n(y.clone(), 9));
            vec.push(z.clone());
            vec.extend(std::iter::repeat_n(y.clone(), 8));
            vec.extend(std::iter::repeat_n(z.clone(), 3));
            let mut deque = x.deque.borrow_mut();
            for i in 0..20 {
                // Wraps around the ring buffer: two slices.
                if i % 2 == 0 {
                    deque.push_front(z.clone());
                } else {
                    deque.push_back(y.clone());
                }
            }
            *x.array.borrow_mut() = Some(std::array::from_fn(|i| {
                if i < 8 {
                    y.clone()
                } else {
                    z.clone()
                }
            }));
        }
        let kept = outside.then(|| z.clone());
        drop((x, y, z));
        if outside {
            assert_eq!(gc::collect(), 0, "all three are reachable from `kept`");
            let z = kept.unwrap();
            let x = z.deque.borrow()[0].clone();
            assert_eq!(x.vec.borrow().len(), 21);
            assert_eq!(x.deque.borrow().len(), 20);
            assert_eq!(Gc::strong_count(&x), 3);
            z.deque.borrow_mut().clear();
            drop((x, z));
        }
        assert_eq!(gc::collect(), 3);
    }
}

#[test]
fn reachable_slices_skip_only_repeats() {
    // `move_unreachable` visits a slice's handles skipping a handle equal to
    // the last one visited, and a chunk of eight such (`visit_reachable_slice`;
    // the last target carries over to the next slice). Every other handle
    // must be visited: here `d`, `e`, `f` and `g` each stand once among
    // repeats, and one skipped wrongly stays unreachable and is freed while
    // `root` still holds it. With `root` last in the list the others are
    // tentatively unreachable when its trace reaches them (rescued); with
    // `root` first they are still ahead (marked).
    fresh();
    for root_first in [false, true] {
        let root = root_first.then(many);
        let [a, d, e, f, g] = std::array::from_fn(|_| many());
        let root = root.unwrap_or_else(many);
        a.vec.borrow_mut().push(root.clone()); // one cycle through `root`
        let vec: Vec<&Gc<Many>> = std::iter::empty()
            .chain([&a; 8]) // a chunk of one object
            .chain([&a; 7])
            .chain([&d]) // last in a chunk of repeats
            .chain([&a, &a, &e, &a, &a, &a, &a, &a]) // once inside one
            .chain([&f]) // the remainder
            .collect();
        root.vec.borrow_mut().extend(vec.iter().map(|&x| x.clone()));
        {
            // The next slice starts with a chunk of the last target.
            let mut deque = root.deque.borrow_mut();
            deque.extend(std::iter::repeat_n(f.clone(), 8));
            deque.push_back(g.clone());
        }
        let weak = [&a, &d, &e, &f, &g].map(Gc::downgrade);
        drop((a, d, e, f, g));
        assert_eq!(gc::collect(), 0, "all of it is reachable from `root`");
        let counts = weak
            .each_ref()
            .map(|w| w.upgrade().map(|x| Gc::strong_count(&x) - 1));
        assert_eq!(counts, [Some(22), Some(1), Some(1), Some(9), Some(1)]);
        drop(root);
        assert_eq!(gc::collect(), 6, "root and the five: one cycle");
    }
}
