//! Size limits on what telemetry keeps: one huge log line or attribute
//! must not fill the store or the API's pages. A value over its limit is
//! cut and says so (`…[truncated 123456 bytes]`); the record is marked.

use crate::log::LogEntry;
use crate::span::Span;
use serde_json::{Map, Value};

/// Longest message kept, in bytes.
pub const MAX_MESSAGE: usize = 8 * 1024;
/// Longest string kept in a field or attribute, in bytes.
pub const MAX_VALUE: usize = 2 * 1024;
/// Most fields or attributes kept on one record.
pub const MAX_FIELDS: usize = 64;
/// Longest error text kept on a span.
pub const MAX_ERROR: usize = 4 * 1024;

/// Cuts `s` to at most `max` bytes (at a character boundary) and says how
/// much was cut. Returns whether it cut.
pub fn cut(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let total = s.len();
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(&format!("…[truncated {} bytes]", total - end));
    true
}

/// Applies the limits to a map of fields; returns whether anything was cut.
pub fn cut_map(map: &mut Map<String, Value>) -> bool {
    // Most spans and many logs have none: no iterator over an empty map.
    if map.is_empty() {
        return false;
    }
    let mut cut_any = false;
    if map.len() > MAX_FIELDS {
        let extra: Vec<String> = map.keys().skip(MAX_FIELDS).cloned().collect();
        for k in &extra {
            map.remove(k);
        }
        map.insert("_truncated_fields".into(), Value::from(extra.len()));
        cut_any = true;
    }
    for value in map.values_mut() {
        cut_any |= cut_value(value);
    }
    cut_any
}

fn cut_value(value: &mut Value) -> bool {
    match value {
        Value::String(s) => cut(s, MAX_VALUE),
        Value::Array(_) | Value::Object(_) => {
            // Nested values are kept as their JSON text, cut as one string.
            let text = value.to_string();
            if text.len() <= MAX_VALUE {
                return false;
            }
            let mut text = text;
            cut(&mut text, MAX_VALUE);
            *value = Value::String(text);
            true
        }
        _ => false,
    }
}

pub fn cut_log(entry: &mut LogEntry) {
    let a = cut(&mut entry.message, MAX_MESSAGE);
    let b = cut_map(&mut entry.fields);
    entry.truncated |= a || b;
}

pub fn cut_span(span: &mut Span) {
    if let Some(e) = &mut span.error {
        cut(e, MAX_ERROR);
    }
    if let Some(map) = span.attributes.map_mut() {
        cut_map(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_at_a_character_boundary_and_marked() {
        let mut s = "é".repeat(10_000);
        assert!(cut(&mut s, 101));
        assert!(s.starts_with(&"é".repeat(50)));
        assert!(s.ends_with(&format!("…[truncated {} bytes]", 20_000 - 100)), "{s}");
        let mut short = "ok".to_string();
        assert!(!cut(&mut short, 10));
        assert_eq!(short, "ok");
    }

    #[test]
    fn too_many_fields_and_huge_nested_values_are_bounded() {
        let mut map = Map::new();
        for i in 0..100 {
            map.insert(format!("k{i:03}"), Value::from(i));
        }
        map.insert("big".into(), serde_json::json!({"list": vec!["x"; 10_000]}));
        assert!(cut_map(&mut map));
        assert!(map.len() <= MAX_FIELDS + 1);
        assert!(serde_json::to_string(&map).unwrap().len() < MAX_FIELDS * 40 + MAX_VALUE + 200);
    }
}
