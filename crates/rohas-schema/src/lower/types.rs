//! Records, enums, fields, attributes and type references.
//!
//! Besides resolving names, this is where the naming rule of generated code
//! (the wire keeps schema names; Python and Rust use snake_case) is
//! enforced early: two names that become the same identifier after
//! conversion (`userId` and `user_id` are both `user_id` in Python and Rust)
//! are an error here rather than broken generated code later.

use super::{DeclKind, Names};
use crate::ast::{self, AttrArg, AttributeExpr, FieldDecl, TypeExpr};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Attribute, EnumDecl, EnumVariant, Field, Literal, NamedKind, Primitive, Schema, TypeDecl, TypeRef};
use crate::naming::snake_case;
use crate::span::Span;
use crate::suggest::did_you_mean;
use std::collections::HashMap;

const PRIMITIVES: &[&str] = &["String", "Int", "Float", "Boolean", "DateTime", "Json"];
const ATTRIBUTES: &[&str] = &[
    "id", "auto", "unique", "default", "optional", "min", "max", "pattern", "relation",
];

pub(super) fn lower_record(record: &ast::RecordDecl, names: &Names, diags: &mut Vec<Diagnostic>) -> TypeDecl {
    TypeDecl {
        name: record.name.name.clone(),
        kind: record.kind,
        fields: lower_fields(&record.fields, names, diags),
        indexes: record
            .attributes
            .iter()
            .filter_map(|a| super::relations::lower_index(a, diags))
            .collect(),
        doc: record.doc.clone(),
        span: record.span,
    }
}

pub(super) fn lower_fields(fields: &[FieldDecl], names: &Names, diags: &mut Vec<Diagnostic>) -> Vec<Field> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut converted: HashMap<String, &ast::Ident> = HashMap::new();
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let name = &field.name;
        if let Some(first) = seen.get(name.name.as_str()) {
            diags.push(
                Diagnostic::error(Code::E0010, format!("field `{}` is declared twice", name.name))
                    .with_primary(name.span, "declared again here")
                    .with_secondary(*first, "first declared here"),
            );
            continue;
        }
        seen.insert(&name.name, name.span);
        check_identifier(name, "field", diags);
        let snake = snake_case(&name.name);
        match converted.get(&snake) {
            Some(other) => diags.push(
                Diagnostic::error(
                    Code::E0011,
                    format!(
                        "fields `{}` and `{}` both become `{snake}` in Python and Rust",
                        other.name, name.name
                    ),
                )
                .with_primary(name.span, format!("becomes `{snake}`"))
                .with_secondary(other.span, format!("also becomes `{snake}`"))
                .with_help("rename one of them"),
            ),
            None => {
                converted.insert(snake, name);
            }
        }
        out.push(lower_field(field, names, diags));
    }
    out
}

fn lower_field(field: &FieldDecl, names: &Names, diags: &mut Vec<Diagnostic>) -> Field {
    let (ty, mut optional) = match &field.ty {
        TypeExpr::Optional(inner, _) => (resolve(inner, names, diags), true),
        other => (resolve(other, names, diags), false),
    };
    let mut relation = None;
    let mut attributes: Vec<Attribute> = Vec::new();
    for attr in &field.attributes {
        if attr.name.name == "relation" {
            relation = super::relations::lower_relation(attr, &ty, names, diags).or(relation);
        } else if let Some(a) = lower_attribute(attr, &ty, diags) {
            attributes.push(a);
        }
    }
    optional |= attributes.iter().any(|a| a.name == "optional");
    Field {
        name: field.name.name.clone(),
        ty,
        optional,
        attributes,
        relation,
        doc: field.doc.clone(),
        span: field.span,
    }
}

/// A type as written → a resolved [`TypeRef`]. An unknown name is reported
/// and stands in as `Json` so lowering can go on.
pub(super) fn resolve(expr: &TypeExpr, names: &Names, diags: &mut Vec<Diagnostic>) -> TypeRef {
    match expr {
        TypeExpr::Name(ident) => {
            if let Some(p) = Primitive::from_name(&ident.name) {
                return TypeRef::Primitive(p);
            }
            match names.kind(&ident.name) {
                Some(DeclKind::Record) => TypeRef::Named {
                    name: ident.name.clone(),
                    target: NamedKind::Record,
                },
                Some(DeclKind::Enum) => TypeRef::Named {
                    name: ident.name.clone(),
                    target: NamedKind::Enum,
                },
                Some(other) => {
                    diags.push(
                        Diagnostic::error(Code::E0005, format!("`{}` is {}, not a type", ident.name, other.describe()))
                            .with_primary(ident.span, "not a type")
                            .with_help("use a model, input, type, enum or a built-in type (String, Int, Float, Boolean, DateTime, Json)"),
                    );
                    TypeRef::Primitive(Primitive::Json)
                }
                None => {
                    let candidates = PRIMITIVES
                        .iter()
                        .copied()
                        .chain(names.of_kind(|k| matches!(k, DeclKind::Record | DeclKind::Enum)));
                    let mut diag = Diagnostic::error(Code::E0005, format!("unknown type `{}`", ident.name))
                        .with_primary(ident.span, "no type with this name");
                    diag = match did_you_mean(&ident.name, candidates) {
                        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                        None => diag.with_help(
                            "declare it with `model`, `input`, `type` or `enum`, or use String, Int, Float, Boolean, DateTime or Json",
                        ),
                    };
                    diags.push(diag);
                    TypeRef::Primitive(Primitive::Json)
                }
            }
        }
        TypeExpr::Array(inner, _) => TypeRef::Array(Box::new(resolve(inner, names, diags))),
        TypeExpr::Optional(inner, _) => TypeRef::Optional(Box::new(resolve(inner, names, diags))),
        TypeExpr::Object(fields, _) => TypeRef::Object(lower_fields(fields, names, diags)),
    }
}

