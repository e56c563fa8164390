//! Unit tests of the parse / check / expand layers, on `parse_quote!` inputs.
//! The UI suite in `tests/` checks the same through rustc, with spans.

use crate::expand;
use quote::ToTokens;
use syn::{parse_quote, DeriveInput, ImplItem, Item, ItemConst, ItemImpl, LitStr};

/// Run the derive; the output must always be valid Rust items.
fn derive(input: DeriveInput) -> syn::File {
    let tokens = expand::derive(&input);
    syn::parse2(tokens.clone())
        .unwrap_or_else(|error| panic!("derive output does not parse ({error}):\n{tokens}"))
}

/// The messages of the `compile_error!`s the derive emitted.
fn errors(input: DeriveInput) -> Vec<String> {
    derive(input)
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Macro(item)
                if item.mac.path.segments.last().unwrap().ident == "compile_error" =>
            {
                Some(item.mac.parse_body::<LitStr>().unwrap().value())
            }
            _ => None,
        })
        .collect()
}

fn assert_one_error(input: DeriveInput, expected: &str) {
    let errors = errors(input);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert!(
        errors[0].contains(expected),
        "error {:?} does not contain {expected:?}",
        errors[0]
    );
}

/// The impls inside the generated `const _: () = { ... };`.
fn impls(input: DeriveInput) -> Vec<ItemImpl> {
    let file = derive(input);
    assert_eq!(file.items.len(), 1, "expected one `const _`");
    let Item::Const(ItemConst { expr, .. }) = &file.items[0] else {
        panic!("expected `const _`");
    };
    let syn::Expr::Block(block) = &**expr else {
        panic!("expected a block");
    };
    block
        .block
        .stmts
        .iter()
        .map(|stmt| match stmt {
            syn::Stmt::Item(Item::Impl(item)) => item.clone(),
            other => panic!("unexpected {}", other.to_token_stream()),
        })
        .collect()
}

fn trace_impl(input: DeriveInput) -> ItemImpl {
    let impls = impls(input);
    // The forbid-unmarked-`Finalize` impl comes only without a finalizer
    // attribute.
    assert!(
        (2..=3).contains(&impls.len()),
        "expected the Trace, the forbid-Drop (and forbid-Finalize) impls"
    );
    assert!(impls[0].unsafety.is_some());
    impls[0].clone()
}

fn where_clause(input: DeriveInput) -> String {
    let item = trace_impl(input);
    let where_clause = &item.generics.where_clause;
    where_clause.to_token_stream().to_string()
}

fn method(item: &ItemImpl, name: &str) -> Option<String> {
    item.items.iter().find_map(|item| match item {
        ImplItem::Fn(function) if function.sig.ident == name => {
            Some(function.block.to_token_stream().to_string())
        }
        _ => None,
    })
}

// ---- shapes ----------------------------------------------------------------

