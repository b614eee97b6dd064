//! The JSON a language runtime's user-side host answers a call with, shared
//! by the Python host, the Node.js worker and the Rust library, so the three
//! runtimes decode it with one piece of code:
//!
//! - success: `{"value", "triggered": [[event, payload, delay_ms?]…], "payloads": {event: payload}}`
//!   (`delay_ms`, a number of milliseconds, only for a delayed `trigger_event`);
//! - failure: `{"status", "message", "details"}` for an `HttpError`,
//!   `{"message", "stack"}` for anything else (with `"retryable": false` for a
//!   `NonRetryableError`), `{"timeout": true}` for a handler the host stopped
//!   at its deadline.

use crate::{Effects, HandlerError, Outcome, ReturnValue, TriggeredEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// A reply (or any JSON a host sent) parsed: checked for UTF-8 once, whole,
/// then read as a `str`. `serde_json::from_slice` checks each string on
/// its own instead (every key, every text value: a call a string, some
/// 90 instructions each), which was a twentieth of a burst's publishing;
/// a text that is not UTF-8 gets `from_slice`'s own error.
pub fn parse<T: serde::de::DeserializeOwned>(json: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(json) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(json),
    }
}

/// A successful call, as the host sends it.
#[derive(Debug, Deserialize)]
pub struct WireSuccess {
    #[serde(default)]
    value: ReturnValue,
    #[serde(default)]
    triggered: Vec<WireTriggered>,
    /// `set_payload`, by event (the last for an event wins, as in a map).
    #[serde(default)]
    payloads: std::collections::BTreeMap<String, Box<RawValue>>,
}

/// One `trigger_event` call: `[event, payload]` or `[event, payload, delay_ms]`.
///
/// Read element by element, not as an untagged enum: serde buffers an
/// untagged value whole and tries each shape on the copy, which was a tenth
/// of the CPU of an API handler that triggers thousands of events.
#[derive(Debug)]
struct WireTriggered(TriggeredEvent);

impl<'de> Deserialize<'de> for WireTriggered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements;
        impl<'de> serde::de::Visitor<'de> for Elements {
            type Value = WireTriggered;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("[event, payload] or [event, payload, delay_ms]")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<WireTriggered, A::Error> {
                use serde::de::Error;
                let event: String = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                // Kept as text: see `TriggeredEvent::payload`.
                let payload: Box<RawValue> = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                let delay_ms: Option<u64> = seq.next_element::<Option<u64>>()?.flatten();
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(4, &self));
                }
                Ok(WireTriggered(TriggeredEvent {
                    event,
                    payload,
                    delay: delay_ms.filter(|ms| *ms > 0).map(std::time::Duration::from_millis),
                }))
            }
        }
        deserializer.deserialize_seq(Elements)
    }
}

impl WireSuccess {
    pub fn into_outcome(self) -> Outcome {
        Outcome {
            value: self.value,
            effects: Effects {
                triggered: self.triggered.into_iter().map(|t| t.0).collect(),
                payloads: self
                    .payloads
                    .into_iter()
                    .map(|(event, payload)| TriggeredEvent::json(event, payload))
                    .collect(),
            },
        }
    }
}

/// A failed call, as the host sends it.
#[derive(Debug, Deserialize)]
pub struct WireFailure {
    status: Option<u16>,
    #[serde(default)]
    message: String,
    details: Option<Value>,
    stack: Option<String>,
    #[serde(default)]
    timeout: bool,
    /// `false` for a `NonRetryableError`.
    #[serde(default = "yes")]
    retryable: bool,
}

fn yes() -> bool {
    true
}

