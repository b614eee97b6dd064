//! The fast path of validation: whether a JSON body is a schema type, read
//! straight from its bytes, with no `serde_json::Value` built.
//!
//! A handler that only reads its body (a Rust `handler(input:
//! CreateUserInput)`) needs no parsed body at all: when this says the bytes
//! conform, the engine hands them on as they came. It answers only "yes" or
//! "not sure": any problem, and anything this does not follow exactly as
//! [`Validator::check`] does (an escaped object key, a repeated key, more
//! than 64 fields), is "not sure", and the caller parses the body and runs
//! `check`, which names the problems. So the two can never disagree on a
//! body that gets through.

use crate::validate::{may_be_left_out, Measure, Validator};
use rohas_schema::model::{Field, NamedKind, Primitive, TypeRef};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

impl Validator {
    /// `true` when `json` is one JSON value of type `ty` (not `null`) with
    /// no problem `check` would report; `false` when it is not, or when
    /// unsure.
    pub fn accepts(&self, ty: &TypeRef, json: &[u8]) -> bool {
        // UTF-8 checked once, whole, then read as a `str`: reading bytes
        // checks every string on its own (a call per key and value). Bytes
        // that are not UTF-8 are "not sure": `check`'s parse names them.
        let Ok(json) = std::str::from_utf8(json) else {
            return false;
        };
        let mut input = serde_json::Deserializer::from_str(json);
        let top = Expect {
            validator: self,
            ty,
            field: None,
            depth: 0,
            top: true,
        };
        top.deserialize(&mut input).is_ok() && input.end().is_ok()
    }
}

/// One value to read and check against `ty` (and `field`'s `@min`, `@max`,
/// `@pattern` when it is a field's value).
#[derive(Clone, Copy)]
struct Expect<'a> {
    validator: &'a Validator,
    ty: &'a TypeRef,
    field: Option<&'a Field>,
    depth: usize,
    /// The body itself: `null` there is "a JSON body is required".
    top: bool,
}

fn no<E: Error>() -> E {
    E::custom("")
}

