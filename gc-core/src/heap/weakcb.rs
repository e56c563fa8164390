//! The registry of weak-handle callbacks and `weakref::finalize` entries.
//!
//! CPython keeps a list of weakref objects on each referent. Here weak handles
//! are plain pointers, so callbacks live in a side table keyed by the
//! referent's address, and the object's [`HAS_CALLBACKS`](super::header::HAS_CALLBACKS)
//! bit says whether to look. An entry exists exactly while its owner is
//! alive: the `Weak` handle made by `downgrade_with_callback` removes its
//! entry when dropped; a `weakref::finalize` entry is owned by the registry
//! until it runs or is detached. The memory of a referent cannot be reused
//! while a `Weak` to it exists (I1), and ids are never reused, so a stale
//! removal can never hit another object's entry.

use crate::types::{CollectionInfo, Phase};
use std::collections::HashMap;

/// A callback: runs at most once.
pub(crate) type Callback = Box<dyn FnOnce()>;

/// One registered callback (`C`: `Box<dyn FnOnce()>`, or `+ Send` for the
/// sync heap).
pub(crate) struct Entry<C = Callback> {
    pub(crate) id: u64,
    pub(crate) callback: C,
}

/// Callbacks by referent address.
pub(crate) struct Registry<C = Callback> {
    next_id: u64,
    by_object: HashMap<usize, Vec<Entry<C>>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Registry {
            next_id: 0,
            by_object: HashMap::new(),
        }
    }
}

impl<C> Registry<C> {
    /// Register `callback` for the object at `object`; returns its id (never 0).
    pub(crate) fn register(&mut self, object: usize, callback: C) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.by_object
            .entry(object)
            .or_default()
            .push(Entry { id, callback });
        id
    }

    /// Remove one entry (its owner died or detached it).
    pub(crate) fn unregister(&mut self, object: usize, id: u64) -> Option<Entry<C>> {
        let entries = self.by_object.get_mut(&object)?;
        let at = entries.iter().position(|e| e.id == id)?;
        let entry = entries.remove(at);
        if entries.is_empty() {
            self.by_object.remove(&object);
        }
        Some(entry)
    }

    /// Whether no entry is registered.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_object.is_empty()
    }

    /// Whether the entry is still registered.
    pub(crate) fn contains(&self, object: usize, id: u64) -> bool {
        self.by_object
            .get(&object)
            .is_some_and(|v| v.iter().any(|e| e.id == id))
    }

    /// Remove and return the newest entry of `object`.
    pub(crate) fn pop_newest(&mut self, object: usize) -> Option<Entry<C>> {
        let entries = self.by_object.get_mut(&object)?;
        let entry = entries.pop();
        if entries.is_empty() {
            self.by_object.remove(&object);
        }
        entry
    }

    /// Take every entry of `object`, oldest first.
    pub(crate) fn take(&mut self, object: usize) -> Vec<Entry<C>> {
        self.by_object.remove(&object).unwrap_or_default()
    }

    /// Take every entry (thread exit).
    pub(crate) fn take_all(&mut self) -> Vec<Entry<C>> {
        self.by_object.drain().flat_map(|(_, v)| v).collect()
    }
}

/// Run `f`, catching a panic and reporting it on stderr the way CPython's
/// unraisable hook reports an exception in `__del__` or a callback. Returns
/// whether `f` completed.
///
/// Always inlined (the report is out of line): the collector's drop walk
/// calls it once per trash object, and when both heaps share one closure
/// type the compiler otherwise keeps it out of line (16 instructions per
/// object in `profile b`).
#[inline(always)]
pub(crate) fn run_reporting_panics(what: &dyn Fn() -> String, f: impl FnOnce()) -> bool {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(payload) => {
            report_panic(what, payload);
            false
        }
    }
}

/// The report of [`run_reporting_panics`].
#[cold]
#[inline(never)]
fn report_panic(what: &dyn Fn() -> String, payload: Box<dyn std::any::Any + Send>) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".to_string());
    eprintln!("Exception ignored in: {}\npanic: {message}", what());
    // Dropping the payload could itself panic: catch that too (and only
    // then leak the second payload).
    if let Err(again) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)))
    {
        std::mem::forget(again);
    }
}

/// A `gc` callback as a heap stores it: shared, behind a `RefCell`
/// (per-thread heap) or a `Mutex` (sync heap).
pub(crate) trait GcCallbackCell {
    /// Call it, unless it is running already (a callback that collects).
    fn call_unless_running(&self, phase: Phase, info: &CollectionInfo);
}
