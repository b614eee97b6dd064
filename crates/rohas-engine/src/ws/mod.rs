//! WebSocket endpoints (docs/websockets.md): middlewares and `onConnect` run before the
//! upgrade (so a rejection is a plain HTTP error), messages are checked
//! against `message`, `onMessage`'s return value is sent back (or to every
//! client with `broadcast: true`), and `onDisconnect` runs on every close.
//!
//! [`Sockets`] (`sockets.rs`) is the registry of open connections, which
//! handlers reach through the host (`connection.send`, `state.broadcast`);
//! `connection.rs` runs one upgraded connection, with the limits of
//! `[websocket]` (message size, idle timeout and pings, queued messages).

mod connection;
mod sockets;

pub use sockets::Sockets;

use crate::dispatch::invocation;
use crate::engine::{Engine, Live};
use crate::error::ApiError;
use crate::spans::Open;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use rohas_runtime::{HandlerError, HandlerId, HandlerKind, Invocation};
use rohas_telemetry::SpanKind;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A ws span, tagged with its connection (a connection's spans are
/// separate traces; the id links them).
fn span_with_connection(mut span: Option<Open>, conn: &str) -> Option<Open> {
    if let Some(open) = &mut span {
        open.span_mut().attributes.insert("connection_id".into(), json!(conn));
    }
    span
}

/// The base invocation of a ws handler: connection id, endpoint, context.
pub(crate) fn ws_call(
    kind: HandlerKind,
    id: HandlerId,
    ws: &str,
    conn: &str,
    trace_id: &str,
    headers: &Map<String, Value>,
) -> Invocation {
    let mut call = invocation(id, kind, trace_id);
    call.connection_id = Some(conn.to_string());
    call.endpoint = Some(ws.to_string());
    call.metadata.insert("connection_id".into(), json!(conn));
    call.metadata.insert("ws".into(), json!(ws));
    call.metadata.insert("headers".into(), Value::Object(headers.clone()));
    call
}

/// The handler id for one ws hook: the schema's named handlers
/// (`ws_message:Chat:on_message`) or the single module's function.
pub(crate) fn hook_ids(live: &Live, ws_index: usize, kind: HandlerKind) -> Vec<HandlerId> {
    let ws = &live.schema.websockets[ws_index];
    let names = match kind {
        HandlerKind::WsConnect => &ws.on_connect,
        HandlerKind::WsMessage => &ws.on_message,
        _ => &ws.on_disconnect,
    };
    let ids: Vec<HandlerId> = if ws.uses_single_module() {
        vec![HandlerId::ws(kind, &ws.name, None)]
    } else {
        names
            .iter()
            .map(|n| HandlerId::ws(kind, &ws.name, Some(&n.name)))
            .collect()
    };
    ids.into_iter().filter(|id| live.has_handler(id)).collect()
}

pub(crate) async fn upgrade(
    engine: Engine,
    live: Arc<Live>,
    ws_index: usize,
    upgrade: WebSocketUpgrade,
    headers: Map<String, Value>,
    query: Map<String, Value>,
) -> Response {
    let shared = engine.shared.clone();
    let ws = live.schema.websockets[ws_index].clone();
    let conn = crate::log::new_trace_id();
    let trace_id = crate::log::new_trace_id();

    // Middlewares, then onConnect: either may reject before the upgrade.
    let span = shared.open_span(
        &trace_id,
        None,
        || Arc::from(format!("ws {} connect", ws.name)),
        SpanKind::WsConnect,
    );
    let span = crate::spans::Guard::new(&shared, span_with_connection(span, &conn));
    let span_id = span.id();
    let refused = |e: ApiError| {
        span.fail(format!("{} {}", e.status.as_u16(), e.message));
        e.into_response()
    };
    let context = json!({ "payload": Value::Null, "query_params": query, "headers": headers, "ws": ws.name, "trace_id": trace_id });
    if let Err(e) = crate::http::run_middlewares(&shared, &ws.middlewares, context, &trace_id, span_id).await {
        return refused(e);
    }
    let settings = &shared.config.websocket;
    let registered = shared.host.sockets.add(&conn, &ws.name, settings.max_queued_messages);
    let timeout = shared.timeout(HandlerKind::WsConnect, ws.timeout);
    for id in hook_ids(&live, ws_index, HandlerKind::WsConnect) {
        let mut call = ws_call(HandlerKind::WsConnect, id, &ws.name, &conn, &trace_id, &headers);
        call.query_params = query.clone();
        if let Err(e) = shared.call(call, timeout, span_id).await {
            shared.host.sockets.remove(&conn);
            return refused(crate::http::handler_error(&shared, e, &trace_id));
        }
    }
    drop(span);

    // A message over the limit is refused from its frame header, before
    // it is buffered (`connection.rs` closes with 1009).
    let limit = settings.max_message_bytes;
    let session = connection::Session {
        engine,
        ws_index,
        ws,
        conn,
        headers,
        registered,
    };
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket: WebSocket| connection::serve(session, socket))
}

