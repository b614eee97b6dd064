//! The `local` adapter's store: one SQLite database in WAL mode under
//! `.rohas/queue/queue.db`, written by one thread with group commit
//! ([`writer`]). SQLite because it is crash-safe by design (a `kill -9`
//! mid-write leaves the last committed transaction), well kept, embedded
//! with no service to run, and a user can open the file with any SQLite
//! tool to see what is queued.
//!
//! Tables (format 3, see `schema.rs` for why this shape): `messages`
//! (each published message once: seq, publish time, the rest as one JSON
//! envelope, and the numbers of the subscriptions it goes to),
//! `subscriptions` (each handler id ever seen, numbered), `deliveries`
//! (a row for a delivery once it is retried, buried or revived, its receipt
//! made of the message's seq and the subscription's number: live or dead,
//! with the attempt number and every failure; a first delivery has none)
//! and `acks` (the acknowledged deliveries). Messages whose deliveries are
//! all acknowledged are kept for `retention`, then deleted. Format 1 and 2
//! files are converted when opened (`migrate.rs`).

mod envelope;
mod migrate;
mod rows;
mod schema;
mod writer;

use super::{Batch, Pending, Store};
use crate::adapter::BoxFuture;
use crate::dead_letter::{DeadLetter, DeadLetterId, DeadLetterQuery, Page, Selection};
use crate::delivery::Failure;
use crate::embedded::{EmbeddedAdapter, QueueOptions};
use crate::error::AdapterError;
use crate::lock::QueueLock;
use crate::message::SubscriptionId;
use crate::time::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use writer::Writer;

/// How much a commit promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sync {
    /// Commits reach the OS at once and the disk within a few ms: a crash
    /// of the process loses nothing, a power loss at most those ms.
    #[default]
    Batch,
    /// Every commit is on the disk before publishing returns.
    Always,
}

/// How often `Sync::Batch` flushes the WAL to the disk.
pub const BATCH_SYNC_INTERVAL: Duration = Duration::from_millis(10);

pub const FILE_NAME: &str = "queue.db";

pub struct SqliteStore {
    writer: Writer,
    pending: std::sync::Mutex<Vec<Pending>>,
    next_seq: u64,
    stop_flusher: Arc<AtomicBool>,
    _lock: QueueLock,
}

/// What opening a local queue needs.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub dir: PathBuf,
    pub sync: Sync,
    /// Acknowledged messages are kept this long.
    pub retention: Duration,
    pub queue: QueueOptions,
}

impl EmbeddedAdapter<SqliteStore> {
    /// Open (or create) the queue in `options.dir`, taking its lock: a
    /// second engine on the same queue gets [`AdapterError::Locked`].
    pub fn open(options: LocalOptions) -> Result<Self, AdapterError> {
        let store = SqliteStore::open(&options)?;
        Ok(EmbeddedAdapter::with_store(store, "local", options.queue))
    }
}

impl SqliteStore {
    fn open(options: &LocalOptions) -> Result<SqliteStore, AdapterError> {
        std::fs::create_dir_all(&options.dir).map_err(|e| AdapterError::Store {
            path: options.dir.clone(),
            reason: format!("cannot create the folder: {e}"),
        })?;
        let lock = QueueLock::acquire(&options.dir)?;
        let path = options.dir.join(FILE_NAME);
        let conn = schema::open(&path, options.sync).map_err(|e| classify(e, &path))?;
        let pending = schema::load_pending(&conn).map_err(|e| classify(e, &path))?;
        let next_seq = schema::next_seq(&conn).map_err(|e| classify(e, &path))?;
        let dirty = Arc::new(AtomicBool::new(false));
        let stop_flusher = Arc::new(AtomicBool::new(false));
        if options.sync == Sync::Batch {
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            writer::start_flusher(wal.into(), dirty.clone(), BATCH_SYNC_INTERVAL, stop_flusher.clone());
        }
        let upkeep = schema::Retention::new(options.retention);
        Ok(SqliteStore {
            writer: Writer::start(conn, path, dirty, upkeep),
            pending: std::sync::Mutex::new(pending),
            next_seq,
            stop_flusher,
            _lock: lock,
        })
    }
}

