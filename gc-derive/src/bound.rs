//! The where-clause of the generated `Trace` impl.
//!
//! Bounds are inferred narrowly, as serde_derive does: `T: Trace` is added
//! only for a type parameter `T` that appears in the type of a traced (not
//! skipped) field. A projection such as `T::Item` or `<T as Tr>::Out` in a
//! traced field gets a bound of its own (`T::Item: Trace`) instead, because
//! the field's value is the projection, not a `T`. `PhantomData<T>` holds no
//! `T`, so nothing inside it asks for a bound.
//!
//! `#[trace(bound = "...")]` replaces the inferred bounds with the given
//! predicates. The type's own bounds (inline and in its where-clause) are
//! always kept.

use crate::ast::Container;
use quote::ToTokens;
use std::collections::HashSet;
use syn::punctuated::Punctuated;
use syn::{
    GenericArgument, Generics, Ident, Path, PathArguments, ReturnType, Type, TypeParamBound,
    WherePredicate,
};

/// The generics of the `Trace` impl: the type's generics with the inferred
/// (or user-given) bounds appended to its where-clause.
pub(crate) fn trace_impl_generics(container: &Container<'_>) -> Generics {
    let predicates: Vec<WherePredicate> = match &container.attrs.bound {
        Some(bound) => bound.predicates.clone(),
        None => inferred_predicates(container),
    };
    let mut generics = container.generics.clone();
    if !predicates.is_empty() {
        generics.make_where_clause().predicates.extend(predicates);
    }
    generics
}

/// `T: pygc::Trace` for each type parameter used by a traced field (in
/// declaration order), then `Projection: pygc::Trace` for each
/// projection on a type parameter used by a traced field.
fn inferred_predicates(container: &Container<'_>) -> Vec<WherePredicate> {
    let krate = &container.krate;
    let params: HashSet<&Ident> = container
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    if params.is_empty() {
        return Vec::new();
    }
    let mut usage = Usage {
        params: &params,
        used: HashSet::new(),
        projections: Vec::new(),
    };
    for field in container.traced_fields() {
        usage.visit_type(field.ty);
    }

    let mut predicates: Vec<WherePredicate> = container
        .generics
        .type_params()
        .filter(|param| usage.used.contains(&param.ident))
        .map(|param| {
            let ident = &param.ident;
            syn::parse_quote!(#ident: #krate::Trace)
        })
        .collect();
    let mut seen = HashSet::new();
    for projection in usage.projections {
        if seen.insert(projection.to_token_stream().to_string()) {
            predicates.push(syn::parse_quote!(#projection: #krate::Trace));
        }
    }
    predicates
}

/// Walks field types, recording the type parameters they mention.
struct Usage<'p> {
    params: &'p HashSet<&'p Ident>,
    /// Type parameters that appear as a type of their own (`T`, `Vec<T>`).
    used: HashSet<Ident>,
    /// Projections on a type parameter (`T::Item`, `<T as Tr>::Out`).
    projections: Vec<Type>,
}

impl Usage<'_> {
    fn visit_type(&mut self, ty: &Type) {
        match ty {
            Type::Array(array) => self.visit_type(&array.elem),
            Type::BareFn(function) => {
                for input in &function.inputs {
                    self.visit_type(&input.ty);
                }
                self.visit_return_type(&function.output);
            }
            Type::Group(group) => self.visit_type(&group.elem),
            Type::ImplTrait(impl_trait) => self.visit_bounds(&impl_trait.bounds),
            Type::Paren(paren) => self.visit_type(&paren.elem),
            Type::Path(path) => {
                if let Some(qself) = &path.qself {
                    if self.mentions_param(&qself.ty) {
                        self.projections.push(ty.clone());
                        return;
                    }
                    self.visit_type(&qself.ty);
                } else if path.path.leading_colon.is_none() {
                    let first = &path.path.segments[0];
                    if self.params.contains(&first.ident) {
                        if path.path.segments.len() == 1 {
                            self.used.insert(first.ident.clone());
                        } else {
                            self.projections.push(ty.clone());
                        }
                        return;
                    }
                }
                self.visit_path(&path.path);
            }
            Type::Ptr(pointer) => self.visit_type(&pointer.elem),
            Type::Reference(reference) => self.visit_type(&reference.elem),
            Type::Slice(slice) => self.visit_type(&slice.elem),
            Type::TraitObject(object) => self.visit_bounds(&object.bounds),
            Type::Tuple(tuple) => {
                for elem in &tuple.elems {
                    self.visit_type(elem);
                }
            }
            // `Infer`, `Macro`, `Never`, `Verbatim`: nothing we can see into.
            _ => {}
        }
    }

    fn visit_path(&mut self, path: &Path) {
        for segment in &path.segments {
            // `PhantomData<T>` owns no `T`: its `Trace` impl needs no bound.
            if segment.ident == "PhantomData" {
                continue;
            }
            match &segment.arguments {
                PathArguments::None => {}
                PathArguments::AngleBracketed(arguments) => {
                    for argument in &arguments.args {
                        match argument {
                            GenericArgument::Type(ty) => self.visit_type(ty),
                            GenericArgument::AssocType(assoc) => self.visit_type(&assoc.ty),
                            GenericArgument::Constraint(constraint) => {
                                self.visit_bounds(&constraint.bounds)
                            }
                            // Lifetimes and consts need no `Trace` bound.
                            _ => {}
                        }
                    }
                }
                PathArguments::Parenthesized(arguments) => {
                    for input in &arguments.inputs {
                        self.visit_type(input);
                    }
                    self.visit_return_type(&arguments.output);
                }
            }
        }
    }

    fn visit_return_type(&mut self, output: &ReturnType) {
        if let ReturnType::Type(_, ty) = output {
            self.visit_type(ty);
        }
    }

    fn visit_bounds<P>(&mut self, bounds: &Punctuated<TypeParamBound, P>) {
        for bound in bounds {
            if let TypeParamBound::Trait(bound) = bound {
                self.visit_path(&bound.path);
            }
        }
    }

    /// Whether `ty` mentions any type parameter at all.
    fn mentions_param(&self, ty: &Type) -> bool {
        let mut inner = Usage {
            params: self.params,
            used: HashSet::new(),
            projections: Vec::new(),
        };
        inner.visit_type(ty);
        !inner.used.is_empty() || !inner.projections.is_empty()
    }
}
