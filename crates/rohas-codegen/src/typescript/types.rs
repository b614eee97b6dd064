//! Schema types as TypeScript (the type table in docs/schema.md): type expressions,
//! interfaces for records and inline objects, string unions for enums.
//!
//! Property names are the schema's names, the only names on the wire
//! (`createdAt`, `class`; quoted only when not an identifier). `T?` fields
//! are optional properties that may also be `null`; fields with
//! `@default(..)` are optional properties only: the engine accepts a
//! missing key for them but refuses `null`, as the OpenAPI document says,
//! and passes the data on as it came. `DateTime` is `Date`: the runtime turns
//! incoming RFC 3339 strings into `Date`s before a handler sees them, and
//! `JSON.stringify` writes them back as RFC 3339 (see `runtime.ts`).

use super::code::{prop_name, ts_str};
use super::module::Module;
use crate::naming::{pascal_case, TYPESCRIPT_RESERVED};
use rohas_schema::model::{EnumDecl, Field, Literal, Primitive, Schema, TypeRef};

/// Names TypeScript accepts for no declared type besides the reserved words.
const PREDEFINED: &[&str] = &["unknown", "never", "object", "bigint", "undefined"];

/// The TypeScript name of a declared type: the schema name, with `_`
/// appended where TypeScript cannot use it (`string`, `class`).
pub fn type_name(name: &str) -> String {
    if TYPESCRIPT_RESERVED.contains(&name) || PREDEFINED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn is_declared(schema: &Schema, name: &str) -> bool {
    schema.type_decl(name).is_some() || schema.enum_decl(name).is_some()
}

/// The interface name of the inline object in field `wire` of `owner`
/// (`UserAddress`), kept apart from declared names.
pub fn inline_name(schema: &Schema, owner: &str, wire: &str) -> String {
    let mut name = format!("{owner}{}", pascal_case(wire));
    while is_declared(schema, &name) {
        name.push_str("Object");
    }
    name
}

/// An inline object type waiting to be written as an interface.
pub struct Inline<'a> {
    pub name: String,
    pub doc: String,
    pub fields: &'a [Field],
}

impl<'s> Module<'s> {
    /// The type expression of `ty`; an inline object is named `context` and
    /// queued in `inline`.
    pub fn type_expr<'a>(&mut self, ty: &'a TypeRef, context: &str, inline: &mut Vec<Inline<'a>>, doc: &str) -> String {
        match ty {
            TypeRef::Primitive(p) => self.primitive(*p),
            TypeRef::Named { name, .. } => self.use_named(name),
            TypeRef::Array(inner) => {
                let item = self.type_expr(inner, context, inline, doc);
                if matches!(**inner, TypeRef::Optional(_)) {
                    format!("({item})[]")
                } else {
                    format!("{item}[]")
                }
            }
            TypeRef::Optional(inner) => format!("{} | null", self.type_expr(inner, context, inline, doc)),
            TypeRef::Object(fields) => {
                inline.push(Inline {
                    name: context.to_string(),
                    doc: doc.to_string(),
                    fields,
                });
                context.to_string()
            }
        }
    }

    pub fn primitive(&self, p: Primitive) -> String {
        match p {
            Primitive::String => "string".into(),
            Primitive::Int | Primitive::Float => "number".into(),
            Primitive::Boolean => "boolean".into(),
            Primitive::DateTime => self.builtin("Date"),
            Primitive::Json => "unknown".into(),
        }
    }

    /// `export interface Name { … }` for schema fields, then every inline
    /// interface its fields need (depth first).
    pub fn write_interface(&mut self, name: &str, doc: &str, fields: &[Field]) {
        let mut pending = Vec::new();
        self.interface_head(name, doc, fields, &mut pending);
        self.write_inline(pending);
    }

    /// Inline interfaces queued while writing another type, and theirs.
    pub fn write_inline(&mut self, pending: Vec<Inline<'_>>) {
        let mut queue: Vec<Inline<'_>> = pending.into_iter().rev().collect();
        while let Some(inline) = queue.pop() {
            let mut nested = Vec::new();
            self.body.blank();
            self.interface_head(&inline.name, &inline.doc, inline.fields, &mut nested);
            queue.extend(nested.into_iter().rev());
        }
    }

    fn interface_head<'a>(&mut self, name: &str, doc: &str, fields: &'a [Field], inline: &mut Vec<Inline<'a>>) {
        self.own.insert(name.to_string());
        self.body.jsdoc(doc);
        if fields.is_empty() {
            // `{}` would accept any value but null; an empty record is an empty object.
            self.body.line(&format!("export interface {name} {{}}"));
            return;
        }
        self.body.open(&format!("export interface {name} {{"));
        for field in fields {
            let context = inline_name(self.schema, name, &field.name);
            let field_doc = format!("The `{}` object of `{name}`.", field.name);
            let ty = self.type_expr(&field.ty, &context, inline, &field_doc);
            let mut docs: Vec<String> = field.doc.iter().cloned().collect();
            let default = field.attribute("default").and_then(|a| a.args.first());
            if let Some(lit) = default {
                docs.push(default_doc(&field.ty, lit));
            }
            self.body.jsdoc(&docs.join("\n\n"));
            self.body.line(&field_property(field, &ty));
        }
        self.body.close("}");
    }

    /// `export type Role = "ADMIN" | "MEMBER";` with the variants' docs.
    pub fn write_enum(&mut self, decl: &EnumDecl) {
        let name = type_name(&decl.name);
        self.own.insert(name.clone());
        let doc = decl
            .doc
            .clone()
            .unwrap_or_else(|| format!("`enum {}` from the schema.", decl.name));
        self.body.jsdoc(&doc);
        if decl.variants.is_empty() {
            self.body.line(&format!("export type {name} = never;"));
            return;
        }
        let documented = decl.variants.iter().any(|v| v.doc.is_some());
        let one_line = format!(
            "export type {name} = {};",
            decl.variants
                .iter()
                .map(|v| ts_str(&v.name))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        if !documented && one_line.len() <= 100 {
            self.body.line(&one_line);
            return;
        }
        self.body.open(&format!("export type {name} ="));
        let last = decl.variants.len() - 1;
        for (i, variant) in decl.variants.iter().enumerate() {
            if let Some(doc) = &variant.doc {
                self.body.jsdoc(doc);
            }
            let end = if i == last { ";" } else { "" };
            self.body.line(&format!("| {}{end}", ts_str(&variant.name)));
        }
        self.body.dedent();
    }
}

