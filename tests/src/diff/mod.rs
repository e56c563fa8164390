//! Differential testing against CPython: the same random object-graph
//! program runs on our per-thread heap ([`run_rust`]) and under CPython's
//! real `gc` (`tests/diff_runner.py`, via [`run_python`]); both print a
//! canonical trace, which must be identical line for line.
//!
//! The model oracle in [`crate::model`] was written from our own reading of
//! CPython; this harness asks CPython itself.
//!
//! # Programs
//!
//! A [`Program`] is a list of text ops (the wire format both runners read,
//! one op per line):
//!
//! | op | meaning | result |
//! |---|---|---|
//! | `new K A..` | allocate node `n` (= number of nodes so far) of kind `K` (`p` no finalizer, `f` PEP 442, `l` legacy `tp_del`), root it in `roots[n]`; `A..` are its finalizer actions | `n<id>` |
//! | `edge a k b` | `roots[a].e[k] = roots[b]` (four edge slots per node) | `ok` / `skip` |
//! | `unedge a k` | `roots[a].e[k] = None` | `ok` / `skip` |
//! | `drop a` | `roots[a] = None` | `ok` / `skip` |
//! | `root a k` | root the node at `roots[a].e[k]` in its own slot | `ok` / `skip` |
//! | `weak a c` | a new weak handle (slot `w` = number of weak slots so far) to `roots[a]`, with a callback if `c` is 1 | `w<slot>` / `skip` |
//! | `unweak w` | drop weak handle `w` (cancels its callback) | `ok` / `skip` |
//! | `probe w` | upgrade weak handle `w` and drop the result at once | node id, `-` (dead) or `x` (no handle) |
//! | `wcount a` | live weak handles to `roots[a]` (`weakref.getweakrefcount`) | a number |
//! | `collect g` | `gc.collect(g)` for `g` in `0 1 2`, or `full` (`gc.collect()`) | `c<found>` and, per generation and for `gc.garbage`, the sorted ids of the nodes on it |
//!
//! An op whose operands are not rooted (or whose slot is empty) does nothing
//! and reports `skip`: the generator does not need to track liveness.
//! Finalizer actions, run in order when the node's finalizer runs: `w<slot>`
//! probes a weak handle (its result is part of the event), `s` resurrects
//! the node itself (`roots[id] = self` in Python, [`Gc::from_finalizing`] in
//! Rust), `c<k>` resurrects the child on edge `k` (roots it).
//!
//! Each op prints `i op => result [events]`, where `events` are the
//! finalizer runs (`fin<id>(probes)`) and weak callbacks (`cb<slot>`) that
//! happened during the op, sorted (see below why the order is not compared).
//! Every generated program ends with a full collection.
//!
//! # What the two cannot compare, and why
//!
//! * **Order of events within one op**: CPython's `list_dealloc` releases a
//!   list's items last to first, our node's array drops first to last, and
//!   which of two finalizers or callbacks runs first in a collection depends
//!   on list order details; so each op's events are compared as a sorted
//!   set. (Each node finalizes at most once and each callback runs at most
//!   once, so the set is exact.)
//! * **Weak handles inside nodes**: a CPython weakref is an object, counted
//!   by `gc.collect()` when it is trash; ours are not heap objects (DESIGN.md,
//!   "Known deviations"). Weak handles therefore live only in the runner.
//! * **`gc.get_count()`, `gc.get_stats()`**: CPython counts every container
//!   the runner allocates (lists, closures, weakrefs), we count nodes.
//!   Collection results and generation membership of nodes are compared
//!   instead.
//! * **Weak handles made inside a finalizer to cyclic trash**: CPython lets
//!   such a new weakref upgrade while finalizers run; ours refuses any
//!   upgrade to trash until the collection has decided it survives (header
//!   I2). Finalizer actions therefore only probe existing handles.
//! * **Legacy finalizers** need `_testcapi.with_tp_del`; without the module
//!   the generator leaves legacy nodes out.
//!
//! # Running it
//!
//! `cargo test -p gc-tests --test diff` runs the fixed CI seeds (skipped with
//! a notice when `python3` is missing). Thousands by hand:
//!
//! ```text
//! GC_DIFF_SEEDS=0..5000 cargo test -p gc-tests --release --test diff -- --ignored --nocapture
//! ```
//!
//! prints the agreement count and the first disagreement of each failing
//! seed (`GC_DIFF_SHOW=<seed>` prints one program with both traces).

