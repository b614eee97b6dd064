//! The contract between the engine and a transport.
//!
//! Shaped for brokers as much as for the embedded queue: `receive` pulls
//! (JetStream fetch, Redis XREADGROUP, `SELECT … SKIP LOCKED`; a push
//! broker such as RabbitMQ buffers behind it), so several engines on one
//! subscription are competing consumers; `retry` is a delayed redelivery
//! that carries the failure history (a broker republishes with it in
//! headers); `cron_lease` lets exactly one engine run a cron tick.

use crate::dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Replayed, Selection};
use crate::delivery::{Delivery, Failure};
use crate::error::AdapterError;
use crate::message::{Message, Subscription, SubscriptionId};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Adapter: Send + Sync + 'static {
    /// `memory`, `local`, `nats` …
    fn kind(&self) -> &'static str;

    /// The subscriptions of the current schema (at start and on reload).
    /// Messages published from now on reach each subscription of their
    /// event. Deliveries waiting for a subscription that is no longer
    /// declared are kept (and counted in `stats`), never dropped.
    fn declare(&self, subscriptions: &[Subscription]) -> BoxFuture<'_, Result<(), AdapterError>>;

    /// Accept messages, all or none. Returns once they are as durable as
    /// the adapter promises; waits while the queue is full, then fails
    /// with [`AdapterError::Full`].
    fn publish(&self, messages: Vec<Message>) -> BoxFuture<'_, Result<(), AdapterError>>;

    /// Up to `max` deliveries of `subscription` that are due, waiting for
    /// at least one. Empty once the adapter is closed. Dropping the future
    /// before it completes takes nothing: the engine does so to stop, and
    /// to ask whether a delivery is ready without waiting for one.
    fn receive<'a>(&'a self, subscription: &'a SubscriptionId, max: usize) -> BoxFuture<'a, Vec<Delivery>>;

    /// One delivery of `subscription` that is due now, without waiting
    /// (`None` when none is, or once closed). The engine asks after each
    /// delivery it settles, to go on to the next in the same task. The
    /// default polls [`Adapter::receive`] once; an adapter that can look
    /// without a future (the embedded queues) says so directly.
    fn try_receive(&self, subscription: &SubscriptionId) -> Option<Delivery> {
        let mut receive = self.receive(subscription, 1);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match receive.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(mut taken) => taken.pop(),
            std::task::Poll::Pending => None,
        }
    }

    /// The handler succeeded: publish its `outbox` and acknowledge the
    /// delivery together. On error the delivery is redelivered later.
    fn ack(&self, delivery: Delivery, outbox: Vec<Message>) -> BoxFuture<'_, Result<(), AdapterError>>;

    /// The attempt failed: deliver again, as attempt + 1, no earlier than
    /// `not_before`, with `failure` added to its history.
    fn retry(
        &self,
        delivery: Delivery,
        failure: Failure,
        not_before: Millis,
    ) -> BoxFuture<'_, Result<(), AdapterError>>;

    /// No more attempts: keep the message as a dead letter.
    fn bury(&self, delivery: Delivery, failure: Failure) -> BoxFuture<'_, Result<DeadLetterId, AdapterError>>;

    fn dead_letters(&self, query: DeadLetterQuery) -> BoxFuture<'_, Result<Page<DeadLetter>, AdapterError>>;

    fn dead_letter(&self, id: DeadLetterId) -> BoxFuture<'_, Result<Option<DeadLetter>, AdapterError>>;

    /// Put dead letters back in their handler's queue as new first
    /// attempts (same message id; the earlier failures stay in the history).
    fn replay(&self, selection: Selection) -> BoxFuture<'_, Result<Replayed, AdapterError>>;

    /// Delete dead letters for good; returns how many.
    fn purge(&self, selection: Selection) -> BoxFuture<'_, Result<usize, AdapterError>>;

    /// Per subscription: waiting, delayed, in flight, dead.
    fn stats(&self) -> BoxFuture<'_, Result<Vec<SubscriptionStats>, AdapterError>>;

    /// Deliveries this process has due or running (graceful shutdown waits
    /// for zero; delayed ones are not counted).
    fn outstanding(&self) -> usize;

    /// Stop handing out deliveries (`receive` returns empty) and flush.
    /// Deliveries not acknowledged by then are delivered again next time.
    fn close(&self) -> BoxFuture<'_, ()>;

    /// Whether this engine runs cron job `job`'s tick at `tick`. An
    /// embedded queue has one engine, so always; a broker grants it to one
    /// engine of the cluster.
    fn cron_lease(&self, job: &str, tick: Millis) -> BoxFuture<'_, Result<bool, AdapterError>> {
        let _ = (job, tick);
        Box::pin(std::future::ready(Ok(true)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionStats {
    pub handler: SubscriptionId,
    pub event: String,
    /// Due now, waiting for a free handler slot.
    pub ready: usize,
    /// Retries and delayed events not due yet.
    pub delayed: usize,
    pub in_flight: usize,
    pub dead: usize,
    /// `false` for a handler the current schema no longer has: its
    /// messages are kept until it comes back or they are purged.
    pub declared: bool,
}
