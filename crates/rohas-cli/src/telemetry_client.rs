//! Where `rohas traces`, `rohas trace` and `rohas logs` read telemetry:
//! the running engine's telemetry API when an engine serves the project
//! (it alone can stream live logs, and it reads its file with its own
//! settings), else the telemetry file directly. Both answer the same
//! queries with the same JSON: a query is one query string, read by the
//! engine's API or by the store's own parser for the file.

use anyhow::{anyhow, bail};
use rohas_config::{Config, Secret};
use rohas_engine::rohas_events::QueueLock;
use rohas_telemetry::{LogEntry, LogQuery, QueryError, Reader, Span, TraceQuery};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The file's name in the `[telemetry] path` folder (the store's own
/// name for it is private to the telemetry crate).
const FILE: &str = "telemetry.db";

pub enum TelemetrySource {
    Engine {
        url: String,
        key: Option<Secret>,
        file: PathBuf,
    },
    File {
        file: PathBuf,
    },
}

/// One question to the store, as the API's path and query string.
pub enum Ask<'a> {
    Traces(&'a str),
    Trace(&'a str),
    Logs(&'a str),
}

/// Items a list answers per page when the CLI pages through it.
const PAGE: usize = 1000;

impl TelemetrySource {
    /// The newest `limit` items of a list (`ask` makes the request from a
    /// query string: `Ask::Traces` or `Ask::Logs`), newest first, a page at
    /// a time, and the cursor after them. `what` names the list in errors.
    pub fn newest(
        &self,
        ask: impl for<'q> Fn(&'q str) -> Ask<'q>,
        filters: &[(&str, Option<String>)],
        limit: usize,
        what: &str,
    ) -> anyhow::Result<(Vec<Value>, Option<String>)> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        while items.len() < limit {
            let mut pairs = filters.to_vec();
            pairs.push(("limit", Some((limit - items.len()).min(PAGE).to_string())));
            pairs.push(("after", after.clone()));
            let answer = self.ask(&ask(&query_string(&pairs)))?.unwrap_or(Value::Null);
            let page: Page<Value> = serde_json::from_value(answer)
                .map_err(|e| anyhow!("the engine's {what} is not the JSON expected: {e}"))?;
            items.extend(page.items);
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        Ok((items, after))
    }

    /// The running engine if one announces itself, else the file.
    pub fn connect(root: &Path, config: &Config) -> TelemetrySource {
        let file = root.join(&config.telemetry.path).join(FILE);
        let dir = crate::queue::dir(root, config);
        // A `local` queue's lock says whether the announcement is live;
        // other adapters take no lock, so a stale one (after a crash) is
        // found out when the engine does not answer.
        let live = config.adapter.kind != "local" || QueueLock::is_held(&dir);
        match QueueLock::engine(&dir).filter(|_| live) {
            Some(info) => TelemetrySource::Engine {
                url: info.url,
                key: config.workbench.api_key.clone().filter(|k| !k.is_empty()),
                file,
            },
            None => TelemetrySource::File { file },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TelemetrySource::Engine { url, .. } => format!("the running engine ({url})"),
            TelemetrySource::File { file } => format!("{} (no engine is running)", file.display()),
        }
    }

    /// The API's JSON answer; `None` for a trace that is not stored.
    pub fn ask(&self, ask: &Ask<'_>) -> anyhow::Result<Option<Value>> {
        match self {
            TelemetrySource::Engine { url, key, file } => match get(url, key.as_ref().map(Secret::expose), &ask.path())
            {
                // Announced but gone (killed, crashed): the file still
                // holds everything it wrote.
                Err(Unreached(_)) if file.exists() => from_file(file, ask),
                Err(Unreached(e)) => Err(e),
                Ok(answer) => answer,
            },
            TelemetrySource::File { file } => from_file(file, ask),
        }
    }

    /// Live log lines matching `query` (the API's query string), as the
    /// engine writes them. Connected when this returns, so nothing written
    /// after it is missed. Needs a running engine: the file alone cannot
    /// say what comes next.
    pub fn stream(&self, query: &str) -> anyhow::Result<LogStream> {
        let TelemetrySource::Engine { url, key, .. } = self else {
            bail!(
                "`rohas logs -f` follows a running engine, and none serves this project: start `rohas dev` (or `rohas start`) first, or leave out -f to read the stored logs"
            );
        };
        // ureq's default agent has no read timeout: a quiet engine is not
        // a broken stream.
        let mut request = ureq::get(&format!("{url}/telemetry/logs/stream?{query}"));
        if let Some(key) = key {
            request = request.set("Authorization", &format!("Bearer {}", key.expose()));
        }
        match request.call() {
            Ok(response) => Ok(LogStream {
                lines: std::io::BufReader::new(response.into_reader()).lines(),
            }),
            Err(ureq::Error::Status(status, response)) => bail!("the engine answered {status}: {}", message(response)),
            Err(e) => bail!("cannot reach the engine at {url}: {e}; is `rohas dev` still running?"),
        }
    }
}

/// The engine's live log lines; ends when the engine closes the stream.
pub struct LogStream {
    lines: std::io::Lines<std::io::BufReader<Box<dyn std::io::Read + Send + Sync + 'static>>>,
}

impl Iterator for LogStream {
    type Item = anyhow::Result<LogEntry>;

    /// Server-sent events: a `data: <json>` line per entry, an empty line
    /// after each; comments (`:`) keep the connection alive.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(text) => text,
                Err(e) => return Some(Err(anyhow!("the log stream broke off: {e}"))),
            };
            if let Some(data) = text.strip_prefix("data:") {
                return Some(
                    serde_json::from_str::<LogEntry>(data.trim_start())
                        .map_err(|e| anyhow!("the engine sent a log line this rohas cannot read ({e}): {data}")),
                );
            }
        }
    }
}

