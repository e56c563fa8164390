use gc_core::Trace;

#[derive(Trace)]
#[trace(finalize)]
struct File {
    fd: i32,
}

fn main() {}
