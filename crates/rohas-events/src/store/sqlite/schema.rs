//! The queue file's tables (format 2) and the statements that read them
//! whole (at open, for the admin views); the hot path's statements are in
//! `rows.rs`, the other operations' in `mod.rs`, and the conversion of a
//! format 1 file in `migrate.rs`.
//!
//! Format 2 is shaped for the writer's per-event work, which format 1 made
//! about 18,000 instructions: a message row is three values, not nine
//! (`envelope.rs`); a delivery's receipt is its message's seq and its
//! subscription's number (`store::receipt`), so the delivery row carries
//! neither, needs no index by message, and a first delivery binds one
//! integer; an acknowledgement appends a row to `acks` instead of
//! rewriting the delivery (and the dead-letter index's check).

use super::{envelope, Sync};
use crate::dead_letter::{DeadLetter, DeadLetterId, Selection};
use crate::delivery::Failure;
use crate::message::{Message, SubscriptionId};
use crate::store::{receipt, Pending};
use crate::time::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bumped when the tables change in a way an older rohas cannot read.
pub(super) const FORMAT: &str = "2";

pub(super) const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- envelope: the message but its seq and publish time, as JSON.
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY,
    published_at INTEGER NOT NULL,
    envelope     TEXT NOT NULL
);
-- number: the low 16 bits of the receipts of the subscription's deliveries.
CREATE TABLE IF NOT EXISTS subscriptions (
    number INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE
);
-- receipt: (message seq << 16) | subscription number.
-- state: 0 live (pending, unless acks holds its receipt), 2 dead.
-- due_at: NULL when the message is (its deliver_at, or now).
-- settled_at: when it died.
CREATE TABLE IF NOT EXISTS deliveries (
    receipt    INTEGER PRIMARY KEY,
    state      INTEGER NOT NULL,
    attempt    INTEGER NOT NULL,
    due_at     INTEGER,
    failures   TEXT,
    settled_at INTEGER
);
CREATE INDEX IF NOT EXISTS dead_letters ON deliveries (receipt) WHERE state = 2;
-- Acknowledged deliveries, and when.
CREATE TABLE IF NOT EXISTS acks (
    receipt INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL
);
";

/// A delivery joined with its message and subscription; `delivery_at`
/// reads it. (16 is `receipt::SUBSCRIPTION_BITS`.)
pub(super) const SELECT_DELIVERY: &str = "
SELECT d.receipt, s.name, d.attempt, d.due_at, d.failures, d.settled_at, m.published_at, m.envelope
FROM deliveries d
JOIN messages m ON m.seq = d.receipt >> 16
JOIN subscriptions s ON s.number = d.receipt & 65535";

pub(super) fn open(path: &Path, sync: Sync) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // `journal_mode` answers with the mode; a file that is not a database
    // fails here, before anything is written to it.
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(match sync {
        Sync::Batch => "PRAGMA synchronous = NORMAL;",
        Sync::Always => "PRAGMA synchronous = FULL;",
    })?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    match format(&tx)?.as_deref() {
        None => {
            tx.execute_batch(TABLES)?;
            tx.execute("INSERT INTO meta (key, value) VALUES ('format', ?1)", params![FORMAT])?;
        }
        Some(super::migrate::FROM) => super::migrate::run(&tx)?,
        Some(FORMAT) => {}
        Some(other) => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some(format!(
                    "queue format {other}, this rohas reads format {FORMAT} (and converts format {})",
                    super::migrate::FROM
                )),
            ))
        }
    }
    tx.commit()?;
    Ok(conn)
}

/// The file's format: `None` for a new file. A file with tables but no
/// format was created by format 1, which wrote its tables and its format
/// in two steps.
fn format(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let has = |table: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            params![table],
            |r| r.get(0),
        )
    };
    if has("meta")? {
        let format = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| r.get(0))
            .optional()?;
        if format.is_some() {
            return Ok(format);
        }
    }
    Ok(has("messages")?.then(|| super::migrate::FROM.to_string()))
}

fn failures(text: Option<String>) -> Vec<Failure> {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// A message row's envelope read back; one that is not an envelope is an
/// error naming its row.
fn message(row: &rusqlite::Row<'_>, published_at: usize, envelope: usize) -> rusqlite::Result<Message> {
    let text: String = row.get(envelope)?;
    envelope::decode(&text, row.get(published_at)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            envelope,
            rusqlite::types::Type::Text,
            format!("the envelope of a message is not readable ({e})").into(),
        )
    })
}

