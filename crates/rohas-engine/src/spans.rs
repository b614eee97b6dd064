//! The spans the engine records, in one place: how one is opened and
//! closed, and the shapes of a trace (who is whose parent).
//!
//! ```text
//! request  GET /users/{id}           (root, or child of an incoming traceparent)
//! ├─ middleware middleware:auth
//! ├─ handler api:GetUser             (the runtime call itself)
//! └─ publish UserViewed              (its message carries this span as traceparent)
//!    └─ delivery UserViewed → audit  (one per attempt; a child of the publish)
//!       ├─ handler event:UserViewed:audit
//!       └─ publish …                 (and so on, however many hops)
//! ```
//!
//! Cron runs and WebSocket connect/message/disconnect are roots of their
//! own traces, with the same children. When telemetry wants no spans
//! ([`rohas_telemetry::Telemetry::spans_on`]) nothing is built: every
//! `open` returns `None` and every `close` of `None` does nothing.

use crate::engine::Shared;
use rohas_telemetry::{Span, SpanId, SpanKind, Timer};
use std::sync::Arc;

/// A span being timed.
pub(crate) struct Open {
    span: Span,
    timer: Timer,
}

impl Open {
    pub fn id(&self) -> SpanId {
        self.span.span_id
    }

    pub fn span_mut(&mut self) -> &mut Span {
        &mut self.span
    }

    pub fn span(&self) -> &Span {
        &self.span
    }
}

/// The id of an open span, if there is one (the parent of what it runs).
pub(crate) fn id_of(open: &Option<Open>) -> Option<SpanId> {
    open.as_ref().map(Open::id)
}

impl Shared {
    /// Opens a span of `trace_id` under `parent`, or `None` when spans are off.
    pub(crate) fn open_span(
        &self,
        trace_id: &str,
        parent: Option<SpanId>,
        name: impl FnOnce() -> Arc<str>,
        kind: SpanKind,
    ) -> Option<Open> {
        if !self.telemetry.spans_on() {
            return None;
        }
        self.open_span_timed(Timer::start(), trace_id, parent, name, kind)
    }

    /// [`Shared::open_span`] timed from `timer` (started by the caller,
    /// who read the clock for something else too).
    pub(crate) fn open_span_timed(
        &self,
        timer: Timer,
        trace_id: &str,
        parent: Option<SpanId>,
        name: impl FnOnce() -> Arc<str>,
        kind: SpanKind,
    ) -> Option<Open> {
        if !self.telemetry.spans_on() {
            return None;
        }
        Some(Open {
            span: Span::new(trace_id, SpanId::random(), parent, name(), kind),
            timer,
        })
    }

    /// Ends a span: `finish` sets how it ended, then it is recorded.
    pub(crate) fn close_span(&self, open: Option<Open>, finish: impl FnOnce(&mut Span)) {
        if let Some(Open { mut span, timer }) = open {
            timer.stop(&mut span);
            finish(&mut span);
            self.telemetry.span(span);
        }
    }
}

/// Closes its span when dropped (every return of a function with many),
/// failed if [`Guard::fail`] was called.
pub(crate) struct Guard<'a> {
    shared: &'a Shared,
    open: Option<Open>,
    error: std::sync::Mutex<Option<String>>,
}

impl<'a> Guard<'a> {
    pub fn new(shared: &'a Shared, open: Option<Open>) -> Self {
        Guard {
            shared,
            open,
            error: std::sync::Mutex::new(None),
        }
    }

    pub fn id(&self) -> Option<SpanId> {
        id_of(&self.open)
    }

    pub fn fail(&self, error: String) {
        *rohas_runtime::sync::lock(&self.error) = Some(error);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let error = rohas_runtime::sync::lock(&self.error).take();
        self.shared.close_span(self.open.take(), |s| {
            if let Some(e) = error {
                s.failed(e);
            }
        });
    }
}

/// `event:UserCreated:sendWelcome` → `UserCreated → sendWelcome`.
pub(crate) fn delivery_name(handler_id: &str) -> Arc<str> {
    let id = rohas_runtime::HandlerId::parse(handler_id);
    match id.as_ref().and_then(|id| Some((id.scope(), id.handler()?))) {
        Some((event, handler)) => Arc::from(format!("{event} → {handler}")),
        None => Arc::from(handler_id),
    }
}

/// The parent a message names in its `traceparent`, if it is one we can
/// read: kept beside it when this engine wrote it, else read from the text.
pub(crate) fn parent_of(message: &rohas_events::Message) -> Option<SpanId> {
    if let Some(id) = message.parent_span.and_then(SpanId::from_u64) {
        return Some(id);
    }
    message
        .traceparent
        .as_deref()
        .and_then(rohas_telemetry::TraceParent::parent_in)
}

#[cfg(test)]
mod tests {
    #[test]
    fn delivery_spans_are_named_event_then_handler() {
        assert_eq!(
            &*super::delivery_name("event:UserCreated:sendWelcome"),
            "UserCreated → sendWelcome"
        );
        assert_eq!(&*super::delivery_name("odd"), "odd");
    }

    /// The span id kept beside a message is the one its `traceparent`
    /// names; without it (a message read back) the text is read.
    #[test]
    fn a_delivery_parent_is_the_kept_span_id_or_the_traceparent_read() {
        use rohas_telemetry::{SpanId, TraceParent};
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let id = SpanId::from_u64(0x00f0_67aa_0ba9_02b7).unwrap();
        let mut m = rohas_events::Message::new("E", serde_json::json!(1), trace, "test");
        assert_eq!(super::parent_of(&m), None);
        m.traceparent = Some(TraceParent::format(trace, id, true));
        assert_eq!(super::parent_of(&m), Some(id));
        m.parent_span = Some(id.as_u64());
        assert_eq!(super::parent_of(&m), Some(id));
        let back: rohas_events::Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.parent_span, None, "never stored or sent");
        assert_eq!(super::parent_of(&back), Some(id));
    }
}
