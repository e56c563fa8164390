use pygc::Trace;

#[derive(Trace)]
enum Handle {
    #[trace(legacy_finalize)]
    Open(i32),
    Closed,
}

fn main() {}