fn lower_attribute(attr: &AttributeExpr, ty: &TypeRef, diags: &mut Vec<Diagnostic>) -> Option<Attribute> {
    let name = attr.name.name.as_str();
    if !ATTRIBUTES.contains(&name) {
        let mut diag = Diagnostic::error(Code::E0017, format!("unknown attribute `@{name}`"))
            .with_primary(attr.name.span, "unknown attribute");
        diag = match did_you_mean(name, ATTRIBUTES.iter().copied()) {
            Some(s) => diag.with_help(format!("did you mean `@{s}`?")),
            None => diag.with_help("known attributes: @id, @auto, @unique, @default(value), @optional, @min(n), @max(n), @pattern(\"regex\"), @relation(…)"),
        };
        diags.push(diag);
        return None;
    }
    // These attributes take plain values; lists and `key: value` are for `@relation`.
    let mut args: Vec<&Literal> = Vec::new();
    for arg in &attr.args {
        match arg {
            AttrArg::Value(literal, _) => args.push(literal),
            other => {
                let problem = format!("`@{name}` takes plain values, not {}", other.describe());
                diags.push(Diagnostic::error(Code::E0017, problem.clone()).with_primary(other.span(), problem));
                return None;
            }
        }
    }
    let problem = match (name, args.as_slice()) {
        ("id" | "auto" | "unique" | "optional", []) => None,
        ("id" | "auto" | "unique" | "optional", _) => Some(format!("`@{name}` takes no arguments")),
        ("default", [Literal::Ident(word)]) if word == "now" => {
            (!matches!(ty, TypeRef::Primitive(Primitive::DateTime)))
                .then(|| "`@default(now)` is only for DateTime fields".to_string())
        }
        ("default", [_]) => None,
        ("default", _) => Some("`@default` takes exactly one value, e.g. `@default(0)`".into()),
        ("min" | "max", [Literal::Int(_) | Literal::Float(_)]) => {
            let sized = matches!(
                ty,
                TypeRef::Primitive(Primitive::Int | Primitive::Float | Primitive::String) | TypeRef::Array(_)
            );
            (!sized).then(|| format!("`@{name}` applies to numbers, strings and arrays only"))
        }
        ("min" | "max", _) => Some(format!("`@{name}` takes one number, e.g. `@{name}(1)`")),
        ("pattern", [Literal::String(_)]) => (!matches!(ty, TypeRef::Primitive(Primitive::String)))
            .then(|| "`@pattern` applies to String fields only".to_string()),
        ("pattern", _) => Some("`@pattern` takes one string, e.g. `@pattern(\"^[a-z]+$\")`".into()),
        _ => None,
    };
    if let Some(problem) = problem {
        diags.push(Diagnostic::error(Code::E0017, problem.clone()).with_primary(attr.span, problem));
        return None;
    }
    Some(Attribute {
        name: name.to_string(),
        args: args.into_iter().cloned().collect(),
        span: attr.span,
    })
}

pub(super) fn lower_enum(decl: &ast::EnumDecl, diags: &mut Vec<Diagnostic>) -> EnumDecl {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut variants = Vec::new();
    for (ident, doc) in &decl.variants {
        if let Some(first) = seen.get(ident.name.as_str()) {
            diags.push(
                Diagnostic::error(Code::E0010, format!("variant `{}` is declared twice", ident.name))
                    .with_primary(ident.span, "declared again here")
                    .with_secondary(*first, "first declared here"),
            );
            continue;
        }
        seen.insert(&ident.name, ident.span);
        check_identifier(ident, "enum variant", diags);
        variants.push(EnumVariant {
            name: ident.name.clone(),
            doc: doc.clone(),
            span: ident.span,
        });
    }
    if variants.is_empty() && decl.variants.is_empty() {
        diags.push(
            Diagnostic::error(Code::E0009, format!("enum `{}` has no variants", decl.name.name))
                .with_primary(decl.name.span, "empty enum")
                .with_help("list its values: `enum Role { ADMIN MEMBER }`"),
        );
    }
    EnumDecl {
        name: decl.name.name.clone(),
        variants,
        doc: decl.doc.clone(),
        span: decl.span,
    }
}

