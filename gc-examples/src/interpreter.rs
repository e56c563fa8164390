//! A tiny Lisp whose closures capture their environments — the shape that
//! leaks on `Rc` and stays flat on [`pygc`].
//!
//! The interpreter is written once, generic over a [`Heap`]: [`GcHeap`]
//! allocates its environments, closures and pairs with [`pygc::Gc`],
//! [`RcHeap`] with [`std::rc::Rc`]. A closure holds its defining
//! environment; a function that defines a local function stores that
//! closure in its own frame, so frame and closure form a cycle:
//!
//! ```text
//! (define (make-counter)
//!   (define n 0)
//!   (define (next) (set! n (+ n 1)) n)   ; frame -> next -> frame
//!   next)
//! ```
//!
//! Every call of `make-counter` leaves such a cycle behind when its counter
//! is dropped. On `Rc` each one leaks (two objects per call, forever); on
//! `Gc` the cycle collector frees them, with automatic collection on and no
//! help from the program. [`run`] runs the same program on both heaps and
//! prints the number of live interpreter objects ([`live_objects`], counted
//! by a drop counter in every environment, closure and pair) after each
//! round, and their high-water mark ([`peak_objects`]).
//!
//! Native functions are trait objects, `Gc<dyn NativeFn>` on the `Gc`
//! heap (made with [`pygc::coerce!`]) and `Rc<dyn NativeFn>` on the other:
//! the [`Builtin`]s, and whatever a host program adds with
//! [`Interp::define_native`]. A native may hold values, and is traced like
//! any other object: a cycle through a native is collected too.
//!
//! ```sh
//! cargo run -p gc-examples --example interpreter
//! ```
//!
//! # Examples
//!
//! ```
//! use gc_examples::interpreter::{GcHeap, Interp};
//!
//! let interp = Interp::<GcHeap>::new();
//! interp.eval_str("(define (adder n) (lambda (x) (+ x n)))").unwrap();
//! assert_eq!(interp.eval_str("((adder 40) 2)").unwrap().to_string(), "42");
//! ```

use pygc::{gc, Gc, Trace};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Write};
use std::ops::Deref;
use std::rc::Rc;
use std::time::{Duration, Instant};

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

/// Environments, closures and pairs alive on this thread, on either heap.
///
/// # Examples
///
/// ```
/// use gc_examples::interpreter::{live_objects, GcHeap, Interp};
/// let before = live_objects();
/// let interp = Interp::<GcHeap>::new();
/// assert_eq!(live_objects(), before + 1); // the global environment
/// ```
pub fn live_objects() -> usize {
    LIVE.with(Cell::get)
}

/// The highest [`live_objects`] since the last [`reset_peak`].
///
/// # Examples
///
/// ```
/// use gc_examples::interpreter::{live_objects, peak_objects, reset_peak};
/// reset_peak();
/// assert_eq!(peak_objects(), live_objects());
/// ```
pub fn peak_objects() -> usize {
    PEAK.with(Cell::get)
}

/// Start a new high-water mark at the current [`live_objects`].
///
/// # Examples
///
/// See [`peak_objects`].
pub fn reset_peak() {
    PEAK.with(|p| p.set(live_objects()));
}

/// A drop counter, one in every environment, closure and pair.
struct Live;

impl Live {
    fn new() -> Live {
        let n = LIVE.with(|l| {
            l.set(l.get() + 1);
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(n)));
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

/// Where the interpreter's objects live.
pub trait Heap: Sized + 'static {
    /// A shared handle to an object.
    type Ref<T: Trace + ?Sized + 'static>: Clone + Deref<Target = T> + Trace;
    /// Allocate an object.
    fn alloc<T: Trace + 'static>(value: T) -> Self::Ref<T>;
    /// Allocate a native function, as a trait object.
    fn native<F: NativeFn<Self> + 'static>(f: F) -> Self::Ref<dyn NativeFn<Self>>;
}

/// A native function: any traced type that can be called.
pub trait NativeFn<H: Heap>: Trace {
    /// Its name, for printing.
    fn name(&self) -> &str;
    /// Call it.
    ///
    /// # Errors
    ///
    /// Whatever the function reports: wrong arguments, a type error.
    fn call(&self, args: &[Value<H>]) -> Result<Value<H>, String>;
}

/// Objects are [`pygc::Gc`]s: cycles are collected.
#[derive(Clone, Copy, Debug)]
pub struct GcHeap;

impl Heap for GcHeap {
    type Ref<T: Trace + ?Sized + 'static> = Gc<T>;
    fn alloc<T: Trace + 'static>(value: T) -> Gc<T> {
        Gc::new(value)
    }
    fn native<F: NativeFn<Self> + 'static>(f: F) -> Gc<dyn NativeFn<Self>> {
        pygc::coerce!(Gc::new(f))
    }
}

