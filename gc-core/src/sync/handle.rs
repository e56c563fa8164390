//! `sync::Gc`.

use super::any::GcAny;
use super::counts::SyncCounts;
use super::dealloc::release;
use super::heap::{heap, NurseryFlag};
use super::nursery;
use super::weak::Weak;
use super::world::world;
use crate::heap::alloc::CyclicGuard;
use crate::heap::death::clear_weak_for_good;
use crate::heap::death::Erased;
use crate::heap::dst::is_thin;
use crate::heap::dst::{has_header, obj_of};
use crate::heap::header::{GcBox, Node, FINALIZED, HAS_CALLBACKS, IN_NURSERY, MUT_EXPOSED, PINNED};
use crate::heap::list;
use crate::primitive::{self, Ordering};
use crate::trace::{Trace, Tracer};
use std::any::TypeId;
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
pub struct Gc<T: ?Sized + Trace + Send + Sync + 'static> {
    pub(crate) ptr: NonNull<SyncBox<T>>,
    pub(super) _owns: PhantomData<SyncBox<T>>,
}

// SAFETY: S4, S1: the value is `Send + Sync`, counts are atomic, and the header is
// only touched under the heap's locking discipline (sync module S4).
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Send for Gc<T> {}
// SAFETY: S4, S1: as above.
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Sync for Gc<T> {}

impl<T: ?Sized + Trace + Send + Sync + 'static> Gc<T> {
    /// The header, if the object has one (I8). Use the node only while
    /// `self` lives, and its link words only under the list lock (S4).
    #[inline(always)]
    pub(crate) fn header(&self) -> Option<Node> {
        // SAFETY: I1: this strong handle keeps the object alive (L1).
        unsafe { self.obj().header() }
    }
}

