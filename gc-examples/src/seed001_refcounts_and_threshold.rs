//! Seed 001 (`001_3584dec53c07482d.txt`): *Garbage Collection in Python*.
//!
//! The article's programs:
//!
//! * [`names_and_a_value`] — `reference1 = 9`, `reference2 = reference1`,
//!   ... : the comments count the names bound to the value 9 (1, 2, 3) and
//!   then rebind them (2, 1, 0: deleted). In CPython the small int 9 is
//!   cached and immortal, so its real refcount never behaves like the
//!   comments say; a `Gc<i64>` is a fresh object, so here the counts are
//!   exactly the article's, and a `Weak` handle shows the value is freed at
//!   0.
//! * [`self_referencing_list`] — `a = []; a.append(a); print a` prints
//!   `[[...]]`; after `del a` only the cycle collector can reclaim it.
//! * [`threshold`] — `gc.get_threshold()` is `(700, 10, 10)`, and, as the
//!   article explains, the collector runs "after 700 occurrences": the port
//!   shows the 701st tracked allocation starting a generation-0 collection.
//! * [`track_del`] — `Track` with `__init__`/`__del__` (kept with the
//!   article's own spelling, "Intitialisting"), `gc.disable()`, `del A`,
//!   `del B`: each destructor runs at its `del`; `gc.collect()` then finds
//!   nothing.

use crate::SeedArticle;

/// The article this module ports.
pub const SEED: SeedArticle = SeedArticle {
    number: "001",
    file: "001_3584dec53c07482d.txt",
    title: "Garbage Collection in Python",
};

/// The names bound to the value 9: its count goes 1, 2, 3, 2, 1, 0.
pub mod names_and_a_value {
    use crate::console::{Console, GcState};
    use crate::py::py_bool;
    use crate::Section;
    use pygc::Gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed001-names-and-a-value",
        seed: &super::SEED,
        summary: "the value 9 bound to three names: reference count 1, 2, 3, then 2, 1, 0 as they are rebound",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// The value 9's reference count after each of the six assignments
        /// (the article's comments count names, not `sys.getrefcount`).
        pub counts: Vec<usize>,
        /// Whether the value 9 was freed after the last rebinding.
        pub freed: bool,
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
    /// use gc_examples::seed001_refcounts_and_threshold::names_and_a_value;
    /// let r = names_and_a_value::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.counts, [1, 2, 3, 2, 1, 0]);
    /// ```
    // The names exist for the references they hold, as in the article: the
    // values bound by the first assignments are never read, only counted.
    #[allow(unused_assignments)]
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        con.line(
            "# CPython caches small ints, so the real count of 9 is far higher; Gc::new(9) \
             is a fresh object, so the article's comments hold exactly here.",
        )?;

        let mut reference1 = Gc::new(9_i64);
        // Watches the value without counting as a reference.
        let nine = Gc::downgrade(&reference1);
        let mut counts = Vec::new();
        let mut step = |con: &mut Console<'_>, code: &str| -> io::Result<()> {
            let n = nine.strong_count();
            counts.push(n);
            con.line(format_args!(
                "{code:<26}# Reference count for the value 9: {n}"
            ))
        };

        step(&mut con, "reference1 = 9")?;
        let mut reference2 = reference1.clone();
        step(&mut con, "reference2 = reference1")?;
        let mut reference3 = reference1.clone();
        step(&mut con, "reference3 = reference1")?;

        reference2 = Gc::new(10);
        step(&mut con, "reference2 = 10")?;
        reference3 = Gc::new(5);
        step(&mut con, "reference3 = 5")?;
        reference1 = Gc::new(1);
        step(&mut con, "reference1 = 1")?;

        let freed = nine.upgrade().is_none();
        con.line(format_args!(
            "value 9 deallocated: {}    # a Weak handle to it no longer upgrades",
            py_bool(freed)
        ))?;
        drop((reference1, reference2, reference3));

        con.finish()?;
        Ok(Report { counts, freed })
    }
}