/// Objects are [`Rc`]s: cycles leak.
#[derive(Clone, Copy, Debug)]
pub struct RcHeap;

/// An [`Rc`] in [`RcHeap`]'s objects. Its `Trace` reports nothing (the
/// field is skipped): the `Rc` heap is never collected.
#[derive(Trace)]
pub struct RcRef<T: ?Sized + 'static>(#[trace(skip)] Rc<T>);

impl<T: ?Sized> Clone for RcRef<T> {
    fn clone(&self) -> Self {
        RcRef(self.0.clone())
    }
}

impl<T: ?Sized> Deref for RcRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl Heap for RcHeap {
    type Ref<T: Trace + ?Sized + 'static> = RcRef<T>;
    fn alloc<T: Trace + 'static>(value: T) -> RcRef<T> {
        RcRef(Rc::new(value))
    }
    fn native<F: NativeFn<Self> + 'static>(f: F) -> RcRef<dyn NativeFn<Self>> {
        let f: Rc<dyn NativeFn<Self>> = Rc::new(f);
        RcRef(f)
    }
}

/// A symbol (its name is shared, cloning it is cheap).
#[derive(Clone, PartialEq, Eq, Trace)]
pub struct Symbol(#[trace(skip)] Rc<str>);

/// The built-in native functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Trace)]
pub enum Builtin {
    /// `(+ a b ...)`
    Add,
    /// `(- a b ...)`, `(- a)`
    Sub,
    /// `(* a b ...)`
    Mul,
    /// `(< a b)`
    Lt,
    /// `(= a b)`
    NumEq,
    /// `(cons a b)`
    Cons,
    /// `(car p)`
    Car,
    /// `(cdr p)`
    Cdr,
    /// `(list a ...)`
    List,
    /// `(null? v)`
    IsNull,
}

const BUILTINS: [(&str, Builtin); 10] = [
    ("+", Builtin::Add),
    ("-", Builtin::Sub),
    ("*", Builtin::Mul),
    ("<", Builtin::Lt),
    ("=", Builtin::NumEq),
    ("cons", Builtin::Cons),
    ("car", Builtin::Car),
    ("cdr", Builtin::Cdr),
    ("list", Builtin::List),
    ("null?", Builtin::IsNull),
];

/// A value: code and data alike.
#[derive(Trace)]
#[trace(bound = "")]
pub enum Value<H: Heap> {
    /// `()`, also false.
    Nil,
    /// `#t` / `#f`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A symbol.
    Sym(Symbol),
    /// A cons cell.
    Pair(H::Ref<Pair<H>>),
    /// A closure.
    Lambda(H::Ref<Lambda<H>>),
    /// A native function.
    Native(H::Ref<dyn NativeFn<H>>),
}

impl<H: Heap> Clone for Value<H> {
    fn clone(&self) -> Self {
        match self {
            Value::Nil => Value::Nil,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Sym(s) => Value::Sym(s.clone()),
            Value::Pair(p) => Value::Pair(p.clone()),
            Value::Lambda(l) => Value::Lambda(l.clone()),
            Value::Native(n) => Value::Native(n.clone()),
        }
    }
}

/// A cons cell.
#[derive(Trace)]
#[trace(bound = "")]
pub struct Pair<H: Heap> {
    car: Value<H>,
    cdr: Value<H>,
    #[trace(skip)]
    _live: Live,
}

/// A closure: parameters, body and the environment it was made in.
#[derive(Trace)]
#[trace(bound = "")]
pub struct Lambda<H: Heap> {
    params: Vec<Symbol>,
    body: Vec<Value<H>>,
    env: H::Ref<Env<H>>,
    #[trace(skip)]
    _live: Live,
}

/// An environment frame: its variables and the frame it extends.
#[derive(Trace)]
#[trace(bound = "")]
pub struct Env<H: Heap> {
    vars: RefCell<Vec<(Symbol, Value<H>)>>,
    parent: Option<H::Ref<Env<H>>>,
    #[trace(skip)]
    _live: Live,
}

impl<H: Heap> Env<H> {
    fn new(vars: Vec<(Symbol, Value<H>)>, parent: Option<H::Ref<Env<H>>>) -> H::Ref<Env<H>> {
        H::alloc(Env {
            vars: RefCell::new(vars),
            parent,
            _live: Live::new(),
        })
    }

    fn find<R>(&self, name: &Symbol, f: impl FnOnce(&mut Value<H>) -> R) -> Result<R, String> {
        let mut f = Some(f);
        let mut env = self;
        loop {
            if let Some((_, v)) = env.vars.borrow_mut().iter_mut().find(|(n, _)| n == name) {
                return Ok((f.take().expect("called once"))(v));
            }
            match &env.parent {
                Some(p) => env = p,
                None => return Err(format!("unbound variable: {}", name.0)),
            }
        }
    }

    fn define(&self, name: Symbol, value: Value<H>) {
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => vars.push((name, value)),
        }
    }
}

