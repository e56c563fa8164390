//! `Gc<T>`: the strong, refcounted handle.

use crate::handle::any::GcAny;
use crate::handle::weak::Weak;
use crate::heap::alloc::CyclicGuard;
use crate::heap::death::clear_weak_for_good;
use crate::heap::dst::release_handle;
use crate::heap::header::{GcBox, Node, FINALIZED, HAS_CALLBACKS, HAS_HEADER, PINNED};
use crate::heap::{heap, list};
use crate::trace::{Trace, Tracer};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

/// A strong, reference-counted handle to a value on the calling thread's
/// heap, with CPython's semantics: the value is reclaimed as soon as the last
/// handle is dropped (after its finalizer, if any), and cycles of `Gc`
/// handles are found and reclaimed by the cycle collector ([`crate::gc`]).
///
/// `Gc` is `!Send` and `!Sync`: each thread has its own heap. Use
/// `pygc::sync::Gc` (the thread-safe heap) to share a graph between threads.
///
/// # Examples
///
/// ```
/// use pygc::Gc;
///
/// let a = Gc::new(String::from("hello"));
/// let b = a.clone();
/// assert_eq!(Gc::strong_count(&a), 2);
/// assert!(Gc::ptr_eq(&a, &b));
/// assert_eq!(*b, "hello");
/// ```
#[repr(transparent)]
pub struct Gc<T: ?Sized + Trace + 'static> {
    pub(crate) ptr: NonNull<GcBox<T>>,
    _owns: PhantomData<GcBox<T>>,
}

