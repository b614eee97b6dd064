//! Delivering events to their handlers, on top of any [`Adapter`].
//!
//! Each handler of an event is one subscription with its own worker, which
//! takes up to `concurrency` deliveries at a time from the adapter and runs
//! each: the handler, then `ack` with the events it caused (the outbox,
//! published together with the acknowledgement), or, on failure, `retry`
//! after an exponential backoff with jitter, or `bury` as a dead letter
//! after the last attempt or a non-retryable error. The adapter stores; this
//! module decides. An event's own `triggers` are published once every one of
//! its handlers succeeded for a message (the join).

use crate::dispatch::{event_request, event_request_json, invocation, raw_json, raw_value, CheckedEvents};
use crate::engine::{Live, Shared};
use crate::log::Level;
use crate::spans::Open;
use rohas_events::{Adapter, AdapterError, Delivery, Failure, Message, Millis, Payload, SubscriptionId};
use rohas_runtime::sync::lock;
use rohas_runtime::{HandlerError, HandlerId, HandlerKind, TriggeredEvent};
use rohas_telemetry::{SpanId, SpanKind, TraceParent};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub(crate) struct EventBus {
    pub adapter: Arc<dyn Adapter>,
    /// Per message id, the handlers that succeeded so far, for events with
    /// `triggers`.
    joins: Mutex<HashMap<String, Join>>,
    /// Cancels the current schema's workers (replaced on reload).
    workers: Mutex<CancellationToken>,
}

#[derive(Default, Clone)]
struct Join {
    succeeded: HashSet<SubscriptionId>,
    failed: bool,
    payloads: HashMap<String, Box<RawValue>>,
}

impl EventBus {
    pub fn new(adapter: Arc<dyn Adapter>) -> Self {
        EventBus {
            adapter,
            joins: Mutex::new(HashMap::new()),
            workers: Mutex::new(CancellationToken::new()),
        }
    }

    /// Stop taking new deliveries (those running finish).
    pub fn stop_workers(&self) {
        lock(&self.workers).cancel();
    }
}

/// Declare the schema's subscriptions and start one worker each; the
/// workers of the previous schema stop taking deliveries (what they run
/// finishes). Messages kept for handlers the schema no longer has are
/// reported.
pub(crate) async fn subscribe_all(shared: &Arc<Shared>) {
    let live = shared.live.load_full();
    let subs = crate::publishing::subscriptions(&live.schema);
    if let Err(e) = shared.bus.adapter.declare(&subs).await {
        shared
            .log
            .error(&format!("event bus: cannot subscribe the handlers: {e}"));
        return;
    }
    if let Ok(stats) = shared.bus.adapter.stats().await {
        for s in stats.iter().filter(|s| !s.declared && s.ready + s.delayed > 0) {
            shared.log.warn(&format!(
                "{} message(s) wait for handler {}, which the schema no longer has: they are kept until it comes back",
                s.ready + s.delayed,
                s.handler
            ));
        }
    }
    // Not a child of the engine's stop signal: during shutdown the workers
    // go on delivering due events until the drain ends.
    let token = CancellationToken::new();
    let old = std::mem::replace(
        &mut *shared.bus.workers.lock().unwrap_or_else(|e| e.into_inner()),
        token.clone(),
    );
    old.cancel();
    for sub in subs {
        // Every subscription is an event handler's id (`publishing::subscriptions`).
        let handler_id = HandlerId::parse_shared(Arc::clone(&sub.id.0));
        let handler = handler_id.as_ref().map(|id| id.name().to_string()).unwrap_or_default();
        let concurrency = shared.config.events.concurrency_of(&sub.event, &handler);
        let names = SpanNames {
            delivery: crate::spans::delivery_name(sub.id.as_str()),
            event: live.event_span_names(&sub.event).event,
            handler: handler_id,
        };
        tokio::spawn(worker(shared.clone(), sub.id, names, concurrency, token.clone()));
    }
}

