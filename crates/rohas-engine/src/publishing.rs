//! What publishing an event by hand needs to know about the schema, for
//! the admin API and for `rohas events publish` when no engine runs: which
//! subscriptions the schema has, whether the event exists, and whether a
//! payload may be published.

use crate::validate::Validator;
use rohas_events::{Subscription, SubscriptionId};
use rohas_runtime::HandlerId;
use rohas_schema::Schema;
use serde_json::value::RawValue;
use serde_json::Value;

/// One subscription per (event, handler), as the engine declares them.
pub fn subscriptions(schema: &Schema) -> Vec<Subscription> {
    schema
        .events
        .iter()
        .flat_map(|event| {
            event.handlers.iter().map(move |h| Subscription {
                id: SubscriptionId::new(HandlerId::event(&event.name, &h.name)),
                event: event.name.clone(),
            })
        })
        .collect()
}

/// `Err` with a message listing the schema's events when `event` is not one.
pub fn known_event(schema: &Schema, event: &str) -> Result<(), String> {
    if schema.event(event).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = schema.events.iter().map(|e| e.name.as_str()).collect();
    Err(format!(
        "no event `{event}` in the schema; events: {}",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

/// Why `payload` may not be published as `event`, if it may not: larger
/// than `limit` bytes as JSON, or not the event's payload type. An event
/// the schema does not declare takes any payload.
pub fn payload_problem(
    validator: &Validator,
    schema: &Schema,
    limit: usize,
    event: &str,
    payload: &Value,
) -> Option<String> {
    size_problem(event, json_size(payload), limit).or_else(|| type_problem(validator, schema, event, payload))
}

/// [`payload_problem`] for a payload held as the JSON text its publisher
/// wrote: its size is the text's length, and its type is checked straight
/// from the text ([`Validator::accepts`]), with no `Value` built. Where
/// that fast check is not sure, the text is read and checked in full,
/// which names the problem; a payload that passes that way travels as
/// `serde_json` writes it (so an object with a repeated key reaches every
/// handler with the one value the check saw).
pub fn check_payload_text(
    validator: &Validator,
    schema: &Schema,
    limit: usize,
    event: &str,
    payload: &mut Box<RawValue>,
) -> Result<(), String> {
    if let Some(problem) = size_problem(event, payload.get().len(), limit) {
        return Err(problem);
    }
    let Some(ty) = schema.event(event).and_then(|e| e.payload.as_ref()) else {
        return Ok(());
    };
    if validator.accepts(ty, payload.get().as_bytes()) {
        return Ok(());
    }
    // A `RawValue` holds one JSON value: reading it cannot fail.
    let value: Value = serde_json::from_str(payload.get()).unwrap_or(Value::Null);
    if let Some(problem) = type_problem(validator, schema, event, &value) {
        return Err(problem);
    }
    *payload = crate::dispatch::raw_value(&value);
    Ok(())
}

fn size_problem(event: &str, size: usize, limit: usize) -> Option<String> {
    (size > limit).then(|| {
        format!(
            "the payload of event `{event}` is {size} bytes, over the limit of {limit} ([events] max_payload_bytes)"
        )
    })
}

fn type_problem(validator: &Validator, schema: &Schema, event: &str, payload: &Value) -> Option<String> {
    let ty = schema.event(event)?.payload.as_ref()?;
    let problems = validator.check(ty, payload, "payload");
    let p = problems.first()?;
    Some(format!(
        "invalid payload for event `{event}`: {}: {} ({} problem(s))",
        p.path,
        p.problem,
        problems.len()
    ))
}

/// The length of `value` as compact JSON, without building the text.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn schema() -> Arc<Schema> {
        let mut sources = rohas_schema::SourceMap::new();
        sources.add(
            "events.ro",
            "event Tick {\n  payload: { run: String, n: Int }\n  handler: [on_tick]\n}\n",
        );
        Arc::new(rohas_schema::check_sources(sources).schema.expect("valid"))
    }

    fn check(text: &str, limit: usize) -> Result<String, String> {
        let schema = schema();
        let validator = Validator::new(schema.clone());
        let mut payload = RawValue::from_string(text.to_string()).unwrap();
        check_payload_text(&validator, &schema, limit, "Tick", &mut payload).map(|()| payload.get().to_string())
    }

    /// A payload the fast check accepts travels as its publisher wrote it;
    /// one it is unsure of is checked in full and, when it passes, travels
    /// as serde_json writes it: a repeated key reaches handlers once, with
    /// the value the check saw.
    #[test]
    fn a_payload_is_checked_from_its_text_and_kept_as_written() {
        assert_eq!(
            check(r#"{ "run": "r", "n": 1 }"#, 1024).unwrap(),
            r#"{ "run": "r", "n": 1 }"#
        );
        assert_eq!(
            check(r#"{"run": "r", "n": "x", "n": 2}"#, 1024).unwrap(),
            r#"{"n":2,"run":"r"}"#
        );
        let wrong = check(r#"{"run": "r", "n": "x"}"#, 1024).unwrap_err();
        assert!(
            wrong.starts_with("invalid payload for event `Tick`: payload.n:"),
            "{wrong}"
        );
        let missing = check(r#"{"run": "r"}"#, 1024).unwrap_err();
        assert!(missing.contains("payload.n"), "{missing}");
        let big = check(r#"{"run": "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrr", "n": 1}"#, 20).unwrap_err();
        assert!(
            big.contains("over the limit of 20 ([events] max_payload_bytes)"),
            "{big}"
        );
    }
}
