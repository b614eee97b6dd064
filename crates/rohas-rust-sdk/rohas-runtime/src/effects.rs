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
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;
use std::time::Duration;

/// One `trigger_event`, `trigger_event_after` or `set_payload` call.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub event: String,
    pub payload: Box<RawValue>,
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
            payload: serde_json::from_str(asked.payload.get()).unwrap_or_default(),
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
        out.extend_from_slice(b"\"triggered\":");
        let mut json = serde_json::Serializer::new(&mut *out);
        let written = (|| {
            let mut list = json.serialize_seq(Some(self.triggered.len()))?;
            for asked in &self.triggered {
                match asked.delay {
                    None => list.serialize_element(&(&asked.event, &asked.payload))?,
                    Some(delay) => {
                        list.serialize_element(&(&asked.event, &asked.payload, delay_ms(delay)))?
                    }
                }
            }
            SerializeSeq::end(list)
        })();
        debug_assert!(written.is_ok(), "writing to a Vec does not fail");
        out.extend_from_slice(b",\"payloads\":");
        let mut json = serde_json::Serializer::new(&mut *out);
        let written = (|| {
            let mut map = json.serialize_map(Some(self.payloads.len()))?;
            for asked in &self.payloads {
                map.serialize_entry(&asked.event, &asked.payload)?;
            }
            SerializeMap::end(map)
        })();
        debug_assert!(written.is_ok(), "writing to a Vec does not fail");
    }
}

/// `delay` in whole milliseconds, rounded up (an event may come late, never
/// early); a delay beyond `u64::MAX` ms (half a billion years) saturates.
fn delay_ms(delay: Duration) -> u64 {
    u64::try_from(delay.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}
