//! HTTP: one service ([`App`], served per connection by `server.rs`) that
//! routes with the current [`Live`] routes, so a schema reload swaps routes
//! without rebuilding the server.
//!
//! The path of a request: CORS preflight → WebSocket upgrade → built-in
//! routes (`/openapi.json`, `/asyncapi.json`) → route match (404/405) → body
//! (`body.rs`: 413 too large, 408 too slow, 400 malformed) → JSON parse
//! (400) → schema check (422) → middlewares → handler (timeout 504) →
//! events published → JSON response. Every error answer is JSON with the
//! trace id. Only what the handler reads is built (`Runtime::needs`): no
//! header or query map for a handler that does not read them, and a body
//! the schema accepts is handed on as its bytes to a handler that reads it
//! alone (`validate_stream.rs`).

use crate::dispatch::invocation;
use crate::engine::{Engine, Live, Shared};
use crate::error::ApiError;
use crate::router::RouteMatch;
use crate::spans::Open;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use rohas_runtime::{HandlerError, HandlerId, HandlerKind, Needs, ReturnValue};
use rohas_schema::model::NameRef;
use rohas_telemetry::{SpanId, SpanKind, Timer, TraceParent};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// `x-trace-id`, in requests and answers. A `HeaderName` constant: a
/// `&str` name is parsed again on every use.
pub(crate) const TRACE_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-trace-id");

/// W3C trace context, in requests (honoured) and answers.
pub(crate) const TRACEPARENT: axum::http::HeaderName = axum::http::HeaderName::from_static("traceparent");

/// What every HTTP request of one connection goes to. It is not an axum
/// `Router`: the engine routes with its own table (which a schema reload
/// swaps), so a router in front would only add a route lookup and
/// extractor work to every request. `server.rs` makes one per connection.
pub(crate) struct App {
    engine: Engine,
    /// Whether the connection comes from a loopback address (the admin
    /// API needs no key then); read once per connection, not per request.
    loopback: bool,
}

impl App {
    pub(crate) fn new(engine: Engine, loopback: bool) -> App {
        App { engine, loopback }
    }

    pub(crate) fn log(&self) -> &crate::log::Log {
        &self.engine.shared.log
    }

    /// The request's future is `answer`'s own, boxed once: an `async`
    /// layer around it would copy its whole state (kilobytes) when first
    /// polled.
    pub(crate) fn call(&self, request: Request) -> rohas_runtime::BoxFuture<'static, Response> {
        // The engine's own APIs never carry CORS, preflights included:
        // no web page of another origin may drive them (`origin.rs`).
        let path = request.uri().path();
        let telemetry = crate::telemetry_api::claims(path) && !self.user_route(&request);
        let admin = !telemetry && path.starts_with(crate::admin::PREFIX);
        let cors = self.engine.shared.config.server.enable_cors;
        if cors && request.method() == Method::OPTIONS && !telemetry && !admin {
            let response = with_cors(preflight(&request), true);
            return Box::pin(std::future::ready(response));
        }
        if telemetry {
            let engine = self.engine.clone();
            let loopback = self.loopback;
            return Box::pin(async move { crate::telemetry_api::answer(engine, loopback, request).await });
        }
        if admin {
            let engine = self.engine.clone();
            let loopback = self.loopback;
            return Box::pin(async move { crate::admin::answer(engine, loopback, request).await });
        }
        // The in-flight guard is also the request's handle on the engine
        // (one reference count taken per request, not three).
        let counted = InFlight::enter(&self.engine.shared);
        Box::pin(answer(counted, request).map(move |response| with_cors(response, cors)))
    }

    /// Whether the project's schema has a route for this request (it wins
    /// over a built-in path such as `/metrics`).
    fn user_route(&self, request: &Request) -> bool {
        let live = self.engine.shared.live.load();
        !matches!(
            live.router.find(request.method().as_str(), request.uri().path()),
            RouteMatch::NotFound
        )
    }
}

/// Counts a request or message as in flight until dropped, which also
/// happens when hyper drops the request future because the client went away
/// (shutdown would otherwise wait for a request that no longer exists).
pub(crate) struct InFlight(Arc<Shared>);

impl InFlight {
    pub(crate) fn enter(shared: &Arc<Shared>) -> InFlight {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.settled();
    }
}

fn preflight(request: &Request) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    let asked = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static("content-type, authorization"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// `Access-Control-Allow-Origin: *`, never with
/// `Access-Control-Allow-Credentials`: browsers then send no cookies or
/// HTTP authentication cross-origin, so a page of any origin reads only
/// what it could read without the user's credentials.
fn with_cors(mut response: Response, cors: bool) -> Response {
    if cors {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    response
}

fn query_map(query: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    out
}

fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            out.insert(name.as_str().to_string(), Value::String(v.to_string()));
        }
    }
    out
}

