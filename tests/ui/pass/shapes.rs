//! Every shape the derive supports, constructed and put behind a `Gc`.
#![deny(warnings)]

use pygc::{Gc, Trace};

#[derive(Trace)]
struct Named {
    id: u32,
    name: String,
    child: Option<Gc<Named>>,
}

#[derive(Trace)]
struct Tuple(u32, Gc<u32>);

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
struct EmptyBraces {}

#[derive(Trace)]
struct EmptyTuple();

#[derive(Trace)]
enum Shape {
    Empty,
    Circle(f64),
    Pair(Gc<Shape>, Gc<Shape>),
    Labelled { label: String, inner: Gc<Shape> },
    Nothing {},
    Nullary(),
}

#[derive(Trace)]
#[repr(u8)]
enum Level {
    Low = 1,
    High = 10,
}

#[derive(Trace)]
enum Void {}

fn area(shape: &Shape) -> f64 {
    match shape {
        Shape::Empty | Shape::Nothing {} | Shape::Nullary() => 0.0,
        Shape::Circle(r) => 3.0 * r * r,
        Shape::Pair(a, b) => area(a) + area(b),
        Shape::Labelled { label, inner } => label.len() as f64 + area(inner),
    }
}

fn main() {
    let leaf = Gc::new(Named {
        id: 1,
        name: "leaf".into(),
        child: None,
    });
    let root = Gc::new(Named {
        id: 2,
        name: "root".into(),
        child: Some(leaf.clone()),
    });
    assert_eq!(root.child.as_ref().map(|c| c.id), Some(1));
    assert_eq!(root.name.len() + leaf.name.len(), 8);

    let tuple = Gc::new(Tuple(7, Gc::new(8)));
    assert_eq!(tuple.0 + *tuple.1, 15);

    let _ = Gc::new(Unit);
    let _ = Gc::new(EmptyBraces {});
    let _ = Gc::new(EmptyTuple());

    let circle = Gc::new(Shape::Circle(1.0));
    let pair = Gc::new(Shape::Pair(circle.clone(), Gc::new(Shape::Empty)));
    let labelled = Gc::new(Shape::Labelled {
        label: "x".into(),
        inner: pair,
    });
    assert_eq!(area(&labelled), 4.0);
    assert_eq!(
        area(&Gc::new(Shape::Nothing {})) + area(&Gc::new(Shape::Nullary())),
        0.0
    );

    let level = Gc::new(Level::High);
    assert!(matches!(*level, Level::High));
    assert_eq!(Level::Low as u8 + Level::High as u8, 11);

    // An empty enum has no values, but it is `Trace` and can sit in other types.
    let never: Gc<Result<u8, Void>> = Gc::new(Ok(3));
    assert!(matches!(*never, Ok(3)));
}
