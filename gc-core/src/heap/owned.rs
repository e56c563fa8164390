//! References the heap itself owns (`gc.garbage`): the heap layer holds no
//! handle type, so it keeps an [`OwnedRef`], released like a handle.

use super::header::{ObjPtr, RefCounter};
use std::marker::PhantomData;

/// Counts whose heap reclaims an object at refcount death: `heap::dealloc::release` for
/// the per-thread heap, the sync heap's own for `SyncCounts`.
pub(crate) trait Reclaim: RefCounter {
    /// The strong count of `obj` just reached zero.
    ///
    /// # Safety
    /// As for `heap::dealloc::release`: `obj` is a live object of this heap whose last
    /// strong reference the caller just released.
    unsafe fn release(obj: ObjPtr);
}

/// One strong reference to an object, owned by the heap itself (the
/// `gc.garbage` list): the heap layer holds no handle type. Dropping it
/// releases the reference as a handle's drop would.
pub(crate) struct OwnedRef<C: Reclaim> {
    obj: ObjPtr,
    _counts: PhantomData<C>,
}

impl<C: Reclaim> OwnedRef<C> {
    /// A new strong reference to `obj`.
    ///
    /// # Safety
    /// `obj` is a live object of `C`'s heap with an intact value, kept alive
    /// by the caller while this runs (I1).
    pub(crate) unsafe fn new_ref(obj: ObjPtr) -> Self {
        // SAFETY: I1: live per the caller.
        unsafe { C::of(obj.counts) }.inc_strong();
        OwnedRef {
            obj,
            _counts: PhantomData,
        }
    }

    /// The object (this reference keeps it alive).
    pub(crate) fn obj(&self) -> ObjPtr {
        self.obj
    }

    /// Give the reference up to the caller, which must release it (I1).
    pub(crate) fn into_obj(self) -> ObjPtr {
        std::mem::ManuallyDrop::new(self).obj
    }
}

impl<C: Reclaim> Clone for OwnedRef<C> {
    fn clone(&self) -> Self {
        // SAFETY: I1: `self` keeps the object alive.
        unsafe { OwnedRef::new_ref(self.obj) }
    }
}

impl<C: Reclaim> Drop for OwnedRef<C> {
    fn drop(&mut self) {
        // SAFETY: I1: this reference keeps the object alive.
        if unsafe { C::of(self.obj.counts) }.dec_strong() {
            // SAFETY: I1: we released its last strong reference.
            unsafe { C::release(self.obj) }
        }
    }
}
