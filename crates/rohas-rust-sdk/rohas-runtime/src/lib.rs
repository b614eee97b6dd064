//! The Rohas runtime as a Rust handler sees it: `Result`, `RuntimeError`,
//! `HttpError`, `State`, `Logger`, `Connection` and `HandlerContext`.
//!
//! Written into the project (`src/generated/rohas-runtime/`) by `rohas
//! codegen`, so a Rohas Rust project depends only on crates.io crates and on
//! this folder. Do not edit it: it is rewritten on every run.
//!
//! How the engine drives it. The engine never shares Rust types with the
//! project's library; it builds a [`State`] through [`State::new`] with a
//! [`Host`], calls the handler, then reads what the handler asked for:
//! - effects that only count when the handler succeeds (`trigger_event`,
//!   `trigger_event_after`, `set_payload`) are collected in plain fields, taken with
//!   [`State::take_effects`] after the call and dropped when it failed;
//! - effects that happen while the handler runs (log lines, `broadcast`,
//!   `Connection::send`) go straight to the [`Host`] trait object, which the
//!   engine implements on top of the callbacks it hands the library.
//!
//! The engine loads the project as a dynamic library through the small C ABI
//! in [`abi`]; [`call`] turns each call into the handler's parameters.
//! [`testing`] runs the same calls in the project's own tests, with a fake
//! clock that handlers read through [`now`] (the system clock in production).
//!
//! `RuntimeError` deliberately does not implement `std::error::Error`: that is
//! what lets it convert from *every* error type (`?` on `reqwest`, `serde_json`,
//! `std::io` …), the way `anyhow::Error` does.

pub mod abi;
pub mod call;
pub mod capture;
mod effects;
pub mod testing;
pub mod time;

pub use call::{Call, FromCall, IntoReply, Registry};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What every handler returns: `Ok(value)` is the response (or nothing), an
/// `Err` becomes an error response.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

/// A failed handler.
///
/// `ExecutionFailed` answers 500 with its message; `Http` answers its status.
/// Any `std::error::Error` converts into `ExecutionFailed` with `?`.
/// `NonRetryable` fails an event delivery for good (no more attempts).
#[derive(Clone, PartialEq, Eq)]
pub enum RuntimeError {
    /// The handler failed; the client gets a 500 with this message. An event
    /// delivery is attempted again, up to the event's `retries`.
    ExecutionFailed(String),
    /// Answer with this HTTP status and message (401, 404, 409 …).
    Http { status: u16, message: String },
    /// Retrying cannot help (a malformed order, a declined card): an event
    /// delivery goes to the dead letters after this attempt. Anywhere else
    /// it answers 500 like `ExecutionFailed`.
    NonRetryable(String),
}

impl RuntimeError {
    /// `Err(RuntimeError::http(404, "no such user"))?`
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        RuntimeError::Http {
            status,
            message: message.into(),
        }
    }

    /// `Err(RuntimeError::execution_failed("database unreachable"))`
    pub fn execution_failed(message: impl Into<String>) -> Self {
        RuntimeError::ExecutionFailed(message.into())
    }

    /// `Err(RuntimeError::non_retryable("order 7 has no lines"))`: no more
    /// delivery attempts for this event message.
    pub fn non_retryable(message: impl Into<String>) -> Self {
        RuntimeError::NonRetryable(message.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            RuntimeError::ExecutionFailed(_) | RuntimeError::NonRetryable(_) => 500,
            RuntimeError::Http { status, .. } => *status,
        }
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        match self {
            RuntimeError::ExecutionFailed(message)
            | RuntimeError::NonRetryable(message)
            | RuntimeError::Http { message, .. } => message,
        }
    }

    /// False for [`RuntimeError::NonRetryable`]: an event delivery that
    /// failed with it is not attempted again.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, RuntimeError::NonRetryable(_))
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::ExecutionFailed(message) | RuntimeError::NonRetryable(message) => {
                f.write_str(message)
            }
            RuntimeError::Http { status, message } => write!(f, "HTTP {status}: {message}"),
        }
    }
}

