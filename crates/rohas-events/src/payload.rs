//! A message's payload: the JSON text its publisher wrote, read into a
//! `serde_json::Value` only when something asks for one.
//!
//! An event a handler publishes arrives as JSON text (its reply), is
//! checked against its schema type straight from that text (the engine's
//! streaming validator), and travels as text: into the queue file's
//! envelope, into a Rust or Node.js handler's request. Building a `Value`
//! tree for it on the way, then writing the tree out again, cost about a
//! sixth of an event's instructions while nothing read the tree. A payload
//! made from a `Value` (a CLI publish, a test) keeps the value and writes
//! its text when asked.
//!
//! Invariant: the text, when there is one, is exactly one JSON value (it is
//! only ever taken from a `RawValue`, which serde_json checked), so reading
//! it cannot fail.

use serde::de::{Deserialize, Deserializer};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// One message's payload; derefs to its `Value`, read on first use.
#[derive(Clone)]
pub struct Payload {
    text: Option<Box<str>>,
    value: OnceLock<Value>,
}

impl Payload {
    /// The payload as the JSON text a publisher wrote (whitespace and all;
    /// it is passed on as it is).
    pub fn from_json(json: Box<RawValue>) -> Payload {
        Payload {
            text: Some(json.into()),
            value: OnceLock::new(),
        }
    }

    /// The text, when the payload was made from text.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The payload as JSON text: the publisher's, else written from the
    /// value (compact).
    pub fn json(&self) -> Cow<'_, str> {
        match &self.text {
            Some(text) => Cow::Borrowed(text),
            // Writing a `Value` to memory cannot fail.
            None => Cow::Owned(serde_json::to_string(self.value()).unwrap_or_default()),
        }
    }

    /// The payload as a value, read from the text the first time.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // The text came from a `RawValue`: one well-formed JSON value.
            self.text
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or(Value::Null)
        })
    }

    pub fn into_value(mut self) -> Value {
        self.value();
        self.value.take().unwrap_or(Value::Null)
    }

    /// When the payload is a JSON object: how many fields it has, each
    /// top-level key passed to `key` (unescaped). `None` for any other
    /// value. Reads the text without building the fields' values.
    pub fn object_keys(&self, mut key: impl FnMut(&str)) -> Option<usize> {
        if let Some(value) = self.value.get() {
            let fields = value.as_object()?;
            fields.keys().for_each(|k| key(k));
            return Some(fields.len());
        }
        scan_object_keys(self.text.as_deref()?, &mut key)
    }
}

/// [`Payload::object_keys`] read from the text byte by byte: the text is
/// one well-formed JSON value (a `RawValue`'s), so finding the top-level
/// keys takes only telling strings, brackets and commas apart. (Reading it
/// with serde_json's `IgnoredAny` cost a handler's delivery some 1,300
/// instructions for a three-field payload.) A key with an escape in it is
/// unescaped by serde_json.
fn scan_object_keys(text: &str, key: &mut impl FnMut(&str)) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut n = 0;
    loop {
        i = skip_space(b, i);
        match *b.get(i)? {
            b'}' => return Some(n),
            b',' => i += 1,
            b'"' => {
                let end = string_end(b, i)?;
                let raw = text.get(i + 1..end)?;
                if raw.contains('\\') {
                    let unescaped: String = serde_json::from_str(text.get(i..=end)?).ok()?;
                    key(&unescaped);
                } else {
                    key(raw);
                }
                n += 1;
                // Past the `:`, then past the value.
                i = value_end(b, skip_space(b, end + 1) + 1)?;
            }
            _ => return None,
        }
    }
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// Where the string opening at `i` closes (its last quote).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Where the member value starting at `i` ends: the `,` or `}` after it.
fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => i = string_end(b, i)? + 1,
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b',' | b'}' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Payload {
        Payload {
            text: None,
            value: OnceLock::from(value),
        }
    }
}

impl From<Box<RawValue>> for Payload {
    fn from(json: Box<RawValue>) -> Payload {
        Payload::from_json(json)
    }
}

impl std::ops::Deref for Payload {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl Default for Payload {
    fn default() -> Payload {
        Payload::from(Value::Null)
    }
}

/// Equal when the values are: the same payload written with other spacing
/// or key order is the same payload.
impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        match (&self.text, &other.text) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.value() == other.value(),
        }
    }
}

impl PartialEq<Value> for Payload {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (&self.text, self.value.get()) {
            (_, Some(value)) => fmt::Debug::fmt(value, f),
            (Some(text), None) => write!(f, "Json({text})"),
            (None, None) => f.write_str("Null"),
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Payload, D::Error> {
        Value::deserialize(deserializer).map(Payload::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(json: &str) -> Payload {
        Payload::from_json(RawValue::from_string(json.to_string()).unwrap())
    }

    #[test]
    fn a_payload_from_text_keeps_the_text_and_reads_the_same_value() {
        let p = text(r#"{ "a": [1, 2], "b\"c": "d" }"#);
        assert_eq!(p.json(), r#"{ "a": [1, 2], "b\"c": "d" }"#);
        assert_eq!(*p, json!({"a": [1, 2], "b\"c": "d"}));
        assert_eq!(p["a"][1], 2);
        assert_eq!(p, Payload::from(json!({"b\"c": "d", "a": [1, 2]})));
        assert_eq!(p.clone().into_value(), json!({"a": [1, 2], "b\"c": "d"}));
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"a":[1,2],"b\"c":"d"}"#);
    }

    #[test]
    fn a_payload_from_a_value_writes_compact_text() {
        let p = Payload::from(json!({"n": 1, "s": "x"}));
        assert_eq!(p.text(), None);
        assert_eq!(p.json(), r#"{"n":1,"s":"x"}"#);
        let back: Payload = serde_json::from_str(r#"{"n":1,"s":"x"}"#).unwrap();
        assert_eq!(back, p);
        assert_ne!(Payload::from(json!(1)), Payload::from(json!(2)));
    }

    #[test]
    fn object_keys_are_read_from_the_text_or_the_value_alike() {
        for (json, keys) in [
            (
                r#"{"a": {"x": [1, {"y": 2}]}, "b\u0022": "s", "c": null}"#,
                Some(vec!["a", "b\"", "c"]),
            ),
            ("{}", Some(vec![])),
            ("[1, 2]", None),
            ("3", None),
            (r#""{""#, None),
            ("null", None),
            (
                r#" { "a" : "}\\\"{,", "b":[{"c":"]"},[]] , "d":-1.5e3,"e":true,"f" :null } "#,
                Some(vec!["a", "b", "d", "e", "f"]),
            ),
            (r#"{"n\u0061me": 1, "\\": 2}"#, Some(vec!["name", "\\"])),
        ] {
            for p in [text(json), Payload::from(serde_json::from_str::<Value>(json).unwrap())] {
                let mut seen = Vec::new();
                let n = p.object_keys(|k| seen.push(k.to_string()));
                // A `Value`'s keys come sorted.
                seen.sort();
                let want = keys.clone().map(|k| {
                    let mut k: Vec<String> = k.into_iter().map(String::from).collect();
                    k.sort();
                    k
                });
                assert_eq!(n, want.as_ref().map(Vec::len), "{json}");
                assert_eq!(Some(seen).filter(|_| n.is_some()), want, "{json}");
            }
        }
    }
}