use pygc::{gc, Finalize, Gc, GcAny, Trace, Weak};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::process::{Command, Stdio};

/// Edge slots per node.
pub const EDGES: usize = 4;

/// A program: ops in the wire format (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// The ops, one per line, without the final `end`.
    pub ops: Vec<String>,
}

impl Program {
    /// The same program with every collection a full one (`collect full`):
    /// what the incremental mode must agree with CPython on (its
    /// `collect_generation(0/1)` are PEP 848's young collection and
    /// increment, which CPython 3.11 does not have).
    pub fn full_collections_only(&self) -> Program {
        let ops = self
            .ops
            .iter()
            .map(|op| {
                if op.starts_with("collect ") {
                    "collect full".to_string()
                } else {
                    op.clone()
                }
            })
            .collect();
        Program { ops }
    }

    /// The wire format: the ops, then `end`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for op in &self.ops {
            s.push_str(op);
            s.push('\n');
        }
        s.push_str("end\n");
        s
    }
}

/// SplitMix64: a tiny deterministic generator, so a seed names a program
/// forever (no dependency whose stream could change).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Generate the program of `seed`. With `legacy` false no node has a legacy
/// finalizer (CPython without `_testcapi`).
pub fn generate(seed: u64, legacy: bool) -> Program {
    let mut rng = Rng(seed ^ 0x005E_ED0F_D1FF);
    let len = 12 + rng.below(48);
    let mut nodes = 0usize;
    let mut weaks = 0usize;
    let mut ops = Vec::with_capacity(len + 1);
    let node = |rng: &mut Rng, nodes: usize| rng.below(nodes.max(1));
    for _ in 0..len {
        let roll = rng.below(100);
        let op = if nodes == 0 || (roll < 18 && nodes < 10) {
            let kind = match rng.below(if legacy { 10 } else { 8 }) {
                0..=3 => "p",
                4..=7 => "f",
                _ => "l",
            };
            let mut op = format!("new {kind}");
            if kind != "p" {
                for _ in 0..rng.below(4) {
                    match rng.below(4) {
                        0 | 1 => op.push_str(&format!(" w{}", rng.below(weaks + 3))),
                        2 => op.push_str(" s"),
                        _ => op.push_str(&format!(" c{}", rng.below(EDGES))),
                    }
                }
            }
            nodes += 1;
            op
        } else if roll < 40 {
            let (a, b) = (node(&mut rng, nodes), node(&mut rng, nodes));
            format!("edge {a} {} {b}", rng.below(EDGES))
        } else if roll < 46 {
            format!("unedge {} {}", node(&mut rng, nodes), rng.below(EDGES))
        } else if roll < 56 {
            format!("drop {}", node(&mut rng, nodes))
        } else if roll < 60 {
            format!("root {} {}", node(&mut rng, nodes), rng.below(EDGES))
        } else if roll < 70 {
            weaks += 1;
            format!("weak {} {}", node(&mut rng, nodes), rng.below(2))
        } else if roll < 73 && weaks > 0 {
            format!("unweak {}", rng.below(weaks))
        } else if roll < 83 {
            format!("probe {}", rng.below(weaks + 1))
        } else if roll < 87 {
            format!("wcount {}", node(&mut rng, nodes))
        } else {
            match rng.below(4) {
                3 => "collect full".to_string(),
                g => format!("collect {g}"),
            }
        };
        ops.push(op);
    }
    ops.push("collect full".to_string());
    Program { ops }
}

