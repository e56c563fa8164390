//! The handles: [`Gc`](strong::Gc), [`Weak`](weak::Weak), [`GcAny`](any::GcAny).

pub(crate) mod any;
pub(crate) mod dst;
pub(crate) mod raw;
pub(crate) mod strong;
pub(crate) mod weak;

use crate::heap::{heap, Heap};

/// A tracked object is about to be allocated (`tracked`): count it on the
/// calling thread's heap and, if the heap reports a collection due, start
/// it now, before the new object exists (so the collection never sees it
/// half-built). Returns that heap (`None` for an untracked type, or once
/// the thread's heap is gone).
#[inline(always)]
pub(crate) fn note_alloc(tracked: bool) -> Option<&'static Heap> {
    let heap = if tracked { heap() } else { None };
    if let Some(heap) = heap {
        if heap.note_alloc() {
            heap.collect_generations();
        }
    }
    heap
}

/// The `Rc`-like std trait impls of a strong handle type `$handle<T>` that
/// derefs to `T` and has an associated `as_ptr` (shared by `Gc` and
/// `sync::Gc`; `$($bound)*` are the extra bounds on `T`).
macro_rules! value_trait_impls {
    ($handle:ident, [$($unsized:tt)*], $($bound:tt)*) => {
        impl<T: $($unsized)* Trace $($bound)* + 'static> AsRef<T> for $handle<T> {
            fn as_ref(&self) -> &T {
                self
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + 'static> std::borrow::Borrow<T> for $handle<T> {
            fn borrow(&self) -> &T {
                self
            }
        }

        impl<T: Trace $($bound)* + 'static> From<T> for $handle<T> {
            fn from(value: T) -> Self {
                $handle::new(value)
            }
        }

        impl<T: Trace $($bound)* + Default + 'static> Default for $handle<T> {
            fn default() -> Self {
                $handle::new(T::default())
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + std::fmt::Debug + 'static> std::fmt::Debug for $handle<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + std::fmt::Display + 'static> std::fmt::Display for $handle<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&**self, f)
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + 'static> std::fmt::Pointer for $handle<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Pointer::fmt(&$handle::as_ptr(self), f)
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + PartialEq + 'static> PartialEq for $handle<T> {
            fn eq(&self, other: &Self) -> bool {
                **self == **other
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + Eq + 'static> Eq for $handle<T> {}

        impl<T: $($unsized)* Trace $($bound)* + PartialOrd + 'static> PartialOrd for $handle<T> {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                (**self).partial_cmp(&**other)
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + Ord + 'static> Ord for $handle<T> {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                (**self).cmp(&**other)
            }
        }

        impl<T: $($unsized)* Trace $($bound)* + std::hash::Hash + 'static> std::hash::Hash for $handle<T> {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                (**self).hash(state)
            }
        }
    };
}
pub(crate) use value_trait_impls;
