//! `sync::Weak`.

use super::counts::SyncCounts;
use super::handle::Gc;
use super::heap::heap;
use super::world::world;
use crate::handle::weak::EMPTY;
use crate::heap::dst::weak_obj;
use crate::heap::header::{GcBox, VTable, WEAK_EPOCH};
use crate::heap::weakepoch::CLEARED;
use crate::primitive;
use crate::trace::{Trace, Tracer};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

type SyncBox<T> = GcBox<T, SyncCounts>;

/// A weak handle to a sync object.
///
/// # Examples
///
/// ```
/// let w: pygc::sync::Weak<i32> = pygc::sync::Weak::new();
/// assert!(w.upgrade().is_none());
/// ```
pub struct Weak<T: ?Sized + Trace + Send + Sync + 'static> {
    /// The object, or [`EMPTY`] for `Weak::new()` (and handles coerced
    /// from one: the address survives the coercion).
    pub(super) raw: NonNull<SyncBox<T>>,
    pub(super) callback: Option<u64>,
    /// How to free an object without a header once the value is gone
    /// (header I8), taken while the value was alive.
    pub(super) erased: (&'static VTable, usize),
    /// The referent's weak epoch when the handle was made (header I2), or
    /// [`CLEARED`] once a collection cleared this handle on its own (it
    /// was owned by cyclic trash; written through `&self` by its `trace`
    /// while the world is stopped, when only the collector can reach it,
    /// S4). A plain std atomic: never raced (a hint to loom is not needed).
    pub(super) epoch: std::sync::atomic::AtomicU32,
    pub(super) _marker: PhantomData<SyncBox<T>>,
}

// SAFETY: S4, S1: as for `Gc`.
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Send for Weak<T> {}
// SAFETY: S4, S1: as for `Gc`.
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Sync for Weak<T> {}

