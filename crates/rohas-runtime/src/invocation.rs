//! One call into a handler and what comes back.

use crate::handler::HandlerKind;
use crate::HandlerId;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::time::Instant;

/// Everything a handler may ask for; the runtime passes only what the
/// handler's signature declares.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// [`crate::HandlerSpec::id`]; cheap to clone, as the engine keeps one
    /// per handler and every call of it carries a copy.
    pub handler: HandlerId,
    pub kind: HandlerKind,
    pub trace_id: String,
    /// The request object in wire shape: for an api
    /// `{ <path params…>, "query_params": {..}, "body": <body>, "headers": {..} }`;
    /// for an event the event message `{ <payload fields…>, "payload", "name",
    /// "timestamp", "trace_id" }`; for a ws message the message; for a
    /// middleware the context.
    pub request: Value,
    /// `HandlerContext.payload`: the body or event payload.
    pub payload: Value,
    /// The payload as the JSON bytes it arrived in, instead of `payload`
    /// (then `null`). Set only for a handler whose [`Needs`] are the payload
    /// alone, so a runtime that reports such needs sends these when present.
    pub payload_json: Option<Vec<u8>>,
    /// The request object already written as JSON, instead of `request`
    /// (then `null`). Set only for a runtime that sends requests as JSON
    /// text ([`crate::Runtime::request_as_json`]), which sends these when
    /// present: an event's request is written straight from its payload.
    pub request_json: Option<Vec<u8>>,
    pub query_params: Map<String, Value>,
    /// Path parameters, headers, trace id, handler kind, attempt, connection id…
    pub metadata: Map<String, Value>,
    /// WebSocket connection id, for ws handlers.
    pub connection_id: Option<String>,
    /// The ws endpoint name for ws handlers (default target of `broadcast`).
    pub endpoint: Option<String>,
    /// When the engine gives up; runtimes that can stop a handler use it.
    pub deadline: Option<Instant>,
    /// What the handler reads ([`crate::Runtime::needs`]): the engine may
    /// leave the other parts empty, and a runtime need not send them.
    pub needs: Needs,
}

/// Which parts of an [`Invocation`] a handler reads, as its runtime knows
/// from the handler's parameters ([`crate::Runtime::needs`]). Building the
/// header map, the request object and the metadata costs the engine more
/// than a small handler's own work, so an API call builds only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// [`Invocation::request`].
    pub request: bool,
    /// [`Invocation::payload`].
    pub payload: bool,
    /// [`Invocation::query_params`] and [`Invocation::metadata`].
    pub context: bool,
    /// An event's request carries the payload's fields at its top level
    /// (`event.user_id`) as well as in `payload`. A generated Python event
    /// class reads `payload` alone, so the copy is left out for it: the
    /// host parsed every field twice.
    pub event_fields: bool,
    /// An event's request carries the whole payload as its `payload` field.
    /// A generated Rust event type reads the fields alone and builds its
    /// `payload` from them, so the engine leaves it out for it: the handler
    /// library skipped those bytes unread (about 1,000 instructions an
    /// event). Without [`Needs::event_fields`] it is always sent.
    pub event_payload: bool,
}

impl Needs {
    /// Everything: what a runtime that cannot tell says.
    pub const ALL: Needs = Needs {
        request: true,
        payload: true,
        context: true,
        event_fields: true,
        event_payload: true,
    };
    pub const NONE: Needs = Needs {
        request: false,
        payload: false,
        context: false,
        event_fields: false,
        event_payload: false,
    };
}

impl Default for Needs {
    fn default() -> Self {
        Needs::ALL
    }
}

/// What each handler reads, as a runtime learns it from every load: the
/// union over all loads, so a call that meets a handler still on an older
/// version during a reload has what that version reads. (It only grows
/// within one process: a part a handler stopped reading is still built.)
/// Looked up per request: ids are fixed by the schema, so the Fx hasher
/// (no hash-flooding defence needed) does.
#[derive(Debug, Default)]
pub struct NeedsByHandler(std::sync::RwLock<rustc_hash::FxHashMap<String, Needs>>);

impl NeedsByHandler {
    /// Add what `loaded` handlers read to what is built for them.
    pub fn add(&self, loaded: impl IntoIterator<Item = (String, Needs)>) {
        let mut known = crate::sync::write(&self.0);
        for (id, needs) in loaded {
            let entry = known.entry(id).or_insert(Needs::NONE);
            entry.request |= needs.request;
            entry.payload |= needs.payload;
            entry.context |= needs.context;
            entry.event_fields |= needs.event_fields;
            entry.event_payload |= needs.event_payload;
        }
    }

    /// What a call to `handler` must carry: everything for one never loaded.
    pub fn get(&self, handler: &str) -> Needs {
        crate::sync::read(&self.0).get(handler).copied().unwrap_or(Needs::ALL)
    }
}

impl Invocation {
    /// The handler's name as `HandlerContext.handler_name` gives it: the last
    /// part of its id (`api:CreateUser` → `CreateUser`,
    /// `ws_message:Chat:on_message` → `on_message`).
    pub fn handler_name(&self) -> &str {
        self.handler.name()
    }
}

/// A successful call.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The return value (`null` for "nothing"). For a middleware, a
    /// non-null value is the modified context.
    pub value: ReturnValue,
    pub effects: Effects,
}

/// A handler's return value, kept as the JSON text its language host wrote.
///
/// Every host (Python, Node.js, the Rust library) answers with JSON text;
/// an API response is usually that text unchanged, so the engine sends it
/// as is and parses it only when it must look inside (a response check in
/// `rohas dev`, an event payload taken from the return value, a
/// middleware's modified context). The text is always valid JSON: it is
/// checked when read ([`serde::Deserialize`]) unless its writer is trusted
/// ([`ReturnValue::from_trusted_json`]).
#[derive(Debug, Clone)]
pub struct ReturnValue(Box<str>);

