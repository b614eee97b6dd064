//! One call into a handler and what comes back.

use crate::handler::HandlerKind;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Instant;

/// Everything a handler may ask for; the runtime passes only what the
/// handler's signature declares.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// [`crate::HandlerSpec::id`].
    pub handler: String,
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
    pub query_params: Map<String, Value>,
    /// Path parameters, headers, trace id, handler kind, attempt, connection id…
    pub metadata: Map<String, Value>,
    /// WebSocket connection id, for ws handlers.
    pub connection_id: Option<String>,
    /// The ws endpoint name for ws handlers (default target of `broadcast`).
    pub endpoint: Option<String>,
    /// When the engine gives up; runtimes that can stop a handler use it.
    pub deadline: Option<Instant>,
}

/// A successful call.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The return value as JSON (`null` for "nothing"). For a middleware, a
    /// non-null value is the modified context.
    pub value: Value,
    pub effects: Effects,
}

/// State calls that only take effect if the handler succeeds.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// `state.trigger_event(name, payload)`, in call order.
    pub triggered: Vec<TriggeredEvent>,
    /// `state.set_payload(event, payload)`, last call per event wins.
    pub payloads: Vec<TriggeredEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggeredEvent {
    pub event: String,
    pub payload: Value,
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
    /// The runtime stopped the handler at its deadline.
    #[error("handler timed out")]
    Timeout,
}

/// A structured log line from user code.
#[derive(Debug, Clone, Serialize)]
pub struct LogRecord {
    /// `trace`, `debug`, `info`, `warn`, `error`.
    pub level: &'static str,
    pub message: String,
    pub handler: String,
    pub trace_id: String,
    pub fields: Map<String, Value>,
}
