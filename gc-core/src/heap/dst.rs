//! Unsized values: `Gc<dyn Trait>`, `Gc<str>`, `Gc<[T]>`.
//!
//! A handle to an unsized value is a wide pointer to a `GcBox<T>` (the
//! counts, then the value), two words; the object in memory is the same as
//! for a sized value of the *concrete* type it was allocated as. What the
//! heap needs to know per object comes from three places:
//!
//! * **I8 (erased type of unsized objects).** Whether the object has a
//!   [`Header`] is the [`HAS_HEADER`] bit of its weak word, written at
//!   allocation from the concrete type and never changed: a handle to
//!   `dyn Trait` cannot know it from its type. An object with a header is
//!   described by the header's vtable alone (the concrete type's, or for a
//!   slice built at run time the vtable of `[T]` that reads the length
//!   from the word just before the header, [`SliceOps`]), exactly like a
//!   sized object; the collector never needs anything else. An object
//!   without one is described by [`TraceUnsized::__gc_erased`] of its
//!   value: the concrete type's vtable for a trait object (its `Trace`
//!   supertrait reaches the concrete impl through the trait object's
//!   vtable), or the vtable of `[T]`/`str` plus the length, which
//!   [`ObjPtr::meta`] carries. That call needs the value intact, which
//!   holds for an object without a header while a strong handle exists
//!   (such objects are never cyclic trash, so only their last strong
//!   handle drops their value); a [`Weak`](crate::Weak) takes the
//!   description when it is made and keeps it for freeing the memory.
//! * The length of a slice and the vtable of a trait object are the
//!   handle's pointer metadata: the compiler computes layout, drop glue and
//!   method calls from them.
//!
//! The `coerce!` macro turns a handle into a handle to an unsized type by
//! letting the compiler coerce the `NonNull<GcBox<T>>` inside it: the
//! address is unchanged and the metadata is the compiler's, so the new
//! handle describes the same object.

use super::alloc::{alloc_object, free_object, pooled};
use super::header::{
    Counts, ErasedType, GcBox, Header, Node, ObjPtr, RefCounter, VTable, HAS_HEADER, HEADER_SIZE,
};
use super::Heap;
use super::{dealloc::release, death::Erased};
use crate::trace::{FinalizerKind, Trace, TraceUnsized, Tracer};
use std::alloc::Layout;
use std::any::TypeId;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// Whether `*const T` is one word (`T` is sized).
#[inline(always)]
pub(crate) const fn is_thin<T: ?Sized>() -> bool {
    std::mem::size_of::<*const T>() == std::mem::size_of::<*const ()>()
}

/// Refcount death through the vtable.
///
/// # Safety
/// As for [`release`].
unsafe fn release_erased(obj: ObjPtr) {
    // SAFETY: I1: forwarded.
    unsafe { release(obj, Erased) }
}

/// Refcount death of a sync-heap object, through the vtable.
///
/// # Safety
/// As for `sync::dealloc::release`.
unsafe fn release_sync(obj: ObjPtr) {
    // SAFETY: I1: forwarded.
    unsafe { crate::sync::dealloc::release(obj, Erased) }
}

/// Refcount death of a sync-heap object of the sized type `T`.
///
/// # Safety
/// As for `sync::dealloc::release`; `obj` is a `GcBox<T, SyncCounts>`.
#[inline(always)]
unsafe fn release_sync_typed<T: Trace + 'static>(obj: ObjPtr) {
    type Ops<T> = super::death::Typed<T, crate::sync::counts::SyncCounts>;
    // SAFETY: I1, I8: forwarded; a `GcBox<T, SyncCounts>` (`T`'s sync ErasedType).
    unsafe { super::death::release(crate::sync::heap::heap(), obj, Ops::<T>::OPS) }
}

