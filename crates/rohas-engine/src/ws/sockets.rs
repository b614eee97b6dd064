//! The registry of open WebSocket connections, which handlers reach
//! through the host (`connection.send`, `state.broadcast`).
//!
//! Each connection's outgoing queue is bounded (`[websocket]
//! max_queued_messages`) and never waited on: a send or broadcast that
//! finds a client's queue full marks that client as fallen behind (it
//! stopped reading) and its connection is closed, `onDisconnect` included.
//! So a slow client costs at most its queue in memory, and no broadcast,
//! handler or other endpoint ever waits for it. A message is one shared
//! buffer however many clients it goes to.

use axum::extract::ws::Utf8Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

/// Open connections by id.
#[derive(Default)]
pub struct Sockets {
    conns: Mutex<HashMap<String, Peer>>,
}

/// One client as senders see it.
struct Peer {
    endpoint: String,
    queue: mpsc::Sender<Utf8Bytes>,
    /// Cancelled when its queue was found full.
    fell_behind: CancellationToken,
}

/// What the connection itself keeps of its registration.
pub(crate) struct Registered {
    /// The messages to write to the client, in order.
    pub outgoing: mpsc::Receiver<Utf8Bytes>,
    /// Cancelled when a sender found the queue full.
    pub fell_behind: CancellationToken,
}

impl Sockets {
    /// Register connection `id` of `endpoint` with room for `capacity`
    /// queued messages.
    pub(crate) fn add(&self, id: &str, endpoint: &str, capacity: usize) -> Registered {
        let (queue, outgoing) = mpsc::channel(capacity.max(1));
        let fell_behind = CancellationToken::new();
        let peer = Peer {
            endpoint: endpoint.to_string(),
            queue,
            fell_behind: fell_behind.clone(),
        };
        self.lock().insert(id.to_string(), peer);
        Registered { outgoing, fell_behind }
    }

    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Peer>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn send(&self, id: &str, message: &Value) {
        self.send_text(id, message.to_string());
    }

    /// Send JSON text as it is (a handler's reply keeps its key order).
    pub fn send_text(&self, id: &str, text: String) {
        if let Some(peer) = self.lock().get(id) {
            peer.offer(Utf8Bytes::from(text));
        }
    }

    pub fn broadcast(&self, endpoint: &str, message: &Value) {
        self.broadcast_text(endpoint, message.to_string());
    }

    /// Send JSON text as it is to every client of `endpoint`.
    pub fn broadcast_text(&self, endpoint: &str, text: String) {
        let text = Utf8Bytes::from(text);
        for peer in self.lock().values() {
            if peer.endpoint == endpoint {
                peer.offer(text.clone());
            }
        }
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }
}

impl Peer {
    /// Queue `text` without waiting; a full queue disconnects the client.
    fn offer(&self, text: Utf8Bytes) {
        if let Err(TrySendError::Full(_)) = self.queue.try_send(text) {
            self.fell_behind.cancel();
        }
    }
}
