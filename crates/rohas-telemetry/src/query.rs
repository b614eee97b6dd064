//! What the telemetry API and the CLI ask the store, and the JSON they get
//! back. Lists are pages (`{"items": [...], "next": "cursor"}`, newest
//! first), the same shape as the admin API's; pass `next` back as `after`.

use crate::ids::SpanId;
use crate::log::{Level, LogEntry};
use crate::span::{Span, SpanKind, SpanStatus};
use crate::store::read::{Blocks, ReadError};
use rusqlite::{params_from_iter, types::Value as Sql, Connection};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Most items one page holds.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no trace {0} in the telemetry store")]
    NotFound(String),
    #[error("telemetry store {path}: {error}")]
    Store { path: String, error: String },
    /// SQLite found the file damaged while reading it. The engine tells
    /// the recorder ([`crate::Telemetry::damaged`]), which moves it aside.
    #[error("telemetry store {path} is damaged ({error}); a running engine moves it aside and starts a new one")]
    Damaged { path: String, error: String },
}

impl QueryError {
    /// The HTTP status the API answers with.
    pub fn status(&self) -> u16 {
        match self {
            QueryError::BadRequest(_) => 400,
            QueryError::NotFound(_) => 404,
            QueryError::Store { .. } | QueryError::Damaged { .. } => 503,
        }
    }
}

/// Filters of the trace list. Times are nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceQuery {
    /// Traces in which this handler ran (any span).
    pub handler: Option<String>,
    /// The kind of the trace's first span (`request`, `cron`, `delivery` …).
    pub kind: Option<SpanKind>,
    /// `error`: a span of the trace failed; `ok`: none did.
    pub status: Option<SpanStatus>,
    /// The first span took at least this long.
    pub min_duration_ns: Option<u64>,
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    pub limit: Option<usize>,
    pub after: Option<String>,
}

impl TraceQuery {
    /// Reads `?handler=&kind=&status=&min_duration_ms=&since=&until=&limit=&after=`
    /// (`since`/`until`: RFC 3339 or Unix milliseconds).
    pub fn from_query(query: &str) -> Result<TraceQuery, QueryError> {
        let mut q = TraceQuery::default();
        for (k, v) in form_pairs(query) {
            match k.as_str() {
                "handler" => q.handler = Some(v),
                "kind" => {
                    q.kind = Some(SpanKind::parse(&v).ok_or_else(|| {
                        let known: Vec<&str> = SpanKind::ALL.iter().map(|k| k.as_str()).collect();
                        QueryError::BadRequest(format!("unknown kind `{v}`; one of: {}", known.join(", ")))
                    })?)
                }
                "status" => {
                    q.status = Some(match v.as_str() {
                        "ok" => SpanStatus::Ok,
                        "error" => SpanStatus::Error,
                        _ => return Err(QueryError::BadRequest(format!("unknown status `{v}`; `ok` or `error`"))),
                    })
                }
                "min_duration_ms" => q.min_duration_ns = Some((number(&k, &v)? * 1e6) as u64),
                _ if page_parameter(&k, v.clone(), &mut q.since_ns, &mut q.until_ns, &mut q.limit, &mut q.after)? => {}
                _ => {
                    return Err(QueryError::BadRequest(format!(
                        "unknown parameter `{k}`; the trace list takes handler, kind, status, min_duration_ms, since, until, limit, after"
                    )))
                }
            }
        }
        Ok(q)
    }
}

/// Filters of the log list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    /// This level and above.
    pub level: Option<Level>,
    /// The handler id that wrote it, or `engine`.
    pub handler: Option<String>,
    pub trace_id: Option<String>,
    /// Case-insensitive text in the message or the fields.
    pub text: Option<String>,
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    pub limit: Option<usize>,
    pub after: Option<String>,
}

