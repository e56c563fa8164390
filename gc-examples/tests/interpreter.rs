//! The interpreter example: the language works, and the same program whose
//! closures capture their frames stays flat on `Gc` and grows on `Rc`.
//! (libtest runs each test on its own thread, hence its own heap and its
//! own live-object counter.)

use gc_examples::interpreter::{
    self, live_objects, measure, GcHeap, Heap, Interp, NativeFn, RcHeap, Value,
};
use pygc::{gc, Trace};

fn eval<H: Heap>(interp: &Interp<H>, src: &str) -> String {
    interp.eval_str(src).unwrap().to_string()
}

fn language<H: Heap>() {
    let i = Interp::<H>::new();
    assert_eq!(eval(&i, "(+ 1 2 3)"), "6");
    assert_eq!(eval(&i, "(- 10 1 2)"), "7");
    assert_eq!(eval(&i, "(- 5)"), "-5");
    assert_eq!(eval(&i, "(list 1 (quote a) (cons 2 ()))"), "(1 a (2))");
    assert_eq!(eval(&i, "(if (< 1 2) (quote yes) (quote no))"), "yes");
    assert_eq!(eval(&i, "(if #f 1)"), "()");
    assert_eq!(eval(&i, "(null? (cdr (list 1)))"), "#t");
    // Closures capture their environment, and set! mutates the captured frame.
    i.eval_str(interpreter::PROGRAM).unwrap();
    i.eval_str("(define c (make-counter)) (define d (make-counter))")
        .unwrap();
    assert_eq!(eval(&i, "(begin (c) (c) (c))"), "3");
    assert_eq!(eval(&i, "(d)"), "1", "each call makes its own frame");
    assert_eq!(eval(&i, "(count-to (make-counter) 3)"), "4");
    assert_eq!(eval(&i, "(loop 10 0)"), "40");
    i.eval_str("(define (adder n) (lambda (x) (+ x n)))")
        .unwrap();
    assert_eq!(eval(&i, "((adder 40) 2)"), "42");
    assert_eq!(eval(&i, "(adder 1)"), "#<lambda>");
    // Tail calls run in constant stack: 100 000 iterations of a loop.
    i.eval_str("(define (spin n) (if (= n 0) (quote done) (spin (- n 1))))")
        .unwrap();
    assert_eq!(eval(&i, "(spin 100000)"), "done");
    // Errors.
    assert_eq!(i.eval_str("(nope)").unwrap_err(), "unbound variable: nope");
    assert_eq!(i.eval_str("(1 2)").unwrap_err(), "not a function: 1");
    assert_eq!(i.eval_str("(car 1)").unwrap_err(), "not a pair: 1");
    assert_eq!(
        i.eval_str("((adder 1))").unwrap_err(),
        "expected 1 arguments, got 0"
    );
    assert_eq!(i.eval_str("(+ 1").unwrap_err(), "unexpected end of input");
    assert_eq!(i.eval_str(")").unwrap_err(), "unexpected )");
}

#[test]
fn the_language_on_gc() {
    language::<GcHeap>();
}

#[test]
fn the_language_on_rc() {
    language::<RcHeap>();
}

#[test]
fn gc_frees_a_closure_cycle_rc_leaks_it() {
    let base = live_objects();
    {
        let i = Interp::<GcHeap>::new();
        i.eval_str(interpreter::PROGRAM).unwrap();
        gc::disable(); // so only the explicit collection below frees it
        let before = live_objects();
        i.eval_str("(make-counter)").unwrap();
        assert_eq!(
            live_objects(),
            before + 2,
            "the frame and `next` survive refcounting"
        );
        assert_eq!(gc::collect(), 2);
        assert_eq!(live_objects(), before);
        gc::enable();
    }
    assert_eq!(
        gc::collect(),
        56,
        "the global frame, the closures it holds and their code"
    );
    assert_eq!(live_objects(), base);
    {
        let i = Interp::<RcHeap>::new();
        i.eval_str(interpreter::PROGRAM).unwrap();
        let before = live_objects();
        i.eval_str("(make-counter)").unwrap();
        assert_eq!(live_objects(), before + 2);
    }
    assert_eq!(
        live_objects(),
        base + 56 + 2,
        "Rc leaks the globals' cycle too"
    );
}