// SAFETY: I8: the vtables of `GcBox<T, _>` describe a `T`.
unsafe impl<T: Trace> TraceUnsized for T {
    #[inline(always)]
    fn __gc_erased(&self, sync: bool) -> ErasedType
    where
        Self: 'static,
    {
        if sync {
            ErasedType {
                vtable: GcBox::<T, crate::sync::counts::SyncCounts>::vtable(),
                meta: 0,
                tracked: T::__gc_tracked(),
                from_header: false,
                release: release_sync_typed::<T>,
            }
        } else {
            ErasedType {
                vtable: GcBox::<T>::vtable(),
                meta: 0,
                tracked: T::__gc_tracked(),
                from_header: false,
                release: super::dealloc::release_typed::<T>,
            }
        }
    }
}

// SAFETY: I8: the slice vtables describe a `[T]` of `self.len()` elements.
unsafe impl<T: Trace> TraceUnsized for [T] {
    #[inline]
    fn __gc_erased(&self, sync: bool) -> ErasedType
    where
        Self: 'static,
    {
        let tracked = T::__gc_tracked();
        let (vtable, release): (&'static VTable, unsafe fn(ObjPtr)) = match (sync, tracked) {
            (false, true) => (&SliceOps::<T, Counts>::TRACKED, release_erased),
            (false, false) => (&SliceOps::<T, Counts>::UNTRACKED, release_erased),
            (true, true) => (
                &SliceOps::<T, crate::sync::counts::SyncCounts>::TRACKED,
                release_sync,
            ),
            (true, false) => (
                &SliceOps::<T, crate::sync::counts::SyncCounts>::UNTRACKED,
                release_sync,
            ),
        };
        ErasedType {
            vtable,
            meta: self.len(),
            tracked,
            from_header: tracked,
            release,
        }
    }
}

// SAFETY: I8: the `str` vtables describe a `str` of `self.len()` bytes.
unsafe impl TraceUnsized for str {
    #[inline]
    fn __gc_erased(&self, sync: bool) -> ErasedType
    where
        Self: 'static,
    {
        let (vtable, release): (&'static VTable, unsafe fn(ObjPtr)) = if sync {
            (&STR_SYNC_VTABLE, release_sync)
        } else {
            (&STR_VTABLE, release_erased)
        };
        ErasedType {
            vtable,
            meta: self.len(),
            tracked: false,
            from_header: false,
            release,
        }
    }
}

/// The erased type of the live value of `ptr`, or of its header (I8), on
/// either heap (`C`: its counts).
///
/// # Safety
/// `ptr` is live; if it has no header its value is intact (a strong
/// handle exists, or the caller owns the value: I8).
#[inline(always)]
pub(crate) unsafe fn obj_of<T: ?Sized + Trace + 'static, C: RefCounter>(
    ptr: NonNull<GcBox<T, C>>,
) -> ObjPtr {
    // SAFETY: I1: live (caller).
    let counts = unsafe { &(*ptr.as_ptr()).counts };
    if counts.has_flag(HAS_HEADER) {
        // I8: the header describes the object; the value is not touched
        // (it may have been dropped by a collection).
        // SAFETY: I8: HAS_HEADER; L1: live (caller's contract, I1).
        return unsafe { Node::of_counts(ptr.cast()) }.obj();
    }
    // SAFETY: without a header the value is intact (caller, I8).
    let e = unsafe { (*ptr.as_ptr()).value.__gc_erased(C::SYNC) };
    ObjPtr {
        counts: ptr.cast(),
        vtable: e.vtable,
        meta: e.meta,
    }
}

