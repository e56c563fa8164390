use gc_core::Trace;

#[derive(Trace)]
#[trace(skip)]
struct Opaque {
    id: u32,
}

fn main() {}
