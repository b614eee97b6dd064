//! A test harness that calls the project's handlers as the engine does, in
//! a plain `#[test]`: by their schema names, through the glue `rohas
//! codegen` writes (`src/generated/registry.rs`), so a handler's
//! parameters are built, its answer converted and its events collected by
//! the very code that runs in production.
//!
//! The project's `src/generated/testing.rs` holds the schema's side (which
//! handlers each event has, what each api triggers …) as a [`Blueprint`]
//! and wraps [`TestEngine`] in a `Harness` with typed methods per api and event.
//!
//! What stands in for the engine: each call is encoded into the bytes
//! `rohas_invoke` receives and run on a tokio runtime of the harness's own
//! (plain `fn` handlers on its blocking pool, as in production), with a
//! [`Host`] that records log lines and WebSocket messages and answers
//! [`Host::now`] from a fake [`Clock`]. The rules around a call (request
//! shapes, which events a success publishes) are in `testing/engine.rs` and
//! `testing/shapes.rs` (the engine's own).
//! Not simulated: timeouts, retries, the HTTP layer (body validation,
//! middlewares in front of an api: call them with [`TestEngine::middleware`]).

mod clock;
mod engine;
mod results;
pub mod shapes;

pub use clock::{rfc3339, Clock};
pub use results::{
    ApiResult, Emitted, EventRun, HandlerRun, HarnessError, LogLine, MiddlewareRun, Request, WsStep,
};

use super::call::{Call, CallData, Registry};
use super::capture::{self, CallTag};
use super::{Host, HttpError, LogRecord};
use engine::{Completion, Invocation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// How many events deep a [`TestEngine::publish`] follows triggered
/// events before it reports a cycle.
pub const MAX_DEPTH: usize = 32;

/// The schema as the harness needs it; `src/generated/testing.rs` writes
/// one for the project.
pub struct Blueprint {
    pub apis: &'static [ApiSpec],
    pub events: &'static [EventSpec],
    pub crons: &'static [CronSpec],
    pub websockets: &'static [WsSpec],
    pub middlewares: &'static [&'static str],
    /// `src/generated/registry.rs`'s `register`: the handlers the library serves.
    pub register: fn(&mut Registry),
}

pub struct ApiSpec {
    pub name: &'static str,
    pub triggers: &'static [&'static str],
}

pub struct EventSpec {
    pub name: &'static str,
    /// The ids of its handlers, in the schema's order.
    pub handlers: &'static [&'static str],
    pub triggers: &'static [&'static str],
    /// Whether an event object (the payload as handlers receive it) fits
    /// the generated event type: [`fits`].
    pub check: Option<PayloadCheck>,
}

/// Why an event object does not fit its event's type, if it does not.
pub type PayloadCheck = fn(&Value) -> Result<(), String>;

pub struct CronSpec {
    pub name: &'static str,
    pub schedule: &'static str,
    pub triggers: &'static [&'static str],
}

pub struct WsSpec {
    pub name: &'static str,
    pub broadcast: bool,
    pub triggers: &'static [&'static str],
    /// Handler ids of each hook (none, one, or the schema's named handlers).
    pub on_connect: &'static [&'static str],
    pub on_message: &'static [&'static str],
    pub on_disconnect: &'static [&'static str],
}

