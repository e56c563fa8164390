use pygc::Trace;

struct Socket {
    fd: i32,
}

/// The derive adds `T: Trace`, because `T` is in a traced field.
#[derive(Trace)]
struct Slot<T> {
    value: Option<T>,
}

fn require_trace<T: Trace>(_: T) {}

fn main() {
    let socket = Some(Socket { fd: 3 });
    require_trace(Slot { value: socket });
}