/// `a = []; a.append(a)`: a list that contains itself.
pub mod self_referencing_list {
    use crate::console::{Console, GcState};
    use crate::py::{getrefcount, List};
    use crate::Section;
    use pygc::{gc, Gc};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed001-self-referencing-list",
        seed: &super::SEED,
        summary:
            "a = []; a.append(a) prints [[...]] and survives del until the cycle collector runs",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// What `print(a)` printed.
        pub printed: String,
        /// `sys.getrefcount(a)` after `a.append(a)`.
        pub getrefcount: usize,
        /// The list's reference count after `del a` (its own item).
        pub refcount_after_del: usize,
        /// What `gc.collect()` returned.
        pub collected: usize,
        /// Whether the list was freed by that collection.
        pub freed: bool,
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
    /// use gc_examples::seed001_refcounts_and_threshold::self_referencing_list;
    /// let r = self_referencing_list::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.printed.as_str(), r.collected), ("[[...]]", 1));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        let a = List::new();
        con.line(">>> a = []")?;
        a.append(a.clone());
        con.line(">>> a.append(a)")?;
        con.line(">>> print(a)")?;
        let printed = a.to_string();
        con.line(&printed)?;
        let getrefcount = getrefcount(&a);
        con.line(format_args!(
            ">>> sys.getrefcount(a)    # not in the article: the name, the list's own item, the argument\n{getrefcount}"
        ))?;

        let watch = Gc::downgrade(&a);
        drop(a);
        con.line(">>> del a")?;
        let refcount_after_del = watch.strong_count();
        con.line(format_args!(
            "# unreachable, yet its reference count is {refcount_after_del} (read through a Weak handle)"
        ))?;

        con.line(">>> gc.collect()")?;
        let collected = gc::collect();
        con.line(collected)?;
        let freed = watch.upgrade().is_none();
        con.line(format_args!(
            "# the list is gone: {}",
            crate::py::py_bool(freed)
        ))?;

        con.finish()?;
        Ok(Report {
            printed,
            getrefcount,
            refcount_after_del,
            collected,
            freed,
        })
    }
}

/// `gc.get_threshold()`, and the 701st allocation starting a collection.
pub mod threshold {
    use crate::console::{Console, GcState};
    use crate::py::{info_dict, List};
    use crate::Section;
    use pygc::gc::{self, CollectionInfo, Phase};
    use std::cell::RefCell;
    use std::io::{self, Write};
    use std::rc::Rc;

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed001-threshold",
        seed: &super::SEED,
        summary: "gc.get_threshold() is (700, 10, 10): the 701st tracked allocation starts a generation-0 collection",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `gc.get_threshold()`.
        pub threshold: (usize, usize, usize),
        /// The number of the tracked allocation during which the first
        /// automatic collection ran (counting from 1).
        pub triggered_at: usize,
        /// `gc.get_count()` just before that allocation.
        pub count_before_trigger: (usize, usize, usize),
        /// The generation that collection collected.
        pub generation: usize,
        /// How many objects it collected.
        pub collected: usize,
        /// `gc.get_count()` right after that allocation.
        pub count_after_trigger: (usize, usize, usize),
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
    /// use gc_examples::seed001_refcounts_and_threshold::threshold;
    /// let r = threshold::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.threshold, r.triggered_at, r.collected), ((700, 10, 10), 701, 700));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        con.line(">>> import gc")?;
        con.line(">>> gc.get_threshold()")?;
        let threshold = gc::get_threshold();
        con.line(format_args!("{threshold:?}"))?;

