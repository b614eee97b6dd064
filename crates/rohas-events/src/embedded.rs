//! The embedded adapters: in-memory queues ([`crate::queues`]) in front of
//! a [`Store`]. Every change is written to the store first and made in
//! memory only once the store accepted it, so after a crash the store
//! holds everything the queues did.

use crate::adapter::{Adapter, BoxFuture, SubscriptionStats};
use crate::dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Replayed, Selection};
use crate::delivery::{Delivery, Failure};
use crate::error::AdapterError;
use crate::message::{Message, Subscription, SubscriptionId};
use crate::queues::{Entry, SubQueue};
use crate::store::{receipt, Batch, NewDelivery, Pending, Store, Stored};
use crate::time::Millis;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Deliveries one subscription may hold (waiting, delayed, running)
    /// before publishing to it waits.
    pub capacity: usize,
    /// How long publishing waits for room before it fails.
    pub publish_timeout: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            capacity: 100_000,
            publish_timeout: Duration::from_secs(5),
        }
    }
}

/// A settled delivery whose store write failed goes back in after this.
const REQUEUE_AFTER: Duration = Duration::from_secs(1);

/// A delivery ready to go into a queue, once the store has it.
type Placed = (Arc<SubQueue>, Entry, Option<Millis>);

/// Looked up on every publish, delivery and ack: Fx rather than SipHash
/// (the hashing was a tenth of taking a delivery). The keys are the
/// schema's own handler and event names, not a client's text.
#[derive(Default)]
struct Routing {
    /// Every subscription with deliveries or declared, by id.
    all: FxHashMap<SubscriptionId, Arc<SubQueue>>,
    /// The declared ones, by event, with their numbers in the store (the
    /// low bits of their receipts): where a new message goes.
    by_event: FxHashMap<String, Vec<(u16, Arc<SubQueue>)>>,
}

pub struct EmbeddedAdapter<S: Store> {
    store: S,
    kind: &'static str,
    options: QueueOptions,
    routing: RwLock<Routing>,
    closed: AtomicBool,
    next_message: AtomicU64,
}

impl<S: Store> EmbeddedAdapter<S> {
    pub(crate) fn with_store(store: S, kind: &'static str, options: QueueOptions) -> Self {
        let adapter = EmbeddedAdapter {
            kind,
            options,
            routing: RwLock::new(Routing::default()),
            closed: AtomicBool::new(false),
            next_message: AtomicU64::new(store.next_seq()),
            store,
        };
        adapter.restore(adapter.store.pending());
        adapter
    }

    fn queue(&self, id: &SubscriptionId, event: &str) -> Arc<SubQueue> {
        if let Some(q) = rohas_read(&self.routing).all.get(id) {
            return q.clone();
        }
        let mut routing = rohas_write(&self.routing);
        routing
            .all
            .entry(id.clone())
            .or_insert_with(|| SubQueue::new(id.clone(), event.to_string()))
            .clone()
    }

    fn find(&self, id: &SubscriptionId) -> Option<Arc<SubQueue>> {
        rohas_read(&self.routing).all.get(id).cloned()
    }

    /// Put pending deliveries (read back from the store) in their queues.
    fn restore(&self, pending: Vec<Pending>) {
        let mut by_queue: HashMap<SubscriptionId, Vec<(Entry, Option<Millis>)>> = HashMap::new();
        let mut events = HashMap::new();
        for p in pending {
            events.insert(p.subscription.clone(), p.message.event.clone());
            by_queue.entry(p.subscription).or_default().push((
                Entry {
                    receipt: p.receipt,
                    message: p.message,
                    attempt: p.attempt.max(1),
                    failures: p.failures,
                },
                p.due,
            ));
        }
        for (id, entries) in by_queue {
            self.queue(&id, &events[&id]).push(entries);
        }
    }

    /// Number the messages and make one delivery per declared subscription.
    fn route(&self, messages: Vec<Message>) -> (Batch, Vec<Placed>) {
        if messages.is_empty() {
            // Most acks have no outbox: no routing lock for them.
            return (Batch::default(), Vec::new());
        }
        let routing = rohas_read(&self.routing);
        // Sized for one subscription a message (the usual case) at once: a
        // publish of thousands grew these step by step, each step a copy.
        let mut batch = Batch {
            messages: Vec::with_capacity(messages.len()),
            deliveries: Vec::with_capacity(messages.len()),
        };
        let mut placed = Vec::with_capacity(messages.len());
        for message in messages {
            let message = Arc::new(message);
            let seq = self.next_message.fetch_add(1, Ordering::Relaxed);
            for (number, queue) in routing.by_event.get(&message.event).into_iter().flatten() {
                let receipt = receipt::receipt(seq, *number);
                batch.deliveries.push(NewDelivery { receipt });
                placed.push((
                    queue.clone(),
                    Entry::first(receipt, message.clone()),
                    message.deliver_at,
                ));
            }
            batch.messages.push(Stored { seq, message });
        }
        (batch, placed)
    }

