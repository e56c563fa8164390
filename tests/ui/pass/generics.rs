//! Type, lifetime and const parameters; inferred bounds; existing bounds kept.
#![deny(warnings)]

use pygc::{Gc, Trace};
use std::marker::PhantomData;
use std::sync::Mutex;

/// `T: Trace` is inferred.
#[derive(Trace)]
struct Wrapper<T> {
    value: T,
}

/// A lifetime parameter.
#[derive(Trace)]
struct Borrowing<'a> {
    id: u32,
    marker: PhantomData<&'a ()>,
}

/// A const parameter, with a where-clause of its own.
#[derive(Trace)]
struct Ring<T, const N: usize>
where
    T: Trace + 'static,
{
    slots: [Gc<T>; N],
}

/// Inline bounds and a where-clause, all kept.
#[derive(Trace)]
struct Sorted<'a, A: Ord, B, const N: usize>
where
    B: Default + Clone,
{
    items: Vec<A>,
    extra: [Option<B>; N],
    marker: PhantomData<&'a str>,
}

/// `T` appears only in a skipped field: no bound, any `T` goes.
#[derive(Trace)]
struct Holder<T> {
    id: u32,
    #[trace(skip)]
    payload: T,
}

/// `T` appears only in `PhantomData`: no bound.
#[derive(Trace)]
struct Tagged<T> {
    id: u64,
    tag: PhantomData<T>,
}

/// A projection gets the bound (`I::Item: Trace`), not the parameter.
#[derive(Trace)]
struct Peeked<I: Iterator> {
    #[trace(skip)]
    iter: I,
    next: Option<I::Item>,
}

/// Generic enum.
#[derive(Trace)]
enum Tree<K, V> {
    Leaf,
    Node {
        key: K,
        value: V,
        children: Vec<Tree<K, V>>,
    },
}

struct NotTrace;

fn main() {
    let w = Gc::new(Wrapper {
        value: Gc::new(5_u8),
    });
    assert_eq!(*w.value, 5);
    let nested = Gc::new(Wrapper {
        value: Wrapper {
            value: String::from("s"),
        },
    });
    assert_eq!(nested.value.value, "s");

    let b = Gc::new(Borrowing {
        id: 1,
        marker: PhantomData,
    });
    assert_eq!(b.id, 1);

    let ring = Gc::new(Ring {
        slots: [Gc::new(1_u32), Gc::new(2), Gc::new(3)],
    });
    assert_eq!(ring.slots.iter().map(|s| **s).sum::<u32>(), 6);

    let sorted = Gc::new(Sorted::<'static, u8, u16, 2> {
        items: vec![1, 2],
        extra: [Some(3), None],
        marker: PhantomData,
    });
    assert_eq!(sorted.items.len() + sorted.extra.len(), 4);

    let held = Gc::new(Holder {
        id: 2,
        payload: Mutex::new(NotTrace),
    });
    assert_eq!(held.id, 2);
    assert!(held.payload.lock().is_ok());

    let tagged = Gc::new(Tagged::<NotTrace> {
        id: 3,
        tag: PhantomData,
    });
    assert_eq!(tagged.id, 3);

    let mut iter = vec![Gc::new(1_i32), Gc::new(2)].into_iter();
    let first = iter.next();
    let peeked = Gc::new(Peeked { iter, next: first });
    assert_eq!(peeked.next.as_deref().copied(), Some(1));
    assert_eq!(peeked.iter.len(), 1);

    let tree = Gc::new(Tree::Node {
        key: "k".to_string(),
        value: 1_u32,
        children: vec![Tree::Leaf],
    });
    if let Tree::Node {
        key,
        value,
        children,
    } = &*tree
    {
        assert_eq!((key.as_str(), *value, children.len()), ("k", 1, 1));
    }
}
