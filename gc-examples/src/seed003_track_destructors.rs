//! Seed 003 (`003_5cc562aeb305693d.txt`): a documentation chapter on
//! *Garbage Collection* (reference counting, `del`, cycles, generations).
//!
//! The chapter's programs:
//!
//! * [`shared_values`] — `sys.getrefcount(1)` rises by 2 after `a = 1;
//!   b = 1` (CPython shares one cached small-int object), while
//!   `999999999` assigned twice gives two objects. `Gc::new` never caches:
//!   sharing is explicit (`clone`). The port shows both sides of that.
//! * [`del_and_rebind`] — `t = bar(); another_t = t`: `del t` (or
//!   `t = None`) does not destruct; the last name going does.
//!   The chapter's *forcefully deallocating objects* through
//!   `ctypes.pythonapi._Py_Dealloc` has no analogue: a `Gc`'s value cannot
//!   be freed while a handle exists (it would be undefined behaviour); the
//!   section prints that instead.
//! * [`track_pair_cycle`], [`track_ring`] — `Track` objects in a cycle of 2
//!   and a ring of 10: nothing is destructed until `gc.collect()`, which
//!   prints `Destructed` for each and returns the count. The chapter (an
//!   older CPython) prints 4 and 20: each instance's `__dict__` was a tracked
//!   object of its own; CPython 3.12 prints 2 and 10, as here.
//! * [`scope_exit`] — `foo()`: an unnamed `Track()` dies at once, a local
//!   at function exit.
//! * [`close_on_del`] — `f = open("test.txt"); del f` closes the file at
//!   refcount death; `with` closes it explicitly. No file is opened: a
//!   stand-in object with a `closed` flag and a finalizer plays the file.
//! * [`finalizers_in_cycles`] — the chapter's A/B classes whose `__del__`
//!   prints the other object: under PEP 442 (`#[trace(finalize)]`) both
//!   finalizers run on intact objects and the pair is collected; with
//!   legacy finalizers (`#[trace(legacy_finalize)]`, CPython's `tp_del`,
//!   the chapter's "un-GC-able objects") the cycle is uncollectable and
//!   lands in `gc.garbage`.

use crate::SeedArticle;
use pygc::{Finalize, Gc, Trace};
use std::cell::{Cell, RefCell};

/// The article this module ports.
pub const SEED: SeedArticle = SeedArticle {
    number: "003",
    file: "003_5cc562aeb305693d.txt",
    title: "Garbage Collection (documentation chapter)",
};

thread_local! {
    static INITIALIZED: Cell<usize> = const { Cell::new(0) };
    static DESTRUCTED: Cell<usize> = const { Cell::new(0) };
}

/// The chapter's `Track`: prints `Initialized` in `__init__` and
/// `Destructed` in `__del__`; `other` is the attribute its cycles use.
#[derive(Trace)]
#[trace(finalize)]
pub struct Track {
    /// `self.other`.
    pub other: RefCell<Option<Gc<Track>>>,
}

impl Track {
    /// `Track()`: prints `Initialized`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed003_track_destructors::{destructed, Track};
    /// let before = destructed();
    /// drop(Track::new());
    /// assert_eq!(destructed(), before + 1);
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Gc<Track> {
        INITIALIZED.with(|n| n.set(n.get() + 1));
        crate::console::emit("Initialized");
        Gc::new(Track {
            other: RefCell::new(None),
        })
    }

    /// `self.other = other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed003_track_destructors::Track;
    /// let (a, b) = (Track::new(), Track::new());
    /// a.set_other(Some(b.clone()));
    /// a.set_other(None);
    /// ```
    pub fn set_other(&self, other: Option<Gc<Track>>) {
        let old = self.other.replace(other);
        drop(old); // outside the borrow: dropping may run a finalizer
    }
}

impl Finalize for Track {
    fn finalize(&self) {
        DESTRUCTED.with(|n| n.set(n.get() + 1));
        crate::console::emit("Destructed");
    }
}

/// `Track.__init__` calls on this thread so far.
///
/// # Examples
///
/// ```
/// use gc_examples::seed003_track_destructors::{initialized, Track};
/// let before = initialized();
/// let _t = Track::new();
/// assert_eq!(initialized(), before + 1);
/// ```
pub fn initialized() -> usize {
    INITIALIZED.with(Cell::get)
}

