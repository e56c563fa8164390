//! Code generation: parse → check → expand, and the fallback on error.
//!
//! Everything generated sits in `const _: () = { ... };`, names pygc
//! through the container's `krate` path (`::pygc` unless the dependency is
//! renamed or `#[trace(crate = "...")]` says otherwise), and is
//! `#[automatically_derived]`.
//! Per-field code names the field's type with the user's own tokens, so that
//! a field whose type lacks `Trace` is reported at that field.

use crate::ast::{Container, Data, Field};
use crate::ctxt::Ctxt;
use crate::{ast, bound, check};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::HashSet;
use syn::{DeriveInput, Ident};

/// The output of `#[derive(Trace)]` for `input`: the impls, or the errors
/// followed by a fallback impl.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    match try_derive(input) {
        Ok(tokens) => tokens,
        Err(errors) => {
            let errors = errors.to_compile_error();
            let fallback = fallback(input);
            quote!(#errors #fallback)
        }
    }
}

fn try_derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let container = ast::Container::from_ast(&cx, input);
    if let Some(container) = &container {
        check::check(&cx, container);
    }
    cx.check()?;
    let container = container.expect("from_ast gives None only after reporting an error");
    Ok(expand(&container))
}

/// On error, an impl that keeps uses of the type (`Gc::new(value)`) from
/// adding "`Foo: Trace` is not satisfied" to the real errors. It traces
/// nothing, which the `Trace` contract allows (rule 2: under-reporting only
/// leaks) — and the crate does not compile anyway.
fn fallback(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let krate = crate::crate_path::default();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl #impl_generics #krate::Trace for #ident #ty_generics #where_clause {
                fn trace(&self, _: &mut #krate::Tracer<'_>) {}
            }
        };
    }
}

fn expand(container: &Container<'_>) -> TokenStream {
    let ident = container.ident;
    let krate = &container.krate;
    let generics = bound::trace_impl_generics(container);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // Locals of the generated code get `__gc_` names (a user `const` of the
    // same name would turn a binding into a constant pattern, whatever its
    // hygiene) and mixed-site spans (the user's tokens cannot name them).
    let tracer = Ident::new("__gc_tracer", Span::mixed_site());

    let trace_body = trace_body(container, &tracer);
    let tracked = tracked_expr(container);
    let finalizer = finalizer_methods(container);
    let forbid_drop = forbid_drop_impl(container);
    let forbid_finalize = forbid_unmarked_finalize_impl(container);

    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl #impl_generics #krate::Trace for #ident #ty_generics #where_clause {
                #[inline(always)]
                fn trace(&self, #tracer: &mut #krate::Tracer<'_>) {
                    #trace_body
                }

                #[inline(always)]
                fn __gc_tracked_with<__GcFuel: #krate::__private::Fuel>() -> bool {
                    #tracked
                }

                #finalizer
            }

            #forbid_drop
            #forbid_finalize
        };
    }
}