#[test]
fn named_struct() {
    let item = trace_impl(parse_quote! {
        struct Node { name: String, next: Option<Gc<Node>>, #[trace(skip)] cache: Mutex<u8> }
    });
    let trace = method(&item, "trace").unwrap();
    assert!(trace.contains("& self . name"), "{trace}");
    assert!(trace.contains("& self . next"), "{trace}");
    assert!(!trace.contains("cache"), "{trace}");
    assert!(method(&item, "__gc_finalizer").is_none());
    assert!(method(&item, "__gc_finalize").is_none());
}

#[test]
fn tuple_and_unit_structs() {
    let item = trace_impl(parse_quote!(
        struct Pair(Gc<i32>, #[trace(skip)] Rc<i32>, u8);
    ));
    let trace = method(&item, "trace").unwrap();
    assert!(trace.contains("& self . 0"), "{trace}");
    assert!(!trace.contains("& self . 1"), "{trace}");
    assert!(trace.contains("& self . 2"), "{trace}");

    let item = trace_impl(parse_quote!(
        struct Unit;
    ));
    assert_eq!(method(&item, "trace").unwrap(), "{ let _ = __gc_tracer ; }");
    assert_eq!(method(&item, "__gc_tracked_with").unwrap(), "{ false }");
}

#[test]
fn enum_of_every_variant_kind() {
    let item = trace_impl(parse_quote! {
        enum E { Unit, Tuple(Gc<u8>, #[trace(skip)] Rc<u8>), Named { a: Gc<u8>, #[trace(skip)] b: Rc<u8> } }
    });
    let trace = method(&item, "trace").unwrap();
    assert!(trace.contains("Self :: Unit { .. }"), "{trace}");
    assert!(
        trace.contains("Self :: Tuple { 0 : __gc_field0 , .. }"),
        "{trace}"
    );
    assert!(
        trace.contains("Self :: Named { a : __gc_field0 , .. }"),
        "{trace}"
    );
    // Each distinct traced type is asked once.
    let tracked = method(&item, "__gc_tracked_with").unwrap();
    assert_eq!(tracked.matches("__gc_tracked_with").count(), 1, "{tracked}");
}

#[test]
fn empty_enum() {
    let item = trace_impl(parse_quote!(
        enum Void {}
    ));
    assert_eq!(method(&item, "trace").unwrap(), "{ let _ = __gc_tracer ; }");
    assert_eq!(method(&item, "__gc_tracked_with").unwrap(), "{ false }");
}

#[test]
fn tracked_is_the_or_of_traced_fields() {
    let item = trace_impl(parse_quote!(
        struct S {
            a: u8,
            b: Gc<u8>,
            #[trace(skip)]
            c: Rc<u8>,
        }
    ));
    let tracked = method(&item, "__gc_tracked_with").unwrap();
    assert!(
        tracked.contains("< u8 as :: pygc :: Trace > :: __gc_tracked_with :: <"),
        "{tracked}"
    );
    assert!(tracked.contains("||"));
    assert!(!tracked.contains("Rc"), "{tracked}");
}

#[test]
fn self_referential_types_are_tracked_without_recursing() {
    for input in [
        parse_quote!(
            struct Tree {
                kids: Vec<Tree>,
            }
        ),
        parse_quote!(
            struct List {
                next: Option<Box<Self>>,
            }
        ),
    ] {
        let item = trace_impl(input);
        assert_eq!(method(&item, "__gc_tracked_with").unwrap(), "{ true }");
    }
}

#[test]
fn finalizers() {
    let item = trace_impl(parse_quote!(
        #[trace(finalize)]
        struct F;
    ));
    let kind = method(&item, "__gc_finalizer").unwrap();
    assert!(kind.contains("FinalizerKind :: Pep442"), "{kind}");
    let call = method(&item, "__gc_finalize").unwrap();
    assert!(
        call.contains("< Self as :: pygc :: Finalize > :: finalize (self)"),
        "{call}"
    );

    let item = trace_impl(parse_quote!(
        #[trace(legacy_finalize)]
        struct F;
    ));
    let kind = method(&item, "__gc_finalizer").unwrap();
    assert!(kind.contains("FinalizerKind :: Legacy"), "{kind}");
}

#[test]
fn forbid_drop_impl_uses_the_types_own_generics() {
    let impls = impls(parse_quote!(
        struct S<'a, T: Clone, const N: usize>
        where
            T: Copy,
        {
            x: &'a [T; N],
        }
    ));
    let forbid = &impls[1];
    assert!(forbid.unsafety.is_none());
    let text = forbid.to_token_stream().to_string();
    assert!(
        text.contains("DeriveTraceForbidsDrop_ImplementFinalizeInstead"),
        "{text}"
    );
    assert!(text.contains("where T : Copy"), "{text}");
    assert!(!text.contains("Trace >"), "no inferred bound here: {text}");
}

#[test]
fn an_unmarked_type_gets_the_forbid_finalize_impl_a_marked_one_not() {
    let unmarked = impls(parse_quote!(
        struct S<T: Clone> {
            x: T,
        }
    ));
    assert_eq!(unmarked.len(), 3);
    let text = unmarked[2].to_token_stream().to_string();
    assert!(
        text.contains("DeriveTraceIgnoresFinalize_AddTraceFinalizeAttribute"),
        "{text}"
    );
    assert!(text.contains("for S < T >"), "{text}");
    for marked in [
        impls(parse_quote!(
            #[trace(finalize)]
            struct S {
                x: u8,
            }
        )),
        impls(parse_quote!(
            #[trace(legacy_finalize)]
            struct S {
                x: u8,
            }
        )),
    ] {
        assert_eq!(
            marked.len(),
            2,
            "no forbid-Finalize impl with the attribute"
        );
    }
}

// ---- bounds ----------------------------------------------------------------

#[test]
fn bounds_only_for_params_in_traced_fields() {
    let bounds = where_clause(parse_quote! {
        struct S<'a, A, B, C, D, const N: usize> {
            a: Vec<A>,
            #[trace(skip)] b: B,
            c: [Gc<C>; N],
            d: PhantomData<D>,
            r: PhantomData<&'a ()>,
        }
    });
    assert_eq!(bounds, "where A : :: pygc :: Trace , C : :: pygc :: Trace");
}

#[test]
fn no_where_clause_without_params() {
    assert_eq!(
        where_clause(parse_quote!(
            struct S(u8);
        )),
        ""
    );
}

#[test]
fn existing_where_clause_is_kept() {
    let bounds = where_clause(parse_quote! {
        struct S<T> where T: Clone { t: T }
    });
    assert_eq!(bounds, "where T : Clone , T : :: pygc :: Trace");
}

#[test]
fn projections_get_their_own_bound() {
    let bounds = where_clause(parse_quote! {
        struct S<I: Iterator, J: Tr> { item: Option<I::Item>, out: <J as Tr>::Out }
    });
    assert_eq!(
        bounds,
        "where I :: Item : :: pygc :: Trace , < J as Tr > :: Out : :: pygc :: Trace"
    );
}

#[test]
fn params_inside_other_types_are_found() {
    let bounds = where_clause(parse_quote! {
        enum E<A, B, C, D> { X(Box<(A, [B])>), Y { f: Option<(C, Vec<D>)> } }
    });
    assert_eq!(
        bounds,
        "where A : :: pygc :: Trace , B : :: pygc :: Trace , \
         C : :: pygc :: Trace , D : :: pygc :: Trace"
    );
}

#[test]
fn bound_attribute_replaces_inference() {
    let bounds = where_clause(parse_quote! {
        #[trace(bound = "T: Trace + Clone, U: Default")]
        struct S<T, U> where U: Copy { t: T, u: U }
    });
    assert_eq!(bounds, "where U : Copy , T : Trace + Clone , U : Default");

    let bounds = where_clause(parse_quote! {
        #[trace(bound = "")]
        struct S<T> { t: T }
    });
    assert_eq!(bounds, "");
}

// ---- errors ----------------------------------------------------------------

#[test]
fn union_is_rejected() {
    assert_one_error(
        parse_quote!(
            union U {
                a: u8,
            }
        ),
        "cannot be derived for unions",
    );
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace(skp)]
                a: u8,
            }
        ),
        "unknown `trace` attribute `skp` on a field; expected `skip`",
    );
    assert_one_error(
        parse_quote!(
            #[trace(finalise)]
            struct S;
        ),
        "unknown `trace` attribute `finalise` on the type; expected one of `finalize`, \
         `legacy_finalize`, `bound = \"...\"`",
    );
    assert_one_error(
        parse_quote!(
            enum E {
                #[trace(foo)]
                V,
            }
        ),
        "enum variants take no `trace` attributes",
    );
    assert_one_error(
        parse_quote!(
            struct S(#[trace(a::b)] u8);
        ),
        "unknown `trace` attribute `a::b`",
    );
}

