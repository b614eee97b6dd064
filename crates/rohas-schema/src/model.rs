//! The validated model of a whole schema folder: what codegen and the engine read.
//!
//! The model is built from the AST only after validation found no error, so
//! every reference in it resolves (a `TypeRef::Named` always names a declared
//! model/input/type/enum, every trigger names a declared event or is allowed to
//! be external, every middleware has a name). Spans are kept so that the engine
//! can still point at the schema when something goes wrong at run time.

use crate::span::{SourceMap, Span};
use std::time::Duration;

/// Every declaration of a schema folder, in source order (files sorted by path).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub sources: SourceMap,
    /// `model`, `input` and `type` declarations.
    pub types: Vec<TypeDecl>,
    pub enums: Vec<EnumDecl>,
    pub apis: Vec<Api>,
    pub events: Vec<Event>,
    pub crons: Vec<Cron>,
    pub websockets: Vec<WebSocket>,
}

impl Schema {
    pub fn type_decl(&self, name: &str) -> Option<&TypeDecl> {
        self.types.iter().find(|t| t.name == name)
    }
    pub fn enum_decl(&self, name: &str) -> Option<&EnumDecl> {
        self.enums.iter().find(|e| e.name == name)
    }
    pub fn api(&self, name: &str) -> Option<&Api> {
        self.apis.iter().find(|a| a.name == name)
    }
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.name == name)
    }
    pub fn cron(&self, name: &str) -> Option<&Cron> {
        self.crons.iter().find(|c| c.name == name)
    }
    pub fn websocket(&self, name: &str) -> Option<&WebSocket> {
        self.websockets.iter().find(|w| w.name == name)
    }
    /// Every middleware name used by an api or ws, deduplicated, in first-use order.
    pub fn middlewares(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .apis
            .iter()
            .flat_map(|a| &a.middlewares)
            .chain(self.websockets.iter().flat_map(|w| &w.middlewares));
        for m in all {
            if !out.contains(&m.name.as_str()) {
                out.push(&m.name);
            }
        }
        out
    }
}

/// Which keyword declared a record type. All three have the same shape; the
/// kind only changes where codegen puts them and how docs describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Model,
    Input,
    Type,
}

#[derive(Debug, Clone)]
pub struct TypeDecl {
    pub name: String,
    pub kind: TypeKind,
    pub fields: Vec<Field>,
    /// `@@index([…])` and `@@unique([…])`: metadata for the user's own
    /// storage layer; Rohas keeps no database, so nothing enforces them.
    pub indexes: Vec<Index>,
    pub doc: Option<String>,
    pub span: Span,
}

/// `@@index([a, b])` or `@@unique([a, b])` on a record; every field exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub fields: Vec<NameRef>,
    pub unique: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The schema name, used unchanged on the wire.
    pub name: String,
    /// The type without a top-level `?`: optionality is in `optional`.
    pub ty: TypeRef,
    /// `T?` or `@optional`.
    pub optional: bool,
    pub attributes: Vec<Attribute>,
    /// `@relation(…)`: how this field links to another model. Metadata, as
    /// for [`Index`]; the field's type is a record (or a list of one).
    pub relation: Option<Relation>,
    pub doc: Option<String>,
    pub span: Span,
}

/// `@relation(name: "UserPosts", fields: [userId], references: [id], onDelete: Cascade)`,
/// also written `@relation({ … })` or `@relation("UserPosts")`. `fields`
/// name fields of the declaring record and `references` fields of the
/// related one, pairwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub name: Option<String>,
    pub fields: Vec<NameRef>,
    pub references: Vec<NameRef>,
    /// `Cascade`, `Restrict`, `NoAction`, `SetNull` or `SetDefault`.
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
    /// A join model for many-to-many relations.
    pub through: Option<NameRef>,
    pub span: Span,
}

