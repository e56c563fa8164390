use pygc::{Finalize, Trace};

#[derive(Trace)]
#[trace(finalize, legacy_finalize)]
struct Socket {
    fd: i32,
}

impl Finalize for Socket {
    fn finalize(&self) {}
}

fn main() {}
