//! Allocation and the per-type vtables: how a `GcBox<T, C>` is laid out
//! (header first for tracked types), allocated (from the thread's pool,
//! invariant P1, or the global allocator), finalized, dropped and freed.

use super::header::{GcBox, Header, Node, RefCounter, VTable, HAS_HEADER, HEADER_SIZE};
use super::Heap;
use crate::trace::{Trace, Tracer, FAST_SIDE_COUNT, FAST_SIDE_REACH};
use std::alloc::Layout;
use std::any::TypeId;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use super::header::Counts;

// `GcBox` is public only so that `coerce!` can name it (hidden); its
// methods are crate-private.
#[allow(private_bounds)]
impl<T: Trace + 'static, C: RefCounter> GcBox<T, C> {
    /// The vtable of `GcBox<T, C>`.
    pub(crate) const VTABLE: VTable = VTable {
        trace: Self::trace_erased,
        trace_reachable: Self::trace_reachable_erased,
        trace_subtract: Self::trace_subtract_erased,
        trace_side_count: Self::trace_side_erased::<FAST_SIDE_COUNT>,
        trace_side_reach: Self::trace_side_erased::<FAST_SIDE_REACH>,
        finalize: Self::finalize_erased,
        finalizer_kind: T::__gc_finalizer,
        drop_value: Self::drop_value_erased,
        dealloc: Self::dealloc_erased,
        delete_trash: Self::delete_trash_erased,
        type_id: TypeId::of::<T>,
        type_name: std::any::type_name::<T>,
        tracked: T::__gc_tracked,
        value_offset: std::mem::offset_of!(GcBox<T, C>, value),
    };

    /// The vtable of `GcBox<T>`, as a `'static` reference.
    #[inline(always)]
    pub(crate) fn vtable() -> &'static VTable {
        &Self::VTABLE
    }

    /// Layout of the allocation, and the offset of the `GcBox` within it.
    #[inline(always)]
    pub(crate) fn allocation_layout() -> (Layout, usize) {
        let boxed = Layout::new::<GcBox<T, C>>();
        if T::__gc_tracked() {
            let align = boxed.align().max(std::mem::align_of::<Header>());
            // The smallest multiple of `align` that leaves room for the header.
            let offset = HEADER_SIZE.div_ceil(align) * align;
            let size = offset + boxed.size();
            // A layout this size with this align was valid for GcBox<T> alone,
            // and `offset` is < 2 * align + HEADER_SIZE: this cannot overflow
            // isize for any type that fits in memory.
            let layout =
                Layout::from_size_align(size, align).expect("gc: object too large for its layout");
            (layout, offset)
        } else {
            (boxed, 0)
        }
    }

    unsafe fn trace_erased(obj: NonNull<Counts>, tracer: &mut Tracer<'_>) {
        // SAFETY: I6: the vtable of `GcBox<T>` is only stored with pointers to a
        // `GcBox<T>` whose value is initialised and not dropped (I6; the
        // caller guarantees the object is not mid-drop).
        let value = unsafe { &(*obj.cast::<GcBox<T, C>>().as_ptr()).value };
        T::trace(value, tracer);
    }

    /// `trace_erased` for a `FAST_REACHABLE` tracer (the vtable's
    /// `trace_reachable`): the value's trace on `Tracer::with_reachable`'s
    /// copy, where every visit is the mode's fast path.
    unsafe fn trace_reachable_erased(obj: NonNull<Counts>, tracer: &mut Tracer<'_>) {
        // SAFETY: I6: as in `trace_erased`: a live `GcBox<T>` whose value is
        // initialised and not dropped.
        let value = unsafe { &(*obj.cast::<GcBox<T, C>>().as_ptr()).value };
        tracer.with_reachable(|t| T::trace(value, t));
    }

    /// `trace_erased` for a `FAST_SUBTRACT` tracer (the vtable's
    /// `trace_subtract`): the value's trace on `Tracer::with_subtract`'s
    /// copy.
    unsafe fn trace_subtract_erased(obj: NonNull<Counts>, tracer: &mut Tracer<'_>) {
        // SAFETY: I6: as in `trace_erased`: a live `GcBox<T>` whose value is
        // initialised and not dropped.
        let value = unsafe { &(*obj.cast::<GcBox<T, C>>().as_ptr()).value };
        tracer.with_subtract(|t| T::trace(value, t));
    }

    /// `trace_erased` for a side-table tracer in mode `FAST` (the vtable's
    /// `trace_side_count` and `trace_side_reach`): the value's trace on
    /// `Tracer::with_side`'s copy.
    unsafe fn trace_side_erased<const FAST: u8>(obj: NonNull<Counts>, tracer: &mut Tracer<'_>) {
        // SAFETY: I6: as in `trace_erased`: a live `GcBox<T>` whose value is
        // initialised and not dropped.
        let value = unsafe { &(*obj.cast::<GcBox<T, C>>().as_ptr()).value };
        tracer.with_side::<FAST>(|t| T::trace(value, t));
    }

    pub(crate) unsafe fn finalize_erased(obj: NonNull<Counts>) {
        // SAFETY: as in `trace_erased`: a live `GcBox<T>` (I6).
        let value: &T = unsafe { &(*obj.cast::<GcBox<T, C>>().as_ptr()).value };
        // SAFETY: F1: a live `GcBox<T, C>` whose value is `value`; the
        // caller holds a strong reference for the whole call.
        unsafe {
            super::finalizing::run::<GcBox<T, C>>(obj, (value as *const T).cast(), || {
                T::__gc_finalize(value)
            })
        };
    }

    pub(crate) unsafe fn drop_value_erased(obj: NonNull<Counts>, _: usize) {
        // SAFETY: I1: the caller (dealloc / delete_garbage) owns the value, drops
        // it exactly once (I1) and nothing reads it afterwards.
        unsafe { ManuallyDrop::drop(&mut (*obj.cast::<GcBox<T, C>>().as_ptr()).value) }
    }

    /// The vtable's `delete_trash`: [`super::dealloc::delete_trash`] for
    /// `T`'s static code. Per-thread heap only (the sync collector drops
    /// every value before it frees any, through `drop_value`/`dealloc`).
    ///
    /// # Safety
    /// As for `delete_trash`; `h` is a `GcBox<T, C>`'s header.
    unsafe fn delete_trash_erased(h: Node) {
        assert!(!C::SYNC, "gc: the sync collector has no delete_trash step");
        // SAFETY: I5, L1: forwarded; with `C` the per-thread counts, `h` is a
        // `GcBox<T>`'s header.
        unsafe { super::dealloc::delete_trash::<T>(h) }
    }

    unsafe fn dealloc_erased(obj: NonNull<Counts>, _: usize) {
        // SAFETY: forwarded contract: the weak count reached zero (I1).
        unsafe { Self::dealloc(obj.cast()) }
    }

    /// Free the allocation of `obj`.
    ///
    /// # Safety
    /// `obj` was allocated by [`GcBox::allocate`] for this `T`, its value has
    /// been dropped or moved out (or never initialised), and no handle refers
    /// to it any more (the weak count reached zero, I1).
    #[inline(always)]
    pub(crate) unsafe fn dealloc(obj: NonNull<GcBox<T, C>>) {
        let heap = Self::pool_heap();
        // SAFETY: I1: forwarded.
        unsafe { Self::dealloc_with(obj, heap) }
    }

    /// [`GcBox::dealloc`] with the calling thread's heap already looked up.
    ///
    /// # Safety
    /// As for [`GcBox::dealloc`]; `heap` is what `heap()` returns now.
    #[inline(always)]
    pub(crate) unsafe fn dealloc_with(obj: NonNull<GcBox<T, C>>, heap: Option<&'static Heap>) {
        let (layout, offset) = Self::allocation_layout();
        // SAFETY: I10, P1: `allocate` placed the GcBox `offset` bytes into an
        // allocation of `layout`; we drop the counts (loom's atomics own
        // model state) and free that same allocation.
        let base = unsafe {
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*obj.as_ptr()).counts));
            obj.as_ptr().cast::<u8>().sub(offset)
        };
        // SAFETY: I10, P1, SP2, H2: the allocation `allocate` made for this
        // type and layout, unused now (I1); `heap` is `heap()` (caller).
        unsafe {
            free_object::<C>(
                base,
                layout,
                T::__gc_tracked(),
                Self::unswept(layout, offset),
                heap,
            )
        };
    }

    /// The calling thread's heap if objects of this type are pool
    /// candidates (P1) or counted by H2, else `None` without touching the
    /// thread-local.
    #[inline(always)]
    fn pool_heap() -> Option<&'static Heap> {
        let (layout, offset) = Self::allocation_layout();
        if Self::pooled(layout) || Self::unswept(layout, offset) {
            super::heap()
        } else {
            None
        }
    }

    /// Whether an object of this type is one of the per-thread heap's
    /// tracked objects that its pool's sweep cannot find (H2): not in a
    /// pool block, or its header not at the block's start (`offset` is the
    /// counts' offset in the allocation).
    #[inline(always)]
    fn unswept(layout: Layout, offset: usize) -> bool {
        C::POOLED && T::__gc_tracked() && !super::swept(Self::pooled(layout), offset - HEADER_SIZE)
    }

    /// Whether objects of this type and layout are pool candidates (P1).
    #[inline(always)]
    fn pooled(layout: Layout) -> bool {
        pooled::<C>(T::__gc_tracked(), layout)
    }

    /// Whether objects of this type and layout come from the sync heap's
    /// slot pools (SP2; decided by type and layout alone).
    #[inline(always)]
    pub(crate) fn own_pooled(layout: Layout) -> bool {
        own_pooled::<C>(T::__gc_tracked(), layout)
    }

    /// Allocate an object with `strong`/`weak` counts and an uninitialised
    /// value. A tracked type's header is written unlinked (`next == 0`).
    pub(crate) fn allocate(strong: u32, weak: u32) -> NonNull<GcBox<T, C>> {
        let heap = Self::pool_heap();
        Self::allocate_in(strong, weak, heap)
    }

    /// [`GcBox::allocate`] with the calling thread's heap already looked up
    /// (`heap` is what `heap()` returns now, or `None` for an untracked
    /// type).
    #[inline(always)]
    pub(crate) fn allocate_in(
        strong: u32,
        weak: u32,
        heap: Option<&'static Heap>,
    ) -> NonNull<GcBox<T, C>> {
        let (layout, offset) = Self::allocation_layout();
        let base = alloc_object::<C>(layout, T::__gc_tracked(), heap);
        if let Some(heap) = heap {
            if Self::unswept(layout, offset) {
                // H2: freed by `dealloc_with` with the same heap.
                heap.note_unswept_alloc();
            }
        }
        // SAFETY: I10: a fresh allocation of `allocation_layout()`.
        unsafe { Self::init_block(base, strong, weak) }
    }

    /// Write the counts (and a tracked type's unlinked header) of a new
    /// object into `base`; the value stays uninitialised.
    ///
    /// # Safety
    /// `base` is a fresh block of [`GcBox::allocation_layout`]'s layout,
    /// taken as [`alloc_object`] would for this type (P1, SP2).
    #[inline(always)]
    pub(crate) unsafe fn init_block(base: *mut u8, strong: u32, weak: u32) -> NonNull<GcBox<T, C>> {
        let (_, offset) = Self::allocation_layout();
        // SAFETY: I10: `offset + size_of::<GcBox<T>>() == layout.size()`, so the
        // box lies inside the allocation, aligned (offset is a multiple of
        // the box's alignment).
        let obj = unsafe { base.add(offset) }.cast::<GcBox<T, C>>();
        let weak = if T::__gc_tracked() {
            weak | HAS_HEADER
        } else {
            weak
        };
        // SAFETY: I10: in bounds and aligned, see above; writing plain data.
        unsafe {
            std::ptr::addr_of_mut!((*obj).counts).write(C::new(strong, weak));
            if T::__gc_tracked() {
                obj.cast::<u8>()
                    .sub(HEADER_SIZE)
                    .cast::<Header>()
                    .write(Header::new(Self::vtable()));
            }
        }
        // SAFETY: I10: derived from a non-null allocation.
        unsafe { NonNull::new_unchecked(obj) }
    }
}

