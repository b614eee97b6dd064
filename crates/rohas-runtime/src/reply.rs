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
use serde_json::{Map, Value};

/// A successful call, as the host sends it.
#[derive(Debug, Deserialize)]
pub struct WireSuccess {
    #[serde(default)]
    value: ReturnValue,
    #[serde(default)]
    triggered: Vec<WireTriggered>,
    #[serde(default)]
    payloads: Map<String, Value>,
}

/// One `trigger_event` call: `[event, payload]` or `[event, payload, delay_ms]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireTriggered {
    Now(String, Value),
    Delayed(String, Value, Option<u64>),
}

impl From<WireTriggered> for TriggeredEvent {
    fn from(wire: WireTriggered) -> Self {
        match wire {
            WireTriggered::Now(event, payload) => TriggeredEvent::new(event, payload),
            WireTriggered::Delayed(event, payload, delay_ms) => TriggeredEvent {
                event,
                payload,
                delay: delay_ms.filter(|ms| *ms > 0).map(std::time::Duration::from_millis),
            },
        }
    }
}

impl WireSuccess {
    pub fn into_outcome(self) -> Outcome {
        Outcome {
            value: self.value,
            effects: Effects {
                triggered: self.triggered.into_iter().map(TriggeredEvent::from).collect(),
                payloads: self
                    .payloads
                    .into_iter()
                    .map(|(event, payload)| TriggeredEvent::new(event, payload))
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
        assert_eq!(outcome.effects.payloads[0].payload, json!(3));
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
}