impl LogQuery {
    /// Reads `?level=&handler=&trace=&text=&since=&until=&limit=&after=`.
    pub fn from_query(query: &str) -> Result<LogQuery, QueryError> {
        let mut q = LogQuery::default();
        for (k, v) in form_pairs(query) {
            match k.as_str() {
                "level" => {
                    q.level = Some(
                        Level::parse(&v)
                            .ok_or_else(|| QueryError::BadRequest(format!("unknown level `{v}`; one of: trace, debug, info, warn, error")))?,
                    )
                }
                "handler" => q.handler = Some(v),
                "trace" | "trace_id" => q.trace_id = Some(v),
                "text" => q.text = Some(v),
                _ if page_parameter(&k, v.clone(), &mut q.since_ns, &mut q.until_ns, &mut q.limit, &mut q.after)? => {}
                _ => {
                    return Err(QueryError::BadRequest(format!(
                        "unknown parameter `{k}`; the log list takes level, handler, trace, text, since, until, limit, after"
                    )))
                }
            }
        }
        Ok(q)
    }

    /// Whether a live entry passes the filters (the live tail).
    pub fn matches(&self, e: &LogEntry) -> bool {
        self.level.is_none_or(|l| e.level >= l)
            && self.handler.as_deref().is_none_or(|h| same_handler(h, &e.source))
            && self
                .trace_id
                .as_deref()
                .is_none_or(|t| e.trace_id.as_deref() == Some(t))
            && self.text.as_deref().is_none_or(|t| {
                let t = t.to_lowercase();
                e.message.to_lowercase().contains(&t)
                    || Value::Object(e.fields.clone()).to_string().to_lowercase().contains(&t)
            })
    }
}

/// Which metric points: `?since=` (default: the last hour) and `?name=`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsQuery {
    pub since_s: Option<i64>,
    pub name: Option<String>,
}

impl MetricsQuery {
    pub fn from_query(query: &str) -> Result<MetricsQuery, QueryError> {
        let mut q = MetricsQuery::default();
        for (k, v) in form_pairs(query) {
            match k.as_str() {
                "since" => q.since_s = Some((time(&k, &v)? / 1_000_000_000) as i64),
                "name" => q.name = Some(v),
                _ => {
                    return Err(QueryError::BadRequest(format!(
                        "unknown parameter `{k}`; the metrics take since, name"
                    )))
                }
            }
        }
        Ok(q)
    }
}

/// One row of the trace list: the trace's first span and totals.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    pub root: Span,
    pub spans: u64,
    pub errors: u64,
    /// From the first span's start to the end of the last span.
    pub duration_ns: u64,
    pub handlers: Vec<String>,
}

/// A trace's spans in waterfall order (depth first, children by start),
/// each with its depth and its logs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TraceTree {
    pub trace_id: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub spans: Vec<SpanNode>,
    /// Logs of the trace that no span claims.
    pub logs: Vec<LogEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SpanNode {
    #[serde(flatten)]
    pub span: Span,
    pub depth: usize,
    pub logs: Vec<LogEntry>,
}

/// Blocks read per step of the trace list's scan.
const SCAN_STEP: usize = 64;

