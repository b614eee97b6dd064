//! Schema types as Rust: the type mapping (docs/schema.md), and the structs and enums
//! emitted for records, inline objects and enums.
//!
//! Every generated type derives `Debug, Clone, PartialEq, Serialize,
//! Deserialize` and has a `Default` (derived, or written out when a field has
//! `@default(..)`), so handlers can write `Response::default()` and
//! `..Default::default()`. Named types are always referred to by full path
//! (`crate::generated::models::User::User`), so short names a module
//! re-exports can never clash with a field's type.

use super::code::{doc_lines, Code};
use crate::naming::{pascal_case, rust_ident, snake_case};
use rohas_schema::model::{EnumDecl, Field, Literal, NamedKind, Primitive, Schema, TypeRef};
use std::collections::HashSet;

/// The Rust path of a declared record or enum.
pub fn named_path(name: &str) -> String {
    format!("crate::generated::models::{name}::{name}")
}

/// Renders field types and the structs they need, for one declaration.
pub struct TypeWriter<'s> {
    schema: &'s Schema,
    /// The declaration being written: references to types that contain it
    /// without a `Vec` in between are boxed, or the struct would be infinite.
    root: Option<&'s str>,
}

/// A struct to emit: its name, docs and fields.
pub struct StructDef<'a> {
    pub name: String,
    pub doc: Option<String>,
    pub fields: Vec<StructField<'a>>,
    /// Read through this other struct (`#[serde(from = ..)]`).
    pub read_from: Option<String>,
    /// A private struct that serde only reads (an event's wire form): no
    /// docs, no `pub`, no `Default`.
    pub read_only: bool,
}

impl<'a> StructDef<'a> {
    pub fn new(name: impl Into<String>, doc: Option<String>, fields: Vec<StructField<'a>>) -> Self {
        StructDef {
            name: name.into(),
            doc,
            fields,
            read_from: None,
            read_only: false,
        }
    }
}

/// One field of a generated struct.
#[derive(Clone)]
pub struct StructField<'a> {
    /// The wire (schema) name.
    pub wire: String,
    pub ty: TypeShape<'a>,
    pub optional: bool,
    pub doc: Option<String>,
    /// `@default(..)` literal of a schema field.
    pub default: Option<&'a Literal>,
    /// `#[serde(default)]` without a schema default (metadata fields).
    pub serde_default: bool,
    /// `#[serde(deserialize_with = ..)]`: a function that reads the field.
    pub deserialize_with: Option<&'static str>,
}

/// A field type: a schema type, or a Rust type written out directly.
#[derive(Clone)]
pub enum TypeShape<'a> {
    Schema(&'a TypeRef),
    /// A schema type whose inline objects already have structs elsewhere:
    /// `{prefix}{context}` names them, and no new struct is emitted.
    Shared {
        ty: &'a TypeRef,
        prefix: String,
        context: String,
    },
    Raw(String),
}

impl<'a> StructField<'a> {
    pub fn from_schema(field: &'a Field) -> Self {
        StructField {
            wire: field.name.clone(),
            ty: TypeShape::Schema(&field.ty),
            optional: field.optional,
            doc: field.doc.clone(),
            default: field.attribute("default").and_then(|a| a.args.first()),
            serde_default: false,
            deserialize_with: None,
        }
    }

    pub fn raw(wire: &str, ty: impl Into<String>, doc: &str) -> Self {
        StructField {
            wire: wire.to_string(),
            ty: TypeShape::Raw(ty.into()),
            optional: false,
            doc: Some(doc.to_string()),
            default: None,
            serde_default: true,
            deserialize_with: None,
        }
    }
}