/// `Track.__del__` calls on this thread so far.
///
/// # Examples
///
/// ```
/// use gc_examples::seed003_track_destructors::destructed;
/// let _ = destructed();
/// ```
pub fn destructed() -> usize {
    DESTRUCTED.with(Cell::get)
}

/// One `Gc` shared by several names vs. two equal values.
pub mod shared_values {
    use crate::console::{Console, GcState};
    use crate::py::{getrefcount, py_bool};
    use crate::Section;
    use pygc::Gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-shared-values",
        seed: &super::SEED,
        summary:
            "names sharing one object raise its count by 2; equal values made twice are two objects",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `sys.getrefcount(one)` before and after `a = one; b = one`.
        pub shared_counts: [usize; 2],
        /// `a is b` for the shared object.
        pub shared_is_same: bool,
        /// `sys.getrefcount(a)`, `sys.getrefcount(b)` for two
        /// `Gc::new(999999999)`.
        pub distinct_counts: [usize; 2],
        /// `a is b` for those two.
        pub distinct_is_same: bool,
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
    /// use gc_examples::seed003_track_destructors::shared_values;
    /// let r = shared_values::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.shared_counts, [2, 4]);
    /// assert!(!r.distinct_is_same);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        con.line(
            "# CPython shares one cached object for small ints (getrefcount(1) went 797 -> 799). \
             Gc::new never caches: here the cache is one Gc, shared by cloning.",
        )?;

        let one = Gc::new(1_i64);
        let c0 = getrefcount(&one);
        con.line(format_args!(">>> sys.getrefcount(one)\n{c0}"))?;
        con.line(">>> a = one; b = one")?;
        let a = one.clone();
        let b = one.clone();
        let c1 = getrefcount(&one);
        con.line(format_args!(">>> sys.getrefcount(one)\n{c1}"))?;
        let shared_is_same = Gc::ptr_eq(&a, &b);
        con.line(format_args!(">>> a is b\n{}", py_bool(shared_is_same)))?;
        drop((a, b, one));

        con.line(">>> a = 999999999    # Gc::new(999999999)")?;
        let a = Gc::new(999_999_999_i64);
        con.line(">>> b = 999999999    # Gc::new(999999999): another object")?;
        let b = Gc::new(999_999_999_i64);
        let distinct_counts = [getrefcount(&a), getrefcount(&b)];
        con.line(format_args!(
            ">>> sys.getrefcount(a), sys.getrefcount(b)\n({}, {})",
            distinct_counts[0], distinct_counts[1]
        ))?;
        let distinct_is_same = Gc::ptr_eq(&a, &b);
        con.line(format_args!(
            ">>> a is b, a == b\n({}, {})",
            py_bool(distinct_is_same),
            py_bool(a == b)
        ))?;

        con.finish()?;
        Ok(Report {
            shared_counts: [c0, c1],
            shared_is_same,
            distinct_counts,
            distinct_is_same,
        })
    }
}

/// `del t` and `t = None` do not destruct while another name refers.
pub mod del_and_rebind {
    use super::{destructed, Track};
    use crate::console::{Console, GcState};
    use crate::Section;
    use pygc::{gc, Gc};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-del-and-rebind",
        seed: &super::SEED,
        summary: "del t / t = None destruct nothing while another_t still refers; the last name going does",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed: `Destructed` lines so far in the
    /// section, after each step.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// After `del t`.
        pub after_del_t: usize,
        /// After `del another_t`.
        pub after_del_another_t: usize,
        /// After `t = None` (second program).
        pub after_t_none: usize,
        /// After `another_t = None`.
        pub after_another_t_none: usize,
    }

    fn bar() -> Gc<Track> {
        Track::new()
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
    /// use gc_examples::seed003_track_destructors::del_and_rebind;
    /// let r = del_and_rebind::run(&mut Vec::new()).unwrap();
    /// assert_eq!(
    ///     [r.after_del_t, r.after_del_another_t, r.after_t_none, r.after_another_t_none],
    ///     [0, 1, 1, 2]
    /// );
    /// ```
    // `another_t` exists for the reference it holds, not to be read.
    #[allow(unused_assignments)]
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        let base = destructed();
        let so_far = || destructed() - base;

        con.line(">>> gc.disable() # disable garbage collector")?;
        gc::disable();
        con.line(">>> def bar():\n...     return Track()")?;
        con.line(">>> t = bar()")?;
        let t = bar();
        con.line(">>> another_t = t # assign another reference")?;
        let another_t = t.clone();
        con.line(">>> print(\"...\")")?;
        con.line("...")?;
        con.line(">>> del t # not destructed yet - another_t still refers to it")?;
        drop(t);
        let after_del_t = so_far();
        con.line(">>> del another_t # final reference gone, object is destructed")?;
        drop(another_t);
        let after_del_another_t = so_far();

        con.line(">>> t = bar()")?;
        let mut t = Some(bar());
        con.line(">>> another_t = t # assign another reference")?;
        let mut another_t = t.clone();
        con.line(">>> print(\"...\")")?;
        con.line("...")?;
        con.line(">>> t = None      # not destructed yet - another_t still refers to it")?;
        t = None;
        let after_t_none = so_far();
        con.line(">>> another_t = None # final reference gone, object is destructed")?;
        another_t = None;
        let after_another_t_none = so_far();
        con.sync()?;
        debug_assert!(t.is_none() && another_t.is_none());

        con.line(
            "# Forcefully deallocating (ctypes.pythonapi._Py_Dealloc) has no analogue: a Gc's \
             value cannot be freed while any handle to it exists.",
        )?;
        con.finish()?;
        Ok(Report {
            after_del_t,
            after_del_another_t,
            after_t_none,
            after_another_t_none,
        })
    }
}

