//! CPython's memory management for Rust object graphs.
//!
//! `Gc<T>` is a refcounted handle: the value is reclaimed the moment its
//! last handle is dropped, like `Rc`. Unlike `Rc`, cycles are not leaked: a
//! generational cycle collector finds unreachable cycles by *trial deletion*
//! over three generations, exactly as CPython's `gc` module does
//! (thresholds `(700, 10, 10)`, PEP 442 finalizers, legacy finalizers in
//! [`gc::garbage`], weak handles with callbacks, `gc.callbacks`, SAVEALL,
//! freeze, `get_referrers`).
//!
//! ```
//! use pygc::{gc, Finalize, Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! #[trace(finalize)]
//! struct Node {
//!     name: String,
//!     next: RefCell<Option<Gc<Node>>>,
//! }
//!
//! impl Finalize for Node {
//!     fn finalize(&self) {
//!         println!("Deleting {}", self.name);
//!     }
//! }
//!
//! let a = Gc::new(Node { name: "a".into(), next: RefCell::new(None) });
//! let b = Gc::new(Node { name: "b".into(), next: RefCell::new(Some(a.clone())) });
//! *a.next.borrow_mut() = Some(b.clone());
//! assert_eq!(Gc::strong_count(&a), 2);
//! drop((a, b));                 // a cycle: refcounts never reach zero
//! assert_eq!(gc::collect(), 2); // prints "Deleting a", "Deleting b"
//! ```
//!
//! # Trait objects, strings and slices
//!
//! `Gc<T>` and [`Weak<T>`] take unsized `T`: `Gc<dyn Trait>`, `Gc<str>`,
//! `Gc<[T]>` (two words; a handle to a sized value stays one word). A
//! trait whose objects live in a `Gc` has [`Trace`] as a supertrait; the
//! concrete type behind each object decides whether it is tracked, is
//! finalized, and what [`GcAny::type_name`] reports. Turn a handle into
//! one to an unsized type with [`coerce!`] (on stable Rust; with the
//! `nightly` feature the compiler coerces by itself, as for `Rc`):
//!
//! ```
//! use pygc::{coerce, gc, Gc, Trace};
//! use std::cell::RefCell;
//!
//! trait Object: Trace {
//!     fn describe(&self) -> String;
//! }
//!
//! #[derive(Trace)]
//! struct Module {
//!     name: Gc<str>,
//!     members: RefCell<Vec<Gc<dyn Object>>>,
//! }
//!
//! impl Object for Module {
//!     fn describe(&self) -> String {
//!         format!("module {}", self.name)
//!     }
//! }
//!
//! let m: Gc<dyn Object> = coerce!(Gc::new(Module {
//!     name: Gc::from("m"),
//!     members: RefCell::new(vec![]),
//! }));
//! assert_eq!(m.describe(), "module m");
//! // A cycle through trait objects is collected like any other.
//! let module = Gc::to_any(&m);
//! module.downcast_ref::<Module>().unwrap().members.borrow_mut().push(m.clone());
//! drop((m, module));
//! assert_eq!(gc::collect(), 1);
//!
//! let xs: Gc<[u32]> = (1..=3).collect();
//! assert_eq!(xs.iter().sum::<u32>(), 6);
//! ```
//!
//! Strings and slices are made like `Rc`'s: `From<&str>`, `From<String>`,
//! `From<Vec<T>>`, `From<&[T]>`, `From<Box<T>>` (also `Box<dyn Trait>`),
//! `FromIterator`, `Default`; or coerced from arrays. `Gc<str>` and slices
//! of handle-free values are untracked; `Gc<[Gc<T>]>` is tracked. Inside
//! other values, `[T]`, `str`, `Box<str>`, `Box<[T]>` and `Box<dyn Trace>`
//! trace their contents.
//!
//! The sync heap takes the same: `sync::Gc<dyn Trait>` (for a
//! `trait Trait: Trace + Send + Sync`, or `dyn Trait + Send + Sync`),
//! `sync::Gc<str>`, `sync::Gc<[T]>`, the same constructors, and `coerce!`
//! on `sync::Gc`/`sync::Weak`; cycles through them are collected across
//! threads:
//!
//! ```
//! use pygc::{coerce, sync, Trace};
//!
//! trait Task: Trace + Send + Sync { fn run(&self) -> u32; }
//! #[derive(Trace)]
//! struct Add(u32, u32);
//! impl Task for Add { fn run(&self) -> u32 { self.0 + self.1 } }
//!
//! let t: sync::Gc<dyn Task> = coerce!(sync::Gc::new(Add(1, 2)));
//! let name: sync::Gc<str> = sync::Gc::from("add");
//! let h = std::thread::spawn(move || format!("{name}: {}", t.run()));
//! assert_eq!(h.join().unwrap(), "add: 3");
//! ```
//!
//! Not supported on stable Rust: wrappers with an unsized tail
//! (`RefCell<dyn Trait>`, `Box<dyn Trait>` for your own trait as a *field*):
//! their `Trace` impls would need specialization. Put the `RefCell` inside
//! the concrete type and hold a `Gc<dyn Trait>` instead, as above.
//!
//! # A tour
//!
//! ## `Gc` or `Rc`?
//!
//! Use `Gc` where the object graph can have cycles you do not control —
//! an interpreter's environments and closures, a scene graph whose
//! children know their parents through strong handles, observers that
//! register each other, an entity graph. `Gc` costs what `Rc` costs on the
//! handle paths (`clone`/`drop` compile to the same instructions;
//! `Gc::new` of a tracked value takes an object from a per-thread pool,
//! which is faster than the global allocator). A tracked value carries 32
//! bytes before it (the collector's list links, its type's vtable and the
//! counts; `Rc`: 16), an untracked one 8. The collector runs only when
//! allocations outnumber deallocations by the generation-0 threshold (700),
//! and then only over the youngest objects. Use `Rc` where the graph is a
//! tree or a DAG by construction and `Weak` breaks every back edge: it has
//! no header and no collector.
//!
//! | | `Rc<T>` | `Gc<T>` |
//! |---|---|---|
//! | freed at the last handle's drop | yes | yes (same moment, same order) |
//! | cycles | leaked | collected (trial deletion, 3 generations) |
//! | `T` must | — | implement [`Trace`] (`#[derive(Trace)]`) |
//! | destructor | `Drop` | [`Finalize`] (PEP 442: runs once, may resurrect) |
//! | weak handles | `Weak` | [`Weak`], with callbacks ([`Gc::downgrade_with_callback`]) |
//! | threads | `Arc` | [`sync::Gc`] with [`sync::GcMutex`] / [`sync::GcRwLock`] |
//!
//! ## The derive
//!
//! `#[derive(Trace)]` (see [`derive@Trace`] for every rule) makes the
//! collector see each handle a value owns. Attributes:
//!
//! * `#[trace(skip)]` on a field: not traced, its type need not be
//!   `Trace`. A handle inside it counts as an outside reference: what it
//!   points to stays alive, and a cycle through it is never collected — a
//!   leak at worst, never unsoundness.
//! * `#[trace(finalize)]` / `#[trace(legacy_finalize)]` on the type: it
//!   implements [`Finalize`] (below).
//! * `#[trace(bound = "T: Trace")]`: replace the inferred bounds.
//! * `#[trace(crate = "path")]`: how the generated code names this crate,
//!   for crates that reach it through a re-export.
//!
//! A type with no handles (a file descriptor, a unit of measure) is made a
//! leaf with [`leaf!`]; leaves are *untracked*, as CPython's atomic objects:
//! they never enter a generation list. Mutable edges live in `Cell` /
//! `RefCell`; a derived type may not implement `Drop` (a compile error that
//! says to use `Finalize`), because cyclic trash is dropped in no particular
//! order and a `Drop` could reach an already-dropped neighbour.
//!
//! ## Finalizers and resurrection
//!
//! A [`Finalize`] type with `#[trace(finalize)]` follows PEP 442: the
//! finalizer runs once per object, before any value of its cycle is
//! dropped, both at refcount death and for cyclic trash; every handle it can
//! reach is still valid. If a finalizer stores a handle somewhere reachable
//! (its own object through [`Gc::from_finalizing`], or a neighbour), the
//! object is *resurrected*: the collector sees that and frees nothing of
//! that cycle. `#[trace(legacy_finalize)]` is CPython's old `tp_del`: a
//! cycle reaching such an object is uncollectable and lands in
//! [`gc::garbage`], where you can inspect and break it.
//!
//! ```
//! use pygc::{gc, Finalize, Gc, Trace};
//! use std::cell::RefCell;
//!
//! thread_local! { static LOG: RefCell<Vec<String>> = RefCell::new(Vec::new()); }
//!
//! #[derive(Trace)]
//! #[trace(finalize)]
//! struct Peer { name: &'static str, other: RefCell<Option<Gc<Peer>>> }
//!
//! impl Finalize for Peer {
//!     fn finalize(&self) {
//!         // The other member of the cycle is intact while we run.
//!         let other = self.other.borrow().as_ref().map(|o| o.name);
//!         LOG.with(|l| l.borrow_mut().push(format!("{} saw {:?}", self.name, other)));
//!     }
//! }
//!
//! let a = Gc::new(Peer { name: "a", other: RefCell::new(None) });
//! let b = Gc::new(Peer { name: "b", other: RefCell::new(Some(a.clone())) });
//! *a.other.borrow_mut() = Some(b.clone());
//! drop((a, b));
//! assert_eq!(gc::collect(), 2);
//! LOG.with(|l| {
//!     let mut l = l.borrow().clone();
//!     l.sort();
//!     assert_eq!(l, ["a saw Some(\"b\")", "b saw Some(\"a\")"]);
//! });
//! ```
//!
//! ## Weak handles and callbacks
//!
//! [`Weak`] is `Rc`'s weak handle with CPython's `weakref` semantics on
//! top: a callback given to [`Gc::downgrade_with_callback`] runs when the
//! object dies (at refcount death or when the collector clears the weak
//! handles to cyclic trash, before any finalizer), and
//! [`weakref::finalize`] is `weakref.finalize`. Weak handles to cyclic
//! trash are cleared before finalizers run, so a finalizer never sees an
//! upgradable weak handle to garbage; weak handles made after a resurrection
//! work as any other.
//!
//! ```
//! use pygc::{Gc, Trace, Weak};
//! use std::cell::{Cell, RefCell};
//! use std::rc::Rc;
//!
//! #[derive(Trace)]
//! struct Widget { parent: RefCell<Weak<Widget>>, children: RefCell<Vec<Gc<Widget>>> }
//!
//! let root = Gc::new(Widget { parent: RefCell::new(Weak::new()), children: RefCell::new(vec![]) });
//! let child = Gc::new(Widget { parent: RefCell::new(Gc::downgrade(&root)), children: RefCell::new(vec![]) });
//! root.children.borrow_mut().push(child.clone());
//!
//! let gone = Rc::new(Cell::new(false));
//! let flag = gone.clone();
//! let watch = Gc::downgrade_with_callback(&root, move || flag.set(true));
//! assert!(child.parent.borrow().upgrade().is_some());
//! drop(root);                       // no cycle: freed at once, callback runs
//! assert!(gone.get());
//! assert!(watch.upgrade().is_none() && child.parent.borrow().upgrade().is_none());
//! ```
//!
//! ## The `gc` module
//!
//! [`gc`] is CPython's `gc` module for this thread's heap:
//! [`gc::collect`] / [`gc::collect_generation`], [`gc::enable`] /
//! [`gc::disable`], thresholds ([`gc::set_threshold`], default
//! `(700, 10, 10)`, with CPython 3.12's rule that a full collection waits
//! until a quarter of the long-lived objects are new), [`gc::get_count`],
//! [`gc::get_stats`], [`gc::add_callback`] (`gc.callbacks`),
//! [`gc::set_debug`] with [`gc::DebugFlags::SAVEALL`] (collected objects go
//! to [`gc::garbage`] instead of being freed), [`gc::freeze`],
//! [`gc::get_objects`], [`gc::get_referrers`] and [`gc::get_referents`].
//! [`gc::set_mode`] picks PEP 848's incremental collector, which bounds each
//! pause by work done, instead of the generational one.
//!
//! ```
//! use pygc::{gc, Gc, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Node { next: RefCell<Option<Gc<Node>>> }
//!
//! let seen = std::rc::Rc::new(std::cell::Cell::new(0));
//! let s = seen.clone();
//! let id = gc::add_callback(move |phase, info| {
//!     if phase == gc::Phase::Stop { s.set(s.get() + info.collected) }
//! });
//! let n = Gc::new(Node { next: RefCell::new(None) });
//! *n.next.borrow_mut() = Some(n.clone());
//! let referrers = gc::get_referrers(&Gc::to_any(&n));
//! assert_eq!(referrers.len(), 1);            // itself, through `next`
//! drop((n, referrers));
//! gc::collect();
//! assert_eq!(seen.get(), 1);
//! assert!(gc::remove_callback(id));
//! ```
//!
//! ## Threads
//!
//! Each thread has its own heap for [`Gc`] (which is `!Send`), collected on
//! that thread. [`sync`] is a second, shared heap: [`sync::Gc`] is `Send +
//! Sync` for `Send + Sync` values, mutable state lives in
//! [`sync::GcMutex`] / [`sync::GcRwLock`], and cycles that cross threads
//! are collected by the same collector, which stops the world for its
//! trial deletion. A lock guard holds the world running, so: keep guards
//! short, do not hold one while waiting for a thread that is collecting,
//! never forget one. A collection that cannot stop the world in time gives
//! up instead of hanging ([`sync::gc::try_collect`] says so); the
//! [`sync`] module page gives the lock-order rules in full.
//!
//! ```
//! use pygc::sync::{self, GcMutex};
//! use pygc::Trace;
//!
//! #[derive(Trace)]
//! struct Node { next: GcMutex<Option<sync::Gc<Node>>> }
//!
//! let a = sync::Gc::new(Node { next: GcMutex::new(None) });
//! let b = sync::Gc::new(Node { next: GcMutex::new(Some(a.clone())) });
//! let a2 = a.clone();
//! std::thread::spawn(move || *a2.next.lock() = Some(b)).join().unwrap();
//! drop(a);                              // a <-> b, built on two threads
//! assert!(sync::gc::collect() >= 2);
//! ```
//!
//! ## Finding leaks
//!
//! [`debug`] is `objgraph` for this heap: [`debug::most_common_types`],
//! [`debug::why_alive`] (the chain of referrers that keeps an object alive,
//! ending at the outside reference), and [`debug::refs_graph`] /
//! [`debug::backrefs_graph`] with DOT and SVG output.
//!
//! ```
//! use pygc::{debug, Gc, GcAny, Trace};
//! use std::cell::RefCell;
//!
//! #[derive(Trace)]
//! struct Node { next: RefCell<Option<Gc<Node>>> }
//!
//! let leaked = Gc::new(Node { next: RefCell::new(None) });
//! let holder = Gc::new(Node { next: RefCell::new(Some(leaked.clone())) });
//! let target = Gc::to_any(&leaked);
//! drop(leaked);                  // forgotten here, but something still holds it
//! let report = debug::why_alive(&target);
//! assert!(report.is_reachable());
//! assert_eq!(report.path().len(), 2); // the node <- `holder` (a local)
//! assert!(GcAny::ptr_eq(&report.path()[1].object, &Gc::to_any(&holder)));
//! println!("{report}");          // the chain, in words
//! ```
//!
//! ## Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `derive` | on | re-exports `#[derive(Trace)]` from `pygc-derive` |
//! | `pool` | on | tracked objects up to 512 bytes come from a per-thread pool; off, each object is its own global allocation (for other allocators, heap profilers, valgrind, Miri) |
//! | `indexmap` | off | `Trace` for `IndexMap` / `IndexSet` |
//! | `hashbrown` | off | `Trace` for hashbrown's `HashMap` / `HashSet` |
//! | `nightly` | off | `CoerceUnsized` for the handles: `let s: Gc<dyn Shape> = Gc::new(c);` without [`coerce!`] |
//!
//! ## Soundness
//!
//! No safe code can free a reachable object or reach a freed one. [`Trace`]
//! is an `unsafe trait`; the derive upholds its contract and refuses a
//! `Drop` impl on the derived type (implement [`Finalize`] instead). Values
//! are reached only through shared references (`Gc::get_mut` only on a
//! unique handle). How the known hazards of refcounted, cycle-collected
//! heaps are ruled out:
//!
//! - a `Trace` impl that reports an edge too many makes the collection free
//!   nothing (with a warning that names the type); one that reports too few
//!   leaks its targets, never frees them;
//! - a `RefCell` that is mutably borrowed during a collection counts as
//!   referenced from outside: what it holds stays alive;
//! - a panic inside `trace` while the collector rewrites its lists aborts
//!   the process; panics in finalizers and callbacks are caught and reported;
//! - dropping the last handle of a long chain does not recurse: past 50
//!   nested deaths the rest are deferred and freed in a loop;
//! - a PEP 442 finalizer runs at most once per object, before any value of
//!   its cycle is dropped, so it sees intact objects; if it stores a handle
//!   to its object (resurrection), the object lives on;
//! - weak handles to cyclic trash are cleared before any finalizer runs, and
//!   `upgrade` fails once a value's drop has begun; memory outlives the value
//!   until the last weak handle is gone;
//! - a reference count overflow (handles leaked with `mem::forget` in a loop)
//!   aborts, as with `Rc`;
//! - handles dropped by other thread-locals' destructors after the thread's
//!   heap is gone still work (the heap is leaked rather than touched);
//! - `Gc::new_cyclic`'s object is invisible to the collector and to
//!   `upgrade` until its value is written;
//! - on the [`sync`] heap `upgrade` increments only from a non-zero count,
//!   the collector stops every mutator (with a deadline) before it reads the
//!   graph, and finalizers and callbacks run after the world is released, so
//!   they may lock what other threads hold.
//!
//! The repository's `DESIGN.md` names, for each hazard, the test that tries
//! it.
#![cfg_attr(
    feature = "nightly",
    feature(coerce_unsized, dispatch_from_dyn, unsize)
)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as pygc;

