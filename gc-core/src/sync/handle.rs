//! `sync::Gc`, `sync::Weak`, `sync::GcAny`.

use super::{heap, release, SyncCounts};
use crate::heap::header::{counts_to_header, GcBox, ObjPtr, FINALIZED, HAS_CALLBACKS};
use crate::primitive;
use crate::trace::{Trace, Tracer};
use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

type SyncBox<T> = GcBox<T, SyncCounts>;

/// A strong handle to a value on the thread-safe heap: `Send + Sync`, with
/// atomic counts, collected across threads by [`sync::gc`](crate::sync::gc).
///
/// # Examples
///
/// ```
/// use pygc::sync::{self, GcMutex};
/// use pygc::Trace;
///
/// #[derive(Trace)]
/// struct Node { next: GcMutex<Option<sync::Gc<Node>>> }
///
/// let a = sync::Gc::new(Node { next: GcMutex::new(None) });
/// let b = sync::Gc::new(Node { next: GcMutex::new(Some(a.clone())) });
/// *a.next.lock() = Some(b.clone());            // a cycle
/// let t = std::thread::spawn(move || drop(b)); // dropped on another thread
/// t.join().unwrap();
/// drop(a);
/// assert!(sync::gc::collect() >= 2);
/// ```
pub struct Gc<T: Trace + Send + Sync + 'static> {
    pub(crate) ptr: NonNull<SyncBox<T>>,
    _owns: PhantomData<SyncBox<T>>,
}

// SAFETY: the value is `Send + Sync`, counts are atomic, and the header is
// only touched under the heap's locking discipline (sync module S4).
unsafe impl<T: Trace + Send + Sync + 'static> Send for Gc<T> {}
// SAFETY: as above.
unsafe impl<T: Trace + Send + Sync + 'static> Sync for Gc<T> {}

