//! An api's `query:`: every field must have a form in a URL.
//!
//! A query parameter is text (`?limit=10&tag=a&tag=b`), so the engine can
//! turn it into a scalar, an enum variant or a list of them, and nothing
//! else: a nested record, `Json` or a list of optional values would need an
//! encoding that no client or OpenAPI tool agrees on. Refusing those here
//! keeps the generated request types, the OpenAPI parameters and the
//! engine's coercion in step.

use super::routes::header;
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Api, Field, NamedKind, Primitive, Schema, TypeRef};

pub(super) fn check(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    for api in &schema.apis {
        let Some(ty) = &api.query else { continue };
        let here = header("api", &api.name, api.span);
        let fields: &[Field] = match ty {
            TypeRef::Object(fields) => fields,
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => match schema.type_decl(name) {
                Some(decl) => &decl.fields,
                None => continue, // unknown type: already reported
            },
            _ => {
                diags.push(
                    Diagnostic::error(
                        Code::E0019,
                        format!("`query` of api `{}` must be a record of query parameters", api.name),
                    )
                    .with_primary(here, "its `query` is not a record")
                    .with_help("write `query: { limit: Int?, tag: String[]? }` or name an `input` declaring them"),
                );
                continue;
            }
        };
        for field in fields {
            if let Some(problem) = unusable(&field.ty) {
                diags.push(
                    Diagnostic::error(
                        Code::E0019,
                        format!("query parameter `{}` of api `{}` {problem}", field.name, api.name),
                    )
                    .with_primary(field.span, problem)
                    .with_secondary(here, "the api whose `query` this is")
                    .with_help(
                        "a query parameter is a String, Int, Float, Boolean, DateTime, an enum or a list of one; \
                         send structured input as a `body`",
                    ),
                );
            }
        }
        check_path_parameter(api, here, diags);
    }
}

/// Why a field's type has no form in a URL, if it has none.
fn unusable(ty: &TypeRef) -> Option<&'static str> {
    match ty {
        TypeRef::Array(inner) => match inner.as_ref() {
            TypeRef::Optional(_) => Some("is a list of optional values, which a URL cannot hold"),
            TypeRef::Array(_) => Some("is a list of lists, which a URL cannot hold"),
            other => unusable(other),
        },
        TypeRef::Primitive(Primitive::Json) => Some("is `Json`, which a URL cannot hold"),
        TypeRef::Primitive(_)
        | TypeRef::Named {
            target: NamedKind::Enum,
            ..
        } => None,
        TypeRef::Named { .. } | TypeRef::Object(_) => Some("is a record, which a URL cannot hold"),
        TypeRef::Optional(inner) => unusable(inner),
    }
}

/// The request's `query` holds the parameters, so no path parameter may
/// take that name beside a `query:` (without one, `/search/:query` is fine).
fn check_path_parameter(api: &Api, here: crate::span::Span, diags: &mut Vec<Diagnostic>) {
    if api.path_params().any(|p| p == "query") {
        diags.push(
            Diagnostic::error(
                Code::E0014,
                format!(
                    "malformed path `{}`: parameter `:query` has the name of the request's own `query`",
                    api.path
                ),
            )
            .with_primary(here, "this api declares `query:`")
            .with_help("rename the parameter, e.g. `:query_text`"),
        );
    }
}