mod collector;
pub mod debug;
pub mod gc;
mod handle;
mod heap;
mod primitive;
pub mod sync;
pub mod trace;
mod trace_impls;
mod trace_impls_more;
mod types;
pub mod weakref;

pub use handle::any::GcAny;
pub use handle::strong::Gc;
pub use handle::weak::Weak;
pub use trace::{Finalize, Trace, Tracer};

#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use pygc_derive::Trace;

/// The package README's examples, compiled and run as doctests (the
/// repository's README is checked by the `gc-tests` package).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct PackageReadme;

/// Items used by the code `#[derive(Trace)]` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::handle::dst::{CoerceParts, GcToken, WeakToken};
    pub use crate::heap::header::{Counts, ErasedType, GcBox};
    pub use crate::sync::counts::SyncCounts;
    pub use crate::sync::dst::{SyncGcToken, SyncWeakToken};
    pub use crate::trace::TraceUnsized;
    pub use crate::trace::{FinalizerKind, Fuel};

    /// Implemented by `#[derive(Trace)]` for the derived type, and for every
    /// type that implements `Drop`. The two impls conflict when a derived type
    /// also implements `Drop`: derived types must put their "on destruction"
    /// logic in `Finalize` (see the `Trace` safety contract, rule 5).
    #[allow(non_camel_case_types)]
    pub trait DeriveTraceForbidsDrop_ImplementFinalizeInstead {}

    #[allow(drop_bounds)]
    impl<T: Drop> DeriveTraceForbidsDrop_ImplementFinalizeInstead for T {}

    /// Implemented by `#[derive(Trace)]` for a type without
    /// `#[trace(finalize)]` or `#[trace(legacy_finalize)]`: the impl
    /// conflicts with the blanket impl below when the type implements
    /// [`Finalize`](crate::Finalize) anyway, whose `finalize` would then
    /// never run (the attribute is what tells the collector about it).
    #[allow(non_camel_case_types)]
    pub trait DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute {}

    impl<T: ?Sized + crate::Finalize> DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute for T {}

    /// Bytes an object of type `T` carries before its value: the header of
    /// a tracked type (links, vtable, counts) or the counts of an untracked
    /// one, plus alignment padding (for tests and benchmarks).
    pub fn header_bytes<T: crate::Trace + 'static>() -> usize {
        let (_, offset) = crate::heap::header::GcBox::<T>::allocation_layout();
        offset + std::mem::offset_of!(crate::heap::header::GcBox<T>, value)
    }

    /// Pages the calling thread's object pool holds (`heap::pool`; for tests
    /// and benchmarks): each is [`POOL_PAGE_SIZE`] bytes.
    pub fn pool_pages() -> usize {
        crate::heap::heap().map_or(0, |h| h.pool.page_count())
    }

    /// Whether the calling thread's next full collection finds its objects
    /// by sweeping the pool's pages (heap invariant H2: no tracked object
    /// outside the pool or with its header off a block's start is alive;
    /// for tests).
    pub fn full_collections_sweep() -> bool {
        crate::heap::heap().is_some_and(|h| h.all_swept())
    }

    /// Whether the calling thread's full collections keep their per-object
    /// state in a side table (`collector::side`; for tests and
    /// benchmarks): `Some(true)` whenever the heap is sweepable,
    /// `Some(false)` never, `None` the default guess (not after a full
    /// collection that moved most of its set to the unreachable list).
    pub fn set_side_table(mode: Option<bool>) {
        use crate::heap::SideMode;
        let mode = match mode {
            None => SideMode::Auto,
            Some(true) => SideMode::Always,
            Some(false) => SideMode::Never,
        };
        if let Some(h) = crate::heap::heap() {
            h.side_mode.set(mode);
        }
    }

    /// Whether the calling thread's last full collection of a sweepable
    /// heap kept its per-object state in a side table (`collector::side`;
    /// for tests).
    pub fn last_full_collection_used_side_table() -> bool {
        crate::heap::heap().is_some_and(|h| h.side_used.get())
    }

    /// Pages of the sync heap's pools (`sync::pool`; for tests): those of
    /// the world slot the calling thread holds, and those of every slot no
    /// thread holds.
    pub fn sync_pool_pages() -> (usize, usize) {
        crate::sync::world::world().pool_pages()
    }

    /// An identity of the world slot (and pool) the calling thread holds,
    /// 0 if none (for tests).
    pub fn sync_slot_id() -> usize {
        crate::sync::world::world().own_slot_id()
    }

    /// Bytes per page of the object pool.
    pub const POOL_PAGE_SIZE: usize = crate::heap::pool::PAGE_SIZE;

    /// Most pages an idle pool that served one size class keeps (the rest
    /// goes back to the global allocator, a chunk at a time).
    pub const POOL_MAX_IDLE_PAGES_ONE_CLASS: usize = crate::heap::pool::MAX_IDLE_PAGES_ONE_CLASS;

    /// Pages per chunk of the object pool.
    pub const POOL_CHUNK_PAGES: usize = crate::heap::pool::CHUNK_PAGES;
}
