//! One handler call: what the engine sent, how each handler parameter is
//! built from it ([`FromCall`], an extractor as in axum) and how the return
//! value becomes the answer ([`IntoReply`]).
//!
//! The glue `rohas codegen` writes (`src/generated/registry.rs`) calls every
//! handler as `handler(call.extract("req")?, &mut state)`: the parameter types
//! the handler declares pick the extractors, so a handler asks for exactly
//! what it needs, in any order. `&mut State` (or `&State`) is passed as is.

use super::{Connection, HandlerContext, Host, RuntimeError, State};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, OnceLock};

/// Which parts of a call a handler parameter reads ([`FromCall::NEEDS`]).
///
/// The glue adds up the needs of each handler's parameters and the library
/// reports them with its handler ids (`rohas_handlers`): the engine builds
/// and sends only those parts, so a handler that takes its body alone costs
/// no header map, and `handler()` with no parameters gets its trace id only.
pub mod needs {
    /// The request in wire shape (`<Api>Request` types, event types).
    pub const REQUEST: u32 = 1;
    /// The body, event payload or ws message (input and model types, `Value`).
    pub const PAYLOAD: u32 = 2;
    /// `HandlerContext`'s query parameters and metadata.
    pub const CONTEXT: u32 = 4;
    /// The request's `payload` field, read with the rest of the request.
    /// A generated event type reads the payload's fields alone (and makes
    /// its `payload` from them): it asks for [`REQUEST`] without this.
    pub const REQUEST_PAYLOAD: u32 = 8;
    /// Everything: what a parameter type that does not say gets.
    pub const ALL: u32 = REQUEST | PAYLOAD | CONTEXT | REQUEST_PAYLOAD;

    /// The names `rohas_handlers` reports `needs` with. A request read
    /// without its `payload` field is said as a name of its own,
    /// `"request_fields_only"`, beside `"request"`: an engine that does not
    /// know the name sends the whole request, as it did before.
    pub fn names(needs: u32) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = [
            (REQUEST, "request"),
            (PAYLOAD, "payload"),
            (CONTEXT, "context"),
        ]
        .into_iter()
        .filter(|(bit, _)| needs & bit != 0)
        .map(|(_, name)| name)
        .collect();
        if needs & REQUEST != 0 && needs & REQUEST_PAYLOAD == 0 {
            names.push("request_fields_only");
        }
        names
    }
}

/// The needs of the parameter `probe` takes, its type inferred from the
/// handler call inside it (the glue writes one probe per parameter; it is
/// never run).
pub fn needs_of<T: FromCall>(_probe: impl FnOnce(T)) -> u32 {
    T::NEEDS
}

/// The parts of a call, in the order the engine writes them (see `abi.rs`).
const TRACE_ID: usize = 0;
const REQUEST: usize = 1;
const PAYLOAD: usize = 2;
const QUERY_PARAMS: usize = 3;
const METADATA: usize = 4;
const ENDPOINT: usize = 5;
const CONNECTION_ID: usize = 6;
const PARTS: usize = 7;

/// One call as the engine sends it to `rohas_invoke`: its parts (see
/// `abi.rs`), each JSON text or a plain string, kept as the bytes that came
/// and parsed only when a handler parameter asks for it.
#[derive(Debug, Default)]
pub struct CallData {
    bytes: Vec<u8>,
    /// Where each part is in `bytes`; `None` when the engine left it out.
    parts: [Option<(usize, usize)>; PARTS],
}

impl CallData {
    /// Split the engine's call buffer into its parts (copied: the call may
    /// outlive the buffer).
    pub fn read(buffer: &[u8]) -> std::result::Result<CallData, String> {
        let mut parts = [None; PARTS];
        let mut at = 0;
        for (index, part) in parts.iter_mut().enumerate() {
            let Some(prefix) = buffer.get(at..at + 4) else {
                return Err(format!("part {index} is missing"));
            };
            at += 4;
            let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
            if len == u32::MAX {
                continue;
            }
            let end = at + len as usize;
            if end > buffer.len() {
                return Err(format!("part {index} runs past the end of the call"));
            }
            *part = Some((at, end));
            at = end;
        }
        Ok(CallData {
            bytes: buffer.to_vec(),
            parts,
        })
    }

    /// Part `index`'s bytes, `None` when absent.
    fn part(&self, index: usize) -> Option<&[u8]> {
        self.parts[index].map(|(start, end)| &self.bytes[start..end])
    }

    /// A JSON part's bytes, `null` when absent.
    fn json(&self, index: usize) -> &[u8] {
        self.part(index).unwrap_or(b"null")
    }

