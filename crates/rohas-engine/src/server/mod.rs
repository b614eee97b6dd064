//! The HTTP listener: accepts connections up to `[server]
//! max_connections`, and up to `max_connections_per_client` from one
//! client (`per_client.rs`), serves each on its own task
//! (`connection.rs`), and on shutdown stops accepting and waits for the
//! connections to finish.
//!
//! Every connection holds one slot of a semaphore until its socket is
//! dropped (a WebSocket keeps its slot). That one count is both the cap
//! (no slot: the client gets a 503 and the socket is closed at once, and
//! the connections already open are served as before) and the end of
//! shutdown (all slots back: every connection is gone), so there is no
//! connection list to keep. A connection also holds its place in its
//! client's count (when there is a per-client limit) for as long, and a
//! client over its limit is refused the same way.
//!
//! Without the cap and the deadlines of `clock.rs`, one client could open
//! connections that send half a request, or nothing, until the process
//! ran out of file descriptors and nobody else got in.

mod clock;
mod connection;
mod linger;
mod per_client;

use crate::engine::Engine;
use crate::http::App;
use connection::Serving;
use per_client::{Client, ClientSlot, PerClient, RefusalWarnings};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// The answer to a client over its own limit: the same, with what to do.
const REFUSAL_PER_CLIENT: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
connection: close\r\n\
retry-after: 1\r\n\
content-length: 99\r\n\
\r\n\
{\"error\":{\"message\":\"this client has too many open connections; close some of them and try again\"}}";

/// A warning repeated at most this often (an attack would otherwise fill
/// the log with it).
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The open connections: their slots, each client's count, and the
/// signal that makes them all close at once when the drain deadline
/// passes.
pub(crate) struct Connections {
    slots: Arc<Semaphore>,
    capacity: u32,
    /// `None`: no per-client limit.
    per_client: Option<Arc<PerClient>>,
    abort: CancellationToken,
}

/// What one connection holds until its socket is dropped: its place under
/// `max_connections`, and in its client's count.
pub(crate) struct Slot {
    _connection: OwnedSemaphorePermit,
    _client: Option<ClientSlot>,
}

impl Connections {
    pub(crate) fn new(config: &rohas_config::ServerConfig) -> Connections {
        let capacity = u32::try_from(config.max_connections.max(1)).unwrap_or(u32::MAX);
        Connections {
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            per_client: config.connections_per_client().map(PerClient::new),
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
    let mut warnings_per_client = RefusalWarnings::new();
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
        // The client's count first, so a client over its limit is told so
        // (and not that the server is full) and takes no global slot.
        let client = match &connections.per_client {
            None => None,
            Some(table) => {
                let client = Client::of(peer.ip());
                let Some(slot) = table.take(client) else {
                    if let Some(line) = warnings_per_client.refused(client, table.limit()) {
                        log.warn(&line);
                    }
                    refuse(stream, REFUSAL_PER_CLIENT);
                    continue;
                };
                Some(slot)
            }
        };
        let Ok(connection) = Arc::clone(&connections.slots).try_acquire_owned() else {
            if due(warned_full) {
                log.warn(&format!(
                    "{} connections are open ([server] max_connections): new ones are refused with 503 until some close",
                    connections.capacity
                ));
                warned_full = Some(Instant::now());
            }
            refuse(stream, REFUSAL);
            continue;
        };
        let slot = Slot {
            _connection: connection,
            _client: client,
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

/// Answer `refusal` (a 503) without waiting and close.
fn refuse(stream: TcpStream, refusal: &[u8]) {
    let _ = stream.try_write(refusal);
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
    fn the_refusals_state_their_body_length() {
        for refusal in [super::REFUSAL, super::REFUSAL_PER_CLIENT] {
            let text = std::str::from_utf8(refusal).expect("ASCII");
            let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
            let length = format!("content-length: {}", body.len());
            assert!(head.split("\r\n").any(|line| line == length), "{text}");
            serde_json::from_str::<serde_json::Value>(body).expect("the body is JSON");
        }
    }
}
