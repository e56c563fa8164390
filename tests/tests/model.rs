//! Model-based property tests: random programs over a few slots run on the
//! heap and on a plain reference model in lockstep (`gc_tests::model`).
//!
//! Case counts: `PROPTEST_CASES` when set; otherwise 256 in debug builds
//! (the default `cargo test --workspace`) and 10 000 with `--release`:
//!
//! ```text
//! cargo test --release -p gc-tests --test model
//! PROPTEST_CASES=100000 cargo test --release -p gc-tests --test model
//! MODEL_MODE=incremental cargo test --release -p gc-tests --test model
//! ```
//!
//! A failure prints the shrunk program (one step per line) and the first
//! disagreement with the model's state; paste it into a test below (or into
//! `regressions.rs`) to keep it.

use gc_tests::model::{run, Action, Kind, Mode, Op, Program, Report, SLOTS, WEAK_SLOTS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 256 } else { 10_000 })
}

fn config() -> Config {
    Config {
        cases: cases(),
        max_shrink_iters: 20_000,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn slot() -> impl Strategy<Value = u8> {
    0..SLOTS as u8
}

fn weak_slot() -> impl Strategy<Value = u8> {
    0..WEAK_SLOTS as u8
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        2 => Just(Kind::Plain),
        2 => Just(Kind::Pep442),
        1 => Just(Kind::Legacy),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Nothing),
        2 => Just(Action::ResurrectSelf),
        2 => (0u8..4).prop_map(Action::ResurrectEdge),
        1 => Just(Action::ClearEdges),
        1 => Just(Action::ClearSkip),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => (slot(), kind(), proptest::option::weighted(0.2, slot()), action())
            .prop_map(|(slot, kind, skip, action)| Op::Alloc { slot, kind, skip, action }),
        14 => (slot(), slot()).prop_map(|(from, to)| Op::Link { from, to }),
        4 => (slot(), 0u8..4).prop_map(|(from, edge)| Op::Unlink { from, edge }),
        5 => (slot(), slot()).prop_map(|(from, to)| Op::Clone { from, to }),
        10 => slot().prop_map(|slot| Op::Drop { slot }),
        4 => (slot(), action()).prop_map(|(slot, action)| Op::SetAction { slot, action }),
        6 => (slot(), weak_slot(), any::<bool>(), proptest::bool::weighted(0.3))
            .prop_map(|(slot, weak, callback, collects)| Op::Downgrade {
                slot,
                weak,
                callback,
                collects: callback && collects,
            }),
        1 => weak_slot().prop_map(|weak| Op::NewWeak { weak }),
        2 => (weak_slot(), weak_slot()).prop_map(|(from, to)| Op::CloneWeak { from, to }),
        2 => weak_slot().prop_map(|weak| Op::DropWeak { weak }),
        5 => (weak_slot(), slot()).prop_map(|(weak, slot)| Op::Upgrade { weak, slot }),
        3 => (weak_slot(), slot()).prop_map(|(weak, slot)| Op::StashWeak { weak, slot }),
        1 => (slot(), weak_slot()).prop_map(|(slot, weak)| Op::UnstashWeak { slot, weak }),
        3 => slot().prop_map(|slot| Op::PopBox { slot }),
        2 => Just(Op::ClearBox),
        8 => (0u8..3).prop_map(|generation| Op::Collect { generation }),
        2 => (slot(), 0u8..3).prop_map(|(slot, generation)| Op::CollectBorrowed { slot, generation }),
        2 => (0u8..=8, 0u8..=4, 0u8..=4).prop_map(|(a, b, c)| Op::SetThreshold(a, b, c)),
        1 => Just(Op::Enable),
        1 => Just(Op::Disable),
        1 => Just(Op::Freeze),
        1 => Just(Op::Unfreeze),
        2 => any::<bool>().prop_map(Op::SaveAll),
        2 => Just(Op::TakeGarbage),
        2 => (0u8..4, slot()).prop_map(|(index, slot)| Op::GarbageToSlot { index, slot }),
        3 => slot().prop_map(|slot| Op::TryUnwrap { slot }),
    ]
}

