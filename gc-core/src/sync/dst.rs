//! Unsized values on the sync heap: `sync::Gc<dyn Trait + Send + Sync>`,
//! `sync::Gc<str>`, `sync::Gc<[T]>`, with the same representation and
//! invariant (I8, `heap::dst`) as the per-thread heap's. The objects are
//! made by `heap::dst`'s generic constructors with `SyncCounts` (never
//! pooled) and linked by the sync heap's `track_new` under the list lock
//! (S4); `coerce!` works for these handles through [`CoerceParts`].

use super::handle::{Gc, Weak};
use super::{heap, SyncCounts};
use crate::handle::dst::CoerceParts;
use crate::heap::dst::{box_into_object, str_into_object, vec_into_object, ErasedType};
use crate::heap::header::{counts_to_header, GcBox, VTable};
use crate::trace::Trace;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

type SyncBox<T> = GcBox<T, SyncCounts>;

impl<T: ?Sized + Trace + Send + Sync + 'static> Gc<T> {
    /// Wrap a pointer that already owns one strong reference.
    ///
    /// # Safety
    /// `ptr` points at a live sync object whose metadata describes its
    /// value (I8), and the caller transfers one strong reference.
    #[inline(always)]
    pub(crate) unsafe fn from_raw_owned(ptr: NonNull<SyncBox<T>>) -> Gc<T> {
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// A new object made by `heap::dst` (strong 1, value written, not
    /// linked yet): link it if tracked, as [`Gc::new`], and hand out its
    /// handle.
    ///
    /// # Safety
    /// `ptr` is such an object, `erased` its erased type.
    unsafe fn finish(ptr: NonNull<SyncBox<T>>, erased: &ErasedType) -> Gc<T> {
        // SAFETY: forwarded: the fresh object's one strong reference.
        let gc = unsafe { Gc::from_raw_owned(ptr) };
        if erased.tracked {
            let heap = heap();
            if heap.track_new(counts_to_header(ptr.cast())) {
                heap.collect_generations();
            }
        }
        gc
    }
}

/// The rest of a `sync::Gc` (nothing). Not a public API.
#[doc(hidden)]
pub struct SyncGcToken(());