/// An interpreter: a global environment with the builtins.
pub struct Interp<H: Heap> {
    global: H::Ref<Env<H>>,
}

impl<H: Heap> Default for Interp<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Heap> Interp<H> {
    /// A fresh interpreter.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::interpreter::{Interp, RcHeap};
    /// let interp = Interp::<RcHeap>::new();
    /// assert_eq!(interp.eval_str("(car (cdr (list 1 2 3)))").unwrap().to_string(), "2");
    /// ```
    pub fn new() -> Self {
        let vars = BUILTINS
            .iter()
            .map(|(name, b)| (Symbol(Rc::from(*name)), Value::<H>::Native(H::native(*b))))
            .collect();
        Interp {
            global: Env::new(vars, None),
        }
    }

    /// Bind `name` to a native function in the global environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::interpreter::{GcHeap, Interp, NativeFn, Value};
    /// use pygc::Trace;
    ///
    /// /// Returns the value it holds, whatever the arguments.
    /// #[derive(Trace)]
    /// struct Constant(Value<GcHeap>);
    ///
    /// impl NativeFn<GcHeap> for Constant {
    ///     fn name(&self) -> &str { "constant" }
    ///     fn call(&self, _: &[Value<GcHeap>]) -> Result<Value<GcHeap>, String> {
    ///         Ok(self.0.clone())
    ///     }
    /// }
    ///
    /// let interp = Interp::<GcHeap>::new();
    /// let answer = interp.eval_str("(quote (42))").unwrap();
    /// interp.define_native("answer", Constant(answer));
    /// assert_eq!(interp.eval_str("(answer 1 2)").unwrap().to_string(), "(42)");
    /// assert_eq!(interp.eval_str("answer").unwrap().to_string(), "#<native constant>");
    /// ```
    pub fn define_native(&self, name: &str, f: impl NativeFn<H> + 'static) {
        self.global
            .define(Symbol(Rc::from(name)), Value::Native(H::native(f)));
    }

    /// Parse and evaluate every expression of `src` in the global
    /// environment; returns the last value.
    ///
    /// # Errors
    ///
    /// A syntax error, an unbound variable, a type error.
    ///
    /// # Examples
    ///
    /// ```
    /// use gc_examples::interpreter::{GcHeap, Interp};
    /// let interp = Interp::<GcHeap>::new();
    /// assert_eq!(interp.eval_str("(define x 2) (* x 21)").unwrap().to_string(), "42");
    /// assert!(interp.eval_str("(y)").unwrap_err().contains("unbound variable: y"));
    /// ```
    pub fn eval_str(&self, src: &str) -> Result<Value<H>, String> {
        let mut result = Value::Nil;
        for expr in parse(src)? {
            result = eval(&expr, &self.global)?;
        }
        Ok(result)
    }
}

fn cons<H: Heap>(car: Value<H>, cdr: Value<H>) -> Value<H> {
    Value::Pair(H::alloc(Pair {
        car,
        cdr,
        _live: Live::new(),
    }))
}

