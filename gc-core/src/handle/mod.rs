//! The handles: [`Gc`](strong::Gc), [`Weak`](weak::Weak), [`GcAny`](any::GcAny).

pub(crate) mod any;
pub(crate) mod strong;
pub(crate) mod weak;