/// Two `Track`s referring to each other.
pub mod track_pair_cycle {
    use super::{destructed, initialized, Track};
    use crate::console::{Console, GcState};
    use crate::Section;
    use pygc::gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-track-pair-cycle",
        seed: &super::SEED,
        summary: "A.other = B; B.other = A: del destructs nothing, gc.collect() prints Destructed twice and returns 2",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `Initialized` lines.
        pub initialized: usize,
        /// `Destructed` lines before `gc.collect()`.
        pub destructed_before_collect: usize,
        /// `Destructed` lines printed by `gc.collect()`.
        pub destructed_by_collect: usize,
        /// What `gc.collect()` returned.
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
    /// use gc_examples::seed003_track_destructors::track_pair_cycle;
    /// let r = track_pair_cycle::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.destructed_by_collect, r.collected), (2, 2));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        let (init0, dest0) = (initialized(), destructed());

        con.line(">>> import gc; gc.disable() # disable garbage collector")?;
        gc::disable();
        con.line(">>> A = Track()")?;
        let a = Track::new();
        con.line(">>> B = Track()")?;
        let b = Track::new();
        con.line(">>> A.other = B")?;
        a.set_other(Some(b.clone()));
        con.line(">>> B.other = A")?;
        b.set_other(Some(a.clone()));
        con.line(">>> del A; del B # objects are not destructed due to reference cycle")?;
        drop((a, b));
        let destructed_before_collect = destructed() - dest0;
        con.line(">>> gc.collect() # trigger collection")?;
        let collected = gc::collect();
        let destructed_by_collect = destructed() - dest0 - destructed_before_collect;
        con.line(collected)?;
        con.line(
            "# the chapter printed 4 (an older CPython: each instance's __dict__ was a \
             tracked object too); CPython 3.12 prints 2, as here",
        )?;

        con.finish()?;
        Ok(Report {
            initialized: initialized() - init0,
            destructed_before_collect,
            destructed_by_collect,
            collected,
        })
    }
}

/// A ring of ten `Track`s.
pub mod track_ring {
    use super::{destructed, initialized, Track};
    use crate::console::{Console, GcState};
    use crate::Section;
    use pygc::gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-track-ring",
        seed: &super::SEED,
        summary: "a ring of 10 Tracks: gc.collect() prints Destructed 10 times and returns 10",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `Initialized` lines.
        pub initialized: usize,
        /// `Destructed` lines before `gc.collect()` (after `del objs`).
        pub destructed_before_collect: usize,
        /// `Destructed` lines printed by `gc.collect()`.
        pub destructed_by_collect: usize,
        /// What `gc.collect()` returned.
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
    /// use gc_examples::seed003_track_destructors::track_ring;
    /// let r = track_ring::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.destructed_by_collect, r.collected), (10, 10));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        let (init0, dest0) = (initialized(), destructed());
        gc::disable();
        con.line("# gc.disable(), as in the chapter's previous example")?;

