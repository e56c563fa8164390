//! objgraph-style pictures of seed 004's `alice`/`bob` cycle, and of a
//! leaked graph — not a program of the article: what a Python user would do
//! next with `objgraph` (`show_most_common_types`, `show_refs`,
//! `find_backref_chain`), ported to [`pygc::debug`].
//!
//! The section builds seed 004's `alice.friend = bob; bob.friend = alice`
//! ([`Person`]) and a small graph of [`Node`]s kept alive by a forgotten
//! handle (a leak), then prints
//!
//! * [`debug::most_common_types`] (`objgraph.show_most_common_types()`),
//! * the [`debug::why_alive`] report for a leaked node: its shortest
//!   referrer chain back to the forgotten handle,
//! * the Graphviz DOT text of [`debug::refs_graph`] for both graphs
//!   (`objgraph.show_refs`), cycles in red,
//!
//! and, when Graphviz's `dot` program is installed, writes
//! `alice-bob.svg` and `leaked-graph.svg` to the directory named by the
//! environment variable `GC_EXAMPLES_OUT` (default `target/objgraph/`,
//! relative to the working directory), printing their paths. Without `dot`
//! it says how to install it (`apt-get install graphviz`).
//!
//! The section ends by undoing what it did: `del alice, bob` and a
//! `gc.collect()` (2), then dropping the forgotten handle, after which the
//! leaked graph's cycle is collected too (3), so the tour's later sections
//! (and a second run of the tour) see the heap as it was.
//!
//! ```sh
//! GC_EXAMPLES_OUT=docs/img cargo run -p gc-examples -- seed004-objgraph-pictures
//! ```

use crate::console::{Console, GcState};
use crate::py::py_bool;
use crate::seed004_data_objects_and_gc_module::person_cycle::Person;
use crate::Section;
use pygc::{debug, gc, Gc, GcAny, Trace};
use std::cell::RefCell;
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

/// This section, for the tour's registry.
pub const SECTION: Section = Section {
    name: "seed004-objgraph-pictures",
    seed: &crate::seed004_data_objects_and_gc_module::SEED,
    summary: "objgraph-style pictures of the alice/bob cycle and a leaked graph: most_common_types, why_alive, DOT and SVG",
    run: |out| run(out).map(drop),
};

/// The environment variable naming the directory the SVGs are written to.
pub const OUT_ENV: &str = "GC_EXAMPLES_OUT";

/// Where the SVGs go when [`OUT_ENV`] is not set.
pub const DEFAULT_OUT: &str = "target/objgraph";

/// The file name of the alice/bob picture.
pub const ALICE_BOB_SVG: &str = "alice-bob.svg";

/// The file name of the leaked graph's picture.
pub const LEAKED_GRAPH_SVG: &str = "leaked-graph.svg";

/// A node of the leaked graph: a name and the nodes it refers to.
#[derive(Trace)]
pub struct Node {
    /// What it stands for.
    pub name: String,
    /// The nodes it holds.
    pub refs: RefCell<Vec<Gc<Node>>>,
}

impl Node {
    /// A node without references.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::objgraph_pictures::Node;
    /// assert!(Node::new("user").refs.borrow().is_empty());
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: &str) -> Gc<Node> {
        Gc::new(Node {
            name: name.to_owned(),
            refs: RefCell::new(Vec::new()),
        })
    }

    fn link(&self, to: &Gc<Node>) {
        self.refs.borrow_mut().push(to.clone());
    }
}

/// The figures of one [`debug::Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphFigures {
    /// Its nodes.
    pub nodes: usize,
    /// Its edges.
    pub edges: usize,
    /// Its nodes that lie on a cycle (drawn in red).
    pub in_cycle: usize,
}

impl GraphFigures {
    fn of(graph: &debug::Graph) -> GraphFigures {
        GraphFigures {
            nodes: graph.nodes.len(),
            edges: graph.edges.len(),
            in_cycle: graph.nodes.iter().filter(|n| n.in_cycle).count(),
        }
    }
}

/// One step of the `why_alive` path, by the node's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The node's name.
    pub name: String,
    /// Its strong count.
    pub strong: usize,
    /// Its outside references.
    pub outside: usize,
}

