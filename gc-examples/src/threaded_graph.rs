//! A graph shared by several threads on the thread-safe heap
//! ([`pygc::sync`]): nodes made on one thread point at nodes made on
//! others, cycles cross threads, and the collector frees them whichever
//! thread drops the last outside handle.
//!
//! Two parts:
//!
//! * [`ring`]: each of `threads` threads makes one node, and links it to
//!   the node its neighbour made (handed over through a channel): a cycle
//!   through every thread. Every thread drops its handles; one
//!   [`sync::gc::collect`] frees the ring.
//! * [`churn`]: worker threads share a registry of slots. Each makes nodes
//!   with edges to nodes in random slots (often another thread's), adds
//!   edges between slotted nodes (closing cycles across threads), replaces
//!   slots (dropping nodes into cyclic garbage) and walks the graph, while a
//!   collector thread calls [`sync::gc::collect`] in a loop and automatic
//!   collection runs as well. Afterwards exactly the nodes reachable from
//!   the registry are alive.
//!
//! [`live_nodes`] counts nodes alive in the process (a drop counter in
//! every [`Node`]). Mutable edges live in a [`GcMutex`], as the sync heap
//! requires; no code here holds two guards at once.
//!
//! ```sh
//! cargo run -p gc-examples --example threaded_graph
//! ```
//!
//! # Examples
//!
//! ```
//! use gc_examples::threaded_graph::{live_nodes, ring};
//! assert_eq!(ring(3), 3); // collected
//! assert_eq!(live_nodes(), 0);
//! ```

use pygc::gc::Phase;
use pygc::sync::{self, Gc, GcMutex};
use pygc::Trace;
use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Nodes alive in the process.
///
/// # Examples
///
/// ```
/// use gc_examples::threaded_graph::{live_nodes, Node};
/// let n = Node::new(0, 0);
/// assert_eq!(live_nodes(), 1);
/// drop(n);
/// assert_eq!(live_nodes(), 0);
/// ```
pub fn live_nodes() -> usize {
    LIVE.load(Ordering::SeqCst)
}

struct Live;

impl Live {
    fn new() -> Live {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A node of the shared graph.
#[derive(Trace)]
pub struct Node {
    /// Unique within a run.
    pub id: usize,
    /// The thread that made it.
    pub thread: usize,
    /// `id` scrambled: a walker checks it to see that a node it reached is
    /// intact (a freed node would not be).
    check: usize,
    /// Outgoing edges.
    pub edges: GcMutex<Vec<Gc<Node>>>,
    #[trace(skip)]
    _live: Live,
}

const SCRAMBLE: usize = 0x9E37_79B9;

/// Edges a node keeps in [`churn`] (the oldest goes first).
pub const MAX_EDGES: usize = 2;

impl Node {
    /// A node without edges.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = gc_examples::threaded_graph::Node::new(7, 1);
    /// assert_eq!((n.id, n.thread), (7, 1));
    /// assert!(n.edges.lock().is_empty());
    /// ```
    pub fn new(id: usize, thread: usize) -> Gc<Node> {
        Gc::new(Node {
            id,
            thread,
            check: id ^ SCRAMBLE,
            edges: GcMutex::new(Vec::new()),
            _live: Live::new(),
        })
    }

    fn assert_intact(&self) {
        assert_eq!(self.id ^ SCRAMBLE, self.check, "reached a broken node");
    }
}

/// Make a ring through `threads` threads (each makes a node and points it
/// at the previous thread's), drop every handle, and collect; returns what
/// [`sync::gc::collect`] found.
///
/// # Examples
///
/// See the [module](self) example.
pub fn ring(threads: usize) -> usize {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::channel::<Gc<Node>>()).unzip();
    let workers: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, rx)| {
            let next = senders[(t + 1) % threads].clone();
            thread::spawn(move || {
                let mine = Node::new(t, t);
                next.send(mine.clone()).expect("the neighbour is alive");
                let previous = rx.recv().expect("the neighbour sends");
                mine.edges.lock().push(previous); // thread t -> thread t-1
            })
        })
        .collect();
    drop(senders);
    for w in workers {
        w.join().expect("a ring thread panicked");
    }
    sync::gc::collect()
}

/// What [`churn`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChurnReport {
    /// Nodes made.
    pub created: usize,
    /// Edges whose ends were made by different threads, made during the run.
    pub cross_thread_edges: usize,
    /// Collections (the collector thread's and automatic ones) that ran
    /// while the workers ran, from `gc` callbacks.
    pub collections_during_run: usize,
    /// Objects they collected.
    pub collected_during_run: usize,
    /// Objects collected by every collection of the run, the final ones
    /// included.
    pub collected: usize,
    /// Nodes reachable from the registry once the threads are done and a
    /// final collection ran.
    pub reachable: usize,
    /// Nodes alive then ([`live_nodes`]): equal to `reachable`.
    pub live: usize,
    /// Nodes alive once the registry is dropped and collected.
    pub live_after_drop: usize,
}

/// A small xorshift generator, seeded per thread (deterministic choices).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The shared registry: slots of nodes.
type Registry = Gc<GcMutex<Vec<Gc<Node>>>>;

fn slot(registry: &Registry, i: usize) -> Gc<Node> {
    registry.lock()[i].clone()
}

/// Walk up to `steps` edges from `from`, checking each node reached.
fn walk(from: Gc<Node>, rng: &mut Rng, steps: usize) {
    let mut at = from;
    for _ in 0..steps {
        at.assert_intact();
        let edges = at.edges.lock().clone();
        if edges.is_empty() {
            return;
        }
        at = edges[rng.below(edges.len())].clone();
    }
    at.assert_intact();
}