async fn on_message(
    engine: &Engine,
    ws_index: usize,
    ws_name: &str,
    conn: &str,
    headers: &Map<String, Value>,
    text: String,
) {
    let shared = &engine.shared;
    let live = shared.live.load_full();
    let Some(ws) = live
        .schema
        .websockets
        .get(ws_index)
        .filter(|w| w.name == ws_name)
        .cloned()
    else {
        return;
    };
    let trace_id = crate::log::new_trace_id();
    let mut span = shared.open_span(
        &trace_id,
        None,
        || Arc::from(format!("ws {} message", ws.name)),
        SpanKind::WsMessage,
    );
    if let Some(open) = &mut span {
        open.span_mut().attributes.insert("connection_id".into(), json!(conn));
    }
    let span = crate::spans::Guard::new(shared, span);
    let span_id = span.id();
    let reply_error = |e: ApiError| {
        span.fail(format!("{} {}", e.status.as_u16(), e.message));
        shared.host.sockets.send(conn, &e.body());
    };

    // Text that is not JSON is a plain string message; JSON nested past
    // the parser's limit is refused instead: handing 100,000 `[` on as a
    // string would hide from the client why its message was not taken.
    let message: Value = match serde_json::from_str(&text) {
        Ok(message) => message,
        Err(e) if crate::nesting::too_deep(&e) => {
            let problem = crate::nesting::describe(&e);
            reply_error(ApiError::new(
                400,
                format!("message is not valid JSON: {problem}"),
                &trace_id,
            ));
            return;
        }
        Err(_) => Value::String(text),
    };
    if let Some(ty) = &ws.message {
        let problems = live.validator.check(ty, &message, "message");
        if !problems.is_empty() {
            reply_error(ApiError::invalid(
                422,
                "message does not match the schema",
                problems,
                &trace_id,
            ));
            return;
        }
    }
    let timeout = shared.timeout(HandlerKind::WsMessage, ws.timeout);
    for id in hook_ids(&live, ws_index, HandlerKind::WsMessage) {
        let mut call = ws_call(HandlerKind::WsMessage, id.clone(), &ws.name, conn, &trace_id, headers);
        call.request = message.clone();
        call.payload = message.clone();
        let result = shared.call(call, timeout, span_id).await.and_then(|mut outcome| {
            shared
                .events_to_publish(&live, &ws.triggers, &mut outcome, |_| {
                    crate::dispatch::raw_value(&message)
                })
                .map(|events| (events, outcome))
        });
        match result {
            Ok((events, outcome)) => {
                if let Err(e) = shared.publish(events, &trace_id, &id, span_id).await {
                    reply_error(ApiError::new(e.status(), e.to_string(), &trace_id));
                    continue;
                }
                if !outcome.value.is_null() {
                    let text = outcome.value.json().to_string();
                    if ws.broadcast {
                        shared.host.sockets.broadcast_text(&ws.name, text);
                    } else {
                        shared.host.sockets.send_text(conn, text);
                    }
                }
            }
            Err(e) => {
                let status = match &e {
                    HandlerError::Http { status, .. } => *status,
                    HandlerError::Timeout => 504,
                    HandlerError::Failed { .. } | HandlerError::NonRetryable { .. } => 500,
                };
                shared.log.line(
                    crate::log::Level::Error,
                    &id,
                    Some(&trace_id),
                    &format!("failed: {e}"),
                    &Default::default(),
                );
                reply_error(ApiError::new(status, e.to_string(), &trace_id));
            }
        }
    }
}
