//! Model-based testing of the heap and the collector.
//!
//! A [`Program`] is a sequence of [`Op`]s over a few strong and weak slots:
//! allocate objects of three finalizer kinds (with a `#[trace(skip)]` field
//! that may hold a handle), link and unlink edges, clone, drop, downgrade
//! (with or without a callback, which may itself call `gc::collect()`),
//! upgrade, stash weak handles inside objects, `try_unwrap`, set what
//! finalizers do (resurrect themselves through their weak handle, resurrect
//! an edge, drop their edges or their skip handle), collect a generation
//! (also while a cell of edges is mutably borrowed), change thresholds,
//! enable/disable, freeze/unfreeze, SAVEALL, take the garbage list.
//!
//! [`run`] executes a program on the real heap ([`sut`]) and, in
//! [`Mode::Exact`], on the reference model ([`oracle`]) in lockstep, and
//! compares after every step: which values were dropped, how often each
//! finalizer and each weak callback ran (and what a callback's own
//! `collect()` returned), what `collect`, `upgrade` and `try_unwrap`
//! returned, every `gc` callback call (start/stop, generation, collected,
//! uncollectable), `gc.garbage`, the resurrection box, `get_count`,
//! `get_stats`, the members of each generation, the permanent generation's
//! size, `get_referents`/`get_referrers` of every object in a slot, and
//! (optionally) every object's strong count. Automatic collection is part of
//! the prediction: the model replays CPython's trigger on every allocation.
//! In [`Mode::Loose`] automatic collection runs with thresholds the model
//! does not follow, and only timing-independent invariants are checked.
//! Every run ends by dropping the program's roots and collecting until
//! nothing changes, then breaking whatever is left (legacy-finalizer cycles
//! in `gc.garbage`, cycles through skip fields) and checking that every
//! value was dropped exactly once.
//!
//! The same runner serves the proptest suite (`tests/tests/model.rs`) and
//! the fuzz target (`fuzz/fuzz_targets/programs.rs`, which decodes bytes
//! with [`Program::from_bytes`]).
//!
//! # Examples
//!
//! ```
//! use gc_tests::model::{run, Action, Kind, Mode, Op, Program};
//! // A PEP 442 object in a self-cycle whose finalizer stores its edge (to
//! // itself) in the resurrection box: the first collection resurrects it.
//! let program = Program {
//!     mode: Mode::Exact { observe_counts: true },
//!     ops: vec![
//!         Op::Alloc { slot: 0, kind: Kind::Pep442, skip: None, action: Action::ResurrectEdge(0) },
//!         Op::Link { from: 0, to: 0 },
//!         Op::Drop { slot: 0 },
//!         Op::Collect { generation: 2 },
//!     ],
//! };
//! let report = run(&program).unwrap();
//! assert_eq!(report.objects, 1);
//! ```

pub mod oracle;
pub mod program;
pub mod sut;

pub use program::{Action, Kind, Mode, Op, Program, MAX_OBJECTS, SLOTS, WEAK_SLOTS};

use oracle::{Loc, Model};
use pygc::gc;
use sut::{any_id, Handle, Sut};

/// What a successful run saw (for coverage statistics).
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Objects allocated.
    pub objects: usize,
    /// Collections run (explicit and automatic).
    pub collections: usize,
    /// Finalizer calls.
    pub finalizer_calls: usize,
    /// Weak callbacks that ran.
    pub callback_calls: usize,
    /// Objects that ended in `gc.garbage` at least once.
    pub garbage_seen: usize,
    /// Whether a finalizer dropped the last handle to other trash (which
    /// must then be freed, not resurrected).
    pub zero_count_trash: bool,
}

/// Put the calling thread's heap back in a known state: break and free
/// every object a previous run left (even a failed one), reset thresholds
/// (700, 10, 10), enable, no debug flags, nothing frozen, empty garbage,
/// then a full collection, which zeroes the counts and `long_lived_*`.
///
/// # Panics
///
/// If tracked objects that are not the model's remain.
pub fn reset_heap() {
    gc::set_mode(gc::Mode::Generational);
    break_everything().expect("reset: could not free a previous run's objects");
    gc::set_threshold(700, 10, 10);
    gc::enable();
    gc::set_debug(gc::DebugFlags::empty());
    drop(gc::take_garbage());
    gc::collect();
    let left = gc::get_objects(None);
    assert!(
        left.is_empty(),
        "reset: foreign tracked objects on this thread: {left:?}"
    );
}

