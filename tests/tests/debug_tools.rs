//! `pygc::debug`: `why_alive` referrer paths and outside-reference
//! counts, `most_common_types`, `refs_graph` / `backrefs_graph` node and
//! edge sets with cycle marks, and DOT output that Graphviz accepts.

use pygc::gc::{self, DebugFlags};
use pygc::{debug, Finalize, Gc, GcAny, Trace};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// Reset the calling thread's collector and flush earlier garbage.
fn fresh() {
    gc::set_debug(DebugFlags::empty());
    gc::set_threshold(700, 10, 10);
    gc::enable();
    gc::unfreeze();
    drop(gc::take_garbage());
    gc::collect();
    drop(gc::take_garbage());
}

/// Run `f` on a new thread: a heap of its own, whatever the test harness
/// does with threads.
fn on_fresh_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f)
        .join()
        .expect("the test thread panicked");
}

#[derive(Trace)]
struct Person {
    name: String,
    friend: RefCell<Option<Gc<Person>>>,
}

fn person(name: &str) -> Gc<Person> {
    Gc::new(Person {
        name: name.to_owned(),
        friend: RefCell::new(None),
    })
}

/// `alice.friend = bob; bob.friend = alice`.
fn alice_and_bob() -> (Gc<Person>, Gc<Person>) {
    let alice = person("alice");
    let bob = person("bob");
    *alice.friend.borrow_mut() = Some(bob.clone());
    *bob.friend.borrow_mut() = Some(alice.clone());
    (alice, bob)
}

#[derive(Trace)]
struct Node {
    id: usize,
    children: RefCell<Vec<Gc<Node>>>,
}

fn node(id: usize) -> Gc<Node> {
    Gc::new(Node {
        id,
        children: RefCell::new(Vec::new()),
    })
}

fn link(from: &Gc<Node>, to: &Gc<Node>) {
    from.children.borrow_mut().push(to.clone());
}

/// Break every edge among `nodes` so their cycles do not outlive the test.
fn unlink(nodes: &[GcAny]) {
    for n in nodes {
        if let Some(n) = n.downcast_ref::<Node>() {
            n.children.borrow_mut().clear();
        } else if let Some(p) = n.downcast_ref::<Person>() {
            p.friend.borrow_mut().take();
        }
    }
}

fn same(a: &GcAny, b: &GcAny) -> bool {
    GcAny::ptr_eq(a, b)
}

fn names(path: &[debug::PathStep]) -> Vec<String> {
    path.iter()
        .map(|s| s.object.downcast_ref::<Person>().unwrap().name.clone())
        .collect()
}

// ------------------------------------------------------------- why_alive

