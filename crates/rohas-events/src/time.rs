//! Times as milliseconds since the Unix epoch: what the store keeps and
//! compares, written as RFC 3339 text wherever a person or a web page reads
//! them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Millis {
    pub fn now() -> Millis {
        Millis(chrono::Utc::now().timestamp_millis())
    }

    pub fn after(self, delay: std::time::Duration) -> Millis {
        Millis(self.0.saturating_add(delay.as_millis().min(i64::MAX as u128) as i64))
    }

    /// How long from now until this time (zero when it has passed).
    pub fn from_now(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.saturating_sub(Millis::now().0).max(0) as u64)
    }

    pub fn rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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
    fn round_trips_through_rfc3339() {
        let t = Millis(1_764_700_000_123);
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, "\"2025-12-02T18:26:40.123Z\"");
        assert_eq!(serde_json::from_str::<Millis>(&text).unwrap(), t);
    }
}
