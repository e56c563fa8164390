use pygc::Trace;

#[derive(Trace)]
#[trace(crate = pygc)]
struct Node {
    id: u32,
}

fn main() {}