impl<T: Trace + Send + Sync + 'static> Gc<T> {
    #[inline(always)]
    fn counts(&self) -> &SyncCounts {
        // SAFETY: a strong handle keeps the object alive (I1).
        unsafe { &(*self.ptr.as_ptr()).counts }
    }

    #[inline(always)]
    pub(crate) fn obj(&self) -> ObjPtr {
        ObjPtr {
            counts: self.ptr.cast(),
            vtable: SyncBox::<T>::vtable(),
        }
    }

    /// Put `value` on the sync heap (tracked if `T` may own handles; may
    /// start an automatic collection when this thread holds no guard).
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(5);
    /// assert_eq!(*g, 5);
    /// ```
    pub fn new(value: T) -> Gc<T> {
        let ptr = SyncBox::<T>::allocate(1, 1);
        // SAFETY: fresh allocation, uninitialised value slot.
        unsafe { std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value)) };
        let gc = Gc {
            ptr,
            _owns: PhantomData,
        };
        if T::__gc_tracked() {
            let heap = heap();
            if heap.track_new(counts_to_header(ptr.cast())) {
                heap.collect_generations();
            }
        }
        gc
    }

    /// A weak handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// let w = pygc::sync::Gc::downgrade(&g);
    /// assert_eq!(w.upgrade().map(|g| *g), Some(1));
    /// ```
    pub fn downgrade(this: &Self) -> Weak<T> {
        this.counts().inc_weak();
        Weak {
            ptr: Some(this.ptr),
            callback: None,
            _marker: PhantomData,
        }
    }

    /// A weak handle with a callback that runs (on the thread where the
    /// referent dies, or on the collecting thread) at most once, with the
    /// single-thread semantics of [`crate::Gc::downgrade_with_callback`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// let g = pygc::sync::Gc::new(1);
    /// let _w = pygc::sync::Gc::downgrade_with_callback(&g, move || r.store(true, Ordering::SeqCst));
    /// drop(g);
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    pub fn downgrade_with_callback(
        this: &Self,
        callback: impl FnOnce() + Send + 'static,
    ) -> Weak<T> {
        let mut weak = Gc::downgrade(this);
        let id = primitive::lock(&heap().weak_callbacks)
            .register(this.ptr.as_ptr() as usize, Box::new(callback));
        this.counts().set_flag(HAS_CALLBACKS);
        weak.callback = Some(id);
        weak
    }

    /// The number of strong handles.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// let h = g.clone();
    /// assert_eq!(pygc::sync::Gc::strong_count(&g), 2);
    /// # drop(h);
    /// ```
    pub fn strong_count(this: &Self) -> usize {
        this.counts().strong() as usize
    }

    /// The number of weak handles.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// let _w = pygc::sync::Gc::downgrade(&g);
    /// assert_eq!(pygc::sync::Gc::weak_count(&g), 1);
    /// ```
    pub fn weak_count(this: &Self) -> usize {
        this.counts().weak() as usize - 1
    }

    /// Whether two handles point at the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// assert!(pygc::sync::Gc::ptr_eq(&g, &g.clone()));
    /// ```
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }

    /// A pointer to the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1);
    /// assert_eq!(unsafe { *pygc::sync::Gc::as_ptr(&g) }, 1);
    /// ```
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: in-bounds projection of a live box.
        unsafe { std::ptr::addr_of!((*this.ptr.as_ptr()).value).cast() }
    }

    /// Whether the collector tracks the object.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!pygc::sync::Gc::is_tracked(&pygc::sync::Gc::new(1)));
    /// ```
    pub fn is_tracked(this: &Self) -> bool {
        this.obj().header().is_some_and(|h| {
            let _w = heap().lock_running();
            // SAFETY: live header, read under the world mutex (S4).
            unsafe { h.as_ref() }.is_linked()
        })
    }

    /// Whether the finalizer has run.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!pygc::sync::Gc::is_finalized(&pygc::sync::Gc::new(1)));
    /// ```
    pub fn is_finalized(this: &Self) -> bool {
        this.counts().has_flag(FINALIZED)
    }

    /// A new strong, type-erased handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(1_u8);
    /// assert_eq!(pygc::sync::Gc::to_any(&g).type_name(), "u8");
    /// ```
    pub fn to_any(this: &Self) -> GcAny {
        this.counts().inc_strong();
        GcAny { obj: this.obj() }
    }
}

impl<T: Trace + Send + Sync + 'static> Clone for Gc<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        self.counts().inc_strong();
        Gc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T: Trace + Send + Sync + 'static> Drop for Gc<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.counts().dec_strong() {
            // SAFETY: we released the last strong reference of a live object.
            unsafe { release(self.obj()) }
        }
    }
}

impl<T: Trace + Send + Sync + 'static> Deref for Gc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: strong > 0 keeps the value alive; it is never mutated
        // through the handle (I6).
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

crate::handle::value_trait_impls!(Gc, + Send + Sync);

// SAFETY: reports its one edge; only the sync collector looks at it.
unsafe impl<T: Trace + Send + Sync + 'static> Trace for Gc<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.visit_sync(self.ptr.cast(), T::__gc_tracked());
    }
}

/// A weak handle to a sync object.
///
/// # Examples
///
/// ```
/// let w: pygc::sync::Weak<i32> = pygc::sync::Weak::new();
/// assert!(w.upgrade().is_none());
/// ```
pub struct Weak<T: Trace + Send + Sync + 'static> {
    ptr: Option<NonNull<SyncBox<T>>>,
    callback: Option<u64>,
    _marker: PhantomData<SyncBox<T>>,
}

// SAFETY: as for `Gc`.
unsafe impl<T: Trace + Send + Sync + 'static> Send for Weak<T> {}
// SAFETY: as for `Gc`.
unsafe impl<T: Trace + Send + Sync + 'static> Sync for Weak<T> {}