#[test]
fn skip_applies_to_fields_only() {
    assert_one_error(
        parse_quote!(
            #[trace(skip)]
            struct S;
        ),
        "`skip` applies to fields only, not to the type",
    );
    assert_one_error(
        parse_quote!(
            enum E {
                #[trace(skip)]
                V(u8),
            }
        ),
        "`skip` applies to fields only, not to an enum variant",
    );
}

#[test]
fn type_keys_apply_to_the_type_only() {
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace(finalize)]
                a: u8,
            }
        ),
        "`finalize` applies to the type, not to a field",
    );
    assert_one_error(
        parse_quote!(
            enum E {
                #[trace(legacy_finalize)]
                V,
            }
        ),
        "`legacy_finalize` applies to the type, not to an enum variant",
    );
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace(bound = "T: Trace")]
                a: u8,
            }
        ),
        "`bound` applies to the type, not to a field",
    );
}

#[test]
fn both_finalizers() {
    assert_one_error(
        parse_quote!(
            #[trace(finalize, legacy_finalize)]
            struct S;
        ),
        "`finalize` and `legacy_finalize` cannot be combined",
    );
    assert_one_error(
        parse_quote!(
            #[trace(legacy_finalize)]
            #[trace(finalize)]
            struct S;
        ),
        "cannot be combined",
    );
}

