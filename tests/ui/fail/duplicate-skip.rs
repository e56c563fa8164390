use pygc::Trace;
use std::rc::Rc;

#[derive(Trace)]
struct Cache {
    #[trace(skip)]
    #[trace(skip)]
    entries: Rc<Vec<u8>>,
}

fn main() {}
