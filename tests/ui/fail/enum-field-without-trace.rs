use pygc::Trace;

struct Socket {
    fd: i32,
}

#[derive(Trace)]
enum Connection {
    Closed,
    Open { id: u32, socket: Socket },
}

fn main() {}