/// The trace list, newest first: the blocks with roots are read newest
/// first, each root that passes the filters is looked up with its trace,
/// and the scan stops once the page is full and no older block can hold a
/// root that started later than the page's last (`bound_ns`).
pub(crate) fn traces(file: &Path, q: &TraceQuery) -> Result<Page<TraceSummary>, QueryError> {
    let conn = open(file)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let after = match &q.after {
        None => None,
        Some(after) => Some(
            after
                .split_once('-')
                .and_then(|(s, id)| Some((s.parse::<u64>().ok()?, SpanId::parse(id)?.as_u64())))
                .ok_or_else(|| QueryError::BadRequest(format!("`after={after}` is not a cursor this list gave")))?,
        ),
    };
    let failed = |e| read_error(file, e);
    let mut blocks = Blocks::new(&conn, file);
    let mut found: Vec<TraceSummary> = Vec::new();
    let mut before = None;
    'scan: loop {
        let rows = blocks.with_roots_before(before, SCAN_STEP).map_err(failed)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            before = Some(row.id);
            if q.since_ns.is_some_and(|since| row.bound_ns < since) {
                break 'scan;
            }
            if found.len() > limit {
                found.sort_by_key(|t| std::cmp::Reverse(key(&t.root)));
                found.truncate(limit + 1);
                if row.bound_ns < found[limit].root.start_ns {
                    break 'scan;
                }
            }
            let spans = blocks.spans(row.id).map_err(failed)?;
            for root in spans.iter().filter(|s| s.is_root() && root_matches(q, after, s)) {
                let trace = blocks.trace(&root.trace_id).map_err(failed)?;
                // One row per trace: a trace with several roots in this store
                // (deliveries of a message published without a stored parent)
                // shows its first.
                if trace.iter().any(|o| o.is_root() && key(o) < key(root)) {
                    continue;
                }
                if trace_matches(q, &trace) {
                    found.push(summary(root.clone(), &trace));
                }
            }
        }
    }
    found.sort_by_key(|t| std::cmp::Reverse(key(&t.root)));
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more {
        found.last().map(|t| format!("{}-{}", t.root.start_ns, t.root.span_id))
    } else {
        None
    };
    Ok(Page { items: found, next })
}

/// The trace list's order: by start, then span id.
fn key(s: &Span) -> (u64, u64) {
    (s.start_ns, s.span_id.as_u64())
}

/// The filters a root answers alone.
fn root_matches(q: &TraceQuery, after: Option<(u64, u64)>, root: &Span) -> bool {
    q.kind.is_none_or(|k| root.kind == k)
        && q.min_duration_ns.is_none_or(|d| root.duration_ns >= d)
        && q.since_ns.is_none_or(|t| root.start_ns >= t)
        && q.until_ns.is_none_or(|t| root.start_ns <= t)
        && after.is_none_or(|a| key(root) < a)
}

/// The filters about the whole trace.
fn trace_matches(q: &TraceQuery, trace: &[Span]) -> bool {
    let handler = q.handler.as_deref().is_none_or(|h| {
        trace
            .iter()
            .any(|s| s.handler.as_deref().is_some_and(|sh| same_handler(sh, h)))
    });
    let failed = trace.iter().any(|s| s.status == SpanStatus::Error);
    let status = match q.status {
        Some(SpanStatus::Error) => failed,
        Some(SpanStatus::Ok) => !failed,
        None => true,
    };
    handler && status
}

fn summary(root: Span, trace: &[Span]) -> TraceSummary {
    let end = trace.iter().map(Span::end_ns).max().unwrap_or(0);
    let mut handlers: Vec<String> = trace
        .iter()
        .filter_map(|s| s.handler.as_deref().map(str::to_string))
        .collect();
    handlers.sort();
    handlers.dedup();
    TraceSummary {
        trace_id: root.trace_id.to_string(),
        duration_ns: end.saturating_sub(root.start_ns).max(root.duration_ns),
        spans: trace.len() as u64,
        errors: trace.iter().filter(|s| s.status == SpanStatus::Error).count() as u64,
        handlers,
        root,
    }
}

pub(crate) fn trace(file: &Path, trace_id: &str) -> Result<TraceTree, QueryError> {
    let conn = open(file)?;
    let spans = Blocks::new(&conn, file)
        .trace(trace_id)
        .map_err(|e| read_error(file, e))?;
    if spans.is_empty() {
        return Err(QueryError::NotFound(trace_id.to_string()));
    }
    let logs = select_logs(
        &conn,
        file,
        &format!("SELECT {LOG_COLUMNS} FROM logs WHERE trace_id = ? ORDER BY id LIMIT 10000"),
        vec![Sql::Text(trace_id.to_string())],
    )?;
    Ok(tree(trace_id, spans, logs.into_iter().map(|(_, l)| l).collect()))
}

