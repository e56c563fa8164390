// `coerce!` takes one of the four handle kinds.
use pygc::{coerce, Trace};

fn main() {
    let _b: Box<dyn Trace> = coerce!(Box::new(1_u8));
}
