//! What the engine does around a handler call, for the harness: the bytes
//! of a call (the ABI's seven parts; for an api only those it reads), and the
//! rules that turn a completion into events.
//!
//! The handler side of a call (building parameters with `FromCall`, the
//! reply with `IntoReply`, collecting effects in `State`, the completion
//! JSON) is the library's own code, run as is. These rules live in the
//! engine (`rohas-engine`: `dispatch.rs`, `http.rs`, `bus.rs`, `ws/`), which
//! is not part of a project. The shapes a handler sees (the event object, a
//! middleware's changes) are the engine's own code (`shapes.rs`); the order
//! of events is restated here, small, with the engine's function names.

use super::super::call::{needs, Failure, Outcome, Success};
use super::super::HttpError;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::Duration;

use super::Emitted;

/// One call, as the engine fills an `Invocation`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Invocation {
    pub trace_id: String,
    pub request: Value,
    pub payload: Value,
    pub query_params: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub endpoint: Option<String>,
    pub connection_id: Option<String>,
}

impl Invocation {
    /// The call's bytes as `rohas_invoke` receives them (see `abi.rs`),
    /// with only the parts `needs` names, as the engine sends them.
    pub fn encode(&self, reads: u32) -> Vec<u8> {
        fn part(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
            match bytes {
                Some(bytes) => {
                    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                    out.extend_from_slice(bytes);
                }
                None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
            }
        }
        fn json(read: bool, value: &impl serde::Serialize) -> Option<Vec<u8>> {
            read.then(|| serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
        }
        let mut out = Vec::new();
        part(&mut out, Some(self.trace_id.as_bytes()));
        part(
            &mut out,
            json(reads & needs::REQUEST != 0, &self.request).as_deref(),
        );
        part(
            &mut out,
            json(reads & needs::PAYLOAD != 0, &self.payload).as_deref(),
        );
        let context = reads & needs::CONTEXT != 0;
        part(&mut out, json(context, &self.query_params).as_deref());
        part(&mut out, json(context, &self.metadata).as_deref());
        part(&mut out, self.endpoint.as_deref().map(str::as_bytes));
        part(&mut out, self.connection_id.as_deref().map(str::as_bytes));
        out
    }
}

/// A completion read back as the engine reads it (`rohas_runtime::reply`).
#[derive(Debug, Clone)]
pub(crate) enum Completion {
    Ok {
        value: Value,
        triggered: Vec<Emitted>,
        /// `set_payload`, in call order (the last per event wins).
        payloads: Vec<(String, Value)>,
    },
    Failed(HttpError),
}

#[derive(Deserialize)]
struct WireSuccess {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    triggered: Vec<WireTriggered>,
    #[serde(default)]
    payloads: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireTriggered {
    Now(String, Value),
    Later(String, Value, Option<u64>),
}

impl Completion {
    pub fn read(outcome: Outcome) -> Completion {
        let text = match outcome {
            Ok(Success::Value(text)) => {
                return Completion::Ok {
                    value: serde_json::from_str(&text).unwrap_or(Value::Null),
                    triggered: Vec::new(),
                    payloads: Vec::new(),
                }
            }
            Ok(Success::WithEffects(text)) => text,
            Err(Failure(failure)) => return Completion::Failed(http_error(&failure)),
        };
        let Ok(wire) = serde_json::from_str::<WireSuccess>(&text) else {
            return Completion::Failed(HttpError::new(500, format!("bad completion: {text}")));
        };
        let triggered = wire
            .triggered
            .into_iter()
            .map(|t| match t {
                WireTriggered::Now(event, payload) => Emitted::new(event, payload, None),
                WireTriggered::Later(event, payload, ms) => Emitted::new(
                    event,
                    payload,
                    ms.filter(|ms| *ms > 0).map(Duration::from_millis),
                ),
            })
            .collect();
        Completion::Ok {
            value: wire.value,
            triggered,
            payloads: wire.payloads.into_iter().collect(),
        }
    }
}

/// A failure's status (500 unless the handler chose one) and message, as
/// the client of an api gets them.
fn http_error(failure: &Value) -> HttpError {
    let status = failure
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(500);
    let message = failure
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    HttpError::new(status, message)
}

/// The events a successful handler publishes (`events_to_publish`): each of
/// the schema's `triggers` (its payload from `set_payload`, else
/// `fallback`), then every `trigger_event` call.
pub(crate) fn events_to_publish(
    triggers: &[&str],
    payloads: &[(String, Value)],
    triggered: Vec<Emitted>,
    fallback: &Value,
) -> Vec<Emitted> {
    let mut out: Vec<Emitted> = triggers
        .iter()
        .map(|name| {
            let payload = payloads
                .iter()
                .rev()
                .find(|(event, _)| event == name)
                .map_or_else(|| fallback.clone(), |(_, payload)| payload.clone());
            Emitted::new(name.to_string(), payload, None)
        })
        .collect();
    out.extend(triggered);
    out
}