/// Free every object of the model's types on this thread by breaking all
/// their edges, skip handles, stashed weak handles and resurrection boxes,
/// collecting until none is left. Returns the number of rounds.
fn break_everything() -> Result<usize, String> {
    for round in 0..(2 * MAX_OBJECTS + 10) {
        gc::set_debug(gc::DebugFlags::empty());
        gc::unfreeze();
        let mut anys = gc::get_objects(None);
        anys.extend(gc::take_garbage());
        let handles: Vec<Handle> = anys
            .into_iter()
            .filter_map(|a| Handle::from_any(a).ok())
            .collect();
        if handles.is_empty() {
            return Ok(round);
        }
        let mut weaks = Vec::new();
        let mut strong = Vec::new();
        for h in &handles {
            let body = h.body();
            // A legacy finalizer runs at every refcount death: one that
            // resurrects itself would do so for ever.
            body.action.set(Action::Nothing);
            weaks.append(&mut body.weaks.borrow_mut());
            strong.append(&mut body.edges.borrow_mut());
            strong.extend(body.skip.borrow_mut().take());
            strong.append(&mut body.ctx().boxed.borrow_mut());
        }
        drop(weaks);
        drop(strong);
        drop(handles);
        gc::collect();
    }
    Err("objects survive every round of breaking their edges".into())
}

/// Run `program` on the heap (and the model, in exact mode) and compare.
/// The heap is reset first. `Err` describes the first disagreement.
pub fn run(program: &Program) -> Result<Report, String> {
    reset_heap();
    let stats0 = gc::get_stats();
    let mut report = match program.mode {
        Mode::Exact { observe_counts } => run_exact(program, observe_counts)?,
        Mode::Loose { t0 } => run_loose(program, t0)?,
        Mode::Incremental { t0 } => {
            gc::set_mode(gc::Mode::Incremental);
            let result = run_incremental(program, t0);
            gc::set_mode(gc::Mode::Generational);
            result?
        }
    };
    let stats = gc::get_stats();
    report.collections = (0..3)
        .map(|g| stats[g].collections - stats0[g].collections)
        .sum();
    Ok(report)
}

fn run_exact(program: &Program, observe: bool) -> Result<Report, String> {
    let stats0 = gc::get_stats();
    let mut sut = Sut::new(observe);
    let mut model = Model::new([700, 10, 10], true);
    let mut report = Report::default();
    let mut garbage_seen = [false; MAX_OBJECTS];
    let teardown = exact_teardown();
    let mut steps = program
        .ops
        .iter()
        .map(|op| (false, op.clone()))
        .collect::<Vec<_>>();
    steps.extend(teardown.into_iter().map(|op| (true, op)));
    let mut last_round = None;
    for (i, (in_teardown, op)) in steps.iter().enumerate() {
        if *in_teardown && matches!(op, Op::ClearBox) {
            // One round of [ClearBox, TakeGarbage, Collect]: stop once a
            // round changes nothing.
            let alive = model.objs.iter().filter(|o| o.value_alive).count();
            let round = Some((alive, model.boxed.len(), model.garbage.len()));
            if round == last_round {
                break;
            }
            last_round = round;
        }
        let got = sut.step(op);
        let want = model.step(op);
        let at = || {
            if *in_teardown {
                format!("teardown step {op:?}")
            } else {
                format!("step {i} ({op:?})")
            }
        };
        if got != want {
            return Err(format!(
                "{}: the heap gave {got:?}, the model predicts {want:?}\n{}",
                at(),
                dump(&model)
            ));
        }
        compare(&sut, &model, &stats0)
            .map_err(|e| format!("after {}: {e}\n{}", at(), dump(&model)))?;
        for &x in &model.garbage {
            garbage_seen[x] = true;
        }
    }
    report.objects = sut.objects;
    report.zero_count_trash = model.zero_count_trash;
    report.finalizer_calls = model.objs.iter().map(|o| o.finalize_calls as usize).sum();
    report.callback_calls = sut.ctx.callbacks.borrow().iter().map(|&c| c as usize).sum();
    report.garbage_seen = garbage_seen.iter().filter(|&&g| g).count();
    // What is left: legacy-finalizer cycles and cycles through skip fields.
    sut.slots = Default::default();
    sut.weaks = Default::default();
    break_everything()?;
    final_checks(&sut, Some(&model))?;
    Ok(report)
}