impl fmt::Debug for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::ExecutionFailed(message) => {
                f.debug_tuple("ExecutionFailed").field(message).finish()
            }
            RuntimeError::NonRetryable(message) => {
                f.debug_tuple("NonRetryable").field(message).finish()
            }
            RuntimeError::Http { status, message } => f
                .debug_struct("Http")
                .field("status", status)
                .field("message", message)
                .finish(),
        }
    }
}

/// `?` on any error type: the message is the error and its sources, joined
/// with `: ` (`request failed: connection refused`).
impl<E> From<E> for RuntimeError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        RuntimeError::ExecutionFailed(message)
    }
}

/// An error with an HTTP status, for handlers and middlewares that reject a
/// request: `return Err(HttpError::new(401, "missing token").into())`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpError {
    pub status: u16,
    pub message: String,
}

impl HttpError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: {}", self.status, self.message)
    }
}

impl From<HttpError> for RuntimeError {
    fn from(error: HttpError) -> Self {
        RuntimeError::Http {
            status: error.status,
            message: error.message,
        }
    }
}

/// Everything the engine knows about one call, for handlers that ask for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandlerContext {
    /// The api, event handler, cron, ws or middleware name.
    pub handler_name: String,
    /// The request body or event payload, as JSON.
    pub payload: Value,
    /// URL query parameters (api handlers).
    pub query_params: Map<String, Value>,
    /// Path parameters, headers, trace id, handler kind, attempt, connection id …
    pub metadata: Map<String, Value>,
}

impl HandlerContext {
    /// A string entry of `metadata` (`trace_id`, `kind`, `connection_id` …).
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }

    /// The trace id of this call.
    pub fn trace_id(&self) -> Option<&str> {
        self.metadata_str("trace_id")
    }

    /// A request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let headers = self.metadata.get("headers")?.as_object()?;
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    }

    /// The payload converted to a generated type: `context.payload_as::<CreateUserInput>()?`.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.payload.clone()).map_err(RuntimeError::from)
    }
}

/// Log levels of [`Logger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One structured log line from a handler.
#[derive(Debug, Clone, Copy)]
pub struct LogRecord<'a> {
    pub level: Level,
    pub message: &'a str,
    pub handler: &'a str,
    pub trace_id: &'a str,
    pub fields: &'a Map<String, Value>,
}

/// What a [`State`] calls while the handler runs. The engine implements it
/// over the callbacks it passes the library; [`State::detached`] uses a host
/// that prints to stderr, for unit tests of handlers.
pub trait Host: Send + Sync {
    /// A log line (`state.logger().info(..)`).
    fn log(&self, record: LogRecord<'_>);
    /// Send `message` to every client of WebSocket endpoint `endpoint`.
    fn broadcast(&self, endpoint: &str, message: Value);
    /// Send `message` to one WebSocket connection.
    fn send(&self, connection_id: &str, message: Value);
    /// The time handlers see ([`State::now`], [`now`]): the system clock,
    /// except under the test harness, whose clock is fake ([`testing`]).
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The current time as handlers should read it: the system clock when the
/// engine runs the handler, the harness's fake clock in tests ([`testing`]).
/// Outside a handler call, the system clock.
///
/// `let now: chrono::DateTime<chrono::Utc> = rohas_runtime::now().into();`
pub fn now() -> SystemTime {
    capture::current().map_or_else(SystemTime::now, |call| call.host.now())
}

/// Prints log lines to stderr and drops WebSocket messages (after printing
/// them): what a handler gets outside the engine, in its own unit tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrHost;

impl Host for StderrHost {
    fn log(&self, record: LogRecord<'_>) {
        eprintln!(
            "[{}] {}: {}",
            record.level.as_str(),
            record.handler,
            record.message
        );
    }
    fn broadcast(&self, endpoint: &str, message: Value) {
        eprintln!("[broadcast] {endpoint}: {message}");
    }
    fn send(&self, connection_id: &str, message: Value) {
        eprintln!("[send] {connection_id}: {message}");
    }
}

/// Structured logging tagged with the handler and trace id. Cheap to clone;
/// it does not borrow the [`State`] it came from.
#[derive(Clone)]
pub struct Logger {
    host: Arc<dyn Host>,
    handler: Arc<str>,
    trace_id: Arc<str>,
}

impl Logger {
    /// A line with structured fields: `logger.log(Level::Info, "paid", fields)`.
    pub fn log(&self, level: Level, message: &str, fields: Map<String, Value>) {
        self.host.log(LogRecord {
            level,
            message,
            handler: &self.handler,
            trace_id: &self.trace_id,
            fields: &fields,
        });
    }

    fn line(&self, level: Level, message: &str) {
        self.host.log(LogRecord {
            level,
            message,
            handler: &self.handler,
            trace_id: &self.trace_id,
            fields: &Map::new(),
        });
    }

    pub fn trace(&self, message: &str) {
        self.line(Level::Trace, message);
    }
    pub fn debug(&self, message: &str) {
        self.line(Level::Debug, message);
    }
    pub fn info(&self, message: &str) {
        self.line(Level::Info, message);
    }
    pub fn warn(&self, message: &str) {
        self.line(Level::Warn, message);
    }
    /// Same as [`Logger::warn`], for those who write it out.
    pub fn warning(&self, message: &str) {
        self.line(Level::Warn, message);
    }
    pub fn error(&self, message: &str) {
        self.line(Level::Error, message);
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("handler", &self.handler)
            .field("trace_id", &self.trace_id)
            .finish()
    }
}

/// An event a handler asked to publish, with its payload as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggeredEvent {
    pub event: String,
    pub payload: Value,
    /// [`State::trigger_event_after`]: deliver no earlier than this long
    /// after the handler succeeded. `None`: at once (and for `set_payload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Duration>,
}

impl TriggeredEvent {
    /// An event to publish at once.
    pub fn new(event: impl Into<String>, payload: Value) -> TriggeredEvent {
        TriggeredEvent {
            event: event.into(),
            payload,
            delay: None,
        }
    }
}

/// What a handler asked to publish; the engine publishes it only when the
/// handler returned `Ok`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    /// `state.trigger_event(name, payload)` and
    /// `state.trigger_event_after(name, payload, delay)`, in call order.
    pub triggered: Vec<TriggeredEvent>,
    /// `state.set_payload(event, payload)`, one entry per event (last call wins).
    pub payloads: Vec<TriggeredEvent>,
}

