use pygc::Trace;
use std::sync::Mutex;

#[derive(Trace)]
struct Shared {
    items: Vec<std::sync::Arc<Mutex<u32>>>,
}

fn main() {}
