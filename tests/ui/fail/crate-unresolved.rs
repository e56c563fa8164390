use pygc::Trace;

// The derive names pygc by this path, not by the dependency's name.
#[derive(Trace)]
#[trace(crate = "not_pygc")]
struct Node {
    id: u32,
}

fn main() {}
