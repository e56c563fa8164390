//! Seed 002 (`002_8ff6a5e70a06b9a4.txt`): *Python's Memory Management*.
//!
//! The article's programs:
//!
//! * [`getrefcount`] — `sys.getrefcount` of an `object()` (2, 3 after
//!   `y = x`, 2 after `del y`) and of a list before and after it is
//!   appended to itself (2, 3).
//! * [`peek_after_del`] — the article reads `ob_refcnt` directly with
//!   `ctypes.c_long.from_address(id(container))`: 2, then 1 after
//!   `del container`, because the list still refers to itself. Reading a
//!   field at a raw address has no safe analogue; a [`pygc::Weak`] handle
//!   reads the same count ([`Weak::strong_count`](pygc::Weak::strong_count))
//!   without keeping the list alive, and reads 0 once the collector freed it
//!   (where the ctypes read would be reading freed memory).
//! * [`gc_callbacks`] — `gc.callbacks.append(gc_callback)` over a loop that
//!   makes 5 000 self-referencing lists: each collection prints `GC start:`
//!   and `GC stop:` lines with its info dict and its duration.

use crate::SeedArticle;

/// The article this module ports.
pub const SEED: SeedArticle = SeedArticle {
    number: "002",
    file: "002_8ff6a5e70a06b9a4.txt",
    title: "Python's Memory Management",
};

/// `sys.getrefcount` in the REPL.
pub mod getrefcount {
    use crate::console::{Console, GcState};
    use crate::py::{self, List};
    use crate::Section;
    use pygc::{gc, Gc, Trace};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed002-getrefcount",
        seed: &super::SEED,
        summary: "sys.getrefcount: 2, 3 after y = x, 2 after del y; a list appended to itself goes 2 -> 3",
        run: |out| run(out).map(drop),
    };

    /// `object()`: a value that can hold no reference. Like CPython's
    /// `object()`, it is not tracked by the collector.
    #[derive(Trace)]
    pub struct Object;

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `sys.getrefcount(x)` after `x = object()`, `y = x`, `del y`.
        pub object_counts: [usize; 3],
        /// `gc.is_tracked(x)` (not in the article).
        pub object_tracked: bool,
        /// `sys.getrefcount(container)` before and after
        /// `container.append(container)`.
        pub container_counts: [usize; 2],
        /// `gc.collect()` after `del container` (not in the article).
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
    /// use gc_examples::seed002_refcount_peek_and_callbacks::getrefcount;
    /// let r = getrefcount::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.object_counts, r.container_counts), ([2, 3, 2], [2, 3]));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        con.line(">>> import sys")?;
        con.line(">>> x = object()")?;
        let x = Gc::new(Object);
        con.line(">>> sys.getrefcount(x)")?;
        let c0 = py::getrefcount(&x);
        con.line(c0)?;
        con.line(">>> y = x")?;
        let y = x.clone();
        con.line(">>> sys.getrefcount(x)")?;
        let c1 = py::getrefcount(&x);
        con.line(c1)?;
        con.line(">>> del y")?;
        drop(y);
        con.line(">>> sys.getrefcount(x)")?;
        let c2 = py::getrefcount(&x);
        con.line(c2)?;
        let object_tracked = Gc::is_tracked(&x);
        con.line(format_args!(
            ">>> gc.is_tracked(x)    # not in the article: object() holds no reference\n{}",
            py::py_bool(object_tracked)
        ))?;

        con.line(">>> container = []")?;
        let container = List::new();
        con.line(">>> sys.getrefcount(container)")?;
        let d0 = py::getrefcount(&container);
        con.line(format_args!(
            "{d0} # = variable's reference + getrefcount's reference"
        ))?;
        con.line(">>> container.append(container)")?;
        container.append(container.clone());
        con.line(">>> sys.getrefcount(container)")?;
        let d1 = py::getrefcount(&container);
        con.line(format_args!(
            "{d1} # = variable's reference + cyclical reference + getrefcount's reference"
        ))?;
        con.line(">>> del container")?;
        drop(container);
        con.line(">>> gc.collect()    # not in the article: reclaim the cycle")?;
        let collected = gc::collect();
        con.line(collected)?;
        drop(x);

        con.finish()?;
        Ok(Report {
            object_counts: [c0, c1, c2],
            object_tracked,
            container_counts: [d0, d1],
            collected,
        })
    }
}

