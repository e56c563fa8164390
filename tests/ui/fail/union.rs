use pygc::Trace;

#[derive(Trace)]
union IntOrFloat {
    int: u32,
    float: f32,
}

fn main() {}
