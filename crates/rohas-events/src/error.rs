//! What can go wrong in transport, each with the HTTP status an API caller
//! gets when it happens while publishing a handler's events.

use std::path::PathBuf;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AdapterError {
    /// Back-pressure that did not ease within the publish timeout.
    #[error("the event queue is full: {0}; publishing waited and gave up (raise [adapter] buffer_size, or add handler concurrency)")]
    Full(String),
    /// The disk under the store is full: nothing new is accepted, nothing
    /// accepted is lost.
    #[error("the event queue's disk is full ({path}): free space; nothing already accepted is lost", path = .0.display())]
    DiskFull(PathBuf),
    /// The adapter is shutting down and takes no new work.
    #[error("the event queue is shutting down")]
    Closed,
    /// The store file cannot be read as a queue.
    #[error("the event queue file {path} is damaged ({reason}). Stop rohas, move the file aside (mv {path} {path}.damaged, with its -wal and -shm files) and start again: a new queue is created and the damaged file is kept for inspection with the sqlite3 tool", path = .path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// Another engine holds the queue.
    #[error("{0}")]
    Locked(String),
    /// A store numbers each handler id it ever sees for its receipts, and
    /// has no number left.
    #[error("the event queue has numbered {count} handler ids, the most one queue can: {remedy}", count = crate::store::receipt::MAX_SUBSCRIPTIONS)]
    TooManyHandlers { remedy: &'static str },
    /// Any other storage failure.
    #[error("event queue {path}: {reason}", path = .path.display())]
    Store { path: PathBuf, reason: String },
}

impl AdapterError {
    /// 503 for conditions that pass (full, shutting down), 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            AdapterError::Full(_) | AdapterError::DiskFull(_) | AdapterError::Closed => 503,
            _ => 500,
        }
    }
}
