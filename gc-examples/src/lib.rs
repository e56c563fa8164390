//! The seed tour: the Python programs of the five seed articles
//! (numbered `000` to `004`), ported to [`pygc`].
//!
//! Each seed article has a module; each of its programs is a *section*: a
//! submodule with a `run(out) -> io::Result<Report>` function that writes
//! the program's output to `out` and returns the figures it printed (counts,
//! `gc.collect()` results, refcounts) so that `tests/tour.rs` can assert
//! every one of them. `cargo run -p gc-examples` runs every section in order;
//! `-- --list` lists them; `-- NAME` runs one section (or, with `seed004`,
//! every section of one seed).
//!
//! Every section begins by calling `gc::collect()` (see
//! [`console::GcState`]) so its figures do not depend on what ran before,
//! and puts back any collector setting it changed (`gc.disable()`,
//! `set_debug`) when it ends. Each section is headed like
//!
//! ```text
//! == seed 004 (bf8fa3a3): DataObject — refcount death at reassignment and scope exit ==
//! ```
//!
//! and prints Python-shaped lines (`Reference count: 2`, `Collected 2
//! objects`, `GC stop: {'generation': 0, ...}`) where the article shows them.
//! Python's `sys.getrefcount(x)` is ported as `Gc::strong_count(&x) + 1`
//! ([`py::getrefcount`]): the `+ 1` is Python's own reference to the
//! argument. Where this port prints a different figure than the article,
//! the output says why (most often: the article ran an older CPython whose
//! instances owned a separate, tracked `__dict__`; the figures here are the
//! ones CPython 3.12 prints, which this heap reproduces).
//!
//! # The sections, seed by seed
//!
//! | seed | article | section | what it shows |
//! |---|---|---|---|
//! | 000 | *Garbage collection in Python: things you need to know* | [`seed000_cycles_and_saveall::function_refcount`] | `getrefcount` 2 → 3 inside `bar(foo)` → 2 |
//! | | | [`seed000_cycles_and_saveall::cycles_survive_del`] | `gc.disable()`; a self-appended list and two cross-linked dicts keep refcount 1 after `del`; `gc.collect()` → 3 |
//! | | | [`seed000_cycles_and_saveall::debug_saveall`] | `DEBUG_SAVEALL`: the list lands in `gc.garbage`, `id(item) == list_id` |
//! | 001 | *Garbage Collection in Python* | [`seed001_refcounts_and_threshold::names_and_a_value`] | the value `9` bound to 3 names: counts 1, 2, 3, 2, 1, 0 |
//! | | | [`seed001_refcounts_and_threshold::self_referencing_list`] | `a.append(a)` prints `[[...]]`, survives `del`, `gc.collect()` → 1 |
//! | | | [`seed001_refcounts_and_threshold::threshold`] | `gc.get_threshold()` → `(700, 10, 10)`; the 701st tracked allocation starts a collection |
//! | | | [`seed001_refcounts_and_threshold::track_del`] | `Track`'s `__del__` runs at `del A`, `del B`; `gc.collect()` → 0 |
//! | 002 | *Python's Memory Management* | [`seed002_refcount_peek_and_callbacks::getrefcount`] | `getrefcount` 2, 3, 2 for `object()`; 2, 3 for a self-appended list |
//! | | | [`seed002_refcount_peek_and_callbacks::peek_after_del`] | the refcount of an unreachable list: 2 → 1 after `del` (ctypes → `Weak`) |
//! | | | [`seed002_refcount_peek_and_callbacks::gc_callbacks`] | `gc.callbacks` print `start`/`stop` with timings over 5 000 self-cycles |
//! | 003 | *Garbage Collection* (documentation chapter) | [`seed003_track_destructors::shared_values`] | one shared object vs. two equal objects (no small-int cache) |
//! | | | [`seed003_track_destructors::del_and_rebind`] | `del t` / `t = None` do not destruct while another name refers |
//! | | | [`seed003_track_destructors::track_pair_cycle`] | `A.other = B; B.other = A`: `gc.collect()` prints `Destructed` twice, → 2 |
//! | | | [`seed003_track_destructors::track_ring`] | a ring of 10 `Track`s: `Destructed` ×10, `gc.collect()` → 10 |
//! | | | [`seed003_track_destructors::scope_exit`] | a temporary dies at once, a local at function exit |
//! | | | [`seed003_track_destructors::close_on_del`] | `del f` closes a file at refcount death; `with` closes it explicitly |
//! | | | [`seed003_track_destructors::finalizers_in_cycles`] | the A/B `__del__` cycle: PEP 442 collects it; legacy finalizers leave it in `gc.garbage` |
//! | 004 | *Everything You Need to Know About How Python Manages Memory* | [`seed004_data_objects_and_gc_module::names_are_pointers`] | `another_name = my_list` shares one list; `is` and `id()` agree |
//! | | | [`seed004_data_objects_and_gc_module::person_cycle`] | the `alice`/`bob` friends cycle: `gc.collect()` → 2 |
//! | | | [`seed004_data_objects_and_gc_module::reference_count`] | `Reference count: 2`, `3`, `2` |
//! | | | [`seed004_data_objects_and_gc_module::data_object`] | `DataObject` dies at `del`, at reassignment, at function exit, at script end |
//! | | | [`seed004_data_objects_and_gc_module::node_cycle`] | `Node` cycle with `__del__`: `Collected 2 objects` |
//! | | | [`seed004_data_objects_and_gc_module::gc_module`] | `gc.isenabled()`, thresholds, `get_count()`, `collect()`, `get_objects()` |
//! | | | [`objgraph_pictures`] | not in the article: objgraph-style `most_common_types`, `why_alive` on a leaked graph, DOT and SVG pictures of the `alice`/`bob` cycle ([`pygc::debug`]) |
//!
//! What has no analogue is ported by intent and says so, in a comment and in
//! the printed output: `ctypes` reads of a dead object's refcount become a
//! [`pygc::Weak`] handle; `ctypes.pythonapi._Py_Dealloc` (forcibly freeing
//! a live object) is impossible by design; CPython's small-int cache becomes
//! an explicitly shared `Gc`. `id()` is the object's address
//! ([`pygc::Gc::as_ptr`]), as in CPython.
//!
//! # Examples of what users build
//!
//! Beside the tour, three programs of the shapes this library is for, each
//! runnable as a cargo example (`cargo run -p gc-examples --example NAME`)
//! and tested in `gc-examples/tests/NAME.rs`:
//!
//! * [`interpreter`]: a tiny Lisp whose closures capture their
//!   environments, on `Gc` and on `Rc` — flat memory against a leak;
//! * [`widgets`]: a widget tree with `Weak` parents, bubbling events,
//!   removal, and handlers that hold widgets;
//! * [`threaded_graph`]: a graph shared by threads on the sync heap, with
//!   cycles across threads.
//!
//! # Examples
//!
//! ```
//! use gc_examples::{find, seed004_data_objects_and_gc_module::node_cycle};
//!
//! let mut out = Vec::new();
//! let report = node_cycle::run(&mut out).unwrap();
//! assert_eq!(report.collected, 2);
//! assert!(String::from_utf8(out).unwrap().contains("Collected 2 objects"));
//! assert_eq!(find("seed004").len(), 7);
//! ```

