// `coerce!` in a crate that forbids unsafe code, for all four handle kinds.
#![forbid(unsafe_code)]

use pygc::{coerce, sync, Gc, Trace, Weak};

trait Shape: Trace {
    fn area(&self) -> u32;
}

#[derive(Trace)]
struct Square(u32);

impl Shape for Square {
    fn area(&self) -> u32 {
        self.0 * self.0
    }
}

fn main() {
    let g: Gc<dyn Shape> = coerce!(Gc::new(Square(3)));
    assert_eq!(g.area(), 9);
    let w: Weak<dyn Shape> = coerce!(Gc::downgrade(&Gc::new(Square(1))));
    assert!(w.upgrade().is_none());
    let s: Gc<[u8]> = coerce!(Gc::new([1, 2]));
    assert_eq!(s.len(), 2);
    let t: Gc<dyn Trace> = coerce!(g);
    drop(t);
    let _ = sync::Gc::new(1_u8);
}
