//! `Trace` for more std types (function pointers, `Cow`, network addresses,
//! `Wrapping`, `Reverse`, ranges, `OnceLock`, `ManuallyDrop`), for the
//! collections of the optional `indexmap` and `hashbrown` features, and the
//! [`leaf!`](crate::leaf) macro.
//!
//! Same rules as `trace_impls.rs`: a type that cannot own a handle is a
//! *leaf* (untracked, `trace` does nothing); a wrapper reports what it wraps
//! and is tracked iff the wrapped type is.

use crate::trace::{Fuel, Trace, Tracer};
use std::borrow::{Cow, ToOwned};
use std::cmp::Reverse;
use std::mem::ManuallyDrop;
use std::num::{Saturating, Wrapping};
use std::ops::{Bound, Range, RangeFrom, RangeInclusive, RangeTo, RangeToInclusive};
use std::sync::OnceLock;

/// Implement [`Trace`] for types that own no [`Gc`](crate::Gc) or
/// [`Weak`](crate::Weak) handle: *leaf* types, never tracked by the cycle
/// collector (CPython's untracked atomic objects), whose `trace` reports
/// nothing.
///
/// For a type of your own that `#[derive(Trace)]` does not fit: one that
/// implements `Drop` (the derive forbids `Drop`; a leaf owns no handle, so
/// its `Drop` cannot observe the collector), or a type whose fields are
/// foreign types without a `Trace` impl. For a *field* of a foreign type
/// inside a derived type, use `#[trace(skip)]` instead (the orphan rule keeps
/// you from implementing `Trace` for a foreign type).
///
/// Calling the macro is safe: if the type does own a handle after all, that
/// handle is not reported, so it counts as a reference from outside the
/// heap. Its target is kept alive, and a cycle through it is never
/// collected: a leak at worst, never unsoundness (rule 2 of the `Trace`
/// contract).
///
/// The expansion is an `unsafe impl` whose contract the macro upholds;
/// rustc does not lint code expanded from another crate's macros, so crates
/// with `#![forbid(unsafe_code)]` can use it.
///
/// # Examples
///
/// ```
/// use pygc::{Gc, Trace};
///
/// struct FileHandle {
///     fd: i32,
/// }
///
/// impl Drop for FileHandle {
///     fn drop(&mut self) {
///         println!("closing {}", self.fd);
///     }
/// }
///
/// struct Meters(f64);
///
/// pygc::leaf!(FileHandle, Meters);
///
/// let file = Gc::new(FileHandle { fd: 3 });
/// assert!(!Gc::is_tracked(&file)); // a leaf: the collector never looks at it
///
/// #[derive(Trace)]
/// struct Cache {
///     file: FileHandle, // a field of a leaf type needs no `#[trace(skip)]`
///     next: Option<Gc<Cache>>,
/// }
/// let cache = Gc::new(Cache { file: FileHandle { fd: 4 }, next: None });
/// assert!(Gc::is_tracked(&cache));
/// # let _ = Meters(1.0).0;
/// ```
#[macro_export]
macro_rules! leaf {
    ($($t:ty),+ $(,)?) => {$(
        // SAFETY: T2, T6: `trace` reports nothing and `__gc_tracked_with` is false.
        // Both are allowed for any type: an unreported handle is an outside
        // reference (contract rule 2; rule 6 for tracked). The type's `Drop`,
        // if any, can reach only handles that were never reported, whose
        // targets the collector therefore keeps alive (rule 5's hazard is a
        // reported handle to cyclic trash).
        unsafe impl $crate::Trace for $t {
            #[inline(always)]
            fn trace(&self, _: &mut $crate::Tracer<'_>) {}
            #[inline(always)]
            fn __gc_tracked_with<F: $crate::__private::Fuel>() -> bool {
                false
            }
        }
    )+};
}

crate::leaf!(
    std::net::Ipv4Addr,
    std::net::Ipv6Addr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    std::ops::RangeFull,
    std::thread::ThreadId,
    std::alloc::Layout,
);

/// Function pointers whose arguments are taken by value, for every arity up
/// to 12, safe and `unsafe`, `extern "Rust"` and `extern "C"`.
///
/// Pointers with elided-lifetime references (`fn(&str) -> usize`) are
/// higher-ranked types (`for<'a> fn(&'a str) -> usize`) that a generic
/// argument `A` does not match; impls for them beside these would overlap
/// (rustc's `coherence_leak_check`, a future error). `#[derive(Trace)]`
/// treats a field whose type is written as a `fn` pointer as owning nothing,
/// whatever its signature, so they work as fields; elsewhere (inside an
/// `Option`, a `Vec`) mark the field `#[trace(skip)]`, which is exact for
/// them: a function pointer owns no handle.
macro_rules! fn_ptrs {
    ($($arg:ident)*) => {
        fn_ptrs!(@one [$($arg)*] fn($($arg),*) -> R);
        fn_ptrs!(@one [$($arg)*] unsafe fn($($arg),*) -> R);
        fn_ptrs!(@one [$($arg)*] extern "C" fn($($arg),*) -> R);
        fn_ptrs!(@one [$($arg)*] unsafe extern "C" fn($($arg),*) -> R);
    };
    (@one [$($arg:ident)*] $($fn_type:tt)*) => {
        // SAFETY: T6: a function pointer owns nothing: it is code, not data (a
        // closure that captured handles cannot coerce to one).
        unsafe impl<R, $($arg),*> Trace for $($fn_type)* {
            #[inline(always)]
            fn trace(&self, _: &mut Tracer<'_>) {}
            #[inline(always)]
            fn __gc_tracked_with<Fu: Fuel>() -> bool {
                false
            }
        }
    };
}

fn_ptrs!();
fn_ptrs!(A);
fn_ptrs!(A B);
fn_ptrs!(A B C);
fn_ptrs!(A B C D);
fn_ptrs!(A B C D E);
fn_ptrs!(A B C D E F);
fn_ptrs!(A B C D E F G);
fn_ptrs!(A B C D E F G H);
fn_ptrs!(A B C D E F G H I);
fn_ptrs!(A B C D E F G H I J);
fn_ptrs!(A B C D E F G H I J K);
fn_ptrs!(A B C D E F G H I J K L);

// SAFETY: T1, T2: a borrowed `Cow` holds a shared reference, which owns nothing (as
// `&'static T`); an owned one reports its value.
unsafe impl<B> Trace for Cow<'_, B>
where
    B: ToOwned + ?Sized,
    B::Owned: Trace,
{
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Cow::Owned(value) = self {
            value.trace(tracer)
        }
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: Fuel>() -> bool {
        <B::Owned as Trace>::__gc_tracked_with::<Fu>()
    }
}

/// Types that own `T` values and nothing else that can own a handle:
/// `trace` reports each `T` they hold (the body given), and the type is
/// tracked iff `T` is.
macro_rules! wraps {
    ($($name:ident: |$this:ident, $tracer:ident| $body:expr;)*) => {$(
        // SAFETY: T1: the body reports each `T` the value holds, once; T3:
        // it only reads; T6: tracked iff `T` is.
        unsafe impl<T: Trace> Trace for $name<T> {
            #[inline(always)]
            fn trace(&self, $tracer: &mut Tracer<'_>) {
                let $this = self;
                $body
            }
            #[inline(always)]
            fn __gc_tracked_with<Fu: Fuel>() -> bool {
                T::__gc_tracked_with::<Fu>()
            }
        }
    )*};
}

wraps! {
    Wrapping: |w, tracer| w.0.trace(tracer);
    Saturating: |s, tracer| s.0.trace(tracer);
    Reverse: |r, tracer| r.0.trace(tracer);
    // A `ManuallyDrop` owns its value as any field does; only its drop is up
    // to the owner. (An owner that drops it by hand, `ManuallyDrop::drop`,
    // must not let it be used afterwards, tracing included: that is the
    // `unsafe` caller's contract.)
    ManuallyDrop: |m, tracer| (**m).trace(tracer);
    // The content once set. `get` is a plain atomic read: the cell of
    // another thread being initialized reads as empty (its value does not
    // exist yet), never as a torn value.
    OnceLock: |cell, tracer| if let Some(value) = cell.get() {
        value.trace(tracer)
    };
    Range: |r, tracer| {
        r.start.trace(tracer);
        r.end.trace(tracer);
    };
    RangeInclusive: |r, tracer| {
        r.start().trace(tracer);
        r.end().trace(tracer);
    };
    RangeFrom: |r, tracer| r.start.trace(tracer);
    RangeTo: |r, tracer| r.end.trace(tracer);
    RangeToInclusive: |r, tracer| r.end.trace(tracer);
    Bound: |b, tracer| match b {
        Bound::Included(value) | Bound::Excluded(value) => value.trace(tracer),
        Bound::Unbounded => {}
    };
}

/// `indexmap`'s ordered map and set (feature `indexmap`).
#[cfg(feature = "indexmap")]
mod indexmap_impls {
    use crate::trace_impls::{map, sequence};
    use indexmap::{IndexMap, IndexSet};

    map!(#[cfg_attr(docsrs, doc(cfg(feature = "indexmap")))] IndexMap<K, V, S>);
    sequence!(#[cfg_attr(docsrs, doc(cfg(feature = "indexmap")))] IndexSet<T, S>);
}

/// `hashbrown`'s map and set (feature `hashbrown`), with the default
/// allocator.
#[cfg(feature = "hashbrown")]
mod hashbrown_impls {
    use crate::trace_impls::{map, sequence};
    use hashbrown::{HashMap, HashSet};

    map!(#[cfg_attr(docsrs, doc(cfg(feature = "hashbrown")))] HashMap<K, V, S>);
    sequence!(#[cfg_attr(docsrs, doc(cfg(feature = "hashbrown")))] HashSet<T, S>);
}
