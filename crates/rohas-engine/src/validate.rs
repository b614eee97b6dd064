//! Incoming data checked against the schema: request bodies, WebSocket
//! messages, event payloads, and (in `rohas dev`) API responses.
//!
//! Problems carry a path into the value (`body.tags[2]`) so the 422 answer
//! tells the client exactly which field is wrong; the path is only written
//! out for a problem, so checking a valid value allocates nothing. Regular
//! expressions from `@pattern` are compiled once per schema, not per
//! request.

use rohas_schema::model::{Field, Literal, NamedKind, Primitive, Schema, TypeRef};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub problem: String,
}

/// Checks values against the types of one schema.
pub struct Validator {
    schema: std::sync::Arc<Schema>,
    patterns: HashMap<String, regex_lite::Regex>,
}

impl Validator {
    pub fn new(schema: std::sync::Arc<Schema>) -> Self {
        let mut patterns = HashMap::new();
        let mut add = |fields: &[Field]| {
            for f in fields {
                if let Some(Literal::String(p)) = f.attribute("pattern").and_then(|a| a.args.first()) {
                    if let Ok(re) = regex_lite::Regex::new(p) {
                        patterns.insert(p.clone(), re);
                    }
                }
            }
        };
        for t in &schema.types {
            add(&t.fields);
        }
        // Inline objects are compiled on first sight instead (rare, small).
        Validator { schema, patterns }
    }

    /// Every problem of `value` as a `ty`; empty when it conforms.
    pub fn check(&self, ty: &TypeRef, value: &Value, path: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        self.value(ty, value, At::Root(path), &mut out, 0);
        out
    }

