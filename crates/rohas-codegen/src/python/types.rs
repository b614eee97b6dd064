//! Schema types as Python (the type table in docs/schema.md): annotations, the
//! expressions that read and write the wire form, defaults, and the names
//! attributes and enum members get. `classes.rs` writes the classes.
//!
//! Every dataclass is `@dataclasses.dataclass(kw_only=True)`: keyword-only
//! construction lets fields with defaults (`T?` is `None`, `@default(..)`)
//! sit anywhere in schema order. Attributes are snake_case and escaped
//! (`createdAt` → `created_at`, `class` → `class_`); `from_wire`/`to_wire`
//! map them to the schema's names, which are the only names on the wire.

use super::code::py_str;
use super::module::Module;
use crate::naming::{pascal_case, python_ident, snake_case};
use rohas_schema::model::{EnumDecl, Field, Literal, NamedKind, Primitive, Schema, TypeRef};
use std::collections::HashSet;

/// Names a dataclass attribute must not take: builtins and imported names
/// used in annotations and defaults (a class attribute `str` would hide the
/// type for the annotations after it), and the wire methods.
const SHADOWED: &[&str] = &[
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "Any",
    "TypeAlias",
    "datetime",
    "dataclasses",
    "Enum",
    "annotations",
    "from_wire",
    "to_wire",
    "from_payload",
    "utc_now",
    "parse_datetime",
    "format_datetime",
    "__rohas_wire__",
];

/// A Python attribute name for each wire name, escaped and unique: `userId` →
/// `user_id`, `class` → `class_`, `__init__` → `f__init__`, a second `user_id` →
/// `user_id_2`. `taken`
/// holds names already used in the class.
pub fn attr_names<'a>(
    schema: &Schema,
    wires: impl IntoIterator<Item = &'a str>,
    taken: &mut HashSet<String>,
) -> Vec<String> {
    wires
        .into_iter()
        .map(|wire| {
            let mut ident = python_ident(&snake_case(wire));
            if SHADOWED.contains(&ident.as_str()) || is_declared(schema, &ident) {
                ident.push('_');
            }
            // Inside a class body `__x` is mangled and `__x__` may replace
            // a method Python gives every object (`__init__`, `__class__`).
            if ident.starts_with("__") {
                ident.insert(0, 'f');
            }
            let mut candidate = ident.clone();
            let mut n = 2;
            while !taken.insert(candidate.clone()) {
                candidate = format!("{ident}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

fn is_declared(schema: &Schema, name: &str) -> bool {
    schema.type_decl(name).is_some() || schema.enum_decl(name).is_some()
}

/// The class name of the inline object in field `wire` of `owner`
/// (`UserAddress`), kept apart from declared names.
pub fn inline_name(schema: &Schema, owner: &str, wire: &str) -> String {
    let mut name = format!("{owner}{}", pascal_case(wire));
    while is_declared(schema, &name) {
        name.push_str("Object");
    }
    name
}

/// An inline object type waiting to be written as a dataclass.
pub struct Inline<'a> {
    pub name: String,
    pub doc: String,
    pub fields: &'a [Field],
}

/// One attribute of a generated dataclass.
pub struct Member<'a> {
    pub wire: String,
    pub attr: String,
    pub doc: Option<String>,
    pub ty: MemberType<'a>,
}

pub enum MemberType<'a> {
    /// A schema field: everything derives from its type.
    Schema {
        ty: &'a TypeRef,
        optional: bool,
        default: Option<&'a Literal>,
        /// Class name for an inline object in this field.
        context: String,
    },
    /// Written out by the caller (request and event members).
    Raw {
        annotation: String,
        /// What follows `=` in the class body.
        default: Option<String>,
        /// Expression reading the value from `data`.
        from: String,
        /// Expression turning `self.<attr>` into JSON.
        to: String,
    },
}

/// A `@default(..)` as Python: the class-body default and the expression
/// `from_wire` uses when the key is missing.
pub struct DefaultValue {
    pub decl: String,
    pub expr: String,
}

/// Members of a class built from schema fields, in schema order.
pub fn schema_members<'a>(
    schema: &Schema,
    owner: &str,
    fields: &'a [Field],
    taken: &mut HashSet<String>,
) -> Vec<Member<'a>> {
    let attrs = attr_names(schema, fields.iter().map(|f| f.name.as_str()), taken);
    fields
        .iter()
        .zip(attrs)
        .map(|(field, attr)| Member {
            wire: field.name.clone(),
            attr,
            doc: field.doc.clone(),
            ty: MemberType::Schema {
                ty: &field.ty,
                optional: field.optional,
                default: field.attribute("default").and_then(|a| a.args.first()),
                context: inline_name(schema, owner, &field.name),
            },
        })
        .collect()
}

