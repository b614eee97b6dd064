//! The queue file's tables (format 3) and the statements that read them
//! whole (at open, for the admin views); the hot path's statements are in
//! `rows.rs`, the other operations' in `mod.rs`, and the conversion of
//! format 1 and 2 files in `migrate.rs`.
//!
//! Format 2 is shaped for the writer's per-event work, which format 1 made
//! about 18,000 instructions: a message row is three values, not nine
//! (`envelope.rs`); a delivery's receipt is its message's seq and its
//! subscription's number (`store::receipt`), so the delivery row carries
//! neither, needs no index by message, and a first delivery binds one
//! integer; an acknowledgement appends a row to `acks` instead of
//! rewriting the delivery (and the dead-letter index's check).
//!
//! Format 3 writes no row for a first delivery: the message row names the
//! subscriptions it went to (`subs`), and a delivery with no row of its own
//! is a first attempt, pending until `acks` holds its receipt. A delivery
//! gets a row only once it is retried, buried or revived. A first
//! delivery's row held nothing but its receipt, and inserting it (a seek
//! from the B-tree's root) was about 2,000 instructions per event.

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
pub(super) const FORMAT: &str = "3";

pub(super) const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- envelope: the message but its seq and publish time, as JSON.
-- subs: the numbers of the subscriptions it was delivered to: one as an
-- integer, none or several as a JSON array (`json_each` reads both).
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY,
    published_at INTEGER NOT NULL,
    envelope     TEXT NOT NULL,
    subs
);
-- number: the low 16 bits of the receipts of the subscription's deliveries.
CREATE TABLE IF NOT EXISTS subscriptions (
    number INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE
);
-- A delivery retried, buried or revived (a first one has no row).
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
        Some(super::migrate::FROM) => {
            super::migrate::run(&tx)?;
            super::migrate::from_2(&tx)?;
        }
        Some("2") => super::migrate::from_2(&tx)?,
        Some(FORMAT) => {}
        Some(other) => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some(format!(
                    "queue format {other}, this rohas reads format {FORMAT} (and converts formats {} and 2)",
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

/// Every pending delivery, oldest first (read once at open): each
/// subscription a message went to, unless its delivery is acknowledged or
/// dead. Columns as [`SELECT_DELIVERY`]'s; a delivery without a row is a
/// first attempt.
pub(super) fn load_pending(conn: &Connection) -> rusqlite::Result<Vec<Pending>> {
    let mut statement = conn.prepare(
        "SELECT r.receipt, s.name, COALESCE(d.attempt, 1), d.due_at, d.failures, d.settled_at,
                r.published_at, r.envelope
         FROM (SELECT (m.seq << 16) | j.value AS receipt, j.value AS number, m.published_at, m.envelope
               FROM messages m, json_each(m.subs) j) r
         JOIN subscriptions s ON s.number = r.number
         LEFT JOIN deliveries d ON d.receipt = r.receipt
         WHERE COALESCE(d.state, 0) = 0
           AND NOT EXISTS (SELECT 1 FROM acks a WHERE a.receipt = r.receipt)
         ORDER BY r.receipt",
    )?;
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
/// a bounded chunk at a time so the writer never stalls long: every 30 s,
/// and after every batch while the last chunk came back full (a chunk
/// every 30 s alone kept up with 667 events/s, and a busier queue kept
/// its acknowledged messages for ever).
pub(super) struct Retention {
    keep: Duration,
    last: Instant,
    chunk: i64,
    /// The last chunk was full: more is waiting.
    behind: bool,
}

const RETENTION_EVERY: Duration = Duration::from_secs(30);
const RETENTION_CHUNK: i64 = 20_000;

impl Retention {
    pub fn new(keep: Duration) -> Self {
        Retention {
            keep,
            last: Instant::now(),
            chunk: RETENTION_CHUNK,
            behind: false,
        }
    }
}

impl super::writer::Maintenance for Retention {
    fn after_batch(&mut self, conn: &Connection) {
        if !self.behind && self.last.elapsed() < RETENTION_EVERY {
            return;
        }
        self.last = Instant::now();
        let cutoff = Millis::now().0 - self.keep.as_millis().min(i64::MAX as u128) as i64;
        let deleted = expire(conn, cutoff, self.chunk).unwrap_or(0);
        self.behind = deleted as i64 >= self.chunk;
    }
}

/// One chunk of retention: up to `chunk` messages published before
/// `cutoff` whose every delivery was acknowledged before it, deleted with
/// their acks and delivery rows. A message with a dead letter or a pending
/// delivery stays. Returns how many messages went.
pub(super) fn expire(conn: &Connection, cutoff: i64, chunk: i64) -> rusqlite::Result<usize> {
    let tx = conn.unchecked_transaction()?;
    // Messages are numbered as they are published: only those before the
    // first one published at or after the cutoff are looked at, found from
    // the start without a time index. (Without this bound, a queue with
    // nothing to expire was read whole every 30 s.)
    let bound: i64 = tx
        .prepare_cached(
            "SELECT coalesce((SELECT seq FROM messages WHERE published_at >= ?1 ORDER BY seq LIMIT 1),
                             (SELECT coalesce(max(seq), 0) + 1 FROM messages))",
        )?
        .query_row([cutoff], |r| r.get(0))?;
    let done: Vec<i64> = tx
        .prepare_cached(
            "SELECT m.seq FROM messages m
             WHERE m.seq < ?3 AND m.published_at < ?1
               AND NOT EXISTS (SELECT 1 FROM json_each(m.subs) j
                               WHERE NOT EXISTS (SELECT 1 FROM acks a
                                                 WHERE a.receipt = (m.seq << 16) | j.value AND a.at < ?1))
             LIMIT ?2",
        )?
        .query_map(params![cutoff, chunk, bound], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in ["acks", "deliveries"] {
        let mut delete = tx.prepare_cached(&format!(
            "DELETE FROM {table} WHERE receipt >= ?1 << 16 AND receipt < (?1 + 1) << 16"
        ))?;
        for seq in &done {
            delete.execute(params![seq])?;
        }
    }
    let mut delete = tx.prepare_cached("DELETE FROM messages WHERE seq = ?1")?;
    for seq in &done {
        delete.execute(params![seq])?;
    }
    drop(delete);
    tx.commit()?;
    Ok(done.len())
}

#[cfg(test)]
mod tests {
    use super::super::rows;
    use super::*;
    use crate::store::{NewDelivery, Stored};

    /// Messages 1 to `n` of event `E`, published at 100 ms.
    fn published_at_100(n: u64) -> Vec<Stored> {
        (1..=n)
            .map(|seq| {
                let mut m = Message::new("E", serde_json::json!(seq), "t", "test");
                m.published_at = Millis(100);
                Stored {
                    seq,
                    message: Arc::new(m),
                }
            })
            .collect()
    }

    /// Retention takes the messages whose every delivery was acknowledged
    /// before the cutoff, with their acks and delivery rows; a message with
    /// a pending delivery (for any of its subscriptions), a dead letter or a
    /// later ack stays, and what is pending reads back as before.
    #[test]
    fn retention_takes_what_was_settled_before_the_cutoff_and_nothing_else() {
        let folder = tempfile::tempdir().unwrap();
        let conn = open(&folder.path().join("queue.db"), Sync::Batch).unwrap();
        let stored = published_at_100(6);
        conn.execute_batch("INSERT INTO subscriptions (number, name) VALUES (1, 'event:E:a'), (2, 'event:E:b')")
            .unwrap();
        // Each to subscription 1; 6 to 2 as well.
        let mut all: Vec<NewDelivery> = (1..=6)
            .map(|seq| NewDelivery {
                receipt: receipt::receipt(seq, 1),
            })
            .collect();
        all.push(NewDelivery {
            receipt: receipt::receipt(6, 2),
        });
        rows::messages(&conn, &stored, &all).unwrap();
        // 1 (retried first) and 2 acknowledged early, 3 late, 4 dead, 5
        // pending, 6 acknowledged early by 1 but pending for 2.
        conn.execute(
            "INSERT INTO deliveries (receipt, state, attempt) VALUES (?1, 0, 2)",
            params![receipt::receipt(1, 1) as i64],
        )
        .unwrap();
        let early = [1, 2, 6].map(|seq| receipt::receipt(seq, 1));
        rows::acknowledged(&conn, &mut early.clone(), 150).unwrap();
        rows::acknowledged(&conn, &mut [receipt::receipt(3, 1)], 250).unwrap();
        conn.execute(
            "INSERT INTO deliveries (receipt, state, attempt, settled_at) VALUES (?1, 2, 3, 150)",
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
        assert_eq!(left("SELECT seq FROM messages ORDER BY seq"), [3, 4, 5, 6]);
        assert_eq!(left("SELECT receipt >> 16 FROM deliveries ORDER BY receipt"), [4]);
        assert_eq!(left("SELECT receipt >> 16 FROM acks ORDER BY receipt"), [3, 6]);
        let pending: Vec<u64> = load_pending(&conn).unwrap().iter().map(|p| p.receipt).collect();
        assert_eq!(pending, [receipt::receipt(5, 1), receipt::receipt(6, 2)]);
    }

    /// A queue with more to expire than a chunk catches up batch after
    /// batch instead of a chunk every 30 s; once caught up it waits again.
    #[test]
    fn retention_behind_takes_a_chunk_after_every_batch_until_caught_up() {
        use super::super::writer::Maintenance;
        let folder = tempfile::tempdir().unwrap();
        let conn = open(&folder.path().join("queue.db"), Sync::Batch).unwrap();
        conn.execute_batch("INSERT INTO subscriptions (number, name) VALUES (1, 'event:E:a')")
            .unwrap();
        let stored = published_at_100(25);
        let mut all: Vec<NewDelivery> = (1..=25)
            .map(|seq| NewDelivery {
                receipt: receipt::receipt(seq, 1),
            })
            .collect();
        rows::messages(&conn, &stored, &all).unwrap();
        let mut receipts: Vec<u64> = all.drain(..).map(|d| d.receipt).collect();
        rows::acknowledged(&conn, &mut receipts, 150).unwrap();
        let mut retention = Retention {
            keep: Duration::ZERO,
            last: Instant::now(),
            chunk: 10,
            behind: false,
        };
        let count = || -> i64 {
            conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
                .unwrap()
        };
        retention.after_batch(&conn);
        assert_eq!(count(), 25, "not before its 30 s");
        retention.last = Instant::now() - RETENTION_EVERY;
        let mut left = Vec::new();
        for _ in 0..4 {
            retention.after_batch(&conn);
            left.push(count());
        }
        assert_eq!(left, [15, 5, 0, 0], "a chunk a batch while behind, then nothing to do");
        assert!(!retention.behind);
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
