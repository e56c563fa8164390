use pygc::Trace;

struct Socket {
    fd: i32,
}

#[derive(Trace)]
struct Connection {
    id: u32,
    socket: Socket,
}

fn main() {}
