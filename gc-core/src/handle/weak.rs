//! `Weak<T>`: a handle that does not keep its referent alive.

use crate::handle::strong::Gc;
use crate::heap::dst::weak_obj;
use crate::heap::header::{
    Counts, GcBox, Node, ObjPtr, VTable, HAS_HEADER, WEAK_CLEARED, WEAK_EPOCH,
};
use crate::heap::{heap, weakepoch};
use crate::trace::{Trace, Tracer};
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::ptr::NonNull;

/// The address of an empty weak handle (`Weak::new()`): never an
/// object's (objects are aligned to at least 4 bytes).
pub(crate) const EMPTY: usize = usize::MAX;

/// A weak handle: it does not keep the value alive. [`Weak::upgrade`] gives a
/// [`Gc`] while the value lives, and `None` once it was reclaimed or found to
/// be cyclic trash (weak handles to trash are cleared before any finalizer
/// runs, as CPython clears weakrefs).
///
/// # Examples
///
/// ```
/// use pygc::{Gc, Weak};
/// let empty: Weak<i32> = Weak::new();
/// assert!(empty.upgrade().is_none());
/// let a = Gc::new(5);
/// let w = Gc::downgrade(&a);
/// assert_eq!(*w.upgrade().unwrap(), 5);
/// ```
pub struct Weak<T: ?Sized + Trace + 'static> {
    /// The object, or [`EMPTY`] for `Weak::new()` (and handles coerced
    /// from one: the address survives the coercion).
    pub(super) raw: NonNull<GcBox<T>>,
    /// The id of the callback this handle owns (`downgrade_with_callback`).
    pub(crate) callback: Option<NonZeroU64>,
    /// How to free an object without a header once the value is gone
    /// (header I8): the vtable of its concrete type and its `meta`, taken
    /// while the value was alive. Unused for objects with a header.
    pub(crate) erased: (&'static VTable, usize),
    /// The referent's weak epoch when the handle was made (header I2), or
    /// [`weakepoch::CLEARED`] once a collection cleared this handle on its
    /// own (it was owned by cyclic trash; written through `&self` by its
    /// `trace`, `handle_weakrefs`).
    pub(super) epoch: Cell<u32>,
    pub(super) _marker: PhantomData<GcBox<T>>,
}

