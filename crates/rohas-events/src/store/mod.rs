//! Where an embedded adapter keeps what must outlive a delivery: nothing
//! (`memory`: dead letters in a map) or SQLite (`local`). The queues in
//! memory are rebuilt from [`Store::pending`] when the store is opened.

pub mod memory;
pub mod receipt;
pub mod sqlite;

use crate::adapter::BoxFuture;
use crate::dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Selection};
use crate::delivery::Failure;
use crate::error::AdapterError;
use crate::message::{Message, SubscriptionId};
use crate::time::Millis;
use std::collections::HashMap;
use std::sync::Arc;

/// A message with the store's sequence number for it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub seq: u64,
    pub message: Arc<Message>,
}

/// A first delivery to create. Its receipt names its message and its
/// subscription ([`receipt`]); it is due when its message is.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub receipt: u64,
}

/// A delivery still to be made, read back from the store.
#[derive(Debug, Clone)]
pub struct Pending {
    pub receipt: u64,
    pub message: Arc<Message>,
    pub subscription: SubscriptionId,
    /// The number of the next attempt (1 after a replay).
    pub attempt: u32,
    pub failures: Vec<Failure>,
    pub due: Option<Millis>,
}

/// A batch of new messages and their deliveries.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub messages: Vec<Stored>,
    pub deliveries: Vec<NewDelivery>,
}

/// Dead letters turned back into pending deliveries, and the ids asked for
/// that were not dead letters.
pub type Revived = (Vec<Pending>, Vec<DeadLetterId>);

pub trait Store: Send + Sync + 'static {
    /// The first free message seq.
    fn next_seq(&self) -> u64;
    /// Each subscription's number, for its receipts ([`receipt`]): given
    /// on first sight and the same for the store's whole life.
    fn numbers(&self, subscriptions: Vec<SubscriptionId>) -> BoxFuture<'_, Result<Vec<u16>, AdapterError>>;
    /// Every delivery not yet acknowledged or buried, oldest first.
    fn pending(&self) -> Vec<Pending>;
    fn insert(&self, batch: Batch) -> BoxFuture<'_, Result<(), AdapterError>>;
    fn ack(&self, receipt: u64, outbox: Batch) -> BoxFuture<'_, Result<(), AdapterError>>;
    fn retry(
        &self,
        receipt: u64,
        attempt: u32,
        failures: Vec<Failure>,
        due: Millis,
    ) -> BoxFuture<'_, Result<(), AdapterError>>;
    fn bury(&self, dead: DeadLetter, receipt: u64) -> BoxFuture<'_, Result<DeadLetterId, AdapterError>>;
    fn dead_letters(&self, query: DeadLetterQuery) -> BoxFuture<'_, Result<Page<DeadLetter>, AdapterError>>;
    fn dead_letter(&self, id: DeadLetterId) -> BoxFuture<'_, Result<Option<DeadLetter>, AdapterError>>;
    /// Turn the selected dead letters back into pending deliveries; the
    /// ids asked for that are not dead letters come back second.
    fn revive(&self, selection: Selection) -> BoxFuture<'_, Result<Revived, AdapterError>>;
    fn purge(&self, selection: Selection) -> BoxFuture<'_, Result<usize, AdapterError>>;
    fn dead_counts(&self) -> BoxFuture<'_, Result<HashMap<SubscriptionId, usize>, AdapterError>>;
    fn close(&self) -> BoxFuture<'_, ()>;
}
