//! The generated code uses absolute paths and hygienic locals: user items with
//! clashing names, a shadowing `Trace`, no prelude and a `macro_rules!`
//! expansion do not disturb it.
#![deny(warnings)]
#![allow(non_upper_case_globals, dead_code)]

/// Shadows `Trace` in this module; the derive must still name pygc's.
mod shadow {
    pub trait Trace {}
}

#[allow(unused_imports)]
use shadow::Trace as _;

const tracer: u8 = 0;
const __field0: u8 = 0;

mod no_prelude {
    #![no_implicit_prelude]

    #[derive(::pygc::Trace)]
    pub struct Inner {
        pub a: ::pygc::Gc<u32>,
        pub b: u8,
    }

    #[derive(::pygc::Trace)]
    pub enum Either {
        Left(::pygc::Gc<u32>),
        Right { value: u8 },
    }
}

macro_rules! traced_struct {
    ($name:ident { $($field:ident : $ty:ty),* }) => {
        #[derive(::pygc::Trace)]
        struct $name { $($field: $ty),* }
    };
}

traced_struct!(FromMacro { x: ::pygc::Gc<u32>, y: u8 });

#[derive(::pygc::Trace)]
enum UsesNames {
    A {
        tracer: u8,
        __field0: ::pygc::Gc<u8>,
    },
    B(u8, ::pygc::Gc<u8>),
}

fn main() {
    use pygc::Gc;
    let inner = Gc::new(no_prelude::Inner {
        a: Gc::new(1),
        b: 2,
    });
    assert_eq!(*inner.a + u32::from(inner.b), 3);
    let _ = Gc::new(no_prelude::Either::Left(Gc::new(1)));
    let _ = Gc::new(no_prelude::Either::Right { value: 1 });
    let m = Gc::new(FromMacro {
        x: Gc::new(1),
        y: 2,
    });
    assert!(Gc::is_tracked(&m));
    let _ = Gc::new(UsesNames::A {
        tracer: tracer + __field0,
        __field0: Gc::new(1),
    });
    let _ = Gc::new(UsesNames::B(1, Gc::new(2)));
}
