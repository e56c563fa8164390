use pygc::Trace;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Trace)]
struct Node {
    name: String,
    next: RefCell<Option<Rc<Node>>>,
}

fn main() {}
