use pygc::{Gc, Trace};
use std::sync::Mutex;

#[derive(Trace)]
struct Shared {
    value: Mutex<Gc<i32>>,
}

fn main() {}
