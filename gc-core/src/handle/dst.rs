//! Handles to unsized values: the parts `coerce!` works with, and the
//! constructors of `Gc<str>`, `Gc<[T]>` and `Gc<T>` from a `Box<T>`.

use crate::handle::strong::Gc;
use crate::handle::weak::Weak;
use crate::heap::dst::finish_unsized;
use crate::heap::header::{Counts, ErasedType, GcBox, VTable};
use crate::trace::Trace;
use std::mem::ManuallyDrop;
use std::num::NonZeroU64;
use std::ptr::NonNull;

/// A handle taken apart for `coerce!`: its pointer, which the compiler
/// coerces, and a token that rebuilds the same kind of handle. Not a
/// public API.
#[doc(hidden)]
pub trait CoerceParts {
    /// `NonNull<GcBox<T, _>>`.
    type Ptr;
    /// Rebuilds the handle (`__rebuild`).
    type Token;
    /// Take the handle apart; its reference moves into the parts.
    fn __into_parts(self) -> (Self::Ptr, Self::Token);
}

/// The rest of a `Gc` (nothing). Not a public API.
#[doc(hidden)]
pub struct GcToken(());

/// The rest of a `Weak`. Not a public API.
#[doc(hidden)]
pub struct WeakToken {
    callback: Option<NonZeroU64>,
    erased: (&'static VTable, usize),
    epoch: u32,
}

impl<T: ?Sized + Trace + 'static> CoerceParts for Gc<T> {
    type Ptr = NonNull<GcBox<T>>;
    type Token = GcToken;
    #[inline(always)]
    fn __into_parts(self) -> (Self::Ptr, GcToken) {
        let this = ManuallyDrop::new(self);
        (this.ptr, GcToken(()))
    }
}

impl<T: ?Sized + Trace + 'static> CoerceParts for Weak<T> {
    type Ptr = NonNull<GcBox<T>>;
    type Token = WeakToken;
    #[inline(always)]
    fn __into_parts(self) -> (Self::Ptr, WeakToken) {
        let (raw, callback, erased, epoch) = self.into_parts();
        (
            raw,
            WeakToken {
                callback,
                erased,
                epoch,
            },
        )
    }
}

impl GcToken {
    /// Rebuild the `Gc`.
    ///
    /// # Safety
    /// `ptr` is the pointer taken apart with this token, possibly coerced
    /// by the compiler (same address, the compiler's metadata).
    #[inline(always)]
    pub unsafe fn __rebuild<U: ?Sized + Trace + 'static>(self, ptr: NonNull<GcBox<U>>) -> Gc<U> {
        // SAFETY: I1, I8: the strong reference of the handle taken apart moves
        // here; the object is the same (caller), and the compiler's
        // coercion made `U`'s metadata describe its value.
        unsafe { Gc::from_raw_owned(ptr) }
    }
}

impl WeakToken {
    /// Rebuild the `Weak`.
    ///
    /// # Safety
    /// As for [`GcToken::__rebuild`].
    #[inline(always)]
    pub unsafe fn __rebuild<U: ?Sized + Trace + 'static>(self, ptr: NonNull<GcBox<U>>) -> Weak<U> {
        // The weak reference and the callback (its registry entry is keyed
        // by address, which is unchanged) move here; `erased` describes
        // the concrete object, whatever the handle's type (I8).
        Weak::from_parts(ptr, self.callback, self.erased, self.epoch)
    }
}