impl ReturnValue {
    /// `null`: the handler returned nothing.
    pub fn null() -> ReturnValue {
        ReturnValue("null".into())
    }

    pub fn from_value(value: &Value) -> ReturnValue {
        ReturnValue(
            serde_json::to_string(value)
                .unwrap_or_else(|_| "null".to_string())
                .into(),
        )
    }

    /// JSON text written by `serde_json` in code the engine trusts (the
    /// Rust runtime crate codegen writes): not parsed again, which for a
    /// large response is most of the cost of reading it.
    pub fn from_trusted_json(text: String) -> ReturnValue {
        ReturnValue(text.into())
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        &self.0
    }

    pub fn is_null(&self) -> bool {
        &*self.0 == "null"
    }

    /// The value parsed (the text is JSON, so this does not fail; `null` if
    /// it somehow does).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl From<ReturnValue> for Box<str> {
    fn from(value: ReturnValue) -> Self {
        value.0
    }
}

impl Default for ReturnValue {
    fn default() -> Self {
        ReturnValue::null()
    }
}

impl From<Value> for ReturnValue {
    fn from(value: Value) -> Self {
        ReturnValue::from_value(&value)
    }
}

impl PartialEq<Value> for ReturnValue {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl<'de> serde::Deserialize<'de> for ReturnValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(|raw| ReturnValue(raw.into()))
    }
}

/// State calls that only take effect if the handler succeeds.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// `state.trigger_event(name, payload)`, in call order.
    pub triggered: Vec<TriggeredEvent>,
    /// `state.set_payload(event, payload)`, last call per event wins.
    pub payloads: Vec<TriggeredEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TriggeredEvent {
    pub event: String,
    /// The payload as the handler's host wrote it: JSON text, checked
    /// against the schema and carried on as text, never read into a
    /// `Value` on the way (that tree, built and written out again, was a
    /// sixth of a published event's cost).
    pub payload: Box<RawValue>,
    /// `trigger_event(name, payload, delay=…)`: deliver no earlier than
    /// this long after the handler succeeded. `None` for `set_payload`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<std::time::Duration>,
}

impl TriggeredEvent {
    /// An event with a payload held as a value (written out here).
    pub fn new(event: impl Into<String>, payload: Value) -> Self {
        // Writing a `Value` cannot fail (the default is `null`).
        TriggeredEvent::json(event, serde_json::value::to_raw_value(&payload).unwrap_or_default())
    }

    /// An event with its payload's JSON text as the host wrote it.
    pub fn json(event: impl Into<String>, payload: Box<RawValue>) -> Self {
        TriggeredEvent {
            event: event.into(),
            payload,
            delay: None,
        }
    }

    /// The payload read into a value.
    pub fn payload_value(&self) -> Value {
        serde_json::from_str(self.payload.get()).unwrap_or(Value::Null)
    }
}

/// Equal when the name, the delay and the payload's value are: the same
/// payload written with other spacing is the same event.
impl PartialEq for TriggeredEvent {
    fn eq(&self, other: &TriggeredEvent) -> bool {
        self.event == other.event && self.delay == other.delay && self.payload_value() == other.payload_value()
    }
}

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HandlerError {
    /// `HttpError(status, message)` raised by the handler.
    #[error("{status}: {message}")]
    Http {
        status: u16,
        message: String,
        details: Option<Value>,
    },
    /// Any other exception, `Err`, panic or crash. `stack` is shown in `rohas dev` only.
    #[error("{message}")]
    Failed { message: String, stack: Option<String> },
    /// `NonRetryableError` (Python, TypeScript) or
    /// `RuntimeError::NonRetryable` (Rust): the handler says retrying
    /// cannot help. An event delivery goes to the dead letters at once; for
    /// an API it answers 500 like `Failed`.
    #[error("{message}")]
    NonRetryable { message: String, stack: Option<String> },
    /// The runtime stopped the handler at its deadline.
    #[error("handler timed out")]
    Timeout,
}

/// A structured log line from user code.
#[derive(Debug, Clone, Serialize)]
pub struct LogRecord {
    /// What the host sent, read with [`crate::LogLevel::parse`].
    pub level: crate::LogLevel,
    pub message: String,
    pub handler: String,
    pub trace_id: String,
    pub fields: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_by_handler_keep_the_union_of_every_load() {
        let table = NeedsByHandler::default();
        assert_eq!(table.get("api:A"), Needs::ALL);
        let body = Needs {
            payload: true,
            ..Needs::NONE
        };
        table.add([("api:A".to_string(), body), ("api:B".to_string(), Needs::NONE)]);
        assert_eq!((table.get("api:A"), table.get("api:B")), (body, Needs::NONE));
        let context = Needs {
            context: true,
            ..Needs::NONE
        };
        table.add([("api:A".to_string(), context)]);
        let both = Needs {
            payload: true,
            context: true,
            ..Needs::NONE
        };
        assert_eq!(table.get("api:A"), both);
        // An event read without its top-level fields, then (another
        // version of the handler) with them: built with them from then on.
        let typed = Needs {
            request: true,
            ..Needs::NONE
        };
        table.add([("event:E:h".to_string(), typed)]);
        assert_eq!(table.get("event:E:h"), typed);
        table.add([("event:E:h".to_string(), Needs::of_roles([crate::ParamRole::Event]))]);
        assert!(table.get("event:E:h").event_fields);
        table.add([("event:E:h".to_string(), typed)]);
        assert!(table.get("event:E:h").event_fields, "it only grows");
    }
}
