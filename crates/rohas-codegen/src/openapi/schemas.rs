//! Schema types as JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), the
//! way the engine's validator reads the wire:
//!
//! - `Int` is an `integer` (int64), `Float` a `number`, `DateTime` a
//!   `date-time` string, `Json` anything (`{}`), an enum a `string` with its
//!   variants, a record or inline object an `object`;
//! - a field is `required` unless it is optional or has a `@default` (the
//!   engine accepts it missing then); an optional field also accepts `null`;
//! - `@min`/`@max` bound numbers, string lengths or array lengths, and
//!   `@pattern` constrains strings, as the validator does;
//! - declarations are `$ref`s into `components/schemas`, inline objects are
//!   written in place.

use rohas_schema::model::{EnumDecl, Field, Literal, NamedKind, Primitive, Schema, TypeDecl, TypeRef};
use serde_json::{json, Map, Value};

/// `#/components/schemas/<name>`.
pub(crate) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The JSON Schema of a type as written in a field, body or response.
pub(crate) fn type_schema(ty: &TypeRef) -> Value {
    match ty {
        TypeRef::Primitive(p) => primitive(*p),
        TypeRef::Named { name, .. } => schema_ref(name),
        TypeRef::Array(inner) => json!({ "type": "array", "items": type_schema(inner) }),
        TypeRef::Optional(inner) => nullable(type_schema(inner)),
        TypeRef::Object(fields) => object(fields),
    }
}

fn primitive(p: Primitive) -> Value {
    match p {
        Primitive::String => json!({ "type": "string" }),
        Primitive::Int => json!({ "type": "integer", "format": "int64" }),
        Primitive::Float => json!({ "type": "number", "format": "double" }),
        Primitive::Boolean => json!({ "type": "boolean" }),
        Primitive::DateTime => json!({ "type": "string", "format": "date-time" }),
        Primitive::Json => json!({}),
    }
}

/// `schema` that also accepts `null`: `"type": [t, "null"]` where there is
/// one type, else `anyOf` with `null` (a `$ref`); `{}` already accepts it.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut map) = schema else { return schema };
    if map.is_empty() {
        return Value::Object(map);
    }
    if let Some(Value::String(t)) = map.get("type") {
        let t = t.clone();
        map.insert("type".into(), json!([t, "null"]));
        return Value::Object(map);
    }
    json!({ "anyOf": [Value::Object(map), { "type": "null" }] })
}

/// An object with `fields`: properties, and `required` in field order.
fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        properties.insert(field.name.clone(), field_schema(field));
        if !field.optional && field.attribute("default").is_none() {
            required.push(Value::String(field.name.clone()));
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Value::Object(out)
}

fn field_schema(field: &Field) -> Value {
    let mut schema = type_schema(&field.ty);
    if field.optional {
        schema = nullable(schema);
    }
    let Value::Object(mut map) = schema else { return schema };
    if let Some(doc) = super::description(field.doc.as_deref()) {
        map.insert("description".into(), Value::String(doc));
    }
    default_and_constraints(field, &mut map);
    Value::Object(map)
}

/// The schema of a query parameter declared by `field`: a parameter left
/// out is absent, never `null`, so an optional one is not nullable (the
/// parameter's `required` says it may be left out); its doc is the
/// parameter's `description`.
pub(crate) fn parameter_schema(field: &Field) -> Value {
    let schema = type_schema(&field.ty);
    let Value::Object(mut map) = schema else { return schema };
    default_and_constraints(field, &mut map);
    Value::Object(map)
}

fn default_and_constraints(field: &Field, map: &mut Map<String, Value>) {
    if let Some(default) = default_value(field) {
        map.insert("default".into(), default);
    }
    constraints(field, map);
}

/// `@default(value)` as JSON; `now` (the time of creation) has no JSON form.
fn default_value(field: &Field) -> Option<Value> {
    match field.attribute("default")?.args.first()? {
        Literal::String(s) => Some(json!(s)),
        Literal::Int(i) => Some(json!(i)),
        Literal::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        Literal::Bool(b) => Some(json!(b)),
        Literal::Ident(variant) => matches!(
            base(&field.ty),
            TypeRef::Named {
                target: NamedKind::Enum,
                ..
            }
        )
        .then(|| json!(variant)),
    }
}

/// The field's type without `?` wrappers.
fn base(ty: &TypeRef) -> &TypeRef {
    match ty {
        TypeRef::Optional(inner) => base(inner),
        other => other,
    }
}

