//! What a handler asked to publish, kept as the JSON text the engine reads.
//!
//! `state.trigger_event(name, payload)` writes the payload straight to JSON
//! text ([`Asked`]), and a successful call's reply carries that text as it
//! is. Keeping it as a `serde_json::Value` instead built a tree per event
//! (a copy of a `json!` payload, field by field), then wrote the tree out
//! for the reply and dropped it: a tenth of a small event's instructions.
//!
//! [`Effects`](super::Effects), with each payload as a `Value`, is what
//! [`State::effects`](super::State::effects) and
//! [`State::take_effects`](super::State::take_effects) show a test: it is
//! read back from the text when asked for.

use super::{Effects, TriggeredEvent};
use std::time::Duration;

/// One `trigger_event`, `trigger_event_after` or `set_payload` call.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub event: String,
    /// JSON text serde_json wrote. A `String` as the serializer left it,
    /// not a `Box<RawValue>`: making that shrank (copied) every payload
    /// into a new allocation.
    pub payload: String,
    pub delay: Option<Duration>,
}

/// Everything a handler asked for, in call order.
#[derive(Debug, Clone, Default)]
pub(crate) struct AskedEffects {
    pub triggered: Vec<Asked>,
    /// One entry per event (last call wins).
    pub payloads: Vec<Asked>,
}

impl AskedEffects {
    pub fn is_empty(&self) -> bool {
        self.triggered.is_empty() && self.payloads.is_empty()
    }

    /// The effects with each payload read back as a `Value`.
    pub fn to_effects(&self) -> Effects {
        let read = |asked: &Asked| TriggeredEvent {
            event: asked.event.clone(),
            // Text this crate wrote from a `Value`-able payload: it reads back.
            payload: serde_json::from_str(&asked.payload).unwrap_or_default(),
            delay: asked.delay,
        };
        Effects {
            triggered: self.triggered.iter().map(read).collect(),
            payloads: self.payloads.iter().map(read).collect(),
        }
    }

    /// `"triggered":[…],"payloads":{…}` of a reply, appended to `out`: each
    /// `trigger_event` as `[event, payload]`, or `[event, payload,
    /// delay_ms]` for `trigger_event_after`; `set_payload` as `{event:
    /// payload}`.
    pub fn write_reply_fields(&self, out: &mut Vec<u8>) {
        // Sized at once: a handler may trigger thousands of events, and a
        // reply grown step by step copied itself a dozen times.
        let size: usize = (self.triggered.iter())
            .chain(&self.payloads)
            .map(|a| a.event.len() + a.payload.len() + 32)
            .sum();
        out.reserve(size + 32);
        out.extend_from_slice(b"\"triggered\":[");
        for (i, asked) in self.triggered.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write_str(out, &asked.event);
            out.push(b',');
            out.extend_from_slice(asked.payload.as_bytes());
            if let Some(delay) = asked.delay {
                out.push(b',');
                out.extend_from_slice(delay_ms(delay).to_string().as_bytes());
            }
            out.push(b']');
        }
        out.extend_from_slice(b"],\"payloads\":{");
        for (i, asked) in self.payloads.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, &asked.event);
            out.push(b':');
            out.extend_from_slice(asked.payload.as_bytes());
        }
        out.push(b'}');
    }
}

/// `s` as a JSON string.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a `str` to a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `delay` in whole milliseconds, rounded up (an event may come late, never
/// early); a delay beyond `u64::MAX` ms (half a billion years) saturates.
fn delay_ms(delay: Duration) -> u64 {
    u64::try_from(delay.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}
