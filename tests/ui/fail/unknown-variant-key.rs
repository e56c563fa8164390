use pygc::Trace;

#[derive(Trace)]
enum Shape {
    #[trace(untracked)]
    Point,
    Circle(f64),
}

fn main() {}
