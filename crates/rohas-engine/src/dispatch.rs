//! Calling a handler and applying what it asked for, the same way for every
//! handler kind: timeout, then — only on success — the events it set or
//! triggered, each payload checked against its event first.
//!
//! Checking all payloads before publishing any keeps "a failed handler
//! publishes nothing" true even when the failure is an invalid payload.

use crate::bus::EventMessage;
use crate::engine::{Live, Shared};
use rohas_runtime::{HandlerError, HandlerKind, Invocation, Outcome};
use rohas_schema::model::NameRef;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// An invocation with the usual fields filled in.
pub(crate) fn invocation(handler: impl Into<Arc<str>>, kind: HandlerKind, trace_id: impl Into<String>) -> Invocation {
    Invocation {
        handler: handler.into(),
        kind,
        trace_id: trace_id.into(),
        request: Value::Null,
        payload: Value::Null,
        payload_json: None,
        query_params: Map::new(),
        metadata: Map::new(),
        connection_id: None,
        endpoint: None,
        deadline: None,
        needs: rohas_runtime::Needs::ALL,
    }
}

impl Shared {
    /// Invoke with a timeout. The metadata gets the trace id and handler kind.
    ///
    /// The call is polled once before the timer is armed: most handlers
    /// answer in that first step (a Rust handler that does not wait always
    /// does), and for them no timer is registered or cancelled.
    pub(crate) async fn call(&self, mut call: Invocation, timeout: Duration) -> Result<Outcome, HandlerError> {
        // One clock read for the runtime's deadline and the timer both.
        let deadline = Instant::now() + timeout;
        call.deadline = Some(deadline);
        if call.needs.context {
            call.metadata
                .insert("trace_id".into(), Value::String(call.trace_id.clone()));
            call.metadata
                .insert("handler_kind".into(), Value::String(call.kind.as_str().into()));
        }
        let handler = Arc::clone(&call.handler);
        let mut running = self.runtime.invoke(call);
        if let Poll::Ready(result) = std::future::poll_fn(|cx| Poll::Ready(running.as_mut().poll(cx))).await {
            return result;
        }
        match tokio::time::timeout_at(deadline.into(), running).await {
            Ok(result) => result,
            Err(_) => {
                self.log.warn(&format!("{handler} timed out after {timeout:?}"));
                Err(HandlerError::Timeout)
            }
        }
    }

    /// The events a successful handler publishes: each event in `triggers`
    /// (payload from `set_payload`, else `fallback()`, called at most once),
    /// then every
    /// `trigger_event` call. Fails, publishing nothing, when a payload does
    /// not match its event.
    pub(crate) fn events_to_publish(
        &self,
        live: &Live,
        triggers: &[NameRef],
        outcome: &Outcome,
        fallback: impl Fn() -> Value,
    ) -> Result<Vec<(String, Value)>, HandlerError> {
        let mut out = Vec::new();
        let fallback_value = std::cell::OnceCell::new();
        for t in triggers {
            let payload = outcome
                .effects
                .payloads
                .iter()
                .rev()
                .find(|p| p.event == t.name)
                .map(|p| p.payload.clone())
                .unwrap_or_else(|| fallback_value.get_or_init(&fallback).clone());
            out.push((t.name.clone(), payload));
        }
        for t in &outcome.effects.triggered {
            out.push((t.event.clone(), t.payload.clone()));
        }
        for (event, payload) in &out {
            match live.schema.event(event) {
                Some(decl) => {
                    if let Some(ty) = &decl.payload {
                        let problems = live.validator.check(ty, payload, "payload");
                        if let Some(p) = problems.first() {
                            return Err(HandlerError::Failed {
                                message: format!(
                                    "invalid payload for event `{event}`: {}: {} ({} problem(s))",
                                    p.path,
                                    p.problem,
                                    problems.len()
                                ),
                                stack: None,
                            });
                        }
                    }
                }
                None => self
                    .log
                    .debug(&format!("publishing `{event}`, which the schema does not declare")),
            }
        }
        Ok(out)
    }

    /// Publish events caused by a handler, with its trace id.
    pub(crate) async fn publish(&self, events: Vec<(String, Value)>, trace_id: &str, source: &str) {
        for (topic, payload) in events {
            let message = EventMessage::new(topic, payload, trace_id, source);
            self.bus.publish(message, &self.log).await;
        }
    }
}

/// The event object a handler receives: the payload's fields at top level
/// (`event.user_id`), plus `payload`, `name`, `timestamp` and `trace_id`
/// unless the payload has fields of those names.
pub(crate) fn event_request(message: &EventMessage) -> Value {
    let mut object = match &message.payload {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    for (key, value) in [
        ("payload", message.payload.clone()),
        ("name", Value::String(message.topic.clone())),
        ("timestamp", Value::String(message.timestamp.clone())),
        ("trace_id", Value::String(message.metadata.trace_id.clone())),
    ] {
        object.entry(key).or_insert(value);
    }
    object.insert("payload".into(), message.payload.clone());
    Value::Object(object)
}