impl<T: ?Sized + Trace + 'static> Gc<T> {
    /// Wrap a pointer that already owns one strong reference.
    ///
    /// # Safety
    /// `ptr` points at a live `GcBox<T>` and the caller transfers one strong
    /// reference to the new handle.
    #[inline(always)]
    pub(crate) unsafe fn from_raw_owned(ptr: NonNull<GcBox<T>>) -> Self {
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// Make a weak handle: it does not keep the value alive, and
    /// [`Weak::upgrade`] returns `None` once the value is reclaimed (or known
    /// to be cyclic trash).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let strong = Gc::new(1);
    /// let weak = Gc::downgrade(&strong);
    /// assert_eq!(weak.upgrade().as_deref(), Some(&1));
    /// drop(strong);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(this: &Self) -> Weak<T> {
        this.counts().inc_weak();
        // Using the handle again ends any `&mut` from `get_mut` (I6).
        this.counts().clear_mut_exposed();
        // SAFETY: I1: the weak reference just added moves into the handle;
        // `this` keeps the object alive; `obj` is its erased object (I8).
        unsafe { Weak::from_raw_erased(this.ptr, this.obj()) }
    }

    /// Make a weak handle with a callback, as `weakref.ref(obj, callback)`.
    ///
    /// The callback belongs to the returned handle (its clones are plain weak
    /// handles). It runs at most once, when the referent dies, and only if
    /// this handle is still alive then and is not itself part of the cyclic
    /// trash being reclaimed: at refcount death after the referent's
    /// finalizer (not at all if the finalizer resurrected it); for cyclic
    /// trash in the collector's weak phase, before any finalizer runs.
    /// Callbacks of one referent run newest first. A panicking callback is
    /// reported on stderr and does not stop the others.
    ///
    /// On a thread whose heap is already destroyed (thread exit) the
    /// callback is dropped without running.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// let called = Rc::new(Cell::new(false));
    /// let flag = called.clone();
    /// let obj = Gc::new(42);
    /// let weak = Gc::downgrade_with_callback(&obj, move || flag.set(true));
    /// drop(obj);
    /// assert!(called.get());
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade_with_callback(this: &Self, callback: impl FnOnce() + 'static) -> Weak<T> {
        let mut weak = Gc::downgrade(this);
        if let Some(heap) = heap() {
            let addr = this.ptr.as_ptr().cast::<u8>() as usize;
            let id = heap
                .weak_callbacks
                .borrow_mut()
                .register(addr, Box::new(callback));
            this.counts().set_flag(HAS_CALLBACKS);
            weak.callback = std::num::NonZeroU64::new(id);
        }
        weak
    }

    /// The number of strong handles (`sys.getrefcount(x) - 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(());
    /// let b = a.clone();
    /// assert_eq!(Gc::strong_count(&a), 2);
    /// drop(b);
    /// assert_eq!(Gc::strong_count(&a), 1);
    /// ```
    pub fn strong_count(this: &Self) -> usize {
        this.counts().strong() as usize
    }

    /// The number of weak handles.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(());
    /// let w = Gc::downgrade(&a);
    /// assert_eq!(Gc::weak_count(&a), 1);
    /// # drop(w);
    /// ```
    pub fn weak_count(this: &Self) -> usize {
        // Minus the implicit weak held while the value is alive (I1), and
        // the handles cleared by an earlier collection (I2).
        let addr = this.ptr.as_ptr().cast::<u8>() as usize;
        let stale = crate::heap::weakepoch::stale(this.counts(), addr);
        (this.counts().weak() - 1 - stale) as usize
    }

    /// Whether two handles point at the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(1);
    /// assert!(Gc::ptr_eq(&a, &a.clone()));
    /// assert!(!Gc::ptr_eq(&a, &Gc::new(1)));
    /// ```
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        // Addresses only: the metadata of two handles to one object may
        // differ (vtables are not unique).
        a.ptr.cast::<u8>() == b.ptr.cast::<u8>()
    }

    /// A pointer to the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(7);
    /// assert_eq!(unsafe { *Gc::as_ptr(&a) }, 7);
    /// ```
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: I10: in-bounds projection of a live box; `ManuallyDrop<T>`
        // has the layout and metadata of `T`.
        unsafe { std::ptr::addr_of!((*this.ptr.as_ptr()).value) as *const T }
    }

    /// Whether the collector tracks the object (it is on a generation list).
    /// Objects of types that can own no handle are never tracked.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{Gc, Trace};
    /// #[derive(Trace)]
    /// struct Leaf(u32);
    /// #[derive(Trace)]
    /// struct Branch(Gc<Leaf>);
    /// let leaf = Gc::new(Leaf(1));
    /// assert!(!Gc::is_tracked(&leaf));
    /// assert!(Gc::is_tracked(&Gc::new(Branch(leaf))));
    /// ```
    pub fn is_tracked(this: &Self) -> bool {
        this.header().is_some_and(|h| h.is_linked())
    }

    /// Whether the object's finalizer has run (`gc.is_finalized`). True
    /// for an object resurrected by its finalizer.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// assert!(!Gc::is_finalized(&Gc::new(1)));
    /// ```
    pub fn is_finalized(this: &Self) -> bool {
        this.counts().has_flag(FINALIZED)
    }

    /// A new strong, type-erased handle to the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(3_u8);
    /// let any = Gc::to_any(&a);
    /// assert_eq!(any.as_ptr(), Gc::as_ptr(&a) as *const ());
    /// assert_eq!(Gc::strong_count(&a), 2);
    /// ```
    pub fn to_any(this: &Self) -> GcAny {
        let this = ManuallyDrop::new(this.clone());
        // SAFETY: I1: the clone's strong reference moves into the GcAny.
        unsafe { GcAny::from_obj(this.obj()) }
    }

    /// A mutable reference to the value, if this is the only handle (no
    /// other strong and no weak handle).
    ///
    /// Also `None` for an object that a running collection owns (a
    /// finalizer's view of other cyclic trash), and for a pinned value
    /// ([`Gc::pin`]).
    ///
    /// While the `&mut T` may be live the collector must not trace the value:
    /// until the handle is used again (cloned, downgraded) or moved into a
    /// traced object, the collector treats the value like a mutably borrowed
    /// `RefCell` (what it holds counts as referenced from outside).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let mut a = Gc::new(1);
    /// *Gc::get_mut(&mut a).unwrap() += 1;
    /// assert_eq!(*a, 2);
    /// let _b = a.clone();
    /// assert!(Gc::get_mut(&mut a).is_none());
    /// ```
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        let counts = this.counts();
        if counts.strong() != 1
            || counts.weak() != 1
            || this.is_owned_by_collection()
            || this.is_pinned()
        {
            return None;
        }
        counts.set_mut_exposed();
        // SAFETY: I6: the handle is unique (strong 1, no weak) and borrowed
        // mutably, and MUT_EXPOSED keeps the collector and the `gc` API away
        // from the value while the `&mut` may be live (I6).
        Some(unsafe { &mut (*this.ptr.as_ptr()).value })
    }

    /// The value is pinned (`Gc::pin`): it never moves (I9).
    fn is_pinned(&self) -> bool {
        self.counts().has_flag(PINNED)
    }

    /// Cyclic trash of a running collection (I5): reachable from user code
    /// only through a finalizer that took a handle out of another trash
    /// object; it must stay on the collector's list. Or a zombie (I5), whose
    /// value a collection has dropped.
    fn is_owned_by_collection(&self) -> bool {
        self.header().is_some_and(|h| h.is_owned_by_collector())
    }

    /// The header, if the object has one (I8: read from the counts, so
    /// the value is not touched). Use the node only while `self` lives.
    #[inline(always)]
    pub(crate) fn header(&self) -> Option<Node> {
        if self.counts().has_flag(HAS_HEADER) {
            // SAFETY: I8: HAS_HEADER; L1: this strong handle keeps the
            // object allocated (I1) while the node is used.
            Some(unsafe { Node::of_counts(self.ptr.cast()) })
        } else {
            None
        }
    }
}

