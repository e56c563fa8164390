//! `#[trace(bound = "...")]` replaces the inferred bounds.
#![deny(warnings)]

use pygc::{Gc, Trace, Tracer};
use std::cell::RefCell;
use std::marker::PhantomData;

/// Stronger than inferred: `T: Trace + Default`.
#[derive(Trace)]
#[trace(bound = "T: Trace + Default")]
struct Slot<T> {
    value: RefCell<T>,
}

impl<T: Trace + Default> Slot<T> {
    fn take(&self) -> T {
        std::mem::take(&mut *self.value.borrow_mut())
    }
}

/// A handle-free type whose hand-written `Trace` impl needs no bound on `T`.
struct Opaque<T>(PhantomData<fn() -> T>);

// SAFETY: owns no handle, reports none; no `Drop`.
unsafe impl<T> Trace for Opaque<T> {
    fn trace(&self, _: &mut Tracer<'_>) {}
}

/// Weaker than inferred: no bound at all, so a non-`Trace` `T` is fine.
#[derive(Trace)]
#[trace(bound = "")]
struct Uses<T> {
    opaque: Opaque<T>,
}

struct NotTrace;

fn main() {
    let slot = Gc::new(Slot {
        value: RefCell::new(5_u32),
    });
    assert_eq!(slot.take(), 5);
    assert_eq!(*slot.value.borrow(), 0);

    let uses = Gc::new(Uses::<NotTrace> {
        opaque: Opaque(PhantomData),
    });
    let Opaque(_) = uses.opaque;
}