/// The figures the section printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `most_common_types()`, short type names.
    pub most_common_types: Vec<(String, usize)>,
    /// The `why_alive` path from the leaked `buffer` to the forgotten handle.
    pub leaked_path: Vec<Step>,
    /// Whether `why_alive` found the buffer reachable from outside.
    pub leaked_reachable: bool,
    /// `refs_graph(alice, 3)`.
    pub alice_bob: GraphFigures,
    /// `refs_graph(registry, 3)`: the leaked graph from its root.
    pub leaked_graph: GraphFigures,
    /// The SVG files written, or `None` when `dot` is not installed.
    pub svgs: Option<Vec<PathBuf>>,
    /// `gc.collect()` after `del alice, bob`.
    pub collected_alice_bob: usize,
    /// `gc.collect()` after dropping the forgotten handle.
    pub collected_leak: usize,
}

/// The directory the SVGs are written to: `$GC_EXAMPLES_OUT`, or
/// `target/objgraph`.
///
/// # Examples
///
/// ```
/// use gc_examples::objgraph_pictures::out_dir;
/// if std::env::var_os("GC_EXAMPLES_OUT").is_none() {
///     assert_eq!(out_dir(), std::path::Path::new("target/objgraph"));
/// }
/// ```
pub fn out_dir() -> PathBuf {
    std::env::var_os(OUT_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_OUT), PathBuf::from)
}

/// Run the section, writing SVGs (if `dot` is installed) to [`out_dir`].
///
/// # Errors
///
/// Any error of the writer, of creating the directory or writing the files,
/// or of `dot` rejecting the DOT text.
///
/// # Examples
///
/// ```
/// use gc_examples::objgraph_pictures;
/// let r = objgraph_pictures::run(&mut Vec::new()).unwrap();
/// assert_eq!(r.leaked_path.len(), 3);
/// assert_eq!((r.collected_alice_bob, r.collected_leak), (2, 3));
/// ```
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    run_in(out, &out_dir())
}