/// `EventSpec::check` for event type `T`.
pub fn fits<T: DeserializeOwned>(event_object: &Value) -> Result<(), String> {
    T::deserialize(event_object)
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Stands in for the engine: runs handlers by their schema names.
pub struct TestEngine {
    blueprint: &'static Blueprint,
    registry: Registry,
    runtime: tokio::runtime::Runtime,
    clock: Clock,
    /// Delayed events waiting for the clock, with when they are due.
    scheduled: Mutex<Vec<(SystemTime, Emitted)>>,
    next_id: AtomicU64,
}

/// What one handler call left behind.
struct Ran {
    completion: Completion,
    recorder: Arc<Recorder>,
    /// False for a `RuntimeError::NonRetryable` failure.
    retryable: bool,
}

impl TestEngine {
    /// A harness whose clock starts at [`Clock::DEFAULT_START`].
    ///
    /// # Panics
    /// When the harness's tokio runtime cannot start.
    pub fn new(blueprint: &'static Blueprint) -> TestEngine {
        TestEngine::with_clock(blueprint, Clock::default())
    }

    /// A harness whose clock starts at `start`.
    pub fn starting_at(blueprint: &'static Blueprint, start: SystemTime) -> TestEngine {
        TestEngine::with_clock(blueprint, Clock::starting_at(start))
    }

    fn with_clock(blueprint: &'static Blueprint, clock: Clock) -> TestEngine {
        let mut registry = Registry::default();
        (blueprint.register)(&mut registry);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the harness's tokio runtime starts");
        TestEngine {
            blueprint,
            registry,
            runtime,
            clock,
            scheduled: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// The fake clock handlers read (`State::now`, `rohas_runtime::now`).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Call api `name` with `body` as its request body.
    pub fn call_api<T: DeserializeOwned>(
        &self,
        name: &str,
        body: impl Serialize,
    ) -> Result<ApiResult<T>, HarnessError> {
        let body = to_json("the body", body)?;
        self.api(name, Map::new(), None, Map::new(), body, Map::new())
    }

    /// Call api `name` with its whole request (`<Api>Request`: path
    /// parameters, `query_params`, `body`, `headers`, and `query` for an
    /// api with typed query parameters).
    ///
    /// A typed `query` (an object) reaches the handler as the engine sends
    /// it, `null` values left out (a parameter the client did not send);
    /// `query_params` gets, beside the ones given (which win), the strings a
    /// URL would carry for it (`true`/`false`, numbers as written, a list's
    /// last item, as the engine's map keeps the last of a repeated one).
    pub fn call_api_request<T: DeserializeOwned>(
        &self,
        name: &str,
        request: impl Serialize,
    ) -> Result<ApiResult<T>, HarnessError> {
        let Value::Object(mut request) = to_json("the request", request)? else {
            return Err(HarnessError::Type(
                "the request must be an object, like the generated `<Api>Request`".into(),
            ));
        };
        let mut object = |key: &str| match request.remove(key) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let (mut query, headers) = (object("query_params"), object("headers"));
        let body = request.remove("body").unwrap_or(Value::Null);
        // An object is the typed query; a string is a path parameter `:query`.
        let typed = match request.remove("query") {
            Some(Value::Object(typed)) => {
                let typed: Map<String, Value> =
                    typed.into_iter().filter(|(_, v)| !v.is_null()).collect();
                for (key, value) in &typed {
                    if let Some(text) = query_string(value) {
                        query.entry(key.clone()).or_insert(Value::String(text));
                    }
                }
                Some(typed)
            }
            Some(other) => {
                request.insert("query".into(), other);
                None
            }
            None => None,
        };
        self.api(name, request, typed, query, body, headers)
    }

    fn api<T: DeserializeOwned>(
        &self,
        name: &str,
        params: Map<String, Value>,
        typed: Option<Map<String, Value>>,
        query: Map<String, Value>,
        body: Value,
        headers: Map<String, Value>,
    ) -> Result<ApiResult<T>, HarnessError> {
        let api = find("api", name, self.blueprint.apis, |a| a.name)?;
        let id = format!("api:{}", api.name);
        // As `http.rs` builds it: path parameters, typed query, query, body, headers.
        let mut request = params.clone();
        if let Some(typed) = typed {
            request.insert("query".into(), Value::Object(typed));
        }
        request.insert("query_params".into(), Value::Object(query.clone()));
        request.insert("body".into(), body.clone());
        request.insert("headers".into(), Value::Object(headers.clone()));
        let mut metadata = Map::new();
        metadata.insert("path_params".into(), Value::Object(params));
        metadata.insert("headers".into(), Value::Object(headers));
        metadata.insert("api".into(), json!(api.name));
        metadata.insert("attempt".into(), json!(1));
        let call = Invocation {
            request: Value::Object(request),
            payload: body,
            query_params: query,
            metadata,
            ..Invocation::default()
        };
        let ran = self.invoke(&id, "api", call)?;
        let (result, events) = self.settle(ran.completion, api.triggers, Fallback::Value);
        let result = match result {
            Ok(value) => Ok(T::deserialize(&value).map_err(|error| {
                HarnessError::Type(format!(
                    "api `{name}` returned {value}, not a {}: {error}",
                    std::any::type_name::<T>()
                ))
            })?),
            Err(error) => Err(error),
        };
        Ok(ApiResult {
            result,
            events,
            logs: ran.recorder.logs(),
        })
    }

    /// Publish `event` with `payload`: every handler the schema subscribes
    /// runs, then the event's `triggers` (once all its handlers succeeded),
    /// then whatever those caused, to any depth ([`MAX_DEPTH`]). Delayed
    /// events wait for [`TestEngine::run_due`].
    pub fn publish(&self, event: &str, payload: impl Serialize) -> Result<EventRun, HarnessError> {
        find("event", event, self.blueprint.events, |e| e.name)?;
        let payload = to_json("the payload", payload)?;
        let mut run = EventRun::default();
        let first = Emitted::new(event.to_string(), payload, None);
        self.deliver(VecDeque::from([(first, vec![event.to_string()])]), &mut run)?;
        Ok(run)
    }

    /// Deliver the delayed events whose time has come on [`TestEngine::clock`],
    /// earliest first, with everything they cause.
    pub fn run_due(&self) -> Result<EventRun, HarnessError> {
        let now = self.clock.now();
        let mut due = {
            let mut scheduled = lock(&self.scheduled);
            let (due, later): (Vec<_>, Vec<_>) =
                scheduled.drain(..).partition(|(at, _)| *at <= now);
            *scheduled = later;
            due
        };
        due.sort_by_key(|(at, _)| *at);
        let queue = due
            .into_iter()
            .map(|(_, emitted)| {
                let chain = vec![emitted.event.clone()];
                (emitted, chain)
            })
            .collect();
        let mut run = EventRun::default();
        self.deliver(queue, &mut run)?;
        Ok(run)
    }

    /// Delayed events not delivered yet, with when they are due.
    pub fn scheduled(&self) -> Vec<(SystemTime, Emitted)> {
        lock(&self.scheduled).clone()
    }

    fn deliver(
        &self,
        mut queue: VecDeque<(Emitted, Vec<String>)>,
        run: &mut EventRun,
    ) -> Result<(), HarnessError> {
        while let Some((message, chain)) = queue.pop_front() {
            if chain.len() > MAX_DEPTH {
                return Err(HarnessError::TooDeep { chain });
            }
            run.published.push(message.clone());
            // An event the schema does not declare has no subscribers.
            let Some(spec) = self
                .blueprint
                .events
                .iter()
                .find(|e| e.name == message.event)
            else {
                continue;
            };
            let published_at = self.clock.rfc3339();
            let message_id = format!("test-message-{}", self.next());
            let mut joined = true;
            let mut join_payloads = Vec::new();
            for &id in spec.handlers {
                let mut metadata = Map::new();
                metadata.insert("message_id".into(), json!(message_id));
                metadata.insert("attempt".into(), json!(1));
                metadata.insert("event".into(), json!(spec.name));
                metadata.insert("source".into(), json!("test"));
                let trace_id = self.trace_id();
                let call = Invocation {
                    request: shapes::event_request(
                        spec.name,
                        &message.payload,
                        &published_at,
                        &trace_id,
                    ),
                    payload: message.payload.clone(),
                    metadata,
                    trace_id,
                    ..Invocation::default()
                };
                let ran = self.invoke(id, "event", call)?;
                let retryable = ran.retryable;
                // An event handler's `set_payload` goes to the event's own
                // triggers (the join), not to its own events.
                if let Completion::Ok { payloads, .. } = &ran.completion {
                    join_payloads.extend(payloads.iter().cloned());
                }
                let (result, triggered) = self.settle(ran.completion, &[], Fallback::Null);
                joined &= result.is_ok();
                for emitted in triggered.iter().filter(|e| e.delay.is_none()) {
                    let mut chain = chain.clone();
                    chain.push(emitted.event.clone());
                    queue.push_back((emitted.clone(), chain));
                }
                run.scheduled
                    .extend(triggered.iter().filter(|e| e.delay.is_some()).cloned());
                run.runs.push(HandlerRun {
                    handler: id.to_string(),
                    event: Some(spec.name.to_string()),
                    result,
                    retryable,
                    triggered,
                    logs: ran.recorder.logs(),
                });
            }
            if joined && !spec.triggers.is_empty() {
                let events = engine::events_to_publish(
                    spec.triggers,
                    &join_payloads,
                    Vec::new(),
                    &message.payload,
                );
                if self.check(&events).is_ok() {
                    for emitted in events {
                        let mut chain = chain.clone();
                        chain.push(emitted.event.clone());
                        queue.push_back((emitted, chain));
                    }
                }
            }
        }
        Ok(())
    }

    /// Run cron job `name` once, now on the harness's clock. Its events
    /// are in the run's `triggered` (delayed ones also wait for `run_due`).
    pub fn run_cron(&self, name: &str) -> Result<HandlerRun, HarnessError> {
        let cron = find("cron", name, self.blueprint.crons, |c| c.name)?;
        let id = format!("cron:{}", cron.name);
        let mut metadata = Map::new();
        metadata.insert("schedule".into(), json!(cron.schedule));
        let call = Invocation {
            request: json!({ "name": cron.name, "scheduled_at": self.clock.rfc3339() }),
            metadata,
            ..Invocation::default()
        };
        let ran = self.invoke(&id, "cron", call)?;
        let retryable = ran.retryable;
        let (result, triggered) = self.settle(ran.completion, cron.triggers, Fallback::Value);
        Ok(HandlerRun {
            handler: id,
            event: None,
            result,
            retryable,
            triggered,
            logs: ran.recorder.logs(),
        })
    }

    /// Run middleware `name` on `request`, as in front of an api.
    pub fn middleware(&self, name: &str, request: Request) -> Result<MiddlewareRun, HarnessError> {
        let name = *find(
            "middleware",
            name,
            self.blueprint.middlewares,
            |m: &&str| *m,
        )?;
        let trace_id = self.trace_id();
        let mut context = json!({
            "payload": request.payload,
            "query_params": request.query_params,
            "headers": request.headers,
            "trace_id": trace_id,
        });
        let mut metadata = Map::new();
        metadata.insert("headers".into(), context["headers"].clone());
        let call = Invocation {
            request: context.clone(),
            payload: context["payload"].clone(),
            query_params: request.query_params,
            metadata,
            trace_id,
            ..Invocation::default()
        };
        let ran = self.invoke(&format!("middleware:{name}"), "middleware", call)?;
        let logs = ran.recorder.logs();
        let result = match ran.completion {
            Completion::Ok { value, .. } => {
                shapes::apply_middleware_answer(&mut context, value);
                let object = |value: &mut Value| match value.take() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                Ok(Request {
                    payload: context["payload"].take(),
                    query_params: object(&mut context["query_params"]),
                    headers: object(&mut context["headers"]),
                })
            }
            Completion::Failed(error) => Err(error),
        };
        Ok(MiddlewareRun { result, logs })
    }

    /// A WebSocket session on endpoint `name`: `connect`, `message`,
    /// `disconnect`, each running the hooks the schema names.
    pub fn ws(&self, name: &str) -> Result<WsSession<'_>, HarnessError> {
        let spec = find("ws", name, self.blueprint.websockets, |w| w.name)?;
        Ok(WsSession {
            engine: self,
            spec,
            connection_id: format!("test-connection-{}", self.next()),
            headers: Map::new(),
            query: Map::new(),
        })
    }

    /// Run handler `id` on `call`, as `rohas_invoke` would: the glue builds
    /// its parameters from the call's bytes and answers with a completion.
    fn invoke(&self, id: &str, kind: &str, mut call: Invocation) -> Result<Ran, HarnessError> {
        let Some(entry) = self.registry.get(id) else {
            return Err(HarnessError::Missing {
                handler: id.to_string(),
            });
        };
        if call.trace_id.is_empty() {
            call.trace_id = self.trace_id();
        }
        // What `dispatch.rs` adds for every handler that reads its context.
        call.metadata
            .insert("trace_id".into(), json!(call.trace_id));
        call.metadata.insert("handler_kind".into(), json!(kind));
        // An api call is trimmed to what its parameters read, as the
        // engine does; other calls get every part (the engine trims those
        // too, but a parameter never reads less from more).
        let reads = match kind {
            "api" => entry.needs,
            _ => super::call::needs::ALL,
        };
        let data = CallData::read(&call.encode(reads)).map_err(HarnessError::Type)?;
        let recorder = Arc::new(Recorder {
            clock: self.clock.clone(),
            lines: Mutex::new(Vec::new()),
            sent: Mutex::new(Vec::new()),
            broadcast: Mutex::new(Vec::new()),
        });
        let host: Arc<dyn Host> = recorder.clone();
        let handler = Call::new(data, Arc::clone(&entry.name), Arc::clone(&host));
        let tag = CallTag {
            handler: Arc::clone(&entry.name),
            trace_id: Arc::from(call.trace_id.as_str()),
            host,
        };
        let future = capture::CURRENT.scope(tag, (entry.function)(handler));
        // A task of its own, so a panic fails the call as it does in production.
        let outcome = self.runtime.block_on(async { tokio::spawn(future).await });
        let outcome = outcome.unwrap_or_else(|error| {
            let message = match error.try_into_panic() {
                Ok(payload) => payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic payload".into()),
                Err(error) => error.to_string(),
            };
            Err(super::call::Failure::with_stack(
                format!("handler panicked: {message}"),
                None,
            ))
        });
        let retryable = match &outcome {
            Err(failure) => failure.0.get("retryable") != Some(&Value::Bool(false)),
            Ok(_) => true,
        };
        Ok(Ran {
            completion: Completion::read(outcome),
            recorder,
            retryable,
        })
    }

    /// A completion as the engine settles it: the value or the error, and
    /// the events published on success, each payload checked first (one
    /// that does not fit its event fails the call). Delayed events are
    /// scheduled on the clock.
    fn settle(
        &self,
        completion: Completion,
        triggers: &[&str],
        fallback: Fallback,
    ) -> (Result<Value, HttpError>, Vec<Emitted>) {
        match completion {
            Completion::Ok {
                value,
                triggered,
                payloads,
            } => {
                let fallback_value = match fallback {
                    Fallback::Value => value.clone(),
                    Fallback::Null => Value::Null,
                    Fallback::Message(message) => message,
                };
                let events =
                    engine::events_to_publish(triggers, &payloads, triggered, &fallback_value);
                if let Err(problem) = self.check(&events) {
                    return (Err(HttpError::new(500, problem)), Vec::new());
                }
                let now = self.clock.now();
                lock(&self.scheduled).extend(
                    events
                        .iter()
                        .filter_map(|e| e.delay.map(|delay| (now + delay, e.clone()))),
                );
                (Ok(value), events)
            }
            Completion::Failed(error) => (Err(error), Vec::new()),
        }
    }

    /// Whether every payload fits its event (the engine checks them all
    /// before it publishes any).
    fn check(&self, events: &[Emitted]) -> Result<(), String> {
        for emitted in events {
            let Some(check) = self
                .blueprint
                .events
                .iter()
                .find(|e| e.name == emitted.event)
                .and_then(|e| e.check)
            else {
                continue;
            };
            let object = shapes::event_request(
                &emitted.event,
                &emitted.payload,
                &self.clock.rfc3339(),
                "check",
            );
            check(&object).map_err(|problem| {
                format!("invalid payload for event `{}`: {problem}", emitted.event)
            })?;
        }
        Ok(())
    }

    fn next(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn trace_id(&self) -> String {
        format!("test-trace-{}", self.next())
    }
}

/// Where the payload of a trigger without `set_payload` comes from.
enum Fallback {
    /// The handler's return value (apis, cron).
    Value,
    /// Nothing (an event handler's own events are `trigger_event` calls).
    Null,
    /// The ws message.
    Message(Value),
}

/// One client connection to a ws endpoint.
pub struct WsSession<'h> {
    engine: &'h TestEngine,
    spec: &'static WsSpec,
    connection_id: String,
    headers: Map<String, Value>,
    /// The upgrade request's query parameters, which `on_connect` sees.
    query: Map<String, Value>,
}

impl WsSession<'_> {
    /// The connection's id, as handlers see it (`Connection::id`, the
    /// context's `connection_id`).
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }

    /// Sets a header of the upgrade request (before `connect`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), Value::String(value.to_string()));
        self
    }

    /// Sets a query parameter of the upgrade request (before `connect`).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query
            .insert(name.to_string(), Value::String(value.to_string()));
        self
    }

    /// Run the `on_connect` hooks; a failure refuses the connection.
    pub fn connect(&self) -> Result<WsStep, HarnessError> {
        self.step(self.spec.on_connect, "ws_connect", None)
    }

    /// Send `message` from the client: the `on_message` hooks run; a reply
    /// goes to every client (`broadcast: true`) or back to this one.
    pub fn message(&self, message: impl Serialize) -> Result<WsStep, HarnessError> {
        let message = to_json("the message", message)?;
        self.step(self.spec.on_message, "ws_message", Some(message))
    }

    /// Run the `on_disconnect` hooks.
    pub fn disconnect(&self) -> Result<WsStep, HarnessError> {
        self.step(self.spec.on_disconnect, "ws_disconnect", None)
    }

    fn step(
        &self,
        ids: &[&str],
        kind: &str,
        message: Option<Value>,
    ) -> Result<WsStep, HarnessError> {
        let engine = self.engine;
        let mut step = WsStep::default();
        // A hook without a function is optional: the engine skips it.
        for id in ids.iter().filter(|id| engine.registry.get(id).is_some()) {
            let mut metadata = Map::new();
            metadata.insert("connection_id".into(), json!(self.connection_id));
            metadata.insert("ws".into(), json!(self.spec.name));
            metadata.insert("headers".into(), Value::Object(self.headers.clone()));
            // `on_connect` sees the upgrade request's query; the others none.
            let query_params = match kind {
                "ws_connect" => self.query.clone(),
                _ => Map::new(),
            };
            let call = Invocation {
                request: message.clone().unwrap_or(Value::Null),
                payload: message.clone().unwrap_or(Value::Null),
                query_params,
                metadata,
                endpoint: Some(self.spec.name.to_string()),
                connection_id: Some(self.connection_id.clone()),
                ..Invocation::default()
            };
            let ran = engine.invoke(id, kind, call)?;
            let retryable = ran.retryable;
            let (result, events) = match &message {
                // Connect and disconnect publish nothing, as in the engine.
                None => match ran.completion {
                    Completion::Ok { value, .. } => (Ok(value), Vec::new()),
                    Completion::Failed(error) => (Err(error), Vec::new()),
                },
                Some(message) => engine.settle(
                    ran.completion,
                    self.spec.triggers,
                    Fallback::Message(message.clone()),
                ),
            };
            step.sent.extend(
                lock(&ran.recorder.sent)
                    .iter()
                    .filter(|(to, _)| *to == self.connection_id)
                    .map(|(_, m)| m.clone()),
            );
            step.broadcast.extend(
                lock(&ran.recorder.broadcast)
                    .iter()
                    .filter(|(to, _)| to == self.spec.name)
                    .map(|(_, m)| m.clone()),
            );
            if let (Some(_), Ok(reply)) = (&message, &result) {
                if !reply.is_null() {
                    let to = if self.spec.broadcast {
                        &mut step.broadcast
                    } else {
                        &mut step.sent
                    };
                    to.push(reply.clone());
                }
            }
            step.logs.extend(ran.recorder.logs());
            step.events.extend(events.iter().cloned());
            step.runs.push(HandlerRun {
                handler: id.to_string(),
                event: None,
                result,
                retryable,
                triggered: events,
                logs: ran.recorder.logs(),
            });
        }
        Ok(step)
    }
}