/// The memory of a new object: a block of the calling thread's pool
/// (`heap` given: the object is pooled, P1) or of the global allocator.
/// `layout` holds at least the counts (non-zero size).
#[inline(always)]
pub(crate) fn alloc_block(layout: Layout, heap: Option<&'static Heap>) -> *mut u8 {
    match heap {
        Some(heap) => heap.pool.alloc(layout).as_ptr(),
        None => {
            // SAFETY: I10: the layout has non-zero size (it holds the counts).
            let base = unsafe { std::alloc::alloc(layout) };
            if base.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            base
        }
    }
}

/// Whether an object with counts `C` comes from the calling thread's pool
/// when the thread's heap exists (P1: by counts, trackedness and layout).
#[inline(always)]
pub(crate) fn pooled<C: RefCounter>(tracked: bool, layout: Layout) -> bool {
    C::POOLED && tracked && super::pool::fits(layout)
}

/// Whether an object with counts `C` comes from a sync heap's slot pool
/// (SP2: by counts, trackedness and layout alone).
#[inline(always)]
pub(crate) fn own_pooled<C: RefCounter>(tracked: bool, layout: Layout) -> bool {
    C::OWN_POOL && tracked && super::pool::fits(layout)
}

/// The memory of a new object with counts `C`: a slot pool's block (SP2),
/// else as [`alloc_block`] (`heap` given and pooled: the per-thread pool,
/// P1; otherwise the global allocator).
#[inline(always)]
pub(crate) fn alloc_object<C: RefCounter>(
    layout: Layout,
    tracked: bool,
    heap: Option<&'static Heap>,
) -> *mut u8 {
    if own_pooled::<C>(tracked, layout) {
        return C::own_pool_alloc(layout).as_ptr();
    }
    alloc_block(layout, heap.filter(|_| pooled::<C>(tracked, layout)))
}

