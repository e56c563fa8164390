//! Which object's finalizer is running on this thread, for
//! `Gc::from_finalizing` / `sync::Gc::from_finalizing` (CPython's `__del__`
//! may store `self`; `Finalize::finalize(&self)` gets only a `&T`).
//!
//! # Invariant
//!
//! * **F1 (finalizing).** While `GcBox::<T, C>::finalize_erased` runs the
//!   finalizer of an object `O` on a thread, that thread's [`CURRENT`] holds
//!   `O`'s counts pointer (with the provenance of its allocation), the
//!   address of `O`'s value and `TypeId::of::<GcBox<T, C>>()`; when the call
//!   returns or unwinds the previous entry is restored, so a nested
//!   finalizer (one that runs because the outer one dropped a handle) hides
//!   the outer object until it returns. Every caller of `finalize_erased`
//!   holds a strong reference to `O` for the whole call (refcount death sets
//!   the count to 1, the collector adds one) and `O`'s value is intact (I6):
//!   so while the entry is current, `O` is live, its value is a `T` of the
//!   heap of `C`, and a new strong handle to it may be made.
//!
//! The entry lives in a `const` thread-local of `Copy` data without a
//! destructor: it is readable during thread exit too.

use super::header::Counts;
use std::any::TypeId;
use std::cell::Cell;
use std::ptr::NonNull;

/// The finalizer running innermost on this thread: (counts, value address,
/// type of the box).
type Entry = (NonNull<Counts>, usize, TypeId);

std::thread_local! {
    /// F1: the object whose finalizer runs innermost on this thread.
    static CURRENT: Cell<Option<Entry>> = const { Cell::new(None) };
}

/// Restores the previous entry when the finalizer returns or unwinds.
struct Restore(Option<Entry>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// Run `finalize` with `obj` (whose value is at `value` and whose box type is
/// `B`) registered as the object being finalized on this thread (F1).
///
/// # Safety
/// F1: `obj` are the counts of a live object of box type `B` whose value is
/// at `value`, and the caller holds a strong reference to it for the whole
/// call (`Gc::from_finalizing` turns the registration into a handle).
#[inline]
pub(crate) unsafe fn run<B: 'static>(
    obj: NonNull<Counts>,
    value: *const (),
    finalize: impl FnOnce(),
) {
    let entry = (obj, value as usize, TypeId::of::<B>());
    let previous = CURRENT.try_with(|c| c.replace(Some(entry))).ok().flatten();
    let _restore = Restore(previous);
    finalize();
}

/// The counts of the object whose finalizer runs innermost on this thread,
/// if its value is at `value` and its box type is `B` (F1).
#[inline]
pub(crate) fn current<B: 'static>(value: *const ()) -> Option<NonNull<Counts>> {
    let (obj, at, ty) = CURRENT.try_with(Cell::get).ok().flatten()?;
    (at == value as usize && ty == TypeId::of::<B>()).then_some(obj)
}
