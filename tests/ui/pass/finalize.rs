//! `#[trace(finalize)]` and `#[trace(legacy_finalize)]` with `impl Finalize`.
#![deny(warnings)]

use pygc::{Finalize, Gc, Trace};
use std::cell::{Cell, RefCell};

thread_local! {
    static FINALIZED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

#[derive(Trace)]
#[trace(finalize)]
struct File {
    name: String,
}

impl Finalize for File {
    fn finalize(&self) {
        FINALIZED.with(|f| f.borrow_mut().push(self.name.clone()));
    }
}

#[derive(Trace)]
#[trace(legacy_finalize)]
enum Legacy {
    Named(String),
    Other,
}

impl Finalize for Legacy {
    fn finalize(&self) {
        let name = match self {
            Legacy::Named(name) => name.clone(),
            Legacy::Other => "other".to_string(),
        };
        FINALIZED.with(|f| f.borrow_mut().push(name));
    }
}

#[derive(Trace)]
#[trace(finalize)]
struct Generic<T> {
    value: T,
    calls: Cell<u32>,
}

impl<T> Finalize for Generic<T> {
    fn finalize(&self) {
        self.calls.set(self.calls.get() + 1);
        FINALIZED.with(|f| f.borrow_mut().push(format!("generic{}", self.calls.get())));
    }
}

fn main() {
    drop(Gc::new(File { name: "a".into() }));
    drop(Gc::new(Legacy::Named("b".into())));
    drop(Gc::new(Legacy::Other));
    let g = Gc::new(Generic {
        value: 1_u8,
        calls: Cell::new(0),
    });
    assert_eq!(g.value, 1);
    drop(g);
    // Freed by refcount alone, both kinds are finalized, once, in order.
    FINALIZED.with(|f| assert_eq!(*f.borrow(), ["a", "b", "other", "generic1"]));
}
