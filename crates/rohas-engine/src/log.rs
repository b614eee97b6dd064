//! The engine's log stream: one line per event, for people on a terminal
//! and for tests that read stderr.
//!
//! `2026-11-24T15:40:00.123Z INFO  api:CreateUser trace=4bf9… created user id=7`
//!
//! Handler output (`state.logger`, `print`, `console.log`, `println!`) comes
//! through [`Log::record`], tagged with its handler and trace id. Level from
//! `ROHAS_LOG_LEVEL` (default `info`).

use rohas_runtime::{LogLevel, LogRecord};
use rohas_telemetry::{LogEntry, Telemetry};
use serde_json::{Map, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The engine's levels are the stored ones: a line and its telemetry
/// record never disagree.
pub use rohas_telemetry::Level;

/// The level as the line shows it, five characters wide.
fn label(level: Level) -> &'static str {
    match level {
        Level::Trace => "TRACE",
        Level::Debug => "DEBUG",
        Level::Info => "INFO ",
        Level::Warn => "WARN ",
        Level::Error => "ERROR",
    }
}

/// What a handler's log line is stored as.
fn from_host(level: LogLevel) -> Level {
    match level {
        LogLevel::Trace => Level::Trace,
        LogLevel::Debug => Level::Debug,
        LogLevel::Info => Level::Info,
        LogLevel::Warn => Level::Warn,
        LogLevel::Error => Level::Error,
    }
}

#[derive(Clone)]
pub struct Log {
    min: Level,
    /// Set by [`Log::captured`] only: every line is kept here too.
    copy: Option<Captured>,
    /// Every line written is also recorded here (stored, queryable,
    /// exported), with its trace id and source.
    telemetry: Telemetry,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").field("min", &self.min).finish_non_exhaustive()
    }
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
        let min = rohas_config::ProcessVar::LogLevel
            .get()
            .and_then(|l| Level::parse(&l))
            .unwrap_or(Level::Info);
        Log {
            min,
            copy: None,
            telemetry: Telemetry::off(),
        }
    }

    /// The same log, also recording every line (and the engine's spans,
    /// which reach telemetry through [`Log::telemetry`]).
    pub fn with_telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// A log at `debug` that also keeps its lines in memory, for the
    /// engine's in-process tests. Lines still go to stderr.
    pub fn captured() -> (Self, Captured) {
        let copy = Captured::default();
        (
            Log {
                min: Level::Debug,
                copy: Some(copy.clone()),
                telemetry: Telemetry::off(),
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
            label(level)
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
        if self.telemetry.logs_on() {
            self.telemetry.log(LogEntry {
                time_ns: rohas_telemetry::now_ns(),
                level,
                source: Arc::from(source),
                trace_id: trace_id.filter(|t| !t.is_empty()).map(str::to_string),
                span_id: None,
                message: message.trim_end().to_string(),
                fields: fields.clone(),
                truncated: false,
            });
        }
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
        self.line(
            from_host(record.level),
            &record.handler,
            Some(&record.trace_id),
            &record.message,
            &record.fields,
        );
    }
}

/// A new 32-hex-digit trace id (see [`rohas_telemetry::new_trace_id`]).
pub fn new_trace_id() -> String {
    rohas_telemetry::new_trace_id()
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