/// The end of every exact program, compared with the model like the rest:
/// drop every root, then collect until a round changes nothing.
fn exact_teardown() -> Vec<Op> {
    let mut ops = vec![Op::SaveAll(false), Op::Unfreeze];
    ops.extend((0..SLOTS as u8).map(|slot| Op::Drop { slot }));
    ops.extend((0..WEAK_SLOTS as u8).map(|weak| Op::DropWeak { weak }));
    for _ in 0..(MAX_OBJECTS + 2) {
        ops.extend([Op::ClearBox, Op::TakeGarbage, Op::Collect { generation: 2 }]);
    }
    ops
}

fn run_loose(program: &Program, t0: u8) -> Result<Report, String> {
    let (mut sut, report) = run_with_automatic_collection(program, t0)?;
    loose_teardown(&mut sut, program)?;
    final_checks(&sut, None)?;
    Ok(report)
}

fn run_incremental(program: &Program, t0: u8) -> Result<Report, String> {
    let (mut sut, report) = run_with_automatic_collection(program, t0)?;
    incremental_teardown(&mut sut, program)?;
    // Whatever young collections and increments could not free (legacy
    // cycles, skip handles): the loose teardown's full collections.
    loose_teardown(&mut sut, program)?;
    final_checks(&sut, None)?;
    Ok(report)
}

/// Run `program` with thresholds `(t0, 2, 2)` and automatic collection on,
/// checking the invariants after every step; the report of what ran.
fn run_with_automatic_collection(program: &Program, t0: u8) -> Result<(Sut, Report), String> {
    gc::set_threshold(t0 as usize, 2, 2);
    gc::enable();
    let mut sut = Sut::new(false);
    for (i, op) in program.ops.iter().enumerate() {
        sut.step(op);
        check_invariants(&sut).map_err(|e| format!("after step {i} ({op:?}): {e}"))?;
    }
    let report = Report {
        objects: sut.objects,
        finalizer_calls: sut.ctx.finalized.borrow().iter().map(|&c| c as usize).sum(),
        callback_calls: sut.ctx.callbacks.borrow().iter().map(|&c| c as usize).sum(),
        ..Report::default()
    };
    Ok((sut, report))
}

/// The incremental mode's guarantee, with automatic collection off so that
/// only the collections asked for here run: drop the roots; promote every
/// young object (young collections); then run increments only, one
/// transitive closure each, sweep after sweep. Every complete sweep after the first must free something while
/// garbage is left (or run a finalizer, which may resurrect), and all of it
/// must be freed without a full collection. Programs whose objects may
/// never be freed (legacy finalizers, skip handles) are only checked for
/// the invariants.
fn incremental_teardown(sut: &mut Sut, program: &Program) -> Result<(), String> {
    gc::set_debug(gc::DebugFlags::empty());
    gc::unfreeze();
    gc::disable();
    sut.slots = Default::default();
    sut.weaks = Default::default();
    let full_before = gc::get_stats()[2].collections;
    // A weak callback that calls `gc::collect()` may run in the teardown
    // (its referent dies there while the weak handle, stashed in garbage,
    // lives on): each such call may be one full collection.
    let collecting_callbacks =
        |sut: &Sut| sut.ctx.callback_results.borrow().iter().flatten().count();
    let callbacks_before = collecting_callbacks(sut);
    let alive = |sut: &Sut| sut.ctx.dropped.borrow().iter().filter(|&&d| d == 0).count();
    let finalized = |sut: &Sut| sut.ctx.finalized.borrow().iter().sum::<u32>();
    let may_leak = program.ops.iter().any(|op| {
        matches!(
            op,
            Op::Alloc {
                kind: Kind::Legacy,
                ..
            } | Op::Alloc { skip: Some(_), .. }
        )
    });
    let release = |sut: &mut Sut| -> Result<(), String> {
        sut.step(&Op::ClearBox);
        sut.step(&Op::TakeGarbage);
        check_invariants(sut).map_err(|e| format!("incremental teardown: {e}"))
    };
    release(sut)?;
    let young_rounds = gc::get_threshold().1.div_ceil(2) + 2;
    for _ in 0..young_rounds {
        gc::collect_generation(0);
        release(sut)?;
    }
    // Smallest increments from here on: a budget of one object (a mode
    // round trip drops the budget the young collections built up), so each
    // increment is one transitive closure and a cycle survives unless the
    // closure holds all of it.
    let (_, t1, t2) = gc::get_threshold();
    gc::set_threshold(1, t1, t2);
    gc::set_mode(gc::Mode::Generational);
    gc::set_mode(gc::Mode::Incremental);
    let mut before = (alive(sut), finalized(sut));
    for sweep in 0..(2 * MAX_OBJECTS + 4) {
        if alive(sut) == 0 {
            break;
        }
        // One complete sweep: increments until the pending space empties.
        let mut ended = false;
        for _ in 0..(4 * MAX_OBJECTS + 8) {
            gc::collect_generation(1);
            release(sut)?;
            if gc::get_count().2 == 0 {
                ended = true;
                break;
            }
        }
        if !ended {
            return Err(format!(
                "sweep {sweep} did not end after {} increments",
                2 * MAX_OBJECTS + 4
            ));
        }
        let now = (alive(sut), finalized(sut));
        if sweep > 0 && !may_leak && now.0 > 0 && now.0 >= before.0 && now.1 == before.1 {
            return Err(format!(
                "sweep {sweep} of the old generation freed nothing; {} objects are left",
                now.0
            ));
        }
        before = now;
    }
    let by_callbacks = collecting_callbacks(sut) - callbacks_before;
    if gc::get_stats()[2].collections - full_before > by_callbacks {
        return Err("the incremental teardown ran a full collection".into());
    }
    if !may_leak && alive(sut) != 0 {
        return Err(format!(
            "{} objects not freed by young collections and increments",
            alive(sut)
        ));
    }
    gc::enable();
    Ok(())
}