/// The object of a weak handle whose last reference is going (the value
/// may be gone): described by its header, else by the erased type
/// (vtable, meta) the handle took while the value was alive (I8).
///
/// # Safety
/// `counts` are the counts at `p`, of an allocation that is live (I1).
pub(crate) unsafe fn weak_obj<C: RefCounter>(
    counts: &C,
    p: NonNull<Counts>,
    erased: (&'static VTable, usize),
) -> ObjPtr {
    if counts.has_flag(HAS_HEADER) {
        // SAFETY: I8: HAS_HEADER; L1: live (caller's contract, I1).
        unsafe { Node::of_counts(p) }.obj()
    } else {
        ObjPtr {
            counts: p,
            vtable: erased.0,
            meta: erased.1,
        }
    }
}

/// The object whose value `value` points at (the inverse of a strong
/// handle's `as_ptr`), with `value`'s metadata: `Gc::from_raw` and friends.
///
/// # Safety
/// `value` was returned by `as_ptr`/`into_raw` of a strong handle of this
/// heap (`C`) and type `T` (or one that coerces to it: same address), and
/// a strong reference to the object is held: its value is intact (I6), so
/// a `&T` may be made to read its alignment (`align_of_val` reads only
/// the metadata of an unsized `T`).
pub(crate) unsafe fn box_of_value<T: ?Sized, C: RefCounter>(
    value: *const T,
) -> NonNull<GcBox<T, C>> {
    // SAFETY: I1: caller: a live value.
    let align = std::mem::align_of_val(unsafe { &*value });
    // `GcBox` is `repr(C)`: the value follows the counts, aligned.
    let offset = std::mem::size_of::<C>().div_ceil(align) * align;
    // SAFETY: I10: `value` lies `offset` bytes into its `GcBox` (same
    // allocation); the cast keeps the metadata (`T` is the box's tail).
    unsafe { NonNull::new_unchecked(value.byte_sub(offset) as *mut GcBox<T, C>) }
}

/// [`box_of_value`] for a sized `T`, whose value need not be alive
/// (`Weak::from_raw`): the offset is static.
///
/// # Safety
/// `value` was returned by `as_ptr`/`into_raw` of a handle of this heap
/// and type `T` whose object's memory is still allocated.
pub(crate) unsafe fn box_of_sized_value<T, C: RefCounter>(value: *const T) -> NonNull<GcBox<T, C>> {
    let offset = std::mem::offset_of!(GcBox<T, C>, value);
    // SAFETY: I10: `value` lies `offset` bytes into its `GcBox`.
    unsafe { NonNull::new_unchecked(value.byte_sub(offset) as *mut GcBox<T, C>) }
}

/// Whether the object of `ptr` has a header (is of a tracked type).
///
/// # Safety
/// `ptr` is live; for a sized `T` a `&T` to its value may be made (the
/// value is intact, or the collector owns it and has not dropped it).
#[inline(always)]
pub(crate) unsafe fn has_header<T: ?Sized + Trace + 'static, C: RefCounter>(
    ptr: NonNull<GcBox<T, C>>,
) -> bool {
    if is_thin::<T>() {
        // SAFETY: I8: caller; the call reads nothing (static answer).
        unsafe { (*ptr.as_ptr()).value.__gc_erased(C::SYNC).tracked }
    } else {
        // SAFETY: I1: live (caller).
        unsafe { &(*ptr.as_ptr()).counts }.has_flag(HAS_HEADER)
    }
}

/// Refcount death of a sized `T`'s object on either heap (`C`), through
/// `T`'s static death: its erased type is a constant, so `__gc_erased`
/// reads nothing of the value (sound on a value a collection dropped, as
/// in `has_header`); the death checks the collector's ownership (I5).
///
/// # Safety
/// `T` is sized ([`is_thin`]); the caller owned the last strong reference
/// and just decremented the strong count to zero (I1).
#[inline(always)]
pub(crate) unsafe fn release_sized<T: ?Sized + Trace + 'static, C: RefCounter>(
    ptr: NonNull<GcBox<T, C>>,
) {
    debug_assert!(is_thin::<T>());
    // SAFETY: I1, I8: as said; live object.
    let e = unsafe { (*ptr.as_ptr()).value.__gc_erased(C::SYNC) };
    let obj = ObjPtr {
        counts: ptr.cast(),
        vtable: e.vtable,
        meta: e.meta,
    };
    // SAFETY: I8: forwarded; `e.release` is `T`'s death on this heap.
    unsafe { (e.release)(obj) }
}

