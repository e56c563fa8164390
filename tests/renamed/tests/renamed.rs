//! `#[derive(Trace)]` with pygc under another name.

use collector::{gc, Finalize, Gc, Trace};
use std::cell::{Cell, RefCell};

thread_local!(static FINALIZED: Cell<u32> = const { Cell::new(0) });

/// Every path the derive generates goes through `::collector`: the trait,
/// the tracer, the finalizer kind, the `Drop` guard and the inferred bound.
#[derive(Trace)]
#[trace(finalize)]
struct Node {
    value: Wrap<u8>,
    next: RefCell<Option<Gc<Node>>>,
}

/// The inferred bound `T: ::collector::Trace`.
#[derive(Trace)]
struct Wrap<T>(T);

impl Finalize for Node {
    fn finalize(&self) {
        FINALIZED.with(|f| f.set(f.get() + 1));
    }
}

#[test]
fn derive_finds_a_renamed_dependency() {
    let a = Gc::new(Node {
        value: Wrap(1),
        next: RefCell::new(None),
    });
    let b = Gc::new(Node {
        value: Wrap(2),
        next: RefCell::new(Some(a.clone())),
    });
    *a.next.borrow_mut() = Some(b.clone());
    assert!(Gc::is_tracked(&a));
    assert_eq!(a.value.0 + b.value.0, 3);
    assert!(!Gc::is_tracked(&Gc::new(Wrap(1u8))));
    assert!(Gc::is_tracked(&Gc::new(Wrap(Gc::new(1u8)))));
    drop((a, b));
    assert_eq!(gc::collect(), 2);
    assert_eq!(FINALIZED.with(Cell::get), 2);
}

/// `#[trace(crate = "...")]`: the path of a re-export, relative to this
/// crate (`gc_tests_renamed::framework::gc`).
mod through_reexport {
    use collector::{gc, Gc};
    use gc_tests_renamed::framework::gc::Trace;
    use std::cell::RefCell;

    #[derive(Trace)]
    #[trace(crate = "gc_tests_renamed::framework::gc")]
    enum Link {
        End,
        Next(RefCell<Gc<Link>>),
    }

    #[test]
    fn crate_attribute_names_a_reexport() {
        let a = Gc::new(Link::Next(RefCell::new(Gc::new(Link::End))));
        if let Link::Next(next) = &*a {
            *next.borrow_mut() = a.clone();
        }
        drop(a);
        assert_eq!(gc::collect(), 1);
    }
}