impl<T: Trace + 'static> Gc<T> {
    /// A new strong handle to `value`, if this is called from the finalizer
    /// of the very object that holds `value` (its `Finalize::finalize`,
    /// running now on this thread, innermost); `None` everywhere else: a
    /// value that is not on the heap, another object, a finalizer that has
    /// returned, or an outer finalizer while a nested one runs.
    ///
    /// This is how a finalizer resurrects its own object, as a CPython
    /// `__del__` does by storing `self`. At refcount death the object then
    /// lives on untouched (its weak handles keep working; it is tracked
    /// again); found as cyclic trash, it and everything it reaches survive
    /// the collection (their weak handles made before were cleared). A
    /// finalizer never runs twice on the same object.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{Finalize, Gc, Trace};
    /// use std::cell::RefCell;
    ///
    /// thread_local! { static SAVED: RefCell<Option<Gc<Phoenix>>> = RefCell::new(None); }
    ///
    /// #[derive(Trace)]
    /// #[trace(finalize)]
    /// struct Phoenix(u8);
    /// impl Finalize for Phoenix {
    ///     fn finalize(&self) {
    ///         let me = Gc::from_finalizing(self).expect("inside my own finalizer");
    ///         SAVED.with(|s| *s.borrow_mut() = Some(me));
    ///     }
    /// }
    ///
    /// drop(Gc::new(Phoenix(7)));                        // finalized, resurrected
    /// let back = SAVED.with(|s| s.borrow_mut().take()).unwrap();
    /// assert_eq!(back.0, 7);
    /// assert!(Gc::is_finalized(&back));
    /// assert!(Gc::from_finalizing(&*back).is_none());    // not in a finalizer now
    /// ```
    pub fn from_finalizing(value: &T) -> Option<Gc<T>> {
        let counts = crate::heap::finalizing::current::<GcBox<T>>((value as *const T).cast())?;
        let ptr = counts.cast::<GcBox<T>>();
        // SAFETY: F1: the object whose finalizer runs innermost on this
        // thread is a live `GcBox<T>` of this heap, held strongly by the
        // finalizer's caller; the pointer has its allocation's provenance.
        unsafe { &(*ptr.as_ptr()).counts }.inc_strong();
        // SAFETY: I1: we just added the strong reference the handle owns.
        Some(unsafe { Gc::from_raw_owned(ptr) })
    }

    /// Put `value` on the heap. If `T` can own handles the object is tracked:
    /// it joins generation 0 and counts towards the automatic collection
    /// threshold (which may start a collection right here, before the object
    /// exists).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let five = Gc::new(5);
    /// assert_eq!(*five, 5);
    /// assert!(!Gc::is_tracked(&five)); // an i32 can own no handle
    /// ```
    #[inline]
    pub fn new(value: T) -> Gc<T> {
        let heap = super::note_alloc(T::__gc_tracked());
        let ptr = GcBox::<T>::allocate_in(1, 1, heap);
        // SAFETY: I10: freshly allocated, properly aligned, uninitialised value slot.
        unsafe { std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value)) };
        if let Some(heap) = heap {
            // SAFETY: I8: `note_alloc` gives a heap only for a tracked `T`,
            // whose object has a header; L1: the object is new and its
            // handle is ours, so it is allocated.
            heap.track_new::<T>(unsafe { Node::of_counts(ptr.cast()) });
        }
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// Build a value that holds weak handles to itself. While `data_fn` runs
    /// the object does not exist yet: `upgrade` on the weak handle returns
    /// `None` and the collector cannot see it (HAZARDS 15).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{Gc, Trace, Weak};
    ///
    /// #[derive(Trace)]
    /// struct Me { me: Weak<Me> }
    ///
    /// let me = Gc::new_cyclic(|w| {
    ///     assert!(w.upgrade().is_none());
    ///     Me { me: w.clone() }
    /// });
    /// assert!(Gc::ptr_eq(&me.me.upgrade().unwrap(), &me));
    /// ```
    pub fn new_cyclic(data_fn: impl FnOnce(&Weak<T>) -> T) -> Gc<T> {
        let heap = super::note_alloc(T::__gc_tracked());
        // strong 0; weak = implicit + the one lent to `data_fn`.
        let ptr = GcBox::<T>::allocate_in(0, 2, heap);
        // SAFETY: I1: a fresh object; the second weak reference moves into
        // the lent handle.
        let weak = ManuallyDrop::new(unsafe { Weak::from_raw_owned(ptr) });
        let guard = CyclicGuard(ptr);
        let value = data_fn(&weak);
        std::mem::forget(guard);
        // SAFETY: I6: the slot is uninitialised and nobody reads it while strong
        // is 0 (upgrades fail).
        unsafe { std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value)) };
        // SAFETY: I1: live box.
        let counts = unsafe { &(*ptr.as_ptr()).counts };
        counts.set_strong(1);
        drop(ManuallyDrop::into_inner(weak));
        if let Some(heap) = heap {
            // SAFETY: I8: `note_alloc` gives a heap only for a tracked `T`,
            // whose object has a header; L1: the object is new and its
            // handle is ours, so it is allocated.
            heap.track_new::<T>(unsafe { Node::of_counts(ptr.cast()) });
        }
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// Take the value out if this is the only strong handle; otherwise give
    /// the handle back. On success the object leaves the heap: weak handles
    /// to it are cleared and their callbacks run; its finalizer does not run
    /// (the value lives on, owned by the caller). A pinned value
    /// ([`Gc::pin`]) is never taken out.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(String::from("x"));
    /// assert_eq!(Gc::try_unwrap(a), Ok(String::from("x")));
    /// let b = Gc::new(1);
    /// let _b2 = b.clone();
    /// assert!(Gc::try_unwrap(b).is_err());
    /// ```
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        if this.counts().strong() != 1 || this.is_owned_by_collection() || this.is_pinned() {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        let obj = this.obj();
        let counts = this.counts();
        let heap = heap();
        // Leave the heap first (as refcount death does): the callbacks
        // below are user code and may list objects or collect.
        if let Some(h) = this.header() {
            if h.is_linked() {
                list::remove(h);
            }
            if let Some(heap) = heap {
                heap.note_dealloc();
            }
        }
        counts.set_strong(0);
        // As refcount death does (`heap::death::destroy`).
        clear_weak_for_good(heap, obj);
        // SAFETY: I1: strong is 0 and upgrades fail: we own the value; it is
        // moved out exactly once and never dropped in place (I1).
        let value = unsafe { ManuallyDrop::take(&mut (*this.ptr.as_ptr()).value) };
        if counts.dec_weak() {
            // SAFETY: I1: last reference; the value was moved out.
            unsafe { GcBox::<T>::dealloc(this.ptr) };
        }
        Ok(value)
    }

    /// The value, if this is the only strong handle (see [`Gc::try_unwrap`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// assert_eq!(Gc::into_inner(Gc::new(4)), Some(4));
    /// ```
    pub fn into_inner(this: Self) -> Option<T> {
        Gc::try_unwrap(this).ok()
    }

    /// The value, taken out if this handle is unique, cloned otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(vec![1]);
    /// let b = a.clone();
    /// assert_eq!(Gc::unwrap_or_clone(a), vec![1]);
    /// assert_eq!(Gc::unwrap_or_clone(b), vec![1]);
    /// ```
    pub fn unwrap_or_clone(this: Self) -> T
    where
        T: Clone,
    {
        Gc::try_unwrap(this).unwrap_or_else(|gc| (*gc).clone())
    }
}