    /// A string part (`None` when absent or not UTF-8).
    fn text(&self, index: usize) -> Option<&str> {
        self.part(index).and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// A call in progress: the data plus the host that logs and sends.
pub struct Call {
    data: CallData,
    handler_name: Arc<str>,
    trace_id: Arc<str>,
    host: Arc<dyn Host>,
    request: OnceLock<Value>,
    payload: OnceLock<Value>,
    context: OnceLock<HandlerContext>,
}

/// JSON bytes parsed; the engine sent them, so they parse (`T::default()` if not).
fn parse<T: DeserializeOwned + Default>(json: &[u8]) -> T {
    read_json(json).unwrap_or_default()
}

/// JSON bytes read as a `str`, checked for UTF-8 once and whole:
/// `serde_json::from_slice` checks each string on its own (every key and
/// text value of an event's request, a call each), which was a thirtieth
/// of an event delivered to a Rust handler. A text that is not UTF-8 gets
/// `from_slice`'s own error.
fn read_json<T: DeserializeOwned>(json: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(json) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(json),
    }
}

impl Call {
    pub fn new(data: CallData, handler_name: Arc<str>, host: Arc<dyn Host>) -> Call {
        let trace_id = Arc::from(data.text(TRACE_ID).unwrap_or_default());
        Call {
            data,
            handler_name,
            trace_id,
            host,
            request: OnceLock::new(),
            payload: OnceLock::new(),
            context: OnceLock::new(),
        }
    }

    /// The request in wire shape.
    pub fn request(&self) -> &Value {
        self.request.get_or_init(|| parse(self.data.json(REQUEST)))
    }

    /// The request as JSON text.
    pub fn request_json(&self) -> &str {
        std::str::from_utf8(self.data.json(REQUEST)).unwrap_or("null")
    }

    /// The body, event payload or ws message.
    pub fn payload(&self) -> &Value {
        self.payload.get_or_init(|| parse(self.data.json(PAYLOAD)))
    }

    /// The body, event payload or ws message as JSON text.
    pub fn payload_json(&self) -> &str {
        std::str::from_utf8(self.data.json(PAYLOAD)).unwrap_or("null")
    }

    pub fn context(&self) -> &HandlerContext {
        self.context.get_or_init(|| HandlerContext {
            handler_name: self.handler_name.to_string(),
            payload: self.payload().clone(),
            query_params: parse(self.data.json(QUERY_PARAMS)),
            metadata: parse(self.data.json(METADATA)),
        })
    }

    pub fn trace_id(&self) -> &Arc<str> {
        &self.trace_id
    }

    pub fn handler_name(&self) -> &Arc<str> {
        &self.handler_name
    }

    pub fn connection_id(&self) -> Option<&str> {
        self.data.text(CONNECTION_ID)
    }

