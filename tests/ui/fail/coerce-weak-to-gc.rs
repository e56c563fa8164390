// The kind of handle is kept: a weak handle stays weak.
use pygc::{coerce, Gc, Trace, Weak};

trait Shape: Trace {}

#[derive(Trace)]
struct C;

impl Shape for C {}

fn main() {
    let w: Weak<C> = Gc::downgrade(&Gc::new(C));
    let _g: Gc<dyn Shape> = coerce!(w);
}
