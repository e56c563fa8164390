// Not an unsizing coercion: no transmute through `coerce!`.
use pygc::{coerce, Gc};

fn main() {
    let _g: Gc<u32> = coerce!(Gc::new(1_u8));
}
