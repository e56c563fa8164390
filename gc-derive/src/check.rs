//! Checks that look at more than one attribute, or at the type as a whole.
//! Each attribute on its own was already validated while parsing.

use crate::ast::{Container, Data};
use crate::ctxt::Ctxt;
use syn::{GenericArgument, Meta, PathArguments, Type};

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_one_finalizer_kind(cx, container);
    check_not_packed(cx, container);
    for field in container.traced_fields() {
        check_no_shared_ownership(cx, field.ty);
    }
}

/// A traced field that holds an `Rc` or `Arc` (`Rc<T>`, `Option<Rc<T>>`,
/// `RefCell<Vec<Arc<T>>>`) gets a message saying what to use instead, not
/// rustc's "`Rc<T>` does not implement `Trace`" followed by the list of the
/// types that do. They have no `Trace` impl on purpose: tracing through an
/// `Rc` shared by two owners would report its edges twice (HAZARDS 1).
///
/// The check is by name (`Rc`, `rc::Rc`, `std::rc::Rc`, `alloc::sync::Arc`,
/// ...); a type of the user's own named `Rc` that implements `Trace` is
/// still accepted under another path or alias. The type inside is not
/// looked into (`Rc<Vec<Rc<T>>>` is one error).
fn check_no_shared_ownership(cx: &Ctxt, ty: &Type) {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let segments = &path.path.segments;
            let Some(last) = segments.last() else {
                return;
            };
            let module = segments.iter().rev().nth(1).map(|s| s.ident.to_string());
            let name = last.ident.to_string();
            let shared = matches!(
                (name.as_str(), module.as_deref()),
                ("Rc", None | Some("rc")) | ("Arc", None | Some("sync"))
            );
            if shared && matches!(last.arguments, PathArguments::AngleBracketed(_)) {
                let instead = if name == "Rc" {
                    "use `Gc` (or `#[trace(skip)]`, which makes its handles outside references)"
                } else {
                    "use `Gc`, or `pygc::sync::Gc` across threads (or `#[trace(skip)]`, which \
                     makes its handles outside references)"
                };
                cx.error_spanned_by(ty, format!("`{name}` cannot be traced: {instead}"));
                return;
            }
            for segment in segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(ty) = arg {
                            check_no_shared_ownership(cx, ty);
                        }
                    }
                }
            }
        }
        Type::Array(array) => check_no_shared_ownership(cx, &array.elem),
        Type::Slice(slice) => check_no_shared_ownership(cx, &slice.elem),
        Type::Paren(paren) => check_no_shared_ownership(cx, &paren.elem),
        Type::Group(group) => check_no_shared_ownership(cx, &group.elem),
        Type::Tuple(tuple) => {
            for elem in &tuple.elems {
                check_no_shared_ownership(cx, elem);
            }
        }
        // `&'static Rc<T>` is traced as a reference (owns nothing): fine.
        _ => {}
    }
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
