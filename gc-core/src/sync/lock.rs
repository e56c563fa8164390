//! `GcMutex` and `GcRwLock`: the interior mutability of the sync heap.
//!
//! Every guard holds a *permit* of the world (sync module S1): the collector
//! never traces a value while a guard may be mutating it. Neither lock
//! poisons (like parking_lot): a panic while a guard is held leaves the
//! value as the panicking code left it.

use super::{heap, Permit};
use crate::primitive::{self, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::trace::{Trace, Tracer};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// A mutex for traced state of the sync heap.
///
/// # Examples
///
/// ```
/// use pygc::sync::{Gc, GcMutex};
/// let cell = Gc::new(GcMutex::new(1));
/// *cell.lock() += 1;
/// assert_eq!(*cell.lock(), 2);
/// ```
pub struct GcMutex<T> {
    inner: Mutex<T>,
}

/// The guard of a [`GcMutex`]; holds a permit of the world.
pub struct GcMutexGuard<'a, T> {
    // Field order: the lock is released before the permit.
    guard: MutexGuard<'a, T>,
    _permit: Permit,
}

impl<T> GcMutex<T> {
    /// A new mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = pygc::sync::GcMutex::new(0);
    /// assert_eq!(*m.lock(), 0);
    /// ```
    pub fn new(value: T) -> Self {
        GcMutex {
            inner: Mutex::new(value),
        }
    }

    /// Lock it (no poisoning). Waits while a collection has stopped the world.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = pygc::sync::GcMutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(m.lock().len(), 2);
    /// ```
    pub fn lock(&self) -> GcMutexGuard<'_, T> {
        let permit = heap().permit();
        GcMutexGuard {
            guard: primitive::lock(&self.inner),
            _permit: permit,
        }
    }

    /// The value, consuming the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pygc::sync::GcMutex::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Deref for GcMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for GcMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_lock() {
            Ok(g) => f.debug_tuple("GcMutex").field(&*g).finish(),
            Err(_) => f.write_str("GcMutex(<locked>)"),
        }
    }
}

// SAFETY: reports the content when it can be locked; a mutex held by a
// guard (only possible while the world runs, i.e. outside the collector's
// stopped phases) reports nothing: its handles count as outside references.
unsafe impl<T: Trace> Trace for GcMutex<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        match self.inner.try_lock() {
            Ok(g) => g.trace(tracer),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().trace(tracer),
            Err(std::sync::TryLockError::WouldBlock) => tracer.note_borrowed_cell(),
        }
    }
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}

/// A reader-writer lock for traced state of the sync heap.
///
/// # Examples
///
/// ```
/// use pygc::sync::GcRwLock;
/// let l = GcRwLock::new(1);
/// assert_eq!(*l.read(), 1);
/// *l.write() = 2;
/// assert_eq!(*l.read(), 2);
/// ```
pub struct GcRwLock<T> {
    inner: RwLock<T>,
}

/// A read guard of a [`GcRwLock`].
pub struct GcRwLockReadGuard<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    _permit: Permit,
}

/// A write guard of a [`GcRwLock`].
pub struct GcRwLockWriteGuard<'a, T> {
    guard: RwLockWriteGuard<'a, T>,
    _permit: Permit,
}

impl<T> GcRwLock<T> {
    /// A new lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pygc::sync::GcRwLock::new("x");
    /// assert_eq!(*l.read(), "x");
    /// ```
    pub fn new(value: T) -> Self {
        GcRwLock {
            inner: RwLock::new(value),
        }
    }

    /// Shared access (no poisoning).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pygc::sync::GcRwLock::new(1);
    /// let (a, b) = (l.read(), l.read());
    /// assert_eq!(*a + *b, 2);
    /// ```
    pub fn read(&self) -> GcRwLockReadGuard<'_, T> {
        let permit = heap().permit();
        GcRwLockReadGuard {
            guard: self.inner.read().unwrap_or_else(|e| e.into_inner()),
            _permit: permit,
        }
    }

    /// Exclusive access (no poisoning).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pygc::sync::GcRwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    pub fn write(&self) -> GcRwLockWriteGuard<'_, T> {
        let permit = heap().permit();
        GcRwLockWriteGuard {
            guard: self.inner.write().unwrap_or_else(|e| e.into_inner()),
            _permit: permit,
        }
    }
}

impl<T> Deref for GcRwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Deref for GcRwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcRwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for GcRwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_read() {
            Ok(g) => f.debug_tuple("GcRwLock").field(&*g).finish(),
            Err(_) => f.write_str("GcRwLock(<locked>)"),
        }
    }
}

// SAFETY: as for `GcMutex`: reports the content when readable.
unsafe impl<T: Trace> Trace for GcRwLock<T> {
    fn trace(&self, tracer: &mut Tracer<'_>) {
        match self.inner.try_read() {
            Ok(g) => g.trace(tracer),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().trace(tracer),
            Err(std::sync::TryLockError::WouldBlock) => tracer.note_borrowed_cell(),
        }
    }
    fn __gc_tracked_with<Fu: crate::trace::Fuel>() -> bool {
        T::__gc_tracked_with::<Fu>()
    }
}