impl<'s> Module<'s> {
    /// The annotation of `ty`; an inline object is named `context` and
    /// queued in `inline`.
    pub fn annotation<'a>(
        &mut self,
        ty: &'a TypeRef,
        context: &str,
        inline: &mut Vec<Inline<'a>>,
        doc: &str,
    ) -> String {
        match ty {
            TypeRef::Primitive(p) => self.primitive(*p).to_string(),
            TypeRef::Named { name, target } => {
                self.use_named(name, *target);
                name.clone()
            }
            TypeRef::Array(inner) => format!("list[{}]", self.annotation(inner, context, inline, doc)),
            TypeRef::Optional(inner) => {
                format!("{} | None", self.annotation(inner, context, inline, doc))
            }
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

    fn primitive(&mut self, p: Primitive) -> &'static str {
        match p {
            Primitive::String => "str",
            Primitive::Int => "int",
            Primitive::Float => "float",
            Primitive::Boolean => "bool",
            Primitive::DateTime => {
                self.use_std("datetime", "datetime");
                "datetime"
            }
            Primitive::Json => {
                self.use_std("typing", "Any");
                "Any"
            }
        }
    }

    /// An expression turning JSON `expr` into a value of `ty`.
    pub fn read_expr(&mut self, ty: &TypeRef, expr: &str, context: &str, depth: usize) -> String {
        match ty {
            TypeRef::Primitive(p) => match p {
                Primitive::String => format!("str({expr})"),
                Primitive::Int => format!("int({expr})"),
                Primitive::Float => format!("float({expr})"),
                Primitive::Boolean => format!("bool({expr})"),
                Primitive::DateTime => {
                    self.use_runtime("parse_datetime");
                    format!("parse_datetime({expr})")
                }
                Primitive::Json => expr.to_string(),
            },
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => format!("{name}.from_wire({expr})"),
            TypeRef::Named {
                name,
                target: NamedKind::Enum,
            } => format!("{name}({expr})"),
            TypeRef::Array(inner) => {
                let item = format!("x{depth}");
                let each = self.read_expr(inner, &item, context, depth + 1);
                if each == item {
                    format!("list({expr})")
                } else {
                    format!("[{each} for {item} in {expr}]")
                }
            }
            TypeRef::Optional(inner) => {
                let value = self.read_expr(inner, expr, context, depth);
                if value == expr {
                    value
                } else {
                    format!("None if {expr} is None else {value}")
                }
            }
            TypeRef::Object(_) => format!("{context}.from_wire({expr})"),
        }
    }

    /// An expression turning `expr` (a value of `ty`, not None) into JSON.
    pub fn wire_expr(&mut self, ty: &TypeRef, expr: &str, depth: usize) -> String {
        match ty {
            TypeRef::Primitive(Primitive::DateTime) => {
                self.use_runtime("format_datetime");
                format!("format_datetime({expr})")
            }
            TypeRef::Primitive(Primitive::Json) => {
                self.use_runtime("to_wire");
                format!("to_wire({expr})")
            }
            TypeRef::Primitive(_) => expr.to_string(),
            TypeRef::Named {
                target: NamedKind::Record,
                ..
            }
            | TypeRef::Object(_) => format!("{expr}.to_wire()"),
            TypeRef::Named {
                target: NamedKind::Enum,
                ..
            } => format!("{expr}.value"),
            TypeRef::Array(inner) => {
                let item = format!("x{depth}");
                let each = self.wire_expr(inner, &item, depth + 1);
                if each == item {
                    format!("list({expr})")
                } else {
                    format!("[{each} for {item} in {expr}]")
                }
            }
            TypeRef::Optional(inner) => {
                let value = self.wire_expr(inner, expr, depth);
                if value == expr {
                    value
                } else {
                    format!("None if {expr} is None else {value}")
                }
            }
        }
    }
}

/// How the Python runtime's JSON writer turns a value of `ty` into what
/// [`Module::wire_expr`] would give, without calling `to_wire` (the
/// `__rohas_wire__` description of a record; the runtime's
/// `src/json/record.rs` reads it): `""` the value itself, `"enum"` its
/// `.value`, `"datetime"` `format_datetime` of it, `"record"` its
/// `.to_wire()`, a `"[]"` prefix each item of a list, a `"?"` prefix `None`
/// kept as is. `None` for `Json`, which goes through the runtime's own
/// `to_wire` helper, whose rules are not the JSON writer's: a record with
/// such a field keeps only its `to_wire`.
pub fn wire_shape(ty: &TypeRef) -> Option<String> {
    Some(match ty {
        TypeRef::Primitive(Primitive::DateTime) => "datetime".into(),
        TypeRef::Primitive(Primitive::Json) => return None,
        TypeRef::Primitive(_) => String::new(),
        TypeRef::Named {
            target: NamedKind::Record,
            ..
        }
        | TypeRef::Object(_) => "record".into(),
        TypeRef::Named {
            target: NamedKind::Enum,
            ..
        } => "enum".into(),
        TypeRef::Array(inner) => format!("[]{}", wire_shape(inner)?),
        TypeRef::Optional(inner) => format!("?{}", wire_shape(inner)?),
    })
}

