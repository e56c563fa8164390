//! The derive works in a crate that forbids unsafe code: the `unsafe impl`
//! it writes is the derive's responsibility, and rustc does not lint it.
#![forbid(unsafe_code)]
#![deny(warnings)]

use pygc::{Gc, Trace};

#[derive(Trace)]
struct Safe {
    value: u32,
    next: Option<Gc<Safe>>,
}

fn main() {
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
