use pygc::Trace;
use std::rc::Rc;

#[derive(Trace)]
enum Value {
    Int(i64),
    #[trace(skip)]
    Shared(Rc<String>),
}

fn main() {}
