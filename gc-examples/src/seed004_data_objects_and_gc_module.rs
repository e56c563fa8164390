//! Seed 004 (`004_bf8fa3a34325bcee.txt`): *Everything You Need to Know
//! About How Python Manages Memory*.
//!
//! The article's programs:
//!
//! * [`names_are_pointers`] — `another_name = my_list` makes a second name
//!   for one list: `is` and `id()` agree, an append through one name shows
//!   through the other, and rebinding `my_list` leaves `another_name` alone.
//!   `id()` is the object's address ([`Gc::as_ptr`](pygc::Gc::as_ptr)).
//! * [`person_cycle`] — `alice.friend = bob; bob.friend = alice`. The
//!   article stops at building the cycle; the port also shows the pair
//!   surviving `del` and `gc.collect()` returning 2.
//! * [`reference_count`] — `Reference count: 2`, `3` after
//!   `another_ref = my_list`, `2` after `del another_ref`.
//! * [`data_object`] — `DataObject` announcing `Created ...` and
//!   `Deleting ...`: deleted at `del obj2`, when `obj1` is reassigned (after
//!   the new object is created), when `create_temporary()` returns, and when
//!   the script ends.
//! * [`node_cycle`] — two `Node`s with `__del__` referring to each other:
//!   `Node 1 refcount: 2`; nothing is deleted at `del`; `gc.collect()` prints
//!   `Deleting Node 1`, `Deleting Node 2`, `Collected 2 objects`.
//! * [`gc_module`] — `gc.isenabled()`, `gc.get_threshold()`,
//!   `gc.get_count()`, `gc.collect()`, `len(gc.get_objects())`. The
//!   article's counts come from a whole interpreter's objects; the port
//!   stages a small, stated history first so each counter has something to
//!   show, and counts only this heap's tracked objects.

use crate::SeedArticle;

/// The article this module ports.
pub const SEED: SeedArticle = SeedArticle {
    number: "004",
    file: "004_bf8fa3a34325bcee.txt",
    title: "Everything You Need to Know About How Python Manages Memory",
};

/// Two names for one list.
pub mod names_are_pointers {
    use crate::console::{Console, GcState};
    use crate::py::py_bool;
    use crate::Section;
    use pygc::Gc;
    use std::cell::RefCell;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-names-are-pointers",
        seed: &super::SEED,
        summary: "another_name = my_list copies a pointer, not the list: is and id() agree",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `my_list is another_name`.
        pub is_same: bool,
        /// `id(my_list) == id(another_name)`.
        pub ids_equal: bool,
        /// `another_name` after `my_list.append(4)`.
        pub after_append: Vec<i64>,
        /// `another_name` after `my_list = [5, 6, 7]`.
        pub after_rebind: Vec<i64>,
        /// `my_list` after the rebinding.
        pub my_list_after_rebind: Vec<i64>,
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
    /// use gc_examples::seed004_data_objects_and_gc_module::names_are_pointers;
    /// let r = names_are_pointers::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.after_rebind, [1, 2, 3, 4]);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        // Create an object
        let mut my_list = Gc::new(RefCell::new(vec![1_i64, 2, 3]));
        // Create another reference to the SAME object
        let another_name = my_list.clone();
        // They both point to the same object
        let is_same = Gc::ptr_eq(&my_list, &another_name);
        con.line(py_bool(is_same))?;
        // id() is the object's address
        let ids_equal = Gc::as_ptr(&my_list) == Gc::as_ptr(&another_name);
        con.line(py_bool(ids_equal))?;
        // Modifying through one affects the other (same object!)
        my_list.borrow_mut().push(4);
        let after_append = another_name.borrow().clone();
        con.line(format_args!("{after_append:?}"))?;
        // But reassigning creates a NEW reference
        my_list = Gc::new(RefCell::new(vec![5, 6, 7]));
        let after_rebind = another_name.borrow().clone();
        con.line(format_args!("{after_rebind:?}"))?;
        let my_list_after_rebind = my_list.borrow().clone();

        con.finish()?;
        Ok(Report {
            is_same,
            ids_equal,
            after_append,
            after_rebind,
            my_list_after_rebind,
        })
    }
}

