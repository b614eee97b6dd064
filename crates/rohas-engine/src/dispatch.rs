//! Calling a handler and applying what it asked for, the same way for every
//! handler kind: timeout, then — only on success — the events it set or
//! triggered, each payload checked against its event first.
//!
//! Checking all payloads before publishing any keeps "a failed handler
//! publishes nothing" true even when the failure is an invalid payload.

use crate::engine::{Live, Shared};
use rohas_events::Message;
use rohas_runtime::{HandlerError, HandlerId, HandlerKind, Invocation, Outcome, TriggeredEvent};
use rohas_schema::model::NameRef;
use rohas_telemetry::{SpanId, SpanKind};
use serde_json::{Map, Value};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Events whose payloads were checked against the schema numbered
/// `schema` ([`Live::generation`]): their messages carry that number, so a
/// delivery under the same schema does not check them again.
pub(crate) struct CheckedEvents {
    pub events: Vec<TriggeredEvent>,
    pub schema: u64,
}

impl CheckedEvents {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// An invocation with the usual fields filled in.
pub(crate) fn invocation(handler: HandlerId, kind: HandlerKind, trace_id: impl Into<String>) -> Invocation {
    Invocation {
        handler,
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
    /// Invoke with a timeout, as a span under `parent` (a `handler` span,
    /// or `middleware` for a middleware). The metadata gets the trace id
    /// and handler kind.
    ///
    /// The call is polled once before the timer is armed: most handlers
    /// answer in that first step (a Rust handler that does not wait always
    /// does), and for them no timer is registered or cancelled.
    pub(crate) async fn call(
        &self,
        call: Invocation,
        timeout: Duration,
        parent: Option<SpanId>,
    ) -> Result<Outcome, HandlerError> {
        let kind = if call.kind == HandlerKind::Middleware {
            SpanKind::Middleware
        } else {
            SpanKind::Handler
        };
        let mut span = self.open_span(&call.trace_id, parent, || call.handler.to_arc(), kind);
        if let Some(open) = &mut span {
            open.span_mut().handler = Some(call.handler.to_arc());
        }
        let result = self.call_timed(call, timeout).await;
        self.close_span(span, |s| {
            match &result {
                // A client error the handler chose is its answer, not its failure.
                Err(HandlerError::Http { status, .. }) if *status < 500 => s.status_code = Some(*status),
                Err(e) => {
                    s.failed(e.to_string());
                    if let HandlerError::Http { status, .. } = e {
                        s.status_code = Some(*status);
                    }
                }
                Ok(_) => {}
            }
        });
        result
    }

    async fn call_timed(&self, mut call: Invocation, timeout: Duration) -> Result<Outcome, HandlerError> {
        // One clock read for the runtime's deadline and the timer both.
        let deadline = Instant::now() + timeout;
        call.deadline = Some(deadline);
        if call.needs.context {
            call.metadata
                .insert("trace_id".into(), Value::String(call.trace_id.clone()));
            call.metadata
                .insert("handler_kind".into(), Value::String(call.kind.as_str().into()));
        }
        let handler = call.handler.clone();
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
    /// (payload from `set_payload`, else `fallback(outcome)`, called at
    /// most once), then every `trigger_event` call (with its delay, taken
    /// out of `outcome`, not copied). Fails, publishing nothing, when a
    /// payload does not match its event or is larger than `[events]
    /// max_payload_bytes`.
    pub(crate) fn events_to_publish(
        &self,
        live: &Live,
        triggers: &[NameRef],
        outcome: &mut Outcome,
        fallback: impl Fn(&Outcome) -> Value,
    ) -> Result<CheckedEvents, HandlerError> {
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
                .unwrap_or_else(|| fallback_value.get_or_init(|| fallback(outcome)).clone());
            out.push(TriggeredEvent::new(t.name.clone(), payload));
        }
        out.append(&mut outcome.effects.triggered);
        for TriggeredEvent { event, payload, .. } in &out {
            self.check_payload(live, event, payload)
                .map_err(|message| HandlerError::Failed { message, stack: None })?;
        }
        Ok(CheckedEvents {
            events: out,
            schema: live.generation,
        })
    }

    /// Whether `payload` may be published as `event`: it matches the
    /// event's payload type and is within `[events] max_payload_bytes`.
    pub(crate) fn check_payload(&self, live: &Live, event: &str, payload: &Value) -> Result<(), String> {
        if live.schema.event(event).is_none() {
            self.log
                .debug(&format!("publishing `{event}`, which the schema does not declare"));
        }
        let limit = self.config.events.max_payload_bytes;
        match crate::publishing::payload_problem(&live.validator, &live.schema, limit, event, payload) {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }
}

/// The event object a handler receives: the payload's fields at top level
/// (`event.user_id`), plus `payload`, `name`, `timestamp` and `trace_id`
/// unless the payload has fields of those names.
/// One definition with the Rust test harness (`rohas_runtime::shapes`).
pub(crate) fn event_request(message: &Message) -> Value {
    rohas_runtime::shapes::event_request(
        &message.event,
        &message.payload,
        &message.published_at.rfc3339(),
        &message.trace_id,
    )
}
