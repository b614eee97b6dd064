//! One handler call: what the engine sent, how each handler parameter is
//! built from it ([`FromCall`], an extractor as in axum) and how the return
//! value becomes the answer ([`IntoReply`]).
//!
//! The glue `rohas codegen` writes (`src/generated/registry.rs`) calls every
//! handler as `handler(call.extract("req")?, &mut state)`: the parameter types
//! the handler declares pick the extractors, so a handler asks for exactly
//! what it needs, in any order. `&mut State` (or `&State`) is passed as is.

use super::{Connection, HandlerContext, Host, RuntimeError, State, TriggeredEvent};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

/// One call as the engine sends it to `rohas_invoke` (JSON, see `abi.rs`).
///
/// Only the names are read up front; the request and context stay JSON
/// text until a handler parameter asks for them, and a typed parameter is
/// read straight from that text (no `serde_json::Value` in between).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallData {
    pub trace_id: String,
    /// The request in wire shape: an api request, an event message, a ws
    /// message, a middleware's context.
    pub request: Option<Box<RawValue>>,
    pub context: WireContext,
    /// The ws endpoint of a ws handler (target of `state.broadcast`).
    pub endpoint: Option<String>,
    pub connection_id: Option<String>,
}

/// [`HandlerContext`] as it arrives, its parts still JSON text.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireContext {
    pub handler_name: String,
    pub payload: Option<Box<RawValue>>,
    pub query_params: Option<Box<RawValue>>,
    pub metadata: Option<Box<RawValue>>,
}

/// A call in progress: the data plus the host that logs and sends.
pub struct Call {
    data: CallData,
    host: Arc<dyn Host>,
    request: OnceLock<Value>,
    payload: OnceLock<Value>,
    context: OnceLock<HandlerContext>,
}

/// JSON text, `null` when absent.
fn text(raw: &Option<Box<RawValue>>) -> &str {
    raw.as_deref().map_or("null", RawValue::get)
}

/// JSON text parsed; the engine sent it, so it parses (`T::default()` if not).
fn parse<T: DeserializeOwned + Default>(raw: &Option<Box<RawValue>>) -> T {
    raw.as_deref()
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default()
}

impl Call {
    pub fn new(data: CallData, host: Arc<dyn Host>) -> Call {
        Call {
            data,
            host,
            request: OnceLock::new(),
            payload: OnceLock::new(),
            context: OnceLock::new(),
        }
    }

    /// The request in wire shape.
    pub fn request(&self) -> &Value {
        self.request.get_or_init(|| parse(&self.data.request))
    }

    /// The request as JSON text.
    pub fn request_json(&self) -> &str {
        text(&self.data.request)
    }

    /// The body, event payload or ws message.
    pub fn payload(&self) -> &Value {
        self.payload
            .get_or_init(|| parse(&self.data.context.payload))
    }

    /// The body, event payload or ws message as JSON text.
    pub fn payload_json(&self) -> &str {
        text(&self.data.context.payload)
    }

    pub fn context(&self) -> &HandlerContext {
        self.context.get_or_init(|| {
            let wire = &self.data.context;
            HandlerContext {
                handler_name: wire.handler_name.clone(),
                payload: self.payload().clone(),
                query_params: parse(&wire.query_params),
                metadata: parse(&wire.metadata),
            }
        })
    }

    pub fn handler_name(&self) -> &str {
        &self.data.context.handler_name
    }

    pub fn connection_id(&self) -> Option<&str> {
        self.data.connection_id.as_deref()
    }

    pub fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// The [`State`] this call's handler gets.
    pub fn state(&self) -> State {
        let state = State::new(
            self.data.context.handler_name.as_str(),
            self.data.trace_id.as_str(),
            Arc::clone(&self.host),
        );
        match &self.data.endpoint {
            Some(endpoint) => state.with_endpoint(endpoint.as_str()),
            None => state,
        }
    }

    /// Build the handler parameter named `parameter`.
    pub fn extract<T: FromCall>(&self, parameter: &str) -> std::result::Result<T, Failure> {
        T::from_call(self).map_err(|error| {
            Failure::from_error(RuntimeError::ExecutionFailed(format!(
                "cannot build parameter `{parameter}` of handler `{}`: {}; is src/generated/ up to date (`rohas codegen`)?",
                self.handler_name(),
                error.message()
            )))
        })
    }

    /// The answer for what the handler returned, with the events it asked
    /// for when it succeeded.
    pub fn finish<R: IntoReply>(&self, returned: R, mut state: State) -> Outcome {
        match returned.into_reply() {
            Ok(value) => {
                let effects = state.take_effects();
                let triggered: Vec<(String, Value)> = effects
                    .triggered
                    .into_iter()
                    .map(|TriggeredEvent { event, payload }| (event, payload))
                    .collect();
                let payloads: Map<String, Value> = effects
                    .payloads
                    .into_iter()
                    .map(|TriggeredEvent { event, payload }| (event, payload))
                    .collect();
                // The value is already JSON text: no tree is built for it.
                let triggered = serde_json::to_string(&triggered).unwrap_or_else(|_| "[]".into());
                let payloads = serde_json::to_string(&payloads).unwrap_or_else(|_| "{}".into());
                let mut body =
                    String::with_capacity(value.len() + triggered.len() + payloads.len() + 40);
                body.push_str("{\"value\":");
                body.push_str(&value);
                body.push_str(",\"triggered\":");
                body.push_str(&triggered);
                body.push_str(",\"payloads\":");
                body.push_str(&payloads);
                body.push('}');
                Ok(Success(body))
            }
            Err(error) => Err(Failure::from_error(error)),
        }
    }
}