/// `@min`, `@max` and `@pattern` as the keywords for what the value is
/// (the schema checker allows them on numbers, `String`s and arrays only).
fn constraints(field: &Field, map: &mut Map<String, Value>) {
    for attr in &field.attributes {
        let keyword = match (attr.name.as_str(), base(&field.ty)) {
            ("min", TypeRef::Primitive(Primitive::Int | Primitive::Float)) => "minimum",
            ("max", TypeRef::Primitive(Primitive::Int | Primitive::Float)) => "maximum",
            ("min", TypeRef::Primitive(Primitive::String)) => "minLength",
            ("max", TypeRef::Primitive(Primitive::String)) => "maxLength",
            ("min", TypeRef::Array(_)) => "minItems",
            ("max", TypeRef::Array(_)) => "maxItems",
            ("pattern", _) => "pattern",
            _ => continue,
        };
        let is_bound = keyword.ends_with("imum");
        let value = match attr.args.first() {
            Some(Literal::String(p)) if keyword == "pattern" => json!(p),
            Some(Literal::Int(i)) if is_bound => json!(i),
            Some(Literal::Float(f)) if is_bound => json!(f),
            // Lengths are whole and not negative: a bound of 2.5 means at
            // least 3 / at most 2, as the validator compares.
            Some(Literal::Int(i)) => json!((*i).max(0)),
            Some(Literal::Float(f)) if keyword.starts_with("min") => json!(f.ceil().max(0.0) as u64),
            Some(Literal::Float(f)) => json!(f.floor().max(0.0) as u64),
            _ => continue,
        };
        map.insert(keyword.into(), value);
    }
}

fn record(decl: &TypeDecl) -> Value {
    let mut schema = object(&decl.fields);
    if let (Some(doc), Value::Object(map)) = (super::description(decl.doc.as_deref()), &mut schema) {
        map.insert("description".into(), Value::String(doc));
    }
    schema
}

fn enumeration(decl: &EnumDecl) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), json!("string"));
    let variants: Vec<Value> = decl.variants.iter().map(|v| json!(v.name)).collect();
    map.insert("enum".into(), Value::Array(variants));
    let mut text: Vec<String> = super::description(decl.doc.as_deref()).into_iter().collect();
    let documented: Vec<String> = decl
        .variants
        .iter()
        .filter_map(|v| Some(format!("- `{}`: {}", v.name, super::description(v.doc.as_deref())?)))
        .collect();
    if !documented.is_empty() {
        text.push(documented.join("\n"));
    }
    if !text.is_empty() {
        map.insert("description".into(), json!(text.join("\n\n")));
    }
    Value::Object(map)
}

/// `components/schemas`: every declaration an api body, response or query
/// parameter reaches, directly or through fields, arrays and inline
/// objects. A named `query:` record is not itself one: its fields are
/// parameters, each with its own schema.
pub(crate) fn components(schema: &Schema) -> Map<String, Value> {
    let roots = schema
        .apis
        .iter()
        .flat_map(|a| {
            let parameters = a.query_fields(schema).iter().map(|f| &f.ty);
            a.body.iter().chain(a.response.iter()).chain(parameters)
        })
        .collect();
    reachable(schema, roots)
}

/// Every declaration the types in `roots` reach, as JSON Schemas by name
/// (the AsyncAPI document starts from event payloads).
pub(crate) fn reachable<'a>(schema: &'a Schema, roots: Vec<&'a TypeRef>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut pending = roots;
    while let Some(ty) = pending.pop() {
        match ty {
            TypeRef::Primitive(_) => {}
            TypeRef::Array(inner) | TypeRef::Optional(inner) => pending.push(inner),
            TypeRef::Object(fields) => pending.extend(fields.iter().map(|f| &f.ty)),
            TypeRef::Named { name, target } => {
                if out.contains_key(name) {
                    continue;
                }
                match target {
                    NamedKind::Record => {
                        if let Some(decl) = schema.type_decl(name) {
                            out.insert(name.clone(), record(decl));
                            pending.extend(decl.fields.iter().map(|f| &f.ty));
                        }
                    }
                    NamedKind::Enum => {
                        if let Some(decl) = schema.enum_decl(name) {
                            out.insert(name.clone(), enumeration(decl));
                        }
                    }
                }
            }
        }
    }
    out
}