    fn value(&self, ty: &TypeRef, value: &Value, path: At<'_>, out: &mut Vec<Problem>, depth: usize) {
        if depth > 64 || out.len() >= 50 {
            return;
        }
        let mut bad = |problem: String| {
            out.push(Problem {
                path: path.render(),
                problem,
            })
        };
        match ty {
            TypeRef::Optional(inner) => {
                if !value.is_null() {
                    self.value(inner, value, path, out, depth + 1);
                }
            }
            TypeRef::Primitive(p) => {
                let ok = match p {
                    Primitive::String => value.is_string(),
                    Primitive::Int => value.is_i64() || value.as_u64().is_some_and(|u| u <= i64::MAX as u64),
                    Primitive::Float => value.is_number(),
                    Primitive::Boolean => value.is_boolean(),
                    Primitive::DateTime => value.as_str().is_some_and(datetime_ok),
                    Primitive::Json => true,
                };
                if !ok && *p == Primitive::Int && out_of_range_integer(value) {
                    bad("expected an integer, found one outside the signed 64-bit range".into());
                } else if !ok {
                    let expected = match p {
                        Primitive::String => "a string",
                        Primitive::Int => "an integer",
                        Primitive::Float => "a number",
                        Primitive::Boolean => "true or false",
                        Primitive::DateTime => {
                            "an RFC 3339 date-time string from year 0001 to 9999, without a leap second"
                        }
                        Primitive::Json => "JSON",
                    };
                    bad(format!("expected {expected}, found {}", describe(value)));
                }
            }
            TypeRef::Array(inner) => match value.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.value(inner, item, At::Index(&path, i), out, depth + 1);
                    }
                }
                None => bad(format!("expected an array, found {}", describe(value))),
            },
            TypeRef::Named {
                name,
                target: NamedKind::Enum,
            } => {
                let variants = self.schema.enum_decl(name).map(|e| &e.variants);
                let ok = value
                    .as_str()
                    .is_some_and(|s| variants.is_some_and(|v| v.iter().any(|v| v.name == s)));
                if !ok {
                    let allowed: Vec<&str> = variants.into_iter().flatten().map(|v| v.name.as_str()).collect();
                    bad(format!(
                        "expected one of {}, found {}",
                        allowed.join(", "),
                        describe(value)
                    ));
                }
            }
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => {
                if let Some(decl) = self.schema.type_decl(name) {
                    self.object(&decl.fields, value, path, out, depth);
                }
            }
            TypeRef::Object(fields) => self.object(fields, value, path, out, depth),
        }
    }

    fn object(&self, fields: &[Field], value: &Value, path: At<'_>, out: &mut Vec<Problem>, depth: usize) {
        let Some(map) = value.as_object() else {
            out.push(Problem {
                path: path.render(),
                problem: format!("expected an object, found {}", describe(value)),
            });
            return;
        };
        for field in fields {
            let field_path = At::Field(&path, &field.name);
            match map.get(&field.name) {
                None if may_be_left_out(field) => {}
                // `null` is a value of an optional field only: a `@default`
                // lets the field be left out, as the OpenAPI document says,
                // and the generated Python and Rust types cannot hold `null`.
                Some(Value::Null) if field.optional => {}
                None => out.push(Problem {
                    path: field_path.render(),
                    problem: "required field is missing".into(),
                }),
                Some(v) => {
                    self.value(&field.ty, v, field_path, out, depth + 1);
                    if !field.attributes.is_empty() {
                        self.constraints(field, v, field_path, out);
                    }
                }
            }
        }
    }

    /// `@min`, `@max` and `@pattern`.
    fn constraints(&self, field: &Field, value: &Value, path: At<'_>, out: &mut Vec<Problem>) {
        let measure = match value {
            Value::Number(n) => n.as_f64().map_or(Measure::Other, Measure::Number),
            Value::String(s) => Measure::Text(s),
            Value::Array(a) => Measure::Items(a.len()),
            _ => Measure::Other,
        };
        for problem in self.constraint_problems(field, measure) {
            out.push(Problem {
                path: path.render(),
                problem,
            });
        }
    }

    /// What `field`'s `@min`, `@max` and `@pattern` find wrong with a value
    /// measured as `measure` (shared with `validate_stream.rs`).
    pub(crate) fn constraint_problems<'a>(
        &'a self,
        field: &'a Field,
        measure: Measure<'a>,
    ) -> impl Iterator<Item = String> + 'a {
        field.attributes.iter().filter_map(move |attr| {
            let bound = match attr.args.first() {
                Some(Literal::Int(i)) => Some(*i as f64),
                Some(Literal::Float(f)) => Some(*f),
                _ => None,
            };
            let (measured, unit, text) = match measure {
                Measure::Number(n) => (Some(n), "", None),
                Measure::Text(s) => (Some(s.chars().count() as f64), " characters", Some(s)),
                Measure::Items(n) => (Some(n as f64), " items", None),
                Measure::Other => (None, "", None),
            };
            match (attr.name.as_str(), bound, measured) {
                ("min", Some(b), Some(m)) if m < b => Some(format!("must be at least {b}{unit}")),
                ("max", Some(b), Some(m)) if m > b => Some(format!("must be at most {b}{unit}")),
                ("pattern", _, _) => match (attr.args.first(), text) {
                    (Some(Literal::String(p)), Some(s)) if self.pattern_rejects(p, s) => {
                        Some(format!("must match the pattern {p}"))
                    }
                    _ => None,
                },
                _ => None,
            }
        })
    }
}

/// A field that may be missing: optional, or with a `@default` (only an
/// optional one may also be `null`).
pub(crate) fn may_be_left_out(field: &Field) -> bool {
    field.optional || field.attribute("default").is_some()
}

/// What `@min`/`@max` compare and `@pattern` matches of one value.
#[derive(Clone, Copy)]
pub(crate) enum Measure<'a> {
    Number(f64),
    /// Counted in characters; matched by `@pattern`.
    Text(&'a str),
    Items(usize),
    Other,
}

