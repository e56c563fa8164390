//! The derive input as the rest of the derive sees it: the shape of the type
//! with its `trace` attributes already parsed. Every node keeps a reference to
//! the user's syntax, so later errors and generated code carry its spans.

use crate::attr;
use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::{DeriveInput, Generics, Ident, Index, Member, Type};

/// The struct or enum `#[derive(Trace)]` is applied to.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Container,
    pub(crate) data: Data<'a>,
    pub(crate) generics: &'a Generics,
    pub(crate) original: &'a DeriveInput,
    /// The path generated code names pygc by: `#[trace(crate = "...")]`,
    /// else what the user's `Cargo.toml` calls it (`crate_path::default`).
    pub(crate) krate: syn::Path,
}

/// The shape of the type. Unions are rejected while parsing.
pub(crate) enum Data<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    #[allow(dead_code)] // parsed for its errors; variants have no keys yet
    pub(crate) attrs: attr::Variant,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    /// `name` or `0`, as written after `self.`.
    pub(crate) member: Member,
    pub(crate) attrs: attr::Field,
    pub(crate) ty: &'a Type,
}

impl<'a> Container<'a> {
    /// Parse the derive input. Returns `None` (after reporting to `cx`) only
    /// for shapes the derive cannot handle at all; bad attributes are
    /// reported but still give a `Container`, so that every problem is seen.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let data = match &input.data {
            syn::Data::Struct(data) => Data::Struct(fields_from_ast(cx, &data.fields)),
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant {
                        ident: &variant.ident,
                        attrs: attr::Variant::from_ast(cx, &variant.attrs),
                        fields: fields_from_ast(cx, &variant.fields),
                    })
                    .collect(),
            ),
            syn::Data::Union(data) => {
                let (union, ident) = (data.union_token, &input.ident);
                cx.error_spanned_by(
                    quote::quote!(#union #ident),
                    "`Trace` cannot be derived for unions: the collector cannot tell which \
                     field holds the value; implement `Trace` by hand instead",
                );
                return None;
            }
        };
        let krate = attrs
            .krate
            .clone()
            .unwrap_or_else(crate::crate_path::default);
        Some(Container {
            ident: &input.ident,
            krate,
            attrs,
            data,
            generics: &input.generics,
            original: input,
        })
    }

    /// Every field the collector must trace, over all variants.
    pub(crate) fn traced_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        let fields: Box<dyn Iterator<Item = &Field<'a>>> = match &self.data {
            Data::Struct(fields) => Box::new(fields.iter()),
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        };
        fields.filter(|field| field.is_traced())
    }
}

impl Field<'_> {
    /// Not `#[trace(skip)]`, and not a function pointer: a field written as
    /// `fn(...) -> ...` owns no handle whatever its signature (it is code,
    /// and no closure that captured a handle coerces to it), so it is left
    /// out like a skipped field. pygc's `Trace` impls for function pointers
    /// cover only arguments taken by value; this covers the higher-ranked
    /// ones (`fn(&str)`) too.
    pub(crate) fn is_traced(&self) -> bool {
        self.attrs.skip.is_none() && !is_fn_pointer(self.ty)
    }
}

fn is_fn_pointer(ty: &Type) -> bool {
    match ty {
        Type::BareFn(_) => true,
        Type::Group(group) => is_fn_pointer(&group.elem),
        Type::Paren(paren) => is_fn_pointer(&paren.elem),
        _ => false,
    }
}

fn fields_from_ast<'a>(cx: &Ctxt, fields: &'a syn::Fields) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(Index {
                    index: index as u32,
                    span: Span::call_site(),
                }),
            },
            attrs: attr::Field::from_ast(cx, &field.attrs),
            ty: &field.ty,
        })
        .collect()
}
