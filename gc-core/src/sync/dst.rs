//! Unsized values on the sync heap: `sync::Gc<dyn Trait + Send + Sync>`,
//! `sync::Gc<str>`, `sync::Gc<[T]>`, with the same representation and
//! invariant (I8, `heap::dst`) as the per-thread heap's. The objects are
//! made by `heap::dst`'s generic constructors with `SyncCounts` (never
//! pooled) and linked into the allocating thread's nursery by the sync heap's
//! `track_new` (N1); `coerce!` works for these handles through [`CoerceParts`].

use super::counts::SyncCounts;
use super::handle::Gc;
use super::heap::{heap, NurseryFlag};
use super::weak::Weak;
use super::world::world;
use crate::handle::dst::CoerceParts;
use crate::heap::header::{ErasedType, GcBox, Node, VTable};
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

    /// Run `f`, which allocates objects of this heap, holding a world slot
    /// (taken first if this thread holds none): a tracked object that fits
    /// comes from the slot's pool (SP2).
    #[inline(always)]
    fn alloc_scope<R>(f: impl FnOnce() -> R) -> R {
        world().with_own_slot(|_| f())
    }

    /// A new object made by `heap::dst` (strong 1, value written, not
    /// linked yet): link it if tracked, as [`Gc::new`], and hand out its
    /// handle.
    ///
    /// # Safety
    /// `ptr` is such an object, `erased` its erased type.
    unsafe fn finish(ptr: NonNull<SyncBox<T>>, erased: &ErasedType) -> Gc<T> {
        // SAFETY: I1: forwarded: the fresh object's one strong reference.
        let gc = unsafe { Gc::from_raw_owned(ptr) };
        if erased.tracked {
            let heap = heap();
            // SAFETY: I8: `erased.tracked`: allocated with a header; L1:
            // `gc`, the object's one strong handle, keeps it alive.
            let node = unsafe { Node::of_counts(ptr.cast()) };
            if heap.track_new(node, gc.counts(), NurseryFlag::Unshared) {
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
                epoch: this.epoch(),
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
        // SAFETY: I1, I8: the strong reference of the handle taken apart moves
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
        Weak::from_parts(ptr, self.callback, self.erased, self.epoch)
    }
}

crate::handle::dst::unsized_constructors!(Gc, "pygc::sync::Gc", SyncCounts, + Send + Sync);

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