#[test]
fn leaked_cycle_is_found_at_the_forgotten_handle() {
    fresh();
    let (alice, bob) = alice_and_bob();
    let alice_any = Gc::to_any(&alice);
    let bob_any = Gc::to_any(&bob);
    std::mem::forget(bob); // the leak
    drop((alice, bob_any));
    // Strong counts: alice 1 (bob.friend) besides `alice_any`, bob 2
    // (alice.friend and the forgotten handle).
    assert_eq!(gc::collect(), 0);

    let report = debug::why_alive(&alice_any);
    assert_eq!(names(report.path()), ["alice", "bob"]);
    assert!(report.is_reachable());
    assert!(!report.held_by_garbage());
    let [first, last] = report.path() else {
        panic!("a two-step path")
    };
    assert!(same(&first.object, &alice_any));
    assert_eq!((first.strong_count, first.outside_refs), (1, 0));
    assert_eq!((last.strong_count, last.outside_refs), (2, 1));
    let text = report.to_string();
    assert!(text.starts_with("why is <Person 0x"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("strong 1, outside 0"), "{text}");
    assert!(text.contains("strong 2, outside 1"), "{text}");
    assert!(
        text.contains("held from outside the heap (1 reference no Trace reports: a variable"),
        "{text}"
    );

    // Asking about bob directly: bob itself is the root.
    let bob_any = report.path()[1].object.clone();
    drop(report);
    let report = debug::why_alive(&bob_any);
    assert_eq!(names(report.path()), ["bob"]);
    assert_eq!(report.path()[0].outside_refs, 1);

    // Fixing the leak: break the cycle. Alice dies with the last handle
    // to her; the forgotten handle keeps bob (leaked for good, as
    // `forget` promised).
    drop(report);
    unlink(&[bob_any]);
    let alice_weak = Gc::downgrade(&alice_any.downcast::<Person>().ok().unwrap());
    assert!(alice_weak.upgrade().is_none(), "alice freed");
}

#[test]
fn leaked_cycle_is_found_from_get_objects_in_one_call() {
    // A leak nobody kept a handle to: find it with get_objects, explain
    // it with one why_alive call.
    fresh();
    {
        let (alice, bob) = alice_and_bob();
        std::mem::forget(alice);
        drop(bob);
    }
    gc::collect();
    let bob = gc::get_objects(None)
        .into_iter()
        .find(|o| o.downcast_ref::<Person>().is_some_and(|p| p.name == "bob"))
        .expect("bob is still tracked");
    let report = debug::why_alive(&bob);
    assert_eq!(names(report.path()), ["bob", "alice"]);
    assert_eq!(report.path()[0].outside_refs, 0);
    assert_eq!(report.path()[1].outside_refs, 1);
    drop(report);
    unlink(&[bob]);
}

#[test]
fn long_chain_path_reaches_the_head() {
    const LEN: usize = 1000;
    fresh();
    let head = node(0);
    let mut tail = head.clone();
    for id in 1..LEN {
        let next = node(id);
        link(&tail, &next);
        tail = next;
    }
    let tail_any = Gc::to_any(&tail);
    drop(tail); // only the chain (and tail_any, not counted) holds the tail

    let report = debug::why_alive(&tail_any);
    let path = report.path();
    assert_eq!(path.len(), LEN);
    assert!(same(&path[0].object, &tail_any));
    assert!(same(&path[LEN - 1].object, &Gc::to_any(&head)));
    let ids: Vec<usize> = path
        .iter()
        .map(|s| s.object.downcast_ref::<Node>().unwrap().id)
        .collect();
    assert_eq!(ids, (0..LEN).rev().collect::<Vec<_>>());
    for step in &path[..LEN - 1] {
        assert_eq!(step.outside_refs, 0);
        assert_eq!(step.strong_count, 1);
    }
    assert_eq!(path[LEN - 1].outside_refs, 1, "the local `head`");
    assert!(report.is_reachable());
    assert_eq!(report.to_string().lines().count(), LEN + 1);
    drop(report);
    drop(tail_any);
    drop(head); // the whole chain dies by refcount
    assert_eq!(gc::collect(), 0);
}

#[derive(Trace)]
struct Holder {
    #[trace(skip)]
    hidden: Gc<Person>,
    _seen: Option<Gc<Person>>,
}

#[test]
fn object_held_by_a_skipped_field_is_its_own_root() {
    fresh();
    let hidden = person("hidden");
    let holder = Gc::new(Holder {
        hidden: hidden.clone(),
        _seen: None,
    });
    let hidden_any = Gc::to_any(&hidden);
    drop(hidden);

    let report = debug::why_alive(&hidden_any);
    assert_eq!(names(report.path()), ["hidden"]);
    assert_eq!(report.path()[0].outside_refs, 1);
    assert_eq!(report.path()[0].strong_count, 1);
    assert!(report.is_reachable());
    assert!(!report.held_by_garbage());
    // The holder does not show up as a referrer: Trace does not report
    // the field.
    assert!(gc::get_referrers(&hidden_any).is_empty());
    drop(report);
    assert_eq!(holder.hidden.name, "hidden");
}

#[test]
fn unreachable_cycle_is_reported_unreachable() {
    fresh();
    gc::disable();
    let (alice, bob) = alice_and_bob();
    let alice_any = Gc::to_any(&alice);
    drop((alice, bob));

    let report = debug::why_alive(&alice_any);
    assert!(!report.is_reachable());
    assert!(!report.held_by_garbage());
    assert_eq!(names(report.path()), ["alice"], "the object alone");
    assert_eq!(report.path()[0].outside_refs, 0);
    assert_eq!(report.path()[0].strong_count, 1, "bob.friend");
    assert!(report.to_string().contains("unreachable"));
    drop(report);
    drop(alice_any);
    gc::enable();
    assert_eq!(gc::collect(), 2, "what why_alive said: garbage");
}

#[test]
fn saveall_garbage_is_reported() {
    fresh();
    gc::set_debug(DebugFlags::SAVEALL);
    let (alice, bob) = alice_and_bob();
    drop((alice, bob));
    assert_eq!(gc::collect(), 2);
    gc::set_debug(DebugFlags::empty());
    let alice = gc::garbage()
        .into_iter()
        .find(|o| {
            o.downcast_ref::<Person>()
                .is_some_and(|p| p.name == "alice")
        })
        .unwrap();

    let report = debug::why_alive(&alice);
    assert!(report.is_reachable());
    assert!(report.held_by_garbage());
    assert_eq!(names(report.path()), ["alice"], "in gc.garbage itself");
    assert_eq!(report.path()[0].outside_refs, 1);
    assert!(report.to_string().contains(": gc::garbage()"));
    drop(report);
    let saved = gc::take_garbage();
    unlink(&saved);
    drop((saved, alice));
    assert!(gc::garbage().is_empty());
}

thread_local! {
    static LEGACY_RUNS: Cell<usize> = const { Cell::new(0) };
}

/// A type with a legacy finalizer (CPython's `tp_del`).
#[derive(Trace)]
#[trace(legacy_finalize)]
struct Legacy {
    back: RefCell<Option<Gc<Back>>>,
}

impl Finalize for Legacy {
    fn finalize(&self) {
        LEGACY_RUNS.with(|n| n.set(n.get() + 1));
    }
}

/// A plain object on a cycle with a `Legacy`.
#[derive(Trace)]
struct Back {
    legacy: RefCell<Option<Gc<Legacy>>>,
}

#[test]
fn legacy_finalizer_garbage_is_reported() {
    fresh();
    // legacy -> back -> legacy: uncollectable. As in CPython, only the
    // object with the legacy finalizer goes to gc.garbage; `back` stays
    // alive because `legacy` refers to it.
    let legacy = Gc::new(Legacy {
        back: RefCell::new(None),
    });
    let back = Gc::new(Back {
        legacy: RefCell::new(Some(legacy.clone())),
    });
    *legacy.back.borrow_mut() = Some(back.clone());
    let back_any = Gc::to_any(&back);
    let back_weak = Gc::downgrade(&back);
    drop((legacy, back));

    // Before the collection: an unreachable cycle.
    let report = debug::why_alive(&back_any);
    assert!(!report.is_reachable());
    assert!(!report.held_by_garbage());
    drop((report, back_any));

    // As in CPython, collect() counts the uncollectable objects too.
    assert_eq!(gc::collect(), 2);
    assert!(back_weak.upgrade().is_some(), "nothing freed");
    assert_eq!(LEGACY_RUNS.with(Cell::get), 0);
    let garbage = gc::garbage();
    assert_eq!(garbage.len(), 1);
    assert!(garbage[0].is::<Legacy>());
    drop(garbage);

    let back_any = Gc::to_any(&back_weak.upgrade().expect("kept by the legacy object"));
    let report = debug::why_alive(&back_any);
    assert!(report.is_reachable());
    assert!(report.held_by_garbage());
    assert_eq!(report.path().len(), 2, "back <- legacy");
    assert!(report.path()[0].object.is::<Back>());
    assert_eq!(report.path()[0].outside_refs, 0);
    assert!(report.path()[1].object.is::<Legacy>());
    assert_eq!(report.path()[1].outside_refs, 1, "gc.garbage");
    assert!(report.to_string().contains(": gc::garbage()"));
    drop(report);

    // Clean up: break the cycle from outside, then let go of gc.garbage.
    let saved = gc::take_garbage();
    saved[0]
        .downcast_ref::<Legacy>()
        .unwrap()
        .back
        .borrow_mut()
        .take();
    drop(saved);
    drop(back_any);
    assert_eq!(gc::collect(), 0, "refcounting freed both");
}

/// A self-cycle carrying an untracked value.
#[derive(Trace)]
struct Tagged {
    tag: Gc<u32>,
    me: RefCell<Option<Gc<Tagged>>>,
}

#[test]
fn untracked_object_kept_by_saveall_garbage() {
    fresh();
    gc::set_debug(DebugFlags::SAVEALL);
    let tag = Gc::new(42_u32);
    assert!(!Gc::is_tracked(&tag));
    let tagged = Gc::new(Tagged {
        tag: tag.clone(),
        me: RefCell::new(None),
    });
    *tagged.me.borrow_mut() = Some(tagged.clone());
    drop(tagged);
    let tag_any = Gc::to_any(&tag);
    drop(tag);
    assert_eq!(gc::collect(), 1, "the Tagged; u32 is not tracked");
    gc::set_debug(DebugFlags::empty());

    let report = debug::why_alive(&tag_any);
    assert_eq!(report.path().len(), 2, "u32 <- Tagged");
    assert!(report.path()[0].object.is::<u32>());
    assert_eq!(report.path()[0].outside_refs, 0);
    assert!(report.path()[1].object.is::<Tagged>());
    assert_eq!(
        (report.path()[1].strong_count, report.path()[1].outside_refs),
        (2, 1),
        "its own `me` and gc.garbage"
    );
    assert!(report.held_by_garbage());
    drop(report);
    for saved in gc::take_garbage() {
        saved
            .downcast_ref::<Tagged>()
            .unwrap()
            .me
            .borrow_mut()
            .take();
    }
    assert_eq!(tag_any.strong_count(), 1, "only tag_any is left");
}

// ----------------------------------------------------- most_common_types

#[derive(Trace)]
struct Apple(Option<Gc<Apple>>);
#[derive(Trace)]
struct Banana(Option<Gc<Banana>>);
#[derive(Trace)]
struct Cherry(Option<Gc<Cherry>>);

#[test]
fn most_common_types_counts_and_orders() {
    on_fresh_thread(|| {
        fresh();
        assert!(debug::most_common_types(None).is_empty(), "a new heap");
        let apples: Vec<_> = (0..5).map(|_| Gc::new(Apple(None))).collect();
        let bananas: Vec<_> = (0..3).map(|_| Gc::new(Banana(None))).collect();
        let cherries: Vec<_> = (0..3).map(|_| Gc::new(Cherry(None))).collect();
        // Untracked objects (no handles inside) are not counted.
        let ints: Vec<_> = (0..10).map(Gc::new).collect();

        let rows = debug::most_common_types(None);
        let short: Vec<(String, usize)> = rows
            .iter()
            .map(|&(name, n)| (debug::short_type_name(name), n))
            .collect();
        // Most common first; ties (3 and 3) by full type name.
        assert_eq!(
            short,
            [
                ("Apple".to_owned(), 5),
                ("Banana".to_owned(), 3),
                ("Cherry".to_owned(), 3)
            ]
        );
        assert!(rows[0].0.ends_with("::Apple"), "{}", rows[0].0);
        assert_eq!(debug::most_common_types(Some(2)), rows[..2]);
        assert!(debug::most_common_types(Some(0)).is_empty());

        // A chain of apples counts every link; dropping bananas removes them.
        let chain = Gc::new(Apple(Some(Gc::new(Apple(None)))));
        drop(bananas);
        let rows = debug::most_common_types(None);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1, 7);
        assert_eq!(debug::short_type_name(rows[1].0), "Cherry");
        drop((apples, cherries, ints, chain));
        assert!(debug::most_common_types(None).is_empty());
    });
}

