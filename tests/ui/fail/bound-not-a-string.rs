use pygc::Trace;

#[derive(Trace)]
#[trace(bound = T: Trace)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