/// Return an object's allocation of `layout` (counts `C`) to where
/// [`alloc_object`] took it from: a slot pool (SP2), the calling thread's
/// pool (P1) or the global allocator. `unswept`: H2 counted it at
/// allocation. `heap`: the calling thread's heap, which the caller looks up
/// at least when the object is pooled or unswept (`None` once it is gone:
/// then nothing of it was pooled or counted, H1).
///
/// # Safety
/// `base` is an allocation of `layout` made by `alloc_object::<C>(layout,
/// tracked, _)` on this thread's heap or a slot pool, not used any more.
#[inline(always)]
pub(crate) unsafe fn free_object<C: RefCounter>(
    base: *mut u8,
    layout: Layout,
    tracked: bool,
    unswept: bool,
    heap: Option<&'static Heap>,
) {
    if own_pooled::<C>(tracked, layout) {
        // SAFETY: SP2: the same rule chose a slot pool at allocation.
        unsafe { C::own_pool_free(NonNull::new_unchecked(base), layout) };
        return;
    }
    if let Some(heap) = heap {
        if unswept {
            // H2: counted when it was allocated (the heap existed then: it
            // exists now, H1).
            heap.note_unswept_free();
        }
        if pooled::<C>(tracked, layout) {
            // SAFETY: P1: with the heap alive, a pooled object came from
            // this thread's pool, with this layout.
            unsafe { heap.pool.free(NonNull::new_unchecked(base), layout) };
            return;
        }
    }
    // SAFETY: not from a pool (SP2, P1): from the global allocator with
    // this layout.
    unsafe { std::alloc::dealloc(base, layout) };
}

/// `new_cyclic`'s guard while `data_fn` runs on an object whose value is not
/// written yet (strong 0, weak = the implicit one + the lent handle's): if
/// `data_fn` panics, the drop releases both weak references and frees the
/// box if they were the last (clones the closure kept stay valid handles,
/// which never upgrade). `forget` it once the value is written.
pub(crate) struct CyclicGuard<T: Trace + 'static, C: RefCounter>(pub(crate) NonNull<GcBox<T, C>>);

impl<T: Trace + 'static, C: RefCounter> Drop for CyclicGuard<T, C> {
    fn drop(&mut self) {
        // SAFETY: I1, I10: the box is live (weak > 0); the value was never
        // written, so freeing it drops nothing.
        let counts = unsafe { &(*self.0.as_ptr()).counts };
        // The lent weak (its handle is never dropped: ManuallyDrop), then
        // the implicit one.
        let lent_was_last = counts.dec_weak();
        debug_assert!(!lent_was_last);
        if counts.dec_weak() {
            // SAFETY: I1: no handle is left.
            unsafe { GcBox::<T, C>::dealloc(self.0) };
        }
    }
}
