//! One upgraded WebSocket connection, from its first message to
//! `onDisconnect`, which runs however it ends.
//!
//! Two halves: the reader (this task) takes the client's messages one at a
//! time and hands each to `onMessage`; the writer (a task of its own)
//! sends the connection's queued messages, a ping every `[websocket]
//! ping_interval_ms`, and the close frame. The reader ends the connection
//! when:
//!
//! - the client closes it or it breaks;
//! - a message is larger than `max_message_bytes` (close 1009; tungstenite
//!   refuses it from its frame header, before buffering it);
//! - nothing (no message, no pong) came for `idle_timeout_ms` (close 1001);
//!   time spent answering a message does not count, since the client's
//!   frames wait unread meanwhile;
//! - a sender found the queue full (the client stopped reading): no close
//!   frame, as nothing more can be written to it;
//! - a message handler panicked (close 1011);
//! - shutdown begins (the writer sends close 1001 itself).

use super::sockets::Registered;
use crate::engine::Engine;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt, StreamExt};
use rohas_runtime::HandlerKind;
use rohas_telemetry::SpanKind;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite;
use tokio_util::sync::CancellationToken;

/// How long the writer may take to send a last close frame, and the
/// client to answer it.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Everything the connection needs besides its socket.
pub(crate) struct Session {
    pub engine: Engine,
    pub ws_index: usize,
    pub ws: rohas_schema::model::WebSocket,
    pub conn: String,
    pub headers: Map<String, Value>,
    pub registered: Registered,
}

/// How the reader ended the connection.
enum Ending {
    /// Send this close frame.
    Close(CloseFrame),
    /// The client closed or vanished: only flush what is queued in the
    /// socket (tungstenite's reply to a client's close).
    Quiet,
    /// The client stopped reading: write nothing more.
    FellBehind,
    /// Shutdown: the writer sends its own close frame.
    Shutdown,
}