fn list<H: Heap>(items: Vec<Value<H>>) -> Value<H> {
    items
        .into_iter()
        .rev()
        .fold(Value::Nil, |acc, v| cons(v, acc))
}

/// The items of a proper list.
fn items<H: Heap>(v: &Value<H>) -> Result<Vec<Value<H>>, String> {
    let mut out = Vec::new();
    let mut v = v.clone();
    loop {
        v = match v {
            Value::Nil => return Ok(out),
            Value::Pair(p) => {
                out.push(p.car.clone());
                p.cdr.clone()
            }
            other => return Err(format!("not a list: {other}")),
        }
    }
}

fn parse<H: Heap>(src: &str) -> Result<Vec<Value<H>>, String> {
    let spaced = src.replace('(', " ( ").replace(')', " ) ");
    let mut tokens = spaced.split_whitespace().peekable();
    let mut out = Vec::new();
    fn read<'a, H: Heap>(
        tokens: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
    ) -> Result<Value<H>, String> {
        match tokens.next().ok_or("unexpected end of input")? {
            "(" => {
                let mut items = Vec::new();
                while tokens.peek() != Some(&")") {
                    items.push(read(tokens)?);
                }
                tokens.next();
                Ok(list(items))
            }
            ")" => Err("unexpected )".to_owned()),
            "#t" => Ok(Value::Bool(true)),
            "#f" => Ok(Value::Bool(false)),
            atom => Ok(atom
                .parse()
                .map(Value::Int)
                .unwrap_or_else(|_| Value::Sym(Symbol(Rc::from(atom))))),
        }
    }
    while tokens.peek().is_some() {
        out.push(read(&mut tokens)?);
    }
    Ok(out)
}

fn truthy<H: Heap>(v: &Value<H>) -> bool {
    !matches!(v, Value::Nil | Value::Bool(false))
}

fn int<H: Heap>(v: &Value<H>) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!("not an integer: {other}")),
    }
}

fn sym<H: Heap>(v: &Value<H>) -> Result<Symbol, String> {
    match v {
        Value::Sym(s) => Ok(s.clone()),
        other => Err(format!("not a symbol: {other}")),
    }
}

fn lambda<H: Heap>(
    params: &Value<H>,
    body: &[Value<H>],
    env: &H::Ref<Env<H>>,
) -> Result<Value<H>, String> {
    let params = items(params)?.iter().map(sym).collect::<Result<_, _>>()?;
    Ok(Value::Lambda(H::alloc(Lambda {
        params,
        body: body.to_vec(),
        env: env.clone(),
        _live: Live::new(),
    })))
}

impl<H: Heap> NativeFn<H> for Builtin {
    fn name(&self) -> &str {
        BUILTINS
            .iter()
            .find(|(_, b)| b == self)
            .map_or("?", |(name, _)| name)
    }

    fn call(&self, args: &[Value<H>]) -> Result<Value<H>, String> {
        let this = *self;
        let ints = || args.iter().map(int).collect::<Result<Vec<_>, _>>();
        let arg = |i: usize| {
            args.get(i)
                .cloned()
                .ok_or(format!("{this:?}: missing argument"))
        };
        Ok(match this {
            Builtin::Add => Value::Int(ints()?.iter().sum()),
            Builtin::Mul => Value::Int(ints()?.iter().product()),
            Builtin::Sub => match ints()?.as_slice() {
                [a] => Value::Int(-a),
                [a, rest @ ..] => Value::Int(a - rest.iter().sum::<i64>()),
                [] => return Err("-: missing argument".to_owned()),
            },
            Builtin::Lt => Value::Bool(int(&arg(0)?)? < int(&arg(1)?)?),
            Builtin::NumEq => Value::Bool(int(&arg(0)?)? == int(&arg(1)?)?),
            Builtin::Cons => cons(arg(0)?, arg(1)?),
            Builtin::Car | Builtin::Cdr => match arg(0)? {
                Value::Pair(p) if this == Builtin::Car => p.car.clone(),
                Value::Pair(p) => p.cdr.clone(),
                other => return Err(format!("not a pair: {other}")),
            },
            Builtin::List => list(args.to_vec()),
            Builtin::IsNull => Value::Bool(matches!(arg(0)?, Value::Nil)),
        })
    }
}