        con.line(">>> objs = [Track() for _ in range(10)]")?;
        let objs: Vec<_> = (0..10).map(|_| Track::new()).collect();
        con.line(">>> for i in range(len(objs)-1):\n...     objs[i].other = objs[i + 1]\n...")?;
        for pair in objs.windows(2) {
            pair[0].set_other(Some(pair[1].clone()));
        }
        con.line(">>> objs[-1].other = objs[0] # complete the cycle")?;
        objs[9].set_other(Some(objs[0].clone()));
        con.line(">>> del objs")?;
        drop(objs);
        let destructed_before_collect = destructed() - dest0;
        con.line(">>> gc.collect()")?;
        let collected = gc::collect();
        let destructed_by_collect = destructed() - dest0 - destructed_before_collect;
        con.line(collected)?;
        con.line(
            "# the chapter printed 20 (each instance's __dict__ counted too, on an older \
             CPython); CPython 3.12 prints 10, as here",
        )?;

        con.finish()?;
        Ok(Report {
            initialized: initialized() - init0,
            destructed_before_collect,
            destructed_by_collect,
            collected,
        })
    }
}

/// A temporary dies at once; a local at function exit.
pub mod scope_exit {
    use super::{destructed, Track};
    use crate::console::{Console, GcState};
    use crate::Section;
    use pygc::gc;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-scope-exit",
        seed: &super::SEED,
        summary: "foo(): an unnamed Track() is destructed at once, the local t when foo returns",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `Destructed` lines before the first `---` (the temporary).
        pub destructed_before_first_mark: usize,
        /// `Destructed` lines before the second `---` (none: `t` is named).
        pub destructed_before_second_mark: usize,
        /// `Destructed` lines once `foo()` returned.
        pub destructed_after_return: usize,
    }

    fn foo(con: &mut Console<'_>, base: usize) -> io::Result<[usize; 2]> {
        // `Track()` as a statement: the temporary is dropped at the `;`.
        Track::new();
        // destructed immediately since no longer has any references
        let first = destructed() - base;
        con.line("---")?;
        let t = Track::new();
        // variable is referenced, so it's not destructed yet
        let second = destructed() - base;
        con.line("---")?;
        drop(t); // variable is destructed when function exits
        Ok([first, second])
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
    /// use gc_examples::seed003_track_destructors::scope_exit;
    /// let r = scope_exit::run(&mut Vec::new()).unwrap();
    /// assert_eq!(
    ///     [r.destructed_before_first_mark, r.destructed_before_second_mark, r.destructed_after_return],
    ///     [1, 1, 2]
    /// );
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        gc::disable();
        let base = destructed();

        con.line(">>> import gc; gc.disable() # disable garbage collector")?;
        con.line(">>> foo()")?;
        let [destructed_before_first_mark, destructed_before_second_mark] = foo(&mut con, base)?;
        con.sync()?;
        let destructed_after_return = destructed() - base;

        con.finish()?;
        Ok(Report {
            destructed_before_first_mark,
            destructed_before_second_mark,
            destructed_after_return,
        })
    }
}