/// `name: T;` or `name?: T | null;` (`unknown` already holds `null`).
pub fn property(wire: &str, ty: &str, optional: bool) -> String {
    if optional && ty == "unknown" {
        format!("{}?: unknown;", prop_name(wire))
    } else if optional {
        format!("{}?: {ty} | null;", prop_name(wire))
    } else {
        format!("{}: {ty};", prop_name(wire))
    }
}

/// A record field's property: `name?: T | null;` when it is optional,
/// `name?: T;` when it has a `@default` (it may be left out, never `null`),
/// else `name: T;`.
pub fn field_property(field: &Field, ty: &str) -> String {
    if !field.optional && field.attribute("default").is_some() {
        format!("{}?: {ty};", prop_name(&field.name))
    } else {
        property(&field.name, ty, field.optional)
    }
}

/// The doc line telling what `@default(lit)` means for a field of type `ty`.
fn default_doc(ty: &TypeRef, lit: &Literal) -> String {
    let shown = match (ty, lit) {
        (TypeRef::Primitive(Primitive::DateTime), Literal::Ident(i)) if i == "now" => {
            return "Missing means the current time (`@default(now)`).".into()
        }
        (_, Literal::String(s)) => ts_str(s),
        (_, Literal::Int(i)) => i.to_string(),
        (_, Literal::Float(f)) => format!("{f:?}"),
        (_, Literal::Bool(b)) => b.to_string(),
        (_, Literal::Ident(i)) => ts_str(i),
    };
    format!("Missing means `{shown}` (`@default`).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_names_typescript_cannot_use_are_escaped() {
        assert_eq!(type_name("User"), "User");
        assert_eq!(type_name("string"), "string_");
        assert_eq!(type_name("class"), "class_");
        assert_eq!(type_name("unknown"), "unknown_");
    }

    #[test]
    fn optional_properties_accept_null() {
        assert_eq!(property("nickname", "string", true), "nickname?: string | null;");
        assert_eq!(property("class", "string", false), "class: string;");
        assert_eq!(property("x-y", "number", false), "\"x-y\": number;");
    }

    #[test]
    fn a_field_with_a_default_may_be_left_out_but_not_null() {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add(
            "t.ro",
            "enum Role { A B }\ntype T { role: Role @default(A)\n nick: String?\n name: String }",
        );
        let schema = rohas_schema::check_sources(sources).schema.expect("valid");
        let fields = &schema.type_decl("T").expect("declared").fields;
        let written: Vec<String> = fields.iter().map(|f| field_property(f, "X")).collect();
        assert_eq!(written, ["role?: X;", "nick?: X | null;", "name: X;"]);
    }
}
