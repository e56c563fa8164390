use pygc::{Gc, Trace};
use std::cell::RefCell;

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        println!("dropping");
    }
}

fn main() {}