/// `MODEL_MODE=incremental`: every program in the incremental mode (PEP
/// 848), which otherwise gets one program in five.
fn mode() -> BoxedStrategy<Mode> {
    if std::env::var("MODEL_MODE").as_deref() == Ok("incremental") {
        return (1u8..12).prop_map(|t0| Mode::Incremental { t0 }).boxed();
    }
    prop_oneof![
        3 => any::<bool>().prop_map(|observe_counts| Mode::Exact { observe_counts }),
        1 => (1u8..12).prop_map(|t0| Mode::Loose { t0 }),
        1 => (1u8..12).prop_map(|t0| Mode::Incremental { t0 }),
    ]
    .boxed()
}

fn program() -> impl Strategy<Value = Program> {
    (mode(), proptest::collection::vec(op(), 1..64)).prop_map(|(mode, ops)| Program { mode, ops })
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

#[derive(Default, Debug)]
struct Totals {
    programs: usize,
    objects: usize,
    collections: usize,
    finalizer_calls: usize,
    callback_calls: usize,
    garbage_seen: usize,
    zero_count_trash: usize,
}

fn check_all() {
    let totals = RefCell::new(Totals::default());
    let mut runner = TestRunner::new(config());
    let result = runner.run(&program(), |p| {
        let r: Report = run(&p).map_err(TestCaseError::fail)?;
        let mut t = totals.borrow_mut();
        t.programs += 1;
        t.objects += r.objects;
        t.collections += r.collections;
        t.finalizer_calls += r.finalizer_calls;
        t.callback_calls += r.callback_calls;
        t.garbage_seen += r.garbage_seen;
        t.zero_count_trash += usize::from(r.zero_count_trash);
        Ok(())
    });
    eprintln!("model coverage: {:?}", totals.borrow());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The main property: every program agrees with the model (exact mode) or
/// keeps the timing-independent invariants (loose mode).
#[test]
fn programs_agree_with_the_model() {
    check_all();
}

// ---------------------------------------------------------------------------
// Hand-written programs: the model's own sanity, on cases with known answers
// ---------------------------------------------------------------------------

fn exact(ops: Vec<Op>) -> Report {
    let p = Program {
        mode: Mode::Exact {
            observe_counts: true,
        },
        ops,
    };
    run(&p).unwrap_or_else(|e| panic!("{p:?}\n{e}"))
}

fn alloc(slot: u8, kind: Kind) -> Op {
    Op::Alloc {
        slot,
        kind,
        skip: None,
        action: Action::Nothing,
    }
}

#[test]
fn two_cycle_is_collected() {
    let r = exact(vec![
        alloc(0, Kind::Pep442),
        alloc(1, Kind::Plain),
        Op::Link { from: 0, to: 1 },
        Op::Link { from: 1, to: 0 },
        Op::Downgrade {
            slot: 0,
            weak: 0,
            callback: true,
            collects: false,
        },
        Op::Drop { slot: 0 },
        Op::Drop { slot: 1 },
        Op::Collect { generation: 2 },
        Op::Upgrade { weak: 0, slot: 0 },
    ]);
    assert_eq!(r.finalizer_calls, 1);
    assert_eq!(r.callback_calls, 1);
}

#[test]
fn legacy_cycle_goes_to_garbage_and_back() {
    let r = exact(vec![
        alloc(0, Kind::Legacy),
        alloc(1, Kind::Pep442),
        Op::Link { from: 0, to: 1 },
        Op::Link { from: 1, to: 0 },
        Op::Drop { slot: 0 },
        Op::Drop { slot: 1 },
        Op::Collect { generation: 2 },
        Op::GarbageToSlot { index: 0, slot: 2 },
        Op::TakeGarbage,
        Op::Unlink { from: 2, edge: 0 },
        Op::Collect { generation: 2 },
    ]);
    assert_eq!(r.garbage_seen, 1);
}

#[test]
fn weak_callback_inside_trash_is_discarded() {
    let r = exact(vec![
        alloc(0, Kind::Plain),
        Op::Link { from: 0, to: 0 },
        Op::Downgrade {
            slot: 0,
            weak: 0,
            callback: true,
            collects: false,
        },
        Op::StashWeak { weak: 0, slot: 0 },
        Op::Drop { slot: 0 },
        Op::Collect { generation: 0 },
    ]);
    assert_eq!(r.callback_calls, 0);
}

#[test]
fn finalizer_resurrects_itself_at_refcount_death_only() {
    let r = exact(vec![
        Op::Alloc {
            slot: 0,
            kind: Kind::Pep442,
            skip: None,
            action: Action::ResurrectSelf,
        },
        Op::Drop { slot: 0 }, // resurrected into the box
        Op::PopBox { slot: 1 },
        Op::Link { from: 1, to: 1 },
        Op::Drop { slot: 1 },
        Op::Collect { generation: 2 }, // already finalized: freed
    ]);
    assert_eq!(r.finalizer_calls, 1);
}

#[test]
fn automatic_collection_follows_cpythons_trigger() {
    let mut ops = vec![Op::SetThreshold(2, 1, 1)];
    for i in 0..12u8 {
        ops.push(alloc(i % 3, Kind::Pep442));
        ops.push(Op::Link {
            from: i % 3,
            to: i % 3,
        });
    }
    ops.push(Op::Freeze);
    ops.push(alloc(4, Kind::Plain));
    ops.push(Op::Unfreeze);
    let r = exact(ops);
    assert!(r.collections >= 4, "{r:?}");
}

#[test]
fn skip_handle_is_an_outside_reference() {
    exact(vec![
        alloc(0, Kind::Plain),
        Op::Alloc {
            slot: 1,
            kind: Kind::Pep442,
            skip: Some(0),
            action: Action::ClearSkip,
        },
        Op::Link { from: 0, to: 1 },
        Op::Drop { slot: 0 },
        Op::Drop { slot: 1 },
        Op::Collect { generation: 2 }, // leaks through the skip handle
        Op::Collect { generation: 2 },
    ]);
}

/// A finalizer drops the last handle to other trash: that object has strong
/// count 0 in the resurrection pass and is freed, not resurrected (a core
/// that used `strong.max(1)` there kept it alive, leaked; fixed in 62cd64a).
#[test]
fn finalizer_dropping_the_last_handle_to_other_trash() {
    exact(vec![
        Op::Alloc {
            slot: 0,
            kind: Kind::Pep442,
            skip: None,
            action: Action::ClearEdges,
        },
        alloc(1, Kind::Plain),
        Op::Link { from: 0, to: 1 },
        Op::Link { from: 1, to: 0 },
        Op::Drop { slot: 0 },
        Op::Drop { slot: 1 },
        Op::Collect { generation: 2 },
    ]);
}

// ---------------------------------------------------------------------------
// The byte encoding shared with the fuzz target
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(Config { cases: cases().min(256), failure_persistence: None, ..Config::default() })]

    /// `Program::to_bytes` is decoded back by `Program::from_bytes` (the fuzz
    /// target's decoder), so seed corpora mean what they say.
    #[test]
    fn byte_encoding_round_trips(p in program()) {
        prop_assert_eq!(Program::from_bytes(&p.to_bytes()), p);
    }
}

