//! The derive and `pygc::leaf!` work in a crate that forbids unsafe code:
//! the `unsafe impl` they write is their responsibility, and rustc does not
//! lint code expanded from another crate's macros.
#![forbid(unsafe_code)]
#![deny(warnings)]

use pygc::{Gc, Trace};

#[derive(Trace)]
struct Safe {
    value: u32,
    next: Option<Gc<Safe>>,
}

struct Meters(f64);
pygc::leaf!(Meters);

fn main() {
    assert!(!Gc::is_tracked(&Gc::new(Meters(1.5))));
    assert_eq!(Gc::new(Meters(1.5)).0, 1.5);
    let a = Gc::new(Safe {
        value: 1,
        next: None,
    });
    let b = Gc::new(Safe {
        value: 2,
        next: Some(a),
    });
    assert_eq!(b.value + b.next.as_ref().map_or(0, |n| n.value), 3);
}