impl<T: ?Sized + Trace + 'static> Drop for Gc<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.counts().dec_strong() {
            // SAFETY: I1: we owned the last strong reference of a live object.
            unsafe { release_handle(self.ptr) }
        }
    }
}

impl<T: ?Sized + Trace + 'static> Deref for Gc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: I6: strong > 0 keeps the value alive and it is only mutated
        // through `get_mut` on a unique handle (I6).
        unsafe { &self.ptr.as_ref().value }
    }
}

// SAFETY: T1: reports the one handle it owns.
unsafe impl<T: ?Sized + Trace + 'static> Trace for Gc<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        // SAFETY: `self` is a strong handle the traced value owns (I1).
        unsafe { tracer.visit_gc(self.ptr) };
    }
    #[inline(always)]
    fn __gc_trace_slice(slice: &[Self], tracer: &mut Tracer<'_>) {
        // SAFETY: T1, I1: `Gc<T>` is a transparent wrapper of its box pointer, so
        // the slices have the same layout; each is a strong handle the
        // traced value owns (I1).
        let ptrs = unsafe { &*(slice as *const [Self] as *const [NonNull<GcBox<T>>]) };
        // SAFETY: T1, I1: as above.
        unsafe { tracer.visit_gc_slice(ptrs) };
    }
}

crate::handle::value_trait_impls!(Gc, [?Sized+],);

// `GcAny::downcast` lives with `Gc`: the strong handle knows the erased one,
// not the other way round.
impl GcAny {
    /// The typed handle, or `Err(self)` if the value is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let any = Gc::to_any(&Gc::new(String::from("s")));
    /// let any = any.downcast::<i32>().unwrap_err();
    /// assert_eq!(*any.downcast::<String>().unwrap(), "s");
    /// ```
    pub fn downcast<T: Trace + 'static>(self) -> Result<Gc<T>, GcAny> {
        if self.is::<T>() {
            let this = ManuallyDrop::new(self);
            // SAFETY: I1, I8: same type (TypeId), and the strong reference moves.
            Ok(unsafe { Gc::from_raw_owned(this.obj.counts.cast::<GcBox<T>>()) })
        } else {
            Err(self)
        }
    }
}
