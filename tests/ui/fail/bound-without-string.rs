use pygc::Trace;

#[derive(Trace)]
#[trace(bound)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
