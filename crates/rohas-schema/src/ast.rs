//! The syntax tree of one `.ro` file, exactly as written, with spans.
//!
//! The parser builds this without knowing what any name means; whether
//! `response: Usr` refers to something, or whether `onConect:` is a known
//! property, is decided when the tree is lowered into the model (`lower/`).

use crate::model::{Literal, TypeKind};
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    Record(RecordDecl),
    Enum(EnumDecl),
    Block(BlockDecl),
}

impl Decl {
    pub fn name(&self) -> &Ident {
        match self {
            Decl::Record(d) => &d.name,
            Decl::Enum(d) => &d.name,
            Decl::Block(d) => &d.name,
        }
    }
}

/// `model`, `input` or `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDecl {
    pub kind: TypeKind,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    /// `@@index([a, b])` and `@@unique([a, b])` lines of the body, in
    /// source order (between or after the fields).
    pub attributes: Vec<AttributeExpr>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub attributes: Vec<AttributeExpr>,
    pub doc: Option<String>,
    pub span: Span,
}

/// `@name`, `@name(args…)`, or in a record body `@@name(args…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeExpr {
    pub name: Ident,
    pub args: Vec<AttrArg>,
    pub span: Span,
}

/// One argument of an attribute, as written: `5`, `now`, `[userId]`,
/// `fields: [userId]`, or an object `{ name: "UserPosts", onDelete: Cascade }`.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrArg {
    Value(Literal, Span),
    List(Vec<AttrArg>, Span),
    /// `key: value`.
    Named(Ident, Box<AttrArg>),
    /// `{ key: value, … }`: its items are `Named`.
    Object(Vec<AttrArg>, Span),
}

impl AttrArg {
    pub fn span(&self) -> Span {
        match self {
            AttrArg::Value(_, span) | AttrArg::List(_, span) | AttrArg::Object(_, span) => *span,
            AttrArg::Named(key, value) => key.span.to(value.span()),
        }
    }

    /// How the argument is named in "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            AttrArg::Value(Literal::String(_), _) => "a string",
            AttrArg::Value(Literal::Int(_) | Literal::Float(_), _) => "a number",
            AttrArg::Value(Literal::Bool(_), _) => "true or false",
            AttrArg::Value(Literal::Ident(_), _) => "a name",
            AttrArg::List(..) => "a list",
            AttrArg::Named(..) => "a named argument",
            AttrArg::Object(..) => "an object",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    Name(Ident),
    Array(Box<TypeExpr>, Span),
    Optional(Box<TypeExpr>, Span),
    Object(Vec<FieldDecl>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Name(ident) => ident.span,
            TypeExpr::Array(_, span) | TypeExpr::Optional(_, span) | TypeExpr::Object(_, span) => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<(Ident, Option<String>)>,
    pub doc: Option<String>,
    pub span: Span,
}

/// Which keyword opened a property block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Api,
    Event,
    Cron,
    Ws,
}

impl BlockKind {
    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Api => "api",
            BlockKind::Event => "event",
            BlockKind::Cron => "cron",
            BlockKind::Ws => "ws",
        }
    }
}

/// `api`, `event`, `cron` or `ws`: a list of `key: value` properties.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDecl {
    pub kind: BlockKind,
    pub name: Ident,
    pub properties: Vec<Property>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A bare name; also the start of a type such as `User` or `User[]`.
    Type(TypeExpr),
    Str(String, Span),
    Int(i64, Span),
    Float(f64, Span),
    Duration {
        value: u64,
        unit: String,
        span: Span,
    },
    List(Vec<Value>, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Type(t) => t.span(),
            Value::Str(_, s) | Value::Int(_, s) | Value::Float(_, s) | Value::List(_, s) => *s,
            Value::Duration { span, .. } => *span,
        }
    }

    /// How the value is named in "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Type(TypeExpr::Name(_)) => "a name",
            Value::Type(TypeExpr::Object(..)) => "an inline object type",
            Value::Type(_) => "a type",
            Value::Str(..) => "a string",
            Value::Int(..) | Value::Float(..) => "a number",
            Value::Duration { .. } => "a duration",
            Value::List(..) => "a list",
        }
    }
}
