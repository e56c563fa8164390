//! `Trace` for std types and `smallvec::SmallVec`.
//!
//! Leaf types (numbers, strings, ...) own no handle: `__gc_tracked` is false
//! and `trace` does nothing. Containers trace their elements and are tracked
//! iff their element type is. Shared-ownership types (`Rc`, `Arc`) and locks
//! (`Mutex`, `RwLock`) deliberately have no impl: tracing through a shared
//! `Rc` would report its edges once per owner (HAZARDS 1), and a lock held by
//! another thread cannot be read.

use crate::trace::{Trace, Tracer};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::marker::PhantomData;

macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: T2, T6: owns no handle; reports nothing, untracked.
        unsafe impl Trace for $t {
            #[inline(always)]
            fn trace(&self, _: &mut Tracer<'_>) {}
            #[inline(always)]
            fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool { false }
        }
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::path::PathBuf,
    std::ffi::OsString,
    std::ffi::CString,
    std::cmp::Ordering,
    std::marker::PhantomPinned,
    std::sync::atomic::AtomicBool,
    std::sync::atomic::AtomicUsize,
    std::sync::atomic::AtomicIsize,
    std::sync::atomic::AtomicU8,
    std::sync::atomic::AtomicU16,
    std::sync::atomic::AtomicU32,
    std::sync::atomic::AtomicU64,
    std::sync::atomic::AtomicI8,
    std::sync::atomic::AtomicI16,
    std::sync::atomic::AtomicI32,
    std::sync::atomic::AtomicI64,
    std::net::IpAddr,
    std::net::SocketAddr,
    std::any::TypeId,
);

// SAFETY: T6: owns no handle (reports nothing, T2).
unsafe impl Trace for str {
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: T2: a shared reference owns nothing: not reporting what it points to
// is an under-report (contract rule 2), never an over-report.
unsafe impl<T: ?Sized> Trace for &'static T {
    #[inline(always)]
    fn trace(&self, _: &mut Tracer<'_>) {}
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        false
    }
}

// SAFETY: T6: owns no value of `T`.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    #[inline(always)]
    fn trace(&self, _: &mut Tracer<'_>) {}
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        false
    }
}

// SAFETY: T6: a `Copy` type cannot own a handle (handles are not `Copy`).
unsafe impl<T: Copy> Trace for Cell<T> {
    #[inline(always)]
    fn trace(&self, _: &mut Tracer<'_>) {}
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        false
    }
}

// SAFETY: T1: reports the content when it can be borrowed. A cell that is
// mutably borrowed while the collector runs reports nothing: its handles
// count as outside references for this collection (HAZARDS 3).
unsafe impl<T: Trace> Trace for RefCell<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        // SAFETY: T3: the reference lives only for this call, during which no
        // mutable borrow can start: tracing runs no user code except `Trace`
        // impls, which must not borrow cells mutably (contract rule 3). A
        // borrow already active fails here and is handled. (Unguarded: no
        // write to the cell's flag, so tracing leaves objects' cache lines
        // clean.)
        match unsafe { self.try_borrow_unguarded() } {
            Ok(value) => value.trace(tracer),
            Err(_) => tracer.note_borrowed_cell(),
        }
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1: reports the content once set.
unsafe impl<T: Trace> Trace for OnceCell<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Some(value) = self.get() {
            value.trace(tracer)
        }
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1: reports the owned value.
unsafe impl<T: Trace> Trace for Box<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer)
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T6: owns no handle (reports nothing, T2).
unsafe impl Trace for Box<str> {
    #[inline(always)]
    fn trace(&self, _: &mut Tracer<'_>) {}
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        false
    }
}

// SAFETY: T1: reports each owned element once.
unsafe impl<T: Trace> Trace for [T] {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if T::__gc_tracked() {
            T::__gc_trace_slice(self, tracer)
        }
    }
}

// SAFETY: T1: reports each owned element once.
unsafe impl<T: Trace> Trace for Box<[T]> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer)
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1–T6: a trait object reports what its impl reports (which upholds them).
unsafe impl<'a> Trace for Box<dyn Trace + 'a> {
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer)
    }
}