use std::io::{self, Write};

pub mod console;
pub mod interpreter;
pub mod objgraph_pictures;
pub mod py;
pub mod seed000_cycles_and_saveall;
pub mod seed001_refcounts_and_threshold;
pub mod seed002_refcount_peek_and_callbacks;
pub mod seed003_track_destructors;
pub mod seed004_data_objects_and_gc_module;
pub mod threaded_graph;
pub mod widgets;

/// One of the seed articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedArticle {
    /// Its number, `"000"` to `"004"`.
    pub number: &'static str,
    /// Its file name (the article as it was published, outside this repository).
    pub file: &'static str,
    /// Its title.
    pub title: &'static str,
}

impl SeedArticle {
    /// The first 8 hex digits of the file's hash, as headings show them.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed004_data_objects_and_gc_module::SEED;
    /// assert_eq!(SEED.short_hash(), "bf8fa3a3");
    /// ```
    pub fn short_hash(&self) -> &'static str {
        let hash = self.file.split(['_', '.']).nth(1).unwrap_or(self.file);
        &hash[..hash.len().min(8)]
    }

    /// The name that selects all of this seed's sections, like `seed004`.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed004_data_objects_and_gc_module::SEED;
    /// assert_eq!(SEED.selector(), "seed004");
    /// ```
    pub fn selector(&self) -> String {
        format!("seed{}", self.number)
    }
}

