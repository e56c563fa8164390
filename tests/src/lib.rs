//! Shared helpers for the integration tests.
//!
//! * [`fresh`] puts the calling thread's collector back in its default state
//!   and flushes earlier garbage; tests that check exact counts start with it.
//! * [`log`] / [`take_log`]: a per-thread event log, for asserting the order in
//!   which finalizers, weak callbacks and `gc` callbacks run.
//! * [`DropCounter`] / [`DropProbe`]: count how many values were really dropped
//!   (put a probe in a `#[trace(skip)]` field of a traced type).
//! * [`child_mode`] / [`run_child`]: run one test of the current test binary in
//!   a subprocess, for behaviour that aborts the process.

use std::cell::{Cell, RefCell};
use std::process::{Command, Output};
use std::rc::Rc;

use pygc::gc;

pub mod diff;
pub mod model;

/// The repository README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;

/// Reset the calling thread's collector to its defaults (enabled, thresholds
/// `(700, 10, 10)`, no debug flags, empty `garbage()`, no frozen objects) and
/// run a full collection to flush earlier garbage. Returns what that
/// collection found.
pub fn fresh() -> usize {
    gc::set_debug(gc::DebugFlags::empty());
    gc::set_threshold(700, 10, 10);
    gc::enable();
    gc::unfreeze();
    drop(gc::take_garbage());
    let found = gc::collect();
    drop(gc::take_garbage());
    found
}

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Append an event to the calling thread's log.
pub fn log(event: impl Into<String>) {
    let event = event.into();
    LOG.with(|l| l.borrow_mut().push(event));
}

/// Take (and clear) the calling thread's log.
pub fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Counts the drops of the [`DropProbe`]s it hands out.
#[derive(Clone, Debug, Default)]
pub struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A probe that bumps this counter when dropped.
    pub fn probe(&self) -> DropProbe {
        DropProbe {
            counter: self.0.clone(),
        }
    }

    /// How many probes were dropped so far.
    pub fn get(&self) -> usize {
        self.0.get()
    }
}

/// Bumps its [`DropCounter`] when dropped. Has no `Trace` impl: hold it in a
/// `#[trace(skip)]` field.
#[derive(Debug)]
pub struct DropProbe {
    counter: Rc<Cell<usize>>,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.counter.set(self.counter.get() + 1);
    }
}

/// xorshift64*: a small deterministic generator for tests (the same
/// sequence from the same seed, on every thread and in every run).
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Reports its one handle twice (violates `Trace` rule T1): the collector
/// must detect the impossible count (HAZARDS 1) and free nothing, whichever
/// walk finds the object (list walk, address-order sweep, increment).
pub struct OverReporting<T: pygc::Trace + 'static> {
    /// The handle reported twice.
    pub target: pygc::Gc<T>,
}

// SAFETY: deliberately broken (reports an edge twice) to test that the
// collector detects it; it never reports a handle it does not own.
unsafe impl<T: pygc::Trace + 'static> pygc::Trace for OverReporting<T> {
    fn trace(&self, tracer: &mut pygc::Tracer<'_>) {
        self.target.trace(tracer);
        self.target.trace(tracer);
    }
}

/// The environment variable that selects a child mode in [`run_child`].
pub const CHILD_ENV: &str = "GC_TESTS_CHILD_MODE";

/// Whether this process is a child started by [`run_child`] with `mode`.
pub fn child_mode(mode: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|m| m == mode)
}

/// Run the test named `test_name` of the current test binary in a child
/// process with [`CHILD_ENV`] set to `mode`, and wait for it.
pub fn run_child(test_name: &str, mode: &str) -> Output {
    let exe = std::env::current_exe().expect("current_exe");
    Command::new(exe)
        .args([
            "--exact",
            test_name,
            "--nocapture",
            "--test-threads=1",
            "--include-ignored",
        ])
        .env(CHILD_ENV, mode)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn the test binary")
}