/// Run `threads` workers for `ops` operations each over a registry of
/// `slots` slots, with a collector thread collecting throughout; then check
/// that exactly the reachable nodes are alive, drop everything and collect.
///
/// Call it when nothing else uses the sync heap (it reads the process-wide
/// [`live_nodes`] and counts every collection).
///
/// # Examples
///
/// ```
/// let r = gc_examples::threaded_graph::churn(2, 200, 16);
/// assert_eq!(r.live, r.reachable);
/// assert_eq!(r.live_after_drop, 0);
/// ```
pub fn churn(threads: usize, ops: usize, slots: usize) -> ChurnReport {
    let collections = Arc::new(AtomicUsize::new(0));
    let collected = Arc::new(AtomicUsize::new(0));
    let callback = {
        let (collections, collected) = (collections.clone(), collected.clone());
        sync::gc::add_callback(move |phase, info| {
            if phase == Phase::Stop {
                collections.fetch_add(1, Ordering::SeqCst);
                collected.fetch_add(info.collected, Ordering::SeqCst);
            }
        })
    };
    let registry: Registry = Gc::new(GcMutex::new(
        (0..slots).map(|i| Node::new(i, threads)).collect(),
    ));
    let next_id = Arc::new(AtomicUsize::new(slots));
    let cross = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let collector = {
        let (stop, barrier) = (stop.clone(), barrier.clone());
        thread::spawn(move || {
            barrier.wait();
            while !stop.load(Ordering::SeqCst) {
                sync::gc::collect();
                thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (registry, next_id, cross, barrier) = (
                registry.clone(),
                next_id.clone(),
                cross.clone(),
                barrier.clone(),
            );
            thread::spawn(move || {
                let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ ((t as u64 + 1) * 0x9E37));
                barrier.wait();
                for _ in 0..ops {
                    match rng.below(4) {
                        // A new node replaces a slot's: the old one becomes
                        // garbage unless an edge still reaches it.
                        0 => {
                            let id = next_id.fetch_add(1, Ordering::SeqCst);
                            let node = Node::new(id, t);
                            let i = rng.below(slots);
                            let old = std::mem::replace(&mut registry.lock()[i], node);
                            drop(old); // outside the guard
                        }
                        // An edge between two slotted nodes (often made by
                        // different threads): cycles. A node keeps its last
                        // MAX_EDGES edges.
                        1 | 2 => {
                            let from = slot(&registry, rng.below(slots));
                            let to = slot(&registry, rng.below(slots));
                            if from.thread != to.thread {
                                cross.fetch_add(1, Ordering::SeqCst);
                            }
                            let mut edges = from.edges.lock();
                            edges.push(to);
                            let dropped = if edges.len() > MAX_EDGES {
                                Some(edges.remove(0))
                            } else {
                                None
                            };
                            drop(edges);
                            drop(dropped); // outside the guard
                        }
                        _ => walk(slot(&registry, rng.below(slots)), &mut rng, 8),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a worker panicked");
    }
    stop.store(true, Ordering::SeqCst);
    collector.join().expect("the collector thread panicked");
    let collected_during_run = collected.load(Ordering::SeqCst);
    let collections_during_run = collections.load(Ordering::SeqCst);
    sync::gc::collect();

    // Everything reachable from the registry, by a walk of its edges.
    let mut seen = HashSet::new();
    let mut stack = registry.lock().clone();
    while let Some(node) = stack.pop() {
        node.assert_intact();
        if seen.insert(node.id) {
            stack.extend(node.edges.lock().iter().cloned());
        }
    }
    let reachable = seen.len();
    let live = live_nodes();
    drop(registry);
    sync::gc::collect();
    sync::gc::remove_callback(callback);
    ChurnReport {
        created: next_id.load(Ordering::SeqCst),
        cross_thread_edges: cross.load(Ordering::SeqCst),
        collections_during_run,
        collected_during_run,
        collected: collected.load(Ordering::SeqCst),
        reachable,
        live,
        live_after_drop: live_nodes(),
    }
}

/// What [`run`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What collecting the 4-thread ring found.
    pub ring_collected: usize,
    /// Nodes alive after the ring was collected.
    pub after_ring: usize,
    /// The churn run (4 workers, 20 000 operations each, 64 slots).
    pub churn: ChurnReport,
}

/// Run [`ring`] over 4 threads and [`churn`] with 4 workers, printing what
/// they saw.
///
/// # Errors
///
/// Any error of the writer.
///
/// # Examples
///
/// ```no_run
/// let r = gc_examples::threaded_graph::run(&mut std::io::stdout()).unwrap();
/// assert_eq!(r.ring_collected, 4);
/// ```
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    writeln!(
        out,
        "== threaded graph: cycles across threads on the sync heap =="
    )?;
    sync::gc::collect();
    let ring_collected = ring(4);
    let after_ring = live_nodes();
    writeln!(
        out,
        "ring through 4 threads, every handle dropped: sync::gc::collect() -> {ring_collected}; {after_ring} nodes alive"
    )?;
    let churn = churn(4, 20_000, 64);
    writeln!(
        out,
        "churn: 4 workers made {} nodes, {} cross-thread edges, while a collector thread ran",
        churn.created, churn.cross_thread_edges
    )?;
    writeln!(
        out,
        "churn: {} collections while the workers ran collected {} objects; after a final collection {} nodes alive, {} reachable from the registry",
        churn.collections_during_run, churn.collected_during_run, churn.live, churn.reachable
    )?;
    writeln!(
        out,
        "churn: registry dropped and collected: {} nodes alive",
        churn.live_after_drop
    )?;
    writeln!(out)?;
    Ok(Report {
        ring_collected,
        after_ring,
        churn,
    })
}