/// Write `contents` to `path` through a temporary file and a rename, so a
/// concurrent run never leaves (or reads) half a picture.
fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let tmp = path.with_extension(format!("svg.{}.tmp", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// Run the section, writing SVGs (if `dot` is installed) to `dir`.
///
/// # Errors
///
/// As [`run`].
///
/// # Examples
///
/// ```
/// use gc_examples::objgraph_pictures;
/// let dir = std::env::temp_dir().join(format!("objgraph-doc-{}", std::process::id()));
/// let r = objgraph_pictures::run_in(&mut Vec::new(), &dir).unwrap();
/// if let Some(svgs) = r.svgs {
///     assert!(std::fs::read_to_string(&svgs[0]).unwrap().contains("<svg"));
/// }
/// # let _ = std::fs::remove_dir_all(&dir);
/// ```
pub fn run_in(out: &mut dyn Write, dir: &Path) -> io::Result<Report> {
    let _gc = GcState::flush_and_save();
    let mut con = Console::start(out, &SECTION)?;
    con.line("# Not in the article: what objgraph shows a Python user, ported to pygc::debug.")?;

    // Seed 004's cycle.
    let alice = Person::new("Alice");
    let bob = Person::new("Bob");
    *alice.friend.borrow_mut() = Some(bob.clone());
    *bob.friend.borrow_mut() = Some(alice.clone());
    con.line(">>> alice = Person(\"Alice\"); bob = Person(\"Bob\")")?;
    con.line(">>> alice.friend = bob; bob.friend = alice")?;

    // A leak: registry -> session -> {user, buffer}, buffer -> session. The
    // registry's only handle is forgotten (`ManuallyDrop` is what
    // `mem::forget` does; keeping it lets the section undo the leak).
    let buffer_any: GcAny;
    let forgotten: ManuallyDrop<Gc<Node>>;
    {
        let registry = Node::new("registry");
        let session = Node::new("session");
        let user = Node::new("user");
        let buffer = Node::new("buffer");
        registry.link(&session);
        session.link(&user);
        session.link(&buffer);
        buffer.link(&session);
        buffer_any = Gc::to_any(&buffer);
        forgotten = ManuallyDrop::new(registry);
    }
    con.line(">>> registry, session, user, buffer = (Node(name) for name in (\"registry\", \"session\", \"user\", \"buffer\"))")?;
    con.line(
        ">>> registry.refs = [session]; session.refs = [user, buffer]; buffer.refs = [session]",
    )?;
    con.line("# std::mem::forget(registry): the leak, a handle nothing will ever drop; then del session, user, buffer")?;

    // objgraph.show_most_common_types()
    con.line(">>> objgraph.show_most_common_types()    # debug::most_common_types(None)")?;
    let most_common_types: Vec<(String, usize)> = debug::most_common_types(None)
        .into_iter()
        .map(|(name, n)| (debug::short_type_name(name), n))
        .collect();
    for (name, n) in &most_common_types {
        con.line(format_args!("{name:<10} {n}"))?;
    }

    // Why is the buffer still alive? (objgraph.find_backref_chain)
    con.line(">>> why_alive(buffer)    # debug::why_alive(&buffer)")?;
    let report = debug::why_alive(&buffer_any);
    let step_name = |s: &debug::PathStep| {
        s.object
            .downcast_ref::<Node>()
            .map_or_else(|| s.object.type_name().to_owned(), |n| n.name.clone())
    };
    let leaked_path: Vec<Step> = report
        .path()
        .iter()
        .map(|s| Step {
            name: step_name(s),
            strong: s.strong_count,
            outside: s.outside_refs,
        })
        .collect();
    let leaked_reachable = report.is_reachable();
    for line in report.to_string().lines() {
        con.line(line)?;
    }
    let names: Vec<&str> = leaked_path.iter().map(|s| s.name.as_str()).collect();
    con.line(format_args!(
        "# the chain by name: {}; reachable: {}",
        names.join(" <- "),
        py_bool(leaked_reachable)
    ))?;
    // The root the report found; the report's own handles must go before
    // asking again (every live handle is an outside reference).
    let root = report.path().last().map(|s| s.object.clone());
    drop((report, buffer_any));
    let root = root.expect("a path has at least one step");

    // objgraph.show_refs([alice]), objgraph.show_refs([registry])
    let alice_bob_graph = debug::refs_graph(&Gc::to_any(&alice), 3);
    let alice_bob = GraphFigures::of(&alice_bob_graph);
    con.line(">>> objgraph.show_refs([alice])    # debug::refs_graph(&alice, 3).to_dot()")?;
    con.line("# n0 = alice, n1 = bob; red: on a cycle")?;
    for line in alice_bob_graph.to_dot().lines() {
        con.line(line)?;
    }
    drop(alice_bob_graph);
    let leaked = debug::refs_graph(&root, 3);
    let leaked_graph = GraphFigures::of(&leaked);
    let legend: Vec<String> = leaked
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let name = n.object.downcast_ref::<Node>().map_or("?", |n| &n.name);
            format!("n{i} = {name}")
        })
        .collect();
    con.line(">>> objgraph.show_refs([registry])    # debug::refs_graph(&root, 3).to_dot()")?;
    con.line(format_args!(
        "# {}; green: the start, red: on a cycle",
        legend.join(", ")
    ))?;
    for line in leaked.to_dot().lines() {
        con.line(line)?;
    }
    drop(leaked);

    // The pictures.
    let pictures = [
        (ALICE_BOB_SVG, debug::refs_graph(&Gc::to_any(&alice), 3)),
        (LEAKED_GRAPH_SVG, debug::refs_graph(&root, 3)),
    ];
    let mut svgs = Some(Vec::new());
    for (file, graph) in &pictures {
        match graph.to_svg()? {
            Some(svg) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(file);
                write_atomically(&path, &svg)?;
                con.line(format_args!("wrote {}", path.display()))?;
                if let Some(svgs) = &mut svgs {
                    svgs.push(path);
                }
            }
            None => {
                con.line(
                    "# Graphviz's `dot` is not installed: no SVG written. \
                     Install it (`apt-get install graphviz`) and run again for the pictures.",
                )?;
                svgs = None;
                break;
            }
        }
    }
    drop(pictures);

    // Undo it all: del alice, bob; then drop the forgotten handle.
    drop((alice, bob));
    let collected_alice_bob = gc::collect();
    con.line(format_args!(
        ">>> del alice, bob; gc.collect()\n{collected_alice_bob}"
    ))?;
    drop(root);
    drop(ManuallyDrop::into_inner(forgotten)); // registry dies by refcount
    let collected_leak = gc::collect();
    con.line(format_args!(
        ">>> drop(registry); gc.collect()    # the fix: the session/buffer cycle and user go\n{collected_leak}"
    ))?;

    con.finish()?;
    Ok(Report {
        most_common_types,
        leaked_path,
        leaked_reachable,
        alice_bob,
        leaked_graph,
        svgs,
        collected_alice_bob,
        collected_leak,
    })
}