#[test]
fn short_type_names_drop_module_paths() {
    assert_eq!(debug::short_type_name("a::b::Node<c::D>"), "Node<D>");
    assert_eq!(
        debug::short_type_name("core::cell::RefCell<alloc::vec::Vec<pygc::Gc<x::N>>>"),
        "RefCell<Vec<Gc<N>>>"
    );
    assert_eq!(debug::short_type_name("(u8, a::B)"), "(u8, B)");
    assert_eq!(debug::short_type_name("u32"), "u32");
}

// ------------------------------------------------- refs / backrefs graphs

/// The node and edge sets of a graph, by `Node::id` / `Person::name`.
fn label(object: &GcAny) -> String {
    if let Some(n) = object.downcast_ref::<Node>() {
        n.id.to_string()
    } else if let Some(p) = object.downcast_ref::<Person>() {
        p.name.clone()
    } else {
        debug::short_type_name(object.type_name())
    }
}

fn node_set(g: &debug::Graph) -> BTreeSet<String> {
    g.nodes.iter().map(|n| label(&n.object)).collect()
}

fn edge_set(g: &debug::Graph) -> BTreeSet<(String, String)> {
    g.edges
        .iter()
        .map(|&(a, b)| (label(&g.nodes[a].object), label(&g.nodes[b].object)))
        .collect()
}