/// `alice` and `bob` are friends: a two-object cycle.
pub mod person_cycle {
    use crate::console::{Console, GcState};
    use crate::py::{getrefcount, py_bool};
    use crate::Section;
    use pygc::{gc, Gc, Trace};
    use std::cell::RefCell;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-person-cycle",
        seed: &super::SEED,
        summary:
            "alice.friend = bob; bob.friend = alice: the pair outlives del; gc.collect() returns 2",
        run: |out| run(out).map(drop),
    };

    /// `class Person` with a `name` and a `friend`.
    #[derive(Trace)]
    pub struct Person {
        /// `self.name`.
        pub name: String,
        /// `self.friend`: will store a reference to another Person.
        pub friend: RefCell<Option<Gc<Person>>>,
    }

    impl Person {
        /// `Person(name)`.
        ///
        /// # Examples
        ///
        /// ```
        /// use gc_examples::seed004_data_objects_and_gc_module::person_cycle::Person;
        /// assert_eq!(Person::new("Alice").name, "Alice");
        /// ```
        #[allow(clippy::new_ret_no_self)]
        pub fn new(name: &str) -> Gc<Person> {
            Gc::new(Person {
                name: name.to_owned(),
                friend: RefCell::new(None),
            })
        }
    }

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `sys.getrefcount(alice)`, `sys.getrefcount(bob)` once they are
        /// friends.
        pub refcounts: (usize, usize),
        /// Their reference counts after `del alice, bob`.
        pub refcounts_after_del: (usize, usize),
        /// What `gc.collect()` returned.
        pub collected: usize,
        /// Whether both were freed by it.
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
    /// use gc_examples::seed004_data_objects_and_gc_module::person_cycle;
    /// assert_eq!(person_cycle::run(&mut Vec::new()).unwrap().collected, 2);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        // Create two people
        let alice = Person::new("Alice");
        let bob = Person::new("Bob");
        con.line("alice = Person(\"Alice\"); bob = Person(\"Bob\")")?;
        // Make them friends - this creates a circular reference
        *alice.friend.borrow_mut() = Some(bob.clone());
        *bob.friend.borrow_mut() = Some(alice.clone());
        con.line("alice.friend = bob; bob.friend = alice")?;
        // Follow the references: alice -> Person("Alice") -> .friend -> ...
        let mut path = String::from("alice");
        let mut at = Some(alice.clone());
        for _ in 0..3 {
            let Some(person) = at else { break };
            path.push_str(&format!(" -> Person(\"{}\") -> .friend", person.name));
            at = person.friend.borrow().clone();
        }
        drop(at);
        con.line(format_args!("{path} -> ..."))?;
        let refcounts = (getrefcount(&alice), getrefcount(&bob));
        con.line(format_args!(
            "sys.getrefcount(alice) = {}, sys.getrefcount(bob) = {}    # the name, the friend, the argument",
            refcounts.0, refcounts.1
        ))?;

        let (wa, wb) = (Gc::downgrade(&alice), Gc::downgrade(&bob));
        drop((alice, bob));
        let refcounts_after_del = (wa.strong_count(), wb.strong_count());
        con.line(format_args!(
            "del alice, bob    # not in the article: reference counts now {} and {} (read through Weak handles)",
            refcounts_after_del.0, refcounts_after_del.1
        ))?;
        let collected = gc::collect();
        con.line(format_args!(
            "Collected {collected} objects    # gc.collect()"
        ))?;
        let freed = wa.upgrade().is_none() && wb.upgrade().is_none();
        con.line(format_args!("both freed: {}", py_bool(freed)))?;

        con.finish()?;
        Ok(Report {
            refcounts,
            refcounts_after_del,
            collected,
            freed,
        })
    }
}

