//! CPython's `weakref.finalize`: a callback tied to an object's death.
//!
//! Weak handles themselves are [`Weak`](crate::Weak), with callbacks from
//! [`Gc::downgrade_with_callback`](crate::Gc::downgrade_with_callback).
//!
//! ```
//! use pygc::{gc, weakref, Gc, Trace};
//! use std::{cell::{Cell, RefCell}, rc::Rc};
//!
//! #[derive(Trace)]
//! struct Node(RefCell<Option<Gc<Node>>>);
//!
//! let closed = Rc::new(Cell::new(false));
//! let n = Gc::new(Node(RefCell::new(None)));
//! *n.0.borrow_mut() = Some(n.clone());
//! let c = closed.clone();
//! let fin = weakref::finalize(&n, move || c.set(true));
//! drop(n);
//! assert!(!closed.get());  // a cycle: the refcount never reached zero
//! gc::collect();
//! assert!(closed.get() && !fin.alive());
//! ```

use crate::handle::strong::Gc;
use crate::heap::header::HAS_CALLBACKS;
use crate::heap::{heap, heap_or_panic};
use crate::trace::Trace;

/// The handle returned by [`finalize`]. Dropping it does **not** cancel the
/// callback (the registry keeps it, as CPython's `weakref.finalize` does).
///
/// It belongs to the thread whose heap registered it (`!Send`).
///
/// # Examples
///
/// ```
/// use pygc::{weakref, Gc};
/// let obj = Gc::new(5_u8);
/// let fin = weakref::finalize(&obj, || panic!("detached: never runs"));
/// drop(fin);                 // dropping the handle does not cancel it...
/// let fin = weakref::finalize(&obj, || {});
/// assert!(fin.detach());     // ...detaching does
/// # let _ = fin;
/// ```
#[derive(Debug)]
pub struct Finalizer {
    object: usize,
    id: u64,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Register `f` to run exactly once: when `object` is reclaimed (refcount
/// death, or by the collector's weak phase for cyclic trash) or when
/// [`Finalizer::call`] is called first — unless [`Finalizer::detach`]ed.
///
/// # Examples
///
/// ```
/// use pygc::{weakref, Gc};
/// use std::{cell::Cell, rc::Rc};
/// let ran = Rc::new(Cell::new(0));
/// let r = ran.clone();
/// let obj = Gc::new(String::from("x"));
/// let fin = weakref::finalize(&obj, move || r.set(r.get() + 1));
/// assert!(fin.alive());
/// drop(obj);
/// assert_eq!(ran.get(), 1);
/// assert!(!fin.alive());
/// assert!(!fin.call()); // already ran
/// ```
pub fn finalize<T: Trace + 'static>(object: &Gc<T>, f: impl FnOnce() + 'static) -> Finalizer {
    let addr = object.ptr.as_ptr() as usize;
    let id = heap_or_panic()
        .weak_callbacks
        .borrow_mut()
        .register(addr, Box::new(f));
    object.counts().set_flag(HAS_CALLBACKS);
    Finalizer {
        object: addr,
        id,
        _not_send: std::marker::PhantomData,
    }
}

impl Finalizer {
    /// Whether the callback is still pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{weakref, Gc};
    /// let obj = Gc::new(1);
    /// let fin = weakref::finalize(&obj, || {});
    /// assert!(fin.alive());
    /// fin.detach();
    /// assert!(!fin.alive());
    /// ```
    pub fn alive(&self) -> bool {
        heap().is_some_and(|h| h.weak_callbacks.borrow().contains(self.object, self.id))
    }

    /// Cancel the callback without running it; `true` if it was pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{weakref, Gc};
    /// let obj = Gc::new(1);
    /// let fin = weakref::finalize(&obj, || panic!("never runs"));
    /// assert!(fin.detach());
    /// assert!(!fin.detach());
    /// drop(obj);
    /// ```
    pub fn detach(&self) -> bool {
        let entry = heap().and_then(|h| {
            h.weak_callbacks
                .borrow_mut()
                .unregister(self.object, self.id)
        });
        entry.is_some()
    }

    /// Run the callback now if it is pending; `true` if it ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::{weakref, Gc};
    /// use std::{cell::Cell, rc::Rc};
    /// let n = Rc::new(Cell::new(0));
    /// let m = n.clone();
    /// let obj = Gc::new(1);
    /// let fin = weakref::finalize(&obj, move || m.set(m.get() + 1));
    /// assert!(fin.call());
    /// drop(obj);
    /// assert_eq!(n.get(), 1); // once
    /// ```
    pub fn call(&self) -> bool {
        let entry = heap().and_then(|h| {
            h.weak_callbacks
                .borrow_mut()
                .unregister(self.object, self.id)
        });
        match entry {
            Some(entry) => {
                (entry.callback)();
                true
            }
            None => false,
        }
    }
}
