use pygc::Trace;
use std::rc::Rc;

#[derive(Trace)]
struct Cache {
    #[trace]
    entries: Rc<Vec<u8>>,
}

fn main() {}
