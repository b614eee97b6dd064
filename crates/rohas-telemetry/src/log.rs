//! A log line as telemetry keeps it: the handler's or the engine's, with
//! its trace and (where known) span.

use crate::ids::SpanId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub const ALL: [Level; 5] = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// `warning` is read as `warn`; case does not matter.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.to_ascii_lowercase();
        if s == "warning" {
            return Some(Level::Warn);
        }
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub(crate) fn code(self) -> i64 {
        self as i64
    }

    pub(crate) fn from_code(code: i64) -> Level {
        usize::try_from(code)
            .ok()
            .and_then(|i| Level::ALL.get(i).copied())
            .unwrap_or(Level::Info)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Nanoseconds since the Unix epoch.
    pub time_ns: u64,
    pub level: Level,
    /// `engine`, or the handler id that wrote it (`api:CreateUser`).
    pub source: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<SpanId>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// Set when the message or a field was cut to the size limits.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}
