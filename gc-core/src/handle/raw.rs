//! The rest of `Rc`'s API on the handles: raw pointers (`into_raw`,
//! `from_raw`, `increment_strong_count`, `decrement_strong_count`,
//! `Weak::as_ptr`/`into_raw`/`from_raw`), `make_mut`, `pin` (invariant
//! I9 in `heap::header`), and the auto traits `Rc` has (`Unpin`,
//! `UnwindSafe`, `RefUnwindSafe`). The strong handles' part is one macro
//! for both heaps; the weak handles' part is per heap (their weak epochs
//! live in different tables, header I2).

use crate::handle::strong::Gc;
use crate::handle::weak::Weak;
use crate::heap::header::Counts;
use crate::heap::weakepoch;
use crate::trace::Trace;

/// The accessors (`counts`, `obj`), `Clone`, the raw-pointer API, `pin` and the
/// auto traits of a strong handle type `$handle` whose objects have counts
/// `$counts` (it has a `ptr` field, `as_ptr`, `from_raw_owned` and `new`);
/// `$path` is its path for the examples, `$($bound)*` the extra bounds on
/// `T`.
macro_rules! strong_raw_api {
    ($handle:ident, $path:literal, $counts:ty, $($bound:tt)*) => {
        impl<T: ?Sized + Trace $($bound)* + 'static> $handle<T> {
            /// The object's reference counts.
            #[inline(always)]
            pub(crate) fn counts(&self) -> &$counts {
                // SAFETY: I1: a strong handle keeps its object alive. Only the
                // counts field is borrowed, never the whole box (the value may
                // be mutably borrowed through `get_mut`).
                unsafe { &(*self.ptr.as_ptr()).counts }
            }

            /// The type-erased object (for an unsized `T`, of its concrete type).
            #[inline(always)]
            pub(crate) fn obj(&self) -> crate::heap::header::ObjPtr {
                // SAFETY: I1, I8: a strong handle: live, and an object without a
                // header has its value intact (I8).
                unsafe { crate::heap::dst::obj_of(self.ptr) }
            }
        }

        impl<T: ?Sized + Trace $($bound)* + 'static> Clone for $handle<T> {
            /// Another strong handle to the same object.
            #[inline(always)]
            fn clone(&self) -> Self {
                // A second handle also proves any `&mut` from `get_mut` dead
                // on the per-thread heap: its collector ignores MUT_EXPOSED
                // once strong > 1 (header I6).
                self.counts().inc_strong();
                // SAFETY: I1: the reference just added moves into the handle.
                unsafe { $handle::from_raw_owned(self.ptr) }
            }
        }

        impl<T: ?Sized + Trace $($bound)* + 'static> $handle<T> {
            /// Consume the handle, returning a pointer to the value (the
            /// address [`as_ptr`](Self::as_ptr) returns). The strong
            /// reference moves into the pointer: rebuild the handle with
            /// [`from_raw`](Self::from_raw) (or release it with
            /// [`decrement_strong_count`](Self::decrement_strong_count)),
            /// or the object leaks.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let a = Gc::new(String::from("raw"));
            /// let p = Gc::into_raw(a);
            /// assert_eq!(unsafe { &*p }, "raw");
            /// let a = unsafe { Gc::from_raw(p) };
            /// assert_eq!(Gc::strong_count(&a), 1);
            /// ```
            pub fn into_raw(this: Self) -> *const T {
                let ptr = $handle::as_ptr(&this);
                std::mem::forget(this);
                ptr
            }

            /// Rebuild a handle from a pointer returned by
            /// [`into_raw`](Self::into_raw): it takes over the strong
            /// reference the pointer holds. `T` may be an unsized type
            /// the original one coerces to (`into_raw` of a `Gc<Circle>`,
            /// `from_raw` as a `Gc<dyn Shape>` after an `as` cast of the
            /// pointer).
            ///
            /// # Panics
            ///
            /// If the object has no strong reference left (a pointer
            /// rebuilt twice, while a weak handle kept its memory): the
            /// misuse this can detect.
            ///
            /// # Safety
            ///
            /// `ptr` was returned by `into_raw` of a handle of this heap
            /// whose type has the same value type (or coerces to `T`), and
            /// each such pointer is rebuilt (or passed to
            /// `decrement_strong_count`) at most once per strong reference
            /// it holds. As for `Rc::from_raw`, anything else is undefined
            /// behaviour.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let p = Gc::into_raw(Gc::new([1, 2, 3]));
            /// let xs: Gc<[i32]> = unsafe { Gc::from_raw(p as *const [i32]) };
            /// assert_eq!(&xs[..], &[1, 2, 3]);
            /// ```
            pub unsafe fn from_raw(ptr: *const T) -> Self {
                // SAFETY: I6: caller: `ptr` came from `into_raw` and holds a
                // strong reference, so the value is intact (I6).
                let boxed = unsafe { crate::heap::dst::box_of_value::<T, $counts>(ptr) };
                // SAFETY: as above: the object is live (I1).
                let counts = unsafe { &(*boxed.as_ptr()).counts };
                assert!(
                    counts.strong() > 0,
                    concat!(
                        "gc: ", stringify!($handle), "::from_raw/decrement_strong_count on an object ",
                        "with no strong reference left (the pointer was rebuilt twice?)"
                    )
                );
                // SAFETY: I1: the pointer's strong reference moves here.
                unsafe { $handle::from_raw_owned(boxed) }
            }

            /// Add a strong reference to the object `ptr` points at, as
            /// `Rc::increment_strong_count`: a later `from_raw` (or
            /// `decrement_strong_count`) takes it over.
            ///
            /// # Safety
            ///
            /// As for [`from_raw`](Self::from_raw): `ptr` came from
            /// `into_raw` and still holds its strong reference.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let p = Gc::into_raw(Gc::new(5));
            /// unsafe { Gc::increment_strong_count(p) };
            /// let a = unsafe { Gc::from_raw(p) };
            /// assert_eq!(Gc::strong_count(&a), 2);
            /// unsafe { Gc::decrement_strong_count(p) };
            /// assert_eq!(Gc::strong_count(&a), 1);
            /// ```
            pub unsafe fn increment_strong_count(ptr: *const T) {
                // SAFETY: I1: forwarded; the rebuilt handle is not dropped, so
                // the pointer keeps its reference.
                let this = std::mem::ManuallyDrop::new(unsafe { $handle::from_raw(ptr) });
                std::mem::forget($handle::clone(&this));
            }

            /// Release one strong reference to the object `ptr` points at,
            /// as `Rc::decrement_strong_count` (the last one drops the
            /// value, as dropping the last handle does).
            ///
            /// # Panics
            ///
            /// As [`from_raw`](Self::from_raw), if no strong reference is
            /// left.
            ///
            /// # Safety
            ///
            /// As for [`from_raw`](Self::from_raw): the reference released
            /// is one the caller owns through `ptr`.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let a = Gc::new(1);
            /// let p = Gc::into_raw(a.clone());
            /// assert_eq!(Gc::strong_count(&a), 2);
            /// unsafe { Gc::decrement_strong_count(p) };
            /// assert_eq!(Gc::strong_count(&a), 1);
            /// ```
            pub unsafe fn decrement_strong_count(ptr: *const T) {
                // SAFETY: I1: forwarded.
                drop(unsafe { $handle::from_raw(ptr) });
            }
        }

        impl<T: Trace $($bound)* + 'static> $handle<T> {
            /// Put `value` on the heap and pin it: `Pin<Gc<T>>`, as
            /// `Rc::pin`. The value is never moved again: its object
            /// carries a flag (header I9) that makes `try_unwrap`,
            /// `into_inner` and `get_mut` refuse it, even on handles to it
            /// the heap hands out later (`gc::get_objects`, `GcAny`,
            /// `from_finalizing`), and it is dropped in place.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// use std::marker::PhantomPinned;
            /// let p = Gc::pin((5, PhantomPinned));
            /// assert_eq!(p.0, 5);
            /// let q = p.clone();
            /// assert!(std::ptr::eq(&*p, &*q));
            /// ```
            pub fn pin(value: T) -> std::pin::Pin<$handle<T>> {
                let this = $handle::new(value);
                // I9: set before any other handle can exist that could
                // move the value (the only one is `this`).
                crate::heap::header::RefCounter::test_and_set_flag(
                    this.counts(),
                    crate::heap::header::PINNED,
                );
                // SAFETY: I9: the value is never moved out of its object
                // from now on, and dropped in place before its memory is
                // freed (or leaked). `Gc` has no `DerefMut`.
                unsafe { std::pin::Pin::new_unchecked(this) }
            }
        }

        // As `Rc`/`Arc`: moving a handle never moves its value.
        impl<T: ?Sized + Trace $($bound)* + 'static> Unpin for $handle<T> {}

        // As `Rc`/`Arc`: a panic cannot leave a shared value half-updated
        // through a handle (it gives only `&T`).
        impl<T: ?Sized + Trace + std::panic::RefUnwindSafe $($bound)* + 'static>
            std::panic::UnwindSafe for $handle<T>
        {
        }

        impl<T: ?Sized + Trace + std::panic::RefUnwindSafe $($bound)* + 'static>
            std::panic::RefUnwindSafe for $handle<T>
        {
        }
    };
}
pub(crate) use strong_raw_api;

