use pygc::{Finalize, Gc, Trace};
use std::cell::RefCell;

// `Finalize` is implemented, but without `#[trace(finalize)]` the collector
// would never call it: a compile error at the type's name.
#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
}

impl Finalize for Node {
    fn finalize(&self) {
        println!("finalizing");
    }
}

fn main() {}
