//! Leak-hunting tools: what objgraph gives Python users, and more.
//!
//! * [`most_common_types`] — tracked objects counted by type
//!   (objgraph's `show_most_common_types`).
//! * [`refs_graph`] / [`backrefs_graph`] — the objects reachable from (or
//!   referring to) an object, to a depth, as a [`Graph`] that renders to
//!   Graphviz DOT ([`Graph::to_dot`]) or, when the `dot` program is
//!   installed, SVG ([`Graph::to_svg`]). Nodes in a cycle are highlighted.
//! * [`why_alive`] — what keeps an object alive: the shortest referrer path
//!   back to an object with *outside* references (handles no `Trace`
//!   reports: locals, statics, `#[trace(skip)]` fields, forgotten handles,
//!   `gc::garbage()`), with the outside-reference count of each step — the
//!   `gc_refs` a collection would find after `subtract_refs`.
//!
//! All of them look at the calling thread's heap; none of them changes it.
//! A [`Graph`] or [`AliveReport`] holds strong handles to the objects it
//! shows: while you keep one, those handles count as outside references in
//! later calls (drop it before asking again).
//!
//! # Examples
//!
//! ```
//! use pygc::{debug, Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Person { name: String, friend: RefCell<Option<Gc<Person>>> }
//!
//! let alice = Gc::new(Person { name: "alice".into(), friend: RefCell::new(None) });
//! let bob = Gc::new(Person { name: "bob".into(), friend: RefCell::new(Some(alice.clone())) });
//! *alice.friend.borrow_mut() = Some(bob.clone());
//! std::mem::forget(bob); // a leaked handle keeps the cycle alive
//! let any = Gc::to_any(&alice);
//! drop(alice); // from here on only the cycle holds alice
//!
//! let report = debug::why_alive(&any);
//! assert_eq!(report.path().len(), 2);            // alice <- bob
//! assert_eq!(report.path()[1].outside_refs, 1);  // bob: the forgotten handle
//! println!("{report}");
//! let dot = debug::refs_graph(&any, 3).to_dot();
//! assert!(dot.contains("Person"));
//! ```

use crate::handle::any::GcAny;
use crate::heap::header::{Header, ObjPtr};
use crate::heap::{heap_or_panic, list};
use crate::trace::{TraceMode, Tracer};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

/// Every handle `obj` owns (what its `trace` reports).
fn edges_of(obj: ObjPtr) -> Vec<ObjPtr> {
    let mut out = Vec::new();
    // SAFETY: as below.
    if unsafe { obj.counts() }.mut_exposed() {
        return out; // a `&mut` from `Gc::get_mut` may be live (header I6)
    }
    if obj.value_dropped_by_collector() {
        return out; // header I5
    }
    let mut tracer = Tracer::new(TraceMode::Edges { out: &mut out });
    // SAFETY: callers pass objects kept alive by a handle or linked on a
    // generation list (live, intact values).
    unsafe { (obj.vtable.trace)(obj.counts, &mut tracer) };
    out
}

fn strong_of(obj: ObjPtr) -> usize {
    // SAFETY: as in `edges_of`.
    unsafe { obj.counts() }.strong() as usize
}

fn key(obj: ObjPtr) -> usize {
    obj.counts.as_ptr() as usize
}

/// Every tracked object of the calling thread (generations 0–2 and the
/// permanent generation).
fn all_tracked() -> Vec<ObjPtr> {
    let heap = heap_or_panic();
    let mut out = Vec::new();
    for head in heap.tracked_lists() {
        out.extend(list::iter(head).map(Header::obj));
    }
    out.extend(list::iter(heap.permanent.head()).map(Header::obj));
    out
}

