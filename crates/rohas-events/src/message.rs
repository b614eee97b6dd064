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
        MessageId(format!("{:032x}", random_u128()))
    }
}

fn random_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process from the OS; a counter makes each
    // call different. Uniqueness, not secrecy, is what an id needs.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let state = std::collections::hash_map::RandomState::new();
    let mut a = state.build_hasher();
    a.write_u64(n);
    let mut b = state.build_hasher();
    b.write_u64(n ^ 0x9e37_79b9_7f4a_7c15);
    b.write_i64(Millis::now().0);
    ((a.finish() as u128) << 64) | b.finish() as u128
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
