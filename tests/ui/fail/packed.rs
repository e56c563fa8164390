use pygc::Trace;

#[derive(Trace)]
#[repr(C, packed)]
struct Header {
    tag: u8,
    len: u32,
}

fn main() {}