/// Seed programs for the fuzz corpus (`fuzz/corpus/programs/`): one per
/// feature, so mutations start from interesting graphs.
fn seed_programs() -> Vec<(&'static str, Program)> {
    let exact = |ops| Program {
        mode: Mode::Exact {
            observe_counts: true,
        },
        ops,
    };
    let fin = |slot, action| Op::Alloc {
        slot,
        kind: Kind::Pep442,
        skip: None,
        action,
    };
    vec![
        (
            "two-cycle-weak-callback",
            exact(vec![
                alloc(0, Kind::Pep442),
                alloc(1, Kind::Plain),
                Op::Link { from: 0, to: 1 },
                Op::Link { from: 1, to: 0 },
                Op::Downgrade {
                    slot: 0,
                    weak: 0,
                    callback: true,
                    collects: false,
                },
                Op::Drop { slot: 0 },
                Op::Drop { slot: 1 },
                Op::Collect { generation: 2 },
                Op::Upgrade { weak: 0, slot: 0 },
            ]),
        ),
        (
            "legacy-cycle-garbage",
            exact(vec![
                alloc(0, Kind::Legacy),
                alloc(1, Kind::Pep442),
                Op::Link { from: 0, to: 1 },
                Op::Link { from: 1, to: 0 },
                Op::Drop { slot: 0 },
                Op::Drop { slot: 1 },
                Op::Collect { generation: 2 },
                Op::GarbageToSlot { index: 0, slot: 2 },
                Op::TakeGarbage,
                Op::Unlink { from: 2, edge: 0 },
                Op::Collect { generation: 2 },
            ]),
        ),
        (
            "resurrect-edge-and-self",
            exact(vec![
                fin(0, Action::ResurrectEdge(0)),
                fin(1, Action::ResurrectSelf),
                Op::Link { from: 0, to: 1 },
                Op::Link { from: 1, to: 0 },
                Op::Drop { slot: 0 },
                Op::Drop { slot: 1 },
                Op::Collect { generation: 0 },
                Op::PopBox { slot: 3 },
                Op::Drop { slot: 3 },
                Op::Collect { generation: 2 },
            ]),
        ),
        (
            "clear-edges-and-skip",
            exact(vec![
                alloc(0, Kind::Plain),
                Op::Alloc {
                    slot: 1,
                    kind: Kind::Pep442,
                    skip: Some(0),
                    action: Action::ClearEdges,
                },
                Op::Link { from: 1, to: 0 },
                Op::Link { from: 0, to: 1 },
                Op::Drop { slot: 0 },
                Op::Drop { slot: 1 },
                Op::Collect { generation: 2 },
            ]),
        ),
        (
            "generations-freeze-saveall",
            Program {
                mode: Mode::Exact {
                    observe_counts: false,
                },
                ops: vec![
                    Op::SetThreshold(2, 1, 1),
                    alloc(0, Kind::Plain),
                    Op::Link { from: 0, to: 0 },
                    alloc(1, Kind::Pep442),
                    Op::Freeze,
                    Op::Link { from: 1, to: 1 },
                    Op::Drop { slot: 0 },
                    Op::SaveAll(true),
                    alloc(2, Kind::Plain),
                    alloc(2, Kind::Plain),
                    Op::Unfreeze,
                    Op::Collect { generation: 1 },
                    Op::TakeGarbage,
                ],
            },
        ),
        (
            "incremental-auto-collection",
            Program {
                mode: Mode::Incremental { t0: 2 },
                ops: vec![
                    fin(0, Action::ResurrectEdge(1)),
                    alloc(1, Kind::Plain),
                    Op::Link { from: 0, to: 1 },
                    Op::Link { from: 1, to: 0 },
                    Op::Downgrade {
                        slot: 1,
                        weak: 2,
                        callback: true,
                        collects: true,
                    },
                    Op::Drop { slot: 0 },
                    Op::Drop { slot: 1 },
                    alloc(2, Kind::Plain),
                    alloc(3, Kind::Plain),
                    Op::Link { from: 2, to: 3 },
                    Op::Link { from: 3, to: 2 },
                    Op::Collect { generation: 1 },
                    Op::Drop { slot: 2 },
                    alloc(4, Kind::Plain),
                    Op::Collect { generation: 0 },
                    Op::Drop { slot: 3 },
                ],
            },
        ),
        (
            "loose-auto-collection",
            Program {
                mode: Mode::Loose { t0: 2 },
                ops: vec![
                    fin(0, Action::ResurrectEdge(1)),
                    alloc(1, Kind::Plain),
                    Op::Link { from: 0, to: 1 },
                    Op::Link { from: 1, to: 0 },
                    Op::Downgrade {
                        slot: 1,
                        weak: 2,
                        callback: true,
                        collects: true,
                    },
                    Op::StashWeak { weak: 2, slot: 0 },
                    Op::Drop { slot: 0 },
                    Op::Drop { slot: 1 },
                    alloc(2, Kind::Legacy),
                    alloc(3, Kind::Plain),
                    alloc(4, Kind::Plain),
                ],
            },
        ),
    ]
}