/// `del f` closes a file at refcount death; `with` closes it explicitly.
pub mod close_on_del {
    use crate::console::{emit, Console, GcState};
    use crate::py::py_bool;
    use crate::Section;
    use pygc::{Finalize, Gc, Trace};
    use std::cell::Cell;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-close-on-del",
        seed: &super::SEED,
        summary: "del f closes the file at refcount death; with closes it explicitly, and the object lives on",
        run: |out| run(out).map(drop),
    };

    /// A stand-in for a file object: nothing is opened on disk. Its
    /// finalizer closes it if it is still open, as CPython's file objects
    /// do when they are deallocated.
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct File {
        /// The file name.
        pub name: String,
        /// `f.closed`.
        pub closed: Cell<bool>,
    }

    impl File {
        /// `open(name)` (a stand-in: nothing touches the file system).
        ///
        /// # Examples
        ///
        /// ```
        /// use gc_examples::seed003_track_destructors::close_on_del::File;
        /// let f = File::open("test.txt");
        /// assert!(!f.closed.get());
        /// f.close();
        /// assert!(f.closed.get());
        /// ```
        pub fn open(name: &str) -> Gc<File> {
            Gc::new(File {
                name: name.to_owned(),
                closed: Cell::new(false),
            })
        }

        /// `f.close()`, printing who closed it.
        ///
        /// # Examples
        ///
        /// ```
        /// use gc_examples::seed003_track_destructors::close_on_del::File;
        /// File::open("x").close();
        /// ```
        pub fn close(&self) {
            self.close_by("close()");
        }

        fn close_by(&self, who: &str) {
            if !self.closed.replace(true) {
                emit(format!("<{} closed by {who}>", self.name));
            }
        }
    }

    impl Finalize for File {
        fn finalize(&self) {
            self.close_by("its finalizer, at refcount death");
        }
    }

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// Whether `del f` closed the first file (checked through a Weak
        /// handle: it is gone).
        pub closed_by_del: bool,
        /// `f.closed` after the `with` block.
        pub closed_after_with: bool,
        /// Whether `f` still existed after the `with` block.
        pub alive_after_with: bool,
    }

    /// `with open(name) as f: body(f)`: `__exit__` closes the file.
    fn with_open(name: &str, body: impl FnOnce(&Gc<File>)) -> Gc<File> {
        let f = File::open(name);
        body(&f);
        f.close_by("the with block's __exit__");
        f
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
    /// use gc_examples::seed003_track_destructors::close_on_del;
    /// let r = close_on_del::run(&mut Vec::new()).unwrap();
    /// assert!(r.closed_by_del && r.closed_after_with && r.alive_after_with);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        con.line("# a stand-in file object: nothing is opened on disk")?;

        con.line(">>> f = open(\"test.txt\")")?;
        let f = File::open("test.txt");
        let watch = Gc::downgrade(&f);
        con.line(">>> del f")?;
        drop(f);
        con.sync()?;
        let closed_by_del = watch.upgrade().is_none();

        con.line(">>> with open(\"test.txt\") as f:\n...     pass\n...     # do something with f")?;
        let f = with_open("test.txt", |_f| {});
        con.sync()?;
        let closed_after_with = f.closed.get();
        let alive_after_with = Gc::strong_count(&f) > 0;
        con.line(format_args!(
            ">>> #now the f object still exist, but it is closed\n>>> f.closed\n{}",
            py_bool(closed_after_with)
        ))?;
        drop(f); // already closed: the finalizer prints nothing

        con.finish()?;
        Ok(Report {
            closed_by_del,
            closed_after_with,
            alive_after_with,
        })
    }
}