/// What every delivery of one subscription shares, made once: its
/// spans' names and its handler's id (read from the subscription id).
#[derive(Clone)]
struct SpanNames {
    /// `UserCreated → sendWelcome`.
    delivery: Arc<str>,
    event: Arc<str>,
    /// `None` for a subscription that is not an event handler's.
    handler: Option<HandlerId>,
}

/// Take deliveries for one handler while slots are free, run each in its
/// own task. On shutdown it stops taking; running deliveries finish.
async fn worker(
    shared: Arc<Shared>,
    subscription: SubscriptionId,
    names: SpanNames,
    concurrency: usize,
    stop: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    loop {
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => return },
            _ = stop.cancelled() => return,
        };
        let free = 1 + slots.available_permits();
        let deliveries = tokio::select! {
            got = shared.bus.adapter.receive(&subscription, free) => got,
            _ = stop.cancelled() => return,
        };
        if deliveries.is_empty() {
            return; // the adapter closed
        }
        let mut permit = Some(first);
        for delivery in deliveries {
            // `receive` gave at most as many as there were free slots and
            // only this loop takes them, so this never waits; a delivery
            // taken from the adapter is never dropped unsettled.
            let permit = match permit.take() {
                Some(p) => p,
                None => match slots.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let slot = Slot {
                shared: shared.clone(),
                subscription: subscription.clone(),
                names: names.clone(),
                stop: stop.clone(),
            };
            // Boxed: the task holds a pointer, not the whole delivery
            // state machine moved into it.
            tokio::spawn(Box::pin(async move {
                slot.run(delivery).await;
                drop(permit);
            }));
        }
    }
}

/// One of a worker's slots, busy: it runs its delivery, then the next ones
/// the subscription already holds, and only then gives the slot back.
/// Under load a slot goes from one delivery to the next without a new
/// task, a permit handed back and taken again, and a turn of the worker:
/// those cost about as much as the adapter's own part of a delivery.
struct Slot {
    shared: Arc<Shared>,
    subscription: SubscriptionId,
    names: SpanNames,
    stop: CancellationToken,
}

impl Slot {
    async fn run(self, first: Delivery) {
        let mut next = Some(first);
        // Every delivery taken is run, stopping or not: none is dropped
        // unsettled.
        while let Some(delivery) = next {
            deliver(&self.shared, delivery, &self.names).await;
            self.shared.settled();
            if self.stop.is_cancelled() {
                return;
            }
            // The next one only if it is ready now; else the worker waits
            // for one (`Adapter::try_receive`).
            next = self.shared.bus.adapter.try_receive(&self.subscription);
        }
    }
}

/// Run one delivery and settle it with the adapter, as a `delivery` span
/// (one per attempt) under the span that published the message.
async fn deliver(shared: &Arc<Shared>, delivery: Delivery, names: &SpanNames) {
    let mut span = shared.open_span(
        &delivery.message.trace_id,
        crate::spans::parent_of(&delivery.message),
        || Arc::clone(&names.delivery),
        SpanKind::Delivery,
    );
    if let Some(open) = &mut span {
        let s = open.span_mut();
        s.handler = Some(Arc::clone(&delivery.subscription.0));
        s.event = Some(if *names.event == *delivery.message.event {
            Arc::clone(&names.event)
        } else {
            Arc::from(delivery.message.event.as_str())
        });
        s.attempt = Some(delivery.attempt);
        s.message_id = Some(delivery.message.id.0.as_str().into());
    }
    let parent = crate::spans::id_of(&span);
    let ended = run_delivery(shared, delivery, names.handler.clone(), parent).await;
    shared.close_span(span, |s| match ended {
        Ended::Acked => {}
        Ended::Failed { error, buried } => {
            s.failed(error);
            s.dead_lettered = buried;
        }
    });
}

/// How a delivery ended, for its span.
enum Ended {
    Acked,
    Failed { error: String, buried: bool },
}