/// Evaluate `expr` in `env`. Calls in tail position (the last expression of
/// a body, the branches of `if`) loop instead of recursing, so a recursive
/// loop runs in constant stack.
fn eval<H: Heap>(expr: &Value<H>, env: &H::Ref<Env<H>>) -> Result<Value<H>, String> {
    let mut expr = expr.clone();
    let mut env = env.clone();
    loop {
        let form = match &expr {
            Value::Sym(s) => return env.find(s, |v| v.clone()),
            Value::Pair(_) => items(&expr)?,
            other => return Ok(other.clone()),
        };
        let head = match &form[0] {
            Value::Sym(s) => &*s.0,
            _ => "",
        };
        let (next, next_env) = match (head, &form[1..]) {
            ("quote", [v]) => return Ok(v.clone()),
            ("if", [c, then, rest @ ..]) => {
                let branch = if truthy(&eval(c, &env)?) {
                    then
                } else {
                    rest.first().unwrap_or(&Value::Nil)
                };
                (branch.clone(), env)
            }
            ("define", [Value::Pair(sig), body @ ..]) => {
                let f = lambda(&sig.cdr, body, &env)?;
                env.define(sym(&sig.car)?, f);
                return Ok(Value::Nil);
            }
            ("define", [name, value]) => {
                let value = eval(value, &env)?;
                env.define(sym(name)?, value);
                return Ok(Value::Nil);
            }
            ("set!", [name, value]) => {
                let value = eval(value, &env)?;
                return env
                    .find(&sym(name)?, |slot| *slot = value)
                    .map(|()| Value::Nil);
            }
            ("lambda", [params, body @ ..]) => return lambda(params, body, &env),
            ("begin", [init @ .., last]) => {
                for e in init {
                    eval(e, &env)?;
                }
                (last.clone(), env)
            }
            _ => {
                let f = eval(&form[0], &env)?;
                let args = form[1..]
                    .iter()
                    .map(|a| eval(a, &env))
                    .collect::<Result<Vec<_>, _>>()?;
                match f {
                    Value::Native(native) => return native.call(&args),
                    Value::Lambda(l) => {
                        if l.params.len() != args.len() {
                            return Err(format!(
                                "expected {} arguments, got {}",
                                l.params.len(),
                                args.len()
                            ));
                        }
                        let frame = Env::new(
                            l.params.iter().cloned().zip(args).collect(),
                            Some(l.env.clone()),
                        );
                        let Some((last, init)) = l.body.split_last() else {
                            return Ok(Value::Nil);
                        };
                        for e in init {
                            eval(e, &frame)?;
                        }
                        (last.clone(), frame)
                    }
                    other => return Err(format!("not a function: {other}")),
                }
            }
        };
        expr = next;
        env = next_env;
    }
}

impl<H: Heap> fmt::Display for Value<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("()"),
            Value::Bool(b) => f.write_str(if *b { "#t" } else { "#f" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Sym(s) => f.write_str(&s.0),
            Value::Pair(_) => {
                let items = items(self).map_err(|_| fmt::Error)?;
                let shown: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "({})", shown.join(" "))
            }
            Value::Lambda(_) => f.write_str("#<lambda>"),
            Value::Native(n) => write!(f, "#<native {}>", n.name()),
        }
    }
}

impl<H: Heap> fmt::Debug for Value<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The program [`run`] runs: every iteration of `loop` makes a counter, a
/// frame/closure cycle, and drops it.
pub const PROGRAM: &str = "
(define (make-counter)
  (define n 0)
  (define (next) (set! n (+ n 1)) n)
  next)
(define (count-to c k) (if (= k 0) (c) (begin (c) (count-to c (- k 1)))))
(define (loop i total)
  (if (= i 0) total (loop (- i 1) (+ total (count-to (make-counter) 3)))))
";

