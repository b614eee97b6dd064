//! Rohas telemetry: what the engine did, kept so people can look at it.
//!
//! The engine records [`Span`]s (requests, middlewares, handler calls,
//! event publishes and deliveries, cron runs, WebSocket traffic) and
//! [`LogEntry`]s through a [`Telemetry`] handle. Recording never waits:
//! spans go onto bounded per-thread buffers, log lines into a bounded
//! queue, and one background thread writes them to an embedded SQLite
//! file in batches, adds them up into metrics and hands them to exporters
//! (OTLP). A full buffer or queue drops the record and counts it; a full
//! disk or a damaged file stops the writing (and says so once), never the
//! application.
//!
//! The same crate answers the queries the telemetry API and the CLI make:
//! trace lists, a trace's span tree with its logs, logs, metric series,
//! and the Prometheus text.

mod clock;
mod ids;
mod limits;
mod log;
pub mod metrics;
pub mod otlp;
mod query;
mod recorder;
mod span;
mod span_buffers;
mod store;
mod trace_id;

pub use clock::ns_at;
pub use ids::{new_trace_id, new_trace_id_at, trace_id_bytes, w3c_trace_id, SpanId, TraceParent};
pub use limits::{cut, MAX_MESSAGE, MAX_VALUE};
pub use log::{Level, LogEntry};
pub use metrics::{Gauge, ProcessStats};
pub use otlp::{OtlpError, OtlpExporter, OtlpOptions, OtlpProtocol};
pub use query::{LogQuery, MetricsQuery, Page, QueryError, SpanNode, TraceQuery, TraceSummary, TraceTree};
pub use recorder::{Notice, Options, Reader, Sink, Telemetry};
pub use span::{Attributes, Span, SpanKind, SpanStatus, Timer};
pub use trace_id::TraceId;

/// Nanoseconds since the Unix epoch, now, on the clock every span and log
/// line of this process uses (`clock.rs`).
pub fn now_ns() -> u64 {
    clock::ns_at(std::time::Instant::now())
}
