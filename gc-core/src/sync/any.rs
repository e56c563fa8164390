//! `sync::GcAny`.

use super::counts::SyncCounts;
use super::dealloc::release;
use super::heap::heap;
use crate::heap::death::Erased;
use crate::heap::header::ObjPtr;
use crate::heap::header::RefCounter;
use crate::trace::Trace;
use std::any::TypeId;
use std::fmt;

/// A strong, type-erased handle to a sync object.
///
/// # Examples
///
/// ```
/// let any = pygc::sync::Gc::to_any(&pygc::sync::Gc::new(7_u16));
/// assert_eq!(*any.downcast::<u16>().unwrap(), 7);
/// ```
pub struct GcAny {
    pub(crate) obj: ObjPtr,
}

// SAFETY: S4: only sync objects (T: Send + Sync) are wrapped.
unsafe impl Send for GcAny {}
// SAFETY: S4: as above.
unsafe impl Sync for GcAny {}

impl GcAny {
    /// # Safety
    /// `obj` is a live sync object; the caller transfers one strong reference.
    pub(crate) unsafe fn from_obj(obj: ObjPtr) -> GcAny {
        GcAny { obj }
    }

    fn counts(&self) -> &SyncCounts {
        // SAFETY: I1: a strong handle keeps the object alive.
        unsafe { SyncCounts::of(self.obj.counts) }
    }

    /// The value's type name.
    ///
    /// # Examples
    ///
    /// ```
    /// let any = pygc::sync::Gc::to_any(&pygc::sync::Gc::new(1_u8));
    /// assert_eq!(any.type_name(), "u8");
    /// ```
    pub fn type_name(&self) -> &'static str {
        (self.obj.vtable.type_name)()
    }

    /// Whether the value is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let any = pygc::sync::Gc::to_any(&pygc::sync::Gc::new(1_u8));
    /// assert!(any.is::<u8>());
    /// assert!(!any.is::<u16>());
    /// ```
    pub fn is<T: Trace + Send + Sync + 'static>(&self) -> bool {
        (self.obj.vtable.type_id)() == TypeId::of::<T>()
    }

    /// The value as a `&T`, if it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// let any = pygc::sync::Gc::to_any(&pygc::sync::Gc::new(7_u8));
    /// assert_eq!(any.downcast_ref::<u8>(), Some(&7));
    /// assert_eq!(any.downcast_ref::<u16>(), None);
    /// ```
    pub fn downcast_ref<T: Trace + Send + Sync + 'static>(&self) -> Option<&T> {
        if self.is::<T>() {
            // SAFETY: I6, I8: the type matches; the strong handle keeps the value
            // alive and it is only read through `&T` (I6).
            Some(unsafe { &*self.obj.value_ptr().cast::<T>() })
        } else {
            None
        }
    }

    /// Whether the collector tracks the object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::{Gc, GcMutex};
    /// assert!(!Gc::to_any(&Gc::new(1)).is_tracked());
    /// let edge: Gc<GcMutex<Option<Gc<u8>>>> = Gc::new(GcMutex::new(None));
    /// assert!(Gc::to_any(&edge).is_tracked());
    /// ```
    pub fn is_tracked(&self) -> bool {
        // SAFETY: I1: this strong handle keeps the object alive (L1).
        unsafe { self.obj.header() }.is_some_and(|h| {
            let _lists = heap().lock_running();
            // Under the list lock (S4; a nursery object's header only
            // changes by a gather, which needs the lock, or by its death,
            // which our handle rules out: N4).
            h.is_linked()
        })
    }

    /// The number of strong handles.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// assert_eq!(pygc::sync::Gc::to_any(&g).strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.counts().strong() as usize
    }

    /// A pointer to the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// assert_eq!(pygc::sync::Gc::to_any(&g).as_ptr(), pygc::sync::Gc::as_ptr(&g) as *const ());
    /// ```
    pub fn as_ptr(&self) -> *const () {
        self.obj.value_ptr()
    }

    /// Whether two handles point at the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::{Gc, GcAny};
    /// let g = Gc::new(1);
    /// assert!(GcAny::ptr_eq(&Gc::to_any(&g), &Gc::to_any(&g)));
    /// ```
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.obj.counts == b.obj.counts
    }
}

impl Clone for GcAny {
    fn clone(&self) -> Self {
        self.counts().inc_strong();
        GcAny { obj: self.obj }
    }
}

impl Drop for GcAny {
    fn drop(&mut self) {
        if self.counts().dec_strong() {
            // SAFETY: I1: last strong reference of a live object.
            unsafe { release(self.obj, Erased) }
        }
    }
}

impl fmt::Debug for GcAny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object at {:p}>", self.type_name(), self.as_ptr())
    }
}
