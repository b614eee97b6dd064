//! The envelope every adapter carries, and who subscribes to what.

use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A message's identity: the same across redeliveries and replays, so a
/// handler can be idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// 128 random bits as 32 hex digits (the shape of a W3C trace id).
    pub fn random() -> MessageId {
        // Written digit by digit: `format!("{:032x}")` went through the
        // formatting machinery once per published event.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n = random_u128();
        let mut digits = [0u8; 32];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = HEX[((n >> (124 - 4 * i)) & 0xf) as usize];
        }
        // Checked, not lossy: the lossy path looked at every byte twice.
        MessageId(String::from_utf8(digits.to_vec()).unwrap_or_default())
    }
}

/// 128 bits from a per-thread SplitMix64 sequence whose start is drawn
/// from the OS-seeded `RandomState` with the time and the thread: ids
/// differ across threads and processes, and one costs a few
/// multiplications (SipHash twice per id was most of the id's cost).
/// Uniqueness, not secrecy, is what an id needs.
fn random_u128() -> u128 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hash, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_i64(Millis::now().0);
            std::thread::current().id().hash(&mut h);
            h.finish()
        });
    }
    fn next(state: &Cell<u64>) -> u64 {
        let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    STATE.with(|state| ((next(state) as u128) << 64) | next(state) as u128)
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What travels: one event published once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub event: String,
    pub payload: Value,
    pub published_at: Millis,
    /// A delayed event: not delivered before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_at: Option<Millis>,
    pub trace_id: String,
    /// W3C trace context of the span that published it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// What published it: `api:CreateUser`, `cron:Cleanup`, `cli` …
    pub source: String,
    /// Which schema (a number the publisher chose for the schema it runs)
    /// this process checked the payload against when publishing. Never
    /// stored or sent: a message read back from a store or a broker has
    /// `None`, so its payload is checked again before a handler sees it.
    #[serde(skip)]
    pub checked: Option<u64>,
    /// `payload` as compact JSON, when the publisher already wrote it
    /// (checking its size): see [`Message::with_payload_json`].
    #[serde(skip)]
    pub(crate) payload_json: PayloadJson,
}

/// A copy of a message's payload as compact JSON text, kept beside the
/// `Value` by the process that published it. The queue file's envelope and
/// a Rust handler's request copy it instead of writing the `Value` out
/// again (each writing was some 1,000 instructions an event). Never
/// stored or sent: a message read back has none and is written from its
/// `Value`. Not part of a message's equality: it only repeats `payload`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PayloadJson(Option<String>);

impl PartialEq for PayloadJson {
    fn eq(&self, _: &PayloadJson) -> bool {
        true
    }
}

impl Message {
    pub fn new(
        event: impl Into<String>,
        payload: Value,
        trace_id: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Message {
            id: MessageId::random(),
            event: event.into(),
            payload,
            published_at: Millis::now(),
            deliver_at: None,
            trace_id: trace_id.into(),
            traceparent: None,
            source: source.into(),
            checked: None,
            payload_json: PayloadJson::default(),
        }
    }

    /// The message with `json` kept as its payload's text. `json` must be
    /// `payload` written by `serde_json` (compact); whoever changes
    /// `payload` afterwards calls [`Message::set_payload`] instead of
    /// assigning it, or the old text would travel.
    /// (A `String` as the serializer left it, its spare room and all:
    /// shrinking it to a `Box<str>` or an `Arc<str>` was a second
    /// allocation and copy per event.)
    pub fn with_payload_json(mut self, json: String) -> Self {
        self.payload_json = PayloadJson(Some(json));
        self
    }

    /// The payload as compact JSON, if the publisher kept it.
    pub fn payload_json(&self) -> Option<&str> {
        self.payload_json.0.as_deref()
    }

    /// Replaces the payload (and forgets its kept text).
    pub fn set_payload(&mut self, payload: Value) {
        self.payload = payload;
        self.payload_json = PayloadJson::default();
    }

    pub fn delayed(mut self, delay: Option<std::time::Duration>) -> Self {
        self.deliver_at = delay.map(|d| self.published_at.after(d));
        self
    }
}

/// A subscription is one handler of one event: each gets every message of
/// its event and acknowledges it alone, so one handler's failure never runs
/// another handler's success again. The id is the handler's id
/// (`event:<Event>:<handler>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(pub Arc<str>);

impl SubscriptionId {
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        SubscriptionId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub event: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_id_is_32_lower_hex_digits_and_new_each_time() {
        let ids: std::collections::HashSet<MessageId> = (0..10_000).map(|_| MessageId::random()).collect();
        assert_eq!(ids.len(), 10_000);
        let other_thread = std::thread::spawn(MessageId::random).join().unwrap();
        assert!(!ids.contains(&other_thread));
        for id in ids.iter().take(100) {
            assert_eq!(id.0.len(), 32);
            assert!(
                id.0.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
                "{id}"
            );
        }
    }

    /// `checked` is this process's own note: what a store keeps or a
    /// broker carries never says a payload was checked, so whoever reads
    /// the message back checks it again.
    #[test]
    fn whether_a_payload_was_checked_is_never_stored_or_sent() {
        let mut message = Message::new("E", serde_json::json!({"n": 1}), "t", "test");
        message.checked = Some(7);
        let text = serde_json::to_string(&message).unwrap();
        assert!(!text.contains("checked"), "{text}");
        let back: Message = serde_json::from_str(&text).unwrap();
        assert_eq!(back.checked, None);
        assert_eq!(back.payload, message.payload);
    }
}