/// `Reference count: 2`, `3`, `2`.
pub mod reference_count {
    use crate::console::{Console, GcState};
    use crate::py::{getrefcount, py_bool};
    use crate::Section;
    use pygc::Gc;
    use std::cell::RefCell;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-reference-count",
        seed: &super::SEED,
        summary: "sys.getrefcount(my_list): Reference count: 2, 3 with another_ref, 2 after del another_ref",
        run: |out| run(out).map(drop),
    };

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// The three `Reference count:` figures (`sys.getrefcount`).
        pub counts: [usize; 3],
        /// Whether `del my_list` destroyed the list.
        pub destroyed: bool,
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
    /// use gc_examples::seed004_data_objects_and_gc_module::reference_count;
    /// assert_eq!(reference_count::run(&mut Vec::new()).unwrap().counts, [2, 3, 2]);
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        con.line(
            "# sys.getrefcount(x) is Gc::strong_count(&x) + 1: the +1 is getrefcount's argument",
        )?;

        // Create an object - reference count is 1
        let my_list = Gc::new(RefCell::new(vec![1_i64, 2, 3]));
        let c0 = getrefcount(&my_list);
        con.line(format_args!("Reference count: {c0}"))?;
        // Create another reference - count increases
        let another_ref = my_list.clone();
        let c1 = getrefcount(&my_list);
        con.line(format_args!("Reference count: {c1}"))?;
        // Delete one reference - count decreases
        drop(another_ref);
        let c2 = getrefcount(&my_list);
        con.line(format_args!("Reference count: {c2}"))?;
        // Delete the last reference - object is destroyed
        let watch = Gc::downgrade(&my_list);
        drop(my_list);
        let destroyed = watch.upgrade().is_none();
        con.line(format_args!(
            "# del my_list: destroyed = {}    (not printed by the article; checked through a Weak handle)",
            py_bool(destroyed)
        ))?;

        con.finish()?;
        Ok(Report {
            counts: [c0, c1, c2],
            destroyed,
        })
    }
}

/// `DataObject` announcing its creation and its deletion.
pub mod data_object {
    use crate::console::{emit, Console, GcState};
    use crate::Section;
    use pygc::{Finalize, Gc, Trace};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-data-object",
        seed: &super::SEED,
        summary: "DataObject — refcount death at reassignment and scope exit",
        run: |out| run(out).map(drop),
    };

    /// "Object that announces when it's created and destroyed".
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct DataObject {
        /// `self.name`.
        pub name: String,
    }

    impl DataObject {
        /// `DataObject(name)`: prints `Created {name}`.
        ///
        /// # Examples
        ///
        /// ```
        /// use gc_examples::seed004_data_objects_and_gc_module::data_object::DataObject;
        /// let o = DataObject::new("Object 1");
        /// assert_eq!(o.name, "Object 1");
        /// ```
        #[allow(clippy::new_ret_no_self)]
        pub fn new(name: &str) -> Gc<DataObject> {
            emit(format!("Created {name}"));
            Gc::new(DataObject {
                name: name.to_owned(),
            })
        }
    }

    impl Finalize for DataObject {
        /// `__del__`: "called when object is about to be destroyed".
        fn finalize(&self) {
            emit(format!("Deleting {}", self.name));
        }
    }

    /// The article's expected output, line by line (blank lines included).
    pub const EXPECTED: &[&str] = &[
        "Creating object 1:",
        "Created Object 1",
        "",
        "Creating object 2 and deleting it:",
        "Created Object 2",
        "Deleting Object 2",
        "",
        "Reassigning obj1:",
        "Created Object 3",
        "Deleting Object 1",
        "",
        "Function scope test:",
        "Created Temporary",
        "Inside function",
        "Deleting Temporary",
        "After function",
        "",
        "Script ending...",
        "Deleting Object 3",
    ];

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// The section's output lines after the heading (without the
        /// trailing blank line): should equal [`EXPECTED`].
        pub lines: Vec<String>,
    }

    fn create_temporary(con: &mut Console<'_>) -> io::Result<()> {
        let temp = DataObject::new("Temporary");
        con.line("Inside function")?;
        drop(temp); // the local goes out of scope as the function returns
        Ok(())
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
    /// use gc_examples::seed004_data_objects_and_gc_module::data_object;
    /// let r = data_object::run(&mut Vec::new()).unwrap();
    /// assert_eq!(r.lines, data_object::EXPECTED);
    /// ```
    // `obj1 = DataObject("Object 1")` is only ever reassigned: it exists for
    // the reference it holds, as in the article.
    #[allow(unused_assignments)]
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut buf = Vec::new();
        {
            let mut con = Console::start(&mut buf, &SECTION)?;

            // Create and immediately lose reference
            con.line("Creating object 1:")?;
            let mut obj1 = DataObject::new("Object 1");

            con.line("\nCreating object 2 and deleting it:")?;
            let obj2 = DataObject::new("Object 2");
            drop(obj2); // del obj2

            con.line("\nReassigning obj1:")?;
            // As in Python, the new object is made first; the old one dies
            // when the name lets go of it.
            obj1 = DataObject::new("Object 3");

            con.line("\nFunction scope test:")?;
            create_temporary(&mut con)?;
            con.line("After function")?;

            con.line("\nScript ending...")?;
            drop(obj1); // module globals are cleared at exit
            con.finish()?;
        }
        out.write_all(&buf)?;
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<String> = text.lines().skip(1).map(str::to_owned).collect();
        if lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        Ok(Report { lines })
    }
}