impl<'s> Module<'s> {
    /// `@default(lit)` for a field of type `ty`, when the literal fits it.
    pub fn default_value(&mut self, ty: &TypeRef, lit: &Literal) -> Option<DefaultValue> {
        let same = |text: String| DefaultValue {
            decl: text.clone(),
            expr: text,
        };
        let json = matches!(ty, TypeRef::Primitive(Primitive::Json));
        match (ty, lit) {
            (TypeRef::Primitive(Primitive::String), Literal::String(s)) => Some(same(py_str(s))),
            (TypeRef::Primitive(Primitive::Int), Literal::Int(i)) => Some(same(i.to_string())),
            (TypeRef::Primitive(Primitive::Float), Literal::Float(f)) => Some(same(py_float(*f))),
            (TypeRef::Primitive(Primitive::Float), Literal::Int(i)) => Some(same(format!("{i}.0"))),
            (TypeRef::Primitive(Primitive::Boolean), Literal::Bool(b)) => {
                Some(same(if *b { "True" } else { "False" }.into()))
            }
            (TypeRef::Primitive(Primitive::DateTime), Literal::Ident(i)) if i == "now" => {
                self.use_plain("dataclasses");
                self.use_runtime("utc_now");
                Some(DefaultValue {
                    decl: "dataclasses.field(default_factory=utc_now)".into(),
                    expr: "utc_now()".into(),
                })
            }
            (_, Literal::String(s)) if json => Some(same(py_str(s))),
            (_, Literal::Int(i)) if json => Some(same(i.to_string())),
            (_, Literal::Float(f)) if json => Some(same(py_float(*f))),
            (_, Literal::Bool(b)) if json => Some(same(if *b { "True" } else { "False" }.into())),
            (
                TypeRef::Named {
                    name,
                    target: NamedKind::Enum,
                },
                Literal::Ident(v) | Literal::String(v),
            ) => {
                let decl = self.schema.enum_decl(name)?;
                let index = decl.variants.iter().position(|x| &x.name == v)?;
                let member = &member_names(decl)[index];
                Some(same(format!("{name}.{member}")))
            }
            _ => None,
        }
    }
}

/// Python member names of an enum: the schema names, escaped where Python
/// or `Enum` reserves them (`class` → `class_`, `value` → `value_`).
pub fn member_names(decl: &EnumDecl) -> Vec<String> {
    let mut taken = HashSet::new();
    decl.variants
        .iter()
        .map(|v| {
            let mut name = python_ident(&v.name);
            if matches!(name.as_str(), "name" | "value" | "mro") {
                name.push('_');
            }
            if name.starts_with('_') {
                name.insert(0, 'V');
            }
            let mut candidate = name.clone();
            let mut n = 2;
            while !taken.insert(candidate.clone()) {
                candidate = format!("{name}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// A float literal Python reads back as the same value.
fn py_float(f: f64) -> String {
    if f.is_finite() {
        let text = format!("{f:?}");
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    } else if f.is_nan() {
        "float(\"nan\")".into()
    } else if f > 0.0 {
        "float(\"inf\")".into()
    } else {
        "float(\"-inf\")".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_snake_case_escaped_and_unique() {
        let schema = Schema::default();
        let mut taken = HashSet::new();
        let names = attr_names(
            &schema,
            ["createdAt", "class", "str", "userId", "user_id", "toWire"],
            &mut taken,
        );
        assert_eq!(
            names,
            ["created_at", "class_", "str_", "user_id", "user_id_2", "to_wire_"]
        );
    }

    /// A dataclass attribute named `__init__` replaces the class's own
    /// constructor, and `__secret` is mangled to `_Owner__secret` inside the
    /// class body: neither may keep its name.
    #[test]
    fn dunder_and_mangled_names_are_escaped() {
        let schema = Schema::default();
        let mut taken = HashSet::new();
        let names = attr_names(&schema, ["__init__", "__class__", "__secret", "_private"], &mut taken);
        assert_eq!(names, ["f__init__", "f__class__", "f__secret", "_private"]);
    }

    #[test]
    fn floats_read_back() {
        assert_eq!(py_float(1.5), "1.5");
        assert_eq!(py_float(2.0), "2.0");
        assert_eq!(py_float(1e100), "1e100");
    }
}