impl<T: Trace + 'static> Weak<T> {
    /// A weak handle that points nowhere; `upgrade` always returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Weak;
    /// assert!(Weak::<u8>::new().upgrade().is_none());
    /// ```
    pub fn new() -> Weak<T> {
        Weak {
            // An address without provenance, never dereferenced.
            raw: NonNull::new(EMPTY as *mut GcBox<T>).expect("non-null"),
            callback: None,
            erased: (GcBox::<T>::vtable(), 0),
            epoch: Cell::new(0),
            _marker: PhantomData,
        }
    }

    /// Wrap a pointer that already owns one weak reference.
    ///
    /// # Safety
    /// I1: `ptr` is a live `GcBox<T>` of this heap, and the weak reference
    /// it owns moves into the handle.
    pub(crate) unsafe fn from_raw_owned(ptr: NonNull<GcBox<T>>) -> Weak<T> {
        weakepoch::note_weak_handle_made();
        Weak {
            raw: ptr,
            callback: None,
            erased: (GcBox::<T>::vtable(), 0),
            // SAFETY: I1: the caller's contract.
            epoch: Cell::new(unsafe { current_epoch(ptr) }),
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + Trace + 'static> Weak<T> {
    /// Wrap a pointer that already owns one weak reference; `obj` is its
    /// erased object (I8).
    ///
    /// # Safety
    /// I1: `ptr` is a live object of this heap, `obj` its erased object, and
    /// the weak reference `ptr` owns moves into the handle.
    pub(crate) unsafe fn from_raw_erased(ptr: NonNull<GcBox<T>>, obj: ObjPtr) -> Weak<T> {
        weakepoch::note_weak_handle_made();
        Weak {
            raw: ptr,
            callback: None,
            erased: (obj.vtable, obj.meta),
            // SAFETY: I1: the caller's contract.
            epoch: Cell::new(unsafe { current_epoch(ptr) }),
            _marker: PhantomData,
        }
    }

    /// Take the handle apart without running its drop (`coerce!`): the
    /// pointer, the callback id, the erased object, the weak epoch.
    #[allow(clippy::type_complexity)]
    pub(crate) fn into_parts(
        self,
    ) -> (
        NonNull<GcBox<T>>,
        Option<NonZeroU64>,
        (&'static VTable, usize),
        u32,
    ) {
        let this = std::mem::ManuallyDrop::new(self);
        (this.raw, this.callback, this.erased, this.epoch.get())
    }

    /// Whether the referent moved to a newer weak epoch than this handle's:
    /// the handle was cleared (I2).
    ///
    /// # Safety
    /// I1: `p` is this handle's live object.
    #[inline]
    unsafe fn stale(&self, p: NonNull<GcBox<T>>) -> bool {
        // SAFETY: I1: the caller's contract.
        let counts = unsafe { Self::counts_of(p) };
        // SAFETY: I1: as above.
        counts.has_flag(WEAK_EPOCH) && unsafe { current_epoch(p) } != self.epoch.get()
    }

    /// The object, `None` for an empty handle.
    #[inline(always)]
    pub(crate) fn ptr(&self) -> Option<NonNull<GcBox<T>>> {
        if self.raw.cast::<u8>().as_ptr() as usize == EMPTY {
            None
        } else {
            Some(self.raw)
        }
    }

    /// The object, `None` for an empty handle or one cleared on its own
    /// ([`weakepoch::CLEARED`]): what `upgrade` and the counts look at.
    #[inline(always)]
    fn live_ptr(&self) -> Option<NonNull<GcBox<T>>> {
        if self.epoch() == weakepoch::CLEARED {
            return None;
        }
        self.ptr()
    }

    /// The counts of the object at `p`.
    ///
    /// # Safety
    /// I1: `p` is the object of a live handle, which keeps the allocation
    /// alive while the reference is used.
    #[inline(always)]
    unsafe fn counts_of<'a>(p: NonNull<GcBox<T>>) -> &'a Counts {
        // SAFETY: I1: the caller's contract.
        unsafe { &(*p.as_ptr()).counts }
    }

    /// A strong handle to the value, if it is still alive and not cyclic trash.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new("x".to_string());
    /// let w = Gc::downgrade(&a);
    /// assert!(w.upgrade().is_some());
    /// drop(a);
    /// assert!(w.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Gc<T>> {
        let ptr = self.live_ptr()?;
        // SAFETY: I1: this weak handle keeps the allocation alive.
        let counts = unsafe { Self::counts_of(ptr) };
        // SAFETY: I1: as above.
        if counts.strong() == 0 || counts.has_flag(WEAK_CLEARED) || unsafe { self.stale(ptr) } {
            return None; // I2
        }
        if counts.has_flag(HAS_HEADER) {
            // SAFETY: I8: HAS_HEADER; L1: this weak handle keeps the
            // allocation alive (I1) while the node is used.
            let header = unsafe { Node::of_counts(ptr.cast()) };
            if header.is_collecting() {
                return None; // I2: cyclic trash (or a zombie, I5)
            }
        }
        counts.inc_strong();
        // SAFETY: I1: we just added the strong reference the handle owns.
        Some(unsafe { Gc::from_raw_owned(ptr) })
    }

    /// The number of strong handles to the referent (0 once it is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(1);
    /// let w = Gc::downgrade(&a);
    /// assert_eq!(w.strong_count(), 1);
    /// drop(a);
    /// assert_eq!(w.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        match self.live_ptr() {
            // SAFETY: the allocation is alive while this handle is (I1).
            Some(p) => unsafe { &(*p.as_ptr()).counts }.strong() as usize,
            None => 0,
        }
    }

    /// The number of live weak handles to the referent (0 once it is gone,
    /// as `Rc`'s `Weak::weak_count`); handles cleared by a collection that
    /// found the referent to be trash are not counted (header I2), even if
    /// the referent was resurrected since.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(1);
    /// let w = Gc::downgrade(&a);
    /// assert_eq!(w.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        match self.live_ptr() {
            Some(p) => {
                // SAFETY: the allocation is alive while this handle is (I1).
                let counts = unsafe { &(*p.as_ptr()).counts };
                if counts.strong() == 0 {
                    0
                } else {
                    let stale = weakepoch::stale(counts, p.as_ptr().cast::<u8>() as usize);
                    (counts.weak() - 1 - stale) as usize
                }
            }
            None => 0,
        }
    }

    /// Whether two weak handles point at the same allocation (two
    /// `Weak::new()` handles are equal).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// let a = Gc::new(1);
    /// assert!(Gc::downgrade(&a).ptr_eq(&Gc::downgrade(&a)));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        // Addresses only: the metadata of two handles to one object may
        // differ (vtables are not unique).
        self.raw.cast::<u8>() == other.raw.cast::<u8>()
    }
}

