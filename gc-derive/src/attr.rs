//! The `#[trace(...)]` attributes: their grammar, and where each key may go.
//!
//! | key                    | on the type | on a variant | on a field |
//! |------------------------|-------------|--------------|------------|
//! | `skip`                 |             |              | yes        |
//! | `finalize`             | yes         |              |            |
//! | `legacy_finalize`      | yes         |              |            |
//! | `bound = "<preds>"`    | yes         |              |            |
//! | `crate = "<path>"`     | yes         |              |            |
//!
//! Parsing never stops at the first problem: each bad key is reported to the
//! [`Ctxt`] and parsing resumes after it, so the user sees every mistake at
//! once. What this module does not judge (combinations of valid keys) is
//! left to `check.rs`.

use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Attribute, Lit, LitStr, Meta, Token, WherePredicate};

/// Where an attribute was written. Decides which keys are accepted and how
/// messages name the place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// On the struct or enum itself.
    Container,
    /// On an enum variant.
    Variant,
    /// On a field of a struct or of an enum variant.
    Field,
}

impl Position {
    /// How messages name this place.
    fn describe(self) -> &'static str {
        match self {
            Position::Container => "the type",
            Position::Variant => "an enum variant",
            Position::Field => "a field",
        }
    }

    /// The end of a message that tells which keys this place accepts.
    fn expected(self) -> &'static str {
        match self {
            Position::Container => {
                "expected one of `finalize`, `legacy_finalize`, `bound = \"...\"`, `crate = \"...\"`"
            }
            Position::Variant => {
                "enum variants take no `trace` attributes (mark their fields `#[trace(skip)]` instead)"
            }
            Position::Field => "expected `skip`",
        }
    }

    fn accepts(self, key: Key) -> bool {
        match key {
            Key::Skip => self == Position::Field,
            Key::Finalize | Key::LegacyFinalize | Key::Bound | Key::Crate => {
                self == Position::Container
            }
        }
    }
}

/// Every key the `trace` attribute knows, wherever it may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Skip,
    Finalize,
    LegacyFinalize,
    Bound,
    Crate,
}

impl Key {
    fn from_name(name: &str) -> Option<Key> {
        Some(match name {
            "skip" => Key::Skip,
            "finalize" => Key::Finalize,
            "legacy_finalize" => Key::LegacyFinalize,
            "bound" => Key::Bound,
            "crate" => Key::Crate,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Skip => "skip",
            Key::Finalize => "finalize",
            Key::LegacyFinalize => "legacy_finalize",
            Key::Bound => "bound",
            Key::Crate => "crate",
        }
    }

    /// How the key is written in full, for messages.
    fn example(self) -> &'static str {
        match self {
            Key::Skip => "#[trace(skip)]",
            Key::Finalize => "#[trace(finalize)]",
            Key::LegacyFinalize => "#[trace(legacy_finalize)]",
            Key::Bound => "#[trace(bound = \"...\")]",
            Key::Crate => "#[trace(crate = \"...\")]",
        }
    }
}

/// A flag key as written: where, and in which order among the keys of the
/// same item (to tell which of two conflicting keys came second).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flag {
    pub(crate) span: Span,
    pub(crate) order: usize,
}

/// `bound = "..."`: the where-predicates that replace the inferred bounds.
#[derive(Debug)]
pub(crate) struct Bound {
    pub(crate) predicates: Vec<WherePredicate>,
}

/// The attributes of the derived type.
#[derive(Debug, Default)]
pub(crate) struct Container {
    pub(crate) finalize: Option<Flag>,
    pub(crate) legacy_finalize: Option<Flag>,
    pub(crate) bound: Option<Bound>,
    /// `crate = "path"`: where pygc is, instead of the dependency's name.
    pub(crate) krate: Option<syn::Path>,
}

/// The attributes of an enum variant. None are accepted; they are still
/// parsed so that misplaced keys get a precise message.
#[derive(Debug, Default)]
pub(crate) struct Variant {}