/// A shorter type name: module paths dropped (`a::b::Node<c::D>` → `Node<D>`).
///
/// # Examples
///
/// ```
/// use pygc::debug::short_type_name;
/// assert_eq!(short_type_name("a::b::Node<c::D, u8>"), "Node<D, u8>");
/// assert_eq!(short_type_name(std::any::type_name::<Vec<String>>()), "Vec<String>");
/// ```
pub fn short_type_name(full: &str) -> String {
    let mut out = String::new();
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

/// Tracked objects counted by type, most common first (ties by name).
/// `limit` keeps the first `limit` rows.
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
/// #[derive(Trace)]
/// struct Leafy(Option<Gc<Leafy>>);
/// let _v: Vec<_> = (0..3).map(|_| Gc::new(Leafy(None))).collect();
/// let rows = debug::most_common_types(None);
/// assert!(rows.iter().any(|(name, n)| name.ends_with("Leafy") && *n >= 3));
/// ```
pub fn most_common_types(limit: Option<usize>) -> Vec<(&'static str, usize)> {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for obj in all_tracked() {
        *counts.entry((obj.vtable.type_name)()).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    rows
}

/// Outside references of every tracked object and of every object a
/// tracked object points to: strong count minus the edges reported by
/// tracked objects (the collector's `gc_refs` after `subtract_refs`).
fn outside_refs_and_referrers() -> (HashMap<usize, usize>, HashMap<usize, Vec<ObjPtr>>) {
    let tracked = all_tracked();
    let mut internal: HashMap<usize, usize> = HashMap::new();
    let mut referrers: HashMap<usize, Vec<ObjPtr>> = HashMap::new();
    let mut seen: HashMap<usize, ObjPtr> = HashMap::new();
    for &obj in &tracked {
        seen.insert(key(obj), obj);
        for target in edges_of(obj) {
            *internal.entry(key(target)).or_default() += 1;
            referrers.entry(key(target)).or_default().push(obj);
            seen.entry(key(target)).or_insert(target);
        }
    }
    let outside = seen
        .iter()
        .map(|(&k, &obj)| {
            let inside = internal.get(&k).copied().unwrap_or(0);
            (k, strong_of(obj).saturating_sub(inside))
        })
        .collect();
    (outside, referrers)
}

/// One step of a [`why_alive`] path.
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc};
/// let x = Gc::new(1_u32);
/// let report = debug::why_alive(&Gc::to_any(&x));
/// let step = &report.path()[0];
/// assert_eq!((step.strong_count, step.outside_refs), (1, 1)); // the local `x`
/// ```
#[derive(Clone, Debug)]
pub struct PathStep {
    /// The object.
    pub object: GcAny,
    /// Its strong count (not counting the handles this report holds).
    pub strong_count: usize,
    /// References to it that no traced object reports: locals, statics,
    /// `#[trace(skip)]` fields, forgotten handles, `gc::garbage()`.
    pub outside_refs: usize,
}

/// The answer of [`why_alive`]; its `Display` explains it in words.
///
/// # Examples
///
/// ```
/// use pygc::{debug, gc, Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node(RefCell<Option<Gc<Node>>>);
///
/// let n = Gc::new(Node(RefCell::new(None)));
/// *n.0.borrow_mut() = Some(n.clone());
/// let any = Gc::to_any(&n);
/// drop(n);                       // only the cycle and `any` hold it now
/// let report = debug::why_alive(&any);
/// assert!(!report.is_reachable()); // the next collection frees it
/// assert!(!report.held_by_garbage());
/// assert!(report.to_string().contains("unreachable"));
/// drop((any, report));          // the report holds handles too
/// assert_eq!(gc::collect(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct AliveReport {
    path: Vec<PathStep>,
    in_garbage: bool,
}

impl AliveReport {
    /// The path: the object first, then the object referring to it, and so
    /// on, ending at an object with outside references. If no object on any
    /// referrer chain has outside references the object is unreachable (it
    /// will be freed by the next collection) and the path is the object alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{debug, Gc};
    /// let x = Gc::new(1_u8);
    /// assert_eq!(debug::why_alive(&Gc::to_any(&x)).path().len(), 1);
    /// ```
    pub fn path(&self) -> &[PathStep] {
        &self.path
    }

    /// Whether the object is kept alive from outside the heap (the last
    /// step has outside references).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{debug, Gc};
    /// let x = Gc::new(1_u8);
    /// assert!(debug::why_alive(&Gc::to_any(&x)).is_reachable());
    /// ```
    pub fn is_reachable(&self) -> bool {
        self.path.last().is_some_and(|s| s.outside_refs > 0)
    }

