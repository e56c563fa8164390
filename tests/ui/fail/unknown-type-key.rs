use pygc::Trace;

#[derive(Trace)]
#[trace(finalise)]
struct Resource {
    id: u32,
}

fn main() {}