/// The seed corpus on disk decodes to the seed programs, and they pass.
#[test]
fn fuzz_seed_corpus_is_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/programs");
    for (name, program) in seed_programs() {
        let path = dir.join(name);
        if std::env::var_os("WRITE_FUZZ_SEEDS").is_some() {
            std::fs::write(&path, program.to_bytes()).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (regenerate with WRITE_FUZZ_SEEDS=1 cargo test -p gc-tests --test model fuzz_seed)",
                path.display()
            )
        });
        assert_eq!(Program::from_bytes(&bytes), program, "{name}");
        run(&program).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Found by 500 000 release cases (2026-12-03): an incremental program whose
/// teardown ends with a weak callback that calls `gc::collect()`.
#[test]
fn incremental_teardown_with_a_collecting_weak_callback() {
    let p = Program {
        mode: Mode::Incremental { t0: 1 },
        ops: vec![
            alloc(0, Kind::Plain),
            Op::Alloc {
                slot: 4,
                kind: Kind::Pep442,
                skip: None,
                action: Action::ResurrectSelf,
            },
            Op::Link { from: 0, to: 0 },
            Op::Downgrade {
                slot: 4,
                weak: 1,
                callback: true,
                collects: true,
            },
            Op::StashWeak { weak: 1, slot: 0 },
        ],
    };
    run(&p).unwrap_or_else(|e| panic!("{p:?}\n{e}"));
}