async fn run_delivery(
    shared: &Arc<Shared>,
    delivery: Delivery,
    handler_id: Option<HandlerId>,
    span: Option<SpanId>,
) -> Ended {
    let live = shared.live.load_full();
    let subscription = delivery.subscription.clone();
    let message = &delivery.message;
    // The engine subscribes with handler ids; a delivery for anything else
    // (a store written by something else) has no handler to run.
    let Some(handler_id) = handler_id else {
        let error = format!("subscription `{subscription}` is not an event handler's");
        return settle_failure(shared, &live, delivery, error, true).await;
    };
    let Some(event) = live.schema.event(&message.event) else {
        let error = format!("event `{}` is not in the schema", message.event);
        return settle_failure(shared, &live, delivery, error, true).await;
    };
    // A message read back from the store (a restart, a replay) or
    // published under an earlier schema may not match this one; one this
    // engine checked against this very schema when publishing does.
    if let (Some(ty), false) = (&event.payload, message.checked == Some(live.generation)) {
        if let Some(p) = live.validator.check(ty, &message.payload, "payload").first() {
            let error = format!("payload no longer matches the schema: {}: {}", p.path, p.problem);
            return settle_failure(shared, &live, delivery, error, true).await;
        }
    }
    // Only what the handler's parameters read is built (`Runtime::needs`).
    let needs = shared.runtime.needs(handler_id.as_str());
    let mut call = invocation(handler_id.clone(), HandlerKind::Event, &message.trace_id);
    call.needs = needs;
    if needs.request {
        if shared.runtime.request_as_json() {
            call.request_json = Some(event_request_json(message, needs));
        } else {
            call.request = event_request(message);
        }
    }
    if needs.payload {
        call.payload = message.payload.value().clone();
    }
    if needs.context {
        call.metadata.insert("message_id".into(), json!(message.id));
        call.metadata.insert("attempt".into(), json!(delivery.attempt));
        call.metadata.insert("event".into(), json!(message.event));
        call.metadata.insert("source".into(), json!(message.source));
    }
    let timeout = shared.timeout(HandlerKind::Event, event.timeout);
    let result = match shared.call(call, timeout, span).await {
        Ok(mut outcome) => shared
            .events_to_publish(&live, &[], &mut outcome, |_| raw_value(&Value::Null))
            .map(|events| (events, outcome)),
        Err(e) => Err(e),
    };
    match result {
        Ok((events, outcome)) => {
            let (mut outbox, mut publishes) = shared.messages(events, &message.trace_id, handler_id.as_str(), span);
            // The last handler of an event with `triggers` acknowledges
            // together with them: one commit, so they are neither lost nor
            // published twice.
            let joined = join(
                &shared.bus,
                event,
                message,
                &subscription,
                Some(&outcome.effects.payloads),
            );
            if let Some(join) = &joined {
                match triggers(shared, &live, event, message, join, span) {
                    Ok((more, spans)) => {
                        outbox.extend(more);
                        publishes.extend(spans);
                    }
                    Err(e) => shared
                        .log
                        .error(&format!("event `{}`: triggers not published: {e}", event.name)),
                }
            }
            // `ack` takes the delivery: keep the message for the failure
            // path (a pointer, not its id and trace id copied).
            let message = Arc::clone(&delivery.message);
            let acked = shared.bus.adapter.ack(delivery, outbox).await;
            shared.published(publishes, acked.as_ref().err());
            if let Err(e) = acked {
                shared.log.line(
                    Level::Error,
                    handler_id.as_str(),
                    Some(&message.trace_id),
                    &format!("succeeded but could not be acknowledged ({e}); the message will be delivered again"),
                    &Default::default(),
                );
                if let Some(mut join) = joined {
                    // The redelivery completes the join again.
                    join.succeeded.remove(&subscription);
                    lock(&shared.bus.joins).insert(message.id.0.clone(), join);
                }
                return Ended::Failed {
                    error: format!("not acknowledged: {e}"),
                    buried: false,
                };
            }
            Ended::Acked
        }
        Err(e) => {
            let permanent = matches!(e, HandlerError::NonRetryable { .. });
            let error = match &e {
                HandlerError::Failed { message, .. } | HandlerError::NonRetryable { message, .. } => message.clone(),
                other => other.to_string(),
            };
            settle_failure(shared, &live, delivery, error, permanent).await
        }
    }
}

