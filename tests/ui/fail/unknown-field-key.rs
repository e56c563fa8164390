use pygc::Trace;

#[derive(Trace)]
struct Config {
    #[trace(ignore)]
    name: String,
}

fn main() {}
