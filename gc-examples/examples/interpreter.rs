//! A tiny Lisp on `Gc` and on `Rc`: closures capturing environments.
//! `cargo run -p gc-examples --example interpreter`; see
//! [`gc_examples::interpreter`].

fn main() -> std::io::Result<()> {
    gc_examples::interpreter::run(&mut std::io::stdout().lock()).map(drop)
}