impl<'s> TypeWriter<'s> {
    pub fn new(schema: &'s Schema, root: Option<&'s str>) -> Self {
        TypeWriter { schema, root }
    }

    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// The Rust type of `ty`; inline objects become structs named
    /// `<context><Field>` appended to `extra`.
    pub fn rust_type<'a>(&self, ty: &'a TypeRef, context: &str, extra: &mut Vec<StructDef<'a>>) -> String {
        self.rust_type_in(ty, "", context, extra)
    }

    fn rust_type_in<'a>(&self, ty: &'a TypeRef, prefix: &str, context: &str, extra: &mut Vec<StructDef<'a>>) -> String {
        match ty {
            TypeRef::Primitive(p) => primitive(*p).to_string(),
            TypeRef::Named { name, target } => {
                let path = named_path(name);
                if *target == NamedKind::Record && self.reaches_root(name) {
                    format!("Box<{path}>")
                } else {
                    path
                }
            }
            TypeRef::Array(inner) => {
                format!("Vec<{}>", self.rust_type_in(inner, prefix, context, extra))
            }
            TypeRef::Optional(inner) => {
                format!("Option<{}>", self.rust_type_in(inner, prefix, context, extra))
            }
            TypeRef::Object(fields) => {
                extra.push(StructDef::new(
                    context,
                    None,
                    fields.iter().map(StructField::from_schema).collect(),
                ));
                format!("{prefix}{context}")
            }
        }
    }

    /// True when record `name` contains the root declaration without a `Vec`
    /// in between (directly, in an `Option`, or through inline objects).
    fn reaches_root(&self, name: &str) -> bool {
        let Some(root) = self.root else { return false };
        let mut seen = HashSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(current) = stack.pop() {
            if current == root {
                return true;
            }
            if !seen.insert(current.clone()) {
                continue;
            }
            if let Some(decl) = self.schema.type_decl(&current) {
                for field in &decl.fields {
                    inline_refs(&field.ty, &mut stack);
                }
            }
        }
        false
    }

    /// Emit `def` and every inline struct its fields need.
    pub fn write_struct(&self, code: &mut Code, def: StructDef<'_>) {
        let mut pending = vec![def];
        let mut first = true;
        while let Some(def) = pending.pop() {
            if !first {
                code.blank();
            }
            first = false;
            let mut extra = Vec::new();
            self.write_one_struct(code, &def, &mut extra);
            pending.extend(extra.into_iter().rev());
        }
    }

    fn write_one_struct<'a>(&self, code: &mut Code, def: &StructDef<'a>, extra: &mut Vec<StructDef<'a>>) {
        let struct_snake = snake_case(&def.name);
        let mut rendered = Vec::new();
        for (field, ident) in def.fields.iter().zip(struct_idents(&def.fields)) {
            let inner = match &field.ty {
                TypeShape::Schema(ty) => {
                    let context = format!("{}{}", def.name, pascal_case(&field.wire));
                    self.rust_type(ty, &context, extra)
                }
                TypeShape::Shared { ty, prefix, context } => self.rust_type_in(ty, prefix, context, &mut Vec::new()),
                TypeShape::Raw(ty) => ty.clone(),
            };
            let schema_ty = match &field.ty {
                TypeShape::Schema(ty) | TypeShape::Shared { ty, .. } => Some(*ty),
                TypeShape::Raw(_) => None,
            };
            let default = match (field.optional, field.default, schema_ty) {
                (false, Some(lit), Some(ty)) => self
                    .default_expr(ty, lit)
                    .map(|expr| (format!("default_{struct_snake}_{}", snake_case(&field.wire)), expr)),
                _ => None,
            };
            rendered.push((field, ident, inner, default));
        }

        let has_defaults = rendered.iter().any(|(.., d)| d.is_some());
        let public = if def.read_only { "" } else { "pub " };
        if def.read_only {
            code.line("#[derive(serde::Deserialize)]");
        } else {
            doc_lines(code, def.doc.as_deref());
            if has_defaults {
                code.line("#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]");
            } else {
                code.line("#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]");
            }
        }
        if let Some(from) = &def.read_from {
            code.line(&format!("#[serde(from = {from:?})]"));
        }
        code.open(&format!("{public}struct {} {{", def.name));
        for (field, ident, inner, default) in &rendered {
            if !def.read_only {
                doc_lines(code, field.doc.as_deref());
            }
            // Rename on a line of its own keeps each attribute short enough
            // that rustfmt leaves generated code as it is.
            let visible = ident.trim_start_matches("r#");
            if visible != field.wire {
                code.line(&format!("#[serde(rename = {:?})]", field.wire));
            }
            let mut serde = Vec::new();
            if field.optional {
                serde.push("default".into());
                serde.push("skip_serializing_if = \"Option::is_none\"".into());
            } else if let Some((func, _)) = default {
                serde.push(format!("default = {func:?}"));
            } else if field.serde_default {
                serde.push("default".into());
            }
            if let Some(func) = field.deserialize_with {
                serde.push(format!("deserialize_with = {func:?}"));
            }
            if !serde.is_empty() {
                code.line(&format!("#[serde({})]", serde.join(", ")));
            }
            let ty = if field.optional {
                format!("Option<{inner}>")
            } else {
                inner.clone()
            };
            code.line(&format!("{public}{ident}: {ty},"));
        }
        code.close("}");

        if has_defaults && !def.read_only {
            // `Default` must agree with the schema's `@default(..)` values.
            code.blank();
            code.open(&format!("impl Default for {} {{", def.name));
            code.open("fn default() -> Self {");
            code.open(&format!("{} {{", def.name));
            for (_, ident, _, default) in &rendered {
                match default {
                    Some((func, _)) => code.line(&format!("{ident}: {func}(),")),
                    None => code.line(&format!("{ident}: Default::default(),")),
                }
            }
            code.close("}");
            code.close("}");
            code.close("}");
        }
        if has_defaults {
            for (_, _, inner, default) in &rendered {
                if let Some((func, expr)) = default {
                    code.blank();
                    code.line(&format!("fn {func}() -> {inner} {{"));
                    code.line(&format!("    {expr}"));
                    code.line("}");
                }
            }
        }
    }

    /// A Rust expression for `@default(lit)` on a field of type `ty`, when
    /// the literal fits the type.
    fn default_expr(&self, ty: &TypeRef, lit: &Literal) -> Option<String> {
        match (ty, lit) {
            (TypeRef::Primitive(Primitive::String), Literal::String(s)) => Some(format!("{s:?}.to_string()")),
            (TypeRef::Primitive(Primitive::Int), Literal::Int(i)) => Some(i.to_string()),
            (TypeRef::Primitive(Primitive::Float), Literal::Float(f)) => Some(format!("{f:?}")),
            (TypeRef::Primitive(Primitive::Float), Literal::Int(i)) => Some(format!("{i}.0")),
            (TypeRef::Primitive(Primitive::Boolean), Literal::Bool(b)) => Some(b.to_string()),
            (TypeRef::Primitive(Primitive::DateTime), Literal::Ident(i)) if i == "now" => {
                Some("chrono::Utc::now()".into())
            }
            (
                TypeRef::Named {
                    name,
                    target: NamedKind::Enum,
                },
                Literal::Ident(v) | Literal::String(v),
            ) => {
                let decl = self.schema.enum_decl(name)?;
                let variants = variant_idents(decl);
                let index = decl.variants.iter().position(|x| &x.name == v)?;
                Some(format!("{}::{}", named_path(name), variants[index]))
            }
            _ => None,
        }
    }

    /// Emit a schema enum with serde names equal to the schema's.
    pub fn write_enum(&self, code: &mut Code, decl: &EnumDecl) {
        let idents = variant_idents(decl);
        doc_lines(code, decl.doc.as_deref());
        // Written the way rustfmt wraps a derive list this long.
        code.open("#[derive(");
        if decl.variants.is_empty() {
            code.line("Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,");
        } else {
            code.line("Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,");
        }
        code.close(")]");
        code.open(&format!("pub enum {} {{", decl.name));
        for (i, (variant, ident)) in decl.variants.iter().zip(&idents).enumerate() {
            doc_lines(code, variant.doc.as_deref());
            if i == 0 {
                code.line("#[default]");
            }
            if ident.trim_start_matches("r#") != variant.name {
                code.line(&format!("#[serde(rename = {:?})]", variant.name));
            }
            code.line(&format!("{ident},"));
        }
        code.close("}");
        code.blank();
        code.open(&format!("impl {} {{", decl.name));
        code.line("/// The name on the wire.");
        code.open("pub fn as_str(self) -> &'static str {");
        if decl.variants.is_empty() {
            code.line("match self {}");
        } else {
            code.open("match self {");
            for (variant, ident) in decl.variants.iter().zip(&idents) {
                code.line(&format!("{}::{ident} => {:?},", decl.name, variant.name));
            }
            code.close("}");
        }
        code.close("}");
        code.close("}");
    }
}