/// Drop the roots, collect until nothing changes; without legacy
/// finalizers and skip handles, everything must be freed by then. Then
/// break what is left.
fn loose_teardown(sut: &mut Sut, program: &Program) -> Result<(), String> {
    gc::set_debug(gc::DebugFlags::empty());
    gc::unfreeze();
    sut.slots = Default::default();
    sut.weaks = Default::default();
    for _ in 0..(MAX_OBJECTS + 2) {
        sut.step(&Op::ClearBox);
        sut.step(&Op::TakeGarbage);
        gc::collect();
        check_invariants(sut).map_err(|e| format!("teardown: {e}"))?;
        if sut.ctx.dropped.borrow().iter().all(|&d| d == 1) {
            break;
        }
    }
    let may_leak = program.ops.iter().any(|op| {
        matches!(
            op,
            Op::Alloc {
                kind: Kind::Legacy,
                ..
            } | Op::Alloc { skip: Some(_), .. }
        )
    });
    if !may_leak {
        let dropped = sut.ctx.dropped.borrow();
        if let Some(x) = (0..sut.objects).find(|&x| dropped[x] != 1) {
            return Err(format!(
                "object {x} not freed after its program's roots were dropped and the heap \
                 was collected repeatedly (no legacy finalizers, no skip handles)"
            ));
        }
    }
    break_everything()?;
    Ok(())
}

/// Invariants that hold whatever the timing of collections.
fn check_invariants(sut: &Sut) -> Result<(), String> {
    let ctx = &sut.ctx;
    for (x, &d) in ctx.dropped.borrow().iter().enumerate() {
        if d > 1 {
            return Err(format!("object {x}'s value dropped {d} times"));
        }
    }
    for (x, &f) in ctx.finalized.borrow().iter().enumerate() {
        // A legacy finalizer runs at every refcount death (CPython's tp_del).
        if f > 1 && !sut.legacy.get(x).copied().unwrap_or(false) {
            return Err(format!("object {x} finalized {f} times"));
        }
    }
    for (c, &n) in ctx.callbacks.borrow().iter().enumerate() {
        if n > 1 {
            return Err(format!("weak callback {c} ran {n} times"));
        }
    }
    // gc callbacks come in start/stop pairs of one generation; a collection
    // started from a weak callback at refcount death nests inside nothing
    // (it runs between other collections, never inside one).
    let log = ctx.gc_log.borrow();
    for pair in log.chunks(2) {
        match pair {
            [(true, g, 0, 0), (false, h, _, _)] if g == h => {}
            [(true, _, _, _)] => return Err("a collection is still running".into()),
            _ => return Err(format!("gc callback calls out of order: {pair:?}")),
        }
    }
    // Nothing reachable from the program is freed.
    let mut stack: Vec<Handle> = sut.slots.iter().flatten().cloned().collect();
    stack.extend(ctx.boxed.borrow().iter().cloned());
    stack.extend(
        gc::garbage()
            .into_iter()
            .filter_map(|a| Handle::from_any(a).ok()),
    );
    let mut seen = vec![false; sut.objects];
    while let Some(h) = stack.pop() {
        let x = h.id();
        if seen[x] {
            continue;
        }
        seen[x] = true;
        if ctx.dropped.borrow()[x] != 0 {
            return Err(format!(
                "object {x} is reachable from the program but its value was dropped"
            ));
        }
        let body = h.body();
        stack.extend(body.edges.borrow().iter().cloned());
        stack.extend(body.skip.borrow().iter().cloned());
    }
    Ok(())
}

