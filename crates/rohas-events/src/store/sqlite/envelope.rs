//! A message row's `envelope`: everything of the message but its seq and
//! publish time, as one JSON object, so a row is three values (seq, time,
//! envelope) and the writer binds one text instead of six.
//!
//! SQLite copies every bound text, and the six of format 1 (id, event,
//! payload, trace id, traceparent, source) were 3,400 of the 8,200
//! instructions a message row cost; written here in one pass they are one
//! copy. It stays JSON so the file is still readable with any SQLite tool
//! (`json_extract(envelope, '$.event')`). The trace id is written only when
//! the `traceparent` does not already carry it (the usual case is that it
//! does), so it is stored once.

use crate::json_text::write_str;
use crate::message::{Message, MessageId};
use crate::payload::Payload;
use crate::time::Millis;
use serde::Deserialize;
use serde_json::value::RawValue;
#[cfg(test)]
use serde_json::Value;

#[derive(Deserialize)]
struct Read {
    id: String,
    event: String,
    source: String,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    traceparent: Option<String>,
    #[serde(default)]
    deliver_at: Option<i64>,
    /// Kept as the text it is (no `Value` built): see [`Payload`].
    payload: Box<RawValue>,
}

/// The trace id a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`)
/// carries.
fn carried(traceparent: &str) -> Option<&str> {
    traceparent
        .get(3..35)
        .filter(|_| traceparent.as_bytes().get(35) == Some(&b'-'))
}

/// Written by hand rather than through serde's map serializer, which
/// escaped every key and value byte by byte: that was half the encoding's
/// cost. A string that needs no escape (ids, names: nearly all) is copied
/// ([`crate::json_text`]).
pub(super) fn encode(m: &Message) -> String {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"{\"id\":");
    write_str(&mut out, &m.id.0);
    out.extend_from_slice(b",\"event\":");
    write_str(&mut out, &m.event);
    out.extend_from_slice(b",\"source\":");
    write_str(&mut out, &m.source);
    let traceparent = m.traceparent.as_deref();
    if traceparent.and_then(carried) != Some(m.trace_id.as_str()) {
        out.extend_from_slice(b",\"trace_id\":");
        write_str(&mut out, &m.trace_id);
    }
    if let Some(traceparent) = traceparent {
        out.extend_from_slice(b",\"traceparent\":");
        write_str(&mut out, traceparent);
    }
    if let Some(at) = m.deliver_at {
        out.extend_from_slice(b",\"deliver_at\":");
        out.extend_from_slice(at.0.to_string().as_bytes());
    }
    out.extend_from_slice(b",\"payload\":");
    match m.payload.text() {
        Some(json) => out.extend_from_slice(json.as_bytes()),
        // Writing a `Value` to memory cannot fail.
        None => {
            let _ = serde_json::to_writer(&mut out, m.payload.value());
        }
    }
    out.push(b'}');
    // Valid UTF-8: `&str`s and serde_json's output between ASCII.
    String::from_utf8(out).unwrap_or_default()
}

pub(super) fn decode(envelope: &str, published_at: i64) -> Result<Message, serde_json::Error> {
    let read: Read = serde_json::from_str(envelope)?;
    let trace_id = match (read.trace_id, read.traceparent.as_deref().and_then(carried)) {
        (Some(id), _) => id,
        (None, Some(carried)) => carried.to_string(),
        (None, None) => String::new(),
    };
    Ok(Message {
        id: MessageId(read.id),
        event: read.event,
        payload: Payload::from_json(read.payload),
        published_at: Millis(published_at),
        deliver_at: read.deliver_at.map(Millis),
        trace_id,
        traceparent: read.traceparent,
        source: read.source,
        checked: None,
        parent_span: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: &Message) -> Message {
        decode(&encode(m), m.published_at.0).unwrap()
    }

    /// What `encode` writes by hand is what serde_json would write.
    #[test]
    fn the_envelope_is_plain_json() {
        let mut m = Message::new("E\u{1}\"\\", serde_json::json!([1.5, "x"]), "t\n", "s");
        m.deliver_at = Some(Millis(-3));
        let value: Value = serde_json::from_str(&encode(&m)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "id": m.id.0, "event": "E\u{1}\"\\", "source": "s", "trace_id": "t\n",
                "deliver_at": -3, "payload": [1.5, "x"],
            })
        );
    }

    /// A payload's text is written as it is, never a `Value` again, and
    /// read back as text; a payload made from a value is written compact.
    #[test]
    fn a_payload_text_is_what_the_envelope_holds() {
        let text = RawValue::from_string(r#"{ "n": 1, "s": "é\n" }"#.to_string()).unwrap();
        let m = Message::new("E", Payload::from_json(text), "t", "s");
        assert!(
            encode(&m).ends_with(r#","payload":{ "n": 1, "s": "é\n" }}"#),
            "{}",
            encode(&m)
        );
        let back = round_trip(&m);
        assert_eq!(back, m);
        assert_eq!(
            back.payload.text(),
            Some(r#"{ "n": 1, "s": "é\n" }"#),
            "read back as text"
        );
        let mut changed = m.clone();
        changed.payload = serde_json::json!([2]).into();
        assert!(encode(&changed).ends_with(r#","payload":[2]}"#), "{}", encode(&changed));
    }

    #[test]
    fn a_message_comes_back_whole_with_its_trace_id_stored_once() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let mut m = Message::new(
            "Order\"Placed",
            serde_json::json!({"n": 1, "s": "é\n"}),
            trace,
            "api:Create",
        );
        m.traceparent = Some(format!("00-{trace}-00f067aa0ba902b7-01"));
        m.deliver_at = Some(Millis(1_700_000_000_123));
        let text = encode(&m);
        assert_eq!(text.matches(trace).count(), 1, "{text}");
        assert_eq!(round_trip(&m), m);
    }

    /// A trace id the traceparent does not carry (or no traceparent) is
    /// written as it is, and an absent one stays absent.
    #[test]
    fn a_trace_id_the_traceparent_does_not_carry_is_kept() {
        let mut m = Message::new("E", Value::Null, "t", "cli");
        assert_eq!(round_trip(&m), m);
        m.traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
        assert_eq!(round_trip(&m), m);
        m.traceparent = Some("malformed".into());
        assert_eq!(round_trip(&m), m);
        m.trace_id = String::new();
        m.traceparent = None;
        assert_eq!(round_trip(&m), m);
    }
}