/// A successful call's completion JSON text: `{"value", "triggered", "payloads"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Success(pub String);

/// A failed call's completion JSON: `{"status", "message", "details"}` for an
/// HTTP error, `{"message", "stack"}` for anything else.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure(pub Value);

impl Failure {
    pub fn from_error(error: RuntimeError) -> Failure {
        Failure(match error {
            RuntimeError::Http { status, message } => json!({"status": status, "message": message}),
            RuntimeError::ExecutionFailed(message) => json!({"message": message}),
        })
    }

    pub fn with_stack(message: String, stack: Option<String>) -> Failure {
        Failure(json!({"message": message, "stack": stack}))
    }
}

/// What a handler call ends with.
pub type Outcome = std::result::Result<Success, Failure>;

/// The future the glue returns for one call.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// One entry of the registry: builds the call's future (it runs nothing
/// until polled).
pub type HandlerFn = fn(Call) -> HandlerFuture;

/// Which handler ids this library serves; filled by the generated
/// `src/generated/registry.rs`.
#[derive(Default)]
pub struct Registry {
    handlers: Vec<Entry>,
}

/// One handler, and whether its calls skip the first step on the caller's
/// thread (see `abi.rs`: set once its first step took too long).
pub struct Entry {
    pub id: &'static str,
    pub function: HandlerFn,
    pub offloaded: AtomicBool,
}

impl Registry {
    pub fn add(&mut self, id: &'static str, function: HandlerFn) {
        self.handlers.retain(|entry| entry.id != id);
        self.handlers.push(Entry {
            id,
            function,
            offloaded: AtomicBool::new(false),
        });
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.handlers.iter().find(|entry| entry.id == id)
    }

    pub fn ids(&self) -> Vec<&'static str> {
        self.handlers.iter().map(|entry| entry.id).collect()
    }
}

/// A handler parameter Rohas knows how to build from a call.
///
/// Implemented for [`HandlerContext`], [`Connection`], `serde_json::Value`
/// (the body or payload), and, in `src/generated/extract.rs`, for every type
/// the schema generates: `<Api>Request` and event types are built from the
/// request, models, inputs and message types from the body/payload.
#[diagnostic::on_unimplemented(
    message = "a Rohas handler cannot ask for a parameter of type `{Self}`",
    label = "this argument of your handler has type `{Self}`",
    note = "a handler may ask for its request type (`CreateUserRequest`), its body or payload type (`CreateUserInput`), its event type (`UserCreated`), the ws message (`WebSocketMessage`), `HandlerContext`, `Connection`, `serde_json::Value`, and `&mut State`",
    note = "the handler is the function called on this line: fix its parameter list in your handler file"
)]
pub trait FromCall: Sized {
    fn from_call(call: &Call) -> super::Result<Self>;
}

impl FromCall for HandlerContext {
    fn from_call(call: &Call) -> super::Result<Self> {
        Ok(call.context().clone())
    }
}

impl FromCall for Connection {
    fn from_call(call: &Call) -> super::Result<Self> {
        match call.connection_id() {
            Some(id) => Ok(Connection::new(id, Arc::clone(call.host()))),
            None => Err(RuntimeError::ExecutionFailed(
                "only WebSocket handlers can ask for a `Connection`".into(),
            )),
        }
    }
}

impl FromCall for Value {
    fn from_call(call: &Call) -> super::Result<Self> {
        Ok(call.payload().clone())
    }
}

/// A generated request or event type, read from the request.
pub fn from_request<T: DeserializeOwned>(call: &Call) -> super::Result<T> {
    serde_json::from_str(call.request_json()).map_err(RuntimeError::from)
}

/// A generated body, payload or message type, read from the payload.
pub fn from_payload<T: DeserializeOwned>(call: &Call) -> super::Result<T> {
    serde_json::from_str(call.payload_json()).map_err(RuntimeError::from)
}

/// `FromCall` for generated types read from the request (`<Api>Request`, events).
#[macro_export]
macro_rules! request_types {
    ($($ty:ty),* $(,)?) => {
        $(
            impl $crate::FromCall for $ty {
                fn from_call(call: &$crate::Call) -> $crate::Result<Self> {
                    $crate::call::from_request(call)
                }
            }
        )*
    };
}

/// `FromCall` for generated types read from the body or payload.
#[macro_export]
macro_rules! payload_types {
    ($($ty:ty),* $(,)?) => {
        $(
            impl $crate::FromCall for $ty {
                fn from_call(call: &$crate::Call) -> $crate::Result<Self> {
                    $crate::call::from_payload(call)
                }
            }
        )*
    };
}

/// What a handler may return: `Result<T, E>` with `T: Serialize` (the
/// response, reply or modified context) and `E` convertible into
/// [`RuntimeError`], or nothing.
#[diagnostic::on_unimplemented(
    message = "a Rohas handler cannot return `{Self}`",
    note = "return `rohas_runtime::Result<T>` with a `T` that implements `serde::Serialize` (or `Result<()>`)"
)]
pub trait IntoReply {
    /// The returned value as JSON text, written straight from the value.
    fn into_reply(self) -> super::Result<String>;
}

impl IntoReply for () {
    fn into_reply(self) -> super::Result<String> {
        Ok("null".to_string())
    }
}

impl<T: Serialize, E: Into<RuntimeError>> IntoReply for std::result::Result<T, E> {
    fn into_reply(self) -> super::Result<String> {
        let value = self.map_err(Into::into)?;
        serde_json::to_string(&value).map_err(|error| {
            RuntimeError::ExecutionFailed(format!(
                "the handler returned a value that is not JSON: {error}"
            ))
        })
    }
}
