// `coerce!` only does what the compiler's unsizing coercion does: a `u8`
// is not a `Shape`.
use pygc::{coerce, Gc, Trace};

trait Shape: Trace {}

fn main() {
    let _s: Gc<dyn Shape> = coerce!(Gc::new(1_u8));
}