/// The last strong handle of `ptr` was dropped: reclaim the object (or
/// not, see `dealloc`), through `T`'s static code when `T` is sized.
///
/// # Safety
/// The caller owned the last strong reference and just decremented the
/// strong count to zero.
///
/// Out of line and cold: a handle's `drop` inlines only the decrement and
/// the call, so the caller's stack frame holds no erased pointer (the
/// `frames` test: `Gc`'s caller frame is no larger than `Rc`'s).
#[cold]
#[inline(never)]
pub(crate) unsafe fn release_handle<T: ?Sized + Trace + 'static>(ptr: NonNull<GcBox<T>>) {
    if is_thin::<T>() {
        // SAFETY: I1: forwarded (the caller's contract, live object).
        unsafe { release_sized(ptr) };
        return;
    }
    // SAFETY: live: the weak count still holds the implicit reference (I1).
    let counts = unsafe { &(*ptr.as_ptr()).counts };
    if counts.has_flag(HAS_HEADER) {
        // SAFETY: I8: HAS_HEADER; L1: live until `release` below (I1).
        let header = unsafe { Node::of_counts(ptr.cast()) };
        if header.is_owned_by_collector() {
            // Cyclic trash or a zombie (I5): its value may be dropped, so
            // it is not touched; `release` knows what to do from the header.
            // SAFETY: I1: forwarded from the caller.
            unsafe { release(header.obj(), Erased) };
            return;
        }
    }
    // SAFETY: I5, I8: not owned by the collector, strong was > 0 until now: the
    // value is intact (I5, I8).
    let e = unsafe { (*ptr.as_ptr()).value.__gc_erased(false) };
    let obj = if e.from_header {
        // SAFETY: I8: a tracked slice has a header; L1: live (I1).
        unsafe { Node::of_counts(ptr.cast()) }.obj()
    } else {
        ObjPtr {
            counts: ptr.cast(),
            vtable: e.vtable,
            meta: e.meta,
        }
    };
    // SAFETY: I8: forwarded; `e.release` fits the concrete type.
    unsafe { (e.release)(obj) }
}

/// Allocation layout of an object whose `GcBox` has layout `boxed`, with
/// `prefix` bytes (header, slice length) before the counts; and the offset
/// of the counts in it. For a sized type this is `GcBox::allocation_layout`.
pub(crate) fn allocation_layout(boxed: Layout, prefix: usize) -> (Layout, usize) {
    if prefix == 0 {
        return (boxed, 0);
    }
    let align = boxed.align().max(std::mem::align_of::<Header>());
    let offset = prefix.div_ceil(align) * align;
    let size = offset
        .checked_add(boxed.size())
        .expect("gc: object too large for its layout");
    let layout = Layout::from_size_align(size, align).expect("gc: object too large for its layout");
    (layout, offset)
}

/// Bytes before the counts of an object of erased type `e`.
fn prefix_of(e: &ErasedType) -> usize {
    match (e.tracked, e.from_header) {
        (false, _) => 0,
        (true, false) => HEADER_SIZE,
        (true, true) => HEADER_SIZE + std::mem::size_of::<usize>(),
    }
}