impl Ask<'_> {
    fn path(&self) -> String {
        match self {
            Ask::Traces(q) => format!("/telemetry/traces?{q}"),
            Ask::Trace(id) => format!("/telemetry/traces/{}", encode(id)),
            Ask::Logs(q) => format!("/telemetry/logs?{q}"),
        }
    }
}

/// The engine could not be reached at all (as opposed to answering no).
struct Unreached(anyhow::Error);

fn get(url: &str, key: Option<&str>, path: &str) -> Result<anyhow::Result<Option<Value>>, Unreached> {
    let mut request = ureq::get(&format!("{url}{path}"));
    if let Some(key) = key {
        request = request.set("Authorization", &format!("Bearer {key}"));
    }
    Ok(match request.call() {
        Ok(response) => response
            .into_json()
            .map(Some)
            .map_err(|e| anyhow!("the engine's answer is not the JSON expected: {e}")),
        Err(ureq::Error::Status(404, response)) if path.starts_with("/telemetry/traces/") => {
            // A 404 without our error shape is a server without the
            // telemetry API, not an unknown trace.
            let text = message(response);
            if text.contains("no trace") {
                Ok(None)
            } else {
                Err(anyhow!("the engine answered 404: {text}"))
            }
        }
        Err(ureq::Error::Status(status, response)) => {
            Err(anyhow!("the engine answered {status}: {}", message(response)))
        }
        Err(e) => return Err(Unreached(anyhow!("cannot reach the engine at {url}: {e}"))),
    })
}

/// The engine's error message: `{"error": "…"}` or `{"error": {"message": "…"}}`.
fn message(response: ureq::Response) -> String {
    let body: Value = response.into_json().unwrap_or(Value::Null);
    match &body["error"] {
        Value::String(s) => s.clone(),
        other => other["message"].as_str().unwrap_or("(no message)").to_string(),
    }
}

fn from_file(file: &Path, ask: &Ask<'_>) -> anyhow::Result<Option<Value>> {
    if !file.exists() {
        bail!(
            "no telemetry yet: it is stored in {} once `rohas dev` or `rohas start` runs this project",
            file.display()
        );
    }
    let reader = Reader::in_folder(file.parent().unwrap_or(Path::new(".")));
    let answer = match ask {
        Ask::Traces(q) => TraceQuery::from_query(q).and_then(|q| reader.traces(&q)).map(json),
        Ask::Logs(q) => LogQuery::from_query(q).and_then(|q| reader.logs(&q)).map(json),
        Ask::Trace(id) => match reader.trace(id) {
            Err(QueryError::NotFound(_)) => return Ok(None),
            other => other.map(json),
        },
    };
    match answer {
        Ok(value) => Ok(Some(value?)),
        Err(QueryError::Store { path, error } | QueryError::Damaged { path, error }) => Err(damaged(&path, &error)),
        Err(e) => Err(e.into()),
    }
}

fn json<T: Serialize>(value: T) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(value)?)
}

/// A store error for people: a damaged file is named with what to do.
fn damaged(path: &str, error: &str) -> anyhow::Error {
    let broken = ["not a database", "malformed", "corrupt"]
        .iter()
        .any(|w| error.contains(w));
    if broken {
        anyhow!(
            "the telemetry file {path} is damaged ({error})\n  help: `rohas dev` or `rohas start` moves a damaged file aside and starts a new one; or delete it"
        )
    } else {
        anyhow!("cannot read the telemetry file {path}: {error}")
    }
}

/// Percent-encoding of one query-string component.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `key=value&…` from the filters that are set.
pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

// The API's answers read back. `rohas_telemetry`'s own types are built to
// be written (`Serialize` only); these take the same JSON from either
// source.

#[derive(Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    pub root: Span,
    pub spans: u64,
    pub errors: u64,
    pub duration_ns: u64,
}

#[derive(Debug, Deserialize)]
pub struct TraceTree {
    pub trace_id: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub spans: Vec<SpanNode>,
    #[serde(default)]
    pub logs: Vec<LogEntry>,
}

#[derive(Debug, Deserialize)]
pub struct SpanNode {
    #[serde(flatten)]
    pub span: Span,
    pub depth: usize,
    #[serde(default)]
    pub logs: Vec<LogEntry>,
}
