//! The one place that imports atomics, locks and the header's link cells:
//! `std`'s normally, loom's under `cfg(loom)` (model checking; see
//! `tests/tests/loom.rs`). Nothing else in the sync heap names `std::sync`
//! primitives directly.

/// A cell whose accesses loom checks for exclusion (the sync heap's
/// nursery bookkeeping, rule N1 in `sync::nursery`).
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::{
    Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
#[cfg(loom)]
pub(crate) use loom::thread_local;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
    Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// `std`'s `UnsafeCell` with loom's API (`with_mut`), so that loom can
/// check the exclusion the callers' invariants promise.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Run `f` with a pointer to the value; the caller's invariant makes
    /// the access exclusive.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Lock a mutex, ignoring poisoning (the sync heap never poisons: a panic
/// under its locks is caught or aborts; user panics in user locks are the
/// user's, and `GcMutex` does not poison, like parking_lot).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A header's link word (`next`/`prev`): `std`'s `Cell<usize>`; under loom a
/// cell each of whose reads and writes loom checks for data races, so the
/// models check the sync heap's list rule S4 (link words are touched only
/// under the list lock or by the collector with the world stopped).
#[cfg(not(loom))]
pub(crate) type LinkCell = std::cell::Cell<usize>;

/// A header's link word, checked by loom (see the non-loom definition).
#[cfg(loom)]
pub(crate) struct LinkCell(loom::cell::UnsafeCell<usize>);

#[cfg(loom)]
impl LinkCell {
    pub(crate) fn new(word: usize) -> Self {
        LinkCell(loom::cell::UnsafeCell::new(word))
    }
    pub(crate) fn get(&self) -> usize {
        // SAFETY: S4: loom reports any access that races with this one.
        self.0.with(|p| unsafe { *p })
    }
    pub(crate) fn set(&self, word: usize) {
        // SAFETY: S4, as `get`.
        self.0.with_mut(|p| unsafe { *p = word })
    }
    pub(crate) fn replace(&self, word: usize) -> usize {
        // SAFETY: S4, as `get`.
        self.0.with_mut(|p| unsafe { std::ptr::replace(p, word) })
    }
}
