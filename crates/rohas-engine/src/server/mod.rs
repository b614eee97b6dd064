//! The HTTP listener: accepts connections up to `[server]
//! max_connections`, serves each on its own task (`connection.rs`), and on
//! shutdown stops accepting and waits for the connections to finish.
//!
//! Every connection holds one slot of a semaphore until its socket is
//! dropped (a WebSocket keeps its slot). That one count is both the cap
//! (no slot: the client gets a 503 and the socket is closed at once, and
//! the connections already open are served as before) and the end of
//! shutdown (all slots back: every connection is gone), so there is no
//! connection list to keep.
//!
//! Without the cap and the deadlines of `clock.rs`, one client could open
//! connections that send half a request, or nothing, until the process
//! ran out of file descriptors and nobody else got in.

mod clock;
mod connection;

use crate::engine::Engine;
use crate::http::App;
use connection::Serving;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The connection deadlines of `[server]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) header_read: Duration,
    pub(crate) idle: Duration,
}

impl Limits {
    fn of(config: &rohas_config::ServerConfig) -> Limits {
        Limits {
            header_read: Duration::from_millis(config.header_read_timeout_ms.max(1)),
            idle: Duration::from_millis(config.idle_timeout_ms.max(1)),
        }
    }
}

/// The answer to a connection over the cap: written without waiting (a
/// fresh socket's send buffer takes it whole), then the socket is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
connection: close\r\n\
retry-after: 1\r\n\
content-length: 75\r\n\
\r\n\
{\"error\":{\"message\":\"the server has too many open connections; try again\"}}";

/// A warning repeated at most this often (an attack would otherwise fill
/// the log with it).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The open connections: their slots, and the signal that makes them all
/// close at once when the drain deadline passes.
pub(crate) struct Connections {
    slots: Arc<Semaphore>,
    capacity: u32,
    abort: CancellationToken,
}

impl Connections {
    pub(crate) fn new(max: usize) -> Connections {
        let capacity = u32::try_from(max.max(1)).unwrap_or(u32::MAX);
        Connections {
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            abort: CancellationToken::new(),
        }
    }

    /// Wait until every connection is closed, or `until`; then close the
    /// ones left (their requests in flight are dropped).
    pub(crate) async fn closed(&self, until: tokio::time::Instant) {
        let all = self.slots.acquire_many(self.capacity);
        if tokio::time::timeout_at(until, all).await.is_err() {
            self.abort.cancel();
        }
    }
}

/// Accept connections on `listener` until `stop` is cancelled; the
/// listener is closed when this returns, so new clients are refused by the
/// system from then on.
pub(crate) async fn accept(
    engine: &Engine,
    listener: TcpListener,
    connections: &Connections,
    stop: &CancellationToken,
) {
    let log = engine.log();
    let limits = Limits::of(&engine.shared.config.server);
    let mut warned_full: Option<Instant> = None;
    let mut warned_error: Option<Instant> = None;
    let due = |last: Option<Instant>| last.is_none_or(|at| at.elapsed() >= WARN_EVERY);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before the accept: nothing to do.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Most likely out of file descriptors: wait for some to be
                // closed rather than spin.
                if due(warned_error) {
                    log.warn(&format!(
                        "cannot accept connections: {e}; retrying. If the open file limit \
                         (`ulimit -n`) is below [server] max_connections, raise it or lower max_connections"
                    ));
                    warned_error = Some(Instant::now());
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                }
            }
        };
        let Ok(slot) = Arc::clone(&connections.slots).try_acquire_owned() else {
            if due(warned_full) {
                log.warn(&format!(
                    "{} connections are open ([server] max_connections): new ones are refused with 503 until some close",
                    connections.capacity
                ));
                warned_full = Some(Instant::now());
            }
            refuse(stream);
            continue;
        };
        let serving = Serving {
            app: App::new(engine.clone(), peer.ip().is_loopback()),
            limits,
            stop: stop.clone(),
            abort: connections.abort.clone(),
        };
        tokio::spawn(connection::serve(serving, stream, slot));
    }
}

/// Answer 503 without waiting and close.
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(REFUSAL);
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_states_its_body_length() {
        let text = std::str::from_utf8(super::REFUSAL).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let length = format!("content-length: {}", body.len());
        assert!(head.split("\r\n").any(|line| line == length), "{text}");
        serde_json::from_str::<serde_json::Value>(body).expect("the body is JSON");
    }
}
