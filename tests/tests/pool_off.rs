//! pygc without its Cargo feature `pool`: every object is its own
//! allocation, the pool never takes a page. Run with
//! `cargo test -p gc-tests --no-default-features --test pool_off` (CI does);
//! `pool.rs` tests the pool itself.
#![cfg(not(feature = "pool"))]

use pygc::__private::pool_pages;
use pygc::{gc, Gc, Trace};
use std::cell::RefCell;

#[derive(Trace)]
struct Node {
    next: RefCell<Option<Gc<Node>>>,
}

#[test]
fn no_pool_pages_without_the_feature() {
    let nodes: Vec<_> = (0..10_000)
        .map(|_| {
            Gc::new(Node {
                next: RefCell::new(None),
            })
        })
        .collect();
    for pair in nodes.windows(2) {
        *pair[0].next.borrow_mut() = Some(pair[1].clone());
    }
    assert!(Gc::is_tracked(&nodes[0]));
    assert_eq!(pool_pages(), 0);
    *nodes[9_999].next.borrow_mut() = Some(nodes[0].clone());
    drop(nodes);
    assert_eq!(gc::collect(), 10_000);
    assert_eq!(pool_pages(), 0);
}