/// The handler's view of the engine: logging, events, WebSocket broadcast.
pub struct State {
    host: Arc<dyn Host>,
    handler: Arc<str>,
    trace_id: Arc<str>,
    endpoint: Option<String>,
    /// Payloads as JSON text, as the engine reads them (`effects.rs`).
    asked: effects::AskedEffects,
    /// [`State::effects`]'s view of `asked`, read back when asked for and
    /// forgotten at every new effect.
    view: std::sync::OnceLock<Effects>,
}

impl State {
    /// A state for one call of `handler_name`, reporting to `host`.
    pub fn new(
        handler_name: impl Into<String>,
        trace_id: impl Into<String>,
        host: Arc<dyn Host>,
    ) -> State {
        State {
            host,
            handler: Arc::from(handler_name.into()),
            trace_id: Arc::from(trace_id.into()),
            endpoint: None,
            asked: effects::AskedEffects::default(),
            view: std::sync::OnceLock::new(),
        }
    }

    /// A state for one call, sharing the call's handler name and trace id.
    pub fn shared(handler_name: Arc<str>, trace_id: Arc<str>, host: Arc<dyn Host>) -> State {
        State {
            host,
            handler: handler_name,
            trace_id,
            endpoint: None,
            asked: effects::AskedEffects::default(),
            view: std::sync::OnceLock::new(),
        }
    }

    /// A state outside the engine (unit tests): logs go to stderr.
    pub fn detached(handler_name: impl Into<String>) -> State {
        State::new(handler_name, "detached", Arc::new(StderrHost))
    }

