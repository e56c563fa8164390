//! `GcMutex` and `GcRwLock`: the interior mutability of the sync heap.
//!
//! Every guard holds a *permit* of the world (sync module S1): the collector
//! never traces a value while a guard may be mutating it. Neither lock
//! poisons (like parking_lot): a panic while a guard is held leaves the
//! value as the panicking code left it.

use super::world::{world, Permit};
use crate::primitive::{self, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use crate::trace::{Trace, Tracer};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{TryLockError, TryLockResult};

/// The guard of a `try_*` call, ignoring poisoning (as the blocking calls
/// do); `None` if the lock is held.
#[inline(always)]
fn unpoisoned<G>(r: TryLockResult<G>) -> Option<G> {
    match r {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

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
///
/// While any guard lives, its thread is attached: a collection cannot stop
/// the world (it waits a bounded time, then gives up). Drop guards before
/// blocking on anything another thread may hold while it collects (lock
/// order: `sync` module docs).
///
/// # Examples
///
/// ```
/// use pygc::sync::{Gc, GcMutex};
/// let shared = Gc::new(GcMutex::new(Vec::<Gc<GcMutex<u8>>>::new()));
/// {
///     let mut guard = shared.lock(); // a GcMutexGuard
///     guard.push(Gc::new(GcMutex::new(7)));
/// } // unlocked here; the thread detaches
/// assert_eq!(*shared.lock()[0].lock(), 7);
/// ```
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
    #[inline(always)]
    pub fn lock(&self) -> GcMutexGuard<'_, T> {
        let _permit = world().permit();
        let guard = primitive::lock(&self.inner);
        GcMutexGuard { guard, _permit }
    }

    /// Lock it if no other guard holds it (no poisoning); `None` if it is
    /// locked. May wait while a collection has stopped the world (never for
    /// another thread's guard).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = pygc::sync::GcMutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<GcMutexGuard<'_, T>> {
        let _permit = world().permit();
        let guard = unpoisoned(self.inner.try_lock())?;
        Some(GcMutexGuard { guard, _permit })
    }

    /// The value, through exclusive access to the mutex (no locking).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = pygc::sync::GcMutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // A `&mut` to a mutex inside a heap object only comes from
        // `sync::Gc::get_mut`, which keeps the collector away (header I6).
        self.inner.get_mut().unwrap_or_else(|e| e.into_inner())
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

impl<T: Default> Default for GcMutex<T> {
    /// A mutex holding `T::default()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m: pygc::sync::GcMutex<Vec<u8>> = Default::default();
    /// assert!(m.lock().is_empty());
    /// ```
    fn default() -> Self {
        GcMutex::new(T::default())
    }
}

impl<T> From<T> for GcMutex<T> {
    /// A mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = pygc::sync::GcMutex::from(5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    fn from(value: T) -> Self {
        GcMutex::new(value)
    }
}

impl<T> Deref for GcMutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcMutexGuard<'_, T> {
    #[inline]
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

// SAFETY: T1, T2, S1: reports the content when it can be locked; a mutex held by a
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

/// A read guard of a [`GcRwLock`]; holds a permit of the world (see
/// [`GcMutexGuard`]).
///
/// # Examples
///
/// ```
/// use pygc::sync::{Gc, GcRwLock};
/// let table = Gc::new(GcRwLock::new(vec![1, 2]));
/// let a = table.read();
/// let b = table.read(); // readers share the lock
/// assert_eq!(a.len() + b.len(), 4);
/// ```
pub struct GcRwLockReadGuard<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    _permit: Permit,
}

/// A write guard of a [`GcRwLock`]; holds a permit of the world (see
/// [`GcMutexGuard`]).
///
/// # Examples
///
/// ```
/// use pygc::sync::{Gc, GcRwLock};
/// let table = Gc::new(GcRwLock::new(vec![1]));
/// table.write().push(2);
/// assert!(table.try_read().is_some());
/// assert_eq!(*table.read(), [1, 2]);
/// ```
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
    #[inline(always)]
    pub fn read(&self) -> GcRwLockReadGuard<'_, T> {
        let _permit = world().permit();
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        GcRwLockReadGuard { guard, _permit }
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
    #[inline(always)]
    pub fn write(&self) -> GcRwLockWriteGuard<'_, T> {
        let _permit = world().permit();
        let guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        GcRwLockWriteGuard { guard, _permit }
    }
}

impl<T> GcRwLock<T> {
    /// Shared access if no writer holds the lock; `None` otherwise. May
    /// wait while a collection has stopped the world.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pygc::sync::GcRwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert_eq!(*l.try_read().unwrap(), 1);
    /// ```
    #[inline]
    pub fn try_read(&self) -> Option<GcRwLockReadGuard<'_, T>> {
        let _permit = world().permit();
        let guard = unpoisoned(self.inner.try_read())?;
        Some(GcRwLockReadGuard { guard, _permit })
    }

    /// Exclusive access if no guard holds the lock; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = pygc::sync::GcRwLock::new(1);
    /// let r = l.read();
    /// assert!(l.try_write().is_none());
    /// drop(r);
    /// *l.try_write().unwrap() = 2;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[inline]
    pub fn try_write(&self) -> Option<GcRwLockWriteGuard<'_, T>> {
        let _permit = world().permit();
        let guard = unpoisoned(self.inner.try_write())?;
        Some(GcRwLockWriteGuard { guard, _permit })
    }

    /// The value, through exclusive access to the lock (no locking).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut l = pygc::sync::GcRwLock::new(1);
    /// *l.get_mut() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // As `GcMutex::get_mut`.
        self.inner.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// The value, consuming the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(pygc::sync::GcRwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T> Deref for GcRwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Deref for GcRwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcRwLockWriteGuard<'_, T> {
    #[inline]
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

// SAFETY: T1, T2, S1: as for `GcMutex`: reports the content when readable.
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