/// The [`Host`] of a call under the harness: keeps what the handler logged
/// and sent, and tells the time from the fake clock.
struct Recorder {
    clock: Clock,
    lines: Mutex<Vec<LogLine>>,
    sent: Mutex<Vec<(String, Value)>>,
    broadcast: Mutex<Vec<(String, Value)>>,
}

impl Recorder {
    fn logs(&self) -> Vec<LogLine> {
        lock(&self.lines).clone()
    }
}

impl Host for Recorder {
    fn log(&self, record: LogRecord<'_>) {
        lock(&self.lines).push(LogLine {
            level: record.level,
            message: record.message.to_string(),
            fields: record.fields.clone(),
        });
    }

    fn broadcast(&self, endpoint: &str, message: Value) {
        lock(&self.broadcast).push((endpoint.to_string(), message));
    }

    fn send(&self, connection_id: &str, message: Value) {
        lock(&self.sent).push((connection_id.to_string(), message));
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// The spec of `kind` named `name`, or an error listing the known ones.
fn find<'a, T>(
    kind: &'static str,
    name: &str,
    specs: &'a [T],
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a T, HarnessError> {
    specs
        .iter()
        .find(|spec| name_of(spec) == name)
        .ok_or_else(|| HarnessError::Unknown {
            kind,
            name: name.to_string(),
            known: specs.iter().map(|spec| name_of(spec).to_string()).collect(),
        })
}

/// A typed query value as a URL carries it; `None` for an empty list (no
/// parameter at all).
fn query_string(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.last().and_then(query_string),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn to_json(what: &str, value: impl Serialize) -> Result<Value, HarnessError> {
    serde_json::to_value(value)
        .map_err(|error| HarnessError::Type(format!("{what} cannot be turned into JSON: {error}")))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