/// Retry after a backoff, or (last attempt, non-retryable) bury.
async fn settle_failure(
    shared: &Arc<Shared>,
    live: &Live,
    delivery: Delivery,
    error: String,
    permanent: bool,
) -> Ended {
    let failure = Failure {
        attempt: delivery.attempt,
        error,
        trace_id: delivery.message.trace_id.clone(),
        at: Millis::now(),
    };
    let attempts = live
        .schema
        .event(&delivery.message.event)
        .and_then(|e| e.retries)
        .unwrap_or(3)
        .max(1);
    let handler = delivery.subscription.clone();
    let trace_id = delivery.message.trace_id.clone();
    let last = permanent || delivery.attempt >= attempts;
    let error = failure.error.clone();
    if !last {
        shared.log.line(
            Level::Warn,
            handler.as_str(),
            Some(&trace_id),
            &format!("attempt {}/{attempts} failed: {}", delivery.attempt, failure.error),
            &Default::default(),
        );
        let wait = backoff(&shared.config.events, &delivery);
        if let Err(e) = shared
            .bus
            .adapter
            .retry(delivery, failure, Millis::now().after(wait))
            .await
        {
            shared
                .log
                .error(&format!("{handler}: could not record the failed attempt ({e})"));
        }
        return Ended::Failed { error, buried: false };
    }
    let message = delivery.message.clone();
    let why = if permanent {
        "failed for good (non-retryable)".to_string()
    } else {
        format!("gave up after {} attempt(s)", delivery.attempt)
    };
    let buried = match shared.bus.adapter.bury(delivery, failure).await {
        Ok(id) => {
            shared.log.line(
                Level::Error,
                handler.as_str(),
                Some(&trace_id),
                &format!("{why}: {error}; message kept as dead letter {id}: see it with `rohas dlq show {id}`, replay it with `rohas dlq replay {id}`"),
                &Default::default(),
            );
            true
        }
        Err(e) => {
            shared.log.error(&format!(
                "{handler}: could not keep the dead letter ({e}); it will be delivered again"
            ));
            false
        }
    };
    if let Some(event) = live.schema.event(&message.event) {
        join(&shared.bus, event, &message, &handler, None);
    }
    Ended::Failed { error, buried }
}

/// Exponential backoff from `retry_base_ms`, capped at `retry_max_ms`, with
/// "equal jitter" (half fixed, half random), so failures that happened
/// together do not retry together.
fn backoff(config: &rohas_config::EventsConfig, delivery: &Delivery) -> Duration {
    let exp = delivery.attempt.saturating_sub(1).min(20);
    let full = config
        .retry_base_ms
        .saturating_mul(1u64 << exp)
        .min(config.retry_max_ms.max(config.retry_base_ms));
    let half = full / 2;
    let random = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write(delivery.message.id.0.as_bytes());
        h.write_u32(delivery.attempt);
        h.finish()
    };
    Duration::from_millis(half + random % (full - half + 1))
}

/// Record one handler's result for a message of an event with `triggers`;
/// the join, once every handler succeeded (a failure ends it with nothing).
fn join(
    bus: &EventBus,
    event: &rohas_schema::model::Event,
    message: &Message,
    handler: &SubscriptionId,
    success: Option<&Vec<TriggeredEvent>>,
) -> Option<Join> {
    if event.triggers.is_empty() {
        return None;
    }
    let mut joins = lock(&bus.joins);
    let join = joins.entry(message.id.0.clone()).or_default();
    match success {
        Some(payloads) => {
            join.succeeded.insert(handler.clone());
            for p in payloads {
                join.payloads.insert(p.event.clone(), p.payload.clone());
            }
        }
        None => join.failed = true,
    }
    let settled = join.failed || join.succeeded.len() >= event.handlers.len();
    if settled {
        joins.remove(&message.id.0).filter(|j| !j.failed)
    } else {
        None
    }
}

