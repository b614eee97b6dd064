//! Typed query parameters: `?limit=3&tag=a&tag=b` → the JSON object an
//! api's `query:` declares, checked like a body.
//!
//! Each declared field reads the parameter of its name: its text becomes
//! the field's type (`Int` an integer, `Boolean` `true`/`false`, a list
//! every occurrence in order, a scalar the last one, as `query_params`
//! keeps), then the validator checks what it checks in bodies (enum
//! variants, date-times, `@min`/`@max`/`@pattern`). A parameter left out is
//! absent from the object, so generated code applies `@default` as it does
//! for bodies. Parameters the api does not declare are not looked at here;
//! handlers still find every parameter, as text, in `query_params`.

use crate::validate::{may_be_left_out, Problem, Validator};
use rohas_schema::model::{Field, NamedKind, Primitive, TypeRef};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// The typed query of an api declaring `query: ty` with `fields`, from the
/// URL's query string; every problem (the whole list, as for a body) when
/// a parameter is missing or not of its type.
pub(crate) fn typed(
    validator: &Validator,
    ty: &TypeRef,
    fields: &[Field],
    query: Option<&str>,
) -> Result<Value, Vec<Problem>> {
    let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(query.unwrap_or("").as_bytes()).collect();
    let mut object = Map::new();
    let mut problems = Vec::new();
    for field in fields {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == field.name)
            .map(|(_, v)| v.as_ref())
            .collect();
        let path = format!("query.{}", field.name);
        let Some(last) = values.last() else {
            if !may_be_left_out(field) {
                problems.push(Problem {
                    path,
                    problem: "required query parameter is missing".into(),
                });
            }
            continue;
        };
        let value = match &field.ty {
            TypeRef::Array(item) => {
                let mut items = Vec::with_capacity(values.len());
                for (i, text) in values.iter().enumerate() {
                    match coerce(item, text) {
                        Ok(v) => items.push(v),
                        Err(problem) => problems.push(Problem {
                            path: format!("{path}[{i}]"),
                            problem,
                        }),
                    }
                }
                Value::Array(items)
            }
            scalar => match coerce(scalar, last) {
                Ok(v) => v,
                Err(problem) => {
                    problems.push(Problem { path, problem });
                    continue;
                }
            },
        };
        object.insert(field.name.clone(), value);
    }
    // A value that could not be read is already a problem; the validator
    // would only add "missing" for it.
    if !problems.is_empty() {
        return Err(problems);
    }
    let object = Value::Object(object);
    let problems = validator.check(ty, &object, "query");
    if problems.is_empty() {
        Ok(object)
    } else {
        Err(problems)
    }
}

/// One parameter's text as a value of `ty` (a scalar or an enum: the
/// schema allows nothing else, E0019). Strings, date-times and enum
/// variants stay text for the validator to judge.
fn coerce(ty: &TypeRef, text: &str) -> Result<Value, String> {
    match ty {
        TypeRef::Primitive(Primitive::Int) => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("expected an integer, found {}", quoted(text))),
        TypeRef::Primitive(Primitive::Float) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("expected a number, found {}", quoted(text))),
        TypeRef::Primitive(Primitive::Boolean) => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, found {}", quoted(text))),
        },
        TypeRef::Optional(inner) => coerce(inner, text),
        TypeRef::Primitive(_)
        | TypeRef::Named {
            target: NamedKind::Enum,
            ..
        } => Ok(Value::String(text.to_string())),
        // Refused by the schema (E0019); taken as text rather than panicking.
        TypeRef::Named { .. } | TypeRef::Array(_) | TypeRef::Object(_) => Ok(Value::String(text.to_string())),
    }
}

/// The client's text in a message, cut short: it is echoed to them.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("\"{}…\"", &text[..end]),
        None => format!("\"{text}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    const SCHEMA: &str = r#"
enum Color {
  RED
  GREEN
}

api ListItems {
  method: GET
  path: "/items"
  query: { limit: Int? @min(0) @max(20), ratio: Float?, inStock: Boolean?, color: Color?, tag: String[]? @max(3), since: DateTime?, page: Int @default(1), text: String @min(1) }
}
"#;

    fn run(query: &str) -> Result<Value, Vec<Problem>> {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add("t.ro", SCHEMA);
        let checked = rohas_schema::check_sources(sources);
        let schema = Arc::new(checked.schema.expect("valid schema"));
        let validator = Validator::new(Arc::clone(&schema));
        let api = &schema.apis[0];
        typed(
            &validator,
            api.query.as_ref().unwrap(),
            api.query_fields(&schema),
            Some(query),
        )
    }

    fn problems(query: &str) -> Vec<(String, String)> {
        run(query)
            .expect_err("refused")
            .into_iter()
            .map(|p| (p.path, p.problem))
            .collect()
    }

    #[test]
    fn text_becomes_each_fields_type_and_left_out_parameters_stay_absent() {
        let value = run(
            "limit=3&ratio=0.5&inStock=false&color=GREEN&tag=a&tag=b%20c&since=2026-01-02T03:04:05Z&text=x&other=1",
        )
        .expect("accepted");
        assert_eq!(
            value,
            json!({
                "limit": 3, "ratio": 0.5, "inStock": false, "color": "GREEN",
                "tag": ["a", "b c"], "since": "2026-01-02T03:04:05Z", "text": "x",
            })
        );
        assert_eq!(run("text=only").expect("accepted"), json!({ "text": "only" }));
    }

    #[test]
    fn a_repeated_scalar_takes_its_last_value() {
        assert_eq!(run("text=a&limit=1&limit=2").expect("accepted")["limit"], json!(2));
    }

    #[test]
    fn every_problem_names_its_parameter() {
        assert_eq!(
            problems("limit=ten&ratio=NaN&inStock=yes&tag=a&tag=b&tag=c&tag=d"),
            vec![
                ("query.limit".into(), "expected an integer, found \"ten\"".into()),
                ("query.ratio".into(), "expected a number, found \"NaN\"".into()),
                ("query.inStock".into(), "expected true or false, found \"yes\"".into()),
                ("query.text".into(), "required query parameter is missing".into()),
            ]
        );
    }

    #[test]
    fn the_validator_judges_enums_dates_and_bounds() {
        let found = problems("text=&limit=21&color=BLUE&since=yesterday&tag=a&tag=b&tag=c&tag=d");
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["query.limit", "query.color", "query.tag", "query.since", "query.text"]
        );
        assert!(found[0].1.contains("at most 20"), "{found:?}");
    }

    #[test]
    fn a_long_bad_value_is_cut_short_in_the_message() {
        let long = "x".repeat(500);
        let found = problems(&format!("text=a&limit={long}"));
        assert!(found[0].1.len() < 80, "{found:?}");
        assert!(found[0].1.ends_with("…\""), "{found:?}");
    }

    #[test]
    fn an_integer_outside_64_bits_is_refused() {
        let found = problems("text=a&limit=99999999999999999999");
        assert_eq!(found[0].0, "query.limit");
    }
}