// ---------------------------------------------------------------------------
// The Rust runner
// ---------------------------------------------------------------------------

/// What every node holds: its id and four edge slots.
#[derive(Trace)]
pub struct Body {
    id: usize,
    edges: RefCell<[Option<Node>; EDGES]>,
}

/// A node without a finalizer.
#[derive(Trace)]
pub struct Plain(Body);

/// A node with a PEP 442 finalizer.
#[derive(Trace)]
#[trace(finalize)]
pub struct Pep(Body);

/// A node with a legacy (`tp_del`) finalizer.
#[derive(Trace)]
#[trace(legacy_finalize)]
pub struct Leg(Body);

/// A strong handle to a node of any kind.
#[derive(Trace, Clone)]
pub enum Node {
    /// No finalizer.
    P(Gc<Plain>),
    /// PEP 442.
    F(Gc<Pep>),
    /// Legacy.
    L(Gc<Leg>),
}

/// A weak handle to a node of any kind.
#[derive(Clone)]
enum WeakNode {
    P(Weak<Plain>),
    F(Weak<Pep>),
    L(Weak<Leg>),
}

impl Node {
    fn body(&self) -> &Body {
        match self {
            Node::P(g) => &g.0,
            Node::F(g) => &g.0,
            Node::L(g) => &g.0,
        }
    }
    fn downgrade(&self, callback: Option<Box<dyn FnOnce()>>) -> WeakNode {
        match (self, callback) {
            (Node::P(g), None) => WeakNode::P(Gc::downgrade(g)),
            (Node::F(g), None) => WeakNode::F(Gc::downgrade(g)),
            (Node::L(g), None) => WeakNode::L(Gc::downgrade(g)),
            (Node::P(g), Some(cb)) => WeakNode::P(Gc::downgrade_with_callback(g, cb)),
            (Node::F(g), Some(cb)) => WeakNode::F(Gc::downgrade_with_callback(g, cb)),
            (Node::L(g), Some(cb)) => WeakNode::L(Gc::downgrade_with_callback(g, cb)),
        }
    }
    fn weak_count(&self) -> usize {
        match self {
            Node::P(g) => Gc::weak_count(g),
            Node::F(g) => Gc::weak_count(g),
            Node::L(g) => Gc::weak_count(g),
        }
    }
    fn from_any(any: GcAny) -> Option<Node> {
        let any = match any.downcast::<Plain>() {
            Ok(g) => return Some(Node::P(g)),
            Err(a) => a,
        };
        let any = match any.downcast::<Pep>() {
            Ok(g) => return Some(Node::F(g)),
            Err(a) => a,
        };
        any.downcast::<Leg>().ok().map(Node::L)
    }
}

impl WeakNode {
    fn upgrade(&self) -> Option<Node> {
        match self {
            WeakNode::P(w) => w.upgrade().map(Node::P),
            WeakNode::F(w) => w.upgrade().map(Node::F),
            WeakNode::L(w) => w.upgrade().map(Node::L),
        }
    }
}

thread_local! {
    static ROOTS: RefCell<Vec<Option<Node>>> = const { RefCell::new(Vec::new()) };
    static WEAKS: RefCell<Vec<Option<WeakNode>>> = const { RefCell::new(Vec::new()) };
    static ACTS: RefCell<Vec<Vec<String>>> = const { RefCell::new(Vec::new()) };
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static CLEANING: Cell<bool> = const { Cell::new(false) };
}

/// `roots[id] = node`, dropping the old handle outside the borrow.
fn set_root(id: usize, node: Option<Node>) {
    let old = ROOTS.with(|r| std::mem::replace(&mut r.borrow_mut()[id], node));
    drop(old);
}

fn root(id: usize) -> Option<Node> {
    ROOTS.with(|r| r.borrow().get(id).cloned().flatten())
}

