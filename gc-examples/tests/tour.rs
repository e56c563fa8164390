//! Every figure the seed tour prints, asserted. Each test runs one section
//! (libtest gives each test its own thread, hence its own heap); the last
//! tests run the whole tour on one thread, and the binary.

use gc_examples::objgraph_pictures as pictures;
use gc_examples::seed000_cycles_and_saveall as s000;
use gc_examples::seed001_refcounts_and_threshold as s001;
use gc_examples::seed002_refcount_peek_and_callbacks as s002;
use gc_examples::seed003_track_destructors as s003;
use gc_examples::seed004_data_objects_and_gc_module as s004;
use gc_examples::{find, Section, SECTIONS};
use pygc::gc::Phase;
use std::io;
use std::path::PathBuf;
use std::process::Command;

/// Run a section's `run`, returning its report and its output.
fn capture<R>(run: fn(&mut dyn io::Write) -> io::Result<R>) -> (R, String) {
    let mut out = Vec::new();
    let report = run(&mut out).expect("writing to a Vec cannot fail");
    (
        report,
        String::from_utf8(out).expect("the tour prints UTF-8"),
    )
}

/// The output's lines, without the heading.
fn body(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

fn count_lines(text: &str, line: &str) -> usize {
    text.lines().filter(|l| *l == line).count()
}

fn assert_heading(text: &str, section: &Section, seed: &str, hash: &str) {
    let first = text.lines().next().unwrap();
    assert_eq!(first, section.heading());
    assert!(
        first.starts_with(&format!("== seed {seed} ({hash}): ")),
        "{first}"
    );
    assert!(first.ends_with(" =="), "{first}");
    assert!(text.ends_with("\n\n"), "a section ends with a blank line");
}

/// Replace what legitimately varies between runs (addresses, timings).
fn normalize(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = String::new();
        let mut rest = line;
        while let Some(i) = rest.find("0x") {
            l.push_str(&rest[..i]);
            l.push_str("0xADDR");
            rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        l.push_str(rest);
        if l.starts_with("GC stop: ") && l.ends_with(" us") {
            let cut = l[..l.len() - 3].rfind(' ').unwrap();
            l.truncate(cut);
            l.push_str(" N us");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------- seed 000

#[test]
fn seed000_function_refcount() {
    let (r, text) = capture(s000::function_refcount::run);
    assert_heading(&text, &s000::function_refcount::SECTION, "000", "5278c975");
    assert_eq!(
        r,
        s000::function_refcount::Report {
            before: 2,
            inside: 3,
            after: 2
        }
    );
    let lines = body(&text);
    assert!(lines[1].starts_with("2    #"));
    assert!(lines[3].starts_with("3    #"));
    assert!(
        lines[4].contains("prints 4"),
        "the article's 4 is explained"
    );
    assert!(lines[5].starts_with("2    #"));
}

#[test]
fn seed000_cycles_survive_del() {
    let (r, text) = capture(s000::cycles_survive_del::run);
    assert_heading(&text, &s000::cycles_survive_del::SECTION, "000", "5278c975");
    assert_eq!(
        r,
        s000::cycles_survive_del::Report {
            object_1_refcnt: 1,
            lst_refcnt: 1,
            collected: 3,
            refcnts_after_collect: [0, 0, 0],
        }
    );
    assert!(text.contains("# lst is [[...]]"));
    assert!(text.contains("# object_1 is {'obj2': {'obj1': {...}}}"));
    assert!(text.contains("\n1    # PyObject.from_address(obj_address).refcnt\n"));
    assert!(text.contains("\n1    # PyObject.from_address(lst_address).refcnt\n"));
    assert!(text.contains("Weak"), "the ctypes substitute is stated");
    assert!(text.contains("lst alive: False"));
}

#[test]
fn seed000_debug_saveall() {
    let (r, text) = capture(s000::debug_saveall::run);
    assert_heading(&text, &s000::debug_saveall::SECTION, "000", "5278c975");
    assert_eq!(
        r,
        s000::debug_saveall::Report {
            count_at_start: (0, 0, 0),
            count_after_alloc: (1, 0, 0),
            collected: 1,
            garbage: vec!["[[...]]".to_owned()],
            ids_match: true,
            collected_after_clear: 1,
        }
    );
    assert!(text.contains("\n(0, 0, 0)    # print(gc.get_count())\n"));
    assert!(text.contains("gc.collect() -> 1\n"));
    assert!(text.contains("\n[[...]]    # id(item) == list_id: True\n"));
    // The section put the collector back as it found it.
    assert!(pygc::gc::get_debug().is_empty());
    assert!(pygc::gc::garbage().is_empty());
}

// ---------------------------------------------------------------- seed 001

#[test]
fn seed001_names_and_a_value() {
    let (r, text) = capture(s001::names_and_a_value::run);
    assert_heading(&text, &s001::names_and_a_value::SECTION, "001", "3584dec5");
    assert_eq!(r.counts, [1, 2, 3, 2, 1, 0]);
    assert!(r.freed);
    let printed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("# Reference count for the value 9: ").nth(1))
        .collect();
    assert_eq!(printed, ["1", "2", "3", "2", "1", "0"]);
    assert!(text.contains("value 9 deallocated: True"));
}

#[test]
fn seed001_self_referencing_list() {
    let (r, text) = capture(s001::self_referencing_list::run);
    assert_heading(
        &text,
        &s001::self_referencing_list::SECTION,
        "001",
        "3584dec5",
    );
    assert_eq!(
        r,
        s001::self_referencing_list::Report {
            printed: "[[...]]".to_owned(),
            getrefcount: 3,
            refcount_after_del: 1,
            collected: 1,
            freed: true,
        }
    );
    assert!(text.contains(">>> print(a)\n[[...]]\n"));
    assert!(text.contains(">>> gc.collect()\n1\n"));
}

#[test]
fn seed001_threshold() {
    let (r, text) = capture(s001::threshold::run);
    assert_heading(&text, &s001::threshold::SECTION, "001", "3584dec5");
    assert_eq!(
        r,
        s001::threshold::Report {
            threshold: (700, 10, 10),
            triggered_at: 701,
            count_before_trigger: (700, 0, 0),
            generation: 0,
            collected: 700,
            count_after_trigger: (0, 1, 0),
        }
    );
    assert!(text.contains(">>> gc.get_threshold()\n(700, 10, 10)\n"));
    assert!(text.contains(
        "allocation #701: gc.get_count() was (700, 0, 0), 701 > 700 -> automatic collection \
         {'generation': 0, 'collected': 700, 'uncollectable': 0}"
    ));
    assert!(text.contains("gc.collect() -> 1"));
}

#[test]
fn seed001_track_del() {
    let (r, text) = capture(s001::track_del::run);
    assert_heading(&text, &s001::track_del::SECTION, "001", "3584dec5");
    assert_eq!(
        r,
        s001::track_del::Report {
            initialised: 2,
            deleted_after_del_a: 1,
            deleted_after_del_b: 2,
            collected: 0,
        }
    );
    assert_eq!(
        body(&text)[..6],
        [
            "gc.disable()",
            "Intitialisting your object here",
            "Intitialisting your object here",
            "deleting here...",
            "Deleting and clearing memory",
            "Deleting and clearing memory",
        ]
    );
    assert!(
        pygc::gc::is_enabled(),
        "gc.enable()d again after the section"
    );
}

// ---------------------------------------------------------------- seed 002

#[test]
fn seed002_getrefcount() {
    let (r, text) = capture(s002::getrefcount::run);
    assert_heading(&text, &s002::getrefcount::SECTION, "002", "8ff6a5e7");
    assert_eq!(
        r,
        s002::getrefcount::Report {
            object_counts: [2, 3, 2],
            object_tracked: false,
            container_counts: [2, 3],
            collected: 1,
        }
    );
    assert!(text.contains(">>> sys.getrefcount(x)\n2\n>>> y = x\n>>> sys.getrefcount(x)\n3\n"));
    assert!(text.contains(">>> del y\n>>> sys.getrefcount(x)\n2\n"));
    assert!(text.contains("\n2 # = variable's reference + getrefcount's reference\n"));
    assert!(text
        .contains("\n3 # = variable's reference + cyclical reference + getrefcount's reference\n"));
}

#[test]
fn seed002_peek_after_del() {
    let (r, text) = capture(s002::peek_after_del::run);
    assert_heading(&text, &s002::peek_after_del::SECTION, "002", "8ff6a5e7");
    assert_eq!(
        r,
        s002::peek_after_del::Report {
            before_del: 2,
            after_del: 1,
            collected: 1,
            after_collect: 0,
        }
    );
    assert!(text.contains(
        ">>> addr.value    # addr.strong_count()\n2\n>>> del container\n>>> addr.value\n1\n"
    ));
    assert!(text.contains("no safe analogue"));
}

#[test]
fn seed002_gc_callbacks() {
    let (r, text) = capture(s002::gc_callbacks::run);
    assert_heading(&text, &s002::gc_callbacks::SECTION, "002", "8ff6a5e7");

    // 5 000 allocations, a generation-0 collection on allocations 701,
    // 1402, ..., 4907: seven of them. The first finds 699 lists (allocation
    // 700 is still named `container`), the others 700 (the one made at the
    // previous trigger is now garbage, the newest is named).
    assert_eq!(r.loop_calls.len(), 14);
    for (i, pair) in r.loop_calls.chunks(2).enumerate() {
        let (start, stop) = (pair[0], pair[1]);
        assert_eq!(start.phase, Phase::Start);
        assert_eq!(
            (start.generation, start.collected, start.uncollectable),
            (0, 0, 0)
        );
        assert_eq!(stop.phase, Phase::Stop);
        let expected = if i == 0 { 699 } else { 700 };
        assert_eq!(
            (stop.generation, stop.collected, stop.uncollectable),
            (0, expected, 0)
        );
    }
    // The final full collection: the 94 lists made after the last trigger,
    // plus the 7 that were named `container` during a collection and were
    // promoted to generation 1.
    assert_eq!(r.final_collected, 101);
    assert_eq!(r.final_calls.len(), 2);
    assert_eq!(
        (r.final_calls[0].phase, r.final_calls[0].generation),
        (Phase::Start, 2)
    );
    assert_eq!(
        (
            r.final_calls[1].phase,
            r.final_calls[1].generation,
            r.final_calls[1].collected
        ),
        (Phase::Stop, 2, 101)
    );
    assert_eq!(r.total_collected, s002::gc_callbacks::LOOPS);

    let starts = text.lines().filter(|l| l.starts_with("GC start: ")).count();
    assert_eq!(starts, 8);
    assert_eq!(
        count_lines(
            &text,
            "GC start: {'generation': 0, 'collected': 0, 'uncollectable': 0}"
        ),
        7
    );
    let stops: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("GC stop: "))
        .collect();
    assert_eq!(stops.len(), 8);
    for stop in &stops {
        // `GC stop: {...} <micros> us`
        let timing = stop.rsplit_once("} ").unwrap().1;
        let micros = timing.strip_suffix(" us").expect("a timing in us");
        micros
            .parse::<u128>()
            .expect("an integer number of microseconds");
    }
    assert!(
        stops[0].starts_with("GC stop: {'generation': 0, 'collected': 699, 'uncollectable': 0} ")
    );
    assert!(
        stops[7].starts_with("GC stop: {'generation': 2, 'collected': 101, 'uncollectable': 0} ")
    );
    assert!(text.contains("collected 4899 during the loop + 101 now = 5000 self-cycles"));
}

// ---------------------------------------------------------------- seed 003

#[test]
fn seed003_shared_values() {
    let (r, text) = capture(s003::shared_values::run);
    assert_heading(&text, &s003::shared_values::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::shared_values::Report {
            shared_counts: [2, 4],
            shared_is_same: true,
            distinct_counts: [2, 2],
            distinct_is_same: false,
        }
    );
    assert!(text.contains(">>> a is b\nTrue\n"));
    assert!(text.contains(">>> a is b, a == b\n(False, True)\n"));
}

#[test]
fn seed003_del_and_rebind() {
    let (r, text) = capture(s003::del_and_rebind::run);
    assert_heading(&text, &s003::del_and_rebind::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::del_and_rebind::Report {
            after_del_t: 0,
            after_del_another_t: 1,
            after_t_none: 1,
            after_another_t_none: 2,
        }
    );
    assert!(text.contains(
        ">>> del t # not destructed yet - another_t still refers to it\n\
         >>> del another_t # final reference gone, object is destructed\nDestructed\n"
    ));
    assert!(text.contains(
        ">>> t = None      # not destructed yet - another_t still refers to it\n\
         >>> another_t = None # final reference gone, object is destructed\nDestructed\n"
    ));
    assert_eq!(count_lines(&text, "Initialized"), 2);
    assert_eq!(count_lines(&text, "Destructed"), 2);
    assert!(text.contains("_Py_Dealloc) has no analogue"));
}

#[test]
fn seed003_track_pair_cycle() {
    let (r, text) = capture(s003::track_pair_cycle::run);
    assert_heading(&text, &s003::track_pair_cycle::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::track_pair_cycle::Report {
            initialized: 2,
            destructed_before_collect: 0,
            destructed_by_collect: 2,
            collected: 2,
        }
    );
    assert!(text.contains(">>> gc.collect() # trigger collection\nDestructed\nDestructed\n2\n"));
}

#[test]
fn seed003_track_ring() {
    let (r, text) = capture(s003::track_ring::run);
    assert_heading(&text, &s003::track_ring::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::track_ring::Report {
            initialized: 10,
            destructed_before_collect: 0,
            destructed_by_collect: 10,
            collected: 10,
        }
    );
    assert_eq!(count_lines(&text, "Initialized"), 10);
    assert_eq!(count_lines(&text, "Destructed"), 10);
    let after_collect = text.split(">>> gc.collect()\n").nth(1).unwrap();
    assert!(after_collect.starts_with(&"Destructed\n".repeat(10)));
    assert!(after_collect[("Destructed\n".len() * 10)..].starts_with("10\n"));
}

#[test]
fn seed003_scope_exit() {
    let (r, text) = capture(s003::scope_exit::run);
    assert_heading(&text, &s003::scope_exit::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::scope_exit::Report {
            destructed_before_first_mark: 1,
            destructed_before_second_mark: 1,
            destructed_after_return: 2,
        }
    );
    let lines = body(&text);
    let at = lines.iter().position(|l| *l == ">>> foo()").unwrap();
    assert_eq!(
        lines[at + 1..at + 7],
        [
            "Initialized",
            "Destructed",
            "---",
            "Initialized",
            "---",
            "Destructed"
        ]
    );
}

#[test]
fn seed003_close_on_del() {
    let (r, text) = capture(s003::close_on_del::run);
    assert_heading(&text, &s003::close_on_del::SECTION, "003", "5cc562ae");
    assert_eq!(
        r,
        s003::close_on_del::Report {
            closed_by_del: true,
            closed_after_with: true,
            alive_after_with: true,
        }
    );
    assert!(text.contains(">>> del f\n<test.txt closed by its finalizer, at refcount death>\n"));
    assert_eq!(
        text.matches("closed by").count(),
        2,
        "closed exactly once each"
    );
}

#[test]
fn seed003_finalizers_in_cycles() {
    let (r, text) = capture(s003::finalizers_in_cycles::run);
    assert_heading(
        &text,
        &s003::finalizers_in_cycles::SECTION,
        "003",
        "5cc562ae",
    );
    assert_eq!(
        r,
        s003::finalizers_in_cycles::Report {
            pep442_collected: 2,
            pep442_finalized: 2,
            legacy_collected: 2,
            legacy_finalized_by_collect: 0,
            legacy_garbage: 2,
            legacy_uncollectable: 2,
            legacy_finalized_after_break: 2,
        }
    );
    // PEP 442: each finalizer sees its partner intact.
    let pep442 = text.split("# legacy finalizers").next().unwrap();
    assert!(pep442.contains("We're deleting an instance of A containing: <__main__.B object at 0x"));
    assert!(pep442.contains("We're deleting an instance of B containing: <__main__.A object at 0x"));
    let legacy = text.split("# legacy finalizers").nth(1).unwrap();
    assert!(legacy.contains(">>> gc.collect()\n2\n>>> gc.garbage\n[<__main__."));
    assert!(legacy.contains(">>> gc.get_stats()[2]['uncollectable'] - uncollectable_before\n2\n"));
    assert!(legacy.ends_with("We're deleting an instance of A containing: None\n\n"));
    assert!(pygc::gc::garbage().is_empty(), "gc.garbage emptied");
}

// ---------------------------------------------------------------- seed 004

#[test]
fn seed004_names_are_pointers() {
    let (r, text) = capture(s004::names_are_pointers::run);
    assert_heading(&text, &s004::names_are_pointers::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        r,
        s004::names_are_pointers::Report {
            is_same: true,
            ids_equal: true,
            after_append: vec![1, 2, 3, 4],
            after_rebind: vec![1, 2, 3, 4],
            my_list_after_rebind: vec![5, 6, 7],
        }
    );
    assert_eq!(
        body(&text),
        ["True", "True", "[1, 2, 3, 4]", "[1, 2, 3, 4]", ""]
    );
}

#[test]
fn seed004_person_cycle() {
    let (r, text) = capture(s004::person_cycle::run);
    assert_heading(&text, &s004::person_cycle::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        r,
        s004::person_cycle::Report {
            refcounts: (3, 3),
            refcounts_after_del: (1, 1),
            collected: 2,
            freed: true,
        }
    );
    assert!(text.contains(
        "alice -> Person(\"Alice\") -> .friend -> Person(\"Bob\") -> .friend -> Person(\"Alice\")"
    ));
    assert!(text.contains("\nCollected 2 objects"));
}

#[test]
fn seed004_reference_count() {
    let (r, text) = capture(s004::reference_count::run);
    assert_heading(&text, &s004::reference_count::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        r,
        s004::reference_count::Report {
            counts: [2, 3, 2],
            destroyed: true,
        }
    );
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Reference count: "))
        .collect();
    assert_eq!(
        counts,
        [
            "Reference count: 2",
            "Reference count: 3",
            "Reference count: 2"
        ]
    );
}

#[test]
fn seed004_data_object() {
    let (r, text) = capture(s004::data_object::run);
    assert_heading(&text, &s004::data_object::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        text.lines().next().unwrap(),
        "== seed 004 (bf8fa3a3): DataObject — refcount death at reassignment and scope exit =="
    );
    assert_eq!(r.lines, s004::data_object::EXPECTED);
    // Exactly as Python prints it, blank lines included.
    let printed: Vec<&str> = body(&text);
    assert_eq!(printed[..printed.len() - 1], *s004::data_object::EXPECTED);
    assert_eq!(text.matches("Created ").count(), 4);
    assert_eq!(text.matches("Deleting ").count(), 4);
}

#[test]
fn seed004_node_cycle() {
    let (r, text) = capture(s004::node_cycle::run);
    assert_heading(&text, &s004::node_cycle::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        r,
        s004::node_cycle::Report {
            refcounts: (2, 2),
            refcounts_after_del: (1, 1),
            deleted_before_collect: 0,
            deleted_by_collect: 2,
            collected: 2,
        }
    );
    assert!(text.contains("Node 1 refcount: 2\nNode 2 refcount: 2\n"));
    assert!(text.contains(
        "\nTriggering garbage collection:\nDeleting Node 1\nDeleting Node 2\nCollected 2 objects\n"
    ));
}

#[test]
fn seed004_gc_module() {
    let (r, text) = capture(s004::gc_module::run);
    assert_heading(&text, &s004::gc_module::SECTION, "004", "bf8fa3a3");
    assert_eq!(
        r,
        s004::gc_module::Report {
            enabled: true,
            thresholds: (700, 10, 10),
            counts: (5, 3, 1),
            collected: 0,
            counts_after_collect: (0, 0, 0),
            tracked_objects: s004::gc_module::LIVE_OBJECTS,
        }
    );
    for line in [
        "GC enabled: True",
        "Collection thresholds: (700, 10, 10)",
        "  Generation 0 threshold: 700 objects",
        "  Generation 1 threshold: 10 collections",
        "  Generation 2 threshold: 10 collections",
        "Current counts: (5, 3, 1)",
        "  Gen 0: 5 objects",
        "  Gen 1: 3 collections since last Gen 1",
        "  Gen 2: 1 collections since last Gen 2",
        "Collecting garbage...",
        "Collected 0 objects",
        "Total tracked objects: 5",
    ] {
        assert_eq!(count_lines(&text, line), 1, "{line}");
    }
}

/// A fresh directory under the system's temp dir, for one test's SVGs.
fn temp_out(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gc-examples-objgraph-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Whether Graphviz's `dot` runs here.
fn dot_installed() -> bool {
    pygc::debug::dot_to_svg("digraph { a -> b }")
        .expect("dot, when present, accepts a trivial graph")
        .is_some()
}

/// The DOT texts a section printed (`digraph ... {` to `}`).
fn dot_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("digraph ") {
            current = Some(String::new());
        }
        if let Some(block) = &mut current {
            block.push_str(line);
            block.push('\n');
            if line == "}" {
                blocks.push(current.take().unwrap());
            }
        }
    }
    blocks
}

#[test]
fn seed004_objgraph_pictures() {
    let dir = temp_out("section");
    let mut out = Vec::new();
    let r = pictures::run_in(&mut out, &dir).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_heading(&text, &pictures::SECTION, "004", "bf8fa3a3");
    let step = |name: &str, strong, outside| pictures::Step {
        name: name.to_owned(),
        strong,
        outside,
    };
    let svgs = if dot_installed() {
        Some(vec![
            dir.join(pictures::ALICE_BOB_SVG),
            dir.join(pictures::LEAKED_GRAPH_SVG),
        ])
    } else {
        None
    };
    assert_eq!(
        r,
        pictures::Report {
            most_common_types: vec![("Node".to_owned(), 4), ("Person".to_owned(), 2)],
            leaked_path: vec![
                step("buffer", 1, 0),
                step("session", 2, 0),
                step("registry", 1, 1),
            ],
            leaked_reachable: true,
            alice_bob: pictures::GraphFigures {
                nodes: 2,
                edges: 2,
                in_cycle: 2,
            },
            leaked_graph: pictures::GraphFigures {
                nodes: 4,
                edges: 4,
                in_cycle: 2,
            },
            svgs: svgs.clone(),
            collected_alice_bob: 2,
            collected_leak: 3,
        }
    );

    // most_common_types, as objgraph prints it.
    assert!(text.contains(
        ">>> objgraph.show_most_common_types()    # debug::most_common_types(None)\n\
         Node       4\nPerson     2\n>>> why_alive(buffer)"
    ));
    // The why_alive report: three steps, the last one the forgotten handle.
    let norm = normalize(&text);
    assert!(norm.contains(
        ">>> why_alive(buffer)    # debug::why_alive(&buffer)\n\
         why is <Node 0xADDR> alive?\n\
         \x20    <Node 0xADDR>  strong 1, outside 0\n\
         \x20 <- <Node 0xADDR>  strong 2, outside 0\n\
         \x20 <- <Node 0xADDR>  strong 1, outside 1   <- held from outside the heap \
         (1 reference no Trace reports: a variable, a static, a #[trace(skip)] field or a forgotten handle)\n\
         # the chain by name: buffer <- session <- registry; reachable: True\n"
    ), "{norm}");
    // The DOT texts: alice and bob both red (a cycle); the leaked graph's
    // root green, session and buffer red, user grey.
    assert!(
        norm.contains(
            "  n0 [label=\"Person\\nstrong 2\\n0xADDR\", fillcolor=\"#ffb3b3\", penwidth=2];\n\
         \x20 n1 [label=\"Person\\nstrong 2\\n0xADDR\", fillcolor=\"#ffb3b3\"];\n\
         \x20 n0 -> n1 [color=\"#cc0000\", penwidth=2];\n\
         \x20 n1 -> n0 [color=\"#cc0000\", penwidth=2];\n}\n"
        ),
        "{norm}"
    );
    assert!(text.contains("# n0 = registry, n1 = session, n2 = user, n3 = buffer;"));
    assert!(
        norm.contains(
            "  n0 [label=\"Node\\nstrong 1\\n0xADDR\", fillcolor=\"#b8e6b8\", penwidth=2];\n\
         \x20 n1 [label=\"Node\\nstrong 2\\n0xADDR\", fillcolor=\"#ffb3b3\"];\n\
         \x20 n2 [label=\"Node\\nstrong 1\\n0xADDR\", fillcolor=\"#f4f4f4\"];\n\
         \x20 n3 [label=\"Node\\nstrong 1\\n0xADDR\", fillcolor=\"#ffb3b3\"];\n\
         \x20 n0 -> n1;\n  n1 -> n2;\n"
        ),
        "{norm}"
    );
    let blocks = dot_blocks(&text);
    assert_eq!(blocks.len(), 2);
    for block in &blocks {
        if let Some(svg) = pygc::debug::dot_to_svg(block).expect("dot accepts the printed DOT") {
            assert!(svg.contains("<svg"));
        }
    }

    match &svgs {
        Some(paths) => {
            for path in paths {
                let svg = std::fs::read_to_string(path).unwrap();
                assert!(svg.contains("<svg") && svg.contains("</svg>"), "{path:?}");
                assert_eq!(count_lines(&text, &format!("wrote {}", path.display())), 1);
            }
            assert!(!text.contains("apt-get install graphviz"));
        }
        None => {
            eprintln!("dot not installed: skipping the SVG files of seed004_objgraph_pictures");
            assert!(text.contains("(`apt-get install graphviz`)"));
            assert!(!dir.exists(), "nothing written");
        }
    }
    assert!(text.contains(">>> del alice, bob; gc.collect()\n2\n"));
    assert!(text.contains("# the fix: the session/buffer cycle and user go\n3\n"));
    // The leak was undone: nothing of the section is left on the heap.
    assert!(pygc::debug::most_common_types(None).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn objgraph_pictures_without_dot_says_how_to_install_it() {
    let dir = temp_out("no-dot");
    let output = binary()
        .arg("seed004-objgraph-pictures")
        .env("PATH", "/nonexistent/gc-examples-no-dot")
        .env(pictures::OUT_ENV, &dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(
        "# Graphviz's `dot` is not installed: no SVG written. \
         Install it (`apt-get install graphviz`) and run again for the pictures."
    ));
    assert!(!text.contains("wrote "));
    assert_eq!(dot_blocks(&text).len(), 2, "the DOT text is printed anyway");
    assert!(!dir.exists(), "nothing written");
}

#[test]
fn objgraph_pictures_go_where_gc_examples_out_says() {
    if !dot_installed() {
        eprintln!("dot not installed: skipping objgraph_pictures_go_where_gc_examples_out_says");
        return;
    }
    let dir = temp_out("env");
    let output = binary()
        .arg("seed004-objgraph-pictures")
        .env(pictures::OUT_ENV, &dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for file in [pictures::ALICE_BOB_SVG, pictures::LEAKED_GRAPH_SVG] {
        let path = dir.join(file);
        assert_eq!(count_lines(&text, &format!("wrote {}", path.display())), 1);
        assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- the tour

#[test]
fn registry_names_are_unique_and_selectable() {
    let mut names: Vec<&str> = SECTIONS.iter().map(|s| s.name).collect();
    let total = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), total);
    for section in SECTIONS {
        assert!(section.name.starts_with(&section.seed.selector()));
        assert_eq!(find(section.name).len(), 1);
    }
    let per_seed: Vec<usize> = ["seed000", "seed001", "seed002", "seed003", "seed004"]
        .iter()
        .map(|s| find(s).len())
        .collect();
    assert_eq!(per_seed, [3, 4, 3, 7, 7]);
    assert_eq!(per_seed.iter().sum::<usize>(), SECTIONS.len());
}

#[test]
fn whole_tour_on_one_thread_is_repeatable() {
    // The binary runs every section in sequence on one thread: the figures
    // must not depend on what ran before. Run the tour twice and compare
    // with each section run alone on a fresh thread.
    let tour = |out: &mut Vec<u8>| gc_examples::run_all(out).unwrap();
    let (mut first, mut second) = (Vec::new(), Vec::new());
    tour(&mut first);
    tour(&mut second);
    let first = normalize(&String::from_utf8(first).unwrap());
    let second = normalize(&String::from_utf8(second).unwrap());
    assert_eq!(first, second);

    let mut alone = String::new();
    for section in SECTIONS {
        let run = section.run;
        let text = std::thread::spawn(move || {
            let mut out = Vec::new();
            run(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        })
        .join()
        .unwrap();
        alone.push_str(&normalize(&text));
    }
    assert_eq!(first, alone);
    assert_eq!(first.matches("\n== seed ").count() + 1, SECTIONS.len());
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gc-examples"))
}

#[test]
fn binary_runs_the_whole_tour() {
    let output = binary().output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for section in SECTIONS {
        assert_eq!(
            count_lines(&text, &section.heading()),
            1,
            "{}",
            section.name
        );
    }
}

#[test]
fn binary_lists_sections() {
    let output = binary().arg("--list").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for section in SECTIONS {
        assert!(text.contains(section.name), "{}", section.name);
    }
    assert!(!text.contains("== seed"), "--list runs nothing");
}

#[test]
fn binary_runs_one_section_or_one_seed() {
    let output = binary().arg("seed004-data-object").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("== seed ").count(), 1);
    assert!(text.contains("Deleting Object 3"));

    let output = binary().arg("seed000").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("== seed 000 ").count(), 3);
    assert_eq!(text.matches("== seed ").count(), 3);
}

#[test]
fn binary_rejects_unknown_names_with_exit_code_2() {
    let output = binary().arg("no-such-section").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing runs");
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("no-such-section"));
    for section in SECTIONS {
        assert!(err.contains(section.name), "lists {}", section.name);
    }
}
