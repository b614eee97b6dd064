//! What a handler receives and what its answer changes, where the engine
//! builds it from plain JSON: the event object an event handler gets, and a
//! middleware's answer applied to the request context.
//!
//! One definition for the engine and for the Rust test harness: this file
//! is written, as it is, into every Rust project's runtime crate (a module
//! of `testing`), and the engine compiles the same file as
//! `rohas_runtime::shapes`. So it depends on `serde_json` alone.

use serde_json::{Map, Value};

/// The event object an event handler receives: the payload's fields at top
/// level (`event.user_id`), plus `payload` (always the whole payload),
/// `name`, `timestamp` and `trace_id`, each unless the payload has a field
/// of that name (a payload field wins).
pub fn event_request(event: &str, payload: &Value, published_at: &str, trace_id: &str) -> Value {
    let mut object = match payload {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    // Built only when the payload has no field of that name: the
    // payload is the one copy made whatever it holds.
    object.insert("payload".into(), payload.clone());
    let added = [
        ("name", event),
        ("timestamp", published_at),
        ("trace_id", trace_id),
    ];
    for (key, value) in added {
        if !object.contains_key(key) {
            object.insert(key.into(), Value::String(value.to_string()));
        }
    }
    Value::Object(object)
}

/// A middleware's return value applied to the request context
/// (`{"payload", "query_params", "headers", …}`): a returned object
/// replaces the keys it has of those three (a `HandlerContext` carries its
/// headers in `metadata`); anything else (`None`, `null`) changes nothing.
pub fn apply_middleware_answer(context: &mut Value, answer: Value) {
    let Value::Object(mut changes) = answer else {
        return;
    };
    if let Some(Value::Object(mut metadata)) = changes.remove("metadata") {
        if let Some(headers) = metadata.remove("headers") {
            changes.entry("headers").or_insert(headers);
        }
    }
    for (key, value) in changes {
        if matches!(key.as_str(), "payload" | "query_params" | "headers") {
            context[key.as_str()] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payload_field_wins_over_the_event_metadata() {
        let object = event_request("UserCreated", &json!({"name": "ada", "id": 1}), "t", "tr");
        assert_eq!(
            object,
            json!({"name": "ada", "id": 1, "payload": {"name": "ada", "id": 1}, "timestamp": "t", "trace_id": "tr"})
        );
        let object = event_request("Tick", &json!(3), "t", "tr");
        assert_eq!(
            object,
            json!({"payload": 3, "name": "Tick", "timestamp": "t", "trace_id": "tr"})
        );
    }

    #[test]
    fn a_middleware_answer_replaces_only_the_request_parts() {
        let headers = json!({"a": "1"});
        let mut context = json!({"payload": 1, "headers": headers, "api": "X"});
        let answer = json!({"metadata": {"headers": {"b": "2"}}, "api": "Y"});
        apply_middleware_answer(&mut context, answer);
        let changed = json!({"payload": 1, "headers": {"b": "2"}, "api": "X"});
        assert_eq!(context, changed);
        apply_middleware_answer(&mut context, Value::Null);
        assert_eq!(context, changed);
    }
}