strong_raw_api!(Gc, "pygc::Gc", Counts,);

impl<T: Trace + 'static> Gc<T> {
    /// A mutable reference to the value, cloning it into a new object
    /// first if other handles (strong or weak) exist or the value is
    /// pinned, as `Rc::make_mut` (which moves instead of cloning when only
    /// weak handles exist: here those stay attached to the old object,
    /// which is freed with the clone taking its place).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let mut a = Gc::new(1);
    /// let b = a.clone();
    /// *Gc::make_mut(&mut a) += 1; // shared: cloned first
    /// assert_eq!((*a, *b), (2, 1));
    /// *Gc::make_mut(&mut a) += 1; // unique now: in place
    /// assert_eq!(*a, 3);
    /// ```
    pub fn make_mut(this: &mut Self) -> &mut T
    where
        T: Clone,
    {
        if Gc::get_mut(this).is_none() {
            *this = Gc::new((**this).clone());
        }
        Gc::get_mut(this).expect("gc: a new handle is unique")
    }
}

/// `from_parts`, `as_ptr`, `into_raw` and `from_raw` of a weak handle type
/// `$weak` whose objects have counts `$counts` (with
/// `note_into_raw`/`take_from_raw` for its heap's epoch table, I2), whose
/// whose callback ids are `$callback` and which has `ptr()`, `epoch()` and
/// the fields `raw`, `callback`, `erased`, `epoch` (a cell made `From<u32>`),
/// `_marker`; `$path` is the `use` path of
/// the heap's `{Gc, Weak}` for the examples.
macro_rules! weak_raw_api {
    ($weak:ident, $path:literal, $counts:ty, $callback:ty, $($bound:tt)*) => {
        impl<T: ?Sized + Trace $($bound)* + 'static> $weak<T> {
            /// Rebuild a handle from its parts (`downgrade`, `new_cyclic`,
            /// `coerce!`, `from_raw`); the epoch goes into the handle's own
            /// cell (`Cell` or atomic, I2).
            pub(crate) fn from_parts(
                raw: std::ptr::NonNull<crate::heap::header::GcBox<T, $counts>>,
                callback: $callback,
                erased: (&'static crate::heap::header::VTable, usize),
                epoch: u32,
            ) -> $weak<T> {
                $weak {
                    raw,
                    callback,
                    erased,
                    epoch: epoch.into(),
                    _marker: std::marker::PhantomData,
                }
            }

            /// A pointer to the value (dangling for `Weak::new()`); valid
            /// to read only while a strong handle keeps the value alive, as
            /// `Weak::as_ptr` of std.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let a = Gc::new(7);
            /// let w = Gc::downgrade(&a);
            /// assert_eq!(w.as_ptr(), Gc::as_ptr(&a));
            /// ```
            pub fn as_ptr(&self) -> *const T {
                match self.ptr() {
                    // SAFETY: I1, I10: an in-bounds projection of an allocation the
                    // handle keeps alive (I1); nothing is read.
                    Some(p) => unsafe { std::ptr::addr_of!((*p.as_ptr()).value) as *const T },
                    // The empty handle's sentinel address, with its metadata.
                    None => self.raw.as_ptr() as *const T,
                }
            }
        }

        impl<T: Trace $($bound)* + 'static> $weak<T> {
            /// Consume the handle, returning [`as_ptr`](Self::as_ptr); the
            /// weak reference moves into the pointer (rebuild it with
            /// [`from_raw`](Self::from_raw)). A handle cleared by a
            /// collection stays cleared through the round trip (header
            /// I2); raw pointers of one object are interchangeable (if some
            /// were cleared and some not, the first ones rebuilt are the
            /// live ones). For sized values only: a weak handle to an
            /// untracked unsized value keeps its erased type (I8).
            ///
            /// # Panics
            ///
            /// If this handle owns a weak callback (made by
            /// `downgrade_with_callback`): the callback would lose its
            /// owner. Call `into_raw` on a clone (clones own no callback).
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let a = Gc::new(3);
            /// let p = Gc::downgrade(&a).into_raw();
            /// let w = unsafe { Weak::from_raw(p) };
            /// assert_eq!(w.upgrade().as_deref(), Some(&3));
            /// ```
            pub fn into_raw(self) -> *const T {
                if let Some(p) = self.ptr() {
                    assert!(
                        self.callback.is_none(),
                        "gc: Weak::into_raw on the handle that owns a weak callback \
                         (downgrade_with_callback): call it on a clone"
                    );
                    // SAFETY: the handle keeps the allocation alive (I1).
                    let counts = unsafe { &(*p.as_ptr()).counts };
                    counts.note_into_raw(p.as_ptr() as usize, self.epoch());
                }
                let ptr = self.as_ptr();
                std::mem::forget(self);
                ptr
            }

            /// Rebuild a weak handle from a pointer returned by
            /// [`into_raw`](Self::into_raw) (it takes over the weak
            /// reference); the pointer of `Weak::new()` gives an empty
            /// handle.
            ///
            /// # Safety
            ///
            /// `ptr` was returned by `Weak::<T>::into_raw` of this heap and
            /// is rebuilt at most once per weak reference it holds, as for
            /// std's `Weak::from_raw`.
            ///
            /// # Examples
            ///
            #[doc = concat!("```\nuse ", $path, ";\n")]
            /// let p = Weak::<u8>::new().into_raw();
            /// assert!(unsafe { Weak::from_raw(p) }.upgrade().is_none());
            /// let a = Gc::new(1_u8);
            /// let p = Gc::downgrade(&a).into_raw();
            /// drop(a);
            /// assert!(unsafe { Weak::from_raw(p) }.upgrade().is_none());
            /// ```
            pub unsafe fn from_raw(ptr: *const T) -> Self {
                if ptr as usize == crate::handle::weak::EMPTY {
                    return $weak::new();
                }
                // SAFETY: I1: caller: from `into_raw` of a live weak reference,
                // which keeps the allocation alive (I1).
                let p = unsafe { crate::heap::dst::box_of_sized_value::<T, $counts>(ptr) };
                // SAFETY: I1: as above.
                let counts = unsafe { &(*p.as_ptr()).counts };
                let epoch = counts.take_from_raw(p.as_ptr() as usize);
                let erased = (crate::heap::header::GcBox::<T, $counts>::vtable(), 0);
                $weak::from_parts(p, None, erased, epoch)
            }
        }
    };
}
pub(crate) use weak_raw_api;

weak_raw_api!(
    Weak,
    "pygc::{Gc, Weak}",
    Counts,
    Option<std::num::NonZeroU64>,
);

impl Counts {
    /// A handle of `epoch` to the object at `addr` becomes a raw pointer
    /// (the per-thread epoch table, I2).
    fn note_into_raw(&self, addr: usize, epoch: u32) {
        weakepoch::note_into_raw(self, addr, epoch)
    }

    /// The epoch of a handle to the object at `addr` rebuilt from a raw
    /// pointer.
    fn take_from_raw(&self, addr: usize) -> u32 {
        weakepoch::take_from_raw(self, addr)
    }
}