impl<T: Trace + Send + Sync + 'static> Gc<T> {
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
        let (layout, _) = SyncBox::<T>::allocation_layout();
        if SyncBox::<T>::own_pooled(layout) {
            return Gc::new_pooled(value, layout);
        }
        // N4: a tracked object is flagged for the nursery from the start.
        let weak = if T::__gc_tracked() { 1 | IN_NURSERY } else { 1 };
        let ptr = allocate::<T>(1, weak);
        // SAFETY: I10: fresh allocation, uninitialised value slot.
        unsafe { std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value)) };
        let gc = Gc {
            ptr,
            _owns: PhantomData,
        };
        if T::__gc_tracked() {
            let heap = heap();
            // SAFETY: I8: a tracked type's object has a header; L1: `gc`
            // keeps it alive (I1).
            let node = unsafe { Node::of_counts(ptr.cast()) };
            if heap.track_new(node, gc.counts(), NurseryFlag::AtAllocation) {
                heap.collect_generations();
            }
        }
        gc
    }

    /// [`Gc::new`] of a tracked value whose object fits a slot pool: block,
    /// value and nursery slot in one attached section.
    #[inline(always)]
    fn new_pooled(value: T, layout: std::alloc::Layout) -> Gc<T> {
        let heap = heap();
        let (ptr, flush) = world().attached(|slot| {
            // SAFETY: SP1: `slot` is this attached thread's; SP2: an object
            // of a type and layout the slot pools serve.
            let base = unsafe { slot.pool.alloc_held(layout) };
            // SAFETY: I10: a fresh block of the layout; N4: flagged for the
            // nursery from the start.
            let ptr = unsafe { SyncBox::<T>::init_block(base.as_ptr(), 1, 1 | IN_NURSERY) };
            // SAFETY: I10: fresh allocation, uninitialised value slot.
            unsafe {
                std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value))
            };
            // SAFETY: I8: tracked, so it has a header; N1: the slot is this
            // attached thread's; the object is fresh, unlinked, flagged (N4),
            // and reachable by no other thread.
            let flush = unsafe { slot.nursery.link(Node::of_counts(ptr.cast())) };
            (ptr, flush)
        });
        let gc = Gc {
            ptr,
            _owns: PhantomData,
        };
        if let Some(delta) = flush {
            if heap.add_young(delta) {
                heap.collect_generations();
            }
        }
        gc
    }

    /// Put a value that holds a weak handle to itself on the sync heap.
    /// While `data_fn` runs the object does not exist yet: upgrading the
    /// weak handle (on any thread) returns `None`, and the collector cannot
    /// see it.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::{Gc, Weak};
    /// use pygc::Trace;
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
        // strong 0; weak = implicit + the one lent to `data_fn`.
        let ptr = allocate::<T>(0, 2);
        crate::heap::weakepoch::note_weak_handle_made();
        let weak = ManuallyDrop::new(Weak::from_parts(ptr, None, (SyncBox::<T>::vtable(), 0), 0));
        let abort = CyclicGuard(ptr);
        let value = data_fn(&weak);
        std::mem::forget(abort);
        // SAFETY: I6, S3: the slot is uninitialised and nobody reads it while strong
        // is 0 (upgrades fail, the object is on no list).
        unsafe { std::ptr::addr_of_mut!((*ptr.as_ptr()).value).write(ManuallyDrop::new(value)) };
        // Link before the strong count becomes 1: once it is 1 another
        // thread may upgrade a clone of the weak handle and drop the object.
        // A linked object with strong 0 is a pending death to the collector
        // (S3): it survives, and `get_objects` skips it.
        // SAFETY: I1: live box (weak > 0).
        let counts = unsafe { &(*ptr.as_ptr()).counts };
        // Not fresh: `data_fn` may have sent clones of the weak handle to
        // other threads, which may change the weak word meanwhile.
        // SAFETY: I8: a tracked type's object has a header; L1: the weak
        // handle keeps the allocation alive (I1).
        let due = T::__gc_tracked()
            && heap().track_new(
                unsafe { Node::of_counts(ptr.cast()) },
                counts,
                NurseryFlag::Shared,
            );
        counts.set_strong(1);
        drop(ManuallyDrop::into_inner(weak));
        if due {
            heap().collect_generations();
        }
        Gc {
            ptr,
            _owns: PhantomData,
        }
    }

    /// The value, if this is the only strong handle; otherwise the handle
    /// back. Like [`std::sync::Arc::try_unwrap`], weak handles do not
    /// count: they are cleared (their callbacks run) and no finalizer runs
    /// (the value lives on, owned by the caller). An object a running
    /// collection owns (cyclic trash a finalizer handed out) is refused, and
    /// so is a pinned value (`Gc::pin`, header I9).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let a = Gc::new(String::from("x"));
    /// assert_eq!(Gc::try_unwrap(a), Ok(String::from("x")));
    /// let b = Gc::new(1);
    /// let _b2 = b.clone();
    /// assert!(Gc::try_unwrap(b).is_err());
    /// ```
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        let heap = heap();
        let lists = this.header().map(|_| heap.lock_running());
        if this.is_owned_by_collection() || this.counts().has_flag(PINNED) {
            return Err(this);
        }
        // Acquire: pairs with the Release decrements of the other handles.
        if this
            .counts()
            .strong
            .compare_exchange(1, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            drop(lists);
            return Err(this);
        }
        // SAFETY: I1: strong is 0 and we hold what was the last strong handle.
        Ok(unsafe { Gc::take_value(ManuallyDrop::new(this), lists) })
    }

    /// The value, if this was the last strong handle; `None` otherwise (the
    /// handle is dropped). Of several threads calling it on the last
    /// handles at once, exactly one gets the value, as with
    /// [`std::sync::Arc::into_inner`].
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let a = Gc::new(4);
    /// let b = a.clone();
    /// assert_eq!(Gc::into_inner(a), None);
    /// assert_eq!(Gc::into_inner(b), Some(4));
    /// ```
    pub fn into_inner(this: Self) -> Option<T> {
        let heap = heap();
        let lists = this.header().map(|_| heap.lock_running());
        if this.is_owned_by_collection() || this.counts().has_flag(PINNED) {
            drop(lists);
            drop(this);
            return None;
        }
        let this = ManuallyDrop::new(this);
        if this.counts().strong.fetch_sub(1, Ordering::Release) != 1 {
            return None;
        }
        // As in `SyncCounts::dec_strong`.
        let _ = this.counts().strong.load(Ordering::Acquire);
        // SAFETY: I1: our decrement released the last strong reference.
        Some(unsafe { Gc::take_value(this, lists) })
    }

    /// Move the value out of an object whose strong count this thread just
    /// took to 0, under the list lock `lists` if the object has a header.
    ///
    /// # Safety
    /// Strong is 0 by this thread's own last strong reference (no other
    /// thread can make a new one: upgrades need a non-zero count), and
    /// `lists` is the list lock when the object is tracked.
    unsafe fn take_value(
        this: ManuallyDrop<Self>,
        lists: Option<primitive::MutexGuard<'_, super::heap::WorldState>>,
    ) -> T {
        let obj = this.obj();
        if let (Some(h), Some(_lists)) = (this.header(), lists) {
            let heap = heap();
            // Under the list lock (S4; no gather runs, N5), and this thread
            // holds the only handle.
            if h.is_linked() {
                if this.counts().has_flag(IN_NURSERY) {
                    // SAFETY: N5: flagged, under the list lock, our death.
                    // The slot is left for its owner's scan (N3).
                    unsafe { nursery::unlink(h) };
                } else {
                    list::remove(h);
                }
                heap.sub_young(1);
            }
        }
        // As refcount death does (`heap::death::destroy`).
        clear_weak_for_good(heap(), obj);
        // SAFETY: I1, I9: strong is 0, the object is unlinked and upgrades fail: we
        // own the value; it is moved out once and never dropped in place (I1).
        let value = unsafe { ManuallyDrop::take(&mut (*this.ptr.as_ptr()).value) };
        if this.counts().dec_weak() {
            // SAFETY: I1: last reference; the value was moved out.
            unsafe { SyncBox::<T>::dealloc(this.ptr) };
        }
        value
    }

    /// The value, taken out if this handle is the only strong one, cloned
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
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

