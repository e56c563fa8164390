//! The error context: every check reports into it, and the derive looks at
//! the whole list once parsing and checking are done, so the user sees every
//! bad attribute at once (serde_derive's `Ctxt`).

use proc_macro2::Span;
use quote::ToTokens;
use std::cell::RefCell;
use std::fmt::Display;

/// Collects the errors found while parsing and checking one derive input.
///
/// It must be consumed with [`Ctxt::check`]; dropping it unchecked is a bug
/// in the derive (errors would be lost silently), so it panics.
pub(crate) struct Ctxt {
    /// `None` once [`Ctxt::check`] has run.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Report an error spanning the tokens of `object` (from its first to its
    /// last token).
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, object: T, message: M) {
        self.syn_error(syn::Error::new_spanned(object.into_token_stream(), message));
    }

    /// Report an error at `span`.
    pub(crate) fn error_at<M: Display>(&self, span: Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Report an error produced by a `syn` parser.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt used after check()")
            .push(error);
    }

    /// Consume the context: `Ok` if nothing was reported, otherwise all the
    /// errors combined into one (each keeps its own span).
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("Ctxt checked twice")
            .into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("pygc-derive: Ctxt dropped without check()");
        }
    }
}
