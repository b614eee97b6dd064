//! What the harness gives back: a call's typed value or its `HttpError`,
//! the events it caused, its log lines, and what a WebSocket handler sent.

use super::super::{HttpError, Level};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;

/// One log line of a handler: `state.logger()`, or `println!` (`info`) and
/// `eprintln!` (`warn`) in a handler file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub level: Level,
    pub message: String,
    pub fields: Map<String, Value>,
}

/// An event a handler caused, as the engine would publish it: one of the
/// schema's `triggers`, or a `trigger_event` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub event: String,
    /// The payload as JSON (see [`Emitted::payload_as`]).
    pub payload: Value,
    /// `trigger_event_after`'s delay, in whole milliseconds as the engine
    /// counts it.
    pub delay: Option<Duration>,
}

impl Emitted {
    pub(crate) fn new(event: String, payload: Value, delay: Option<Duration>) -> Emitted {
        Emitted {
            event,
            payload,
            delay,
        }
    }

    /// The payload as a generated type: `event.payload_as::<User>()`.
    ///
    /// # Panics
    /// When the payload does not fit `T` (a test failure that says why).
    pub fn payload_as<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.payload.clone()).unwrap_or_else(|error| {
            panic!(
                "the payload of `{}` is not a {}: {error}\n  payload: {}",
                self.event,
                std::any::type_name::<T>(),
                self.payload
            )
        })
    }
}

/// What `call_api` gives back.
#[derive(Debug, Clone)]
pub struct ApiResult<T> {
    /// The handler's value, or the error its client would get (a failure
    /// that is not an `HttpError` is a 500 with its message).
    pub result: Result<T, HttpError>,
    /// The events published had the request been real, in order: the
    /// api's `triggers`, then `trigger_event` calls. None when it failed.
    pub events: Vec<Emitted>,
    pub logs: Vec<LogLine>,
}

impl<T: fmt::Debug> ApiResult<T> {
    /// The value.
    ///
    /// # Panics
    /// When the handler failed, with its error.
    pub fn value(&self) -> &T {
        match &self.result {
            Ok(value) => value,
            Err(error) => panic!("the handler failed: {error}\n  logs: {:?}", self.logs),
        }
    }

    /// The error, `None` when the handler succeeded.
    pub fn error(&self) -> Option<&HttpError> {
        self.result.as_ref().err()
    }

    /// The events named `event`.
    pub fn events_named(&self, event: &str) -> Vec<&Emitted> {
        self.events.iter().filter(|e| e.event == event).collect()
    }
}

/// One handler run: an event handler (in an [`EventRun`]), a cron job, a
/// WebSocket hook.
#[derive(Debug, Clone)]
pub struct HandlerRun {
    /// The handler id the engine calls it by (`event:UserCreated:send_welcome_email`).
    pub handler: String,
    /// The event it ran for (event handlers).
    pub event: Option<String>,
    /// What it returned (as JSON), or how it failed.
    pub result: Result<Value, HttpError>,
    /// For an event handler, whether a failure is retried by the engine
    /// (`false` for `RuntimeError::NonRetryable`).
    pub retryable: bool,
    /// The events it caused (none when it failed).
    pub triggered: Vec<Emitted>,
    pub logs: Vec<LogLine>,
}

impl HandlerRun {
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The returned value as a generated type.
    ///
    /// # Panics
    /// When the handler failed, or its value does not fit `T`.
    pub fn value_as<T: DeserializeOwned>(&self) -> T {
        match &self.result {
            Ok(value) => serde_json::from_value(value.clone()).unwrap_or_else(|error| {
                panic!(
                    "`{}` returned {value}, not a {}: {error}",
                    self.handler,
                    std::any::type_name::<T>()
                )
            }),
            Err(error) => panic!("`{}` failed: {error}", self.handler),
        }
    }
}

/// What `publish` and `run_due` give back: every handler run, in order,
/// down to the last event they caused.
#[derive(Debug, Clone, Default)]
pub struct EventRun {
    /// Every event delivered, in order (the published one first).
    pub published: Vec<Emitted>,
    pub runs: Vec<HandlerRun>,
    /// Delayed events scheduled meanwhile (see `Harness::run_due`).
    pub scheduled: Vec<Emitted>,
}

impl EventRun {
    /// The ids of the handlers that ran, in order.
    pub fn handlers(&self) -> Vec<&str> {
        self.runs.iter().map(|r| r.handler.as_str()).collect()
    }

