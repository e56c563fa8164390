//! A derived type is tracked exactly when a traced field's type can own a handle.
#![deny(warnings)]

use pygc::{Gc, Trace};

#[derive(Trace)]
struct Leaf(u32);

#[derive(Trace)]
struct Plain {
    leaf: Leaf,
    name: String,
    numbers: Vec<Option<u64>>,
}

#[derive(Trace)]
struct Holding {
    leaf: Leaf,
    child: Option<Gc<Leaf>>,
}

#[derive(Trace)]
struct SkippedHandle {
    n: u8,
    #[trace(skip)]
    handle: Gc<Leaf>,
}

#[derive(Trace)]
enum PlainEnum {
    A(u8),
    B { s: String },
    C,
}

#[derive(Trace)]
enum HoldingEnum {
    A(u8),
    B { s: String },
    C(Gc<Leaf>),
}

#[derive(Trace)]
struct Generic<T> {
    t: T,
}

#[derive(Trace)]
struct Unit;

fn tracked<T: Trace + 'static>(value: T) -> bool {
    Gc::is_tracked(&Gc::new(value))
}

fn main() {
    assert!(!Gc::is_tracked(&Gc::new(Leaf(1))));
    assert!(!tracked(Unit));
    assert!(!tracked(Plain {
        leaf: Leaf(1),
        name: String::new(),
        numbers: vec![Some(1)]
    }));
    assert!(tracked(Holding {
        leaf: Leaf(2),
        child: None
    }));
    assert!(!tracked(SkippedHandle {
        n: 1,
        handle: Gc::new(Leaf(3))
    }));
    assert!(!tracked(PlainEnum::A(1)));
    assert!(!tracked(PlainEnum::B { s: "s".into() }));
    assert!(!tracked(PlainEnum::C));
    // Tracked-ness is per type, whatever the variant.
    assert!(tracked(HoldingEnum::A(1)));
    assert!(tracked(HoldingEnum::B { s: "s".into() }));
    assert!(tracked(HoldingEnum::C(Gc::new(Leaf(4)))));
    assert!(!tracked(Generic { t: 5_u8 }));
    assert!(tracked(Generic { t: Gc::new(5_u8) }));
    assert!(tracked(Generic {
        t: vec![Generic {
            t: Some(Gc::new(Leaf(6)))
        }]
    }));

    let s = SkippedHandle {
        n: 1,
        handle: Gc::new(Leaf(3)),
    };
    assert_eq!(s.n as u32 + s.handle.0, 4);
    let h = Holding {
        leaf: Leaf(2),
        child: None,
    };
    assert!(h.child.is_none() && h.leaf.0 == 2);
    let p = Plain {
        leaf: Leaf(1),
        name: String::new(),
        numbers: vec![],
    };
    assert!(p.name.is_empty() && p.numbers.is_empty() && p.leaf.0 == 1);
    if let PlainEnum::B { s } = (PlainEnum::B { s: String::new() }) {
        assert!(s.is_empty());
    }
    if let HoldingEnum::B { s } = (HoldingEnum::B { s: String::new() }) {
        assert!(s.is_empty());
    }
    let g = Generic { t: 1 };
    assert_eq!(g.t, 1);
}