    pub fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// The [`State`] this call's handler gets.
    pub fn state(&self) -> State {
        let state = State::shared(
            Arc::clone(&self.handler_name),
            Arc::clone(&self.trace_id),
            Arc::clone(&self.host),
        );
        match self.data.text(ENDPOINT) {
            Some(endpoint) => state.with_endpoint(endpoint),
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

    /// The answer of a handler that takes no [`State`], so asked for no
    /// events (the glue builds no state for it).
    pub fn reply<R: IntoReply>(&self, returned: R) -> Outcome {
        returned
            .into_reply()
            .map(Success::Value)
            .map_err(Failure::from_error)
    }

    /// The answer for what the handler returned, with the events it asked
    /// for when it succeeded.
    pub fn finish<R: IntoReply>(&self, returned: R, mut state: State) -> Outcome {
        match returned.into_reply() {
            Ok(value) => {
                let asked = state.take_asked();
                if asked.is_empty() {
                    return Ok(Success::Value(value));
                }
                // The value and the payloads are JSON text already: no tree
                // is built for any of them.
                let mut body = Vec::with_capacity(value.len() + 64);
                body.extend_from_slice(b"{\"value\":");
                body.extend_from_slice(value.as_bytes());
                body.push(b',');
                asked.write_reply_fields(&mut body);
                body.push(b'}');
                // Made of UTF-8 text and serde_json's output.
                let body = String::from_utf8(body).unwrap_or_else(|_| "{}".into());
                Ok(Success::WithEffects(body))
            }
            Err(error) => Err(Failure::from_error(error)),
        }
    }
}

/// A successful call's completion JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum Success {
    /// The return value alone: the handler asked for no events.
    Value(String),
    /// `{"value", "triggered", "payloads"}`.
    WithEffects(String),
}

/// A failed call's completion JSON: `{"status", "message", "details"}` for an
/// HTTP error, `{"message", "stack"}` for anything else, with
/// `"retryable": false` for [`RuntimeError::NonRetryable`].
#[derive(Debug, Clone, PartialEq)]
pub struct Failure(pub Value);

impl Failure {
    pub fn from_error(error: RuntimeError) -> Failure {
        Failure(match error {
            RuntimeError::Http { status, message } => json!({"status": status, "message": message}),
            RuntimeError::ExecutionFailed(message) => json!({"message": message}),
            RuntimeError::NonRetryable(message) => json!({"message": message, "retryable": false}),
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

/// One handler: what its parameters read ([`needs`]), and whether its calls
/// skip the first step on the caller's thread (see `abi.rs`: set once its
/// first step took too long).
pub struct Entry {
    pub id: &'static str,
    /// The last part of the id, as `HandlerContext.handler_name` gives it.
    pub name: Arc<str>,
    pub function: HandlerFn,
    pub needs: u32,
    pub offloaded: AtomicBool,
    /// First steps over budget in a row.
    pub slow_steps: AtomicU32,
}

impl Registry {
    pub fn add(&mut self, id: &'static str, function: HandlerFn, needs: u32) {
        self.handlers.retain(|entry| entry.id != id);
        self.handlers.push(Entry {
            id,
            name: Arc::from(id.rsplit(':').next().unwrap_or(id)),
            function,
            needs,
            offloaded: AtomicBool::new(false),
            slow_steps: AtomicU32::new(0),
        });
    }

    pub fn entries(&self) -> &[Entry] {
        &self.handlers
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.handlers.iter().find(|entry| entry.id == id)
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
    /// The parts of the call [`FromCall::from_call`] reads ([`needs`]); a
    /// type that does not say is sent everything.
    const NEEDS: u32 = needs::ALL;

    fn from_call(call: &Call) -> super::Result<Self>;
}

impl FromCall for HandlerContext {
    const NEEDS: u32 = needs::PAYLOAD | needs::CONTEXT;

    fn from_call(call: &Call) -> super::Result<Self> {
        Ok(call.context().clone())
    }
}

impl FromCall for Connection {
    const NEEDS: u32 = 0;

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
    const NEEDS: u32 = needs::PAYLOAD;

    fn from_call(call: &Call) -> super::Result<Self> {
        Ok(call.payload().clone())
    }
}

/// A bare list body or payload (`body: String[]`, `payload: Item[]`) as a
/// parameter: `Vec<String>`, `Vec<Item>`. The generated extractors cover
/// the schema's named types; a list of them has no name to generate one
/// for.
impl<T: DeserializeOwned> FromCall for Vec<T> {
    const NEEDS: u32 = needs::PAYLOAD;

    fn from_call(call: &Call) -> super::Result<Self> {
        from_payload(call)
    }
}

/// A generated request or event type, read from the request.
pub fn from_request<T: DeserializeOwned>(call: &Call) -> super::Result<T> {
    read_json(call.data.json(REQUEST)).map_err(RuntimeError::from)
}

/// A generated body, payload or message type, read from the payload.
pub fn from_payload<T: DeserializeOwned>(call: &Call) -> super::Result<T> {
    read_json(call.data.json(PAYLOAD)).map_err(RuntimeError::from)
}

/// `FromCall` for generated types read from the request (`<Api>Request`,
/// events whose `payload` is read as sent).
#[macro_export]
macro_rules! request_types {
    ($($ty:ty),* $(,)?) => {
        $crate::from_call_types!(
            $crate::call::needs::REQUEST | $crate::call::needs::REQUEST_PAYLOAD,
            $crate::call::from_request;
            $($ty),*
        );
    };
}

/// `FromCall` for generated event types read from the payload's fields
/// at the request's top level (their `payload` is made from the fields, so
/// the engine need not send it).
#[macro_export]
macro_rules! event_types {
    ($($ty:ty),* $(,)?) => {
        $crate::from_call_types!($crate::call::needs::REQUEST, $crate::call::from_request; $($ty),*);
    };
}

/// `FromCall` for generated types read from the body or payload.
#[macro_export]
macro_rules! payload_types {
    ($($ty:ty),* $(,)?) => {
        $crate::from_call_types!($crate::call::needs::PAYLOAD, $crate::call::from_payload; $($ty),*);
    };
}

/// The `FromCall` impls the three macros above write: `needs` as
/// `FromCall::NEEDS`, each type read by `read`.
#[doc(hidden)]
#[macro_export]
macro_rules! from_call_types {
    ($needs:expr, $read:path; $($ty:ty),*) => {
        $(
            impl $crate::FromCall for $ty {
                const NEEDS: u32 = $needs;

                fn from_call(call: &$crate::Call) -> $crate::Result<Self> {
                    $read(call)
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