    /// The WebSocket endpoint [`State::broadcast`] sends to (ws handlers).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> State {
        self.endpoint = Some(endpoint.into());
        self
    }

    pub fn handler_name(&self) -> &str {
        &self.handler
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The current time ([`Host::now`]): the system clock in production,
    /// the harness's fake clock in tests. Same as [`now`].
    pub fn now(&self) -> SystemTime {
        self.host.now()
    }

    /// `state.logger().info("…")`.
    pub fn logger(&self) -> Logger {
        Logger {
            host: Arc::clone(&self.host),
            handler: Arc::clone(&self.handler),
            trace_id: Arc::clone(&self.trace_id),
        }
    }

    /// Publish event `name` with `payload` once this handler succeeds. Fails
    /// only when `payload` cannot be turned into JSON.
    pub fn trigger_event(&mut self, name: &str, payload: impl Serialize) -> Result<()> {
        self.ask(name, &payload, None, false)
    }

    /// [`State::trigger_event`], delivered no earlier than `delay` after this
    /// handler succeeds (the engine counts whole milliseconds, rounded up):
    /// `state.trigger_event_after("Reminder", &reminder, Duration::from_secs(3600))?`.
    pub fn trigger_event_after(
        &mut self,
        name: &str,
        payload: impl Serialize,
        delay: Duration,
    ) -> Result<()> {
        self.ask(name, &payload, Some(delay), false)
    }

    /// Set the payload of `event`, one of this handler's `triggers`. Without
    /// it, a triggered event's payload is the handler's return value.
    pub fn set_payload(&mut self, event: &str, payload: impl Serialize) -> Result<()> {
        self.ask(event, &payload, None, true)
    }

    /// Keeps one effect, its payload written as JSON text at once.
    fn ask(
        &mut self,
        event: &str,
        payload: &impl Serialize,
        delay: Option<Duration>,
        set_payload: bool,
    ) -> Result<()> {
        let payload = serde_json::to_string(payload).map_err(|error| not_json(event, error))?;
        let asked = effects::Asked {
            event: event.to_string(),
            payload,
            delay,
        };
        if set_payload {
            self.asked.payloads.retain(|p| p.event != event);
            self.asked.payloads.push(asked);
        } else {
            self.asked.triggered.push(asked);
        }
        self.view = std::sync::OnceLock::new();
        Ok(())
    }

    /// Send `message` to every client of this handler's WebSocket endpoint.
    pub fn broadcast(&self, message: impl Serialize) -> Result<()> {
        match &self.endpoint {
            Some(endpoint) => self.broadcast_to(endpoint, message),
            None => Err(RuntimeError::ExecutionFailed(format!(
                "`state.broadcast` needs a WebSocket endpoint: `{}` is not a ws handler; use `state.broadcast_to(\"Chat\", message)`",
                self.handler
            ))),
        }
    }

    /// Send `message` to every client of WebSocket endpoint `endpoint`.
    pub fn broadcast_to(&self, endpoint: &str, message: impl Serialize) -> Result<()> {
        let message = to_json(endpoint, &message)?;
        self.host.broadcast(endpoint, message);
        Ok(())
    }

    /// What the handler asked to publish so far.
    pub fn effects(&self) -> &Effects {
        self.view.get_or_init(|| self.asked.to_effects())
    }

    /// Take the collected effects.
    pub fn take_effects(&mut self) -> Effects {
        self.view = std::sync::OnceLock::new();
        std::mem::take(&mut self.asked).to_effects()
    }

    /// Take the collected effects as the JSON text the engine reads
    /// (`call.rs` writes them into a successful call's reply).
    pub(crate) fn take_asked(&mut self) -> effects::AskedEffects {
        self.view = std::sync::OnceLock::new();
        std::mem::take(&mut self.asked)
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("handler", &self.handler)
            .field("trace_id", &self.trace_id)
            .field("endpoint", &self.endpoint)
            .field("effects", self.effects())
            .finish()
    }
}

/// One WebSocket connection: its id, and `send` to it alone.
#[derive(Clone)]
pub struct Connection {
    id: String,
    host: Arc<dyn Host>,
}

impl Connection {
    pub fn new(id: impl Into<String>, host: Arc<dyn Host>) -> Connection {
        Connection {
            id: id.into(),
            host,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Send `message` to this connection only.
    pub fn send(&self, message: impl Serialize) -> Result<()> {
        let message = to_json(&self.id, &message)?;
        self.host.send(&self.id, message);
        Ok(())
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").field("id", &self.id).finish()
    }
}

fn to_json(target: &str, value: &impl Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|error| not_json(target, error))
}

/// The error for a value meant for `target` that serde cannot write.
fn not_json(target: &str, error: serde_json::Error) -> RuntimeError {
    RuntimeError::ExecutionFailed(format!(
        "the value for `{target}` cannot be turned into JSON: {error}"
    ))
}