impl<T: Trace + Send + Sync + 'static> Weak<T> {
    /// A weak handle that never upgrades.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(pygc::sync::Weak::<u8>::new().upgrade().is_none());
    /// ```
    pub fn new() -> Self {
        // An address without provenance, never dereferenced.
        let raw = NonNull::new(EMPTY as *mut SyncBox<T>).expect("non-null");
        Weak::from_parts(raw, None, (SyncBox::<T>::vtable(), 0), 0)
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Weak<T> {
    /// The handle's epoch (I2; [`CLEARED`] once cleared on its own).
    #[inline(always)]
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The object, `None` for an empty handle or one cleared on its own
    /// ([`CLEARED`]): what `upgrade` and the counts look at.
    #[inline(always)]
    fn live_ptr(&self) -> Option<NonNull<SyncBox<T>>> {
        if self.epoch() == CLEARED {
            return None;
        }
        self.ptr()
    }

    /// This handle is owned by cyclic trash (the collector's walk, world
    /// stopped): clear it whatever it points at, as CPython clears every
    /// weakref object in the unreachable set (bpo-38006).
    #[cold]
    fn clear_owned_by_trash(&self) {
        let Some(p) = self.ptr() else { return };
        // SAFETY: a weak handle keeps the allocation alive (I1).
        let counts = unsafe { &(*p.as_ptr()).counts };
        if counts.clear_handle(p.as_ptr().cast::<u8>() as usize, self.epoch()) {
            self.epoch
                .store(CLEARED, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The object, `None` for an empty handle.
    #[inline(always)]
    pub(super) fn ptr(&self) -> Option<NonNull<SyncBox<T>>> {
        if self.raw.cast::<u8>().as_ptr() as usize == EMPTY {
            None
        } else {
            Some(self.raw)
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
        let ptr = self.live_ptr()?;
        let _permit = world().permit();
        // SAFETY: a weak handle keeps the allocation alive (I1).
        let counts = unsafe { &(*ptr.as_ptr()).counts };
        if !counts.try_inc_strong() {
            return None;
        }
        let gc = Gc {
            ptr,
            _owns: PhantomData,
        };
        // I2: a cleared handle stays dead. Checked after the increment: a
        // bump made before the strong count became non-zero again (a legacy
        // finalizer resurrecting on another thread) is visible now, since
        // the increment read that thread's Release store.
        if counts.has_flag(WEAK_EPOCH)
            && counts.epoch(ptr.as_ptr().cast::<u8>() as usize).epoch != self.epoch()
        {
            drop(gc);
            return None;
        }
        Some(gc)
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
        self.live_ptr()
            .map_or(0, |p| unsafe { &(*p.as_ptr()).counts }.strong() as usize)
    }

    /// Weak handles to the referent (0 once no strong handle is left, as
    /// [`std::sync::Weak::weak_count`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(2);
    /// let w = pygc::sync::Gc::downgrade(&g);
    /// let _w2 = w.clone();
    /// assert_eq!(w.weak_count(), 2);
    /// drop(g);
    /// assert_eq!(w.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        let Some(p) = self.live_ptr() else { return 0 };
        // SAFETY: alive while this handle is (I1).
        let counts = unsafe { &(*p.as_ptr()).counts };
        if counts.strong() == 0 {
            0
        } else {
            // Live handles only (I2).
            let stale = counts.epoch(p.as_ptr().cast::<u8>() as usize).stale;
            counts.weak().saturating_sub(1 + stale) as usize
        }
    }

    /// Whether two weak handles point at the same allocation (two
    /// `Weak::new()` handles are equal).
    ///
    /// # Examples
    ///
    /// ```
    /// let g = pygc::sync::Gc::new(2);
    /// let w = pygc::sync::Gc::downgrade(&g);
    /// assert!(w.ptr_eq(&w.clone()));
    /// assert!(!w.ptr_eq(&pygc::sync::Weak::new()));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        // Addresses only (vtables are not unique).
        self.raw.cast::<u8>() == other.raw.cast::<u8>()
    }
}

impl<T: Trace + Send + Sync + 'static> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Clone for Weak<T> {
    fn clone(&self) -> Self {
        let epoch = match self.ptr() {
            Some(p) => {
                // SAFETY: alive while this handle is (I1).
                let counts = unsafe { &(*p.as_ptr()).counts };
                counts.add_weak(p.as_ptr().cast::<u8>() as usize, Some(self.epoch()))
            }
            None => 0,
        };
        Weak::from_parts(self.raw, None, self.erased, epoch)
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Drop for Weak<T> {
    fn drop(&mut self) {
        let Some(p) = self.ptr() else { return };
        let addr = p.as_ptr().cast::<u8>() as usize;
        if let Some(id) = self.callback {
            unregister_callback(addr, id);
        }
        // SAFETY: alive while this handle is (I1).
        let counts = unsafe { &(*p.as_ptr()).counts };
        if counts.release_weak(addr, self.epoch()) {
            // SAFETY: I1: `counts` are `p`'s, and the allocation is live
            // until the dealloc below.
            let obj = unsafe { weak_obj(counts, p.cast(), self.erased) };
            // SAFETY: I1, I8: last reference; the value was dropped before the
            // implicit weak was released (I1); `obj` describes the concrete
            // object (I8).
            unsafe { (obj.vtable.dealloc)(obj.counts, obj.meta) }
        }
    }
}

/// A weak handle that owns callback `id` (of the object at `addr`) is
/// dropped: the callback is unregistered. Cold and out of line, as the
/// per-thread heap's: a weak handle's drop stays small enough to inline.
#[cold]
#[inline(never)]
fn unregister_callback(addr: usize, id: u64) {
    let removed = primitive::lock(&heap().weak_callbacks).unregister(addr, id);
    drop(removed); // may run user Drop code: outside the lock
}

impl<T: ?Sized + Trace + Send + Sync + 'static> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}

// SAFETY: T1, T2: owns no strong edge; reports its callback id and is
// cleared if its owner is trash (`handle_weakrefs`).
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Trace for Weak<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if tracer.visit_weak(self.raw.cast::<u8>().as_ptr() as usize, self.callback) {
            self.clear_owned_by_trash();
        }
    }
}
