//! Calling a handler and applying what it asked for, the same way for every
//! handler kind: timeout, then — only on success — the events it set or
//! triggered, each payload checked against its event first.
//!
//! Checking all payloads before publishing any keeps "a failed handler
//! publishes nothing" true even when the failure is an invalid payload.

use crate::engine::{Live, Shared};
use rohas_events::Message;
use rohas_runtime::{HandlerError, HandlerId, HandlerKind, Invocation, Needs, Outcome, TriggeredEvent};
use rohas_schema::model::NameRef;
use rohas_telemetry::{SpanId, SpanKind};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Events whose payloads were checked against the schema numbered
/// `schema` ([`Live::generation`]): their messages carry that number, so a
/// delivery under the same schema does not check them again.
pub(crate) struct CheckedEvents {
    /// Each payload the JSON text that was checked: it travels as it is.
    pub events: Vec<TriggeredEvent>,
    pub schema: u64,
}

impl CheckedEvents {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// JSON text as a payload ([`TriggeredEvent::payload`]); text that is not
/// one JSON value (it never is: it comes from `serde_json` or a host's
/// checked reply) becomes `null`.
pub(crate) fn raw_json(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_default()
}

/// A value written as a payload's JSON text.
pub(crate) fn raw_value(value: &Value) -> Box<RawValue> {
    // Writing a `Value` to memory cannot fail (the default is `null`).
    serde_json::value::to_raw_value(value).unwrap_or_default()
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
        request_json: None,
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
        fallback: impl Fn(&Outcome) -> Box<RawValue>,
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
            out.push(TriggeredEvent::json(t.name.clone(), payload));
        }
        out.append(&mut outcome.effects.triggered);
        for TriggeredEvent { event, payload, .. } in &mut out {
            self.check_payload(live, event, payload)
                .map_err(|message| HandlerError::Failed { message, stack: None })?;
        }
        Ok(CheckedEvents {
            events: out,
            schema: live.generation,
        })
    }

    /// Whether `payload` may be published as `event`: it matches the
    /// event's payload type and is within `[events] max_payload_bytes`
    /// (see [`crate::publishing::check_payload_text`], which may rewrite
    /// the text it could not check quickly).
    pub(crate) fn check_payload(&self, live: &Live, event: &str, payload: &mut Box<RawValue>) -> Result<(), String> {
        if live.schema.event(event).is_none() {
            self.log
                .debug(&format!("publishing `{event}`, which the schema does not declare"));
        }
        let limit = self.config.events.max_payload_bytes;
        crate::publishing::check_payload_text(&live.validator, &live.schema, limit, event, payload)
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

/// One of the keys an event object adds beside the payload's fields. A
/// `match`, compared by length first: four map lookups per delivery were
/// a tenth of writing its request.
fn is_event_key(key: &str) -> bool {
    matches!(key, "payload" | "name" | "timestamp" | "trace_id")
}

/// [`event_request`] written as JSON, for a runtime that sends requests
/// as text ([`rohas_runtime::Runtime::request_as_json`]): the payload is
/// written once and its fields reused, with no tree built and no copy of
/// the payload made. (Building the object, then writing it, was a fifth
/// of an event delivery's instructions to a Rust handler.)
///
/// Without `fields` ([`rohas_runtime::Needs::event_fields`]) the payload's
/// fields are not repeated at the top level, unless one of them takes the
/// name of the event's own (then the object is written whole). Without
/// `payload` ([`rohas_runtime::Needs::event_payload`]) the `payload` field
/// is left out where the fields are written at the top level.
pub(crate) fn event_request_json(message: &Message, needs: Needs) -> Vec<u8> {
    // The payload's top-level keys, read from its text (no tree built).
    let mut collides = false;
    let fields = message.payload.object_keys(|k| collides |= is_event_key(k));
    if collides {
        // A payload field wins over the event's own: the general way.
        return serde_json::to_vec(&event_request(message)).unwrap_or_else(|_| b"null".to_vec());
    }
    let fields = if needs.event_fields { fields.unwrap_or(0) } else { 0 };
    // The publisher's text, else written from the value here.
    let json = message.payload.json();
    let payload = json.trim_ascii().as_bytes();
    let mut out = Vec::with_capacity(2 * payload.len() + message.trace_id.len() + 96);
    if fields > 0 {
        // `{"a":1}` → `{"a":1,` : the payload's own fields at top level.
        out.extend_from_slice(&payload[..payload.len() - 1]);
        out.push(b',');
    } else {
        out.push(b'{');
    }
    if fields == 0 || needs.event_payload {
        out.extend_from_slice(br#""payload":"#);
        out.extend_from_slice(payload);
        out.push(b',');
    }
    out.extend_from_slice(br#""name":"#);
    rohas_events::json_text::write_str(&mut out, &message.event);
    out.extend_from_slice(br#","timestamp":""#);
    out.extend_from_slice(message.published_at.rfc3339().as_bytes());
    out.extend_from_slice(br#"","trace_id":"#);
    rohas_events::json_text::write_str(&mut out, &message.trace_id);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The text written for a runtime that takes JSON is the object every
    /// other runtime gets, whatever the payload holds.
    #[test]
    fn an_event_request_written_as_json_is_the_event_object() {
        for payload in [
            json!({"user_id": 7, "name_of": "ada \"q\"", "nested": {"a": [1, 2]}}),
            json!({}),
            json!(3),
            json!("text"),
            json!(null),
            json!([1, {"b": 2}]),
            json!({"name": "a payload field wins", "trace_id": "mine"}),
            json!({"payload": 1}),
            json!({"timestamp": "mine", "n": 1.5}),
            json!({"named": 1, "trace": 2, "payloads": 3, "timestamps": 4}),
        ] {
            let message = Message::new(
                "User\"Created",
                payload.clone(),
                "0af7651916cd43dd8448eb211c80319c",
                "test",
            );
            let written =
                |needs: Needs| -> Value { serde_json::from_slice(&event_request_json(&message, needs)).unwrap() };
            assert_eq!(written(Needs::ALL), event_request(&message), "payload {payload}");
            let collides = payload.as_object().is_some_and(|f| f.keys().any(|k| is_event_key(k)));
            // Without the top-level copy (a Python event class): the event's
            // own keys and the payload, unless a payload field takes one of
            // their names.
            let mut expected = event_request(&message);
            if !collides {
                let object = expected.as_object_mut().unwrap();
                object.retain(|k, _| is_event_key(k));
            }
            let slim = Needs {
                event_fields: false,
                ..Needs::ALL
            };
            assert_eq!(written(slim), expected, "payload {payload}");
            // Without `payload` (a Rust event type): the fields and the
            // event's own keys, where the payload is an object of fields
            // none of which takes an event key; else the whole object.
            let mut expected = event_request(&message);
            let spread = payload.as_object().is_some_and(|f| !f.is_empty()) && !collides;
            if spread {
                expected.as_object_mut().unwrap().remove("payload");
            }
            let fields_only = Needs {
                event_payload: false,
                ..Needs::ALL
            };
            assert_eq!(written(fields_only), expected, "payload {payload}");
            // A payload held as the publisher's text (spaced out here) gives
            // the same object as one held as a `Value`.
            let mut kept = message.clone();
            let text = serde_json::to_string_pretty(&payload).unwrap();
            kept.payload = rohas_events::Payload::from_json(RawValue::from_string(format!(" {text}\n")).unwrap());
            assert!(kept.payload.text().is_some());
            for needs in [Needs::ALL, slim, fields_only] {
                let read = |m: &Message| serde_json::from_slice::<Value>(&event_request_json(m, needs)).unwrap();
                assert_eq!(read(&kept), read(&message), "payload {payload}");
            }
        }
    }
}