/// Found by 300 000 release cases (2026-12-03), generational (exact) mode.
/// The teardown's full collection finds obj4 (a self-cycle) holding obj2
/// (which owns a weak handle with a callback to obj5) and obj5 (a legacy
/// finalizer that resurrects itself). obj5 goes to the finalizers list; its
/// weak handle is owned by trash (obj2) but points at no trash; obj4's drop
/// in `delete_garbage` kills obj5 by refcount while obj2's value (and so
/// the weak handle) may still exist. CPython 3.11 runs no callback, in
/// either order of obj4's edges (`handle_weakrefs` clears every weakref
/// object in the unreachable set, bpo-38006; checked with a script using
/// `_testcapi.with_tp_del`, 2026-12-03): neither may we.
#[test]
fn legacy_resurrector_with_a_stashed_weak_callback() {
    let p = Program {
        mode: Mode::Exact {
            observe_counts: false,
        },
        ops: vec![
            alloc(0, Kind::Plain),
            alloc(4, Kind::Plain),
            Op::SetThreshold(1, 0, 1),
            Op::Link { from: 4, to: 4 },
            Op::Collect { generation: 1 },
            alloc(5, Kind::Plain),
            alloc(0, Kind::Plain),
            alloc(2, Kind::Plain),
            Op::Link { from: 2, to: 5 },
            Op::Link { from: 2, to: 2 },
            Op::SetThreshold(2, 0, 0),
            Op::Alloc {
                slot: 0,
                kind: Kind::Legacy,
                skip: None,
                action: Action::ResurrectSelf,
            },
            Op::Link { from: 2, to: 0 },
            Op::Downgrade {
                slot: 0,
                weak: 2,
                callback: true,
                collects: false,
            },
            Op::StashWeak { weak: 2, slot: 5 },
        ],
    };
    run(&p).unwrap_or_else(|e| panic!("{p:?}\n{e}"));
}