    /// The first run of `handler` (its id, or the function's name: the
    /// id's last part).
    pub fn run(&self, handler: &str) -> Option<&HandlerRun> {
        self.runs
            .iter()
            .find(|r| r.handler == handler || r.handler.rsplit(':').next() == Some(handler))
    }

    /// The names of the events delivered, in order.
    pub fn events(&self) -> Vec<&str> {
        self.published.iter().map(|e| e.event.as_str()).collect()
    }

    /// True when every handler succeeded.
    pub fn all_ok(&self) -> bool {
        self.runs.iter().all(HandlerRun::is_ok)
    }
}

/// The request a middleware sees: what an api's middlewares get (its body,
/// query and headers) as the context the engine builds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub payload: Value,
    pub query_params: Map<String, Value>,
    /// Header names in lower case, as the engine gives them.
    pub headers: Map<String, Value>,
}

impl Request {
    pub fn new() -> Request {
        Request::default()
    }

    /// With header `name` (lower-cased) set to `value`.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .insert(name.to_ascii_lowercase(), Value::String(value.to_string()));
        self
    }

    /// With query parameter `name` set to `value`.
    pub fn query(mut self, name: &str, value: &str) -> Request {
        self.query_params
            .insert(name.to_string(), Value::String(value.to_string()));
        self
    }

    /// With this body.
    ///
    /// # Panics
    /// When `body` cannot be turned into JSON.
    pub fn body(mut self, body: impl serde::Serialize) -> Request {
        self.payload = serde_json::to_value(body).expect("the body is JSON");
        self
    }
}

/// What `middleware` gives back.
#[derive(Debug, Clone)]
pub struct MiddlewareRun {
    /// The request as the next middleware or the handler would see it
    /// (changed if the middleware returned a context), or the refusal.
    pub result: Result<Request, HttpError>,
    pub logs: Vec<LogLine>,
}

impl MiddlewareRun {
    pub fn allowed(&self) -> bool {
        self.result.is_ok()
    }

    /// The refusal, `None` when the request may go on.
    pub fn refused(&self) -> Option<&HttpError> {
        self.result.as_ref().err()
    }
}

/// What one step of a WebSocket session gives back.
#[derive(Debug, Clone, Default)]
pub struct WsStep {
    /// One run per hook that ran (a ws may name several handlers).
    pub runs: Vec<HandlerRun>,
    /// Messages sent to this connection alone: `Connection::send`, and a
    /// message handler's reply when the ws does not broadcast.
    pub sent: Vec<Value>,
    /// Messages to every client: `state.broadcast`, and the reply when the
    /// ws broadcasts.
    pub broadcast: Vec<Value>,
    /// The events published (`on_message` only, as the engine does).
    pub events: Vec<Emitted>,
    pub logs: Vec<LogLine>,
}

impl WsStep {
    /// The first failure, `None` when every hook succeeded (a failed
    /// `on_connect` refuses the connection).
    pub fn error(&self) -> Option<&HttpError> {
        self.runs.iter().find_map(|r| r.result.as_ref().err())
    }
}

/// A test asked for something the schema or the library does not have.
#[derive(Clone, PartialEq, Eq)]
pub enum HarnessError {
    /// No api, event, cron, ws or middleware of that name in the schema.
    Unknown {
        kind: &'static str,
        name: String,
        known: Vec<String>,
    },
    /// The schema names the handler but the library has no function for it.
    Missing { handler: String },
    /// Events kept triggering each other past the depth limit.
    TooDeep { chain: Vec<String> },
    /// A value that is not JSON, or a result that is not the type asked for.
    Type(String),
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Unknown { kind, name, known } => {
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                write!(f, "no {kind} `{name}` in the schema; known: {known}")
            }
            HarnessError::Missing { handler } => write!(
                f,
                "handler `{handler}` is not in the library: does its file define the function (`rohas list-handlers`), and is src/generated/ up to date (`rohas codegen`)?"
            ),
            HarnessError::TooDeep { chain } => write!(
                f,
                "events kept triggering events past {} levels (a cycle?): {}",
                super::MAX_DEPTH,
                chain.join(" -> ")
            ),
            HarnessError::Type(message) => f.write_str(message),
        }
    }
}

/// The message, as `unwrap()` in a test prints it.
impl fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for HarnessError {}
