//! `GcAny`: a strong, type-erased handle.

use crate::heap::dealloc::release;
use crate::heap::death::Erased;
use crate::heap::header::ObjPtr;
use crate::trace::Trace;
use std::any::TypeId;
use std::fmt;

/// A strong handle to an object of any type, as the collector's API hands
/// them out ([`gc::get_objects`](crate::gc::get_objects),
/// [`gc::garbage`](crate::gc::garbage), ...). It keeps the object alive like
/// a [`Gc`](crate::Gc); [`GcAny::downcast`] turns it back into one.
///
/// # Examples
///
/// ```
/// use pygc::{Gc, GcAny};
/// let any: GcAny = Gc::to_any(&Gc::new(5_i64));
/// assert!(any.type_name().contains("i64"));
/// let back: Gc<i64> = any.downcast().unwrap();
/// assert_eq!(*back, 5);
/// ```
pub struct GcAny {
    pub(crate) obj: ObjPtr,
}

impl GcAny {
    /// Wrap an object that the caller hands one strong reference of.
    ///
    /// # Safety
    /// `obj` is live and the caller transfers one strong reference.
    pub(crate) unsafe fn from_obj(obj: ObjPtr) -> GcAny {
        GcAny { obj }
    }

    /// A new strong handle to a live object.
    ///
    /// # Safety
    /// `obj` is live, its strong count is above zero or it is owned by the
    /// collector and not yet dropped.
    pub(crate) unsafe fn new_ref(obj: ObjPtr) -> GcAny {
        // SAFETY: I1: forwarded.
        unsafe { obj.counts() }.inc_strong();
        GcAny { obj }
    }

    /// The Rust type name of the value (`std::any::type_name`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// assert_eq!(Gc::to_any(&Gc::new(1_u8)).type_name(), "u8");
    /// ```
    pub fn type_name(&self) -> &'static str {
        (self.obj.vtable.type_name)()
    }

    /// Whether the value is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let any = Gc::to_any(&Gc::new(1_u8));
    /// assert!(any.is::<u8>());
    /// assert!(!any.is::<u16>());
    /// ```
    pub fn is<T: Trace + 'static>(&self) -> bool {
        (self.obj.vtable.type_id)() == TypeId::of::<T>()
    }

    /// A reference to the value if it is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let any = Gc::to_any(&Gc::new(9_u32));
    /// assert_eq!(any.downcast_ref::<u32>(), Some(&9));
    /// ```
    pub fn downcast_ref<T: Trace + 'static>(&self) -> Option<&T> {
        if self.is::<T>() {
            // SAFETY: same type; the handle keeps the value alive (I6).
            Some(unsafe { &*self.obj.value_ptr().cast::<T>() })
        } else {
            None
        }
    }

    /// The number of strong handles.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(0);
    /// let any = Gc::to_any(&a);
    /// assert_eq!(any.strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        // SAFETY: I1: a strong handle keeps the object alive.
        unsafe { self.obj.counts() }.strong() as usize
    }

    /// A pointer to the value (equal to `Gc::as_ptr` of the same object).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(0);
    /// assert_eq!(Gc::to_any(&a).as_ptr(), Gc::as_ptr(&a) as *const ());
    /// ```
    pub fn as_ptr(&self) -> *const () {
        self.obj.value_ptr()
    }

    /// Whether two handles point at the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{Gc, GcAny};
    /// let a = Gc::new(0);
    /// assert!(GcAny::ptr_eq(&Gc::to_any(&a), &Gc::to_any(&a)));
    /// ```
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.obj.counts == b.obj.counts
    }

    /// Whether the object is on a generation list.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// assert!(!Gc::to_any(&Gc::new(0)).is_tracked());
    /// ```
    pub fn is_tracked(&self) -> bool {
        // SAFETY: I1: this handle keeps the object alive (L1).
        unsafe { self.obj.header() }.is_some_and(|h| h.is_linked())
    }
}

impl Clone for GcAny {
    fn clone(&self) -> Self {
        // SAFETY: I1: this handle keeps the object alive.
        unsafe { GcAny::new_ref(self.obj) }
    }
}

impl Drop for GcAny {
    fn drop(&mut self) {
        // SAFETY: I1: this handle keeps the object alive.
        if unsafe { self.obj.counts() }.dec_strong() {
            // SAFETY: I1: we owned the last strong reference.
            unsafe { release(self.obj, Erased) }
        }
    }
}

impl fmt::Debug for GcAny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object at {:p}>", self.type_name(), self.as_ptr())
    }
}