fn probe(w: usize) -> String {
    let weak = WEAKS.with(|ws| ws.borrow().get(w).cloned().flatten());
    let Some(weak) = weak else {
        return "x".to_string();
    };
    let seen = weak.upgrade();
    let out = seen
        .as_ref()
        .map_or("-".to_string(), |n| n.body().id.to_string());
    drop(seen);
    drop(weak);
    out
}

/// The shared finalizer: run the node's actions, record the event.
fn finalize_node(body: &Body, me: impl FnOnce() -> Option<Node>) {
    if CLEANING.with(Cell::get) {
        return;
    }
    let acts = ACTS.with(|a| a.borrow()[body.id].clone());
    let mut me = Some(me);
    let mut parts = Vec::new();
    for act in &acts {
        if let Some(w) = act.strip_prefix('w') {
            let w: usize = w.parse().expect("weak slot");
            parts.push(format!("w{w}={}", probe(w)));
        } else if act == "s" {
            if let Some(node) = me.take().and_then(|f| f()) {
                set_root(body.id, Some(node));
            }
        } else if let Some(k) = act.strip_prefix('c') {
            let k: usize = k.parse().expect("edge slot");
            let child = body.edges.borrow()[k].clone();
            if let Some(child) = child {
                set_root(child.body().id, Some(child));
            }
        }
    }
    EVENTS.with(|e| {
        e.borrow_mut()
            .push(format!("fin{}({})", body.id, parts.join(",")))
    });
}

impl Finalize for Pep {
    fn finalize(&self) {
        finalize_node(&self.0, || Gc::from_finalizing(self).map(Node::F));
    }
}

impl Finalize for Leg {
    fn finalize(&self) {
        finalize_node(&self.0, || Gc::from_finalizing(self).map(Node::L));
    }
}

fn ids(objects: Vec<GcAny>) -> String {
    let mut ids: Vec<usize> = objects
        .into_iter()
        .filter_map(Node::from_any)
        .map(|n| n.body().id)
        .collect();
    ids.sort_unstable();
    let ids: Vec<String> = ids.iter().map(usize::to_string).collect();
    format!("[{}]", ids.join(","))
}

fn snapshot() -> String {
    let gens: Vec<String> = (0..3)
        .map(|g| format!("g{g}={}", ids(gc::get_objects(Some(g)))))
        .collect();
    format!("{} garbage={}", gens.join(" "), ids(gc::garbage()))
}

fn edge(node: &Node, k: &str) -> usize {
    let k: usize = k.parse().expect("edge slot");
    assert!(k < EDGES, "edge slot {k}");
    let _ = node;
    k
}

