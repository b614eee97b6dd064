//! A span: one timed piece of work inside a trace, as the engine records
//! it when the work ends. Fields the engine sets on every span are typed;
//! anything else goes in `attributes`.

use crate::ids::SpanId;
use crate::trace_id::TraceId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// What a span stands for. The names are the API's and the store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// An HTTP request, from its head to its answer.
    Request,
    /// One middleware run for a request or a WebSocket connect.
    Middleware,
    /// The runtime call itself (Python, Node.js or Rust handler code).
    Handler,
    /// One delivery attempt of an event message to one handler.
    Delivery,
    /// Publishing one event message (its delivery is a child).
    Publish,
    /// One cron run.
    Cron,
    WsConnect,
    WsMessage,
    WsDisconnect,
}

impl SpanKind {
    pub const ALL: [SpanKind; 9] = [
        SpanKind::Request,
        SpanKind::Middleware,
        SpanKind::Handler,
        SpanKind::Delivery,
        SpanKind::Publish,
        SpanKind::Cron,
        SpanKind::WsConnect,
        SpanKind::WsMessage,
        SpanKind::WsDisconnect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Request => "request",
            SpanKind::Middleware => "middleware",
            SpanKind::Handler => "handler",
            SpanKind::Delivery => "delivery",
            SpanKind::Publish => "publish",
            SpanKind::Cron => "cron",
            SpanKind::WsConnect => "ws_connect",
            SpanKind::WsMessage => "ws_message",
            SpanKind::WsDisconnect => "ws_disconnect",
        }
    }

    pub fn parse(s: &str) -> Option<SpanKind> {
        SpanKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The small integer the store keeps.
    pub(crate) fn code(self) -> i64 {
        SpanKind::ALL.iter().position(|k| *k == self).unwrap_or(0) as i64
    }

    pub(crate) fn from_code(code: i64) -> SpanKind {
        usize::try_from(code)
            .ok()
            .and_then(|i| SpanKind::ALL.get(i).copied())
            .unwrap_or(SpanKind::Handler)
    }
}

/// How the work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanStatus {
    Ok,
    Error,
}

impl SpanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Ok => "ok",
            SpanStatus::Error => "error",
        }
    }
}

/// One finished span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Inline, not a `String`: no allocation per span (`trace_id.rs`).
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// `None` for a trace's root. The parent may live in another process
    /// (an incoming `traceparent`), so it is not always stored here.
    pub parent_id: Option<SpanId>,
    /// The parent is in another process (an incoming `traceparent`): this
    /// span is the first of the trace that this engine holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remote_parent: bool,
    /// `GET /users/{id}`, `UserCreated → sendWelcome`, `cron Cleanup` …
    pub name: Arc<str>,
    pub kind: SpanKind,
    /// The handler id (`api:CreateUser`, `event:UserCreated:sendWelcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<Arc<str>>,
    /// Wall-clock start, nanoseconds since the Unix epoch.
    pub start_ns: u64,
    pub duration_ns: u64,
    pub status: SpanStatus,
    /// An HTTP answer's status (requests, and handler errors' mapped status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The event published or delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Arc<str>>,
    /// A delivery's attempt number (1 for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Held inline as a [`TraceId`] is (the engine's message ids have the
    /// same 32-hex-digit shape): a publish or delivery span, two an event,
    /// allocates nothing for it, and the writer's thread frees nothing
    /// another thread allocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<TraceId>,
    /// A delivery that ended in the dead-letter store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dead_lettered: bool,
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
}

/// A span's free attributes: most spans have none, so none costs a
/// null pointer (8 bytes, nothing to drop) instead of an empty map
/// (24 bytes, and dropping one was a tenth of what recording a request's
/// two spans cost the engine). Read and written like the map it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Option<Box<Map<String, Value>>>);

impl Attributes {
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.0.get_or_insert_with(Default::default).insert(key, value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }

    /// The map itself, when there is one (to cut what is too long).
    pub fn map_mut(&mut self) -> Option<&mut Map<String, Value>> {
        self.0.as_deref_mut()
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Attributes {
        Attributes((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl Serialize for Attributes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(map) => map.serialize(serializer),
            None => Map::new().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Attributes, D::Error> {
        Map::deserialize(deserializer).map(Attributes::from)
    }
}

impl Span {
    /// A span with only its identity, name and kind; the caller fills in
    /// the rest (see [`crate::Timer`] for the times).
    pub fn new(
        trace_id: impl Into<TraceId>,
        span_id: SpanId,
        parent_id: Option<SpanId>,
        name: Arc<str>,
        kind: SpanKind,
    ) -> Span {
        Span {
            trace_id: trace_id.into(),
            span_id,
            parent_id,
            remote_parent: false,
            name,
            kind,
            handler: None,
            start_ns: 0,
            duration_ns: 0,
            status: SpanStatus::Ok,
            status_code: None,
            error: None,
            event: None,
            attempt: None,
            message_id: None,
            dead_lettered: false,
            attributes: Attributes::default(),
        }
    }

    /// The first span of its trace in this engine's store.
    pub fn is_root(&self) -> bool {
        self.parent_id.is_none() || self.remote_parent
    }

    pub fn end_ns(&self) -> u64 {
        self.start_ns.saturating_add(self.duration_ns)
    }

    pub fn failed(&mut self, error: impl Into<String>) {
        self.status = SpanStatus::Error;
        self.error = Some(error.into());
    }
}

/// When a span started: a monotonic instant for its duration, and the
/// wall-clock time of that instant on the process's one clock (`clock.rs`),
/// so a child started later never appears to start earlier.
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    start_ns: u64,
    /// The monotonic clock at the start ([`crate::clock::mono_ns`]).
    started: u64,
}

impl Timer {
    pub fn start() -> Timer {
        let started = crate::clock::mono_ns();
        Timer {
            start_ns: crate::clock::ns_at_mono(started),
            started,
        }
    }

    /// Sets the span's start and duration.
    pub fn stop(&self, span: &mut Span) {
        span.start_ns = self.start_ns;
        span.duration_ns = crate::clock::mono_ns().saturating_sub(self.started);
    }

    /// Wall-clock start, nanoseconds since the Unix epoch.
    pub fn start_ns(&self) -> u64 {
        self.start_ns
    }
}
