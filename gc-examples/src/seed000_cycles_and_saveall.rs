//! Seed 000 (`000_5278c975dcf1e66e.txt`): *Garbage collection in Python:
//! things you need to know* (Python 3.7).
//!
//! The article's three programs:
//!
//! * [`function_refcount`] — `sys.getrefcount(foo)` before, inside and after
//!   `bar(foo)`.
//! * [`cycles_survive_del`] — with `gc.disable()`, a list appended to itself
//!   and two dicts pointing at each other keep a refcount of 1 after `del`.
//!   The article reads the refcount of the unreachable objects with
//!   `ctypes` at `id(obj)`; there is no safe analogue of reading a field at a
//!   raw address, so the port keeps a [`pygc::Weak`] handle and asks it
//!   ([`Weak::strong_count`](pygc::Weak::strong_count)), which also shows
//!   safely that the object is gone once collected.
//! * [`debug_saveall`] — `gc.set_debug(gc.DEBUG_SAVEALL)`: the collected
//!   list lands in `gc.garbage`, and `id(item) == list_id`. `id()` is
//!   ported as the object's address ([`Gc::as_ptr`](pygc::Gc::as_ptr),
//!   [`GcAny::as_ptr`](pygc::GcAny::as_ptr)), which is what CPython's
//!   `id` returns.

use crate::SeedArticle;

/// The article this module ports.
pub const SEED: SeedArticle = SeedArticle {
    number: "000",
    file: "000_5278c975dcf1e66e.txt",
    title: "Garbage collection in Python: things you need to know",
};

/// `sys.getrefcount` rises inside a function call and falls back after it.
pub mod function_refcount {
    use crate::console::{Console, GcState};
    use crate::py::{getrefcount, List};
    use crate::Section;
    use pygc::Gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed000-function-refcount",
        seed: &super::SEED,
        summary: "sys.getrefcount rises inside bar(foo) and falls back when its scope is destroyed",
        run: |out| run(out).map(drop),
    };

    /// The `sys.getrefcount` figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `sys.getrefcount(foo)` after `foo = []`.
        pub before: usize,
        /// `sys.getrefcount(a)` inside `bar(foo)`.
        pub inside: usize,
        /// `sys.getrefcount(foo)` after `bar(foo)` returned.
        pub after: usize,
    }

    /// `def bar(a)`: Python passes a new reference to the argument, so the
    /// port takes the handle by value (a clone). Borrowing (`&Gc`) would not
    /// count, which is the Rust way, but not what the article shows.
    fn bar(a: Gc<List>, con: &mut Console<'_>) -> io::Result<usize> {
        let count = getrefcount(&a);
        con.line(format_args!(
            "{count}    # inside bar(a): foo, the argument a, getrefcount's argument"
        ))?;
        Ok(count)
    }

    /// Run the section, writing to `out`.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed000_cycles_and_saveall::function_refcount;
    /// let r = function_refcount::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.before, r.inside, r.after), (2, 3, 2));
    /// ```
    #[allow(clippy::disallowed_names)] // `foo` is the article's name
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        let foo = List::new();
        con.line("foo = []")?;
        let before = getrefcount(&foo);
        con.line(format_args!(
            "{before}    # 2 references, 1 from the foo var and 1 from getrefcount"
        ))?;

        con.line("bar(foo)")?;
        let inside = bar(foo.clone(), &mut con)?;
        con.line(
            "   (the article, on Python 3.7, prints 4 here: it also counts the caller's \
             evaluation stack, which has no Rust analogue; Python 3.12 prints 3, as here)",
        )?;

        let after = getrefcount(&foo);
        con.line(format_args!(
            "{after}    # 2 references, the function scope is destroyed"
        ))?;

        drop(foo);
        con.finish()?;
        Ok(Report {
            before,
            inside,
            after,
        })
    }
}