/// The trace a request belongs to: a valid W3C `traceparent` (its trace,
/// and its span as the remote parent), else a client's `x-trace-id` (any
/// short value, as given), else a new trace begun at `now_ns`.
fn trace_of(headers: &HeaderMap, now_ns: u64) -> (String, Option<SpanId>) {
    if let Some(tp) = headers
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)
    {
        return (tp.trace_id, Some(tp.parent));
    }
    let trace_id = headers
        .get(&TRACE_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_string)
        .unwrap_or_else(|| rohas_telemetry::new_trace_id_at(now_ns));
    (trace_id, None)
}

/// Everything between the request and its answer (CORS is added around
/// it), as a `request` span; the answer carries the span as `traceparent`.
async fn answer(counted: InFlight, request: Request) -> Response {
    let shared = &counted.0;
    // One clock read for the request span's start and a new trace id's time.
    let timer = Timer::start();
    let (trace_id, remote) = trace_of(request.headers(), timer.start_ns());
    let mut span = shared.open_span_timed(timer, &trace_id, remote, || Arc::clone(&UNROUTED), SpanKind::Request);
    if let Some(open) = &mut span {
        open.span_mut().remote_parent = remote.is_some();
    }
    let mut response = routed(shared, request, trace_id, &mut span).await;
    if let Some(open) = &span {
        // From a fixed buffer: no `String` made and checked on the way.
        let bytes = TraceParent::encode(open.span().trace_id.as_str(), open.id(), true);
        // SAFETY: `encode` writes hex digits and `-` only, every one a byte
        // a header value may hold. (Checking the 55 bytes again was a
        // tenth of what telemetry cost a Rust `/health`.)
        let value = unsafe { HeaderValue::from_maybe_shared_unchecked(bytes) };
        response.headers_mut().insert(TRACEPARENT, value);
    }
    let status = response.status();
    shared.close_span(span, |s| {
        s.status_code = Some(status.as_u16());
        if status.is_server_error() {
            s.failed(status.canonical_reason().unwrap_or("server error"));
        }
    });
    response
}

/// The request span's name until a route is found.
static UNROUTED: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("HTTP request"));

