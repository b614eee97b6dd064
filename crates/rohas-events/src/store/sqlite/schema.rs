//! The queue file's tables and the statements that read them whole (at
//! open, for the admin views); the hot path's statements sit with their
//! operation in `mod.rs`.

use super::{message_at, Sync};
use crate::dead_letter::{DeadLetter, DeadLetterId, Selection};
use crate::delivery::Failure;
use crate::message::SubscriptionId;
use crate::store::Pending;
use crate::time::Millis;
use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bumped when the tables change in a way an older rohas cannot read.
const FORMAT: &str = "1";

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    event        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    deliver_at   INTEGER,
    trace_id     TEXT NOT NULL,
    traceparent  TEXT,
    source       TEXT NOT NULL
);
-- state: 0 pending, 1 acknowledged, 2 dead.
CREATE TABLE IF NOT EXISTS deliveries (
    receipt      INTEGER PRIMARY KEY,
    message      INTEGER NOT NULL,
    subscription TEXT NOT NULL,
    state        INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    due_at       INTEGER,
    failures     TEXT,
    settled_at   INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_message ON deliveries (message);
CREATE INDEX IF NOT EXISTS dead_letters ON deliveries (receipt) WHERE state = 2;
";

/// A delivery joined with its message; `message_at(row, 5)` reads the message.
pub(super) const SELECT_DELIVERY: &str = "
SELECT d.receipt, d.subscription, d.attempt, d.due_at, d.failures,
       m.id, m.event, m.payload, m.published_at, m.deliver_at, m.trace_id, m.traceparent, m.source,
       d.settled_at
FROM deliveries d JOIN messages m ON m.seq = d.message";

pub(super) fn open(path: &Path, sync: Sync) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // `journal_mode` answers with the mode; a file that is not a database
    // fails here, before anything is written to it.
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(match sync {
        Sync::Batch => "PRAGMA synchronous = NORMAL;",
        Sync::Always => "PRAGMA synchronous = FULL;",
    })?;
    conn.execute_batch(TABLES)?;
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0))
        .ok();
    match format.as_deref() {
        None => {
            conn.execute("INSERT INTO meta (key, value) VALUES ('format', ?1)", params![FORMAT])?;
        }
        Some(FORMAT) => {}
        Some(other) => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some(format!("queue format {other}, this rohas reads format {FORMAT}")),
            ))
        }
    }
    Ok(conn)
}

fn failures(text: Option<String>) -> Vec<Failure> {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Every pending delivery, oldest first (read once at open).
pub(super) fn load_pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let mut statement = conn.prepare(&format!("{SELECT_DELIVERY} WHERE d.state = 0 ORDER BY d.receipt"))?;
    let mut messages: std::collections::HashMap<String, Arc<crate::message::Message>> = Default::default();
    let rows = statement.query_map([], |row| {
        let message = message_at(row, 5)?;
        Ok(Pending {
            receipt: row.get::<_, i64>(0)? as u64,
            subscription: SubscriptionId::new(row.get::<_, String>(1)?),
            attempt: row.get(2)?,
            due: row.get::<_, Option<i64>>(3)?.map(Millis),
            failures: failures(row.get(4)?),
            message: Arc::new(message),
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let mut pending = row?;
        // Handlers of one message share its payload in memory.
        let shared = messages
            .entry(pending.message.id.0.clone())
            .or_insert_with(|| pending.message.clone());
        pending.message = shared.clone();
        out.push(pending);
    }
    Ok(out)
}

/// The first free (receipt, message seq).
pub(super) fn next_ids(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let receipt: i64 = conn.query_row("SELECT COALESCE(MAX(receipt), 0) + 1 FROM deliveries", [], |r| r.get(0))?;
    let seq: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages", [], |r| r.get(0))?;
    Ok((receipt as u64, seq as u64))
}

pub(super) fn dead_letter(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    let message = message_at(row, 5)?;
    Ok(DeadLetter {
        id: DeadLetterId(row.get::<_, i64>(0)?.to_string()),
        event: message.event.clone(),
        handler: SubscriptionId::new(row.get::<_, String>(1)?),
        attempts: failures(row.get(4)?),
        dead_at: Millis(row.get::<_, Option<i64>>(13)?.unwrap_or_default()),
        message,
    })
}

/// The dead letters a replay or purge acts on.
pub(super) fn select_dead(conn: &Connection, selection: &Selection) -> rusqlite::Result<Vec<DeadLetter>> {
    let mut out = Vec::new();
    match selection {
        Selection::Ids { ids } => {
            let mut statement =
                conn.prepare_cached(&format!("{SELECT_DELIVERY} WHERE d.state = 2 AND d.receipt = ?1"))?;
            for id in ids {
                let Ok(receipt) = id.0.parse::<i64>() else { continue };
                let mut rows = statement.query_map(params![receipt], dead_letter)?;
                if let Some(dead) = rows.next() {
                    out.push(dead?);
                }
            }
        }
        Selection::All { all: true, event } => {
            let mut statement = conn.prepare_cached(&format!(
                "{SELECT_DELIVERY} WHERE d.state = 2 AND (?1 IS NULL OR m.event = ?1) ORDER BY d.receipt"
            ))?;
            for dead in statement.query_map(params![event], dead_letter)? {
                out.push(dead?);
            }
        }
        Selection::All { all: false, .. } => {}
    }
    Ok(out)
}

/// Deletes acknowledged deliveries and messages older than the retention,
/// a bounded chunk at a time so the writer never stalls long.
pub(super) struct Retention {
    keep: Duration,
    last: Instant,
}

const RETENTION_EVERY: Duration = Duration::from_secs(30);
const RETENTION_CHUNK: i64 = 20_000;

impl Retention {
    pub fn new(keep: Duration) -> Self {
        Retention {
            keep,
            last: Instant::now(),
        }
    }
}

impl super::writer::Maintenance for Retention {
    fn after_batch(&mut self, conn: &Connection) {
        if self.last.elapsed() < RETENTION_EVERY {
            return;
        }
        self.last = Instant::now();
        let cutoff = Millis::now().0 - self.keep.as_millis().min(i64::MAX as u128) as i64;
        let _ = conn.execute(
            "DELETE FROM deliveries WHERE receipt IN
               (SELECT receipt FROM deliveries WHERE state = 1 AND settled_at < ?1 LIMIT ?2)",
            params![cutoff, RETENTION_CHUNK],
        );
        let _ = conn.execute(
            "DELETE FROM messages WHERE seq IN
               (SELECT seq FROM messages m WHERE m.published_at < ?1
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message = m.seq) LIMIT ?2)",
            params![cutoff, RETENTION_CHUNK],
        );
    }
}