impl<T: Trace + Send + Sync + 'static> Weak<T> {
    /// A weak handle that never upgrades.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pygc::sync::Weak::<u8>::new().upgrade().is_none());
    /// ```
    pub fn new() -> Self {
        Weak {
            ptr: None,
            callback: None,
            _marker: PhantomData,
        }
    }

    /// A strong handle if the value is alive and not cyclic trash. Takes a
    /// permit (waits while a collection has the world stopped), then
    /// increments only from non-zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(2);
    /// let w = pygc::sync::Gc::downgrade(&g);
    /// drop(g);
    /// assert!(w.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Gc<T>> {
        let ptr = self.ptr?;
        let _permit = heap().permit();
        // SAFETY: a weak handle keeps the allocation alive (I1).
        let counts = unsafe { &(*ptr.as_ptr()).counts };
        if counts.try_inc_strong() {
            Some(Gc {
                ptr,
                _owns: PhantomData,
            })
        } else {
            None
        }
    }

    /// Strong handles to the referent (0 once it is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(2);
    /// assert_eq!(pygc::sync::Gc::downgrade(&g).strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        // SAFETY: alive while this handle is (I1).
        self.ptr
            .map_or(0, |p| unsafe { &(*p.as_ptr()).counts }.strong() as usize)
    }
}

impl<T: Trace + Send + Sync + 'static> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: Trace + Send + Sync + 'static> Clone for Weak<T> {
    fn clone(&self) -> Self {
        if let Some(p) = self.ptr {
            // SAFETY: alive while this handle is (I1).
            unsafe { &(*p.as_ptr()).counts }.inc_weak();
        }
        Weak {
            ptr: self.ptr,
            callback: None,
            _marker: PhantomData,
        }
    }
}

impl<T: Trace + Send + Sync + 'static> Drop for Weak<T> {
    fn drop(&mut self) {
        let Some(p) = self.ptr else { return };
        if let Some(id) = self.callback {
            let removed =
                primitive::lock(&heap().weak_callbacks).unregister(p.as_ptr() as usize, id);
            drop(removed);
        }
        // SAFETY: alive while this handle is (I1).
        if unsafe { &(*p.as_ptr()).counts }.dec_weak() {
            // SAFETY: last reference; the value was dropped before the
            // implicit weak was released (I1).
            unsafe { SyncBox::<T>::dealloc(p) }
        }
    }
}

impl<T: Trace + Send + Sync + 'static> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}

// SAFETY: owns no strong edge; reports its callback id (weak phase).
unsafe impl<T: Trace + Send + Sync + 'static> Trace for Weak<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.visit_weak(self.callback);
    }
}

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

// SAFETY: only sync objects (T: Send + Sync) are wrapped.
unsafe impl Send for GcAny {}
// SAFETY: as above.
unsafe impl Sync for GcAny {}

impl GcAny {
    /// # Safety
    /// `obj` is a live sync object; the caller transfers one strong reference.
    pub(crate) unsafe fn from_obj(obj: ObjPtr) -> GcAny {
        GcAny { obj }
    }

    fn counts(&self) -> &SyncCounts {
        // SAFETY: a strong handle keeps the object alive.
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

    /// The typed handle, or `Err(self)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let any = pygc::sync::Gc::to_any(&pygc::sync::Gc::new(1_u8));
    /// assert!(any.downcast::<u32>().is_err());
    /// ```
    pub fn downcast<T: Trace + Send + Sync + 'static>(self) -> Result<Gc<T>, GcAny> {
        if (self.obj.vtable.type_id)() == TypeId::of::<T>() {
            let this = ManuallyDrop::new(self);
            Ok(Gc {
                ptr: this.obj.counts.cast(),
                _owns: PhantomData,
            })
        } else {
            Err(self)
        }
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
            // SAFETY: last strong reference of a live object.
            unsafe { release(self.obj) }
        }
    }
}

impl fmt::Debug for GcAny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object at {:p}>", self.type_name(), self.as_ptr())
    }
}
