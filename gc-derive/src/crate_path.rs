//! Where the generated code finds pygc.
//!
//! A user's `Cargo.toml` may call the dependency anything
//! (`gc = { package = "pygc" }`), and pygc's own code derives `Trace` too.
//! `proc-macro-crate` reads the `Cargo.toml` of the crate being compiled and
//! says under which name pygc is a dependency; the generated code then names
//! it with an absolute path (`::gc`). `#[trace(crate = "path")]` overrides
//! this, for a crate that reaches pygc only through a re-export.

use proc_macro2::Span;
use proc_macro_crate::{crate_name, FoundCrate};
use syn::Ident;

/// The package name the derive looks for.
const PACKAGE: &str = "pygc";

/// `::<name>` where `<name>` is what the crate being compiled calls pygc.
///
/// pygc itself (`FoundCrate::Itself`, also its tests and examples) is
/// `::pygc`: the library declares `extern crate self as pygc`, and its tests
/// see it under its own name. When the manifest cannot be read or does not
/// list pygc (pygc-derive used alone, a build system other than Cargo),
/// `::pygc` is the best guess; `#[trace(crate = "...")]` fixes it.
pub(crate) fn default() -> syn::Path {
    let name = match crate_name(PACKAGE) {
        Ok(FoundCrate::Name(name)) => name,
        Ok(FoundCrate::Itself) | Err(_) => PACKAGE.to_owned(),
    };
    let ident = Ident::new(&name, Span::call_site());
    syn::parse_quote!(::#ident)
}
