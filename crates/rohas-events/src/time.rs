//! Times as milliseconds since the Unix epoch: what the store keeps and
//! compares, written as RFC 3339 text wherever a person or a web page reads
//! them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Millis {
    pub fn now() -> Millis {
        // The clock alone: chrono's `Utc::now` built a calendar date and
        // time that `timestamp_millis` turned back into this number.
        use std::time::{SystemTime, UNIX_EPOCH};
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Millis(d.as_secs() as i64 * 1000 + d.subsec_millis() as i64),
            Err(before) => Millis(-(before.duration().as_millis().min(i64::MAX as u128) as i64)),
        }
    }

    pub fn after(self, delay: std::time::Duration) -> Millis {
        Millis(self.0.saturating_add(delay.as_millis().min(i64::MAX as u128) as i64))
    }

    /// How long from now until this time (zero when it has passed).
    pub fn from_now(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.saturating_sub(Millis::now().0).max(0) as u64)
    }

    pub fn rfc3339(self) -> String {
        // Messages published together share their millisecond: each
        // thread keeps the last one written (formatting was a tenth of
        // building an event's request).
        thread_local! {
            static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
        }
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if last.0 != self.0 {
                *last = (
                    self.0,
                    chrono::DateTime::from_timestamp_millis(self.0)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                );
            }
            last.1.clone()
        })
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| Millis(t.timestamp_millis()))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_the_clock_in_milliseconds() {
        let before = chrono::Utc::now().timestamp_millis();
        let now = Millis::now().0;
        let after = chrono::Utc::now().timestamp_millis();
        assert!(before <= now && now <= after, "{before} <= {now} <= {after}");
    }

    #[test]
    fn round_trips_through_rfc3339() {
        let t = Millis(1_764_700_000_123);
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, "\"2025-12-02T18:26:40.123Z\"");
        assert_eq!(serde_json::from_str::<Millis>(&text).unwrap(), t);
    }

    /// The last time written is kept per thread: asking again, or for
    /// another time and back, gives each its own text.
    #[test]
    fn each_time_is_written_as_its_own_rfc3339() {
        let a = Millis(1_733_500_000_123);
        let b = Millis(1_733_500_000_124);
        assert_eq!(a.rfc3339(), "2024-12-06T15:46:40.123Z");
        assert_eq!(a.rfc3339(), "2024-12-06T15:46:40.123Z");
        assert_eq!(b.rfc3339(), "2024-12-06T15:46:40.124Z");
        assert_eq!(a.rfc3339(), "2024-12-06T15:46:40.123Z");
        assert_eq!(Millis(0).rfc3339(), "1970-01-01T00:00:00.000Z");
    }
}
