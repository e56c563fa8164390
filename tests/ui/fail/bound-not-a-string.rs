use gc_core::Trace;

#[derive(Trace)]
#[trace(bound = T: Trace)]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