/// One program of a seed article, ported: a runnable section of the tour.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// The name that selects it on the command line.
    pub name: &'static str,
    /// The article it comes from.
    pub seed: &'static SeedArticle,
    /// One line saying what it shows.
    pub summary: &'static str,
    /// Run it, writing to the given writer (the typed report is dropped;
    /// call the section module's `run` to get it).
    pub run: fn(&mut dyn Write) -> io::Result<()>,
}

impl Section {
    /// The section's heading line.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::seed004_data_objects_and_gc_module::data_object;
    /// assert_eq!(
    ///     data_object::SECTION.heading(),
    ///     "== seed 004 (bf8fa3a3): DataObject — refcount death at reassignment and scope exit =="
    /// );
    /// ```
    pub fn heading(&self) -> String {
        format!(
            "== seed {} ({}): {} ==",
            self.seed.number,
            self.seed.short_hash(),
            self.summary
        )
    }
}

/// Every section, in tour order.
pub const SECTIONS: &[Section] = &[
    seed000_cycles_and_saveall::function_refcount::SECTION,
    seed000_cycles_and_saveall::cycles_survive_del::SECTION,
    seed000_cycles_and_saveall::debug_saveall::SECTION,
    seed001_refcounts_and_threshold::names_and_a_value::SECTION,
    seed001_refcounts_and_threshold::self_referencing_list::SECTION,
    seed001_refcounts_and_threshold::threshold::SECTION,
    seed001_refcounts_and_threshold::track_del::SECTION,
    seed002_refcount_peek_and_callbacks::getrefcount::SECTION,
    seed002_refcount_peek_and_callbacks::peek_after_del::SECTION,
    seed002_refcount_peek_and_callbacks::gc_callbacks::SECTION,
    seed003_track_destructors::shared_values::SECTION,
    seed003_track_destructors::del_and_rebind::SECTION,
    seed003_track_destructors::track_pair_cycle::SECTION,
    seed003_track_destructors::track_ring::SECTION,
    seed003_track_destructors::scope_exit::SECTION,
    seed003_track_destructors::close_on_del::SECTION,
    seed003_track_destructors::finalizers_in_cycles::SECTION,
    seed004_data_objects_and_gc_module::names_are_pointers::SECTION,
    seed004_data_objects_and_gc_module::person_cycle::SECTION,
    seed004_data_objects_and_gc_module::reference_count::SECTION,
    seed004_data_objects_and_gc_module::data_object::SECTION,
    seed004_data_objects_and_gc_module::node_cycle::SECTION,
    seed004_data_objects_and_gc_module::gc_module::SECTION,
    objgraph_pictures::SECTION,
];

/// The sections `selector` names: the section of that name, or every
/// section of a seed (`seed000` … `seed004`). Empty if it names nothing.
///
/// # Examples
///
/// ```
/// use gc_examples::find;
/// assert_eq!(find("seed004-node-cycle").len(), 1);
/// assert_eq!(find("seed000").len(), 3);
/// assert!(find("nope").is_empty());
/// ```
pub fn find(selector: &str) -> Vec<&'static Section> {
    SECTIONS
        .iter()
        .filter(|s| s.name == selector || s.seed.selector() == selector)
        .collect()
}

/// Run every section in order on the calling thread, writing to `out`.
///
/// # Errors
///
/// Any error of the writer.
///
/// # Examples
///
/// ```
/// let mut out = Vec::new();
/// gc_examples::run_all(&mut out).unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert_eq!(text.matches("\n== seed ").count() + 1, gc_examples::SECTIONS.len());
/// ```
pub fn run_all(out: &mut dyn Write) -> io::Result<()> {
    for section in SECTIONS {
        (section.run)(out)?;
    }
    Ok(())
}