/// A new sync object (`GcBox::allocate`): a tracked type's that fits comes
/// from the pool of the slot this thread holds, which it takes first if it
/// holds none (SP2).
#[inline(always)]
fn allocate<T: Trace + Send + Sync + 'static>(strong: u32, weak: u32) -> NonNull<SyncBox<T>> {
    if SyncBox::<T>::own_pooled(SyncBox::<T>::allocation_layout().0) {
        world().with_own_slot(|_| SyncBox::<T>::allocate(strong, weak))
    } else {
        SyncBox::<T>::allocate(strong, weak)
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Gc<T> {
    /// A mutable reference to the value, if this is the only handle (no
    /// other strong and no weak handle) and the value is not pinned, as
    /// [`std::sync::Arc::get_mut`].
    ///
    /// The collector does not trace a value that may be lent out this way
    /// (header I6): from then on, what the value holds counts as referenced
    /// from outside, until a collection finds the object referenced only
    /// from inside the heap (its handle was moved into a traced object).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let mut a = Gc::new(1);
    /// *Gc::get_mut(&mut a).unwrap() += 1;
    /// assert_eq!(*a, 2);
    /// let _b = a.clone();
    /// assert!(Gc::get_mut(&mut a).is_none());
    /// ```
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        let counts = this.counts();
        if counts.strong() != 1 || counts.weak() != 1 || counts.has_flag(PINNED) {
            return None;
        }
        if this.header().is_some() {
            // Under the list lock, so no stopped phase is running and the
            // next one sees the flag (its stop takes this lock).
            let _lists = heap().lock_running();
            if this.is_owned_by_collection() {
                return None;
            }
            counts.set_flag(MUT_EXPOSED);
        }
        // SAFETY: I6, S1: the handle is unique (strong 1, no weak: no other thread
        // can reach the value) and borrowed mutably; MUT_EXPOSED keeps the
        // collector from tracing the value while the `&mut` may be live (I6).
        Some(unsafe { &mut (*this.ptr.as_ptr()).value })
    }
}

impl<T: Trace + Send + Sync + 'static> Gc<T> {
    /// A mutable reference to the value, cloning it into a new object
    /// first if other handles (strong or weak) exist, as
    /// [`std::sync::Arc::make_mut`] (which also clones when weak handles
    /// exist, if strong ones do).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::sync::Gc;
    /// let mut a = Gc::new(1);
    /// let b = a.clone();
    /// *Gc::make_mut(&mut a) += 1; // a is shared: cloned first
    /// assert_eq!((*a, *b), (2, 1));
    /// *Gc::make_mut(&mut a) += 1; // now unique: in place
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

impl<T: ?Sized + Trace + Send + Sync + 'static> Gc<T> {
    /// Cyclic trash of a running collection or a zombie (I5): reachable
    /// only through a finalizer that handed out a handle. The caller holds
    /// the list lock.
    fn is_owned_by_collection(&self) -> bool {
        // Read under the list lock (S4).
        self.header().is_some_and(|h| h.is_owned_by_collector())
    }
}