impl WireFailure {
    pub fn into_error(self) -> HandlerError {
        match self {
            WireFailure { timeout: true, .. } => HandlerError::Timeout,
            WireFailure {
                status: Some(status),
                message,
                details,
                ..
            } => HandlerError::Http {
                status,
                message,
                details: details.filter(|d| !d.is_null()),
            },
            WireFailure {
                message,
                stack,
                retryable: false,
                ..
            } => HandlerError::NonRetryable {
                message,
                stack: stack.filter(|s| !s.is_empty()),
            },
            WireFailure { message, stack, .. } => HandlerError::Failed {
                message,
                stack: stack.filter(|s| !s.is_empty()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Read as a `str` when the text is UTF-8; bytes that are not are
    /// `from_slice`'s error, never a panic.
    #[test]
    fn replies_parse_as_text_and_bad_bytes_are_an_error() {
        assert_eq!(
            parse::<Value>(r#"{"a":"é\n","b":[1]}"#.as_bytes()).unwrap(),
            json!({"a": "é\n", "b": [1]})
        );
        let bad = parse::<Value>(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(
            bad.to_string(),
            serde_json::from_slice::<Value>(b"{\"a\":\"\xff\"}")
                .unwrap_err()
                .to_string()
        );
        assert!(parse::<Value>(b"{\"a\":").is_err());
    }

    #[test]
    fn success_carries_value_and_events_in_order() {
        let s: WireSuccess = serde_json::from_value(json!({
            "value": {"ok": true},
            "triggered": [["A", 1], ["B", 2]],
            "payloads": {"C": 3},
        }))
        .unwrap();
        let outcome = s.into_outcome();
        assert_eq!(outcome.value, json!({"ok": true}));
        let names: Vec<&str> = outcome.effects.triggered.iter().map(|t| t.event.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(outcome.effects.payloads[0].payload_value(), json!(3));
        assert_eq!(outcome.effects.triggered[1].payload.get(), "2");
    }

    #[test]
    fn the_value_keeps_the_text_the_host_wrote() {
        let body = br#"{"value": {"zeta": 1, "alpha": [1.50, "x"]}, "triggered": []}"#;
        let outcome = serde_json::from_slice::<WireSuccess>(body).unwrap().into_outcome();
        // Key order and number spelling as written: the response is this text.
        assert_eq!(outcome.value.json(), r#"{"zeta": 1, "alpha": [1.50, "x"]}"#);
        assert_eq!(outcome.value, json!({"alpha": [1.5, "x"], "zeta": 1}));
        let nothing = serde_json::from_slice::<WireSuccess>(b"{}").unwrap().into_outcome();
        assert!(nothing.value.is_null());
    }

    #[test]
    fn failures_map_to_http_timeout_or_failed() {
        let http: WireFailure =
            serde_json::from_value(json!({"status": 418, "message": "teapot", "details": null})).unwrap();
        assert!(matches!(
            http.into_error(),
            HandlerError::Http {
                status: 418,
                details: None,
                ..
            }
        ));
        let timeout: WireFailure = serde_json::from_value(json!({"timeout": true, "message": "x"})).unwrap();
        assert!(matches!(timeout.into_error(), HandlerError::Timeout));
        let failed: WireFailure = serde_json::from_value(json!({"message": "boom", "stack": ""})).unwrap();
        assert!(matches!(failed.into_error(), HandlerError::Failed { stack: None, .. }));
        let permanent: WireFailure = serde_json::from_value(json!({"message": "bad", "retryable": false})).unwrap();
        assert!(matches!(permanent.into_error(), HandlerError::NonRetryable { .. }));
    }

    #[test]
    fn a_trigger_may_carry_a_delay() {
        let s: WireSuccess = serde_json::from_value(json!({
            "triggered": [["A", 1], ["B", 2, 1500], ["C", 3, null]],
        }))
        .unwrap();
        let delays: Vec<_> = s.into_outcome().effects.triggered.iter().map(|t| t.delay).collect();
        assert_eq!(delays, [None, Some(std::time::Duration::from_millis(1500)), None]);
    }

    #[test]
    fn a_trigger_of_another_shape_is_refused() {
        for bad in [
            json!([["A"]]),
            json!([["A", 1, 2, 3]]),
            json!([[1, 2]]),
            json!([{"A": 1}]),
            json!([["A", 1, "soon"]]),
        ] {
            let parsed = serde_json::from_value::<WireSuccess>(json!({ "triggered": bad }));
            assert!(parsed.is_err(), "{bad} was taken");
        }
    }
}