    /// Whether the root of the path is held by `gc::garbage()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{debug, Gc};
    /// let x = Gc::new(1_u8);
    /// assert!(!debug::why_alive(&Gc::to_any(&x)).held_by_garbage());
    /// ```
    pub fn held_by_garbage(&self) -> bool {
        self.in_garbage
    }
}

impl fmt::Display for AliveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(first) = self.path.first() else {
            return Ok(());
        };
        writeln!(
            f,
            "why is <{} {:p}> alive?",
            short_type_name(first.object.type_name()),
            first.object.as_ptr()
        )?;
        for (i, step) in self.path.iter().enumerate() {
            let prefix = if i == 0 { "   " } else { "<- " };
            write!(
                f,
                "  {prefix}<{} {:p}>  strong {}, outside {}",
                short_type_name(step.object.type_name()),
                step.object.as_ptr(),
                step.strong_count,
                step.outside_refs
            )?;
            if i + 1 == self.path.len() {
                if step.outside_refs > 0 {
                    write!(
                        f,
                        "   <- held from outside the heap ({} reference{} no Trace reports{})",
                        step.outside_refs,
                        if step.outside_refs == 1 { "" } else { "s" },
                        if self.in_garbage {
                            ": gc::garbage()"
                        } else {
                            ": a variable, a static, a #[trace(skip)] field or a forgotten handle"
                        }
                    )?;
                } else {
                    write!(f, "   <- nothing outside holds it: unreachable, the next gc::collect() frees it")?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Explain what keeps `object` alive: the shortest chain of referrers back
/// to an object with outside references (the handle passed in is not
/// counted).
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
/// #[derive(Trace)]
/// struct Holder(Gc<u32>);
/// let held = Gc::new(7_u32);
/// let holder = Gc::new(Holder(held.clone()));
/// drop(held);
/// let report = debug::why_alive(&Gc::to_any(&holder.0));
/// assert_eq!(report.path().len(), 2); // the u32 <- the Holder (a local)
/// assert!(report.is_reachable());
/// println!("{report}");
/// ```
pub fn why_alive(object: &GcAny) -> AliveReport {
    let (outside, referrers) = outside_refs_and_referrers();
    let target = object.obj;
    let outside_of = |obj: ObjPtr| {
        let base = outside
            .get(&key(obj))
            .copied()
            .unwrap_or_else(|| strong_of(obj));
        // The caller's handle to the target is not a reason it is alive.
        if key(obj) == key(target) {
            base.saturating_sub(1)
        } else {
            base
        }
    };
    // Breadth-first search backwards.
    let mut parent: HashMap<usize, Option<ObjPtr>> = HashMap::new();
    let mut queue = VecDeque::new();
    parent.insert(key(target), None);
    queue.push_back(target);
    let mut root = None;
    while let Some(obj) = queue.pop_front() {
        if outside_of(obj) > 0 {
            root = Some(obj);
            break;
        }
        for &r in referrers.get(&key(obj)).map(Vec::as_slice).unwrap_or(&[]) {
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(key(r)) {
                e.insert(Some(obj));
                queue.push_back(r);
            }
        }
    }
    let mut chain = Vec::new();
    match root {
        Some(mut obj) => loop {
            chain.push(obj);
            match parent[&key(obj)] {
                Some(child) => obj = child,
                None => break,
            }
        },
        None => chain.push(target),
    }
    chain.reverse(); // target first
    let heap = heap_or_panic();
    let in_garbage =
        root.is_some_and(|r| heap.garbage.borrow().iter().any(|g| key(g.obj()) == key(r)));
    let path = chain
        .into_iter()
        .map(|obj| {
            let strong = strong_of(obj) - usize::from(key(obj) == key(target));
            PathStep {
                strong_count: strong,
                outside_refs: outside_of(obj),
                // SAFETY: live (reachable from the caller's handle or linked).
                object: unsafe { GcAny::new_ref(obj) },
            }
        })
        .collect();
    AliveReport { path, in_garbage }
}

/// One node of a [`Graph`].
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Node(RefCell<Vec<Gc<Node>>>);
///
/// let a = Gc::new(Node(RefCell::new(vec![])));
/// let b = Gc::new(Node(RefCell::new(vec![a.clone()])));
/// a.0.borrow_mut().push(b.clone());
/// let graph = debug::refs_graph(&Gc::to_any(&a), 3);
/// assert_eq!(graph.nodes[0].depth, 0);
/// assert!(graph.nodes.iter().all(|n| n.in_cycle)); // a <-> b
/// # a.0.borrow_mut().clear();
/// ```
#[derive(Clone, Debug)]
pub struct GraphNode {
    /// The object.
    pub object: GcAny,
    /// Distance from the start object.
    pub depth: usize,
    /// Its strong count (not counting the graph's own handles).
    pub strong_count: usize,
    /// Whether it lies on a cycle of the graph shown.
    pub in_cycle: bool,
}

/// An object graph for display (see [`refs_graph`], [`backrefs_graph`]).
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
///
/// #[derive(Trace)]
/// struct Pair(Gc<u8>, Gc<u8>);
///
/// let p = Gc::new(Pair(Gc::new(1), Gc::new(2)));
/// let graph = debug::refs_graph(&Gc::to_any(&p), 2);
/// assert_eq!(graph.nodes.len(), 3);
/// assert_eq!(graph.edges, [(0, 1), (0, 2)]);
/// assert!(graph.to_dot().starts_with("digraph"));
/// ```
#[derive(Clone, Debug)]
pub struct Graph {
    /// The nodes; node 0 is the start object.
    pub nodes: Vec<GraphNode>,
    /// Edges `(from, to)` as node indices: `from` holds a handle to `to`.
    pub edges: Vec<(usize, usize)>,
}

fn build_graph(start: ObjPtr, max_depth: usize, backwards: bool) -> Graph {
    let referrers = if backwards {
        Some(outside_refs_and_referrers().1)
    } else {
        None
    };
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut objs: Vec<(ObjPtr, usize)> = vec![(start, 0)];
    index.insert(key(start), 0);
    let mut edges = Vec::new();
    let mut i = 0;
    while i < objs.len() {
        let (obj, depth) = objs[i];
        if depth < max_depth {
            let next: Vec<ObjPtr> = match &referrers {
                None => edges_of(obj),
                Some(map) => map.get(&key(obj)).cloned().unwrap_or_default(),
            };
            for n in next {
                let j = *index.entry(key(n)).or_insert_with(|| {
                    objs.push((n, depth + 1));
                    objs.len() - 1
                });
                edges.push(if backwards { (j, i) } else { (i, j) });
            }
        } else {
            // Still draw edges between nodes already shown.
            let next: Vec<ObjPtr> = match &referrers {
                None => edges_of(obj),
                Some(map) => map.get(&key(obj)).cloned().unwrap_or_default(),
            };
            for n in next {
                if let Some(&j) = index.get(&key(n)) {
                    edges.push(if backwards { (j, i) } else { (i, j) });
                }
            }
        }
        i += 1;
    }
    edges.sort_unstable();
    edges.dedup();
    let in_cycle = nodes_on_cycles(objs.len(), &edges);
    let nodes = objs
        .into_iter()
        .zip(in_cycle)
        .map(|((obj, depth), in_cycle)| GraphNode {
            strong_count: strong_of(obj),
            // SAFETY: live: reachable from the start object, which the
            // caller's handle keeps alive, or linked.
            object: unsafe { GcAny::new_ref(obj) },
            depth,
            in_cycle,
        })
        .collect();
    Graph { nodes, edges }
}

/// Tarjan's strongly connected components, iteratively: a node is on a
/// cycle if its component has two nodes or more, or it has a self-edge.
fn nodes_on_cycles(n: usize, edges: &[(usize, usize)]) -> Vec<bool> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a].push(b);
    }
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut result = vec![false; n];
    let mut next_index = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut child)) = call.last_mut() {
            if *child == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if *child < adj[v].len() {
                let w = adj[v][*child];
                *child += 1;
                if index[w] == usize::MAX {
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("tarjan stack");
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let cyclic = component.len() > 1 || adj[v].contains(&v);
                    for w in component {
                        result[w] = cyclic;
                    }
                }
            }
        }
    }
    result
}