/// The chapter's A/B classes with `__del__`, collected (PEP 442) or left
/// in `gc.garbage` (legacy finalizers).
pub mod finalizers_in_cycles {
    use crate::console::{emit, Console, GcState};
    use crate::Section;
    use pygc::{gc, Finalize, Gc, Trace};
    use std::cell::{Cell, RefCell};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed003-finalizers-in-cycles",
        seed: &super::SEED,
        summary: "the A/B __del__ cycle: PEP 442 finalizes and collects it; legacy finalizers leave it in gc.garbage",
        run: |out| run(out).map(drop),
    };

    /// `class A` with a PEP 442 `__del__` (Python ≥ 3.4).
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct A {
        /// `self.b`.
        pub b: RefCell<Option<Gc<B>>>,
    }

    /// `class B` with a PEP 442 `__del__`.
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct B {
        /// `self.a`.
        pub a: RefCell<Option<Gc<A>>>,
    }

    /// `class A` with a legacy `__del__` (CPython's `tp_del`, before 3.4).
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    pub struct LegacyA {
        /// `self.b`.
        pub b: RefCell<Option<Gc<LegacyB>>>,
    }

    /// `class B` with a legacy `__del__`.
    #[derive(Trace)]
    #[trace(legacy_finalize)]
    pub struct LegacyB {
        /// `self.a`.
        pub a: RefCell<Option<Gc<LegacyA>>>,
    }

    thread_local! {
        static DEL_LINES: Cell<usize> = const { Cell::new(0) };
    }

    /// `__del__` calls of the four classes on this thread so far.
    fn del_lines() -> usize {
        DEL_LINES.with(Cell::get)
    }

    /// Print a `__del__` line (from a finalizer) and count it.
    fn print_del(line: String) {
        DEL_LINES.with(|n| n.set(n.get() + 1));
        emit(line);
    }

    /// How Python prints an instance: `<__main__.B object at 0x...>`, or
    /// `None`.
    fn repr<T: Trace + 'static>(name: &str, value: &Option<Gc<T>>) -> String {
        match value {
            Some(v) => format!("<__main__.{name} object at {:p}>", Gc::as_ptr(v)),
            None => "None".to_owned(),
        }
    }

    impl Finalize for A {
        fn finalize(&self) {
            print_del(format!(
                "We're deleting an instance of A containing: {}",
                repr("B", &self.b.borrow())
            ));
        }
    }

    impl Finalize for B {
        fn finalize(&self) {
            print_del(format!(
                "We're deleting an instance of B containing: {}",
                repr("A", &self.a.borrow())
            ));
        }
    }

    impl Finalize for LegacyA {
        fn finalize(&self) {
            print_del(format!(
                "We're deleting an instance of A containing: {}",
                repr("B", &self.b.borrow())
            ));
        }
    }

    impl Finalize for LegacyB {
        fn finalize(&self) {
            print_del(format!(
                "We're deleting an instance of B containing: {}",
                repr("A", &self.a.borrow())
            ));
        }
    }

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// PEP 442: `gc.collect()`.
        pub pep442_collected: usize,
        /// PEP 442: `__del__` lines printed by that collection.
        pub pep442_finalized: usize,
        /// Legacy: `gc.collect()` (the uncollectable objects count too).
        pub legacy_collected: usize,
        /// Legacy: `__del__` lines printed by that collection (none).
        pub legacy_finalized_by_collect: usize,
        /// Legacy: `len(gc.garbage)` afterwards.
        pub legacy_garbage: usize,
        /// Legacy: what `gc.get_stats()[2]['uncollectable']` grew by.
        pub legacy_uncollectable: usize,
        /// Legacy: `__del__` lines once the cycle is broken by hand and the
        /// garbage list emptied (refcount death finalizes normally).
        pub legacy_finalized_after_break: usize,
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
    /// use gc_examples::seed003_track_destructors::finalizers_in_cycles;
    /// let r = finalizers_in_cycles::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.pep442_collected, r.legacy_garbage), (2, 2));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        gc::disable();

        con.line("# PEP 442 (Python >= 3.4): the collector runs both __del__ on intact objects")?;
        con.line(">>> a = A(); b = B(a); a.b = b")?;
        let a = Gc::new(A {
            b: RefCell::new(None),
        });
        let b = Gc::new(B {
            a: RefCell::new(Some(a.clone())),
        });
        *a.b.borrow_mut() = Some(b.clone());
        con.line(">>> del a, b")?;
        drop((a, b));
        con.line(">>> gc.collect()")?;
        let mark = del_lines();
        let pep442_collected = gc::collect();
        let pep442_finalized = del_lines() - mark;
        con.line(pep442_collected)?;

        con.line(
            "# legacy finalizers (tp_del, the chapter's \"un-GC-able objects\"): the cycle \
             is uncollectable and stays in gc.garbage",
        )?;
        con.line(">>> a = A(); b = B(a); a.b = b; del a, b")?;
        let a = Gc::new(LegacyA {
            b: RefCell::new(None),
        });
        let b = Gc::new(LegacyB {
            a: RefCell::new(Some(a.clone())),
        });
        *a.b.borrow_mut() = Some(b.clone());
        drop((a, b));
        con.line(">>> gc.collect()")?;
        let mark = del_lines();
        let uncollectable_before = gc::get_stats()[2].uncollectable;
        let legacy_collected = gc::collect();
        let legacy_finalized_by_collect = del_lines() - mark;
        con.line(legacy_collected)?;
        let legacy_uncollectable = gc::get_stats()[2].uncollectable - uncollectable_before;
        let garbage = gc::garbage();
        let legacy_garbage = garbage.len();
        let names: Vec<String> = garbage
            .iter()
            .map(|g| {
                let name = if g.is::<LegacyA>() { "A" } else { "B" };
                format!("<__main__.{name} object at {:p}>", g.as_ptr())
            })
            .collect();
        con.line(format_args!(">>> gc.garbage\n[{}]", names.join(", ")))?;
        con.line(format_args!(
            ">>> gc.get_stats()[2]['uncollectable'] - uncollectable_before\n{legacy_uncollectable}"
        ))?;

        con.line(">>> a = next(o for o in gc.garbage if isinstance(o, A)); a.b = None; gc.garbage.clear(); del a    # break the cycle by hand: refcounting frees both, finalizing them normally")?;
        let mark = del_lines();
        for item in &garbage {
            if let Some(a) = item.downcast_ref::<LegacyA>() {
                let old = a.b.borrow_mut().take();
                drop(old);
            }
        }
        drop(garbage);
        drop(gc::take_garbage());
        let legacy_finalized_after_break = del_lines() - mark;

        con.finish()?;
        Ok(Report {
            pep442_collected,
            pep442_finalized,
            legacy_collected,
            legacy_finalized_by_collect,
            legacy_garbage,
            legacy_uncollectable,
            legacy_finalized_after_break,
        })
    }
}
