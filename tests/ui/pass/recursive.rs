//! Recursive types: through `Gc`, and directly through `Vec` / `Box`.
#![deny(warnings)]

use pygc::{Gc, Trace};
use std::cell::RefCell;

#[derive(Trace)]
struct Node {
    value: u32,
    next: RefCell<Option<Gc<Node>>>,
}

/// Recursive without any handle: asking whether it is tracked must not
/// recurse forever.
#[derive(Trace)]
struct Tree {
    value: u32,
    kids: Vec<Tree>,
}

#[derive(Trace)]
enum List<T> {
    Nil,
    Cons(T, Box<Self>),
}

fn main() {
    let a = Gc::new(Node {
        value: 1,
        next: RefCell::new(None),
    });
    let b = Gc::new(Node {
        value: 2,
        next: RefCell::new(Some(a.clone())),
    });
    *a.next.borrow_mut() = Some(b.clone()); // a cycle
    assert!(Gc::is_tracked(&a));
    let next = a.next.borrow().as_ref().map(|n| n.value);
    assert_eq!(next, Some(b.value));
    *a.next.borrow_mut() = None; // break it

    let tree = Gc::new(Tree {
        value: 1,
        kids: vec![Tree {
            value: 2,
            kids: Vec::new(),
        }],
    });
    let _ = Gc::is_tracked(&tree);
    assert_eq!(tree.value + tree.kids[0].value, 3);

    let list = Gc::new(List::Cons(
        1_u8,
        Box::new(List::Cons(2, Box::new(List::Nil))),
    ));
    let _ = Gc::is_tracked(&list);
    let mut sum = 0;
    let mut cursor = &*list;
    while let List::Cons(value, rest) = cursor {
        sum += value;
        cursor = rest;
    }
    assert_eq!(sum, 3);
}
