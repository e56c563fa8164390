//! Differential test against CPython (`gc_tests::diff`): random object-graph
//! programs run on our heap and under CPython's real `gc`; the traces must
//! match. Skipped, with a notice, when `python3` is not available.
//!
//! Thousands of seeds by hand:
//! `GC_DIFF_SEEDS=0..5000 cargo test -p gc-tests --release --test diff -- --ignored --nocapture`
//! (add `GC_DIFF_MODE=incremental` for the incremental mode).

use gc_tests::diff::{
    generate, python_capabilities, run_python, run_rust, run_seeds, run_seeds_in,
};
use pygc::gc::Mode;

/// The seeds `cargo test` runs: fast enough for CI (a few seconds).
const CI_SEEDS: std::ops::Range<u64> = 0..300;

fn report(outcome: &gc_tests::diff::Outcome) -> String {
    let mut s = format!(
        "{} of {} programs agree with CPython\n",
        outcome.agreed, outcome.programs
    );
    for (seed, line, python, rust) in outcome.disagreements.iter().take(20) {
        s.push_str(&format!(
            "seed {seed}, line {line}:\n  CPython: {python}\n  pygc:    {rust}\n"
        ));
    }
    s
}

#[test]
fn ci_seeds_agree_with_cpython() {
    let Some(legacy) = python_capabilities() else {
        eprintln!("notice: python3 not found; the CPython differential test is skipped");
        return;
    };
    if !legacy {
        eprintln!("notice: python3 has no _testcapi.with_tp_del; legacy finalizers are left out");
    }
    let outcome = run_seeds(CI_SEEDS, legacy, 100);
    assert!(outcome.disagreements.is_empty(), "{}", report(&outcome));
}

/// The incremental mode (PEP 848) agrees with CPython on every program
/// whose collections are all full ones.
#[test]
fn ci_seeds_agree_with_cpython_in_incremental_mode() {
    let Some(legacy) = python_capabilities() else {
        eprintln!("notice: python3 not found; the CPython differential test is skipped");
        return;
    };
    let outcome = run_seeds_in(CI_SEEDS, legacy, 100, Mode::Incremental);
    assert!(outcome.disagreements.is_empty(), "{}", report(&outcome));
}

/// `GC_DIFF_SEEDS=a..b` (default `0..5000`), `GC_DIFF_MODE=incremental`
/// for PEP 848's mode; `GC_DIFF_SHOW=seed` prints one program and both
/// traces (generational mode).
#[test]
#[ignore = "by hand: thousands of programs"]
fn many_seeds_agree_with_cpython() {
    let legacy = python_capabilities().expect("python3 is required");
    if let Ok(seed) = std::env::var("GC_DIFF_SHOW") {
        let seed: u64 = seed.parse().expect("GC_DIFF_SHOW=<seed>");
        let program = generate(seed, legacy);
        let python = run_python(std::slice::from_ref(&program)).remove(0);
        let rust = run_rust(&program);
        for (i, op) in program.ops.iter().enumerate() {
            println!("{op}");
            let p = python.get(i).map_or("", String::as_str);
            let r = rust.get(i).map_or("", String::as_str);
            if p == r {
                println!("    = {p}");
            } else {
                println!("    CPython: {p}\n    pygc:    {r}");
            }
        }
        return;
    }
    let range = std::env::var("GC_DIFF_SEEDS").unwrap_or_else(|_| "0..5000".to_string());
    let (a, b) = range.split_once("..").expect("GC_DIFF_SEEDS=a..b");
    let seeds = a.parse::<u64>().expect("start")..b.parse::<u64>().expect("end");
    let outcome = match std::env::var("GC_DIFF_MODE").as_deref() {
        Ok("incremental") => run_seeds_in(seeds, legacy, 500, Mode::Incremental),
        Ok("generational") | Err(_) => run_seeds(seeds, legacy, 500),
        Ok(other) => panic!("GC_DIFF_MODE={other}: expected generational or incremental"),
    };
    println!("{}", report(&outcome));
    assert!(outcome.disagreements.is_empty(), "{}", report(&outcome));
}