fn run_op(words: &[&str]) -> String {
    let num = |i: usize| -> usize { words[i].parse().expect("number") };
    match words[0] {
        "new" => {
            let id = ROOTS.with(|r| r.borrow().len());
            let body = Body {
                id,
                edges: RefCell::new(Default::default()),
            };
            let node = match words[1] {
                "p" => Node::P(Gc::new(Plain(body))),
                "f" => Node::F(Gc::new(Pep(body))),
                "l" => Node::L(Gc::new(Leg(body))),
                k => panic!("unknown kind {k}"),
            };
            ACTS.with(|a| {
                a.borrow_mut()
                    .push(words[2..].iter().map(|s| s.to_string()).collect())
            });
            ROOTS.with(|r| r.borrow_mut().push(Some(node)));
            format!("n{id}")
        }
        "edge" => {
            let (Some(a), Some(b)) = (root(num(1)), root(num(3))) else {
                return "skip".into();
            };
            let k = edge(&a, words[2]);
            let old = a.body().edges.borrow_mut()[k].replace(b);
            drop(old);
            "ok".into()
        }
        "unedge" => {
            let Some(a) = root(num(1)) else {
                return "skip".into();
            };
            let k = edge(&a, words[2]);
            let old = a.body().edges.borrow_mut()[k].take();
            drop(a);
            drop(old);
            "ok".into()
        }
        "drop" => {
            if root(num(1)).is_none() {
                return "skip".into();
            }
            set_root(num(1), None);
            "ok".into()
        }
        "root" => {
            let Some(a) = root(num(1)) else {
                return "skip".into();
            };
            let k = edge(&a, words[2]);
            let child = a.body().edges.borrow()[k].clone();
            drop(a);
            match child {
                Some(c) => {
                    set_root(c.body().id, Some(c));
                    "ok".into()
                }
                None => "skip".into(),
            }
        }
        "weak" => {
            let w = WEAKS.with(|ws| ws.borrow().len());
            let Some(a) = root(num(1)) else {
                WEAKS.with(|ws| ws.borrow_mut().push(None));
                return "skip".into();
            };
            let callback: Option<Box<dyn FnOnce()>> = (words[2] == "1").then(|| {
                Box::new(move || {
                    if !CLEANING.with(Cell::get) {
                        EVENTS.with(|e| e.borrow_mut().push(format!("cb{w}")));
                    }
                }) as Box<dyn FnOnce()>
            });
            let weak = a.downgrade(callback);
            drop(a);
            WEAKS.with(|ws| ws.borrow_mut().push(Some(weak)));
            format!("w{w}")
        }
        "unweak" => {
            let old = WEAKS.with(|ws| ws.borrow_mut()[num(1)].take());
            match old {
                Some(weak) => {
                    drop(weak);
                    "ok".into()
                }
                None => "skip".into(),
            }
        }
        "probe" => probe(num(1)),
        "wcount" => match root(num(1)) {
            // The handle `root` made is strong, not weak: no effect on the count.
            Some(a) => a.weak_count().to_string(),
            None => "skip".into(),
        },
        "collect" => {
            let n = match words[1] {
                "full" => gc::collect(),
                g => gc::collect_generation(g.parse().expect("generation")),
            };
            format!("c{n} {}", snapshot())
        }
        op => panic!("unknown op {op}"),
    }
}

/// Drop everything the program left, breaking leftover cycles (legacy
/// garbage), so the thread's heap ends empty.
fn cleanup() {
    CLEANING.with(|c| c.set(true));
    let roots = ROOTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    drop(roots);
    let weaks = WEAKS.with(|w| std::mem::take(&mut *w.borrow_mut()));
    drop(weaks);
    for _ in 0..10 {
        gc::collect();
        let left: Vec<Node> = gc::get_objects(None)
            .into_iter()
            .filter_map(Node::from_any)
            .collect();
        for node in &left {
            let old = std::mem::take(&mut *node.body().edges.borrow_mut());
            drop(old);
        }
        drop(left);
        drop(gc::take_garbage());
    }
    ACTS.with(|a| a.borrow_mut().clear());
    EVENTS.with(|e| e.borrow_mut().clear());
    CLEANING.with(|c| c.set(false));
}

/// Run `program` on a fresh per-thread heap (a new thread) with automatic
/// collection off; returns its trace lines.
pub fn run_rust(program: &Program) -> Vec<String> {
    run_rust_in(program, gc::Mode::Generational)
}

/// [`run_rust`] with the collector in `mode` (set before the first object
/// is made).
pub fn run_rust_in(program: &Program, mode: gc::Mode) -> Vec<String> {
    let program = program.clone();
    std::thread::spawn(move || {
        gc::disable();
        gc::set_mode(mode);
        let mut out = Vec::with_capacity(program.ops.len());
        for (i, op) in program.ops.iter().enumerate() {
            let words: Vec<&str> = op.split_whitespace().collect();
            let result = run_op(&words);
            let mut events = EVENTS.with(|e| std::mem::take(&mut *e.borrow_mut()));
            events.sort();
            out.push(format!("{i} {op} => {result} [{}]", events.join(" ")));
        }
        cleanup();
        out
    })
    .join()
    .expect("the Rust runner panicked")
}

