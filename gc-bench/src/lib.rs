//! Shared workload shapes for the `gc-bench` benchmarks and the `rss` binary.
//!
//! Every contender (pygc, `Rc`, and the peer crates in the benchmarks)
//! builds the *same* object graphs: [`shapes!`] stamps out the node types
//! and builders for one handle type and one interior-mutability cell, so a
//! difference in the figures is a difference in the memory manager, not in
//! the workload. The benchmarks live in `benches/workloads/`; results and
//! the command to reproduce them are in `BENCHMARKS.md` at the repository
//! root.

pub mod floor;

/// Sizes of the workloads (see `BENCHMARKS.md`).
pub mod sizes {
    /// a1: nodes in the linked list.
    pub const LIST: usize = 1_000_000;
    /// a2: objects made and dropped.
    pub const NEW_DROP: usize = 1_000_000;
    /// b: two-node cycles made, dropped, then collected.
    pub const PAIRS: usize = 100_000;
    /// c: nodes of the binary tree with parent back-pointers.
    pub const TREE: usize = 1_000_000;
    /// d: clone+drop operations on one handle.
    pub const CLONE_DROP: usize = 10_000_000;
    /// e (`gc_collect`): rings.
    pub const RINGS: usize = 100;
    /// e (`gc_collect`): links per ring (a ring has `RING_LINKS + 1` nodes).
    pub const RING_LINKS: usize = 20;
    /// e (`gc_traversal`): levels (list `n` holds `n` references to list `n - 1`).
    pub const LEVELS: usize = 1_000;
    /// e (`gc_traversal`): references in the whole structure, `0 + 1 + … + 999`.
    pub const LEVEL_REFS: usize = LEVELS * (LEVELS - 1) / 2;
    /// f: live old objects.
    pub const OLD: usize = 1_000_000;
    /// f: short-lived objects allocated.
    pub const CHURN: usize = 10_000_000;
    /// f: a short-lived object lives until `CHURN_BATCH` objects have been
    /// allocated (they are kept in a batch that is then dropped whole).
    pub const CHURN_BATCH: usize = 1_000;
}