/// A row of [`SELECT_DELIVERY`].
pub(super) struct Row {
    pub receipt: u64,
    pub subscription: SubscriptionId,
    pub attempt: u32,
    pub due_at: Option<Millis>,
    pub failures: Vec<Failure>,
    pub settled_at: Option<Millis>,
    pub message: Message,
}

pub(super) fn delivery_at(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        receipt: row.get::<_, i64>(0)? as u64,
        subscription: SubscriptionId::new(row.get::<_, String>(1)?),
        attempt: row.get(2)?,
        due_at: row.get::<_, Option<i64>>(3)?.map(Millis),
        failures: failures(row.get(4)?),
        settled_at: row.get::<_, Option<i64>>(5)?.map(Millis),
        message: message(row, 6, 7)?,
    })
}

/// Every pending delivery, oldest first (read once at open).
pub(super) fn load_pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let mut statement = conn.prepare(&format!(
        "{SELECT_DELIVERY} WHERE d.state = 0
           AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.receipt = d.receipt)
         ORDER BY d.receipt"
    ))?;
    // Handlers of one message share it in memory, and of one subscription
    // its id.
    let mut messages: HashMap<u64, Arc<Message>> = HashMap::new();
    let mut names: HashMap<SubscriptionId, SubscriptionId> = HashMap::new();
    let mut out = Vec::new();
    for row in statement.query_map([], delivery_at)? {
        let row = row?;
        let message = messages
            .entry(receipt::seq(row.receipt))
            .or_insert_with(|| Arc::new(row.message))
            .clone();
        let subscription = names
            .entry(row.subscription.clone())
            .or_insert(row.subscription)
            .clone();
        out.push(Pending {
            receipt: row.receipt,
            // A first delivery is due when its message is.
            due: row.due_at.or(message.deliver_at),
            message,
            subscription,
            attempt: row.attempt,
            failures: row.failures,
        });
    }
    Ok(out)
}

/// The first free message seq: past every seq a row still names.
pub(super) fn next_seq(conn: &Connection) -> rusqlite::Result<u64> {
    let seq: i64 = conn.query_row(
        "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM messages),
                    (SELECT COALESCE(MAX(receipt), 0) >> 16 FROM deliveries),
                    (SELECT COALESCE(MAX(receipt), 0) >> 16 FROM acks)) + 1",
        [],
        |r| r.get(0),
    )?;
    Ok(seq as u64)
}