async fn routed(shared: &Arc<Shared>, request: Request, trace_id: String, span: &mut Option<Open>) -> Response {
    let live = shared.live.load_full();
    if request.method() == Method::GET {
        let path = request.uri().path();
        if let Some(&ws_index) = live.ws_paths.get(crate::router::normalize(path)) {
            // The connection is traced as its own `ws_connect` span.
            *span = None;
            // Boxed: the upgrade's state would otherwise make every
            // request's future as large as itself.
            let path = path.to_string();
            let engine = Engine {
                shared: Arc::clone(shared),
            };
            return Box::pin(websocket(engine, live, ws_index, request, path, trace_id)).await;
        }
        let document = match path {
            "/openapi.json" => live.documents.openapi.as_ref(),
            "/asyncapi.json" => live.documents.asyncapi.as_ref(),
            _ => None,
        };
        if let Some(doc) = document {
            return axum::Json(doc.clone()).into_response();
        }
    }

    let (parts, body) = request.into_parts();
    let (method, path) = (parts.method.as_str(), parts.uri.path());
    let (api_index, params) = match live.router.find(method, path) {
        RouteMatch::Found(i, params) => (i, params),
        RouteMatch::NotFound => {
            if let Some(open) = span {
                open.span_mut().name = Arc::from(format!("{method} {path}"));
            }
            return ApiError::new(404, format!("no route for {method} {path}"), &trace_id).into_response();
        }
        RouteMatch::MethodNotAllowed(allowed) => {
            let allow: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            let mut response = ApiError::new(
                405,
                format!("{method} is not allowed on {path}; use {}", allow.join(", ")),
                &trace_id,
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            return response;
        }
    };
    let api = &live.schema.apis[api_index];
    let id = &live.api_ids[api_index];
    if let Some(open) = span {
        let s = open.span_mut();
        s.name = Arc::clone(&live.api_span_names[api_index]);
        s.handler = Some(id.to_arc());
    }
    let span_id = crate::spans::id_of(span);
    // What the handler reads (its runtime knows from its signature): the
    // header and query maps are built only for a handler or middleware that
    // reads them.
    let needs = shared.runtime.needs(id);
    let maps = needs.request || needs.context || !api.middlewares.is_empty();
    let (query, headers) = if maps {
        (query_map(parts.uri.query()), header_map(&parts.headers))
    } else {
        (Map::new(), Map::new())
    };

    // Declared query parameters, typed and checked before the body is read.
    let typed_query = match &api.query {
        Some(ty) => {
            let fields = api.query_fields(&live.schema);
            match crate::query::typed(&live.validator, ty, fields, parts.uri.query()) {
                Ok(value) => Some(value),
                Err(problems) => {
                    return ApiError::invalid(422, "query parameters do not match the schema", problems, &trace_id)
                        .into_response()
                }
            }
        }
        None => None,
    };

    // Body: size limit and deadline, then JSON, then the schema.
    let server = &shared.config.server;
    let limit = usize::try_from(server.max_body_bytes).unwrap_or(usize::MAX);
    let timeout = std::time::Duration::from_millis(server.body_read_timeout_ms);
    drop(parts);
    let bytes = match crate::body::read(body, limit, timeout).await {
        Ok(b) => b,
        Err(e) => return e.into_response(&trace_id),
    };
    // A handler that reads its body alone, with no middleware: a body the
    // schema accepts goes on as the bytes that came, never parsed into a
    // `Value` (anything else takes the full path below, which names the
    // problems).
    let body_only = Needs {
        payload: true,
        ..Needs::NONE
    };
    let raw_body = match &api.body {
        Some(ty) if needs == body_only && api.middlewares.is_empty() && live.validator.accepts(ty, &bytes) => {
            Some(bytes.to_vec())
        }
        _ => None,
    };
    let body: Value = if raw_body.is_some() || bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                let problem = crate::nesting::describe(&e);
                return ApiError::new(400, format!("request body is not valid JSON: {problem}"), &trace_id)
                    .into_response();
            }
        }
    };
    if let (Some(ty), None) = (&api.body, &raw_body) {
        if body.is_null() {
            let problems = vec![crate::validate::Problem {
                path: "body".into(),
                problem: "a JSON body is required".into(),
            }];
            return ApiError::invalid(422, "request body is missing", problems, &trace_id).into_response();
        }
        let problems = live.validator.check(ty, &body, "body");
        if !problems.is_empty() {
            return ApiError::invalid(422, "request body does not match the schema", problems, &trace_id)
                .into_response();
        }
    }

    // Middlewares see (and may replace) the context; without any, the
    // request goes straight on, with no context to build and take apart.
    let (body, query, headers) = if api.middlewares.is_empty() {
        (body, query, headers)
    } else {
        let context = json!({
            "payload": body,
            "query_params": query,
            "headers": headers,
            "api": api.name,
            "trace_id": trace_id,
        });
        let mut context = match Box::pin(run_middlewares(shared, &api.middlewares, context, &trace_id, span_id)).await {
            Ok(modified) => modified,
            Err(e) => return e.into_response(),
        };
        let take_object = |v: Value| match v {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        (
            context["payload"].take(),
            take_object(context["query_params"].take()),
            take_object(context["headers"].take()),
        )
    };

    // The trace id moves into the call; the response's header (made once
    // here) is where it is read from afterwards.
    let trace_header = HeaderValue::from_str(&trace_id).ok();
    let mut call = invocation(id.clone(), HandlerKind::Api, trace_id);
    call.needs = needs;
    if needs.request {
        let mut request_object = Map::new();
        for (name, value) in &params {
            request_object.insert(name.clone(), Value::String(value.clone()));
        }
        if let Some(typed) = &typed_query {
            request_object.insert("query".into(), typed.clone());
        }
        request_object.insert("query_params".into(), Value::Object(query.clone()));
        request_object.insert("body".into(), body.clone());
        request_object.insert("headers".into(), Value::Object(headers.clone()));
        call.request = Value::Object(request_object);
    }
    if needs.context {
        let path_params = params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        call.query_params = query;
        call.metadata.insert("path_params".into(), Value::Object(path_params));
        if let Some(typed) = typed_query {
            call.metadata.insert("query".into(), typed);
        }
        call.metadata.insert("headers".into(), Value::Object(headers));
        call.metadata.insert("api".into(), json!(api.name));
        call.metadata.insert("attempt".into(), json!(1));
    }
    call.payload = body;
    call.payload_json = raw_body;

    let timeout = shared.timeout(HandlerKind::Api, api.timeout);
    let result = shared.call(call, timeout, span_id).await.and_then(|mut outcome| {
        shared
            .events_to_publish(&live, &api.triggers, &mut outcome, |o| {
                crate::dispatch::raw_json(o.value.json().to_string())
            })
            .map(|events| (events, outcome))
    });
    let trace_id = trace_header.as_ref().and_then(|h| h.to_str().ok()).unwrap_or_default();
    match result {
        Ok((events, outcome)) => {
            // The events are durably accepted before the answer is sent:
            // "succeeded, answered, events lost" cannot happen.
            if !events.is_empty() {
                if let Err(e) = Box::pin(shared.publish(events, trace_id, id, span_id)).await {
                    return ApiError::new(
                        e.status(),
                        format!("the handler succeeded but its events could not be published: {e}"),
                        trace_id,
                    )
                    .with_source(id, shared)
                    .into_response();
                }
            }
            if shared.dev {
                check_response(shared, &live, api_index, &outcome.value.to_value(), trace_id);
            }
            json_response(outcome.value, trace_header)
        }
        Err(e) => handler_error(shared, e, trace_id)
            .with_source(id, shared)
            .into_response(),
    }
}