/// Two `Node`s with `__del__` in a cycle.
pub mod node_cycle {
    use crate::console::{emit, Console, GcState};
    use crate::Section;
    use pygc::{gc, Finalize, Gc, Trace};
    use std::cell::{Cell, RefCell};
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-node-cycle",
        seed: &super::SEED,
        summary: "two Nodes with __del__ in a cycle: refcount 2 each, nothing deleted at del, Collected 2 objects",
        run: |out| run(out).map(drop),
    };

    thread_local! {
        static DELETED: Cell<usize> = const { Cell::new(0) };
    }

    /// `class Node` with a `reference` to another node and a `__del__`.
    #[derive(Trace)]
    #[trace(finalize)]
    pub struct Node {
        /// `self.name`.
        pub name: String,
        /// `self.reference`.
        pub reference: RefCell<Option<Gc<Node>>>,
    }

    impl Node {
        /// `Node(name)`.
        ///
        /// # Examples
        ///
        /// ```
        /// use gc_examples::seed004_data_objects_and_gc_module::node_cycle::Node;
        /// assert_eq!(Node::new("Node 1").name, "Node 1");
        /// ```
        #[allow(clippy::new_ret_no_self)]
        pub fn new(name: &str) -> Gc<Node> {
            Gc::new(Node {
                name: name.to_owned(),
                reference: RefCell::new(None),
            })
        }
    }

    impl Finalize for Node {
        fn finalize(&self) {
            DELETED.with(|n| n.set(n.get() + 1));
            emit(format!("Deleting {}", self.name));
        }
    }

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `sys.getrefcount(node) - 1` for both nodes, after linking.
        pub refcounts: (usize, usize),
        /// Their reference counts after `del node1; del node2`.
        pub refcounts_after_del: (usize, usize),
        /// `Deleting ...` lines before the collection.
        pub deleted_before_collect: usize,
        /// `Deleting ...` lines printed by `gc.collect()`.
        pub deleted_by_collect: usize,
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
    /// use gc_examples::seed004_data_objects_and_gc_module::node_cycle;
    /// let r = node_cycle::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.refcounts, r.collected), ((2, 2), 2));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;
        let base = DELETED.with(Cell::get);
        let deleted = || DELETED.with(Cell::get) - base;

        // Create two separate objects
        con.line("Creating two nodes:")?;
        let node1 = Node::new("Node 1");
        let node2 = Node::new("Node 2");

        // Now create the circular reference
        con.line("\nCreating circular reference:")?;
        *node1.reference.borrow_mut() = Some(node2.clone());
        *node2.reference.borrow_mut() = Some(node1.clone());

        // `sys.getrefcount(node) - 1` is the strong count.
        let refcounts = (Gc::strong_count(&node1), Gc::strong_count(&node2));
        con.line(format_args!("Node 1 refcount: {}", refcounts.0))?;
        con.line(format_args!("Node 2 refcount: {}", refcounts.1))?;

        // Delete our variables
        con.line("\nDeleting our variables:")?;
        let (w1, w2) = (Gc::downgrade(&node1), Gc::downgrade(&node2));
        drop(node1);
        drop(node2);
        let refcounts_after_del = (w1.strong_count(), w2.strong_count());
        let deleted_before_collect = deleted();
        con.line("Objects still alive! (reference counts aren't zero)")?;
        con.line("They only reference each other, but counts are still 1 each")?;
        con.line(format_args!(
            "    (checked through Weak handles: {} and {}; not printed by the article)",
            refcounts_after_del.0, refcounts_after_del.1
        ))?;

        con.line("\nTriggering garbage collection:")?;
        let collected = gc::collect();
        let deleted_by_collect = deleted() - deleted_before_collect;
        con.line(format_args!("Collected {collected} objects"))?;

        con.finish()?;
        Ok(Report {
            refcounts,
            refcounts_after_del,
            deleted_before_collect,
            deleted_by_collect,
            collected,
        })
    }
}

