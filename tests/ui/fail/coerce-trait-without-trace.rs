// A trait object needs `Trace` as a supertrait to live in a `Gc`.
use pygc::{coerce, Gc, Trace};

trait Plain {}

#[derive(Trace)]
struct P;

impl Plain for P {}

fn main() {
    let _p: Gc<dyn Plain> = coerce!(Gc::new(P));
}
