//! The telemetry file's tables. Spans are written a batch at a time, one
//! row per batch (`span_blocks`, see [`super::block`]): the writer pays one
//! B-tree insert for hundreds of spans. The batch's bytes are in a segment
//! file (`segment`, `offset`, `length`; see [`super::segments`]). Each row
//! keeps what the lookups need to skip the others:
//! - `min_trace`/`max_trace`: the range of the trace ids it holds "in
//!   place". The engine's trace ids begin with their time, so a block's
//!   range is narrow and a trace is found in the one or two blocks whose
//!   range holds its id (an index on the range). A span far from its
//!   trace's time (a retry an hour later, a delayed event) or of a trace id
//!   that does not begin with a time (a client's) would widen the range:
//!   it is listed in `late_spans` (trace id → block) instead.
//! - `bound_ns`: no trace root in this block or any earlier one started
//!   after it (the trace list, newest first, stops reading there).
//! - `max_start_ns`: retention deletes a block once all its spans are older.
//!
//! Logs are appended in the order they are written, so their rowids follow
//! time: retention deletes a prefix by rowid.
//!
//! A file written by an earlier version (one `spans` row per span, or
//! blocks with their bytes in the row) loses those spans when opened: they
//! are dropped, not converted ([`OLD_BLOCKS`]).

pub(crate) const SCHEMA: &str = "
DROP TABLE IF EXISTS spans;
CREATE TABLE IF NOT EXISTS span_blocks (
    id           INTEGER PRIMARY KEY,
    bound_ns     INTEGER NOT NULL,
    max_start_ns INTEGER NOT NULL,
    min_trace    TEXT,
    max_trace    TEXT,
    roots        INTEGER NOT NULL,
    spans        INTEGER NOT NULL,
    segment      INTEGER NOT NULL,
    offset       INTEGER NOT NULL,
    length       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS span_blocks_by_trace ON span_blocks(max_trace, min_trace) WHERE max_trace IS NOT NULL;
CREATE INDEX IF NOT EXISTS span_blocks_by_segment ON span_blocks(segment);
CREATE TABLE IF NOT EXISTS late_spans (
    trace_id TEXT    NOT NULL,
    block    INTEGER NOT NULL,
    PRIMARY KEY (trace_id, block)
) WITHOUT ROWID;

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

/// Whether the file's `span_blocks` is an earlier version's (bytes in the
/// row): then it and `late_spans` are dropped before [`SCHEMA`] runs.
pub(crate) const OLD_BLOCKS: &str = "SELECT count(*) FROM pragma_table_info('span_blocks') WHERE name = 'data'";

/// Drops an earlier version's blocks.
pub(crate) const DROP_OLD_BLOCKS: &str = "DROP TABLE IF EXISTS span_blocks; DROP TABLE IF EXISTS late_spans;";

/// The file's name inside `[telemetry] path`.
pub(crate) const FILE: &str = "telemetry.db";