/// The path of the Python runner.
pub fn python_runner() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("diff_runner.py")
}

/// Whether `python3` runs, and whether it has `_testcapi.with_tp_del`
/// (needed for legacy nodes): `None` if there is no usable `python3`.
pub fn python_capabilities() -> Option<bool> {
    let out = Command::new("python3")
        .args(["-c", "import _testcapi; _testcapi.with_tp_del"])
        .output()
        .ok()?;
    if out.status.success() {
        return Some(true);
    }
    let plain = Command::new("python3").args(["-c", "pass"]).output().ok()?;
    plain.status.success().then_some(false)
}

/// Run `programs` in one CPython process; returns each program's trace.
pub fn run_python(programs: &[Program]) -> Vec<Vec<String>> {
    let mut child = Command::new("python3")
        .arg(python_runner())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let input: String = programs.iter().map(Program::to_text).collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write programs");
    });
    let out = child.wait_with_output().expect("python3 output");
    writer.join().expect("writer");
    assert!(out.status.success(), "the Python runner failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut traces = vec![Vec::new()];
    for line in text.lines() {
        if line == "end" {
            traces.push(Vec::new());
        } else {
            traces.last_mut().expect("a trace").push(line.to_string());
        }
    }
    traces.pop();
    assert_eq!(traces.len(), programs.len(), "one trace per program");
    traces
}

/// The first line where two traces differ: (line index, CPython's, ours).
pub fn first_difference(python: &[String], rust: &[String]) -> Option<(usize, String, String)> {
    let n = python.len().max(rust.len());
    (0..n).find_map(|i| {
        let p = python.get(i).cloned().unwrap_or_default();
        let r = rust.get(i).cloned().unwrap_or_default();
        (p != r).then_some((i, p, r))
    })
}

/// Outcome of a batch of seeds.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Programs run.
    pub programs: usize,
    /// Programs whose traces agree.
    pub agreed: usize,
    /// Per disagreeing seed: the first differing line (CPython's, ours).
    pub disagreements: Vec<(u64, usize, String, String)>,
}

/// Run the seeds in `seeds` on both sides (CPython in batches of `batch`
/// programs per process) and compare.
pub fn run_seeds(seeds: impl IntoIterator<Item = u64>, legacy: bool, batch: usize) -> Outcome {
    run_seeds_in(seeds, legacy, batch, gc::Mode::Generational)
}

/// [`run_seeds`] with our collector in `mode`. In
/// [`Mode::Incremental`](gc::Mode::Incremental) every program's collections
/// are full ones ([`Program::full_collections_only`]): those are what the
/// mode must agree with CPython on; its young collections and increments
/// are checked by the model oracle instead (no reachable object freed,
/// every garbage cycle freed within one sweep).
pub fn run_seeds_in(
    seeds: impl IntoIterator<Item = u64>,
    legacy: bool,
    batch: usize,
    mode: gc::Mode,
) -> Outcome {
    let seeds: Vec<u64> = seeds.into_iter().collect();
    let mut outcome = Outcome::default();
    for chunk in seeds.chunks(batch.max(1)) {
        let programs: Vec<Program> = chunk
            .iter()
            .map(|&s| {
                let p = generate(s, legacy);
                match mode {
                    gc::Mode::Incremental => p.full_collections_only(),
                    _ => p,
                }
            })
            .collect();
        let python = run_python(&programs);
        for ((seed, program), py) in chunk.iter().zip(&programs).zip(&python) {
            let rust = run_rust_in(program, mode);
            outcome.programs += 1;
            match first_difference(py, &rust) {
                None => outcome.agreed += 1,
                Some((line, p, r)) => outcome.disagreements.push((*seed, line, p, r)),
            }
        }
    }
    outcome
}
