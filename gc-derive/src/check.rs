//! Checks that look at more than one attribute, or at the type as a whole.
//! Each attribute on its own was already validated while parsing.

use crate::ast::{Container, Data};
use crate::ctxt::Ctxt;
use syn::Meta;

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_one_finalizer_kind(cx, container);
    check_not_packed(cx, container);
}

/// `finalize` and `legacy_finalize` select the semantics of the type's one
/// finalizer; asking for both is a contradiction. The error goes to whichever
/// was written second.
fn check_one_finalizer_kind(cx: &Ctxt, container: &Container<'_>) {
    let (Some(finalize), Some(legacy)) =
        (container.attrs.finalize, container.attrs.legacy_finalize)
    else {
        return;
    };
    let second = if finalize.order > legacy.order {
        finalize
    } else {
        legacy
    };
    cx.error_at(
        second.span,
        "`finalize` and `legacy_finalize` cannot be combined: a type has one kind of \
         finalizer (PEP 442 `finalize`, or CPython's legacy `tp_del` with `legacy_finalize`)",
    );
}

/// Tracing takes a reference to every field, which `#[repr(packed)]` forbids
/// (a packed field may be unaligned). Without this check the user would get
/// rustc's E0793 pointing into generated code.
fn check_not_packed(cx: &Ctxt, container: &Container<'_>) {
    if !matches!(container.data, Data::Struct(_)) {
        return;
    }
    for attr in &container.original.attrs {
        if !attr.path().is_ident("repr") {
            continue;
        }
        let Meta::List(list) = &attr.meta else {
            continue;
        };
        // Errors in the repr list itself are rustc's to report.
        let _ = list.parse_nested_meta(|meta| {
            if meta.path.is_ident("packed") {
                cx.error_spanned_by(
                    &meta.path,
                    "`Trace` cannot be derived for `#[repr(packed)]` types: tracing takes a \
                     reference to every field, and a packed field may be unaligned",
                );
            }
            // Skip `(N)` in `packed(N)` / `align(N)`.
            if meta.input.peek(syn::token::Paren) {
                meta.input.parse::<proc_macro2::TokenTree>()?;
            }
            Ok(())
        });
    }
}
