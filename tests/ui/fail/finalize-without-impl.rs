use pygc::Trace;

#[derive(Trace)]
#[trace(finalize)]
struct File {
    fd: i32,
}

fn main() {}
