//! Decode the fuzzer's bytes into a `gc_tests::model::Program` and run it on
//! the heap and the reference model in lockstep (`gc_tests::model::run`):
//! any disagreement, failed invariant, panic or sanitizer report is a crash.

#![no_main]

use gc_tests::model::{run, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let program = Program::from_bytes(data);
    if let Err(e) = run(&program) {
        panic!("{program:?}\n{e}");
    }
});
