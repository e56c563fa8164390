//! trybuild UI tests of `#[derive(Trace)]` and of the handles' auto traits.
//!
//! `ui/fail/` holds one compile error per file, each with its `.stderr`;
//! `ui/pass/` holds programs that must build and run. Paths are relative to
//! this crate's manifest directory. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p gc-tests --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