        // Not in the article's code, but what its text describes: "after
        // 700 occurrences, Python will run ... and clean up your memory".
        // Make unreachable self-cycles one by one until a collection starts.
        con.line("# after 700 occurrences Python runs its garbage collection: make self-cycles until it does")?;
        gc::enable();
        let seen: Rc<RefCell<Vec<CollectionInfo>>> = Rc::default();
        let sink = seen.clone();
        let id = gc::add_callback(move |phase, info| {
            if phase == Phase::Stop {
                sink.borrow_mut().push(*info);
            }
        });
        let mut triggered_at = 0;
        let mut count_before_trigger = (0, 0, 0);
        let mut count_after_trigger = (0, 0, 0);
        for allocation in 1..=10_000 {
            let before = gc::get_count();
            let container = List::new();
            container.append(container.clone());
            drop(container); // unreachable, kept alive by its own item
            if !seen.borrow().is_empty() {
                triggered_at = allocation;
                count_before_trigger = before;
                count_after_trigger = gc::get_count();
                break;
            }
        }
        gc::remove_callback(id);
        let info = seen.borrow().first().copied().unwrap_or(CollectionInfo {
            generation: 0,
            collected: 0,
            uncollectable: 0,
            duration: Default::default(),
        });
        con.line(format_args!(
            "allocation #{triggered_at}: gc.get_count() was {count_before_trigger:?}, \
             {} > {} -> automatic collection {}",
            count_before_trigger.0 + 1,
            threshold.0,
            info_dict(&info)
        ))?;
        con.line(format_args!(
            "gc.get_count() after it: {count_after_trigger:?}    \
             # the new list was linked after the collection, uncounted"
        ))?;
        let leftover = gc::collect();
        con.line(format_args!(
            "gc.collect() -> {leftover}    # the self-cycle made at allocation #{triggered_at}"
        ))?;

        con.finish()?;
        Ok(Report {
            threshold,
            triggered_at,
            count_before_trigger,
            generation: info.generation,
            collected: info.collected,
            count_after_trigger,
        })
    }
}

/// `Track` objects whose `__del__` runs at `del`.
pub mod track_del {
    use crate::console::{emit, Console, GcState};
    use crate::Section;
    use pygc::{gc, Finalize, Gc, Trace};
    use std::cell::Cell;
    use std::io::{self, Write};

    thread_local! {
        static INITIALISED: Cell<usize> = const { Cell::new(0) };
        static DELETED: Cell<usize> = const { Cell::new(0) };
    }

    /// `class Track` with `__init__` and `__del__` that print.
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct Track;

    impl Track {
        /// `Track()`: prints the article's (misspelt) `__init__` line.
        ///
        /// # Examples
        ///
        /// ```
        /// let t = gc_examples::seed001_refcounts_and_threshold::track_del::Track::new();
        /// drop(t); // __del__ runs
        /// ```
        #[allow(clippy::new_ret_no_self)]
        pub fn new() -> Gc<Track> {
            INITIALISED.with(|n| n.set(n.get() + 1));
            emit("Intitialisting your object here");
            Gc::new(Track)
        }
    }

    impl Finalize for Track {
        fn finalize(&self) {
            DELETED.with(|n| n.set(n.get() + 1));
            emit("Deleting and clearing memory");
        }
    }

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `__init__` calls.
        pub initialised: usize,
        /// `__del__` calls seen right after `del A`.
        pub deleted_after_del_a: usize,
        /// `__del__` calls seen right after `del B`.
        pub deleted_after_del_b: usize,
        /// What `gc.collect()` returned afterwards.
        pub collected: usize,
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
    /// use gc_examples::seed001_refcounts_and_threshold::track_del;
    /// let r = track_del::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.deleted_after_del_a, r.deleted_after_del_b, r.collected), (1, 2, 0));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        INITIALISED.with(|n| n.set(0));
        DELETED.with(|n| n.set(0));
        let deleted = || DELETED.with(Cell::get);

        gc::disable();
        con.line("gc.disable()")?;
        let a = Track::new();
        let b = Track::new();
        con.sync()?;
        con.line("deleting here...")?;
        drop(a);
        let deleted_after_del_a = deleted();
        drop(b);
        let deleted_after_del_b = deleted();
        con.sync()?;
        let collected = gc::collect();
        con.line(format_args!(
            "gc.collect() -> {collected}    # reference counting already freed A and B"
        ))?;

        con.finish()?;
        Ok(Report {
            initialised: INITIALISED.with(Cell::get),
            deleted_after_del_a,
            deleted_after_del_b,
            collected,
        })
    }

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed001-track-del",
        seed: &super::SEED,
        summary:
            "Track's __del__ runs at del A and del B (gc disabled); gc.collect() then finds nothing",
        run: |out| run(out).map(drop),
    };
}