/// Inspecting the collector with the `gc` module.
pub mod gc_module {
    use crate::console::{Console, GcState};
    use crate::py::py_bool;
    use crate::Section;
    use pygc::{gc, Gc, Trace};
    use std::cell::RefCell;
    use std::io::{self, Write};

    /// This section, for the tour's registry.
    pub const SECTION: Section = Section {
        name: "seed004-gc-module",
        seed: &super::SEED,
        summary: "gc.isenabled(), thresholds (700, 10, 10), get_count(), collect(), get_objects()",
        run: |out| run(out).map(drop),
    };

    /// How many live objects the staged history leaves in generation 0.
    pub const LIVE_OBJECTS: usize = 5;

    /// A live linked chain node, for the staged history.
    #[derive(Trace)]
    struct Link(RefCell<Option<Gc<Link>>>);

    /// The figures the section printed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Report {
        /// `gc.isenabled()`.
        pub enabled: bool,
        /// `gc.get_threshold()`.
        pub thresholds: (usize, usize, usize),
        /// `gc.get_count()`.
        pub counts: (usize, usize, usize),
        /// What `gc.collect()` returned.
        pub collected: usize,
        /// `gc.get_count()` after the collection (not in the article).
        pub counts_after_collect: (usize, usize, usize),
        /// `len(gc.get_objects())`.
        pub tracked_objects: usize,
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
    /// use gc_examples::seed004_data_objects_and_gc_module::gc_module;
    /// let r = gc_module::run(&mut Vec::new()).unwrap();
    /// assert_eq!((r.thresholds, r.counts), ((700, 10, 10), (5, 3, 1)));
    /// ```
    pub fn run(out: &mut dyn Write) -> io::Result<Report> {
        let _gc = GcState::flush_and_save();
        let mut con = Console::start(out, &SECTION)?;

        // The article's figures come from a whole interpreter's history.
        // Stage a small one, so that each counter has something to show.
        con.line(format_args!(
            "# staged before the article's program (not in it): one generation-1 collection, \
             three generation-0 collections, then {LIVE_OBJECTS} live objects allocated"
        ))?;
        gc::collect_generation(1);
        for _ in 0..3 {
            gc::collect_generation(0);
        }
        let mut chain: Option<Gc<Link>> = None;
        for _ in 0..LIVE_OBJECTS {
            chain = Some(Gc::new(Link(RefCell::new(chain.take()))));
        }

        // Check if automatic collection is enabled
        let enabled = gc::is_enabled();
        con.line(format_args!("GC enabled: {}", py_bool(enabled)))?;

        // Get collection thresholds
        let thresholds = gc::get_threshold();
        con.line(format_args!("\nCollection thresholds: {thresholds:?}"))?;
        con.line(format_args!(
            "  Generation 0 threshold: {} objects",
            thresholds.0
        ))?;
        con.line(format_args!(
            "  Generation 1 threshold: {} collections",
            thresholds.1
        ))?;
        con.line(format_args!(
            "  Generation 2 threshold: {} collections",
            thresholds.2
        ))?;

        // Get current collection counts
        let counts = gc::get_count();
        con.line(format_args!("\nCurrent counts: {counts:?}"))?;
        con.line(format_args!("  Gen 0: {} objects", counts.0))?;
        con.line(format_args!(
            "  Gen 1: {} collections since last Gen 1",
            counts.1
        ))?;
        con.line(format_args!(
            "  Gen 2: {} collections since last Gen 2",
            counts.2
        ))?;

        // Manually trigger collection and see what was collected
        con.line("\nCollecting garbage...")?;
        let collected = gc::collect();
        con.line(format_args!("Collected {collected} objects"))?;
        let counts_after_collect = gc::get_count();

        // Get list of all tracked objects
        let tracked_objects = gc::get_objects(None).len();
        con.line(format_args!("\nTotal tracked objects: {tracked_objects}"))?;
        con.line(
            "# this heap's tracked objects only: the staged chain (the article's 8542 are a \
             whole interpreter's)",
        )?;
        drop(chain);

        con.finish()?;
        Ok(Report {
            enabled,
            thresholds,
            counts,
            collected,
            counts_after_collect,
            tracked_objects,
        })
    }
}