// SAFETY: T1: reports the owned value, if any.
unsafe impl<T: Trace> Trace for Option<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Some(v) = self {
            v.trace(tracer)
        }
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1: reports the owned value.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        match self {
            Ok(v) => v.trace(tracer),
            Err(e) => e.trace(tracer),
        }
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>() || E::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1: reports each owned element once.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.as_slice().trace(tracer)
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        N > 0 && T::__gc_tracked_with::<Fu>()
    }
}

/// `Trace` for a collection iterated by `&C` (one element type `T`, and
/// maybe a hasher parameter). Also used for `indexmap`/`hashbrown`.
macro_rules! sequence {
    ($($(#[$attr:meta])* $name:ident < T $(, $s:ident)? >),* $(,)?) => {$(
        $(#[$attr])*
        // SAFETY: T1: reports each owned element once.
        unsafe impl<T: $crate::trace::Trace $(, $s)?> $crate::trace::Trace for $name<T $(, $s)?> {
            #[inline(always)]
            fn trace(&self, tracer: &mut $crate::trace::Tracer<'_>) {
                if T::__gc_tracked() {
                    for v in self {
                        v.trace(tracer)
                    }
                }
            }
            #[inline(always)]
            fn __gc_tracked_with<Fu: $crate::trace::Fuel>() -> bool {
                T::__gc_tracked_with::<Fu>()
            }
        }
    )*};
}
#[cfg(any(feature = "indexmap", feature = "hashbrown"))]
pub(crate) use sequence;

// SAFETY: T1: reports each owned element once.
unsafe impl<T: Trace> Trace for Vec<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.as_slice().trace(tracer)
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

// SAFETY: T1: reports each owned element once (the two halves of the ring).
unsafe impl<T: Trace> Trace for VecDeque<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        let (front, back) = self.as_slices();
        front.trace(tracer);
        back.trace(tracer);
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

sequence!(LinkedList<T>, BTreeSet<T>, BinaryHeap<T>, HashSet<T, S>);

/// `Trace` for a map iterated by `&M` as `(&K, &V)` (and maybe a hasher
/// parameter). Also used for `indexmap`/`hashbrown`.
macro_rules! map {
    ($($(#[$attr:meta])* $map:ident < K, V $(, $s:ident)? >),* $(,)?) => {$(
        $(#[$attr])*
        // SAFETY: T1: reports each owned key and value once.
        unsafe impl<K: $crate::trace::Trace, V: $crate::trace::Trace $(, $s)?>
            $crate::trace::Trace for $map<K, V $(, $s)?>
        {
            #[inline(always)]
            fn trace(&self, tracer: &mut $crate::trace::Tracer<'_>) {
                if Self::__gc_tracked() {
                    for (k, v) in self {
                        k.trace(tracer);
                        v.trace(tracer);
                    }
                }
            }
            #[inline(always)]
            fn __gc_tracked_with<Fu: $crate::trace::Fuel>() -> bool {
                K::__gc_tracked_with::<Fu>() || V::__gc_tracked_with::<Fu>()
            }
        }
    )*};
}
#[cfg(any(feature = "indexmap", feature = "hashbrown"))]
pub(crate) use map;

map!(HashMap<K, V, S>, BTreeMap<K, V>);

// SAFETY: T1: reports each owned element once.
unsafe impl<A: smallvec::Array> Trace for smallvec::SmallVec<A>
where
    A::Item: Trace,
{
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.as_slice().trace(tracer)
    }
    #[inline(always)]
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        A::Item::__gc_tracked_with::<Fu>()
    }
}

macro_rules! tuple {
    ($(($($p:ident $i:tt),+)),* $(,)?) => {$(
        // SAFETY: T1: reports each owned element once.
        unsafe impl<$($p: Trace),+> Trace for ($($p,)+) {
            #[inline(always)]
            fn trace(&self, tracer: &mut Tracer<'_>) {
                $(self.$i.trace(tracer);)+
            }
            #[inline(always)]
            fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
                false $(|| $p::__gc_tracked_with::<Fu>())+
            }
        }
    )*};
}

tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11),
);