/// A name that is only underscores has no identifier in any target language
/// once converted (Rust rejects `_` as a field, Python mangles `__`).
pub(super) fn check_identifier(ident: &ast::Ident, what: &str, diags: &mut Vec<Diagnostic>) {
    if ident.name.chars().all(|c| c == '_') {
        diags.push(
            Diagnostic::error(Code::E0011, format!("`{}` cannot be a {what} name", ident.name))
                .with_primary(ident.span, "not a usable identifier in Python, TypeScript or Rust")
                .with_help("use at least one letter"),
        );
    }
}

/// What a name checked by [`check_not_reserved`] names: declarations are
/// held to more names than handlers and middlewares (generated code uses
/// builtins and imports unqualified beside them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Named {
    Declaration,
    Handler,
    Middleware,
}

impl Named {
    fn word(self) -> &'static str {
        match self {
            Named::Declaration => "declaration",
            Named::Handler => "handler",
            Named::Middleware => "middleware",
        }
    }
}

/// Declarations, handlers and middlewares are named in generated code as
/// written: a reserved word there (`model class`, `handler: [import]`),
/// or for declarations a name the generated code needs (`model str`),
/// cannot be one, so it is refused, saying which language needs it.
pub(super) fn check_not_reserved(name: &str, at: Span, what: Named, diags: &mut Vec<Diagnostic>) {
    let why = match what {
        Named::Declaration => crate::naming::unusable_declaration_name(name),
        Named::Handler | Named::Middleware => crate::naming::reserved_in(name),
    };
    if let Some(why) = why {
        let word = what.word();
        diags.push(
            Diagnostic::error(Code::E0011, format!("`{name}` cannot be a {word} name"))
                .with_primary(at, format!("{why}, where generated code names it"))
                .with_help(match what {
                    Named::Declaration => format!("rename it, e.g. `{}Record`", crate::naming::pascal_case(name)),
                    Named::Handler | Named::Middleware => format!("rename it, e.g. `{name}_{word}`"),
                }),
        );
    }
}

/// Handler and middleware names become file and function names; two names
/// that convert to the same file would make one handler hide the other.
pub(super) fn check_handler_names(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    let mut by_file: HashMap<String, (&str, Span)> = HashMap::new();
    let handler_refs = schema.events.iter().flat_map(|e| &e.handlers).chain(
        schema
            .websockets
            .iter()
            .flat_map(|w| w.on_connect.iter().chain(&w.on_message).chain(&w.on_disconnect)),
    );
    for r in handler_refs {
        let snake = snake_case(&r.name);
        match by_file.get(&snake) {
            Some((other, span)) if *other != r.name => diags.push(
                Diagnostic::error(
                    Code::E0011,
                    format!("handlers `{other}` and `{}` would share the file `{snake}`", r.name),
                )
                .with_primary(r.span, format!("becomes `{snake}`"))
                .with_secondary(*span, format!("also becomes `{snake}`"))
                .with_help("rename one of them"),
            ),
            Some(_) => {}
            None => {
                check_file_name_length(&r.name, r.span, diags);
                check_not_reserved(&r.name, r.span, Named::Handler, diags);
                by_file.insert(snake, (&r.name, r.span));
            }
        }
    }
    // A middleware's file keeps its name as written (`src/middlewares/rateLimit.ts`),
    // so only names equal but for case share one: on a case-insensitive
    // disk, and for tsc, which refuses two such files in one program.
    let mut by_lowercase: HashMap<String, (&str, Span)> = HashMap::new();
    let middleware_refs = schema
        .apis
        .iter()
        .flat_map(|a| &a.middlewares)
        .chain(schema.websockets.iter().flat_map(|w| &w.middlewares));
    for r in middleware_refs {
        let lower = r.name.to_lowercase();
        match by_lowercase.get(&lower) {
            Some((other, span)) if *other != r.name => diags.push(
                Diagnostic::error(
                    Code::E0011,
                    format!(
                        "middlewares `{other}` and `{}` differ only in case, and share one file",
                        r.name
                    ),
                )
                .with_primary(r.span, "differs only in case")
                .with_secondary(*span, format!("from `{other}` here"))
                .with_help("use one spelling everywhere, or rename one of them"),
            ),
            Some(_) => {}
            None => {
                check_file_name_length(&r.name, r.span, diags);
                check_not_reserved(&r.name, r.span, Named::Middleware, diags);
                by_lowercase.insert(lower, (&r.name, r.span));
            }
        }
    }
}

/// The longest name that becomes a file: generated files add a folder-free
/// suffix of a few bytes (`_test.py`, `.ts`), and file names stop at 255
/// bytes on every common file system.
pub(super) const MAX_FILE_NAME: usize = 200;

/// Declarations, handlers and middlewares are files named after them.
pub(super) fn check_file_name_length(name: &str, at: Span, diags: &mut Vec<Diagnostic>) {
    if name.len() > MAX_FILE_NAME {
        diags.push(
            Diagnostic::error(
                Code::E0011,
                format!(
                    "`{}…` is {} bytes long, too long for a file name",
                    name.chars().take(16).collect::<String>(),
                    name.len()
                ),
            )
            .with_primary(at, format!("becomes a file name; at most {MAX_FILE_NAME} bytes"))
            .with_help("use a shorter name"),
        );
    }
}