/// Where a value is inside what is checked, written out only for a problem.
#[derive(Clone, Copy)]
enum At<'a> {
    /// `body`, `payload`, or `""` for the top level.
    Root(&'a str),
    Field(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    /// `body.tags[2]`; a field at an empty root is its name alone.
    fn render(&self) -> String {
        match self {
            At::Root(root) => root.to_string(),
            At::Field(parent, name) => {
                let mut path = parent.render();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                path
            }
            At::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

impl Validator {
    /// `@pattern(p)` does not match `s` (a pattern that does not compile
    /// rejects nothing).
    pub(crate) fn pattern_rejects(&self, p: &str, s: &str) -> bool {
        match self.patterns.get(p) {
            Some(re) => !re.is_match(s),
            None => regex_lite::Regex::new(p).is_ok_and(|re| !re.is_match(s)),
        }
    }

    /// The fields of record `name`; `None` when the schema has no such
    /// record (its values are not checked).
    pub(crate) fn record_fields(&self, name: &str) -> Option<&[Field]> {
        self.schema.type_decl(name).map(|decl| decl.fields.as_slice())
    }

    /// `s` is a variant of enum `name`.
    pub(crate) fn enum_has(&self, name: &str, s: &str) -> bool {
        self.schema
            .enum_decl(name)
            .is_some_and(|e| e.variants.iter().any(|v| v.name == s))
    }
}

/// An RFC 3339 date-time every handler language can hold and write back
/// as RFC 3339: Python's `datetime` has no year 0 and no leap second
/// (`:60`), and a year past 9999 in UTC (`9999-12-31T23:59:59-05:00`) is
/// written `+010000-…` by TypeScript and Rust, which is not RFC 3339.
pub(crate) fn datetime_ok(text: &str) -> bool {
    use chrono::{Datelike, Timelike};
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) else {
        return false;
    };
    let years = 1..=9999;
    years.contains(&at.year()) && years.contains(&at.naive_utc().year()) && at.nanosecond() < 1_000_000_000
}

/// A whole JSON number that `i64` cannot hold. serde_json reads an integer
/// past `i64` and `u64` as a float, which may round to exactly -2^63: a
/// float of that size is counted out of range too.
fn out_of_range_integer(value: &Value) -> bool {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    match value {
        Value::Number(n) if n.is_u64() => !n.is_i64(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() >= LIMIT),
        _ => false,
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(text: &str) -> std::sync::Arc<Schema> {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add("t.ro", text);
        let checked = rohas_schema::check_sources(sources);
        std::sync::Arc::new(checked.schema.expect("valid"))
    }

    /// A TypeScript handler that echoes an `Int` past 2^53 answers a
    /// different, rounded number, which can fall outside `i64`: the dev
    /// response check said "expected an integer, found an integer".
    #[test]
    fn an_integer_out_of_range_is_named_as_such() {
        let v = Validator::new(schema("type T { n: Int }"));
        let ty = TypeRef::Named {
            name: "T".into(),
            target: NamedKind::Record,
        };
        let out_of_range = "expected an integer, found one outside the signed 64-bit range";
        for text in [
            r#"{"n": 9223372036854776000}"#,
            r#"{"n": -9223372036854776000}"#,
            r#"{"n": 1e300}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let problems = v.check(&ty, &value, "response");
            assert_eq!(problems.len(), 1, "{text}");
            assert_eq!(problems[0].problem, out_of_range, "{text}");
        }
        for fraction in [json!({"n": 1.5}), json!({"n": 1.0})] {
            let problems = v.check(&ty, &fraction, "response");
            assert_eq!(problems[0].problem, "expected an integer, found a number", "{fraction}");
        }
        assert!(v.check(&ty, &json!({"n": i64::MIN}), "response").is_empty());
        assert!(v.check(&ty, &json!({"n": i64::MAX}), "response").is_empty());
    }

    #[test]
    fn reports_paths_of_every_problem() {
        let s = schema(
            "enum Role { A B }\ninput In { name: String @min(2) \n email: String @pattern(\"^[^@]+@[^@]+$\")\n tags: Int[] @max(2)\n role: Role\n at: DateTime?\n nick: String? }",
        );
        let v = Validator::new(s.clone());
        let ty = TypeRef::Named {
            name: "In".into(),
            target: NamedKind::Record,
        };
        let problems = v.check(
            &ty,
            &json!({"name": "x", "email": "nope", "tags": [1, "2", 3], "role": "C", "at": "yesterday"}),
            "body",
        );
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "body.name",
                "body.email",
                "body.tags[1]",
                "body.tags",
                "body.role",
                "body.at"
            ]
        );
        assert!(v
            .check(
                &ty,
                &json!({"name": "xy", "email": "a@b", "tags": [], "role": "A"}),
                "body"
            )
            .is_empty());
        assert_eq!(v.check(&ty, &json!({}), "body")[0].problem, "required field is missing");
        // At the top level (an event payload checked as is), a field is its name.
        let top = v.check(
            &ty,
            &json!({"name": "xy", "email": "a@b", "tags": [1, "x"], "role": "A"}),
            "",
        );
        let paths: Vec<&str> = top.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["tags[1]"]);
    }
}