/// A self-referencing list and two dicts that point at each other outlive
/// `del` while the collector is disabled.
pub mod cycles_survive_del {
    use crate::console::{Console, GcState};
    use crate::py::{Dict, List};
    use crate::Section;
    use pygc::{gc, Gc};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed000-cycles-survive-del",
        seed: &super::SEED,
        summary: "a list appended to itself and two dicts pointing at each other keep refcount 1 after del",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// The refcount of `object_1` after `del object_1, object_2`.
        pub object_1_refcnt: usize,
        /// The refcount of `lst` after `del lst`.
        pub lst_refcnt: usize,
        /// What the (in the article, commented-out) `gc.collect()` returned.
        pub collected: usize,
        /// The three objects' refcounts after the collection (all 0: gone).
        pub refcnts_after_collect: [usize; 3],
    }

    /// Run the section, writing to `out`.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed000_cycles_and_saveall::cycles_survive_del;
    /// let r = cycles_survive_del::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.object_1_refcnt, r.lst_refcnt, r.collected), (1, 1, 3));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        con.line("gc.disable()  # Disable generational gc")?;
        gc::disable();

        let lst = List::new();
        lst.append(lst.clone());
        // `lst_address = id(lst)`: the article later reads the refcount at
        // that address with ctypes. Reading a dead object's memory has no
        // safe analogue; a Weak handle reads the count without keeping the
        // object alive, and reports 0 once it is gone.
        let lst_address = Gc::downgrade(&lst);
        con.line(format_args!("lst = []; lst.append(lst)  # lst is {lst}"))?;
        drop(lst);
        con.line("del lst")?;

        let object_1 = Dict::new();
        let object_2 = Dict::new();
        object_1.set("obj2", object_2.clone());
        object_2.set("obj1", object_1.clone());
        con.line(format_args!(
            "object_1['obj2'] = object_2; object_2['obj1'] = object_1  # object_1 is {object_1}"
        ))?;
        let obj_address = Gc::downgrade(&object_1);
        let obj2_address = Gc::downgrade(&object_2);
        drop((object_1, object_2));
        con.line("del object_1, object_2")?;

        con.line(
            "# The article reads ob_refcnt at id(obj) through ctypes; here a Weak handle \
             reads the count (Weak::strong_count) without touching freed memory.",
        )?;
        let object_1_refcnt = obj_address.strong_count();
        let lst_refcnt = lst_address.strong_count();
        con.line(format_args!(
            "{object_1_refcnt}    # PyObject.from_address(obj_address).refcnt"
        ))?;
        con.line(format_args!(
            "{lst_refcnt}    # PyObject.from_address(lst_address).refcnt"
        ))?;

        con.line("gc.collect()  # commented out in the article; run here to reclaim the cycles")?;
        let collected = gc::collect();
        con.line(format_args!("{collected}"))?;
        let refcnts_after_collect = [
            obj_address.strong_count(),
            obj2_address.strong_count(),
            lst_address.strong_count(),
        ];
        con.line(format_args!(
            "after gc.collect(): object_1, object_2, lst refcounts = {refcnts_after_collect:?}; \
             lst alive: {}",
            crate::py::py_bool(lst_address.upgrade().is_some())
        ))?;

        con.finish()?;
        Ok(Report {
            object_1_refcnt,
            lst_refcnt,
            collected,
            refcnts_after_collect,
        })
    }
}

/// `DEBUG_SAVEALL`: unreachable objects are appended to `gc.garbage`
/// instead of being freed.
pub mod debug_saveall {
    use crate::console::{Console, GcState};
    use crate::py::{py_bool, List};
    use crate::Section;
    use pygc::gc::{self, DebugFlags};
    use pygc::Gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed000-debug-saveall",
        seed: &super::SEED,
        summary: "gc.set_debug(gc.DEBUG_SAVEALL) keeps the unreachable list in gc.garbage",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `gc.get_count()` right after `set_debug` (the article's line).
        pub count_at_start: (usize, usize, usize),
        /// `gc.get_count()` after `lst = []` (one tracked allocation).
        pub count_after_alloc: (usize, usize, usize),
        /// What `gc.collect()` returned.
        pub collected: usize,
        /// `print(item)` for each item of `gc.garbage`.
        pub garbage: Vec<String>,
        /// Whether `id(item) == list_id` held for every item.
        pub ids_match: bool,
        /// `gc.collect()` after `gc.set_debug(0)` and `gc.garbage.clear()`:
        /// the list is cyclic trash again and is freed this time.
        pub collected_after_clear: usize,
    }

    /// Run the section, writing to `out`.
    ///
    /// # Errors
    ///
    /// Any error of the writer.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed000_cycles_and_saveall::debug_saveall;
    /// let r = debug_saveall::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.garbage, ["[[...]]"]);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        gc::set_debug(DebugFlags::SAVEALL);
        con.line("gc.set_debug(gc.DEBUG_SAVEALL)")?;

        let count_at_start = gc::get_count();
        con.line(format_args!(
            "{count_at_start:?}    # print(gc.get_count())"
        ))?;

        let lst = List::new();
        lst.append(lst.clone());
        // `id(lst)` is the object's address in CPython; Gc::as_ptr is ours.
        let list_id = Gc::as_ptr(&lst) as *const ();
        let count_after_alloc = gc::get_count();
        con.line(format_args!(
            "lst = []; lst.append(lst); list_id = id(lst)  # gc.get_count() is now {count_after_alloc:?}"
        ))?;
        drop(lst);
        con.line("del lst")?;

        let collected = gc::collect();
        con.line(format_args!("gc.collect() -> {collected}"))?;

        con.line("for item in gc.garbage: print(item); assert list_id == id(item)")?;
        let mut garbage = Vec::new();
        let mut ids_match = true;
        for item in gc::garbage() {
            let text = match item.downcast_ref::<List>() {
                Some(list) => list.to_string(),
                None => format!("{item:?}"),
            };
            let same = item.as_ptr() == list_id;
            ids_match &= same;
            con.line(format_args!(
                "{text}    # id(item) == list_id: {}",
                py_bool(same)
            ))?;
            garbage.push(text);
        }

        // Not in the article: put things back. With SAVEALL off, emptying
        // gc.garbage leaves the list as cyclic trash again, which the next
        // collection frees.
        gc::set_debug(DebugFlags::empty());
        drop(gc::take_garbage());
        let collected_after_clear = gc::collect();
        con.line(format_args!(
            "gc.set_debug(0); gc.garbage.clear(); gc.collect() -> {collected_after_clear}    \
             # not in the article: the list is freed this time"
        ))?;

        con.finish()?;
        Ok(Report {
            count_at_start,
            count_after_alloc,
            collected,
            garbage,
            ids_match,
            collected_after_clear,
        })
    }
}
