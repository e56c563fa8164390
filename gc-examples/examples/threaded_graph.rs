//! A graph shared by threads on the sync heap, cycles across threads.
//! `cargo run -p gc-examples --example threaded_graph`; see
//! [`gc_examples::threaded_graph`].

fn main() -> std::io::Result<()> {
    gc_examples::threaded_graph::run(&mut std::io::stdout().lock()).map(drop)
}