/// Rust primitive for a schema primitive (the type table in docs/schema.md).
pub fn primitive(p: Primitive) -> &'static str {
    match p {
        Primitive::String => "String",
        Primitive::Int => "i64",
        Primitive::Float => "f64",
        Primitive::Boolean => "bool",
        Primitive::DateTime => "chrono::DateTime<chrono::Utc>",
        Primitive::Json => "serde_json::Value",
    }
}

/// Records a type holds by value (not through a `Vec`).
fn inline_refs(ty: &TypeRef, out: &mut Vec<String>) {
    match ty {
        TypeRef::Named {
            name,
            target: NamedKind::Record,
        } => out.push(name.clone()),
        TypeRef::Optional(inner) => inline_refs(inner, out),
        TypeRef::Object(fields) => fields.iter().for_each(|f| inline_refs(&f.ty, out)),
        TypeRef::Named { .. } | TypeRef::Primitive(_) | TypeRef::Array(_) => {}
    }
}

/// The Rust field name for a wire name: `createdAt` → `created_at`,
/// `type` → `r#type`, `self` → `self_`.
/// The Rust names of a struct's fields, in order.
pub fn struct_idents(fields: &[StructField<'_>]) -> Vec<String> {
    let mut used = HashSet::new();
    fields
        .iter()
        .map(|f| unique_ident(&field_ident(&f.wire), &mut used))
        .collect()
}

pub fn field_ident(wire: &str) -> String {
    rust_ident(&snake_case(wire))
}

/// `name`, or `name_2`, `name_3` … when two wire names map to one Rust name
/// (`userId` and `user_id`).
pub fn unique_ident(ident: &str, used: &mut HashSet<String>) -> String {
    let mut candidate = ident.to_string();
    let mut n = 2;
    while !used.insert(candidate.trim_start_matches("r#").to_string()) {
        candidate = format!("{}_{n}", ident.trim_start_matches("r#"));
        n += 1;
    }
    candidate
}

/// Rust variant names: `ADMIN` → `Admin`, `IN_PROGRESS` → `InProgress`,
/// `inProgress` → `InProgress`; the schema names themselves when converting
/// would make two variants equal.
fn variant_idents(decl: &EnumDecl) -> Vec<String> {
    let converted: Vec<String> = decl
        .variants
        .iter()
        .map(|v| rust_ident(&variant_case(&v.name)))
        .collect();
    let unique: HashSet<&String> = converted.iter().collect();
    if unique.len() == converted.len() {
        converted
    } else {
        decl.variants.iter().map(|v| rust_ident(&v.name)).collect()
    }
}

fn variant_case(name: &str) -> String {
    let shouting = name
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if shouting {
        pascal_case(&name.to_ascii_lowercase())
    } else {
        pascal_case(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_become_pascal_case() {
        assert_eq!(variant_case("ADMIN"), "Admin");
        assert_eq!(variant_case("IN_PROGRESS"), "InProgress");
        assert_eq!(variant_case("inProgress"), "InProgress");
        assert_eq!(variant_case("V2"), "V2");
    }

    #[test]
    fn field_idents_escape_keywords_and_dedupe() {
        assert_eq!(field_ident("createdAt"), "created_at");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        let mut used = HashSet::new();
        assert_eq!(unique_ident("user_id", &mut used), "user_id");
        assert_eq!(unique_ident("user_id", &mut used), "user_id_2");
        assert_eq!(unique_ident("r#type", &mut used), "r#type");
        assert_eq!(unique_ident("r#type", &mut used), "type_2");
    }

    #[test]
    fn primitives_map_as_the_spec_says() {
        assert_eq!(primitive(Primitive::Int), "i64");
        assert_eq!(primitive(Primitive::Float), "f64");
        assert_eq!(primitive(Primitive::DateTime), "chrono::DateTime<chrono::Utc>");
        assert_eq!(primitive(Primitive::Json), "serde_json::Value");
    }
}