fn cyclic_set(g: &debug::Graph) -> BTreeSet<String> {
    g.nodes
        .iter()
        .filter(|n| n.in_cycle)
        .map(|n| label(&n.object))
        .collect()
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn edges<const N: usize>(items: [(&str, &str); N]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn alice_and_bob_graphs_mark_the_cycle() {
    fresh();
    let (alice, bob) = alice_and_bob();
    let alice_any = Gc::to_any(&alice);

    let g = debug::refs_graph(&alice_any, 5);
    assert_eq!(g.nodes.len(), 2);
    assert_eq!(label(&g.nodes[0].object), "alice", "node 0 is the start");
    assert_eq!(g.nodes[0].depth, 0);
    assert_eq!(g.nodes[1].depth, 1);
    assert_eq!(edge_set(&g), edges([("alice", "bob"), ("bob", "alice")]));
    assert_eq!(g.edges.len(), 2);
    assert_eq!(cyclic_set(&g), set(["alice", "bob"]));
    // `alice` and bob.friend; the GcAny passed in is not counted.
    assert_eq!(g.nodes[0].strong_count, 2);
    assert_eq!(g.nodes[1].strong_count, 2, "`bob` and alice.friend");

    // Depth 1 still shows the edge back to alice (both nodes are shown).
    let g1 = debug::refs_graph(&alice_any, 1);
    assert_eq!(edge_set(&g1), edge_set(&g));
    assert_eq!(cyclic_set(&g1), set(["alice", "bob"]));
    // Depth 0: alice alone.
    let g0 = debug::refs_graph(&alice_any, 0);
    assert_eq!(node_set(&g0), set(["alice"]));
    assert!(g0.edges.is_empty());
    assert!(!g0.nodes[0].in_cycle);

    // A Graph holds strong handles to its nodes: they count in the strong
    // and outside counts of later calls. Drop graphs before asking again.
    drop((g, g1, g0));
    let g = debug::refs_graph(&alice_any, 5);
    let b = debug::backrefs_graph(&alice_any, 5);
    assert_eq!(b.nodes[0].strong_count, 3, "g's handle counts");
    drop((g, b));
    let b = debug::backrefs_graph(&alice_any, 5);
    assert_eq!(node_set(&b), set(["alice", "bob"]));
    assert_eq!(edge_set(&b), edges([("alice", "bob"), ("bob", "alice")]));
    assert_eq!(cyclic_set(&b), set(["alice", "bob"]));
    assert_eq!(b.nodes[0].strong_count, 2);
    drop(b);

    let g = debug::refs_graph(&alice_any, 5);
    let dot = g.to_dot();
    assert!(dot.starts_with("digraph objgraph {\n"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    assert_eq!(dot.matches("label=\"Person\\nstrong 2\\n0x").count(), 2);
    assert_eq!(dot.matches("#ffb3b3").count(), 2, "both nodes red");
    assert_eq!(dot.matches(" -> ").count(), 2);
    assert_eq!(dot.matches("[color=\"#cc0000\", penwidth=2]").count(), 2);

    drop((g, alice_any));
    unlink(&[Gc::to_any(&alice)]);
    drop((alice, bob));
    assert_eq!(gc::collect(), 0);
}

/// ```text
///        0
///      /   \
///     1     2
///    / \   / \
///   3   4 5   6
/// ```
fn tree() -> Vec<Gc<Node>> {
    let nodes: Vec<_> = (0..7).map(node).collect();
    for (parent, child) in [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (2, 6)] {
        link(&nodes[parent], &nodes[child]);
    }
    nodes
}

#[test]
fn tree_graphs_have_no_cycle_and_respect_depth() {
    fresh();
    let nodes = tree();
    let root = Gc::to_any(&nodes[0]);

    let g = debug::refs_graph(&root, 10);
    assert_eq!(node_set(&g), set(["0", "1", "2", "3", "4", "5", "6"]));
    assert_eq!(
        edge_set(&g),
        edges([
            ("0", "1"),
            ("0", "2"),
            ("1", "3"),
            ("1", "4"),
            ("2", "5"),
            ("2", "6")
        ])
    );
    assert!(cyclic_set(&g).is_empty());
    let depths: Vec<(String, usize)> = g
        .nodes
        .iter()
        .map(|n| (label(&n.object), n.depth))
        .collect();
    for (name, depth) in depths {
        let expected = match name.as_str() {
            "0" => 0,
            "1" | "2" => 1,
            _ => 2,
        };
        assert_eq!(depth, expected, "node {name}");
    }
    assert!(!g.to_dot().contains("#ffb3b3"), "nothing red");
    assert_eq!(g.to_dot().matches("#b8e6b8").count(), 1, "the root green");

    let g1 = debug::refs_graph(&root, 1);
    assert_eq!(node_set(&g1), set(["0", "1", "2"]));
    assert_eq!(edge_set(&g1), edges([("0", "1"), ("0", "2")]));
    assert!(g1.nodes.iter().all(|n| n.depth <= 1));

    drop((g, g1));
    let leaf = Gc::to_any(&nodes[5]);
    let b = debug::backrefs_graph(&leaf, 10);
    assert_eq!(node_set(&b), set(["5", "2", "0"]));
    assert_eq!(edge_set(&b), edges([("2", "5"), ("0", "2")]));
    assert!(cyclic_set(&b).is_empty());
    drop(b);
    let b1 = debug::backrefs_graph(&leaf, 1);
    assert_eq!(node_set(&b1), set(["5", "2"]));
    assert_eq!(edge_set(&b1), edges([("2", "5")]));
    // The leaf: `nodes[5]` and node 2's child list.
    assert_eq!(b1.nodes[0].strong_count, 2);
}

#[test]
fn cycle_beyond_the_depth_limit_is_not_shown() {
    fresh();
    // 0 -> 1 -> 2 -> 3 -> 1: a cycle that starts one step away.
    let nodes: Vec<_> = (0..4).map(node).collect();
    for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 1)] {
        link(&nodes[a], &nodes[b]);
    }
    let start = Gc::to_any(&nodes[0]);
    let g = debug::refs_graph(&start, 10);
    assert_eq!(cyclic_set(&g), set(["1", "2", "3"]));
    assert!(!g.nodes[0].in_cycle);
    let g2 = debug::refs_graph(&start, 2);
    assert_eq!(node_set(&g2), set(["0", "1", "2"]));
    assert!(cyclic_set(&g2).is_empty(), "3 -> 1 is out of sight");
    let g3 = debug::refs_graph(&start, 3);
    assert_eq!(cyclic_set(&g3), set(["1", "2", "3"]));
    drop((g, g2, g3));
    unlink(&nodes.iter().map(Gc::to_any).collect::<Vec<_>>());
}

#[test]
fn self_loop_is_a_cycle() {
    fresh();
    let n = node(1);
    link(&n, &n);
    let g = debug::refs_graph(&Gc::to_any(&n), 3);
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(g.edges, [(0, 0)]);
    assert!(g.nodes[0].in_cycle);
    drop(g);
    n.children.borrow_mut().clear();
}

// ------------------------------------------------------------ DOT → SVG

/// A leaked graph: a root node whose children form a cycle, kept by a
/// forgotten handle. Returns a handle to one node of the cycle.
fn leaked_graph() -> GcAny {
    let nodes: Vec<_> = (0..4).map(node).collect();
    for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 3), (3, 1)] {
        link(&nodes[a], &nodes[b]);
    }
    let inner = Gc::to_any(&nodes[3]);
    let mut nodes = nodes.into_iter();
    std::mem::forget(nodes.next());
    drop(nodes);
    inner
}