/// What [`measure`] saw on one heap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapReport {
    /// The interpreter's objects once [`PROGRAM`] is loaded.
    pub baseline: usize,
    /// Live objects after each round of `(loop iterations 0)`.
    pub after_round: Vec<usize>,
    /// The highest live count during the rounds.
    pub peak: usize,
    /// `gc::get_objects(None).len()` after the rounds and a `gc::collect()`:
    /// the `Gc` heap's own count of what is live (0 on [`RcHeap`]).
    pub tracked_after_collect: usize,
    /// Live objects left once the interpreter is dropped and
    /// `gc::collect()` has run: what leaked.
    pub leaked: usize,
    /// Each round's result (`4 * iterations`).
    pub results: Vec<i64>,
    /// Time for all rounds.
    pub elapsed: Duration,
}

/// Load [`PROGRAM`] on heap `H`, run `(loop iterations 0)` `rounds` times
/// (automatic collection as configured: on by default) and count live
/// interpreter objects. Call it on a thread whose heap holds nothing else
/// for `tracked_after_collect` to be the interpreter's alone.
///
/// # Examples
///
/// ```
/// use gc_examples::interpreter::{measure, GcHeap, RcHeap};
/// let gc = measure::<GcHeap>(2, 100);
/// assert_eq!(gc.results, [400, 400]);
/// assert_eq!(gc.leaked, 0);
/// let rc = measure::<RcHeap>(2, 100);
/// assert_eq!(rc.leaked, rc.baseline + 2 * 200); // two objects per counter
/// ```
pub fn measure<H: Heap>(rounds: usize, iterations: usize) -> HeapReport {
    let start_live = live_objects();
    let interp = Interp::<H>::new();
    interp.eval_str(PROGRAM).expect("the program is valid");
    let baseline = live_objects() - start_live;
    reset_peak();
    let start = Instant::now();
    let mut after_round = Vec::new();
    let mut results = Vec::new();
    for _ in 0..rounds {
        let v = interp
            .eval_str(&format!("(loop {iterations} 0)"))
            .expect("the program runs");
        results.push(int(&v).expect("loop returns an integer"));
        after_round.push(live_objects() - start_live);
    }
    let elapsed = start.elapsed();
    let peak = peak_objects() - start_live;
    gc::collect();
    let tracked_after_collect = gc::get_objects(None).len();
    drop(interp);
    gc::collect();
    HeapReport {
        baseline,
        after_round,
        peak,
        tracked_after_collect,
        leaked: live_objects() - start_live,
        results,
        elapsed,
    }
}

/// What [`run`] measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// On [`GcHeap`], automatic collection on.
    pub gc: HeapReport,
    /// On [`RcHeap`].
    pub rc: HeapReport,
}

/// Iterations of `loop` per round in [`run`].
pub const ITERATIONS: usize = 1000;
/// Rounds per heap in [`run`].
pub const ROUNDS: usize = 10;

/// Run [`PROGRAM`]'s loop [`ROUNDS`] times on each heap and print the live
/// object counts.
///
/// # Errors
///
/// Any error of the writer.
///
/// # Examples
///
/// ```no_run
/// let report = gc_examples::interpreter::run(&mut std::io::stdout()).unwrap();
/// assert_eq!(report.gc.leaked, 0);
/// ```
pub fn run(out: &mut dyn Write) -> io::Result<Report> {
    gc::collect();
    let gc = measure::<GcHeap>(ROUNDS, ITERATIONS);
    let rc = measure::<RcHeap>(ROUNDS, ITERATIONS);
    writeln!(
        out,
        "== interpreter: closures capturing environments, {ROUNDS} rounds of (loop {ITERATIONS} 0) =="
    )?;
    writeln!(out, "{}", PROGRAM.trim())?;
    for (name, r) in [("Gc", &gc), ("Rc", &rc)] {
        writeln!(out, "{name}: program loaded: {} live objects", r.baseline)?;
        writeln!(out, "{name}: live after each round: {:?}", r.after_round)?;
        writeln!(
            out,
            "{name}: peak {} live objects; rounds took {:.1} ms",
            r.peak,
            r.elapsed.as_secs_f64() * 1e3
        )?;
        writeln!(
            out,
            "{name}: leaked once the interpreter is dropped: {}",
            r.leaked
        )?;
    }
    writeln!(
        out,
        "Gc: gc::get_objects(None) after the rounds and gc::collect(): {} (the program's {})",
        gc.tracked_after_collect, gc.baseline
    )?;
    writeln!(out)?;
    Ok(Report { gc, rc })
}
