// A `sync::Gc` can only be coerced to a trait object that is `Send +
// Sync`: `dyn Shape` without those bounds is not a `sync::Gc` target.
use pygc::{coerce, sync, Trace};

trait Shape: Trace {}

#[derive(Trace)]
struct Square;

impl Shape for Square {}

fn main() {
    let _s: sync::Gc<dyn Shape> = coerce!(sync::Gc::new(Square));
}