impl<T: Trace + 'static> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: ?Sized + Trace + 'static> Clone for Weak<T> {
    /// A plain weak handle (a callback stays with the original).
    fn clone(&self) -> Self {
        if let Some(p) = self.ptr() {
            // SAFETY: I1: this weak handle keeps the allocation alive.
            let counts = unsafe { Self::counts_of(p) };
            counts.inc_weak();
            weakepoch::note(counts, p.as_ptr().cast::<u8>() as usize, self.epoch(), 1);
        }
        Weak {
            raw: self.raw,
            callback: None,
            erased: self.erased,
            epoch: self.epoch.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + Trace + 'static> Drop for Weak<T> {
    fn drop(&mut self) {
        let Some(p) = self.ptr() else { return };
        if let Some(id) = self.callback {
            unregister_callback(p.as_ptr().cast::<u8>() as usize, id);
        }
        // SAFETY: I1: the weak reference this handle still owns keeps the
        // allocation alive (until the dealloc below).
        let counts = unsafe { Self::counts_of(p) };
        weakepoch::note(counts, p.as_ptr().cast::<u8>() as usize, self.epoch(), -1);
        if counts.dec_weak() {
            // SAFETY: I1: `counts` are `p`'s, and the allocation is live
            // until the dealloc below.
            let obj = unsafe { weak_obj(counts, p.cast(), self.erased) };
            // SAFETY: I1: last reference: the value was dropped already (the
            // implicit weak is released only after that, I1).
            unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) }
        }
    }
}

/// A weak handle that owns callback `id` (of the object at `addr`) is
/// dropped: the callback is unregistered. Out of line and cold, so that a
/// weak handle's drop (no callback, nearly always) stays small enough to
/// inline at every call site (inlined, the registry's hash lookup made it
/// an out-of-line call of 28 instructions wherever it had two callers).
#[cold]
#[inline(never)]
fn unregister_callback(addr: usize, id: NonZeroU64) {
    if let Some(heap) = heap() {
        let removed = heap.weak_callbacks.borrow_mut().unregister(addr, id.get());
        drop(removed); // may run user Drop code: outside the borrow
    }
}

impl<T: ?Sized + Trace + 'static> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}

// SAFETY: T1, T2: a weak handle owns no strong edge; it reports its callback id so
// the collector can tell which callbacks belong to cyclic trash, and is
// cleared if its owner is trash (`handle_weakrefs`).
unsafe impl<T: ?Sized + Trace + 'static> Trace for Weak<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        let referent = self.raw.cast::<u8>().as_ptr() as usize;
        if tracer.visit_weak(referent, self.callback.map(NonZeroU64::get)) {
            self.clear_owned_by_trash();
        }
    }
}

impl<T: ?Sized + Trace + 'static> Weak<T> {
    /// The handle's epoch (I2; [`weakepoch::CLEARED`] once cleared on its own).
    #[inline(always)]
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch.get()
    }

    /// This handle is owned by cyclic trash: clear it whatever it points
    /// at, as CPython's `handle_weakrefs` clears every weakref object in the
    /// unreachable set (bpo-38006). It upgrades to nothing from now on,
    /// even if its owner is resurrected, and no handle's `weak_count`
    /// counts it.
    #[cold]
    fn clear_owned_by_trash(&self) {
        let Some(p) = self.ptr() else { return };
        // SAFETY: I1: this weak handle keeps the allocation alive.
        let counts = unsafe { Self::counts_of(p) };
        if weakepoch::clear_handle(counts, p.as_ptr().cast::<u8>() as usize, self.epoch()) {
            self.epoch.set(weakepoch::CLEARED);
        }
    }
}

/// The current weak epoch of the object at `p` (I2; 0 without an entry).
///
/// # Safety
/// I1: the caller holds a reference that keeps the allocation alive.
#[inline]
unsafe fn current_epoch<T: ?Sized + Trace + 'static>(p: NonNull<GcBox<T>>) -> u32 {
    // SAFETY: callers hold a reference that keeps the allocation alive (I1).
    let counts = unsafe { &(*p.as_ptr()).counts };
    weakepoch::current(counts, p.as_ptr().cast::<u8>() as usize)
}