/// Turn a handle into the same kind of handle to an unsized type its value
/// coerces to: `Gc<T>` → `Gc<U>`, `Weak<T>` → `Weak<U>`, `sync::Gc<T>` →
/// `sync::Gc<U>`, `sync::Weak<T>` → `sync::Weak<U>`, where `T` unsizes to
/// `U` (`T: Unsize<U>`: a type to a trait object of a trait it implements,
/// `[T; N]` to `[T]`, a trait object to one of its supertraits). The
/// target is inferred from context.
///
/// It is the stable form of `CoerceUnsized` (which the `nightly` feature
/// implements, so that plain `let s: Gc<dyn Shape> = Gc::new(c)` works
/// there). The compiler checks the coercion: a target the value does not
/// unsize to is a compile error. The handle keeps its object (same
/// address, counts untouched); only its type changes.
///
/// # Examples
///
/// ```
/// use pygc::{coerce, Gc, Trace, Weak};
///
/// trait Shape: Trace {
///     fn area(&self) -> f64;
/// }
///
/// #[derive(Trace)]
/// struct Circle { r: f64 }
///
/// impl Shape for Circle {
///     fn area(&self) -> f64 { 3.0 * self.r * self.r }
/// }
///
/// let c = Gc::new(Circle { r: 1.0 });
/// let s: Gc<dyn Shape> = coerce!(c.clone());
/// assert_eq!(s.area(), 3.0);
/// assert!(Gc::<dyn Shape>::ptr_eq(&coerce!(c), &s));
///
/// let w: Weak<dyn Shape> = coerce!(Gc::downgrade(&s));
/// assert!(w.upgrade().is_some());
///
/// let xs: Gc<[u8]> = coerce!(Gc::new([1, 2, 3]));
/// assert_eq!(&xs[..], &[1, 2, 3]);
/// ```
///
/// A target the value does not coerce to does not compile:
///
/// ```compile_fail
/// use pygc::{coerce, Gc, Trace};
/// trait Shape: Trace {}
/// let s: Gc<dyn Shape> = coerce!(Gc::new(1_u8)); // u8 is not a Shape
/// ```
#[macro_export]
macro_rules! coerce {
    ($handle:expr $(,)?) => {{
        let handle = $handle;
        let (ptr, token) = $crate::__private::CoerceParts::__into_parts(handle);
        // SAFETY: I1, I8: `ptr` and `token` are the parts of one handle, taken
        // apart just above; the only change to `ptr` is the compiler's
        // coercion at this call (same address, the compiler's metadata).
        // (The call is the block's value, so that the expected type reaches
        // its argument: that is where the coercion happens.)
        unsafe { token.__rebuild(ptr) }
    }};
}

/// The constructors of unsized handles, as `Rc`'s, for a strong handle
/// type `$handle` whose objects have counts `$counts` and which has an
/// associated `unsafe fn finish(NonNull<GcBox<T, $counts>>, &ErasedType)
/// -> Self` that links a new object made by `heap::dst` and an associated
/// `fn alloc_scope(impl FnOnce() -> R) -> R` in which objects are allocated; `$path` is the
/// handle's path for the examples; `$($bound)*` are extra bounds on `T`.
macro_rules! unsized_constructors {
    ($handle:ident, $path:literal, $counts:ty, $($bound:tt)*) => {
        impl<T: ?Sized + Trace $($bound)* + 'static> From<Box<T>> for $handle<T> {
            /// Move a boxed value (sized or not: `Box<dyn Shape>`,
            /// `Box<str>`, `Box<[T]>`) onto the heap. The value is moved,
            /// not cloned; its concrete type decides whether the object is
            /// tracked.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse pygc::Trace;\nuse ", $path, ";\n")]
            /// trait Named: Trace + Send + Sync { fn name(&self) -> String; }
            /// #[derive(Trace)]
            /// struct N(String);
            /// impl Named for N { fn name(&self) -> String { self.0.clone() } }
            ///
            /// let b: Box<dyn Named> = Box::new(N("n".into()));
            /// let g: Gc<dyn Named> = Gc::from(b);
            /// assert_eq!(g.name(), "n");
            /// let s: Gc<str> = Gc::from(Box::<str>::from("hi"));
            /// assert_eq!(&*s, "hi");
            /// ```
            fn from(boxed: Box<T>) -> Self {
                let (ptr, erased) = $handle::<T>::alloc_scope(|| crate::heap::dst::box_into_object::<T, $counts>(boxed, crate::handle::note_alloc));
                // SAFETY: I1, I8: a fresh object made by `heap::dst`, with its
                // erased type.
                unsafe { $handle::finish(ptr, &erased) }
            }
        }

        impl<T: Trace $($bound)* + 'static> From<Vec<T>> for $handle<[T]> {
            /// Move the elements of a vector into a new slice object
            /// (tracked iff `T` may own handles).
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let xs: Gc<[i32]> = Gc::from(vec![1, 2, 3]);
            /// assert_eq!(&xs[..], &[1, 2, 3]);
            /// assert!(!Gc::is_tracked(&xs));
            /// let hs: Gc<[Gc<i32>]> = Gc::from(vec![Gc::new(1)]);
            /// assert!(Gc::is_tracked(&hs));
            /// ```
            fn from(v: Vec<T>) -> Self {
                let (ptr, erased) = $handle::<[T]>::alloc_scope(|| crate::heap::dst::vec_into_object::<T, $counts>(v, crate::handle::note_alloc));
                // SAFETY: I1, I8: as in `From<Box<T>>`.
                unsafe { $handle::finish(ptr, &erased) }
            }
        }

        impl<T: Trace $($bound)* + Clone + 'static> From<&[T]> for $handle<[T]> {
            /// Clone the elements into a new slice object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let xs: Gc<[u8]> = Gc::from(&b"abc"[..]);
            /// assert_eq!(&xs[..], b"abc");
            /// ```
            fn from(v: &[T]) -> Self {
                $handle::from(v.to_vec())
            }
        }

        impl<T: Trace $($bound)* + 'static> FromIterator<T> for $handle<[T]> {
            /// Collect into a new slice object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let squares: Gc<[u32]> = (1..4).map(|i| i * i).collect();
            /// assert_eq!(&squares[..], &[1, 4, 9]);
            /// ```
            fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
                $handle::from(iter.into_iter().collect::<Vec<T>>())
            }
        }

        impl<T: Trace $($bound)* + 'static> Default for $handle<[T]> {
            /// An empty slice object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// assert!(Gc::<[u8]>::default().is_empty());
            /// ```
            fn default() -> Self {
                $handle::from(Vec::new())
            }
        }

        impl From<&str> for $handle<str> {
            /// Copy a string into a new (untracked) `str` object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let s: Gc<str> = Gc::from("hello");
            /// assert_eq!(&*s, "hello");
            /// assert!(!Gc::is_tracked(&s));
            /// ```
            fn from(s: &str) -> Self {
                let (ptr, erased) = $handle::<str>::alloc_scope(|| crate::heap::dst::str_into_object::<$counts>(s, crate::handle::note_alloc));
                // SAFETY: I1, I8: as in `From<Box<T>>`.
                unsafe { $handle::finish(ptr, &erased) }
            }
        }

        impl From<String> for $handle<str> {
            /// Copy a `String` into a new `str` object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let s: Gc<str> = Gc::from(String::from("owned"));
            /// assert_eq!(&*s, "owned");
            /// ```
            fn from(s: String) -> Self {
                $handle::from(&s[..])
            }
        }

        impl Default for $handle<str> {
            /// An empty `str` object.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// assert_eq!(&*Gc::<str>::default(), "");
            /// ```
            fn default() -> Self {
                $handle::from("")
            }
        }
    };
}
pub(crate) use unsized_constructors;

