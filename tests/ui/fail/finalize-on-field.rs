use pygc::Trace;

#[derive(Trace)]
struct File {
    #[trace(finalize)]
    fd: i32,
}

fn main() {}
