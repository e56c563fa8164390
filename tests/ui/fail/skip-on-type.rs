use pygc::Trace;

#[derive(Trace)]
#[trace(skip)]
struct Opaque {
    id: u32,
}

fn main() {}