/// The attributes of a field.
#[derive(Debug, Default)]
pub(crate) struct Field {
    pub(crate) skip: Option<Flag>,
}

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut container = Container::default();
        parse_trace_attrs(cx, attrs, Position::Container, |key, value| {
            match (key, value) {
                (Key::Finalize, Value::Flag(flag)) => {
                    set_once(cx, key, &mut container.finalize, flag)
                }
                (Key::LegacyFinalize, Value::Flag(flag)) => {
                    set_once(cx, key, &mut container.legacy_finalize, flag)
                }
                (Key::Bound, Value::Bound(span, bound)) => {
                    if container.bound.is_some() {
                        cx.error_at(span, duplicate(key));
                    } else {
                        container.bound = Some(bound);
                    }
                }
                (Key::Crate, Value::Crate(span, path)) => {
                    if container.krate.is_some() {
                        cx.error_at(span, duplicate(key));
                    } else {
                        container.krate = Some(path);
                    }
                }
                _ => unreachable!("parse_trace_attrs hands over only the container's keys"),
            }
        });
        container
    }
}

impl Variant {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        parse_trace_attrs(cx, attrs, Position::Variant, |_, _| {
            unreachable!("no key is accepted on a variant")
        });
        Variant {}
    }
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut field = Field::default();
        parse_trace_attrs(cx, attrs, Position::Field, |key, value| {
            match (key, value) {
                (Key::Skip, Value::Flag(flag)) => set_once(cx, key, &mut field.skip, flag),
                _ => unreachable!("parse_trace_attrs hands over only a field's keys"),
            }
        });
        field
    }
}

/// A key accepted at its position, with its parsed value.
enum Value {
    Flag(Flag),
    Bound(Span, Bound),
    Crate(Span, syn::Path),
}

fn duplicate(key: Key) -> String {
    format!("duplicate `trace({})` attribute", key.name())
}

fn set_once(cx: &Ctxt, key: Key, slot: &mut Option<Flag>, flag: Flag) {
    if slot.is_some() {
        cx.error_at(flag.span, duplicate(key));
    } else {
        *slot = Some(flag);
    }
}