pub(crate) async fn serve(session: Session, socket: WebSocket) {
    let Session {
        engine,
        ws_index,
        ws,
        conn,
        headers,
        registered: Registered { outgoing, fell_behind },
    } = session;
    let shared = &engine.shared;
    let settings = &shared.config.websocket;
    let (sink, mut stream) = socket.split();
    let (close, closing) = oneshot::channel();
    let ping_every = Duration::from_millis(settings.ping_interval_ms.max(1));
    let mut writer = tokio::spawn(write(sink, outgoing, closing, shared.stop.clone(), ping_every));

    let idle = Duration::from_millis(settings.idle_timeout_ms.max(1));
    let mut heard = Instant::now();
    let idle_timer = tokio::time::sleep(idle);
    tokio::pin!(idle_timer);
    let ending = loop {
        let frame = tokio::select! {
            biased;
            _ = shared.stop.cancelled() => break Ending::Shutdown,
            _ = fell_behind.cancelled() => break Ending::FellBehind,
            // Before the idle timer: a frame that is already there, after a
            // pause of this task, is a sign of life.
            frame = stream.next() => frame,
            _ = idle_timer.as_mut() => {
                // The timer is moved only when it fires, not per frame.
                if heard.elapsed() >= idle {
                    break Ending::Close(close_frame(1001, format!("idle for {} ms", idle.as_millis())));
                }
                idle_timer.as_mut().reset((heard + idle).into());
                continue;
            }
        };
        heard = Instant::now();
        let text = match frame {
            None => break Ending::Quiet,
            Some(Err(e)) => break ending_for(&e.into_inner(), settings.max_message_bytes),
            Some(Ok(Message::Close(_))) => break Ending::Quiet,
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
            // Pings are answered by tungstenite; a pong is only a sign of life.
            Some(Ok(_)) => continue,
        };
        let counted = crate::http::InFlight::enter(shared);
        // A panic (a runtime bug) ends this connection, not the engine's
        // bookkeeping: onDisconnect and the registry removal below still run.
        let handled =
            std::panic::AssertUnwindSafe(super::on_message(&engine, ws_index, &ws.name, &conn, &headers, text))
                .catch_unwind()
                .await;
        drop(counted);
        heard = Instant::now();
        if handled.is_err() {
            shared.log.error(&format!(
                "ws {}: a message handler panicked; the connection is closed",
                ws.name
            ));
            break Ending::Close(close_frame(1011, "internal error".into()));
        }
    };
    match &ending {
        Ending::FellBehind => shared.log.warn(&format!(
            "ws {}: a client fell {} messages behind (it is not reading); disconnected \
             ([websocket] max_queued_messages)",
            ws.name, settings.max_queued_messages
        )),
        Ending::Close(frame) if frame.code == 1009 => shared.log.info(&format!(
            "ws {}: a client sent a message over {} bytes; disconnected ([websocket] max_message_bytes)",
            ws.name, settings.max_message_bytes
        )),
        _ => {}
    }
    let fell_behind = matches!(ending, Ending::FellBehind);
    // The close frame goes out while onDisconnect runs.
    let closing_sent = match ending {
        Ending::Close(frame) => close.send(Some(frame)).is_ok(),
        Ending::Quiet => {
            let _ = close.send(None);
            false
        }
        Ending::Shutdown => true,
        Ending::FellBehind => false,
    };
    let _counted = crate::http::InFlight::enter(shared);
    let live = shared.live.load_full();
    let trace_id = crate::log::new_trace_id();
    let span = shared.open_span(
        &trace_id,
        None,
        || std::sync::Arc::from(format!("ws {} disconnect", ws.name)),
        SpanKind::WsDisconnect,
    );
    let span_id = crate::spans::id_of(&span);
    let timeout = shared.timeout(HandlerKind::WsDisconnect, ws.timeout);
    if ws_index < live.schema.websockets.len() {
        for id in super::hook_ids(&live, ws_index, HandlerKind::WsDisconnect) {
            let call = super::ws_call(
                HandlerKind::WsDisconnect,
                id.clone(),
                &ws.name,
                &conn,
                &trace_id,
                &headers,
            );
            if let Err(e) = shared.call(call, timeout, span_id).await {
                shared.log.error(&format!("{id}: {e}"));
            }
        }
    }
    shared.close_span(super::span_with_connection(span, &conn), |_| {});
    shared.host.sockets.remove(&conn);
    if fell_behind {
        // Nothing more can be written to it.
        writer.abort();
        return;
    }
    // Let the close frame go out and the client answer it: the socket then
    // closes cleanly, without a reset that could discard the close frame
    // before the client read it.
    let finish = async {
        let _ = (&mut writer).await;
        if closing_sent {
            while let Some(Ok(_)) = stream.next().await {}
        }
    };
    if tokio::time::timeout(CLOSE_GRACE, finish).await.is_err() {
        writer.abort();
    }
}

/// Send queued messages and pings until the reader says how to end.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut outgoing: mpsc::Receiver<Utf8Bytes>,
    mut closing: oneshot::Receiver<Option<CloseFrame>>,
    stop: CancellationToken,
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Shutdown first: the close frame must go out even when messages
        // are queued.
        tokio::select! {
            biased;
            _ = stop.cancelled() => {
                let _ = sink.send(Message::Close(Some(close_frame(1001, "server shutting down".into())))).await;
                return;
            }
            ending = &mut closing => {
                match ending {
                    Ok(Some(frame)) => {
                        let _ = sink.send(Message::Close(Some(frame))).await;
                    }
                    _ => {
                        let _ = sink.flush().await;
                    }
                }
                return;
            }
            text = outgoing.recv() => match text {
                Some(text) => if sink.send(Message::Text(text)).await.is_err() { return },
                None => return,
            },
            _ = ping.tick() => if sink.send(Message::Ping(Default::default())).await.is_err() { return },
        }
    }
}

/// The close frame for a read error: the limit (1009), a protocol error
/// (1002) or bad UTF-8 (1007); a broken connection gets none.
fn ending_for(error: &axum::BoxError, limit: usize) -> Ending {
    match error.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => {
            Ending::Close(close_frame(1009, format!("message larger than {limit} bytes")))
        }
        Some(tungstenite::Error::Protocol(e)) => Ending::Close(close_frame(1002, truncate(e.to_string()))),
        Some(tungstenite::Error::Utf8(_)) => Ending::Close(close_frame(1007, "text is not valid UTF-8".into())),
        _ => Ending::Quiet,
    }
}

fn close_frame(code: u16, reason: String) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }
}

/// A close reason must fit in a control frame (123 bytes).
fn truncate(mut reason: String) -> String {
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}