/// Allocate an object (per-thread or sync: `C` is its counts) for a value
/// of layout `value` whose erased type is `e`: strong 1, weak 1, header and
/// length written as `e` needs, value uninitialised. `heap` is the calling
/// thread's heap for a tracked per-thread object (the caller counted the
/// allocation with [`Heap::note_alloc`] before, as `Gc::new`), else `None`.
/// Returns the counts; the value is at `counts + value_offset(value)`. The
/// caller writes the value and then tracks the object ([`finish_unsized`],
/// or the sync heap's `track_new`).
pub(crate) fn allocate_unsized<C: RefCounter>(
    value: Layout,
    e: &ErasedType,
    heap: Option<&'static Heap>,
) -> (NonNull<Counts>, *mut u8) {
    let (boxed, value_offset) = Layout::new::<C>()
        .extend(value)
        .expect("gc: object too large for its layout");
    let boxed = boxed.pad_to_align();
    let (layout, offset) = allocation_layout(boxed, prefix_of(e));
    let base = alloc_object::<C>(layout, e.tracked, heap);
    if let Some(heap) = heap {
        // `heap` is given for a tracked per-thread object only.
        if !super::swept(pooled::<C>(true, layout), offset - HEADER_SIZE) {
            // H2: freed by the vtable's `dealloc`: `dealloc_tracked` here, or
            // a sized type's `GcBox::dealloc`, whose layout and offset are
            // these (`allocation_layout`).
            heap.note_unswept_alloc();
        }
    }
    // SAFETY: I10: `offset + boxed.size() == layout.size()`: the box, and the
    // prefix before it, lie inside the allocation, aligned.
    unsafe {
        let counts = base.add(offset).cast::<C>();
        let weak = if e.tracked { 1 | HAS_HEADER } else { 1 };
        counts.write(C::new(1, weak));
        if e.tracked {
            counts
                .cast::<u8>()
                .sub(HEADER_SIZE)
                .cast::<Header>()
                .write(Header::new(e.vtable));
        }
        if e.from_header {
            counts
                .cast::<u8>()
                .sub(HEADER_SIZE + std::mem::size_of::<usize>())
                .cast::<usize>()
                .write(e.meta);
        }
        let value_ptr = counts.cast::<u8>().add(value_offset);
        (NonNull::new_unchecked(counts.cast()), value_ptr)
    }
}

/// Move a boxed value (sized or not) into a new, untracked-yet object of
/// the heap whose counts are `C`; returns it and its erased type (the
/// caller tracks it: [`finish_unsized`] or the sync heap's `track_new`).
///
/// `note_alloc(tracked)` runs first, before anything is allocated: the
/// handle layer's hook that counts a tracked per-thread allocation, may
/// start the automatic collection the heap reports due, and returns the
/// calling thread's heap (`tracked` is false for the sync heap, whose
/// `track_new` reports its own).
pub(crate) fn box_into_object<T: ?Sized + Trace + 'static, C: RefCounter>(
    boxed: Box<T>,
    note_alloc: impl FnOnce(bool) -> Option<&'static Heap>,
) -> (NonNull<GcBox<T, C>>, ErasedType) {
    let layout = Layout::for_value::<T>(&boxed);
    let erased = <T as TraceUnsized>::__gc_erased(&boxed, C::SYNC);
    let heap = note_alloc(erased.tracked && !C::SYNC);
    let (counts, value) = allocate_unsized::<C>(layout, &erased, heap);
    let raw = Box::into_raw(boxed);
    // SAFETY: I10: `value` has room for `layout` (allocate_unsized), the box
    // holds an initialised value of that layout; the regions are distinct
    // allocations.
    unsafe { std::ptr::copy_nonoverlapping(raw.cast::<u8>(), value, layout.size()) };
    // Free the box's memory without dropping the value (moved out).
    // SAFETY: I10: `raw` came from `Box::into_raw`; `ManuallyDrop<T>` has `T`'s
    // layout and metadata.
    drop(unsafe { Box::from_raw(raw as *mut std::mem::ManuallyDrop<T>) });
    let ptr = with_addr_of(raw, counts.as_ptr().cast()) as *mut GcBox<T, C>;
    // SAFETY: I10: from a non-null allocation; `ptr` has its address and the
    // box's metadata, which describes the moved value.
    (unsafe { NonNull::new_unchecked(ptr) }, erased)
}

