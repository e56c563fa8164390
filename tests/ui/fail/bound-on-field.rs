use pygc::Trace;

#[derive(Trace)]
struct Wrapper<T> {
    #[trace(bound = "T: Trace")]
    inner: T,
}

fn main() {}