/// Each subscription's number, numbering those never seen (in the
/// writer's transaction, so a number is committed before any receipt
/// made with it). `None` once every number is taken.
pub(super) fn numbers(conn: &Connection, ids: &[SubscriptionId]) -> rusqlite::Result<Option<Vec<u16>>> {
    let mut find = conn.prepare_cached("SELECT number FROM subscriptions WHERE name = ?1")?;
    let mut add = conn.prepare_cached(
        "INSERT INTO subscriptions (number, name)
         SELECT COALESCE(MAX(number), 0) + 1, ?1 FROM subscriptions RETURNING number",
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let number: i64 = match find.query_row(params![id.as_str()], |r| r.get(0)).optional()? {
            Some(n) => n,
            None => add.query_row(params![id.as_str()], |r| r.get(0))?,
        };
        match u16::try_from(number) {
            Ok(n) if n > 0 => out.push(n),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

pub(super) fn dead_letter(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    let row = delivery_at(row)?;
    Ok(DeadLetter {
        id: DeadLetterId(row.receipt.to_string()),
        event: row.message.event.clone(),
        handler: row.subscription,
        attempts: row.failures,
        dead_at: row.settled_at.unwrap_or_default(),
        message: row.message,
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
                if let Some(dead) = statement.query_row(params![receipt], dead_letter).optional()? {
                    out.push(dead);
                }
            }
        }
        Selection::All { all: true, event } => {
            // The event is in the envelope: matched here, on the few
            // dead letters, rather than indexed on every message.
            let mut statement =
                conn.prepare_cached(&format!("{SELECT_DELIVERY} WHERE d.state = 2 ORDER BY d.receipt"))?;
            for dead in statement.query_map([], dead_letter)? {
                let dead = dead?;
                if event.as_ref().is_none_or(|e| *e == dead.event) {
                    out.push(dead);
                }
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
        let _ = expire(conn, cutoff, RETENTION_CHUNK);
    }
}

/// One chunk of retention: up to `chunk` acknowledged deliveries settled
/// before `cutoff` (with their acks), then up to `chunk` messages
/// published before it that no delivery names any more.
pub(super) fn expire(conn: &Connection, cutoff: i64, chunk: i64) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    // The same acks both times: nothing else writes in between, and the
    // scan goes in receipt order.
    for table in ["deliveries", "acks"] {
        tx.prepare_cached(&format!(
            "DELETE FROM {table} WHERE receipt IN (SELECT receipt FROM acks WHERE at < ?1 LIMIT ?2)"
        ))?
        .execute(params![cutoff, chunk])?;
    }
    tx.execute(
        "DELETE FROM messages WHERE seq IN
           (SELECT seq FROM messages m WHERE m.published_at < ?1
              AND NOT EXISTS (SELECT 1 FROM deliveries d
                              WHERE d.receipt >= m.seq << 16 AND d.receipt < (m.seq + 1) << 16)
            LIMIT ?2)",
        params![cutoff, chunk],
    )?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::super::rows;
    use super::*;
    use crate::store::{NewDelivery, Stored};

    /// Retention takes acknowledged deliveries settled before the cutoff
    /// (and their acks), then the messages no delivery names; a pending
    /// delivery, a dead letter, a later ack and their messages stay.
    #[test]
    fn retention_takes_what_was_settled_before_the_cutoff_and_nothing_else() {
        let folder = tempfile::tempdir().unwrap();
        let conn = open(&folder.path().join("queue.db"), Sync::Batch).unwrap();
        let stored: Vec<Stored> = (1..=5)
            .map(|seq| {
                let mut m = Message::new("E", serde_json::json!(seq), "t", "test");
                m.published_at = Millis(100);
                Stored {
                    seq,
                    message: Arc::new(m),
                }
            })
            .collect();
        rows::messages(&conn, &stored).unwrap();
        let all: Vec<NewDelivery> = (1..=5)
            .map(|seq| NewDelivery {
                receipt: receipt::receipt(seq, 1),
            })
            .collect();
        rows::deliveries(&conn, &all).unwrap();
        // 1 and 2 acknowledged early, 3 late, 4 dead, 5 pending.
        rows::acknowledged(&conn, &mut [receipt::receipt(1, 1), receipt::receipt(2, 1)], 150).unwrap();
        rows::acknowledged(&conn, &mut [receipt::receipt(3, 1)], 250).unwrap();
        conn.execute(
            "UPDATE deliveries SET state = 2, settled_at = 150 WHERE receipt = ?1",
            params![receipt::receipt(4, 1) as i64],
        )
        .unwrap();
        expire(&conn, 200, 1000).unwrap();
        let left = |sql: &str| -> Vec<i64> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(left("SELECT seq FROM messages ORDER BY seq"), [3, 4, 5]);
        assert_eq!(left("SELECT receipt >> 16 FROM deliveries ORDER BY receipt"), [3, 4, 5]);
        assert_eq!(left("SELECT receipt >> 16 FROM acks"), [3]);
    }
}

#[cfg(test)]
mod numbers {
    use super::*;

    /// A handler id keeps its number across calls and reopenings; a new
    /// one gets the next.
    #[test]
    fn each_handler_id_keeps_its_number() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("queue.db");
        let id = |s: &str| SubscriptionId::new(s);
        let conn = open(&path, Sync::Batch).unwrap();
        let first = numbers(&conn, &[id("event:E:a"), id("event:E:b"), id("event:E:a")]).unwrap();
        assert_eq!(first, Some(vec![1, 2, 1]));
        drop(conn);
        let conn = open(&path, Sync::Batch).unwrap();
        assert_eq!(
            numbers(&conn, &[id("event:E:c"), id("event:E:b")]).unwrap(),
            Some(vec![3, 2])
        );
        conn.execute("INSERT INTO subscriptions (number, name) VALUES (65535, 'last')", [])
            .unwrap();
        assert_eq!(numbers(&conn, &[id("event:E:d")]).unwrap(), None, "no number left");
    }
}