/// Move the elements of a vector into a new slice object of the heap whose
/// counts are `C` (tracked later by the caller, as [`box_into_object`]).
pub(crate) fn vec_into_object<T: Trace + 'static, C: RefCounter>(
    mut v: Vec<T>,
    note_alloc: impl FnOnce(bool) -> Option<&'static Heap>,
) -> (NonNull<GcBox<[T], C>>, ErasedType) {
    let len = v.len();
    let erased = <[T] as TraceUnsized>::__gc_erased(&v, C::SYNC);
    let layout = Layout::array::<T>(len).expect("gc: slice too large");
    let heap = note_alloc(erased.tracked && !C::SYNC);
    let (counts, value) = allocate_unsized::<C>(layout, &erased, heap);
    // SAFETY: I10: room for `len` elements (allocate_unsized); the vector's
    // elements move (its length is set to 0 so it drops none of them).
    unsafe {
        std::ptr::copy_nonoverlapping(v.as_ptr(), value.cast::<T>(), len);
        v.set_len(0);
    }
    drop(v);
    let ptr =
        std::ptr::slice_from_raw_parts_mut(counts.as_ptr().cast::<T>(), len) as *mut GcBox<[T], C>;
    // SAFETY: I10: from a non-null allocation holding `len` initialised elements.
    (unsafe { NonNull::new_unchecked(ptr) }, erased)
}

/// Copy a string into a new (untracked) `str` object of the heap whose
/// counts are `C`.
pub(crate) fn str_into_object<C: RefCounter>(
    s: &str,
    note_alloc: impl FnOnce(bool) -> Option<&'static Heap>,
) -> (NonNull<GcBox<str, C>>, ErasedType) {
    let erased = <str as TraceUnsized>::__gc_erased(s, C::SYNC);
    let layout = Layout::for_value(s);
    let heap = note_alloc(erased.tracked && !C::SYNC);
    let (counts, value) = allocate_unsized::<C>(layout, &erased, heap);
    // SAFETY: I10: room for the bytes (allocate_unsized).
    unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), value, s.len()) };
    let ptr = std::ptr::slice_from_raw_parts_mut(counts.as_ptr().cast::<u8>(), s.len())
        as *mut GcBox<str, C>;
    // SAFETY: I10: from a non-null allocation holding a copy of a `str` (valid
    // UTF-8).
    (unsafe { NonNull::new_unchecked(ptr) }, erased)
}

/// Track a new object made by [`allocate_unsized`] once its value is
/// written (joins generation 0, as `Gc::new`).
///
/// # Safety
/// `counts` are those of such an object, of erased type `e`, which its
/// caller's handle keeps alive (I1).
pub(crate) unsafe fn finish_unsized(counts: NonNull<Counts>, e: &ErasedType) {
    if !e.tracked {
        return;
    }
    if let Some(heap) = super::heap() {
        // SAFETY: I8: `e.tracked`: it was allocated with a header; L1: the
        // caller's handle keeps it alive.
        let header = unsafe { Node::of_counts(counts) };
        heap.track_new_kind((e.vtable.finalizer_kind)(), header);
    }
}

/// Replace the address of the (possibly wide) pointer `meta_of` with
/// `addr`, keeping its metadata (length or vtable) and taking `addr`'s
/// provenance — `ptr::with_metadata_of`, which is not stable yet.
///
/// Every Rust target stores a wide pointer as (data address, metadata);
/// the layout is not guaranteed, so the result is checked: if the address
/// were not the first word, the check fails (and panics) before the
/// pointer is used.
pub(crate) fn with_addr_of<T: ?Sized>(meta_of: *mut T, addr: *mut u8) -> *mut T {
    let mut p = meta_of;
    // SAFETY: I10: `p` is a local of at least one pointer's size; writing a
    // pointer into its first word is a plain write.
    unsafe { std::ptr::addr_of_mut!(p).cast::<*mut u8>().write(addr) };
    assert!(
        p.cast::<u8>() == addr,
        "gc: unsupported wide-pointer layout (address is not the first word)"
    );
    p
}

