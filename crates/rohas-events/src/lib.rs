//! How events travel in Rohas: the message envelope, the contract every
//! transport keeps ([`Adapter`]), and the two embedded transports, `memory`
//! (tests and benchmarks) and `local` (the default: a crash-safe queue in
//! one SQLite file under `.rohas/queue/`).
//!
//! This crate knows nothing about handlers, schemas or HTTP: the engine
//! receives [`Delivery`]s, runs the handler, and answers with `ack` (plus
//! the events the handler caused: the outbox), `retry` or `bury`. Keeping
//! the delivery rules (attempts, backoff, validation) in the engine and the
//! storage rules here is what lets a broker adapter (NATS, RabbitMQ, Redis,
//! PostgreSQL …) be added without touching the engine.
//!
//! The contract, which `contract` tests for any adapter:
//! - a message is delivered to every subscription of its event, at least
//!   once, until acknowledged, buried or purged;
//! - its id stays the same across redeliveries and replays;
//! - `ack` with an outbox publishes the outbox and acknowledges together (the
//!   local store does both in one transaction), so a handler's events are
//!   neither lost nor published before it succeeded;
//! - publishing never drops: it waits (bounded) and then fails.

mod adapter;
pub mod contract;
mod dead_letter;
mod delivery;
mod embedded;
mod error;
pub mod json_text;
mod lock;
mod message;
mod payload;
mod queues;
pub mod store;
mod time;

pub use adapter::{Adapter, BoxFuture, SubscriptionStats};
pub use dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Replayed, Selection};
pub use delivery::{Delivery, Failure};
pub use embedded::{EmbeddedAdapter, QueueOptions};
pub use error::AdapterError;
pub use lock::{EngineInfo, QueueLock};
pub use message::{Message, MessageId, Subscription, SubscriptionId};
pub use payload::Payload;
pub use store::sqlite::{LocalOptions, SqliteStore, Sync, FILE_NAME as QUEUE_FILE};
pub use time::Millis;

/// The in-memory adapter: nothing survives the process.
pub type MemoryAdapter = EmbeddedAdapter<store::memory::MemoryStore>;
/// The default adapter: the in-memory queues backed by SQLite.
pub type LocalAdapter = EmbeddedAdapter<SqliteStore>;

impl MemoryAdapter {
    pub fn memory(options: QueueOptions) -> MemoryAdapter {
        EmbeddedAdapter::with_store(store::memory::MemoryStore::default(), "memory", options)
    }
}