/// After everything was broken and freed: every value dropped exactly once,
/// finalizers and callbacks at most once (within the model's range).
fn final_checks(sut: &Sut, model: Option<&Model>) -> Result<(), String> {
    check_invariants(sut)?;
    let ctx = &sut.ctx;
    let dropped = ctx.dropped.borrow();
    if let Some(x) = (0..sut.objects).find(|&x| dropped[x] != 1) {
        return Err(format!(
            "at the end, object {x}'s value was dropped {} times (expected once)",
            dropped[x]
        ));
    }
    if let Some(model) = model {
        let calls = ctx.callbacks.borrow();
        for (c, cb) in model.callbacks.iter().enumerate() {
            if !(cb.min..=cb.max).contains(&calls[c]) {
                return Err(format!(
                    "at the end, weak callback {c} ran {} times, the model allows {}..={}",
                    calls[c], cb.min, cb.max
                ));
            }
        }
    }
    let ours = gc::get_objects(None)
        .iter()
        .filter(|a| any_id(a).is_some())
        .count();
    if ours != 0 {
        return Err(format!("{ours} objects still tracked after the run"));
    }
    Ok(())
}

fn sorted_ids(handles: impl IntoIterator<Item = pygc::GcAny>) -> Vec<usize> {
    let mut ids: Vec<usize> = handles
        .into_iter()
        .map(|a| any_id(&a).unwrap_or(usize::MAX))
        .collect();
    ids.sort();
    ids
}

