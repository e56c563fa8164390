//! Small stand-ins for the Python objects the seeds use, and Python-style
//! formatting.
//!
//! * [`List`] is a Python `list` that holds other lists (enough for
//!   `lst.append(lst)`); [`Dict`] a `dict` from strings to dicts (enough for
//!   `object_1['obj2'] = object_2`). Both print as Python does, including
//!   the `[...]` / `{...}` Python prints for a container that contains
//!   itself.
//! * [`getrefcount`] is `sys.getrefcount`.
//! * [`py_bool`], [`info_dict`] format values the way Python prints them.

use pygc::gc::CollectionInfo;
use pygc::{Gc, Trace};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// `sys.getrefcount(x)`: the strong count plus one, because in Python the
/// argument passed to `getrefcount` is itself a reference. A `&Gc` borrow
/// is not a reference count in Rust, so the `+ 1` is added here to print
/// what Python prints.
///
/// # Examples
///
/// ```
/// use pygc::Gc;
/// use gc_examples::py::getrefcount;
/// let x = Gc::new(());
/// assert_eq!(getrefcount(&x), 2); // x, and getrefcount's own argument
/// ```
pub fn getrefcount<T: Trace + 'static>(object: &Gc<T>) -> usize {
    Gc::strong_count(object) + 1
}

/// `True` / `False`, as Python prints a `bool`.
///
/// # Examples
///
/// ```
/// assert_eq!(gc_examples::py::py_bool(true), "True");
/// ```
pub fn py_bool(value: bool) -> &'static str {
    if value {
        "True"
    } else {
        "False"
    }
}

/// The `info` dict `gc.callbacks` receive, as Python prints it:
/// `{'generation': 0, 'collected': 0, 'uncollectable': 0}`.
///
/// # Examples
///
/// ```
/// use pygc::gc::CollectionInfo;
/// use std::time::Duration;
/// let info = CollectionInfo { generation: 2, collected: 5, uncollectable: 0, duration: Duration::ZERO };
/// assert_eq!(
///     gc_examples::py::info_dict(&info),
///     "{'generation': 2, 'collected': 5, 'uncollectable': 0}"
/// );
/// ```
pub fn info_dict(info: &CollectionInfo) -> String {
    format!(
        "{{'generation': {}, 'collected': {}, 'uncollectable': {}}}",
        info.generation, info.collected, info.uncollectable
    )
}

thread_local! {
    /// Containers being printed right now (CPython's `Py_ReprEnter`).
    static REPR_STACK: RefCell<Vec<*const ()>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` unless `object` is already being printed further up the stack,
/// in which case write `placeholder` (`[...]`, `{...}`) instead — what
/// CPython's `Py_ReprEnter` / `Py_ReprLeave` do.
fn with_repr_guard(
    object: *const (),
    placeholder: &str,
    f: &mut fmt::Formatter<'_>,
    body: impl FnOnce(&mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    let entered = REPR_STACK.with(|s| {
        let mut s = s.borrow_mut();
        if s.contains(&object) {
            false
        } else {
            s.push(object);
            true
        }
    });
    if !entered {
        return f.write_str(placeholder);
    }
    let result = body(f);
    REPR_STACK.with(|s| s.borrow_mut().retain(|p| *p != object));
    result
}

/// A Python `list` whose items are lists: enough for the seeds'
/// `lst = []; lst.append(lst)`.
///
/// # Examples
///
/// ```
/// use gc_examples::py::List;
/// let lst = List::new();
/// lst.append(lst.clone());
/// assert_eq!(lst.to_string(), "[[...]]");
/// lst.clear(); // break the cycle
/// ```
#[derive(Trace, Default)]
pub struct List {
    items: RefCell<Vec<Gc<List>>>,
}

impl List {
    /// `[]`: a new, empty list on the heap.
    ///
    /// # Examples
    ///
    /// ```
    /// let lst = gc_examples::py::List::new();
    /// assert_eq!(lst.len(), 0);
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Gc<List> {
        Gc::new(List::default())
    }

    /// `lst.append(item)`: the list now holds a strong reference to `item`.
    ///
    /// # Examples
    ///
    /// ```
    /// use pygc::Gc;
    /// use gc_examples::py::List;
    /// let (a, b) = (List::new(), List::new());
    /// a.append(b.clone());
    /// assert_eq!(Gc::strong_count(&b), 2);
    /// ```
    pub fn append(&self, item: Gc<List>) {
        self.items.borrow_mut().push(item);
    }

    /// `lst.clear()`: drop every item.
    ///
    /// # Examples
    ///
    /// ```
    /// let lst = gc_examples::py::List::new();
    /// lst.append(gc_examples::py::List::new());
    /// lst.clear();
    /// assert!(lst.is_empty());
    /// ```
    pub fn clear(&self) {
        let items = std::mem::take(&mut *self.items.borrow_mut());
        drop(items);
    }

    /// `len(lst)`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(gc_examples::py::List::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }

    /// `not lst`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(gc_examples::py::List::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_repr_guard(self as *const List as *const (), "[...]", f, |f| {
            f.write_str("[")?;
            for (i, item) in self.items.borrow().iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                fmt::Display::fmt(&**item, f)?;
            }
            f.write_str("]")
        })
    }
}

/// A Python `dict` from string keys to dicts: enough for the seed's
/// `object_1['obj2'] = object_2; object_2['obj1'] = object_1`.
///
/// # Examples
///
/// ```
/// use gc_examples::py::Dict;
/// let (o1, o2) = (Dict::new(), Dict::new());
/// o1.set("obj2", o2.clone());
/// o2.set("obj1", o1.clone());
/// assert_eq!(o1.to_string(), "{'obj2': {'obj1': {...}}}");
/// o1.clear(); // break the cycle
/// ```
#[derive(Trace, Default)]
pub struct Dict {
    items: RefCell<BTreeMap<String, Gc<Dict>>>,
}

impl Dict {
    /// `{}`: a new, empty dict on the heap.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = gc_examples::py::Dict::new();
    /// assert_eq!(d.to_string(), "{}");
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Gc<Dict> {
        Gc::new(Dict::default())
    }

    /// `d[key] = value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::py::Dict;
    /// let d = Dict::new();
    /// d.set("k", Dict::new());
    /// assert_eq!(d.to_string(), "{'k': {}}");
    /// ```
    pub fn set(&self, key: &str, value: Gc<Dict>) {
        let old = self.items.borrow_mut().insert(key.to_owned(), value);
        drop(old); // after the borrow ends: dropping may run user code
    }

    /// `d.clear()`: drop every entry.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::py::Dict;
    /// let d = Dict::new();
    /// d.set("k", Dict::new());
    /// d.clear();
    /// assert_eq!(d.to_string(), "{}");
    /// ```
    pub fn clear(&self) {
        let items = std::mem::take(&mut *self.items.borrow_mut());
        drop(items);
    }
}

impl fmt::Display for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_repr_guard(self as *const Dict as *const (), "{...}", f, |f| {
            f.write_str("{")?;
            for (i, (key, value)) in self.items.borrow().iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "'{key}': ")?;
                fmt::Display::fmt(&**value, f)?;
            }
            f.write_str("}")
        })
    }
}
