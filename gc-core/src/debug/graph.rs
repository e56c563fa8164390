//! Object graphs for display: [`refs_graph`], [`backrefs_graph`], DOT and
//! SVG output.

use super::walk::{edges_of, key, outside_refs_and_referrers, short_type_name, strong_of};
use crate::handle::any::GcAny;
use crate::heap::header::ObjPtr;
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

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
            // SAFETY: I1, I4: live: reachable from the start object, which the
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