impl<T: Trace + Send + Sync + 'static> Gc<T> {
    /// A new strong handle to `value`, if this is called from the finalizer
    /// of the very object that holds `value`, running innermost on this
    /// thread; `None` everywhere else (see [`crate::Gc::from_finalizing`],
    /// whose resurrection rules this heap shares).
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{sync::Gc, Finalize, Trace};
    /// use std::sync::Mutex;
    ///
    /// static SAVED: Mutex<Option<Gc<Phoenix>>> = Mutex::new(None);
    ///
    /// #[derive(Trace)]
    /// #[trace(finalize)]
    /// struct Phoenix(u8);
    /// impl Finalize for Phoenix {
    ///     fn finalize(&self) {
    ///         *SAVED.lock().unwrap() = Gc::from_finalizing(self);
    ///     }
    /// }
    ///
    /// drop(Gc::new(Phoenix(7)));
    /// let back = SAVED.lock().unwrap().take().unwrap();
    /// assert_eq!(back.0, 7);
    /// assert!(Gc::from_finalizing(&*back).is_none());
    /// ```
    pub fn from_finalizing(value: &T) -> Option<Gc<T>> {
        let counts = crate::heap::finalizing::current::<SyncBox<T>>((value as *const T).cast())?;
        let ptr = counts.cast::<SyncBox<T>>();
        // SAFETY: F1: the object whose finalizer runs innermost on this
        // thread is a live `SyncBox<T>`, held strongly by the finalizer's
        // caller; the pointer has its allocation's provenance.
        unsafe { &(*ptr.as_ptr()).counts }.inc_strong();
        Some(Gc {
            ptr,
            _owns: PhantomData,
        })
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Gc<T> {
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
        let epoch = this
            .counts()
            .add_weak(this.ptr.as_ptr().cast::<u8>() as usize, None);
        let obj = this.obj();
        crate::heap::weakepoch::note_weak_handle_made();
        Weak::from_parts(this.ptr, None, (obj.vtable, obj.meta), epoch)
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
            .register(this.ptr.as_ptr().cast::<u8>() as usize, Box::new(callback));
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
        // Minus the implicit weak (I1) and the handles a collection cleared
        // (I2).
        let stale = this
            .counts()
            .epoch(this.ptr.as_ptr().cast::<u8>() as usize)
            .stale;
        (this.counts().weak() - 1).saturating_sub(stale) as usize
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
        // Addresses only: the metadata of two handles to one object may
        // differ (vtables are not unique).
        a.ptr.cast::<u8>() == b.ptr.cast::<u8>()
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
        // SAFETY: I10: in-bounds projection of a live box; `ManuallyDrop<T>`
        // has the layout and metadata of `T`.
        unsafe { std::ptr::addr_of!((*this.ptr.as_ptr()).value) as *const T }
    }

    /// Whether the collector tracks the object.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!pygc::sync::Gc::is_tracked(&pygc::sync::Gc::new(1)));
    /// ```
    pub fn is_tracked(this: &Self) -> bool {
        this.header().is_some_and(|h| {
            let _w = heap().lock_running();
            // Under the list lock (S4; a nursery object's header only
            // changes by a gather, which needs the lock, or by its death,
            // which our handle rules out: N4).
            h.is_linked()
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

impl<T: ?Sized + Trace + Send + Sync + 'static> Drop for Gc<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.counts().dec_strong() {
            // SAFETY: I1: we released the last strong reference of a live object.
            unsafe { release_handle(self.ptr) }
        }
    }
}

impl<T: ?Sized + Trace + Send + Sync + 'static> Deref for Gc<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: I6: strong > 0 keeps the value alive; it is never mutated
        // through the handle (I6).
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

crate::handle::value_trait_impls!(Gc, [?Sized+], + Send + Sync);

// SAFETY: T1, S1: reports its one edge; only the sync collector looks at it.
unsafe impl<T: ?Sized + Trace + Send + Sync + 'static> Trace for Gc<T> {
    #[inline(always)]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        // SAFETY: I1: the handle keeps its object alive; for a sized `T`
        // the answer is static (I8).
        let tracked = unsafe { has_header(self.ptr) };
        // SAFETY: I1: this strong handle, owned by the traced value, keeps
        // the object alive; I8: `tracked` was read from it.
        unsafe { tracer.visit_sync(self.ptr.cast(), tracked) };
    }
}

// `GcAny::downcast` lives with `Gc`: the strong handle knows the erased one,
// not the other way round.
impl GcAny {
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
}

/// The last strong handle of `ptr` was dropped: reclaim the object, through
/// `T`'s static code ([`Typed`], via `__gc_erased`) when `T` is sized,
/// through the vtable otherwise. (The per-thread twin is
/// `heap::dst::release_handle`; this one never reads the header's link
/// words outside the list lock, S4.)
///
/// # Safety
/// The caller owned the last strong reference and just decremented the
/// strong count to zero.
#[cold]
#[inline(never)]
unsafe fn release_handle<T: ?Sized + Trace + 'static>(ptr: NonNull<GcBox<T, SyncCounts>>) {
    if is_thin::<T>() {
        // SAFETY: I1: forwarded; `destroy` checks the collector's ownership
        // under the list lock (I5).
        unsafe { crate::heap::dst::release_sized(ptr) };
        return;
    }
    // SAFETY: I1, I8: forwarded; live, and `obj_of` reads only the header's
    // vtable, never its link words (I8).
    unsafe { release(obj_of(ptr), Erased) }
}
