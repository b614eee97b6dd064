//! The envelope every adapter carries, and who subscribes to what.

use crate::payload::Payload;
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A message's identity: the same across redeliveries and replays, so a
/// handler can be idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    /// 128 random bits as 32 hex digits (the shape of a W3C trace id).
    pub fn random() -> MessageId {
        // Checked, not lossy: the lossy path looked at every byte twice.
        MessageId(String::from_utf8(lower_hex(random_u128()).to_vec()).unwrap_or_default())
    }
}

/// `n` as 32 lower-case hex digits, eight at a time: each nibble moved to
/// a byte of its own, then made a digit or a letter with a few additions
/// (`format!("{:032x}")` went through the formatting machinery, and a
/// table lookup per digit was 300 instructions an event).
fn lower_hex(n: u128) -> [u8; 32] {
    let mut digits = [0u8; 32];
    for (i, chunk) in digits.chunks_exact_mut(8).enumerate() {
        let mut v = ((n >> (96 - 32 * i)) as u32) as u64;
        v = ((v & 0xffff_0000) << 16) | (v & 0xffff);
        v = ((v & 0x0000_ff00_0000_ff00) << 8) | (v & 0x0000_00ff_0000_00ff);
        v = ((v & 0x00f0_00f0_00f0_00f0) << 4) | (v & 0x000f_000f_000f_000f);
        // 1 in each byte whose nibble is 10 or more.
        let letter = ((v + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        v += 0x3030_3030_3030_3030 + letter * (b'a' - b'0' - 10) as u64;
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    digits
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
    /// The publisher's JSON text, read into a value when asked
    /// ([`Payload`]).
    pub payload: Payload,
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
    /// The span id the `traceparent` names, when this process wrote it:
    /// a delivery takes its parent from here instead of reading the text
    /// back (a tenth of recording a delivery's spans). Never stored or
    /// sent, like `checked`.
    #[serde(skip)]
    pub parent_span: Option<u64>,
}

impl Message {
    pub fn new(
        event: impl Into<String>,
        payload: impl Into<Payload>,
        trace_id: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Message {
            id: MessageId::random(),
            event: event.into(),
            payload: payload.into(),
            published_at: Millis::now(),
            deliver_at: None,
            trace_id: trace_id.into(),
            traceparent: None,
            source: source.into(),
            checked: None,
            parent_span: None,
        }
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
    fn hex_digits_are_what_format_writes() {
        for n in [
            0,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
            0xa0a0_9f9f << 64,
        ] {
            assert_eq!(std::str::from_utf8(&lower_hex(n)).unwrap(), format!("{n:032x}"));
        }
        for _ in 0..1000 {
            let n = random_u128();
            assert_eq!(std::str::from_utf8(&lower_hex(n)).unwrap(), format!("{n:032x}"));
        }
    }

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