fn read_error(file: &Path, e: ReadError) -> QueryError {
    match e {
        ReadError::Sql(e) => store_error(file, e),
        ReadError::Bad(bad) => QueryError::Damaged {
            path: file.display().to_string(),
            error: bad.to_string(),
        },
        ReadError::Io(e) => QueryError::Store {
            path: crate::store::segments::folder_of(file).display().to_string(),
            error: e.to_string(),
        },
    }
}

/// Orders spans depth first and gives each log to its span: the one named
/// by its span id, else the innermost span of the same handler whose time
/// holds the log's (handler code logs with its trace id only).
fn tree(trace_id: &str, spans: Vec<Span>, logs: Vec<LogEntry>) -> TraceTree {
    let ids: HashMap<SpanId, usize> = spans.iter().enumerate().map(|(i, s)| (s.span_id, i)).collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        let parent = s.parent_id.and_then(|p| ids.get(&p).copied()).filter(|p| *p != i);
        children.entry(parent).or_default().push(i);
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|c| c.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    let mut visited = vec![false; spans.len()];
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        order.push((i, depth));
        if let Some(c) = children.get(&Some(i)) {
            stack.extend(c.iter().rev().map(|&c| (c, depth + 1)));
        }
    }
    // A parent cycle (never written by the engine, but the file is the
    // user's) leaves spans unvisited: list them at the top level.
    order.extend((0..spans.len()).filter(|i| !visited[*i]).map(|i| (i, 0)));
    let mut node_logs: Vec<Vec<LogEntry>> = vec![Vec::new(); spans.len()];
    let mut loose = Vec::new();
    for log in logs {
        let by_id = log.span_id.and_then(|s| ids.get(&s).copied());
        let by_time = || {
            spans
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.handler.as_deref().is_some_and(|h| same_handler(h, &log.source))
                        && s.start_ns <= log.time_ns
                        && log.time_ns <= s.end_ns()
                })
                .min_by_key(|(_, s)| s.duration_ns)
                .map(|(i, _)| i)
        };
        match by_id.or_else(by_time) {
            Some(i) => node_logs[i].push(log),
            None => loose.push(log),
        }
    }
    let start_ns = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end_ns = spans.iter().map(Span::end_ns).max().unwrap_or(start_ns);
    let mut slots: Vec<Option<Span>> = spans.into_iter().map(Some).collect();
    let nodes = order
        .into_iter()
        .filter_map(|(i, depth)| {
            Some(SpanNode {
                span: slots[i].take()?,
                depth,
                logs: std::mem::take(&mut node_logs[i]),
            })
        })
        .collect();
    TraceTree {
        trace_id: trace_id.to_string(),
        start_ns,
        duration_ns: end_ns - start_ns,
        spans: nodes,
        logs: loose,
    }
}

pub(crate) fn logs(file: &Path, q: &LogQuery) -> Result<Page<LogEntry>, QueryError> {
    let conn = open(file)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut sql = format!("SELECT {LOG_COLUMNS} FROM logs WHERE 1 = 1");
    let mut args: Vec<Sql> = Vec::new();
    if let Some(l) = q.level {
        sql.push_str(" AND level >= ?");
        args.push(Sql::Integer(l.code()));
    }
    if let Some(h) = &q.handler {
        // A runtime may tag lines with the handler's own name
        // (`CreateUser`) rather than its id (`api:CreateUser`): either matches.
        sql.push_str(" AND same_handler(source, ?)");
        args.push(Sql::Text(h.clone()));
    }
    if let Some(t) = &q.trace_id {
        sql.push_str(" AND trace_id = ?");
        args.push(Sql::Text(t.clone()));
    }
    if let Some(t) = &q.text {
        let pattern = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sql.push_str(" AND (message LIKE ? ESCAPE '\\' OR fields LIKE ? ESCAPE '\\')");
        args.extend([Sql::Text(pattern.clone()), Sql::Text(pattern)]);
    }
    if let Some(t) = q.since_ns {
        sql.push_str(" AND time_ns >= ?");
        args.push(Sql::Integer(t as i64));
    }
    if let Some(t) = q.until_ns {
        sql.push_str(" AND time_ns <= ?");
        args.push(Sql::Integer(t as i64));
    }
    if let Some(after) = &q.after {
        let id: i64 = after
            .parse()
            .map_err(|_| QueryError::BadRequest(format!("`after={after}` is not a cursor this list gave")))?;
        sql.push_str(" AND id < ?");
        args.push(Sql::Integer(id));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(Sql::Integer(limit as i64 + 1));
    let mut rows = select_logs(&conn, file, &sql, args)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|(id, _)| id.to_string())
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(|(_, l)| l).collect(),
        next,
    })
}

