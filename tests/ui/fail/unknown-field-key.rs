use gc_core::Trace;

#[derive(Trace)]
struct Config {
    #[trace(ignore)]
    name: String,
}

fn main() {}
