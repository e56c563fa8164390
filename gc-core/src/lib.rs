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
//! Not supported on stable Rust: wrappers with an unsized tail
//! (`RefCell<dyn Trait>`, `Box<dyn Trait>` for your own trait as a *field*):
//! their `Trace` impls would need specialization. Put the `RefCell` inside
//! the concrete type and hold a `Gc<dyn Trait>` instead, as above.
//!
//! See `DESIGN.md` in the repository for the object layout, the collector's
//! phases and the soundness argument.
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
    pub use crate::heap::dst::{ErasedType, TraceUnsized};
    pub use crate::heap::header::{Counts, GcBox};
    pub use crate::trace::{FinalizerKind, Fuel};

    /// Implemented by `#[derive(Trace)]` for the derived type, and for every
    /// type that implements `Drop`. The two impls conflict when a derived type
    /// also implements `Drop`: derived types must put their "on destruction"
    /// logic in `Finalize` (see the `Trace` safety contract, rule 5).
    #[allow(non_camel_case_types)]
    pub trait DeriveTraceForbidsDrop_ImplementFinalizeInstead {}

    #[allow(drop_bounds)]
    impl<T: Drop> DeriveTraceForbidsDrop_ImplementFinalizeInstead for T {}

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

    /// Bytes per page of the object pool.
    pub const POOL_PAGE_SIZE: usize = crate::heap::pool::PAGE_SIZE;

    /// Most pages an idle pool that served one size class keeps (the rest
    /// goes back to the global allocator, a chunk at a time).
    pub const POOL_MAX_IDLE_PAGES_ONE_CLASS: usize = crate::heap::pool::MAX_IDLE_PAGES_ONE_CLASS;

    /// Pages per chunk of the object pool.
    pub const POOL_CHUNK_PAGES: usize = crate::heap::pool::CHUNK_PAGES;
}