impl Expect<'_> {
    /// The type with `T?` layers removed, and whether `null` is allowed.
    fn resolved(&self) -> (&TypeRef, bool) {
        let mut ty = self.ty;
        // As in `validate.rs`: a `@default` field may be left out, not `null`.
        let mut nullable = self.field.is_some_and(|f| f.optional);
        while let TypeRef::Optional(inner) = ty {
            ty = inner;
            nullable = true;
        }
        (ty, nullable)
    }

    fn primitive(&self) -> Option<Primitive> {
        match self.resolved().0 {
            TypeRef::Primitive(p) => Some(*p),
            _ => None,
        }
    }

    /// The field's `@min`, `@max` and `@pattern`, as `check` applies them.
    fn constraints<E: Error>(&self, measure: Measure<'_>) -> Result<(), E> {
        match self.field {
            Some(field) if self.validator.constraint_problems(field, measure).next().is_some() => Err(no()),
            _ => Ok(()),
        }
    }

    fn number<E: Error>(&self, n: f64, integer: bool) -> Result<(), E> {
        match self.primitive() {
            Some(Primitive::Int) if integer => {}
            Some(Primitive::Float | Primitive::Json) => {}
            _ => return Err(no()),
        }
        self.constraints(Measure::Number(n))
    }

    /// The fields of an object type, or `None` for "anything" (a record the
    /// schema does not declare, as `check` treats it).
    fn fields(&self) -> Result<Option<&[Field]>, ()> {
        match self.resolved().0 {
            TypeRef::Object(fields) => Ok(Some(fields)),
            TypeRef::Named {
                name,
                target: NamedKind::Record,
            } => Ok(self.validator.record_fields(name)),
            TypeRef::Primitive(Primitive::Json) => Ok(None),
            _ => Err(()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Expect<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.depth > 64 {
            // `check` stops looking this deep.
            return deserializer.deserialize_ignored_any(IgnoredAny).map(|_| ());
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Expect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value of the schema type")
    }

    fn visit_unit<E: Error>(self) -> Result<(), E> {
        let (ty, nullable) = self.resolved();
        if self.top {
            return Err(no());
        }
        if nullable {
            return Ok(());
        }
        match ty {
            TypeRef::Primitive(Primitive::Json) => self.constraints(Measure::Other),
            _ => Err(no()),
        }
    }

    fn visit_none<E: Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
        match self.primitive() {
            Some(Primitive::Boolean | Primitive::Json) => self.constraints(Measure::Other),
            _ => Err(no()),
        }
    }

    fn visit_i64<E: Error>(self, n: i64) -> Result<(), E> {
        self.number(n as f64, true)
    }

    fn visit_u64<E: Error>(self, n: u64) -> Result<(), E> {
        self.number(n as f64, n <= i64::MAX as u64)
    }

    fn visit_f64<E: Error>(self, n: f64) -> Result<(), E> {
        self.number(n, false)
    }

    fn visit_str<E: Error>(self, s: &str) -> Result<(), E> {
        let ok = match self.resolved().0 {
            TypeRef::Primitive(Primitive::String | Primitive::Json) => true,
            TypeRef::Primitive(Primitive::DateTime) => crate::validate::datetime_ok(s),
            TypeRef::Named {
                name,
                target: NamedKind::Enum,
            } => self.validator.enum_has(name, s),
            _ => false,
        };
        if !ok {
            return Err(no());
        }
        self.constraints(Measure::Text(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let count = match self.resolved().0 {
            TypeRef::Array(inner) => {
                let item = Expect {
                    ty: inner,
                    field: None,
                    depth: self.depth + 1,
                    top: false,
                    ..self
                };
                let mut count = 0;
                while items.next_element_seed(item)?.is_some() {
                    count += 1;
                }
                count
            }
            TypeRef::Primitive(Primitive::Json) => {
                let mut count = 0;
                while items.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                count
            }
            _ => return Err(no()),
        };
        self.constraints(Measure::Items(count))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let Some(fields) = self.fields().map_err(|()| no())? else {
            while entries.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return self.constraints(Measure::Other);
        };
        if fields.len() > 64 {
            return Err(no());
        }
        let mut seen = 0u64;
        // A key with escapes cannot be borrowed: not sure, `check` decides.
        while let Some(key) = entries.next_key::<&str>()? {
            match fields.iter().position(|f| f.name == key) {
                Some(i) => {
                    if seen & (1 << i) != 0 {
                        return Err(no()); // a repeated key: `check` sees the last only
                    }
                    seen |= 1 << i;
                    let field = &fields[i];
                    entries.next_value_seed(Expect {
                        ty: &field.ty,
                        field: Some(field),
                        depth: self.depth + 1,
                        top: false,
                        ..self
                    })?;
                }
                None => {
                    entries.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (i, field) in fields.iter().enumerate() {
            let required = !may_be_left_out(field);
            if required && seen & (1 << i) == 0 {
                return Err(no());
            }
        }
        self.constraints(Measure::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn validator(text: &str) -> Validator {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add("t.ro", text);
        Validator::new(Arc::new(rohas_schema::check_sources(sources).schema.expect("valid")))
    }

    /// `accepts` must say yes exactly when `check` finds no problem (or say
    /// "not sure"): every case is run through both.
    #[test]
    fn accepts_only_what_check_finds_no_problem_with() {
        let v = validator(
            "enum Role { A B }\n\
             input Tag { label: String }\n\
             input In { name: String @min(2) \n email: String @pattern(\"^[^@]+@[^@]+$\")\n \
             tags: Int[] @max(2)\n role: Role\n at: DateTime?\n nick: String?\n score: Float?\n \
             extra: Json?\n labels: Tag[]?\n count: Int @default(3) }",
        );
        let ty = TypeRef::Named {
            name: "In".into(),
            target: NamedKind::Record,
        };
        let good = r#"{"name": "Ada", "email": "a@b", "tags": [1, 2], "role": "A"}"#;
        let cases = [
            (good, true),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [], "role": "B", "at": "2024-01-02T03:04:05Z", "nick": null, "score": 1, "extra": {"x": [1, null]}, "labels": [{"label": "x"}], "count": 7, "unknown": {"deep": [1]}}"#,
                true,
            ),
            (r#"{"name": "A", "email": "a@b", "tags": [], "role": "A"}"#, false),
            (r#"{"name": "Ada", "email": "nope", "tags": [], "role": "A"}"#, false),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [1, 2, 3], "role": "A"}"#,
                false,
            ),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [1, "2"], "role": "A"}"#,
                false,
            ),
            (r#"{"name": "Ada", "email": "a@b", "tags": [1.5], "role": "A"}"#, false),
            (r#"{"name": "Ada", "email": "a@b", "tags": [], "role": "C"}"#, false),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [], "role": "A", "at": "yesterday"}"#,
                false,
            ),
            (r#"{"name": "Ada", "email": "a@b", "tags": []}"#, false),
            (r#"{"name": null, "email": "a@b", "tags": [], "role": "A"}"#, false),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [], "role": "A", "labels": [{}]}"#,
                false,
            ),
            (
                r#"{"name": "Ada", "email": "a@b", "tags": [], "role": "A", "count": "x"}"#,
                false,
            ),
            (r#"[1]"#, false),
            (r#""text""#, false),
        ];
        for (json, expected) in cases {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            let clean = v.check(&ty, &value, "body").is_empty();
            assert_eq!(clean, expected, "check on {json}");
            assert_eq!(v.accepts(&ty, json.as_bytes()), expected, "accepts on {json}");
        }
        // Not sure (left to `check`): null, repeated and escaped keys, bad JSON, trailing data.
        for json in [
            "null",
            r#"{"name": "Ada", "name": "Bob", "email": "a@b", "tags": [], "role": "A"}"#,
            r#"{"na\u006de": "Ada", "email": "a@b", "tags": [], "role": "A"}"#,
            r#"{"name": "Ada""#,
            &format!("{good} {good}"),
        ] {
            assert!(!v.accepts(&ty, json.as_bytes()), "{json}");
        }
    }
}
