//! The seed tour (placeholder until the tour lands).
fn main() {}
