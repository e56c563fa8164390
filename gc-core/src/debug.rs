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

mod graph;
mod walk;

pub use graph::{backrefs_graph, dot_to_svg, refs_graph, Graph, GraphNode};
pub use walk::short_type_name;
use walk::{all_tracked, key, outside_refs_and_referrers, strong_of};

use crate::handle::any::GcAny;
use crate::heap::header::ObjPtr;
use crate::heap::heap_or_panic;
use std::collections::{HashMap, VecDeque};
use std::fmt;

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
                // SAFETY: I1, I4: live (reachable from the caller's handle or linked).
                object: unsafe { GcAny::new_ref(obj) },
            }
        })
        .collect();
    AliveReport { path, in_garbage }
}
