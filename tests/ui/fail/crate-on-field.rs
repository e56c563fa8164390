use pygc::Trace;

#[derive(Trace)]
struct Node {
    #[trace(crate = "pygc")]
    id: u32,
}

fn main() {}