/// The rest of a `sync::Weak`. Not a public API.
#[doc(hidden)]
pub struct SyncWeakToken {
    callback: Option<u64>,
    erased: (&'static VTable, usize),
    epoch: u32,
}

impl<T: ?Sized + Trace + Send + Sync + 'static> CoerceParts for Gc<T> {
    type Ptr = NonNull<SyncBox<T>>;
    type Token = SyncGcToken;
    #[inline(always)]
    fn __into_parts(self) -> (Self::Ptr, SyncGcToken) {
        let this = ManuallyDrop::new(self);
        (this.ptr, SyncGcToken(()))
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> CoerceParts for Weak<T> {
    type Ptr = NonNull<SyncBox<T>>;
    type Token = SyncWeakToken;
    #[inline(always)]
    fn __into_parts(self) -> (Self::Ptr, SyncWeakToken) {
        let this = ManuallyDrop::new(self);
        (
            this.raw,
            SyncWeakToken {
                callback: this.callback,
                erased: this.erased,
                epoch: this.epoch,
            },
        )
    }
}

impl SyncGcToken {
    /// Rebuild the `sync::Gc`.
    ///
    /// # Safety
    /// `ptr` is the pointer taken apart with this token, possibly coerced
    /// by the compiler (same address, the compiler's metadata).
    #[inline(always)]
    pub unsafe fn __rebuild<U: ?Sized + Trace + Send + Sync + 'static>(
        self,
        ptr: NonNull<SyncBox<U>>,
    ) -> Gc<U> {
        // SAFETY: the strong reference of the handle taken apart moves
        // here; same object (caller), and the compiler's coercion made
        // `U`'s metadata describe its value.
        unsafe { Gc::from_raw_owned(ptr) }
    }
}

impl SyncWeakToken {
    /// Rebuild the `sync::Weak`.
    ///
    /// # Safety
    /// As for [`SyncGcToken::__rebuild`].
    #[inline(always)]
    pub unsafe fn __rebuild<U: ?Sized + Trace + Send + Sync + 'static>(
        self,
        ptr: NonNull<SyncBox<U>>,
    ) -> Weak<U> {
        // The weak reference and the callback (registered by address,
        // which is unchanged) move here; `erased` describes the concrete
        // object whatever the handle's type (I8).
        Weak {
            raw: ptr,
            callback: self.callback,
            erased: self.erased,
            epoch: self.epoch,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> From<Box<T>> for Gc<T> {
    /// Move a boxed value (sized or not: `Box<dyn Shape + Send + Sync>`,
    /// `Box<str>`, `Box<[T]>`) onto the sync heap. The value is moved, not
    /// cloned; its concrete type decides whether the object is tracked.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{sync, Trace};
    ///
    /// trait Named: Trace + Send + Sync { fn name(&self) -> String; }
    /// #[derive(Trace)]
    /// struct N(String);
    /// impl Named for N { fn name(&self) -> String { self.0.clone() } }
    ///
    /// let b: Box<dyn Named> = Box::new(N("n".into()));
    /// let g: sync::Gc<dyn Named> = sync::Gc::from(b);
    /// assert_eq!(g.name(), "n");
    /// let s: sync::Gc<str> = sync::Gc::from(Box::<str>::from("hi"));
    /// assert_eq!(&*s, "hi");
    /// ```
    fn from(boxed: Box<T>) -> Gc<T> {
        let (ptr, erased) = box_into_object::<T, SyncCounts>(boxed);
        // SAFETY: a fresh object made by `heap::dst`, with its erased type.
        unsafe { Gc::finish(ptr, &erased) }
    }
}

impl<T: Trace + Send + Sync + 'static> From<Vec<T>> for Gc<[T]> {
    /// Move the elements of a vector into a new slice object (tracked iff
    /// `T` may own handles).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let xs: Gc<[i32]> = Gc::from(vec![1, 2, 3]);
    /// assert_eq!(&xs[..], &[1, 2, 3]);
    /// assert!(!Gc::is_tracked(&xs));
    /// let hs: Gc<[Gc<i32>]> = Gc::from(vec![Gc::new(1)]);
    /// assert!(Gc::is_tracked(&hs));
    /// ```
    fn from(v: Vec<T>) -> Gc<[T]> {
        let (ptr, erased) = vec_into_object::<T, SyncCounts>(v);
        // SAFETY: a fresh object made by `heap::dst`, with its erased type.
        unsafe { Gc::finish(ptr, &erased) }
    }
}

impl<T: Trace + Send + Sync + Clone + 'static> From<&[T]> for Gc<[T]> {
    /// Clone the elements into a new slice object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let xs: Gc<[u8]> = Gc::from(&b"abc"[..]);
    /// assert_eq!(&xs[..], b"abc");
    /// ```
    fn from(v: &[T]) -> Gc<[T]> {
        Gc::from(v.to_vec())
    }
}

impl<T: Trace + Send + Sync + 'static> FromIterator<T> for Gc<[T]> {
    /// Collect into a new slice object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let squares: Gc<[u32]> = (1..4).map(|i| i * i).collect();
    /// assert_eq!(&squares[..], &[1, 4, 9]);
    /// ```
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Gc<[T]> {
        Gc::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: Trace + Send + Sync + 'static> Default for Gc<[T]> {
    /// An empty slice object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// assert!(Gc::<[u8]>::default().is_empty());
    /// ```
    fn default() -> Gc<[T]> {
        Gc::from(Vec::new())
    }
}

impl From<&str> for Gc<str> {
    /// Copy a string into a new (untracked) `str` object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let s: Gc<str> = Gc::from("hello");
    /// assert_eq!(&*s, "hello");
    /// assert!(!Gc::is_tracked(&s));
    /// ```
    fn from(s: &str) -> Gc<str> {
        // Untracked: nothing to link.
        let ptr = str_into_object::<SyncCounts>(s);
        // SAFETY: a fresh object with strong 1 holding the string.
        unsafe { Gc::from_raw_owned(ptr) }
    }
}

impl From<String> for Gc<str> {
    /// Copy a `String` into a new `str` object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let s: Gc<str> = Gc::from(String::from("owned"));
    /// assert_eq!(&*s, "owned");
    /// ```
    fn from(s: String) -> Gc<str> {
        Gc::from(&s[..])
    }
}

impl Default for Gc<str> {
    /// An empty `str` object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// assert_eq!(&*Gc::<str>::default(), "");
    /// ```
    fn default() -> Gc<str> {
        Gc::from("")
    }
}

// The `nightly` feature, as for the per-thread handles (handle/dst.rs).
#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<Gc<U>> for Gc<T>
where
    T: ?Sized + Trace + Send + Sync + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + Send + Sync + 'static,
{
}

#[cfg(feature = "nightly")]
impl<T, U> std::ops::DispatchFromDyn<Gc<U>> for Gc<T>
where
    T: ?Sized + Trace + Send + Sync + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + Send + Sync + 'static,
{
}

#[cfg(feature = "nightly")]
impl<T, U> std::ops::CoerceUnsized<Weak<U>> for Weak<T>
where
    T: ?Sized + Trace + Send + Sync + std::marker::Unsize<U> + 'static,
    U: ?Sized + Trace + Send + Sync + 'static,
{
}