/// Define the workload node types and builders for one handle type.
///
/// `handle` is the refcounted handle type's name in scope (`Gc`, `Rc`, `Cc`,
/// …) with a `new` constructor and `Clone`; `cell` is the interior
/// mutability cell in scope (`RefCell`, or rust-gc's `GcCell`) with `new`
/// and `borrow_mut`; the attributes (typically the crate's derives) are put
/// on every node type.
#[macro_export]
macro_rules! shapes {
    (handle = $H:ident, cell = $Cell:ident, attrs = [$(#[$a:meta])*]) => {
        $crate::shape_types!(handle = $H, cell = $Cell, attrs = [$(#[$a])*]);
        $crate::shape_fns!(handle = $H, cell = $Cell);
    };
}

/// The node types of [`shapes!`] alone (for a derive that cannot be applied
/// through a `macro_rules!` expansion: write the types by hand and use
/// [`shape_fns!`]).
#[macro_export]
macro_rules! shape_types {
    (handle = $H:ident, cell = $Cell:ident, attrs = [$(#[$a:meta])*]) => {
        /// a1 / a2 / d / f: a singly-linked node (`next: None` for a lone object).
        $(#[$a])*
        pub struct Link {
            /// The next node.
            pub next: Option<$H<Link>>,
        }

        /// b: a node of a two-node cycle.
        $(#[$a])*
        pub struct Pair {
            /// The other node.
            pub other: $Cell<Option<$H<Pair>>>,
        }

        /// c: a binary-tree node with a strong parent back-pointer.
        $(#[$a])*
        pub struct Tree {
            /// Strong back-pointer (makes the tree cyclic).
            pub parent: Option<$H<Tree>>,
            /// Left child.
            pub left: $Cell<Option<$H<Tree>>>,
            /// Right child.
            pub right: $Cell<Option<$H<Tree>>>,
        }

        /// e (`gc_collect`): a node of a doubly-linked ring.
        $(#[$a])*
        pub struct Ring {
            /// Next node.
            pub next: $Cell<Option<$H<Ring>>>,
            /// Previous node.
            pub prev: $Cell<Option<$H<Ring>>>,
        }

        /// e (`gc_traversal`): list `n` holds `n` references to list `n - 1`.
        $(#[$a])*
        pub struct Level {
            /// The references to the level below.
            pub items: Vec<$H<Level>>,
        }
    };
}

/// The builders of [`shapes!`] alone, for node types already in scope.
#[macro_export]
macro_rules! shape_fns {
    (handle = $H:ident, cell = $Cell:ident) => {
        /// A lone tracked object (a `Link` with no successor).
        #[inline(always)]
        pub fn obj() -> $H<Link> {
            $H::new(Link { next: None })
        }

        /// a1: a linked list of `n` nodes; returns the head.
        pub fn list(n: usize) -> Option<$H<Link>> {
            let mut head = None;
            for _ in 0..n {
                head = Some($H::new(Link { next: head }));
            }
            head
        }

        /// b: make `n` two-node cycles and drop every handle to them.
        pub fn dead_pairs(n: usize) {
            for _ in 0..n {
                let a = $H::new(Pair {
                    other: $Cell::new(None),
                });
                let b = $H::new(Pair {
                    other: $Cell::new(Some(a.clone())),
                });
                *a.other.borrow_mut() = Some(b);
            }
        }

        /// c: a complete binary tree of `n` nodes in which every node holds
        /// a strong handle to its parent; returns the root.
        pub fn tree(n: usize) -> $H<Tree> {
            let mut nodes: Vec<$H<Tree>> = Vec::with_capacity(n);
            nodes.push($H::new(Tree {
                parent: None,
                left: $Cell::new(None),
                right: $Cell::new(None),
            }));
            for i in 1..n {
                let parent = &nodes[(i - 1) / 2];
                let child = $H::new(Tree {
                    parent: Some(parent.clone()),
                    left: $Cell::new(None),
                    right: $Cell::new(None),
                });
                if i % 2 == 1 {
                    *parent.left.borrow_mut() = Some(child.clone());
                } else {
                    *parent.right.borrow_mut() = Some(child.clone());
                }
                nodes.push(child);
            }
            nodes.swap_remove(0)
        }

        /// c dead's floor: a complete binary tree of `n` nodes *without*
        /// parent handles (acyclic: refcounting alone frees it); returns
        /// the root.
        pub fn acyclic_tree(n: usize) -> $H<Tree> {
            let nodes: Vec<$H<Tree>> = (0..n)
                .map(|_| {
                    $H::new(Tree {
                        parent: None,
                        left: $Cell::new(None),
                        right: $Cell::new(None),
                    })
                })
                .collect();
            for i in 1..n {
                let parent = &nodes[(i - 1) / 2];
                let slot = if i % 2 == 1 {
                    &parent.left
                } else {
                    &parent.right
                };
                *slot.borrow_mut() = Some(nodes[i].clone());
            }
            nodes
                .into_iter()
                .next()
                .expect("a tree of at least one node")
        }

        fn ring_link(a: &$H<Ring>, b: &$H<Ring>) {
            *a.next.borrow_mut() = Some(b.clone());
            *b.prev.borrow_mut() = Some(a.clone());
        }

        /// e: pyperformance `gc_collect`'s `create_gc_cycles`: `n_rings`
        /// doubly-linked rings of `links + 1` nodes each.
        pub fn rings(n_rings: usize, links: usize) -> Vec<$H<Ring>> {
            let mut out = Vec::with_capacity(n_rings);
            for _ in 0..n_rings {
                let first = $H::new(Ring {
                    next: $Cell::new(None),
                    prev: $Cell::new(None),
                });
                let mut current = first.clone();
                for _ in 0..links {
                    let next = $H::new(Ring {
                        next: $Cell::new(None),
                        prev: $Cell::new(None),
                    });
                    ring_link(&current, &next);
                    current = next;
                }
                ring_link(&current, &first);
                out.push(first);
            }
            out
        }

        /// e: pyperformance `gc_traversal`'s `create_recursive_containers`:
        /// list `n` (for `n` in `0..levels`) holds `n` references to list
        /// `n - 1`; returns the top list.
        pub fn levels(levels: usize) -> $H<Level> {
            let mut current = $H::new(Level { items: Vec::new() });
            for n in 0..levels {
                let items = (0..n).map(|_| current.clone()).collect();
                current = $H::new(Level { items });
            }
            current
        }
    };
}

/// The shapes on pygc's `Gc` (with `RefCell` edges).
pub mod pygc_shapes {
    use pygc::Gc;
    use std::cell::RefCell;
    shapes!(handle = Gc, cell = RefCell, attrs = [#[derive(pygc::Trace)]]);
}

/// The shapes on `std::rc::Rc` (with `RefCell` edges; cycles leak).
pub mod rc_shapes {
    use std::cell::RefCell;
    use std::rc::Rc;
    shapes!(handle = Rc, cell = RefCell, attrs = []);
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`),
/// in KiB, or `None` where procfs is unavailable.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

/// Current resident set size of this process (`VmRSS`), in KiB.
pub fn current_rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Apply a benchmark's `--mode NAME` to this thread's heap (call it on each
/// thread that allocates, before it does).
///
/// `generational` is CPython 3.12's collector (the default);
/// `incremental` is PEP 848's ([`pygc::gc::Mode`], issue 18).
///
/// # Errors
///
/// An unknown mode, with a message for the command line.
pub fn apply_mode(name: &str) -> Result<(), String> {
    match name {
        "generational" => {
            pygc::gc::set_mode(pygc::gc::Mode::Generational);
            Ok(())
        }
        "incremental" => {
            pygc::gc::set_mode(pygc::gc::Mode::Incremental);
            Ok(())
        }
        other => Err(format!(
            "unknown mode {other:?}: use generational or incremental"
        )),
    }
}

/// The value of `--mode NAME` (or `--mode=NAME`) in `args`, default
/// `generational`; the other arguments are returned in order.
///
/// # Errors
///
/// `--mode` without a value.
pub fn take_mode(args: Vec<String>) -> Result<(String, Vec<String>), String> {
    let mut mode = "generational".to_owned();
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--mode" {
            mode = it.next().ok_or("--mode needs a value")?;
        } else if let Some(m) = a.strip_prefix("--mode=") {
            mode = m.to_owned();
        } else {
            rest.push(a);
        }
    }
    Ok((mode, rest))
}

/// This thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}