/// The messages of an event's `triggers` once its join completed: payloads
/// set by its handlers, else the event's own payload.
fn triggers(
    shared: &Shared,
    live: &Live,
    event: &rohas_schema::model::Event,
    message: &Message,
    join: &Join,
    span: Option<SpanId>,
) -> Result<(Vec<Message>, Vec<Open>), HandlerError> {
    let mut outcome = rohas_runtime::Outcome {
        value: rohas_runtime::ReturnValue::null(),
        effects: rohas_runtime::Effects {
            triggered: Vec::new(),
            payloads: join
                .payloads
                .iter()
                .map(|(event, payload)| TriggeredEvent::json(event.clone(), payload.clone()))
                .collect(),
        },
    };
    let events = shared.events_to_publish(live, &event.triggers, &mut outcome, |_| {
        raw_json(message.payload.json().into_owned())
    })?;
    Ok(shared.messages(events, &message.trace_id, &format!("event:{}", event.name), span))
}

impl Shared {
    /// Messages for the events a handler caused, each with its own
    /// `publish` span under `parent` (opened here, closed by
    /// [`Shared::published`]); the message carries that span as its
    /// `traceparent`, so its deliveries are the span's children.
    pub(crate) fn messages(
        &self,
        events: CheckedEvents,
        trace_id: &str,
        source: &str,
        parent: Option<SpanId>,
    ) -> (Vec<Message>, Vec<Open>) {
        // Sized at once: a handler may publish thousands in one reply, and
        // growing a vector of open spans step by step copied each a dozen
        // times (a tenth of a burst's publishing).
        let wanted = if self.telemetry.spans_on() {
            events.events.len()
        } else {
            0
        };
        let mut spans = Vec::with_capacity(wanted);
        let live = self.live.load();
        let messages = events
            .events
            .into_iter()
            .map(|t| {
                let mut message =
                    Message::new(t.event, Payload::from_json(t.payload), trace_id, source).delayed(t.delay);
                message.checked = Some(events.schema);
                let mut event_name = None;
                let name = || {
                    let names = live.event_span_names(&message.event);
                    event_name = Some(names.event);
                    names.publish
                };
                if let Some(mut open) = self.open_span(trace_id, parent, name, SpanKind::Publish) {
                    let span = open.span_mut();
                    span.event = event_name;
                    span.message_id = Some(message.id.0.as_str().into());
                    message.traceparent = Some(TraceParent::format(trace_id, open.id(), true));
                    message.parent_span = Some(open.id().as_u64());
                    spans.push(open);
                }
                message
            })
            .collect();
        (messages, spans)
    }

    /// Closes the publish spans of messages once the adapter has them (or not).
    pub(crate) fn published(&self, spans: Vec<Open>, error: Option<&AdapterError>) {
        for open in spans {
            self.close_span(Some(open), |s| {
                if let Some(e) = error {
                    s.failed(e.to_string());
                }
            });
        }
    }

    /// Publish events a handler caused, with its trace id; returns once
    /// the adapter has them (durably, for `local`).
    pub(crate) async fn publish(
        &self,
        events: CheckedEvents,
        trace_id: &str,
        source: &str,
        parent: Option<SpanId>,
    ) -> Result<(), AdapterError> {
        if events.is_empty() {
            return Ok(());
        }
        if self.log.enabled(Level::Debug) {
            for e in &events.events {
                self.log.line(
                    Level::Debug,
                    "bus",
                    Some(trace_id),
                    &format!("publish {}", e.event),
                    &Default::default(),
                );
            }
        }
        let (messages, spans) = self.messages(events, trace_id, source, parent);
        let result = self.bus.adapter.publish(messages).await;
        self.published(spans, result.as_ref().err());
        result
    }
}
