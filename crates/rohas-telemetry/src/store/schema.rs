//! The telemetry file's tables. Spans are kept in trace-id order (a
//! `WITHOUT ROWID` table keyed by trace and span): the table is its own
//! index by trace, one B-tree insert per span, and as the engine's trace
//! ids begin with the time, it grows at its end and retention deletes a
//! prefix. Logs are appended in the order they are written, so their
//! rowids follow time: retention deletes a prefix by rowid. Besides, only
//! what the API's lookups need: the roots of traces by start (a partial
//! index: roots only) and logs by trace.

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spans (
    trace_id      TEXT    NOT NULL,
    span_id       INTEGER NOT NULL,
    parent_id     INTEGER,
    root          INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    kind          INTEGER NOT NULL,
    handler       TEXT,
    start_ns      INTEGER NOT NULL,
    duration_ns   INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    event         TEXT,
    attempt       INTEGER,
    message_id    TEXT,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    attributes    TEXT,
    PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS roots_by_start ON spans(start_ns) WHERE root = 1;

CREATE TABLE IF NOT EXISTS logs (
    id        INTEGER PRIMARY KEY,
    time_ns   INTEGER NOT NULL,
    level     INTEGER NOT NULL,
    source    TEXT    NOT NULL,
    trace_id  TEXT,
    span_id   INTEGER,
    message   TEXT    NOT NULL,
    fields    TEXT,
    truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS logs_by_trace ON logs(trace_id) WHERE trace_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS metric_points (
    at_s   INTEGER NOT NULL,
    name   TEXT    NOT NULL,
    labels TEXT    NOT NULL,
    value  REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_points_by_time ON metric_points(at_s);
";

/// The file's name inside `[telemetry] path`.
pub(crate) const FILE: &str = "telemetry.db";
