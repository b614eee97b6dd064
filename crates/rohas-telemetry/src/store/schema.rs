//! The telemetry file's tables. Spans and logs are appended in the order
//! they end, so their rowids follow time closely: retention deletes a
//! prefix by rowid and no time index is paid for on every insert. The
//! only indexes are the ones the API's lookups need: spans by trace, the
//! roots of traces by start (a partial index: roots only), logs by trace.

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
    attributes    TEXT
);
CREATE INDEX IF NOT EXISTS spans_by_trace ON spans(trace_id);
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
