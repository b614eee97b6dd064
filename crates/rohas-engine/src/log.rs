//! The engine's log stream: one line per event, for people on a terminal
//! and for tests that read stderr.
//!
//! `2026-11-24T15:40:00.123Z INFO  api:CreateUser trace=4bf9… created user id=7`
//!
//! Handler output (`state.logger`, `print`, `console.log`, `println!`) comes
//! through [`Log::record`], tagged with its handler and trace id. Level from
//! `ROHAS_LOG_LEVEL` (default `info`).

use rohas_runtime::LogRecord;
use serde_json::{Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            _ => return None,
        })
    }
    fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO ",
            Level::Warn => "WARN ",
            Level::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Log {
    min: Level,
    /// Set by [`Log::captured`] only: every line is kept here too.
    copy: Option<Captured>,
}

/// The lines a [`Log::captured`] log wrote, as written (with their
/// newline). Some behaviour is visible only as a log line (a response that
/// does not match the schema in `rohas dev`, a skipped cron tick), and a
/// test running in-process cannot read its own stderr.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Log {
    pub fn from_env() -> Self {
        let min = std::env::var("ROHAS_LOG_LEVEL")
            .ok()
            .and_then(|l| Level::parse(&l))
            .unwrap_or(Level::Info);
        Log { min, copy: None }
    }

    /// A log at `debug` that also keeps its lines in memory, for the
    /// engine's in-process tests. Lines still go to stderr.
    pub fn captured() -> (Self, Captured) {
        let copy = Captured::default();
        (
            Log {
                min: Level::Debug,
                copy: Some(copy.clone()),
            },
            copy,
        )
    }

    pub fn enabled(&self, level: Level) -> bool {
        level >= self.min
    }

    /// One line: time, level, source (`engine`, `api:CreateUser` …), trace id, message, fields.
    pub fn line(&self, level: Level, source: &str, trace_id: Option<&str>, message: &str, fields: &Map<String, Value>) {
        if !self.enabled(level) {
            return;
        }
        let mut line = format!(
            "{} {} {source}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            level.label()
        );
        if let Some(trace) = trace_id.filter(|t| !t.is_empty()) {
            line.push_str(&format!(" trace={trace}"));
        }
        line.push(' ');
        line.push_str(message.trim_end());
        for (k, v) in fields {
            match v {
                Value::String(s) => line.push_str(&format!(" {k}={s}")),
                other => line.push_str(&format!(" {k}={other}")),
            }
        }
        line.push('\n');
        // One write call per line keeps lines whole when tasks log at once.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        if let Some(copy) = &self.copy {
            copy.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }

    pub fn info(&self, message: &str) {
        self.line(Level::Info, "engine", None, message, &Map::new());
    }

    pub fn warn(&self, message: &str) {
        self.line(Level::Warn, "engine", None, message, &Map::new());
    }

    pub fn error(&self, message: &str) {
        self.line(Level::Error, "engine", None, message, &Map::new());
    }

    pub fn debug(&self, message: &str) {
        self.line(Level::Debug, "engine", None, message, &Map::new());
    }

    pub fn record(&self, record: &LogRecord) {
        let level = Level::parse(record.level).unwrap_or(Level::Info);
        self.line(
            level,
            &record.handler,
            Some(&record.trace_id),
            &record.message,
            &record.fields,
        );
    }
}

/// A new 32-hex-digit id (trace ids, event ids). Ids only need to be unique,
/// not secret: a random per-process seed and a counter, mixed (splitmix64)
/// so consecutive ids do not look alike. No system call per id, unlike a
/// fresh random UUID, which showed up in profiles of the hot path.
pub fn new_trace_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (high, low) = *SEED.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 32];
    for (i, half) in [mix(high ^ n), mix(low.wrapping_add(n))].into_iter().enumerate() {
        for (j, digit) in id[i * 16..(i + 1) * 16].iter_mut().enumerate() {
            *digit = HEX[((half >> ((15 - j) * 4)) & 0xf) as usize];
        }
    }
    std::str::from_utf8(&id).unwrap_or_default().to_string()
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #[test]
    fn trace_ids_are_32_lowercase_hex_digits_and_distinct() {
        let a = super::new_trace_id();
        let b = super::new_trace_id();
        assert_eq!(a.len(), 32, "{a}");
        assert!(
            a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{a}"
        );
        assert_ne!(a, b);
    }
}