fn assert_svg(what: &str, svg: &str, nodes: usize) {
    assert!(svg.contains("<svg"), "{what}: {svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{what}");
    assert_eq!(svg.matches("class=\"node\"").count(), nodes, "{what}");
}

#[test]
fn dot_output_renders_to_svg() {
    fresh();
    let (alice, bob) = alice_and_bob();
    let cycle = debug::refs_graph(&Gc::to_any(&alice), 5);
    let Some(svg) = cycle.to_svg().expect("dot accepts the cycle's DOT") else {
        eprintln!(
            "dot not installed: skipping dot_output_renders_to_svg (apt-get install graphviz)"
        );
        return;
    };
    assert_svg("alice/bob", &svg, 2);
    // The same through dot_to_svg on the text.
    let again = debug::dot_to_svg(&cycle.to_dot()).unwrap().unwrap();
    assert_svg("alice/bob via dot_to_svg", &again, 2);

    let inner = leaked_graph();
    let report = debug::why_alive(&inner);
    let ids: Vec<usize> = report
        .path()
        .iter()
        .map(|s| s.object.downcast_ref::<Node>().unwrap().id)
        .collect();
    assert_eq!(ids, [3, 2, 0], "the forgotten root");
    assert_eq!(report.path()[2].outside_refs, 1);
    let root = report.path()[2].object.clone();
    drop(report);
    let forward = debug::refs_graph(&root, 5);
    assert_eq!(forward.nodes.len(), 4);
    let svg = forward.to_svg().unwrap().unwrap();
    assert_svg("leaked graph", &svg, 4);
    let back = debug::backrefs_graph(&inner, 5);
    assert_eq!(back.nodes.len(), 4);
    let svg = back.to_svg().unwrap().unwrap();
    assert_svg("leaked graph backrefs", &svg, 4);

    // A name with quotes and backslashes is escaped.
    let odd = person("say \"hi\" \\o/");
    let svg = debug::refs_graph(&Gc::to_any(&odd), 1)
        .to_svg()
        .unwrap()
        .unwrap();
    assert_svg("escaped", &svg, 1);

    // Invalid DOT is an error, not a panic.
    assert!(debug::dot_to_svg("digraph { -> }").is_err());

    drop((cycle, forward, back, inner));
    unlink(&[Gc::to_any(&alice)]);
    drop((alice, bob));
    let leaked: Vec<GcAny> = debug::refs_graph(&root, 5)
        .nodes
        .into_iter()
        .map(|n| n.object)
        .collect();
    unlink(&leaked);
}