/// The vtables of `[T]` (`C`: the heap's counts).
///
/// An untracked slice is described by its length ([`ObjPtr::meta`]). A
/// tracked slice made at run time (`Gc::from(vec)`) keeps its length in
/// the word before its header, so the collector, which knows objects by
/// their headers, can find it (I8). A tracked slice coerced from an array
/// keeps the array's vtable in its header.
pub(crate) struct SliceOps<T, C>(PhantomData<(fn() -> T, C)>);

impl<T: Trace + 'static, C: RefCounter> SliceOps<T, C> {
    const VALUE_OFFSET: usize = {
        let a = std::mem::align_of::<T>();
        std::mem::size_of::<C>().div_ceil(a) * a
    };

    pub(crate) const UNTRACKED: VTable = VTable {
        // Rule 6: an untracked type owns no handle; nothing to report.
        trace: |_, _| {},
        trace_reachable: |_, _| {},
        trace_subtract: |_, _| {},
        trace_side_count: |_, _| {},
        trace_side_reach: |_, _| {},
        finalize: |_| {},
        finalizer_kind: || FinalizerKind::None,
        drop_value: Self::drop_with_len,
        dealloc: Self::dealloc_untracked,
        delete_trash: super::dealloc::delete_trash_erased,
        type_id: TypeId::of::<[T]>,
        type_name: std::any::type_name::<[T]>,
        tracked: || false,
        value_offset: Self::VALUE_OFFSET,
    };

    pub(crate) const TRACKED: VTable = VTable {
        trace: Self::trace_tracked,
        trace_reachable: Self::trace_tracked,
        trace_subtract: Self::trace_tracked,
        trace_side_count: Self::trace_tracked,
        trace_side_reach: Self::trace_tracked,
        finalize: |_| {},
        finalizer_kind: || FinalizerKind::None,
        drop_value: Self::drop_tracked,
        dealloc: Self::dealloc_tracked,
        delete_trash: super::dealloc::delete_trash_erased,
        type_id: TypeId::of::<[T]>,
        type_name: std::any::type_name::<[T]>,
        tracked: || true,
        value_offset: Self::VALUE_OFFSET,
    };

    /// The length stored before the header of a tracked slice.
    ///
    /// # Safety
    /// `obj` is a live tracked slice allocated by `allocate_unsized`.
    unsafe fn stored_len(obj: NonNull<Counts>) -> usize {
        // SAFETY: I10: caller: the word before the header holds the length.
        unsafe {
            obj.as_ptr()
                .cast::<u8>()
                .sub(HEADER_SIZE + std::mem::size_of::<usize>())
                .cast::<usize>()
                .read()
        }
    }

    fn slice(obj: NonNull<Counts>, len: usize) -> *mut [T] {
        let data = obj.as_ptr().cast::<u8>().wrapping_add(Self::VALUE_OFFSET);
        std::ptr::slice_from_raw_parts_mut(data.cast::<T>(), len)
    }

    fn box_layout(len: usize) -> Layout {
        let value = Layout::array::<T>(len).expect("gc: slice too large");
        Layout::new::<C>()
            .extend(value)
            .expect("gc: slice too large")
            .0
            .pad_to_align()
    }

    unsafe fn trace_tracked(obj: NonNull<Counts>, tracer: &mut Tracer<'_>) {
        // SAFETY: I6, I10: a live tracked slice with an intact value (vtable
        // contract); the length is stored (I8).
        let slice = unsafe { &*Self::slice(obj, Self::stored_len(obj)) };
        <[T]>::trace(slice, tracer)
    }

    unsafe fn drop_with_len(obj: NonNull<Counts>, len: usize) {
        // SAFETY: the owner drops the value exactly once (I1).
        unsafe { std::ptr::drop_in_place(Self::slice(obj, len)) }
    }

    unsafe fn drop_tracked(obj: NonNull<Counts>, _: usize) {
        // SAFETY: I10: as `drop_with_len`, with the stored length.
        unsafe { Self::drop_with_len(obj, Self::stored_len(obj)) }
    }

    unsafe fn dealloc_untracked(obj: NonNull<Counts>, len: usize) {
        let (layout, offset) = allocation_layout(Self::box_layout(len), 0);
        // SAFETY: I10, P1: allocated by `allocate_unsized` (or as `[T; len]`, the
        // same layout) from the global allocator (untracked: never
        // pooled), freed once (I1); the counts are dropped first (loom's
        // atomics own model state), as `GcBox::dealloc` does.
        unsafe {
            std::ptr::drop_in_place(obj.as_ptr().cast::<C>());
            std::alloc::dealloc(obj.as_ptr().cast::<u8>().sub(offset), layout)
        }
    }

    unsafe fn dealloc_tracked(obj: NonNull<Counts>, _: usize) {
        // SAFETY: I1: caller: live until this call.
        let len = unsafe { Self::stored_len(obj) };
        let (layout, offset) = allocation_layout(
            Self::box_layout(len),
            HEADER_SIZE + std::mem::size_of::<usize>(),
        );
        // SAFETY: I10: `allocate_unsized` placed the counts `offset` bytes
        // into an allocation of `layout`; they are dropped first, as in
        // `dealloc_untracked`.
        let base = unsafe {
            std::ptr::drop_in_place(obj.as_ptr().cast::<C>());
            obj.as_ptr().cast::<u8>().sub(offset)
        };
        let heap = if C::SYNC { None } else { super::heap() };
        // A run-time tracked slice's header is never at its block's start
        // (the length comes first): counted by H2 on the per-thread heap.
        // SAFETY: I10, P1, SP2: the allocation made by `allocate_unsized`,
        // unused now (I1); the same rules as there.
        unsafe { free_object::<C>(base, layout, true, !C::SYNC, heap) };
    }
}