#[test]
fn memory_stays_flat_on_gc_and_grows_on_rc() {
    let threshold0 = gc::get_threshold().0;
    assert_eq!(threshold0, 700);
    for iterations in [300, 1500] {
        let gc = measure::<GcHeap>(5, iterations);
        let rc = measure::<RcHeap>(5, iterations);
        let expected = vec![4 * iterations as i64; 5];
        assert_eq!(gc.results, expected);
        assert_eq!(rc.results, expected);
        assert_eq!(gc.baseline, 56);
        assert_eq!(rc.baseline, gc.baseline);

        // Rc: each make-counter call leaks its frame and its closure.
        for (round, live) in rc.after_round.iter().enumerate() {
            assert_eq!(*live, rc.baseline + 2 * iterations * (round + 1));
        }
        assert_eq!(rc.leaked, rc.baseline + 2 * iterations * 5);
        assert_eq!(
            rc.tracked_after_collect, 0,
            "Rc objects are not on the gc heap"
        );

        // Gc: automatic collection alone keeps the garbage under about one
        // generation-0 threshold, whatever the number of iterations.
        assert!(
            gc.peak < gc.baseline + threshold0 + 100,
            "peak {} with {iterations} iterations",
            gc.peak
        );
        assert!(gc.after_round.iter().all(|&n| n <= gc.peak));
        assert_eq!(gc.tracked_after_collect, gc.baseline);
        assert_eq!(gc.leaked, 0);
    }
}

#[test]
fn run_prints_both_heaps() {
    let mut out = Vec::new();
    let report = interpreter::run(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let n = interpreter::ROUNDS * interpreter::ITERATIONS;
    assert_eq!(report.rc.leaked, 56 + 2 * n);
    assert_eq!(report.gc.leaked, 0);
    assert!(text.contains(&format!(
        "Rc: leaked once the interpreter is dropped: {}\n",
        56 + 2 * n
    )));
    assert!(text.contains("Gc: leaked once the interpreter is dropped: 0\n"));
    assert!(text.contains(
        "Gc: gc::get_objects(None) after the rounds and gc::collect(): 56 (the program's 56)\n"
    ));
}

/// A native that holds a value: `(call-held)` calls the held closure.
#[derive(Trace)]
struct Held(std::cell::RefCell<Value<GcHeap>>);

impl NativeFn<GcHeap> for Held {
    fn name(&self) -> &str {
        "held"
    }
    fn call(&self, _: &[Value<GcHeap>]) -> Result<Value<GcHeap>, String> {
        Ok(self.0.borrow().clone())
    }
}

#[test]
fn natives_are_trait_objects_and_traced() {
    let base = live_objects();
    let i = Interp::<GcHeap>::new();
    assert_eq!(eval(&i, "+"), "#<native +>");
    assert_eq!(eval(&i, "null?"), "#<native null?>");
    // A native holding a closure of the global environment: global env ->
    // native -> closure -> global env, a cycle through a `Gc<dyn NativeFn>`.
    i.eval_str("(define (f) 7)").unwrap();
    let f = i.eval_str("f").unwrap();
    i.define_native("get-f", Held(std::cell::RefCell::new(f)));
    assert_eq!(eval(&i, "((get-f))"), "7");
    drop(i);
    assert_eq!(
        live_objects(),
        base + 2,
        "the global env and f survive refcounting"
    );
    assert_eq!(
        gc::collect(),
        3,
        "the global env, f and the native holding f"
    );
    assert_eq!(live_objects(), base);
}