/// A SQLite error as the user should read it.
pub(crate) fn classify(error: rusqlite::Error, path: &Path) -> AdapterError {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(e, _) = &error {
        match e.code {
            ErrorCode::DiskFull => return AdapterError::DiskFull(path.to_path_buf()),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return AdapterError::Corrupt {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                }
            }
            _ => {}
        }
    }
    AdapterError::Store {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

fn failures_json(failures: &[Failure]) -> String {
    serde_json::to_string(failures).unwrap_or_else(|_| "[]".into())
}

fn insert_batch(conn: &Connection, batch: &Batch) -> rusqlite::Result<()> {
    rows::messages(conn, &batch.messages, &batch.deliveries)
}

/// A batch's acks: each one's outbox inserted and its delivery
/// acknowledged, all stamped with one time (the batch's, read once).
fn acknowledge(conn: &Connection, acks: &[writer::Ack]) -> rusqlite::Result<()> {
    if acks.is_empty() {
        return Ok(());
    }
    for ack in acks {
        insert_batch(conn, &ack.outbox)?;
    }
    let mut receipts: Vec<u64> = acks.iter().map(|a| a.receipt).collect();
    rows::acknowledged(conn, &mut receipts, Millis::now().0)
}

impl Store for SqliteStore {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn numbers(&self, subscriptions: Vec<SubscriptionId>) -> BoxFuture<'_, Result<Vec<u16>, AdapterError>> {
        Box::pin(async move {
            self.writer
                .run(move |conn| schema::numbers(conn, &subscriptions))
                .await?
                .ok_or(AdapterError::TooManyHandlers {
                    remedy: "a queue file numbers every handler id it ever sees; stop rohas and move \
                             .rohas/queue aside (it keeps its dead letters) to start a new queue",
                })
        })
    }

    fn pending(&self) -> Vec<Pending> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn insert(&self, batch: Batch) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(self.writer.run(move |conn| insert_batch(conn, &batch)))
    }

    fn ack(&self, receipt: u64, outbox: Batch) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(self.writer.ack(writer::Ack { receipt, outbox }))
    }

    fn retry(
        &self,
        receipt: u64,
        attempt: u32,
        failures: Vec<Failure>,
        due: Millis,
    ) -> BoxFuture<'_, Result<(), AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            // A first attempt's delivery has no row yet.
            conn.prepare_cached(
                "INSERT INTO deliveries (receipt, state, attempt, failures, due_at) VALUES (?1, 0, ?2, ?3, ?4)
                 ON CONFLICT (receipt) DO UPDATE
                 SET attempt = excluded.attempt, failures = excluded.failures, due_at = excluded.due_at",
            )?
            .execute(params![receipt as i64, attempt, failures_json(&failures), due.0])?;
            Ok(())
        }))
    }

    fn bury(&self, dead: DeadLetter, receipt: u64) -> BoxFuture<'_, Result<DeadLetterId, AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            // A first attempt's delivery (non-retryable) has no row yet.
            conn.prepare_cached(
                "INSERT INTO deliveries (receipt, state, attempt, failures, settled_at) VALUES (?1, 2, 1, ?2, ?3)
                 ON CONFLICT (receipt) DO UPDATE
                 SET state = 2, failures = excluded.failures, settled_at = excluded.settled_at",
            )?
            .execute(params![receipt as i64, failures_json(&dead.attempts), dead.dead_at.0])?;
            Ok(DeadLetterId(receipt.to_string()))
        }))
    }

    fn dead_letters(&self, query: DeadLetterQuery) -> BoxFuture<'_, Result<Page<DeadLetter>, AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            let before = query
                .after
                .as_deref()
                .and_then(|a| a.parse::<i64>().ok())
                .unwrap_or(i64::MAX);
            let limit = query.limit();
            // The event is in the envelope: `matches` filters by it, on
            // the few dead letters, rather than an index on every message.
            let mut statement = conn.prepare_cached(&format!(
                "{} WHERE d.state = 2 AND d.receipt < ?1 ORDER BY d.receipt DESC",
                schema::SELECT_DELIVERY
            ))?;
            let mut rows = statement.query(params![before])?;
            let mut items = Vec::new();
            let mut next = None;
            while let Some(row) = rows.next()? {
                let dead = schema::dead_letter(row)?;
                if !query.matches(&dead.event, &dead.handler) {
                    continue;
                }
                if items.len() == limit {
                    next = items.last().map(|d: &DeadLetter| d.id.0.clone());
                    break;
                }
                items.push(dead);
            }
            Ok(Page { items, next })
        }))
    }

    fn dead_letter(&self, id: DeadLetterId) -> BoxFuture<'_, Result<Option<DeadLetter>, AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            let Ok(receipt) = id.0.parse::<i64>() else {
                return Ok(None);
            };
            conn.prepare_cached(&format!(
                "{} WHERE d.state = 2 AND d.receipt = ?1",
                schema::SELECT_DELIVERY
            ))?
            .query_row(params![receipt], schema::dead_letter)
            .optional()
        }))
    }

    fn revive(&self, selection: Selection) -> BoxFuture<'_, Result<super::Revived, AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            let chosen = schema::select_dead(conn, &selection)?;
            let mut update = conn.prepare_cached(
                "UPDATE deliveries SET state = 0, attempt = 1, due_at = NULL, settled_at = NULL WHERE receipt = ?1",
            )?;
            let mut revived = Vec::new();
            for dead in &chosen {
                let receipt: i64 = dead.id.0.parse().unwrap_or_default();
                update.execute(params![receipt])?;
                revived.push(Pending {
                    receipt: receipt as u64,
                    message: Arc::new(dead.message.clone()),
                    subscription: dead.handler.clone(),
                    attempt: 1,
                    failures: dead.attempts.clone(),
                    due: None,
                });
            }
            let unknown = match &selection {
                Selection::Ids { ids } => ids
                    .iter()
                    .filter(|id| !chosen.iter().any(|d| &d.id == *id))
                    .cloned()
                    .collect(),
                Selection::All { .. } => Vec::new(),
            };
            Ok((revived, unknown))
        }))
    }

    fn purge(&self, selection: Selection) -> BoxFuture<'_, Result<usize, AdapterError>> {
        Box::pin(self.writer.run(move |conn| {
            let chosen = schema::select_dead(conn, &selection)?;
            // Settled for good: without its row and with no ack, a
            // delivery would read as a pending first attempt.
            let mut delete = conn.prepare_cached("DELETE FROM deliveries WHERE receipt = ?1")?;
            let mut settle = conn.prepare_cached("INSERT OR IGNORE INTO acks (receipt, at) VALUES (?1, ?2)")?;
            let now = Millis::now().0;
            for dead in &chosen {
                let receipt = dead.id.0.parse::<i64>().unwrap_or_default();
                delete.execute(params![receipt])?;
                settle.execute(params![receipt, now])?;
            }
            Ok(chosen.len())
        }))
    }

    fn dead_counts(&self) -> BoxFuture<'_, Result<HashMap<SubscriptionId, usize>, AdapterError>> {
        Box::pin(self.writer.run(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT s.name, COUNT(*) FROM deliveries d JOIN subscriptions s ON s.number = d.receipt & 65535
                 WHERE d.state = 2 GROUP BY s.name",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    SubscriptionId::new(row.get::<_, String>(0)?),
                    row.get::<_, i64>(1)? as usize,
                ))
            })?;
            rows.collect()
        }))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.writer.stop().await;
            self.stop_flusher.store(true, std::sync::atomic::Ordering::Release);
        })
    }
}