/// `str` has nothing to drop; its memory is a `[u8]`'s.
unsafe fn dealloc_str(obj: NonNull<Counts>, len: usize) {
    // SAFETY: I10: forwarded: a `str` object has the layout of a `[u8]` one.
    unsafe { SliceOps::<u8, Counts>::dealloc_untracked(obj, len) }
}

unsafe fn dealloc_str_sync(obj: NonNull<Counts>, len: usize) {
    // SAFETY: I10: forwarded, as `dealloc_str`.
    unsafe { SliceOps::<u8, crate::sync::counts::SyncCounts>::dealloc_untracked(obj, len) }
}

static STR_VTABLE: VTable = VTable {
    trace: |_, _| {},
    trace_reachable: |_, _| {},
    trace_subtract: |_, _| {},
    trace_side_count: |_, _| {},
    trace_side_reach: |_, _| {},
    finalize: |_| {},
    finalizer_kind: || FinalizerKind::None,
    drop_value: |_, _| {},
    dealloc: dealloc_str,
    delete_trash: super::dealloc::delete_trash_erased,
    type_id: TypeId::of::<str>,
    type_name: || "str",
    tracked: || false,
    value_offset: std::mem::size_of::<Counts>(),
};

static STR_SYNC_VTABLE: VTable = VTable {
    dealloc: dealloc_str_sync,
    ..STR_VTABLE
};

/// What `Heap::track_new` needs, without the type.
impl Heap {
    /// Link a newly allocated object whose finalizer kind is `kind` into
    /// generation 0 (already counted by [`Heap::note_alloc`]).
    pub(crate) fn track_new_kind(&self, kind: FinalizerKind, header: Node) {
        match kind {
            FinalizerKind::Legacy => self.legacy_seen.set(true),
            FinalizerKind::Pep442 => self.pep442_seen.set(true),
            FinalizerKind::None => {}
        }
        super::list::append(header, self.gen_head(0));
    }
}
