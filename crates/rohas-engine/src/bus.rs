//! The event bus: publish a message, every handler of its event gets it once
//! per successful delivery; failures are retried with exponential backoff,
//! then kept as dead letters.
//!
//! Transport is behind [`Adapter`] so brokers (NATS, RabbitMQ, Redis …) can
//! replace the in-memory one; delivery, retries, dead letters and the
//! "event `triggers` after all its handlers succeeded" rule live here, the
//! same for every adapter.

use crate::dispatch::{event_request, invocation};
use crate::engine::Shared;
use crate::log::Log;
use rohas_runtime::{HandlerError, HandlerKind};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// What travels on the bus (SPEC 6).
#[derive(Debug, Clone, Serialize)]
pub struct EventMessage {
    pub id: String,
    pub topic: String,
    pub payload: Value,
    pub timestamp: String,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub trace_id: String,
    /// What published it: `api:CreateUser`, `cron:DailyCleanup` …
    pub source: String,
    pub attempt: u32,
}

impl EventMessage {
    pub fn new(topic: String, payload: Value, trace_id: &str, source: &str) -> Self {
        EventMessage {
            id: crate::log::new_trace_id(),
            topic,
            payload,
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            metadata: Metadata {
                trace_id: trace_id.to_string(),
                source: source.to_string(),
                attempt: 1,
            },
        }
    }
}

/// A message a handler could not process after every attempt.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub message: EventMessage,
    pub handler: String,
    pub error: String,
    pub at: String,
}

/// Transport of messages between publishers and subscribers.
pub trait Adapter: Send + Sync + 'static {
    /// Deliver to every current subscriber of `message.topic`; waits while
    /// a subscriber's buffer is full (back-pressure, never loss).
    fn publish(&self, message: EventMessage) -> rohas_runtime::BoxFuture<'_, Result<(), String>>;
    /// A new subscription of `subscriber` to `topic`.
    fn subscribe(&self, topic: &str, subscriber: &str) -> mpsc::Receiver<EventMessage>;
    /// Drop every subscription (on reload); receivers drain what they hold.
    fn close_subscriptions(&self);
}

/// In-process transport: a bounded channel per subscription.
pub struct MemoryAdapter {
    buffer: usize,
    pending: Arc<AtomicUsize>,
    subscribers: Mutex<HashMap<String, Vec<mpsc::Sender<EventMessage>>>>,
}