impl<T: ?Sized + Trace + 'static> Gc<T> {
    /// Run `f`, which allocates objects of this heap (nothing to set up).
    #[inline(always)]
    fn alloc_scope<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// A new object made by `heap::dst` (strong 1, value written, not
    /// linked yet): link it if tracked, as [`Gc::new`], and hand out its
    /// handle.
    ///
    /// # Safety
    /// `ptr` is such an object of this thread's heap, `erased` its erased
    /// type.
    unsafe fn finish(ptr: NonNull<GcBox<T>>, erased: &ErasedType) -> Gc<T> {
        // SAFETY: I1: forwarded: a fresh object of this heap and its erased
        // type, kept alive by the strong reference `ptr` holds (I1).
        unsafe { finish_unsized(ptr.cast(), erased) };
        // SAFETY: I1: forwarded: the fresh object's one strong reference.
        unsafe { Gc::from_raw_owned(ptr) }
    }
}

unsized_constructors!(Gc, "pygc::Gc", Counts,);

// The `nightly` feature: the compiler coerces handles by itself, as it
// does `Rc`/`Weak` (`CoerceUnsized`), and `self: Gc<Self>` methods are
// dispatchable on trait objects (`DispatchFromDyn`). Same address, the
// compiler's metadata: exactly what `coerce!` does.
#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<Gc<U>> for Gc<T>
where
    T: ?Sized + Trace + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + 'static,
{
}

#[cfg(feature = "nightly")]
impl<T, U> std::ops::DispatchFromDyn<Gc<U>> for Gc<T>
where
    T: ?Sized + Trace + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + 'static,
{
}

#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<Weak<U>> for Weak<T>
where
    T: ?Sized + Trace + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + 'static,
{
}

#[cfg(all(test, feature = "nightly"))]
mod nightly_tests {
    use crate::handle::strong::Gc;
    use crate::handle::weak::Weak;
    use crate::trace::{Trace, Tracer};

    trait Shape: Trace {
        fn sides(&self) -> u32;
    }

    struct Square;

    // SAFETY: T6: owns no handle.
    unsafe impl Trace for Square {
        fn trace(&self, _: &mut Tracer<'_>) {}
    }

    impl Shape for Square {
        fn sides(&self) -> u32 {
            4
        }
    }

    #[test]
    fn the_compiler_coerces_handles() {
        let s: Gc<dyn Shape> = Gc::new(Square);
        assert_eq!(s.sides(), 4);
        let sq = Gc::new(Square);
        let w: Weak<Square> = Gc::downgrade(&sq);
        let w: Weak<dyn Shape> = w;
        assert!(w.upgrade().is_some());
        drop(sq);
        assert!(w.upgrade().is_none());
        let t: Gc<dyn Trace> = s;
        // A manual impl that does not answer `__gc_tracked_with` is tracked.
        assert!(Gc::is_tracked(&t));
    }
}