/// A GET on a ws endpoint: the WebSocket upgrade, or 426 for a plain request.
async fn websocket(
    engine: Engine,
    live: Arc<Live>,
    ws_index: usize,
    request: Request,
    path: String,
    trace_id: String,
) -> Response {
    let query = query_map(request.uri().query());
    let headers = header_map(request.headers());
    let (mut parts, _) = request.into_parts();
    match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => crate::ws::upgrade(engine, live, ws_index, upgrade, headers, query).await,
        Err(rejection) => ApiError::new(
            426,
            format!("{path} is a WebSocket endpoint: connect with a WebSocket client ({rejection})"),
            &trace_id,
        )
        .into_response(),
    }
}

/// A 200 answer with the handler's JSON text as it came from the runtime.
fn json_response(value: ReturnValue, trace_id: Option<HeaderValue>) -> Response {
    let body = Box::<str>::from(value).into_string();
    let mut response = Response::new(axum::body::Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(v) = trace_id {
        headers.insert(TRACE_ID, v);
    }
    response
}

/// In `rohas dev`, a response that does not match the schema is logged.
fn check_response(shared: &Shared, live: &Live, api_index: usize, value: &Value, trace_id: &str) {
    let api = &live.schema.apis[api_index];
    let Some(ty) = &api.response else { return };
    let problems = live.validator.check(ty, value, "response");
    if let Some(p) = problems.first() {
        shared.log.line(
            crate::log::Level::Warn,
            &live.api_ids[api_index],
            Some(trace_id),
            &format!("response does not match the schema: {}: {}", p.path, p.problem),
            &Map::new(),
        );
    }
}

/// A handler failure as an HTTP answer: `HttpError` keeps its status,
/// timeouts are 504, anything else 500 (with the stack in `rohas dev`).
pub(crate) fn handler_error(shared: &Shared, error: HandlerError, trace_id: &str) -> ApiError {
    match error {
        HandlerError::Http {
            status,
            message,
            details,
        } => {
            let mut e = ApiError::new(status, message, trace_id);
            e.details = details;
            e
        }
        HandlerError::Timeout => ApiError::new(504, "handler timed out", trace_id),
        HandlerError::Failed { message, stack } | HandlerError::NonRetryable { message, stack } => {
            let mut e = ApiError::new(500, message, trace_id);
            if shared.dev {
                e.stack = stack;
            }
            e
        }
    }
}

impl ApiError {
    /// Log a handler failure (500s with their stack) before answering.
    fn with_source(self, handler: &str, shared: &Shared) -> Self {
        let level = if self.status.is_server_error() {
            crate::log::Level::Error
        } else {
            crate::log::Level::Info
        };
        let mut message = format!("{} {}", self.status.as_u16(), self.message);
        if let Some(stack) = &self.stack {
            message.push('\n');
            message.push_str(stack);
        }
        shared
            .log
            .line(level, handler, Some(&self.trace_id), &message, &Map::new());
        self
    }
}

/// Run the middlewares of an api or ws in order. Each may pass (return
/// nothing), return a modified context, or reject with `HttpError`.
pub(crate) async fn run_middlewares(
    shared: &Arc<Shared>,
    middlewares: &[NameRef],
    mut context: Value,
    trace_id: &str,
    parent: Option<SpanId>,
) -> Result<Value, ApiError> {
    for m in middlewares {
        let id = HandlerId::middleware(&m.name);
        let mut call = invocation(id.clone(), HandlerKind::Middleware, trace_id);
        call.request = context.clone();
        call.payload = context["payload"].clone();
        call.query_params = context["query_params"].as_object().cloned().unwrap_or_default();
        call.metadata.insert("headers".into(), context["headers"].clone());
        let timeout = shared.timeout(HandlerKind::Middleware, None);
        match shared.call(call, timeout, parent).await {
            // A returned context replaces the keys it has (one definition
            // with the Rust test harness).
            Ok(outcome) => rohas_runtime::shapes::apply_middleware_answer(&mut context, outcome.value.to_value()),
            Err(e) => return Err(handler_error(shared, e, trace_id).with_source(&id, shared)),
        }
    }
    Ok(context)
}