impl Adapter for MemoryAdapter {
    fn publish(&self, message: EventMessage) -> rohas_runtime::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let senders: Vec<_> = self
                .subscribers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&message.topic)
                .cloned()
                .unwrap_or_default();
            for sender in senders {
                // Counted from the moment it is queued, so shutdown waits for it.
                self.pending.fetch_add(1, Ordering::SeqCst);
                if sender.send(message.clone()).await.is_err() {
                    // A closed receiver belongs to a replaced subscription.
                    self.pending.fetch_sub(1, Ordering::SeqCst);
                }
            }
            Ok(())
        })
    }

    fn subscribe(&self, topic: &str, _subscriber: &str) -> mpsc::Receiver<EventMessage> {
        let (tx, rx) = mpsc::channel(self.buffer);
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(topic.to_string())
            .or_default()
            .push(tx);
        rx
    }

    fn close_subscriptions(&self) {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Per message, how many handlers still have to succeed before the event's
/// own `triggers` are published.
struct Join {
    remaining: usize,
    failed: bool,
    payloads: HashMap<String, Value>,
}

pub struct EventBus {
    adapter: Box<dyn Adapter>,
    /// Deliveries queued or running (graceful shutdown waits for zero);
    /// the adapter counts a delivery in, the worker counts it out.
    pending: Arc<AtomicUsize>,
    joins: Mutex<HashMap<String, Join>>,
    pub dead_letters: Mutex<Vec<DeadLetter>>,
}

const MAX_DEAD_LETTERS: usize = 10_000;

impl EventBus {
    pub fn memory(buffer: usize) -> Self {
        let pending = Arc::new(AtomicUsize::new(0));
        EventBus {
            adapter: Box::new(MemoryAdapter {
                buffer,
                pending: pending.clone(),
                subscribers: Mutex::new(HashMap::new()),
            }),
            pending,
            joins: Mutex::new(HashMap::new()),
            dead_letters: Mutex::new(Vec::new()),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    pub(crate) fn close_subscriptions(&self) {
        self.adapter.close_subscriptions();
    }

    pub(crate) async fn publish(&self, message: EventMessage, log: &Log) {
        if log.enabled(crate::log::Level::Debug) {
            log.line(
                crate::log::Level::Debug,
                "bus",
                Some(&message.metadata.trace_id),
                &format!("publish {}", message.topic),
                &Default::default(),
            );
        }
        if let Err(e) = self.adapter.publish(message).await {
            log.error(&format!("event bus: {e}"));
        }
    }
}

/// How many deliveries one event handler may have running at once. Handlers
/// are mostly waiting (on I/O, or on the language runtime's queue), so
/// running one message at a time would cap an event at one handler
/// round-trip per message; a bound keeps a flood from exhausting memory.
/// Messages may therefore finish out of publication order.
const DELIVERIES_PER_HANDLER: usize = 256;

/// Start one worker per (event, handler).
pub(crate) fn subscribe_all(shared: &Arc<Shared>) {
    let live = shared.live.load();
    for event in &live.schema.events {
        for handler in &event.handlers {
            let id: Arc<str> = format!("event:{}:{}", event.name, handler.name).into();
            let mut rx = shared.bus.adapter.subscribe(&event.name, &id);
            let shared = shared.clone();
            tokio::spawn(async move {
                let running = Arc::new(tokio::sync::Semaphore::new(DELIVERIES_PER_HANDLER));
                while let Some(message) = rx.recv().await {
                    let Ok(permit) = running.clone().acquire_owned().await else {
                        break;
                    };
                    let shared = shared.clone();
                    let id = id.clone();
                    tokio::spawn(async move {
                        deliver(&shared, &id, message).await;
                        shared.bus.pending.fetch_sub(1, Ordering::SeqCst);
                        drop(permit);
                    });
                }
            });
        }
    }
}

/// Deliver one message to one handler, with retries, then settle the join.
async fn deliver(shared: &Arc<Shared>, handler_id: &str, mut message: EventMessage) {
    let live = shared.live.load_full();
    let Some(event) = live.schema.event(&message.topic) else {
        return;
    };
    let attempts = event.retries.unwrap_or(3).max(1);
    let timeout = shared.timeout(HandlerKind::Event, event.timeout);
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        message.metadata.attempt = attempt;
        let mut call = invocation(handler_id, HandlerKind::Event, &message.metadata.trace_id);
        call.request = event_request(&message);
        call.payload = message.payload.clone();
        call.metadata.insert("attempt".into(), json!(attempt));
        call.metadata.insert("event".into(), json!(message.topic));
        call.metadata.insert("source".into(), json!(message.metadata.source));
        let result = match shared.call(call, timeout).await {
            Ok(outcome) => shared
                .events_to_publish(&live, &[], &outcome, || Value::Null)
                .map(|events| (events, outcome)),
            Err(e) => Err(e),
        };
        match result {
            Ok((events, outcome)) => {
                shared.publish(events, &message.metadata.trace_id, handler_id).await;
                settle(shared, &live, event, &message, Some(&outcome.effects.payloads)).await;
                return;
            }
            Err(e) => {
                last_error = match &e {
                    HandlerError::Failed { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                shared.log.line(
                    crate::log::Level::Warn,
                    handler_id,
                    Some(&message.metadata.trace_id),
                    &format!("attempt {attempt}/{attempts} failed: {last_error}"),
                    &Default::default(),
                );
                if attempt < attempts {
                    let backoff = Duration::from_millis(100u64.saturating_mul(1 << (attempt - 1).min(7)));
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }
    shared.log.line(
        crate::log::Level::Error,
        handler_id,
        Some(&message.metadata.trace_id),
        &format!("gave up after {attempts} attempt(s); message kept as a dead letter"),
        &Default::default(),
    );
    settle(shared, &live, event, &message, None).await;
    let mut dead = shared.bus.dead_letters.lock().unwrap_or_else(|e| e.into_inner());
    if dead.len() >= MAX_DEAD_LETTERS {
        dead.remove(0);
    }
    dead.push(DeadLetter {
        message,
        handler: handler_id.to_string(),
        error: last_error,
        at: chrono::Utc::now().to_rfc3339(),
    });
}

/// Record one handler's result for a message; when the last handler of the
/// event succeeded, publish the event's own `triggers`.
async fn settle(
    shared: &Arc<Shared>,
    live: &crate::engine::Live,
    event: &rohas_schema::model::Event,
    message: &EventMessage,
    success: Option<&Vec<rohas_runtime::TriggeredEvent>>,
) {
    if event.triggers.is_empty() {
        return;
    }
    let done = {
        let mut joins = shared.bus.joins.lock().unwrap_or_else(|e| e.into_inner());
        let join = joins.entry(message.id.clone()).or_insert_with(|| Join {
            remaining: event.handlers.len(),
            failed: false,
            payloads: HashMap::new(),
        });
        join.remaining = join.remaining.saturating_sub(1);
        match success {
            Some(payloads) => {
                for p in payloads {
                    join.payloads.insert(p.event.clone(), p.payload.clone());
                }
            }
            None => join.failed = true,
        }
        if join.remaining == 0 {
            joins.remove(&message.id).filter(|j| !j.failed)
        } else {
            None
        }
    };
    let Some(join) = done else { return };
    let outcome = rohas_runtime::Outcome {
        value: rohas_runtime::ReturnValue::null(),
        effects: rohas_runtime::Effects {
            triggered: Vec::new(),
            payloads: join
                .payloads
                .into_iter()
                .map(|(event, payload)| rohas_runtime::TriggeredEvent::new(event, payload))
                .collect(),
        },
    };
    match shared.events_to_publish(live, &event.triggers, &outcome, || message.payload.clone()) {
        Ok(events) => {
            let source = format!("event:{}", event.name);
            shared.publish(events, &message.metadata.trace_id, &source).await
        }
        Err(e) => shared
            .log
            .error(&format!("event `{}`: triggers not published: {e}", event.name)),
    }
}