#[test]
fn duplicates() {
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace(skip, skip)]
                a: u8,
            }
        ),
        "duplicate `trace(skip)` attribute",
    );
    assert_one_error(
        parse_quote!(
            #[trace(finalize)]
            #[trace(finalize)]
            struct S;
        ),
        "duplicate `trace(finalize)` attribute",
    );
    assert_one_error(
        parse_quote!(
            #[trace(bound = "", bound = "")]
            struct S;
        ),
        "duplicate `trace(bound)` attribute",
    );
}

#[test]
fn malformed() {
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace]
                a: u8,
            }
        ),
        "expected `#[trace(...)]`; expected `skip`",
    );
    assert_one_error(
        parse_quote!(
            #[trace = "finalize"]
            struct S;
        ),
        "expected `#[trace(...)]`; expected one of",
    );
    assert_one_error(
        parse_quote!(
            struct S {
                #[trace(skip = true)]
                a: u8,
            }
        ),
        "`skip` takes no value",
    );
    assert_one_error(
        parse_quote!(
            #[trace(finalize())]
            struct S;
        ),
        "`finalize` takes no value",
    );
    assert_one_error(
        parse_quote!(
            #[trace(bound)]
            struct S;
        ),
        "`bound` needs a string of where-predicates",
    );
    assert_one_error(
        parse_quote!(
            #[trace(bound = T: Trace)]
            struct S;
        ),
        "expected a string of where-predicates",
    );
    assert_one_error(
        parse_quote!(
            #[trace(bound = , finalize)]
            struct S;
        ),
        "`bound` needs a string of where-predicates",
    );
    assert_one_error(
        parse_quote!(
            #[trace(bound = "T Trace")]
            struct S<T>(T);
        ),
        "cannot parse `bound` as where-predicates",
    );
}

#[test]
fn packed_is_rejected() {
    assert_one_error(
        parse_quote!(
            #[repr(C, packed(2))]
            struct S(u8);
        ),
        "`#[repr(packed)]`",
    );
    // `align` is fine.
    assert!(errors(parse_quote!(
        #[repr(C, align(8))]
        struct S(u8);
    ))
    .is_empty());
}

#[test]
fn every_error_is_reported_at_once() {
    let errors = errors(parse_quote! {
        #[trace(skip, finalize, legacy_finalize, bogus)]
        enum E {
            #[trace(finalize)] V { #[trace(skip, skip)] a: u8, #[trace(what)] b: u8 },
        }
    });
    assert_eq!(errors.len(), 6, "{errors:#?}");
}

