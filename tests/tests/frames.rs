//! Stack frames: a recursive function that makes a `Gc` per call needs no
//! more stack per call than the same function making an `Rc` (an
//! interpreter's `eval` recursion depth depends on it). `Gc::new`'s inlined
//! path is small; allocating a pool page, collecting and first use of the
//! heap are out of line (`#[cold]`).
//!
//! Measured by the distance between the addresses of a local at the top and
//! at the bottom of a 1 000-deep recursion, in an optimised build only (a
//! debug build's frames say nothing about the code users ship): CI runs
//! `cargo test -p gc-tests --release --test frames`.
#![cfg(not(debug_assertions))]

use pygc::{Gc, Trace};
use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

const DEPTH: usize = 1_000;

/// An interpreter's environment: a tracked type.
#[derive(Trace)]
struct Env {
    vars: RefCell<Vec<Gc<Env>>>,
    parent: Option<Gc<Env>>,
    depth: usize,
}

/// The same shape on `Rc`.
struct RcEnv {
    vars: RefCell<Vec<Rc<RcEnv>>>,
    parent: Option<Rc<RcEnv>>,
    depth: usize,
}

/// The address of a local of the calling frame.
#[inline(always)]
fn sp() -> usize {
    let local = 0u8;
    black_box(&local) as *const u8 as usize
}

macro_rules! recursive {
    ($name:ident, $handle:ident, $env:ident) => {
        /// Recurse `n` deep, one new environment per call, and return the
        /// stack address at the bottom.
        #[inline(never)]
        fn $name(n: usize, parent: Option<$handle<$env>>) -> usize {
            let env = $handle::new($env {
                vars: RefCell::new(Vec::new()),
                parent,
                depth: n,
            });
            if n == 0 {
                return sp();
            }
            let bottom = $name(n - 1, Some(env.clone()));
            black_box(&env.vars);
            black_box(env.depth);
            black_box(env.parent.is_some());
            bottom
        }
    };
}

recursive!(gc_eval, Gc, Env);
recursive!(rc_eval, Rc, RcEnv);

/// An interpreter's values: three types made in three arms of a match.
#[derive(Trace)]
enum Value {
    Int(i64),
    List(RefCell<Vec<Gc<Value>>>),
    Closure { env: Gc<Env>, arity: usize },
}

enum RcValue {
    Int(i64),
    List(RefCell<Vec<Rc<RcValue>>>),
    Closure { env: Rc<RcEnv>, arity: usize },
}

macro_rules! eval {
    ($name:ident, $handle:ident, $env:ident, $value:ident) => {
        /// An `eval`-like recursion: each call makes a value of the kind
        /// `n % 3` picks (and an environment for closures), recurses, then
        /// reads what it made.
        #[inline(never)]
        fn $name(n: usize, env: &$handle<$env>) -> usize {
            if n == 0 {
                return sp();
            }
            let value = match black_box(n % 3) {
                0 => $handle::new($value::Int(n as i64)),
                1 => $handle::new($value::List(RefCell::new(vec![$handle::new($value::Int(
                    1,
                ))]))),
                _ => {
                    let inner = $handle::new($env {
                        vars: RefCell::new(Vec::new()),
                        parent: Some(env.clone()),
                        depth: n,
                    });
                    $handle::new($value::Closure {
                        env: inner,
                        arity: n,
                    })
                }
            };
            let bottom = $name(n - 1, env);
            match &*value {
                $value::Int(i) => black_box(*i as usize),
                $value::List(items) => black_box(items.borrow().len()),
                $value::Closure { env, arity } => black_box(env.depth + arity),
            };
            bottom
        }
    };
}

eval!(gc_interp, Gc, Env, Value);
eval!(rc_interp, Rc, RcEnv, RcValue);

/// An untracked value (a leaf): the same, with `u64` payloads.
#[inline(never)]
fn gc_leaf(n: usize) -> usize {
    let value = Gc::new([n as u64; 4]);
    if n == 0 {
        return sp();
    }
    let bottom = gc_leaf(n - 1);
    black_box(&*value);
    bottom
}

#[inline(never)]
fn rc_leaf(n: usize) -> usize {
    let value = Rc::new([n as u64; 4]);
    if n == 0 {
        return sp();
    }
    let bottom = rc_leaf(n - 1);
    black_box(&*value);
    bottom
}

/// Bytes of stack per call of `f(DEPTH)`.
fn frame(f: impl Fn(usize) -> usize) -> usize {
    let top = sp();
    let bottom = f(DEPTH);
    (top - bottom) / DEPTH
}

#[test]
fn gc_new_costs_the_caller_no_more_stack_than_rc_new() {
    // Warm up: the heap exists and the pool has pages, as in a running
    // program (the first call's slow paths are out of line anyway).
    gc_eval(10, None);
    let gc = frame(|n| gc_eval(n, None));
    let rc = frame(|n| rc_eval(n, None));
    let gc_leaf = frame(gc_leaf);
    let rc_leaf = frame(rc_leaf);
    let root = Gc::new(Env {
        vars: RefCell::new(Vec::new()),
        parent: None,
        depth: 0,
    });
    let gc_interp = frame(|n| gc_interp(n, &root));
    let rc_root = Rc::new(RcEnv {
        vars: RefCell::new(Vec::new()),
        parent: None,
        depth: 0,
    });
    let rc_interp = frame(|n| rc_interp(n, &rc_root));
    eprintln!(
        "bytes per frame: environments Gc {gc}, Rc {rc}; leaf Gc {gc_leaf}, Rc {rc_leaf}; \
         eval Gc {gc_interp}, Rc {rc_interp}"
    );
    assert!(
        gc <= rc,
        "environments: Gc::new's caller frame is {gc} bytes, Rc::new's {rc}"
    );
    assert!(
        gc_leaf <= rc_leaf,
        "leaf: Gc::new's caller frame is {gc_leaf} bytes, Rc::new's {rc_leaf}"
    );
    assert!(
        gc_interp <= rc_interp,
        "eval: Gc::new's caller frame is {gc_interp} bytes, Rc::new's {rc_interp}"
    );
}
