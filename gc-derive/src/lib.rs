//! `#[derive(Trace)]` for [pygc](https://docs.rs/pygc).
//!
//! Use it through pygc, which re-exports it (feature `derive`, on by
//! default): `use pygc::Trace;` brings both the trait and the derive.
//!
//! The derive runs in three steps, as serde_derive and thiserror do:
//! `ast.rs` + `attr.rs` parse the input and its `#[trace(...)]` attributes,
//! `check.rs` rejects contradictions, `bound.rs` + `expand.rs` generate the
//! impl. Errors are collected in a context (`ctxt.rs`), so one run reports
//! every problem, each at the token that causes it.

mod ast;
mod attr;
mod bound;
mod check;
mod crate_path;
mod ctxt;
mod expand;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derive `pygc::Trace`: the collector then sees every handle the value
/// owns.
///
/// Works on structs (named, tuple, unit) and enums (any variant kinds, also
/// empty enums), with type, lifetime and const parameters. Unions and
/// `#[repr(packed)]` structs are rejected.
///
/// # What is generated
///
/// - `trace` calls `Trace::trace` on every field not marked
///   `#[trace(skip)]`, so **every such field's type must implement `Trace`**
///   (the error points at the field otherwise).
/// - The type is *untracked* (never enters a generation list, as CPython's
///   atomic objects) when no traced field's type can own a handle.
/// - Bounds: `T: Trace` is added for each type parameter `T` that appears in
///   a traced field (a projection such as `T::Item` gets `T::Item: Trace`;
///   `PhantomData<T>` needs no bound). A parameter used only by skipped
///   fields gets no bound. `#[trace(bound = "...")]` replaces this inference.
/// - The type must **not implement `Drop`**: when a cycle is collected its
///   members are dropped in an unspecified order, so a `Drop` impl could read
///   through a dangling handle. A `Drop` impl on a derived type is a
///   compile error about the trait `DeriveTraceForbidsDrop_ImplementFinalizeInstead`;
///   put the logic in `pygc::Finalize` and mark the type
///   `#[trace(finalize)]`.
/// - A type that implements `pygc::Finalize` must say so with
///   `#[trace(finalize)]` (or `#[trace(legacy_finalize)]`): the attribute
///   is what tells the collector to call it. Without one the impl is a
///   compile error about the trait
///   `DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute`, instead of a
///   finalizer that silently never runs.
///
/// The generated impl is an `unsafe impl` whose contract the derive
/// upholds; rustc's `unsafe_code` lint does not fire on derive output, so
/// crates with `#![forbid(unsafe_code)]` can use it.
///
/// # Attributes
///
/// On a field:
///
/// - `#[trace(skip)]` — the field is not traced and its type need not
///   implement `Trace`. A handle inside it counts as a reference from
///   outside the heap: what it points to is kept alive, and a cycle through
///   it is never collected (a possible leak, never unsoundness).
///
/// On the type:
///
/// - `#[trace(finalize)]` — the type implements `pygc::Finalize`, run
///   once before the value is reclaimed, with PEP 442 semantics (also for
///   cyclic trash; the finalizer may resurrect the object).
/// - `#[trace(legacy_finalize)]` — also `Finalize`, with CPython's legacy
///   `tp_del` semantics: cyclic trash that reaches such an object is
///   uncollectable and lands in `gc::garbage()`.
/// - `#[trace(bound = "T: Trace, U: Clone")]` — where-predicates that replace
///   the inferred bounds (the type's own bounds are kept). `bound = ""` adds
///   none. Names in the string resolve where the type is defined.
/// - `#[trace(crate = "path::to::pygc")]` — the path the generated code
///   names pygc by. Rarely needed: the derive reads the `Cargo.toml` of the
///   crate being compiled (with `proc-macro-crate`) and uses whatever name
///   the dependency has there (`gc = { package = "pygc" }` gives `::gc`);
///   this attribute is for crates that reach pygc only through another
///   crate's re-export (as serde's `#[serde(crate = "...")]`).
///
/// A traced field that holds a `std::rc::Rc` or `std::sync::Arc` is an error
/// with its own message: they have no `Trace` impl, because tracing through a
/// shared pointer would report its edges once per owner. Use `Gc` (or
/// `sync::Gc`), or mark the field `#[trace(skip)]`.
///
/// Enum variants take no `trace` attributes.
///
/// # Examples
///
/// ```
/// use pygc::{Finalize, Gc, Trace};
/// use std::cell::RefCell;
/// use std::marker::PhantomData;
///
/// #[derive(Trace)]
/// struct Node {
///     value: Pair<u8>,
///     next: RefCell<Option<Gc<Node>>>,
///     #[trace(skip)]
///     cache: std::sync::Mutex<Vec<u8>>,     // not traced, need not be `Trace`
/// }
///
/// #[derive(Trace)]
/// struct Pair<T> {                          // the impl gets `where T: Trace`
///     left: T,
///     right: T,
///     marker: PhantomData<T>,
/// }
///
/// #[derive(Trace)]
/// enum Shape {
///     Empty,
///     Pair(Gc<Shape>, Gc<Shape>),
///     Named { name: String, inner: Gc<Shape> },
/// }
///
/// #[derive(Trace)]
/// #[trace(finalize)]
/// struct File {
///     fd: i32,
/// }
///
/// impl Finalize for File {
///     fn finalize(&self) {
///         println!("closing {}", self.fd);
///     }
/// }
///
/// #[derive(Trace)]
/// #[trace(bound = "T: Trace + Default")] // instead of the inferred `T: Trace`
/// struct Slot<T> {
///     value: RefCell<T>,
/// }
///
/// let a = Gc::new(Shape::Pair(Gc::new(Shape::Empty), Gc::new(Shape::Empty)));
/// let b = Gc::new(Shape::Named { name: "b".into(), inner: a.clone() });
/// assert!(Gc::is_tracked(&b));
/// drop(Gc::new(File { fd: 3 })); // prints "closing 3"
/// let node = Gc::new(Node {
///     value: Pair { left: 1, right: 2, marker: PhantomData },
///     next: RefCell::new(None),
///     cache: Default::default(),
/// });
/// *node.next.borrow_mut() = Some(node.clone()); // a cycle
/// drop(node);
/// assert_eq!(pygc::gc::collect(), 1);
/// let _ = Slot { value: RefCell::new(0u32) };
/// ```
#[proc_macro_derive(Trace, attributes(trace))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