/// Series of 10-second points: `{"resolution_s": 10, "series": [{"name",
/// "labels", "points": [[unix_s, value], …]}]}`.
pub(crate) fn metric_series(file: &Path, q: &MetricsQuery, now_s: i64) -> Result<Value, QueryError> {
    let conn = open(file)?;
    let since = q.since_s.unwrap_or(now_s - 3600);
    let mut sql = "SELECT at_s, name, labels, value FROM metric_points WHERE at_s >= ?".to_string();
    let mut args = vec![Sql::Integer(since)];
    if let Some(n) = &q.name {
        sql.push_str(" AND name = ?");
        args.push(Sql::Text(n.clone()));
    }
    sql.push_str(" ORDER BY at_s");
    let mut stmt = conn.prepare(&sql).map_err(|e| store_error(file, e))?;
    let mut series: Vec<(String, String, Vec<Value>)> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, f64>(3)?,
            ))
        })
        .map_err(|e| store_error(file, e))?;
    for row in rows {
        let (at, name, labels, value) = row.map_err(|e| store_error(file, e))?;
        let key = (name.clone(), labels.clone());
        let i = *index.entry(key).or_insert_with(|| {
            series.push((name, labels, Vec::new()));
            series.len() - 1
        });
        series[i]
            .2
            .push(Value::Array(vec![Value::from(at), Value::from(value)]));
    }
    let series: Vec<Value> = series
        .into_iter()
        .map(|(name, labels, points)| {
            let labels: Value = serde_json::from_str(&labels).unwrap_or(Value::Object(Map::new()));
            serde_json::json!({ "name": name, "labels": labels, "points": points })
        })
        .collect();
    Ok(serde_json::json!({ "resolution_s": crate::metrics::RESOLUTION_S, "since": since, "series": series }))
}

const LOG_COLUMNS: &str = "id, time_ns, level, source, trace_id, span_id, message, fields, truncated";

fn select_logs(conn: &Connection, file: &Path, sql: &str, args: Vec<Sql>) -> Result<Vec<(i64, LogEntry)>, QueryError> {
    let mut stmt = conn.prepare(sql).map_err(|e| store_error(file, e))?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            let fields: Option<String> = r.get(7)?;
            Ok((
                r.get::<_, i64>(0)?,
                LogEntry {
                    time_ns: r.get::<_, i64>(1)? as u64,
                    level: Level::from_code(r.get(2)?),
                    source: Arc::from(r.get::<_, String>(3)?),
                    trace_id: r.get(4)?,
                    span_id: r.get::<_, Option<i64>>(5)?.and_then(|s| SpanId::from_u64(s as u64)),
                    message: r.get(6)?,
                    fields: fields.and_then(|f| serde_json::from_str(&f).ok()).unwrap_or_default(),
                    truncated: r.get(8)?,
                },
            ))
        })
        .map_err(|e| store_error(file, e))?;
    rows.collect::<Result<_, _>>().map_err(|e| store_error(file, e))
}