/// Parse every `#[trace(...)]` among `attrs`, report what is wrong to `cx`,
/// and hand each well-formed key that `position` accepts to `accept`, in
/// source order.
fn parse_trace_attrs(
    cx: &Ctxt,
    attrs: &[Attribute],
    position: Position,
    mut accept: impl FnMut(Key, Value),
) {
    let mut order = 0;
    for attr in attrs {
        if !attr.path().is_ident("trace") {
            continue;
        }
        let list = match &attr.meta {
            Meta::List(list) => list,
            Meta::Path(_) | Meta::NameValue(_) => {
                let message = match position {
                    Position::Variant => position.expected().to_owned(),
                    _ => format!("expected `#[trace(...)]`; {}", position.expected()),
                };
                cx.error_spanned_by(attr, message);
                continue;
            }
        };
        let parsed = list.parse_nested_meta(|meta| {
            order += 1;
            parse_key(cx, &meta, position, order, &mut accept)
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
}

/// Parse one `key` or `key = value` inside `trace(...)`. Problems with the
/// key are reported to `cx` and the rest of the key is skipped, so that the
/// following keys are still checked; only a broken token stream (nothing to
/// resynchronise on) ends the attribute with `Err`.
fn parse_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    position: Position,
    order: usize,
    accept: &mut impl FnMut(Key, Value),
) -> syn::Result<()> {
    let Some(key) = meta
        .path
        .get_ident()
        .and_then(|ident| Key::from_name(&ident.to_string()))
    else {
        let name = quote::ToTokens::to_token_stream(&meta.path).to_string();
        let name = name.replace(' ', "");
        cx.error_spanned_by(
            &meta.path,
            format!(
                "unknown `trace` attribute `{name}` on {}; {}",
                position.describe(),
                position.expected()
            ),
        );
        return skip_rest_of_key(meta);
    };

    if !position.accepts(key) {
        let message = match key {
            Key::Skip => format!(
                "`skip` applies to fields only, not to {}; put `#[trace(skip)]` on the fields to leave untraced",
                position.describe()
            ),
            Key::Finalize | Key::LegacyFinalize | Key::Bound | Key::Crate => format!(
                "`{}` applies to the type, not to {}; write `{}` next to `#[derive(Trace)]`",
                key.name(),
                position.describe(),
                key.example()
            ),
        };
        cx.error_spanned_by(&meta.path, message);
        return skip_rest_of_key(meta);
    }

    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, |i| i.span());
    match key {
        Key::Skip | Key::Finalize | Key::LegacyFinalize => {
            if !at_end_of_key(meta) {
                cx.error_spanned_by(
                    &meta.path,
                    format!("`{}` takes no value: write `{}`", key.name(), key.example()),
                );
                return skip_rest_of_key(meta);
            }
            accept(key, Value::Flag(Flag { span, order }));
        }
        Key::Bound => {
            let Some(string) = string_value(
                cx,
                meta,
                "`bound` needs a string of where-predicates: `#[trace(bound = \"T: Trace\")]`",
                "expected a string of where-predicates: `bound = \"T: Trace\"`",
            )?
            else {
                return Ok(());
            };
            if let Some(predicates) = parse_bound(cx, &string) {
                accept(key, Value::Bound(span, Bound { predicates }));
            }
        }
        Key::Crate => {
            let Some(string) = string_value(
                cx,
                meta,
                "`crate` needs the path to pygc as a string: `#[trace(crate = \"my::pygc\")]`",
                "expected the path to pygc as a string: `crate = \"my::pygc\"`",
            )?
            else {
                return Ok(());
            };
            match string.parse_with(syn::Path::parse_mod_style) {
                Ok(path) => accept(key, Value::Crate(span, path)),
                Err(error) => cx.error_at(
                    string.span(),
                    format!("cannot parse `crate` as a path: {error}"),
                ),
            }
        }
    }
    Ok(())
}

/// The string of a `key = "..."` attribute; `None` (with the error
/// reported: `needs` when the `=` or the value is missing, `expected` when
/// the value is not a string) if there is none.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    needs: &str,
    expected: &str,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, needs);
        skip_rest_of_key(meta)?;
        return Ok(None);
    }
    let equals: Token![=] = meta.input.parse()?;
    let value = rest_of_key(meta)?;
    match syn::parse2::<Lit>(value.clone()) {
        Ok(Lit::Str(string)) => Ok(Some(string)),
        _ if value.is_empty() => {
            cx.error_spanned_by(quote::quote!(#equals), needs);
            Ok(None)
        }
        _ => {
            cx.error_spanned_by(value, expected);
            Ok(None)
        }
    }
}

/// Parse the content of `bound = "..."` as comma-separated where-predicates.
fn parse_bound(cx: &Ctxt, string: &LitStr) -> Option<Vec<WherePredicate>> {
    match string.parse_with(Punctuated::<WherePredicate, Token![,]>::parse_terminated) {
        Ok(predicates) => Some(predicates.into_iter().collect()),
        Err(error) => {
            cx.error_at(
                string.span(),
                format!("cannot parse `bound` as where-predicates: {error}"),
            );
            None
        }
    }
}

/// Whether the key just parsed is complete (followed by `,` or the end).
fn at_end_of_key(meta: &ParseNestedMeta<'_>) -> bool {
    meta.input.is_empty() || meta.input.peek(Token![,])
}

/// The tokens up to the next top-level comma: the rest of the current key.
fn rest_of_key(meta: &ParseNestedMeta<'_>) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !at_end_of_key(meta) {
        tokens.extend([meta.input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

/// Skip whatever follows a rejected key (`= value`, `(...)`), so that
/// parsing resumes at the next key.
fn skip_rest_of_key(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    rest_of_key(meta).map(drop)
}