    fn place(placed: Vec<Placed>) {
        for (queue, entry, due) in placed {
            queue.push([(entry, due)]);
        }
    }

    async fn wait_for_room(&self, placed: &[Placed]) -> Result<(), AdapterError> {
        let deadline = tokio::time::Instant::now() + self.options.publish_timeout;
        let mut seen: Vec<&SubscriptionId> = Vec::new();
        for (queue, ..) in placed {
            if seen.contains(&&queue.id) {
                continue;
            }
            seen.push(&queue.id);
            if !queue.wait_for_space(self.options.capacity, deadline).await {
                return Err(AdapterError::Full(format!(
                    "handler {} has {} deliveries waiting (capacity {})",
                    queue.id,
                    queue.len(),
                    self.options.capacity
                )));
            }
        }
        Ok(())
    }
}

fn rohas_read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn rohas_write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl<S: Store> Adapter for EmbeddedAdapter<S> {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn declare(&self, subscriptions: &[Subscription]) -> BoxFuture<'_, Result<(), AdapterError>> {
        let subscriptions = subscriptions.to_vec();
        Box::pin(async move {
            let ids = subscriptions.iter().map(|s| s.id.clone()).collect();
            let numbers: HashMap<SubscriptionId, u16> = subscriptions
                .iter()
                .map(|s| s.id.clone())
                .zip(self.store.numbers(ids).await?)
                .collect();
            for s in &subscriptions {
                self.queue(&s.id, &s.event);
            }
            let mut routing = rohas_write(&self.routing);
            routing.by_event.clear();
            let mut by_event: FxHashMap<String, Vec<(u16, Arc<SubQueue>)>> = FxHashMap::default();
            for queue in routing.all.values() {
                let number = numbers.get(&queue.id);
                queue.set_declared(number.is_some());
                if let Some(number) = number {
                    by_event
                        .entry(queue.event.clone())
                        .or_default()
                        .push((*number, queue.clone()));
                }
            }
            for list in by_event.values_mut() {
                list.sort_by(|a, b| a.1.id.cmp(&b.1.id));
            }
            routing.by_event = by_event;
            Ok(())
        })
    }

    fn publish(&self, messages: Vec<Message>) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(async move {
            if self.closed.load(Ordering::SeqCst) {
                return Err(AdapterError::Closed);
            }
            let (batch, placed) = self.route(messages);
            self.wait_for_room(&placed).await?;
            self.store.insert(batch).await?;
            Self::place(placed);
            Ok(())
        })
    }

    fn receive<'a>(&'a self, subscription: &'a SubscriptionId, max: usize) -> BoxFuture<'a, Vec<Delivery>> {
        Box::pin(async move {
            let Some(queue) = self.find(subscription) else {
                return Vec::new();
            };
            if self.closed.load(Ordering::SeqCst) {
                return Vec::new();
            }
            queue
                .take(max.max(1))
                .await
                .into_iter()
                .map(|e| Delivery {
                    message: e.message,
                    subscription: subscription.clone(),
                    attempt: e.attempt,
                    failures: e.failures,
                    receipt: e.receipt,
                })
                .collect()
        })
    }

    /// Straight from the queue: no future boxed, no vectors made.
    fn try_receive(&self, subscription: &SubscriptionId) -> Option<Delivery> {
        let queue = self.find(subscription)?;
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        let e = queue.take_ready()?;
        Some(Delivery {
            message: e.message,
            subscription: subscription.clone(),
            attempt: e.attempt,
            failures: e.failures,
            receipt: e.receipt,
        })
    }

    fn ack(&self, delivery: Delivery, outbox: Vec<Message>) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(async move {
            let queue = self.queue(&delivery.subscription, &delivery.message.event);
            // No waiting for room here: a handler that publishes to its own
            // event would wait for itself.
            let (batch, placed) = self.route(outbox);
            match self.store.ack(delivery.receipt, batch).await {
                Ok(()) => {
                    queue.finish();
                    Self::place(placed);
                    Ok(())
                }
                Err(e) => {
                    queue.requeue(Entry::from_delivery(delivery), Millis::now().after(REQUEUE_AFTER));
                    Err(e)
                }
            }
        })
    }

    fn retry(
        &self,
        delivery: Delivery,
        failure: Failure,
        not_before: Millis,
    ) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(async move {
            let queue = self.queue(&delivery.subscription, &delivery.message.event);
            let mut entry = Entry::from_delivery(delivery);
            entry.failures.push(failure);
            entry.attempt += 1;
            let result = self
                .store
                .retry(entry.receipt, entry.attempt, entry.failures.clone(), not_before)
                .await;
            // Even when the store failed, the delivery stays pending there
            // (with its older history): retrying it is still right.
            queue.requeue(entry, not_before);
            result
        })
    }

    fn bury(&self, delivery: Delivery, failure: Failure) -> BoxFuture<'_, Result<DeadLetterId, AdapterError>> {
        Box::pin(async move {
            let queue = self.queue(&delivery.subscription, &delivery.message.event);
            let mut attempts = delivery.failures.clone();
            attempts.push(failure.clone());
            let dead = DeadLetter {
                id: DeadLetterId(String::new()),
                event: delivery.message.event.clone(),
                handler: delivery.subscription.clone(),
                message: (*delivery.message).clone(),
                attempts,
                dead_at: failure.at,
            };
            match self.store.bury(dead, delivery.receipt).await {
                Ok(id) => {
                    queue.finish();
                    Ok(id)
                }
                Err(e) => {
                    queue.requeue(Entry::from_delivery(delivery), Millis::now().after(REQUEUE_AFTER));
                    Err(e)
                }
            }
        })
    }

    fn dead_letters(&self, query: DeadLetterQuery) -> BoxFuture<'_, Result<Page<DeadLetter>, AdapterError>> {
        self.store.dead_letters(query)
    }

    fn dead_letter(&self, id: DeadLetterId) -> BoxFuture<'_, Result<Option<DeadLetter>, AdapterError>> {
        self.store.dead_letter(id)
    }

    fn replay(&self, selection: Selection) -> BoxFuture<'_, Result<Replayed, AdapterError>> {
        Box::pin(async move {
            if self.closed.load(Ordering::SeqCst) {
                return Err(AdapterError::Closed);
            }
            let (revived, unknown) = self.store.revive(selection).await?;
            let replayed = revived.len();
            self.restore(revived);
            Ok(Replayed { replayed, unknown })
        })
    }

    fn purge(&self, selection: Selection) -> BoxFuture<'_, Result<usize, AdapterError>> {
        self.store.purge(selection)
    }

    fn stats(&self) -> BoxFuture<'_, Result<Vec<SubscriptionStats>, AdapterError>> {
        Box::pin(async move {
            let dead = self.store.dead_counts().await?;
            let queues: Vec<Arc<SubQueue>> = rohas_read(&self.routing).all.values().cloned().collect();
            let mut stats: Vec<SubscriptionStats> = queues
                .iter()
                .map(|q| {
                    let c = q.counts();
                    SubscriptionStats {
                        handler: q.id.clone(),
                        event: q.event.clone(),
                        ready: c.ready,
                        delayed: c.delayed,
                        in_flight: c.in_flight,
                        dead: dead.get(&q.id).copied().unwrap_or(0),
                        declared: q.is_declared(),
                    }
                })
                .collect();
            for (id, n) in dead {
                if !stats.iter().any(|s| s.handler == id) {
                    let event = id.as_str().split(':').nth(1).unwrap_or_default().to_string();
                    stats.push(SubscriptionStats {
                        handler: id,
                        event,
                        dead: n,
                        ..Default::default()
                    });
                }
            }
            stats.sort_by(|a, b| a.handler.cmp(&b.handler));
            Ok(stats)
        })
    }

    fn outstanding(&self) -> usize {
        rohas_read(&self.routing)
            .all
            .values()
            .filter(|q| q.is_declared())
            .map(|q| {
                let c = q.counts();
                c.ready + c.in_flight
            })
            .sum()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.closed.store(true, Ordering::SeqCst);
            let queues: Vec<Arc<SubQueue>> = rohas_read(&self.routing).all.values().cloned().collect();
            for q in queues {
                q.close();
            }
            self.store.close().await;
        })
    }
}
