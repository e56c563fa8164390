//! pygc as the dependency `collector` (`collector = { package = "pygc" }`):
//! `#[derive(Trace)]` must name it `::collector`, found in `Cargo.toml` by
//! `proc-macro-crate`. Also `#[trace(crate = "...")]` through a re-export,
//! the way a framework that wraps pygc would let its users derive.
//!
//! The tests are in `tests/renamed.rs`.

/// A framework that re-exports pygc under a path of its own.
pub mod framework {
    /// pygc, re-exported: users write `#[trace(crate = "...::gc")]`.
    pub use collector as gc;
}