fn open(file: &Path) -> Result<Connection, QueryError> {
    if !file.exists() {
        return Err(QueryError::Store {
            path: file.display().to_string(),
            error: "no telemetry file yet (it is created when the engine starts with telemetry on)".into(),
        });
    }
    let conn = crate::store::open_reader(file).map_err(|e| store_error(file, e))?;
    // The handler filters use the same rule as the live tail.
    conn.create_scalar_function(
        "same_handler",
        2,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8 | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let a = ctx.get_raw(0).as_str_or_null().ok().flatten();
            let b = ctx.get_raw(1).as_str_or_null().ok().flatten();
            Ok(matches!((a, b), (Some(a), Some(b)) if same_handler(a, b)))
        },
    )
    .map_err(|e| store_error(file, e))?;
    Ok(conn)
}

fn store_error(file: &Path, e: rusqlite::Error) -> QueryError {
    let path = file.display().to_string();
    let error = e.to_string();
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            QueryError::Damaged { path, error }
        }
        _ => QueryError::Store { path, error },
    }
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether two handler labels name the same handler: equal, or one is the
/// other's last `:`-separated part (`api:CreateUser` and `CreateUser`).
pub(crate) fn same_handler(a: &str, b: &str) -> bool {
    let tail = |long: &str, short: &str| {
        long.len() > short.len() && long.ends_with(short) && long.as_bytes()[long.len() - short.len() - 1] == b':'
    };
    a == b || tail(a, b) || tail(b, a)
}

/// The parameters every list takes (`since`, `until`, `limit`, `after`):
/// sets the one `key` names and says whether it was one of them.
fn page_parameter(
    key: &str,
    value: String,
    since_ns: &mut Option<u64>,
    until_ns: &mut Option<u64>,
    limit: &mut Option<usize>,
    after: &mut Option<String>,
) -> Result<bool, QueryError> {
    match key {
        "since" => *since_ns = Some(time(key, &value)?),
        "until" => *until_ns = Some(time(key, &value)?),
        "limit" => *limit = Some(number(key, &value)? as usize),
        "after" => *after = Some(value),
        _ => return Ok(false),
    }
    Ok(true)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn number(key: &str, v: &str) -> Result<f64, QueryError> {
    v.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| QueryError::BadRequest(format!("`{key}={v}` is not a non-negative number")))
}

/// RFC 3339 (`2026-12-05T10:00:00Z`) or Unix milliseconds.
fn time(key: &str, v: &str) -> Result<u64, QueryError> {
    if let Ok(ms) = v.parse::<u64>() {
        return Ok(ms.saturating_mul(1_000_000));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .map(|n| n.max(0) as u64)
        .ok_or_else(|| QueryError::BadRequest(format!("`{key}={v}` is not a time (RFC 3339, or Unix milliseconds)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_read_and_bad_ones_named() {
        let q = TraceQuery::from_query("handler=api%3AHealth&kind=request&status=error&min_duration_ms=100&limit=5")
            .unwrap();
        assert_eq!(q.handler.as_deref(), Some("api:Health"));
        assert_eq!(q.kind, Some(SpanKind::Request));
        assert_eq!(q.status, Some(SpanStatus::Error));
        assert_eq!(q.min_duration_ns, Some(100_000_000));
        let e = TraceQuery::from_query("kind=nope").unwrap_err().to_string();
        assert!(e.contains("unknown kind `nope`"), "{e}");
        let e = LogQuery::from_query("level=loud").unwrap_err().to_string();
        assert!(e.contains("unknown level `loud`"), "{e}");
        let e = LogQuery::from_query("since=yesterday").unwrap_err().to_string();
        assert!(e.contains("`since=yesterday` is not a time"), "{e}");
        assert_eq!(
            LogQuery::from_query("text=a+b%25").unwrap().text.as_deref(),
            Some("a b%")
        );
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("50%2"), "50%2");
        assert_eq!(decode("%é1"), "%é1");
    }
}