/// The refcount of a list that is unreachable but still refers to itself.
pub mod peek_after_del {
    use crate::console::{Console, GcState};
    use crate::py::List;
    use crate::Section;
    use pygc::{gc, Gc};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed002-peek-after-del",
        seed: &super::SEED,
        summary: "ob_refcnt of a self-appended list: 2, then 1 after del (read through a Weak, not ctypes)",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `addr.value` (the list's own refcount) before `del container`.
        pub before_del: usize,
        /// `addr.value` after `del container`.
        pub after_del: usize,
        /// `gc.collect()` (not in the article).
        pub collected: usize,
        /// The count after that collection: 0, the list is gone.
        pub after_collect: usize,
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
    /// use gc_examples::seed002_refcount_peek_and_callbacks::peek_after_del;
    /// let r = peek_after_del::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.before_del, r.after_del, r.collected, r.after_collect), (2, 1, 1, 0));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        con.line(">>> import ctypes")?;
        con.line(
            "# ctypes.c_long.from_address(id(container)) has no safe analogue: a Weak handle \
             reads the same count without keeping the list alive",
        )?;
        con.line(">>> container = []")?;
        let container = List::new();
        con.line(">>> container.append(container)")?;
        container.append(container.clone());
        con.line(">>> addr = ctypes.c_long.from_address(id(container))    # addr = Gc::downgrade(&container)")?;
        let addr = Gc::downgrade(&container);
        con.line(">>> addr.value    # addr.strong_count()")?;
        let before_del = addr.strong_count();
        con.line(before_del)?;
        con.line(">>> del container")?;
        drop(container);
        con.line(">>> addr.value")?;
        let after_del = addr.strong_count();
        con.line(after_del)?;

        con.line(
            ">>> gc.collect()    # not in the article: the collector finds the unreachable list",
        )?;
        let collected = gc::collect();
        con.line(collected)?;
        con.line(">>> addr.value    # freed memory under ctypes; the Weak handle safely reads 0")?;
        let after_collect = addr.strong_count();
        con.line(after_collect)?;

        con.finish()?;
        Ok(Report {
            before_del,
            after_del,
            collected,
            after_collect,
        })
    }
}

/// `gc.callbacks` printing `start`/`stop` over 5 000 self-cycles.
pub mod gc_callbacks {
    use crate::console::{emit, Console, GcState};
    use crate::py::{info_dict, List};
    use crate::Section;
    use pygc::gc::{self, Phase};
    use std::cell::RefCell;
    use std::io::{self, Write};
    use std::rc::Rc;

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed002-gc-callbacks",
        seed: &super::SEED,
        summary: "gc.callbacks print start/stop lines with timings over 5 000 self-cycles",
        run: |out| run(out).map(drop),
    };

    /// How many self-referencing lists the loop makes (`range(5000)`).
    pub const LOOPS: usize = 5000;

    /// One call of the callback.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Call {
        /// `"start"` or `"stop"`.
        pub phase: Phase,
        /// `info['generation']`.
        pub generation: usize,
        /// `info['collected']`.
        pub collected: usize,
        /// `info['uncollectable']`.
        pub uncollectable: usize,
    }

    /// The figures the section printed (the timings are left out: they are
    /// not deterministic).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// Every callback call during the loop, in order.
        pub loop_calls: Vec<Call>,
        /// The callback calls of the final `gc.collect()`.
        pub final_calls: Vec<Call>,
        /// What that `gc.collect()` returned.
        pub final_collected: usize,
        /// All objects collected, loop and final collection together.
        pub total_collected: usize,
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
    /// use gc_examples::seed002_refcount_peek_and_callbacks::gc_callbacks;
    /// let r = gc_callbacks::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.total_collected, gc_callbacks::LOOPS);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        gc::enable();

        con.line("def gc_callback(phase, info): print(f\"GC {phase}: {info}\")")?;
        con.line("gc.callbacks.append(gc_callback)")?;
        let calls: Rc<RefCell<Vec<Call>>> = Rc::default();
        let sink = calls.clone();
        let id = gc::add_callback(move |phase, info| {
            sink.borrow_mut().push(Call {
                phase,
                generation: info.generation,
                collected: info.collected,
                uncollectable: info.uncollectable,
            });
            // The article adds each run's duration to the stop line.
            match phase {
                Phase::Start => emit(format!("GC start: {}", info_dict(info))),
                Phase::Stop => emit(format!(
                    "GC stop: {} {} us",
                    info_dict(info),
                    info.duration.as_micros()
                )),
            }
        });

        con.line("for i in range(5000):")?;
        con.line("    container = []")?;
        con.line("    container.append(container)")?;
        // As in Python, `container = []` makes the new list before the old
        // one loses its name: the list still named `container` when a
        // collection starts is reachable and is promoted to generation 1.
        let mut container = List::new();
        container.append(container.clone());
        for _ in 1..LOOPS {
            container = List::new();
            container.append(container.clone());
        }
        con.sync()?;
        let loop_calls = std::mem::take(&mut *calls.borrow_mut());

        con.line(
            "# The article ran Python 3.13 (threshold 2000, incremental collector); this heap \
             reproduces CPython 3.12: a generation-0 collection on every 701st tracked \
             allocation. Each one spares the list that is still named `container`.",
        )?;
        con.line("del container; gc.collect()    # not in the article: the rest, generation 2")?;
        drop(container);
        let final_collected = gc::collect();
        con.sync()?;
        let final_calls = std::mem::take(&mut *calls.borrow_mut());
        gc::remove_callback(id);

        let loop_total: usize = loop_calls
            .iter()
            .filter(|c| c.phase == Phase::Stop)
            .map(|c| c.collected)
            .sum();
        let total_collected = loop_total + final_collected;
        con.line(format_args!(
            "{final_collected}    # collected {loop_total} during the loop + {final_collected} now \
             = {total_collected} self-cycles"
        ))?;

        con.finish()?;
        Ok(Report {
            loop_calls,
            final_calls,
            final_collected,
            total_collected,
        })
    }
}