impl Field {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// `@name` or `@name(args…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub args: Vec<Literal>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A bare identifier such as `now` in `@default(now)`.
    Ident(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    String,
    Int,
    Float,
    Boolean,
    DateTime,
    Json,
}

impl Primitive {
    pub fn from_name(name: &str) -> Option<Primitive> {
        Some(match name {
            "String" => Primitive::String,
            "Int" => Primitive::Int,
            "Float" => Primitive::Float,
            // `Bool` is upstream rohas's spelling of the same type.
            "Boolean" | "Bool" => Primitive::Boolean,
            "DateTime" => Primitive::DateTime,
            "Json" => Primitive::Json,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Primitive::String => "String",
            Primitive::Int => "Int",
            Primitive::Float => "Float",
            Primitive::Boolean => "Boolean",
            Primitive::DateTime => "DateTime",
            Primitive::Json => "Json",
        }
    }
}

/// A type as written in a field, `body`, `response`, `payload` or `message`.
#[derive(Debug, Clone)]
pub enum TypeRef {
    Primitive(Primitive),
    /// A declared model/input/type (`Record`) or enum (`Enum`).
    Named {
        name: String,
        target: NamedKind,
    },
    Array(Box<TypeRef>),
    /// `T?` in a position other than a field's top level (for example `T?[]`).
    Optional(Box<TypeRef>),
    /// Inline object type `{ a: Int, b: String }`.
    Object(Vec<Field>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedKind {
    Record,
    Enum,
}

#[derive(Debug, Clone)]
pub struct EnumDecl {
    pub name: String,
    pub variants: Vec<EnumVariant>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub name: String,
    pub doc: Option<String>,
    pub span: Span,
}

/// A reference to another declaration or a handler/middleware name, with the
/// place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRef {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    Literal(String),
    /// `:name`
    Param(String),
}

#[derive(Debug, Clone)]
pub struct Api {
    pub name: String,
    pub method: HttpMethod,
    /// The route with parameters written `:name`, e.g. `/users/:id` (a
    /// path written `/users/{id}` is stored in this form).
    pub path: String,
    pub segments: Vec<PathSegment>,
    /// `query:`: the typed query parameters, a record (named or inline)
    /// whose fields are scalars, enums or lists of them (checked, E0019).
    /// Each field is one parameter, named as the field; a list is the
    /// parameter repeated (`?tag=a&tag=b`).
    pub query: Option<TypeRef>,
    pub body: Option<TypeRef>,
    pub response: Option<TypeRef>,
    pub triggers: Vec<NameRef>,
    pub middlewares: Vec<NameRef>,
    pub timeout: Option<Duration>,
    pub doc: Option<String>,
    pub span: Span,
}

impl Api {
    /// The fields of `query:`, each one query parameter (none without it).
    pub fn query_fields<'a>(&'a self, schema: &'a Schema) -> &'a [Field] {
        match &self.query {
            Some(TypeRef::Object(fields)) => fields,
            Some(TypeRef::Named { name, .. }) => schema.type_decl(name).map_or(&[], |t| &t.fields),
            _ => &[],
        }
    }

    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            PathSegment::Param(p) => Some(p.as_str()),
            PathSegment::Literal(_) => None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub payload: Option<TypeRef>,
    /// Handler function names (`handler: [a, b]`).
    pub handlers: Vec<NameRef>,
    pub triggers: Vec<NameRef>,
    /// Delivery attempts override (`retries:`).
    pub retries: Option<u32>,
    /// `type: sqs` or `type: eventbridge` (upstream rohas's per-event
    /// broker, lower case): this version delivers such an event through the
    /// configured adapter like any other, and validation warns (W0004).
    pub broker: Option<NameRef>,
    pub timeout: Option<Duration>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Cron {
    pub name: String,
    /// As written: 5 fields, 6 with leading seconds, or 7 with leading
    /// seconds and a trailing year. [`Cron::expression`] is what croner reads.
    pub schedule: String,
    /// The years of a 7-field schedule; `None` is every year.
    pub years: Option<Years>,
    /// `handler: name`: the handler's file and function stem; `None` means
    /// the cron's own name.
    pub handler: Option<NameRef>,
    pub triggers: Vec<NameRef>,
    pub timeout: Option<Duration>,
    pub doc: Option<String>,
    pub span: Span,
}

impl Cron {
    /// The schedule without a 7th (year) field: 5 or 6 fields, for croner.
    pub fn expression(&self) -> String {
        let fields: Vec<&str> = self.schedule.split_whitespace().collect();
        if fields.len() == 7 {
            fields[..6].join(" ")
        } else {
            self.schedule.clone()
        }
    }
}

/// The year field of a 7-field cron schedule: inclusive ranges with a step
/// (`2026`, `2026-2030`, `2026,2028`, `2026-2040/2`, `*/2`), years 1970–2099.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Years {
    /// `(first, last, step)`.
    pub ranges: Vec<(i32, i32, u32)>,
}

impl Years {
    pub const FIRST: i32 = 1970;
    pub const LAST: i32 = 2099;

    pub fn contains(&self, year: i32) -> bool {
        self.ranges.iter().any(|&(first, last, step)| {
            (first..=last).contains(&year) && (year - first).unsigned_abs().is_multiple_of(step.max(1))
        })
    }

    /// The first year from `year` on that the schedule runs in.
    pub fn next_from(&self, year: i32) -> Option<i32> {
        (year.max(Self::FIRST)..=Self::LAST).find(|y| self.contains(*y))
    }
}

#[derive(Debug, Clone)]
pub struct WebSocket {
    pub name: String,
    pub path: String,
    pub message: Option<TypeRef>,
    pub on_connect: Vec<NameRef>,
    pub on_message: Vec<NameRef>,
    pub on_disconnect: Vec<NameRef>,
    pub triggers: Vec<NameRef>,
    pub broadcast: bool,
    pub middlewares: Vec<NameRef>,
    pub timeout: Option<Duration>,
    pub doc: Option<String>,
    pub span: Span,
}

impl WebSocket {
    /// True when the schema lists no handlers at all: then one module
    /// (`websockets/chat.ext`) holds `on_connect`/`on_message`/`on_disconnect`.
    pub fn uses_single_module(&self) -> bool {
        self.on_connect.is_empty() && self.on_message.is_empty() && self.on_disconnect.is_empty()
    }
}
