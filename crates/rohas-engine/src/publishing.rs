//! What publishing an event by hand needs to know about the schema, for
//! the admin API and for `rohas events publish` when no engine runs: which
//! subscriptions the schema has, whether the event exists, and whether a
//! payload may be published.

use crate::validate::Validator;
use rohas_events::{Subscription, SubscriptionId};
use rohas_runtime::HandlerId;
use rohas_schema::Schema;
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

/// [`payload_problem`], with the payload written as compact JSON once
/// (its length is the size checked): the text, to travel with the
/// message (`Message::with_payload_json`), or why it may not be published.
pub fn checked_payload_json(
    validator: &Validator,
    schema: &Schema,
    limit: usize,
    event: &str,
    payload: &Value,
) -> Result<String, String> {
    // Writing a `Value` to memory cannot fail.
    let json = serde_json::to_string(payload).unwrap_or_default();
    match size_problem(event, json.len(), limit).or_else(|| type_problem(validator, schema, event, payload)) {
        Some(problem) => Err(problem),
        None => Ok(json),
    }
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