/// `<FieldTy as Trace>::trace(value, tracer);`
///
/// A field whose type lacks `Trace` is reported at that type: the `FieldTy`
/// tokens are the user's own, with their spans. The rest of the call keeps
/// the macro's span on purpose. Respanning it at the field
/// (`quote_spanned!`) makes rustc treat the generated path as user code and
/// replace `Trace`'s `on_unimplemented` message with a "consider borrowing
/// here: `&FieldTy`" suggestion (because `&'static T: Trace`), which is
/// wrong advice for a field.
fn trace_field(
    krate: &syn::Path,
    field: &Field<'_>,
    value: &TokenStream,
    tracer: &Ident,
) -> TokenStream {
    let ty = field.ty;
    quote!(<#ty as #krate::Trace>::trace(#value, #tracer);)
}

fn trace_body(container: &Container<'_>, tracer: &Ident) -> TokenStream {
    let krate = &container.krate;
    if container.traced_fields().next().is_none() {
        // Nothing to report (unit struct, all fields skipped, empty enum…).
        return quote!(let _ = #tracer;);
    }
    match &container.data {
        Data::Struct(fields) => fields
            .iter()
            .filter(|field| field.is_traced())
            .map(|field| {
                let member = &field.member;
                trace_field(krate, field, &quote!(&self.#member), tracer)
            })
            .collect(),
        Data::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let variant_ident = variant.ident;
                let mut bindings = Vec::new();
                let mut calls = Vec::new();
                for (index, field) in variant.fields.iter().enumerate() {
                    if !field.is_traced() {
                        continue;
                    }
                    let member = &field.member;
                    let binding = format_ident!("__gc_field{}", index, span = Span::mixed_site());
                    calls.push(trace_field(
                        krate,
                        field,
                        &binding.to_token_stream(),
                        tracer,
                    ));
                    bindings.push(quote!(#member: #binding));
                }
                // `Self::V { 0: a, name: b, .. }` matches every variant kind.
                quote! {
                    Self::#variant_ident { #(#bindings,)* .. } => { #(#calls)* }
                }
            });
            quote! {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}

/// `a || b || ...` over `<FieldTy as Trace>::__gc_tracked()` of every traced
/// field of every variant (each distinct type once), or `false`.
///
/// A field whose type names the derived type itself (`Vec<Tree>` in `Tree`,
/// `Option<Box<Self>>`) counts as tracked without asking: asking would recurse
/// forever through the impls of `Vec`/`Box`. Answering `true` is always
/// allowed (rule 6 of the `Trace` contract); it only costs the collector
/// a little.
fn tracked_expr(container: &Container<'_>) -> TokenStream {
    let krate = &container.krate;
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    for field in container.traced_fields() {
        let ty = field.ty;
        if !seen.insert(ty.to_token_stream().to_string()) {
            continue;
        }
        if names_type(ty.to_token_stream(), container.ident) {
            return quote!(true);
        }
        // Spanned like `trace_field`, for the same reason.
        terms.push(quote!(
            <#ty as #krate::Trace>::__gc_tracked_with::<
                <__GcFuel as #krate::__private::Fuel>::Less,
            >()
        ));
    }
    if terms.is_empty() {
        quote!(false)
    } else {
        // Out of budget: answer "tracked" (always allowed, rule 6).
        quote!(<__GcFuel as #krate::__private::Fuel>::EMPTY || #(#terms)||*)
    }
}

/// Whether `tokens` mention `Self` or the identifier `ident`.
fn names_type(tokens: TokenStream, ident: &Ident) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(name) => name == *ident || name == "Self",
        TokenTree::Group(group) => names_type(group.stream(), ident),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// `__gc_finalizer` and `__gc_finalize` for `#[trace(finalize)]` and
/// `#[trace(legacy_finalize)]`. The call to `Finalize::finalize` is spanned at
/// the attribute key, so a missing `impl Finalize` is reported there.
fn finalizer_methods(container: &Container<'_>) -> TokenStream {
    let krate = &container.krate;
    let attrs = &container.attrs;
    let (kind, flag) = match (attrs.finalize, attrs.legacy_finalize) {
        (Some(flag), _) => (quote!(Pep442), flag),
        (None, Some(flag)) => (quote!(Legacy), flag),
        (None, None) => return TokenStream::new(),
    };
    let this = quote!(self);
    let finalize = quote_spanned!(flag.span=> <Self as #krate::Finalize>::finalize);
    quote! {
        #[inline(always)]
        fn __gc_finalizer() -> #krate::__private::FinalizerKind {
            #krate::__private::FinalizerKind::#kind
        }

        #[inline]
        fn __gc_finalize(&self) {
            #finalize(#this)
        }
    }
}

/// Without `#[trace(finalize)]` or `#[trace(legacy_finalize)]`: the impl
/// that conflicts with pygc's blanket
/// `impl<T: Finalize> DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute
/// for T` when the derived type implements `Finalize` anyway (its
/// `finalize` would never run).
fn forbid_unmarked_finalize_impl(container: &Container<'_>) -> TokenStream {
    let attrs = &container.attrs;
    if attrs.finalize.is_some() || attrs.legacy_finalize.is_some() {
        return TokenStream::new();
    }
    marker_impl(
        container,
        quote!(DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute),
    )
}

/// The impl that conflicts with pygc's blanket
/// `impl<T: Drop> DeriveTraceForbidsDrop_ImplementFinalizeInstead for T` when
/// the derived type implements `Drop` (gc-arena's trick).
fn forbid_drop_impl(container: &Container<'_>) -> TokenStream {
    marker_impl(
        container,
        quote!(DeriveTraceForbidsDrop_ImplementFinalizeInstead),
    )
}

/// `impl pygc::__private::<marker> for Type {}` with the type's own
/// generics, spanned at the type's name, where a conflict with the marker's
/// blanket impl is reported.
fn marker_impl(container: &Container<'_>, marker: TokenStream) -> TokenStream {
    let krate = &container.krate;
    let ident = container.ident;
    let (impl_generics, ty_generics, where_clause) = container.generics.split_for_impl();
    quote_spanned! {ident.span()=>
        #[automatically_derived]
        impl #impl_generics #krate::__private::#marker
            for #ident #ty_generics #where_clause {}
    }
}