/// The objects reachable from `root` within `max_depth` edges
/// (objgraph's `show_refs`).
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
/// #[derive(Trace)]
/// struct Pair(Gc<i32>, Gc<i32>);
/// let p = Gc::new(Pair(Gc::new(1), Gc::new(2)));
/// let g = debug::refs_graph(&Gc::to_any(&p), 1);
/// assert_eq!(g.nodes.len(), 3);
/// assert_eq!(g.edges.len(), 2);
/// ```
pub fn refs_graph(root: &GcAny, max_depth: usize) -> Graph {
    let mut g = build_graph(root.obj, max_depth, false);
    // Do not count the caller's handle.
    g.nodes[0].strong_count -= 1;
    g
}

/// The tracked objects that refer to `target`, transitively, within
/// `max_depth` edges (objgraph's `show_backrefs`).
///
/// # Examples
///
/// ```
/// use pygc::{debug, Gc, Trace};
/// #[derive(Trace)]
/// struct Holder(Gc<i32>);
/// let x = Gc::new(1);
/// let _h = Gc::new(Holder(x.clone()));
/// let g = debug::backrefs_graph(&Gc::to_any(&x), 2);
/// assert_eq!(g.nodes.len(), 2);
/// assert_eq!(g.edges, vec![(1, 0)]);
/// ```
pub fn backrefs_graph(target: &GcAny, max_depth: usize) -> Graph {
    let mut g = build_graph(target.obj, max_depth, true);
    g.nodes[0].strong_count -= 1;
    g
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Graph {
    /// Graphviz DOT: one box per object (short type name, strong count,
    /// address); the start object in green, objects on a cycle in red.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{debug, Gc};
    /// let g = debug::refs_graph(&Gc::to_any(&Gc::new(1)), 1);
    /// assert!(g.to_dot().starts_with("digraph objgraph {"));
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph objgraph {\n");
        out.push_str("  node [shape=box, style=\"filled,rounded\", fontname=\"Helvetica\", fillcolor=\"#f4f4f4\"];\n");
        out.push_str("  edge [color=\"#555555\"];\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let color = if n.in_cycle {
                "#ffb3b3"
            } else if i == 0 {
                "#b8e6b8"
            } else {
                "#f4f4f4"
            };
            out.push_str(&format!(
                "  n{i} [label=\"{}\\nstrong {}\\n{:p}\", fillcolor=\"{color}\"{}];\n",
                escape(&short_type_name(n.object.type_name())),
                n.strong_count,
                n.object.as_ptr(),
                if i == 0 { ", penwidth=2" } else { "" }
            ));
        }
        for &(a, b) in &self.edges {
            let cyclic = self.nodes[a].in_cycle && self.nodes[b].in_cycle;
            out.push_str(&format!(
                "  n{a} -> n{b}{};\n",
                if cyclic {
                    " [color=\"#cc0000\", penwidth=2]"
                } else {
                    ""
                }
            ));
        }
        out.push_str("}\n");
        out
    }

    /// Render with Graphviz's `dot -Tsvg`. `Ok(None)` when `dot` is not
    /// installed (`apt-get install graphviz`).
    ///
    /// # Errors
    ///
    /// When `dot` runs but fails (its stderr is in the error).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{debug, Gc};
    /// let g = debug::refs_graph(&Gc::to_any(&Gc::new(1)), 1);
    /// if let Some(svg) = g.to_svg().unwrap() {
    ///     assert!(svg.contains("<svg"));
    /// }
    /// ```
    pub fn to_svg(&self) -> std::io::Result<Option<String>> {
        dot_to_svg(&self.to_dot())
    }
}

/// Run `dot -Tsvg` on a DOT text; `Ok(None)` when `dot` is not installed.
///
/// # Errors
///
/// When `dot` runs but rejects the input.
///
/// # Examples
///
/// ```
/// let _ = pygc::debug::dot_to_svg("digraph { a -> b }");
/// ```
pub fn dot_to_svg(dot: &str) -> std::io::Result<Option<String>> {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(dot.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "dot failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
}