#[test]
fn error_output_has_a_fallback_impl() {
    let file = derive(parse_quote!(
        #[trace(nope)]
        struct S<T>(T);
    ));
    assert_eq!(file.items.len(), 2, "the error and the fallback");
    assert!(matches!(&file.items[1], Item::Const(_)));
}

#[test]
fn other_attributes_are_ignored() {
    assert!(errors(parse_quote!(
        #[derive(Debug)]
        #[serde(skip)]
        struct S {
            #[doc = "x"]
            a: u8,
        }
    ))
    .is_empty());
}

// ---- where pygc is ---------------------------------------------------------

#[test]
fn crate_attribute_replaces_every_path() {
    let file = derive(parse_quote!(
        #[trace(crate = "my::gc", finalize)]
        struct S<T> {
            a: T,
        }
    ));
    let text = file.to_token_stream().to_string();
    assert!(!text.contains(":: pygc"), "{text}");
    for path in [
        "unsafe impl < T > my :: gc :: Trace for S < T > where T : my :: gc :: Trace",
        "my :: gc :: Tracer",
        "my :: gc :: __private :: FinalizerKind :: Pep442",
        "my :: gc :: __private :: DeriveTraceForbidsDrop_ImplementFinalizeInstead",
        "< Self as my :: gc :: Finalize >",
    ] {
        assert!(text.contains(path), "{path} not in {text}");
    }
}

#[test]
fn crate_attribute_errors() {
    assert_one_error(
        parse_quote!(
            #[trace(crate = "a::", crate = "b")]
            struct S;
        ),
        "cannot parse `crate` as a path",
    );
    assert_one_error(
        parse_quote!(
            #[trace(crate = "a", crate = "b")]
            struct S;
        ),
        "duplicate `trace(crate)` attribute",
    );
    assert_one_error(
        parse_quote!(
            #[trace(crate)]
            struct S;
        ),
        "`crate` needs the path to pygc as a string",
    );
}

// ---- Rc and Arc fields -----------------------------------------------------

#[test]
fn rc_and_arc_fields_get_their_own_message() {
    for (input, name) in [
        (
            parse_quote!(
                struct S {
                    a: Rc<u8>,
                }
            ),
            "`Rc` cannot be traced: use `Gc`",
        ),
        (
            parse_quote!(
                struct S(std::rc::Rc<u8>);
            ),
            "`Rc` cannot be traced",
        ),
        (
            parse_quote!(
                struct S {
                    a: RefCell<Option<Rc<u8>>>,
                }
            ),
            "`Rc` cannot be traced",
        ),
        (
            parse_quote!(
                enum E {
                    V([(u8, Arc<u8>); 2]),
                }
            ),
            "`Arc` cannot be traced",
        ),
        (
            parse_quote!(
                struct S {
                    a: ::alloc::sync::Arc<u8>,
                }
            ),
            "`Arc` cannot be traced",
        ),
    ] {
        assert_one_error(input, name);
    }
}

#[test]
fn rc_lookalikes_and_skipped_rc_are_accepted() {
    for input in [
        parse_quote!(
            struct S {
                #[trace(skip)]
                a: Rc<u8>,
            }
        ),
        parse_quote!(
            struct S {
                a: my::Rc<u8>,
            }
        ), // not std's
        parse_quote!(
            struct S {
                a: Rc,
            }
        ), // no arguments: not std's
        parse_quote!(
            struct S {
                a: &'static Rc<u8>,
            }
        ),
        parse_quote!(
            struct S {
                a: Gc<u8>,
                b: RcBox<u8>,
            }
        ),
    ] {
        let errors = errors(input);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn fn_pointer_fields_are_not_traced() {
    let item = trace_impl(parse_quote!(
        struct Native<T> {
            call: fn(&mut T, &[T]) -> Option<&T>,
            hook: (unsafe extern "C" fn(*const u8)),
        }
    ));
    assert!(item.generics.where_clause.is_none(), "no `T: Trace` bound");
    assert_eq!(
        method(&item, "__gc_tracked_with").unwrap(),
        "{ false }",
        "untracked"
    );
}
