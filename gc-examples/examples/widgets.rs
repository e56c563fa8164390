//! A widget tree with `Weak` parents, bubbling events and handlers that
//! hold widgets. `cargo run -p gc-examples --example widgets`; see
//! [`gc_examples::widgets`].

fn main() -> std::io::Result<()> {
    gc_examples::widgets::run(&mut std::io::stdout().lock()).map(drop)
}