/// Compare everything observable with the model.
fn compare(sut: &Sut, model: &Model, stats0: &[gc::GenerationStats; 3]) -> Result<(), String> {
    let ctx = &sut.ctx;
    if sut.objects != model.objs.len() {
        return Err(format!(
            "{} objects allocated, the model has {}",
            sut.objects,
            model.objs.len()
        ));
    }
    let dropped = ctx.dropped.borrow();
    let finalized = ctx.finalized.borrow();
    for (x, o) in model.objs.iter().enumerate() {
        let want = u32::from(!o.value_alive);
        if dropped[x] != want {
            return Err(format!(
                "object {x}'s value dropped {} times, the model says {want}",
                dropped[x]
            ));
        }
        if finalized[x] != o.finalize_calls {
            return Err(format!(
                "object {x} finalized {} times, the model says {}",
                finalized[x], o.finalize_calls
            ));
        }
        if let Some(obs) = sut.observers.get(x) {
            let want = if o.value_alive { o.strong as usize } else { 0 };
            if obs.strong_count() != want {
                return Err(format!(
                    "object {x} has strong count {}, the model says {want}",
                    obs.strong_count()
                ));
            }
        }
    }
    let calls = ctx.callbacks.borrow();
    if calls.len() != model.callbacks.len() {
        return Err(format!(
            "{} callbacks made, the model has {}",
            calls.len(),
            model.callbacks.len()
        ));
    }
    for (c, cb) in model.callbacks.iter().enumerate() {
        if !(cb.min..=cb.max).contains(&calls[c]) {
            return Err(format!(
                "weak callback {c} (on object {}) ran {} times, the model allows {}..={}",
                cb.target, calls[c], cb.min, cb.max
            ));
        }
    }
    let results = ctx.callback_results.borrow();
    for (c, cb) in model.callbacks.iter().enumerate() {
        // A callback the model cannot order (see `Callback::min`) runs
        // during a collection, where its collect() returns 0.
        let either =
            cb.min != cb.max && results[c].unwrap_or(0) == 0 && cb.result.unwrap_or(0) == 0;
        if results[c] != cb.result && !either {
            return Err(format!(
                "weak callback {c}'s gc::collect() returned {:?}, the model says {:?}",
                results[c], cb.result
            ));
        }
    }
    let log = ctx.gc_log.borrow();
    if *log != model.gc_log {
        let from = log.len().min(model.gc_log.len()).saturating_sub(4);
        return Err(format!(
            "gc callback calls (start?, generation, collected, uncollectable) differ: \
             the heap's end with {:?}, the model's with {:?}",
            &log[from..],
            &model.gc_log[from..]
        ));
    }
    let count = gc::get_count();
    if [count.0, count.1, count.2] != model.count {
        return Err(format!(
            "get_count() = {count:?}, the model says {:?}",
            model.count
        ));
    }
    let (t0, t1, t2) = gc::get_threshold();
    if [t0, t1, t2] != model.threshold || gc::is_enabled() != model.enabled {
        return Err("thresholds or enabled flag differ".into());
    }
    let garbage = sorted_ids(gc::garbage());
    let mut want = model.garbage.clone();
    want.sort();
    if garbage != want {
        return Err(format!(
            "gc.garbage holds {garbage:?}, the model says {want:?}"
        ));
    }
    let mut boxed: Vec<usize> = ctx.boxed.borrow().iter().map(Handle::id).collect();
    boxed.sort();
    let mut want = model.boxed.clone();
    want.sort();
    if boxed != want {
        return Err(format!(
            "the resurrection box holds {boxed:?}, the model says {want:?}"
        ));
    }
    let frozen = model.ids_at(Loc::Permanent).len();
    if gc::get_freeze_count() != frozen {
        return Err(format!(
            "get_freeze_count() = {}, the model says {frozen}",
            gc::get_freeze_count()
        ));
    }
    for g in 0..3 {
        let got = sorted_ids(gc::get_objects(Some(g)));
        let want = model.ids_at(Loc::Gen(g));
        if got != want {
            return Err(format!(
                "generation {g} holds {got:?}, the model says {want:?}"
            ));
        }
    }
    // get_referents / get_referrers of every object in a slot.
    for &x in model.slots.iter().flatten() {
        let any = sut
            .slots
            .iter()
            .flatten()
            .find(|h| h.id() == x)
            .unwrap()
            .to_any();
        let got = sorted_ids(gc::get_referents(&any));
        let mut want = model.objs[x].edges.clone();
        want.sort();
        if got != want {
            return Err(format!(
                "get_referents(object {x}) = {got:?}, the model says {want:?}"
            ));
        }
        let mut got = sorted_ids(gc::get_referrers(&any));
        got.dedup();
        let want: Vec<usize> = (0..model.objs.len())
            .filter(|&y| {
                let o = &model.objs[y];
                matches!(o.loc, Loc::Gen(_)) && o.edges.contains(&x)
            })
            .collect();
        if got != want {
            return Err(format!(
                "get_referrers(object {x}) = {got:?}, the model says {want:?}"
            ));
        }
    }
    let stats = gc::get_stats();
    for g in 0..3 {
        let got = (
            stats[g].collections - stats0[g].collections,
            stats[g].collected - stats0[g].collected,
            stats[g].uncollectable - stats0[g].uncollectable,
        );
        let m = model.stats[g];
        let want = (m.collections, m.collected, m.uncollectable);
        if got != want {
            return Err(format!(
                "get_stats()[{g}] moved by (collections, collected, uncollectable) = \
                 {got:?}, the model says {want:?}"
            ));
        }
    }
    Ok(())
}

/// The model's state, for failure messages.
fn dump(model: &Model) -> String {
    let mut s = String::from("model state:\n");
    for (x, o) in model.objs.iter().enumerate() {
        s += &format!(
            "  obj {x}: {:?} {:?} strong={} edges={:?} skip={:?} weaks={:?} alive={} \
             finalized={} weak_cleared={} {:?}\n",
            o.kind,
            o.loc,
            o.strong,
            o.edges,
            o.skip,
            o.weaks,
            o.value_alive,
            o.finalized,
            o.weak_cleared,
            o.action
        );
    }
    for (c, cb) in model.callbacks.iter().enumerate() {
        s += &format!(
            "  callback {c}: {cb:?} owner={:?}\n",
            model.weaks[cb.weak].owner
        );
    }
    s += &format!(
        "  slots={:?} weak slots={:?} box={:?} garbage={:?} count={:?} threshold={:?} \
         enabled={} saveall={}",
        model.slots,
        model.wslots,
        model.boxed,
        model.garbage,
        model.count,
        model.threshold,
        model.enabled,
        model.save_all
    );
    s
}
