//! The writing side of the store: batches of spans and logs in one
//! transaction each, metric points, and upkeep (retention, size cap).

use super::block::Block;
use super::schema::SCHEMA;
use super::Trouble;
use crate::log::LogEntry;
use crate::metrics::Point;
use crate::span::Span;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

/// Rows deleted per statement by upkeep: bounds how long one upkeep step
/// holds the writer.
const CHUNK: i64 = 5000;

pub(crate) struct StoreFile {
    conn: Connection,
    path: PathBuf,
    /// The last committed block's `bound_ns` (blocks' bounds only grow).
    bound_ns: u64,
    /// The block being written, kept for the next.
    buffer: Vec<u8>,
    /// Bytes of spans and logs written since the last upkeep: see
    /// [`StoreFile::written_since_upkeep`].
    since_upkeep: u64,
}

impl StoreFile {
    /// Opens (creating) the file. A file that is not a database, or is
    /// damaged, is moved aside to `telemetry.db.damaged-<time>` and a new
    /// one started; the second value says where it went.
    pub fn open(path: &Path) -> Result<(StoreFile, Option<PathBuf>), Trouble> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Trouble::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        match StoreFile::try_open(path) {
            Ok(file) => Ok((file, None)),
            Err(Trouble::Damaged(_)) => {
                let aside = move_aside(path)?;
                Ok((StoreFile::try_open(path)?, Some(aside)))
            }
            Err(e) => Err(e),
        }
    }

    /// Replaces a file found damaged while in use (a write or upkeep hit a
    /// bad page that opening did not read): closes it, moves it aside and
    /// starts a new one. Returns the new file and where the old one went.
    pub fn replace_damaged(self) -> Result<(StoreFile, PathBuf), Trouble> {
        let StoreFile { conn, path, .. } = self;
        // Closed first, so nothing writes the old file after the move.
        drop(conn);
        let aside = move_aside(&path)?;
        Ok((StoreFile::try_open(&path)?, aside))
    }

    fn try_open(path: &Path) -> Result<StoreFile, Trouble> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        // Pages read back from the file cost a copy each (pread): keep the
        // hot ones (the tables' ends) in SQLite's cache. (Mapping the file
        // instead measured slower: the cache is dropped between writes.)
        // 4 MiB holds them; a larger cache only fills with the blocks just
        // written, never read again: 32 MiB of it was most of a loaded
        // server's RSS.
        conn.pragma_update(None, "cache_size", -4 * 1024)?;
        conn.execute_batch(SCHEMA)?;
        // A damaged page deep in the file shows only when read: a quick
        // look at the tables' first pages catches a truncated or garbled file.
        conn.query_row("SELECT count(*) FROM (SELECT 1 FROM span_blocks LIMIT 1)", [], |_| {
            Ok(())
        })?;
        let bound: i64 = conn.query_row("SELECT coalesce(max(bound_ns), 0) FROM span_blocks", [], |r| r.get(0))?;
        Ok(StoreFile {
            conn,
            path: path.to_path_buf(),
            bound_ns: bound as u64,
            buffer: Vec::new(),
            since_upkeep: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written (span blocks, log texts) since [`StoreFile::upkeep`]
    /// last ran: the writer runs it early when this grows past a tenth of
    /// the size cap. Event bursts write some 30 MB of spans a second, and
    /// an upkeep once a minute let a 40 MB cap grow to 2 GB.
    pub fn written_since_upkeep(&self) -> u64 {
        self.since_upkeep
    }

    /// Whether the file is still where it was opened (someone may delete
    /// the folder while the engine runs).
    pub fn still_there(&self) -> bool {
        self.path.exists()
    }

    pub fn write(&mut self, spans: &[&Span], logs: &[&LogEntry]) -> Result<(), Trouble> {
        if spans.is_empty() && logs.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        // Kept only once the block is committed.
        let mut bound_ns = self.bound_ns;
        let mut block_bytes = 0;
        {
            if !spans.is_empty() {
                let block = Block::of(spans, self.bound_ns);
                let data = &mut self.buffer;
                data.clear();
                super::block::encode(spans, data);
                block_bytes = data.len();
                tx.prepare_cached(
                    "INSERT INTO span_blocks (bound_ns, max_start_ns, min_trace, max_trace, roots, spans, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    block.bound_ns as i64,
                    block.max_start_ns as i64,
                    block.min_trace,
                    block.max_trace,
                    block.roots,
                    spans.len() as i64,
                    &data[..],
                ])?;
                let id = tx.last_insert_rowid();
                let mut late =
                    tx.prepare_cached("INSERT OR IGNORE INTO late_spans (trace_id, block) VALUES (?1, ?2)")?;
                for trace in block.late {
                    late.execute(params![trace, id])?;
                }
                bound_ns = block.bound_ns;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO logs (time_ns, level, source, trace_id, span_id, message, fields, truncated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for l in logs {
                let fields = (!l.fields.is_empty()).then(|| serde_json::Value::Object(l.fields.clone()).to_string());
                insert.execute(params![
                    l.time_ns as i64,
                    l.level.code(),
                    &*l.source,
                    l.trace_id,
                    l.span_id.map(|s| s.as_u64() as i64),
                    l.message,
                    fields,
                    l.truncated,
                ])?;
            }
        }
        tx.commit()?;
        self.bound_ns = bound_ns;
        let log_bytes: usize = logs.iter().map(|l| l.message.len() + 32).sum();
        self.since_upkeep += (block_bytes + log_bytes) as u64;
        Ok(())
    }

    pub fn write_points(&mut self, points: &[Point]) -> Result<(), Trouble> {
        if points.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO metric_points (at_s, name, labels, value) VALUES (?1, ?2, ?3, ?4)")?;
            for p in points {
                insert.execute(params![p.at_s, p.name, p.labels, p.value])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes what is older than `cutoff_ns` (span blocks whose spans are
    /// all older, logs in chunks, oldest first), metric points older than `points_cutoff_s`, then, while the live
    /// data is larger than `max_bytes`, the oldest tenth. Returns the spans
    /// and rows deleted.
    pub fn upkeep(&mut self, cutoff_ns: u64, points_cutoff_s: i64, max_bytes: u64) -> Result<u64, Trouble> {
        self.since_upkeep = 0;
        let mut deleted = 0;
        deleted += delete_old_spans(&self.conn, cutoff_ns)?;
        deleted += delete_prefix(&self.conn, "logs", "time_ns", cutoff_ns as i64)?;
        deleted += self
            .conn
            .execute("DELETE FROM metric_points WHERE at_s < ?1", [points_cutoff_s])? as u64;
        for _ in 0..10 {
            if self.live_bytes()? <= max_bytes {
                break;
            }
            deleted += delete_oldest_spans(&self.conn)?;
            deleted += delete_oldest_tenth(&self.conn, "logs")?;
        }
        Ok(deleted)
    }

    /// Bytes in use (pages minus free pages): deleted rows free pages for
    /// reuse, so this, not the file's length, is what the cap bounds.
    pub fn live_bytes(&self) -> Result<u64, Trouble> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(((pages - free).max(0) * size) as u64)
    }
}

/// Deletes the blocks whose spans all started before `cutoff_ns`.
/// (Blocks are few: one per written batch, so a scan of them is cheap.)
fn delete_old_spans(conn: &Connection, cutoff_ns: u64) -> Result<u64, Trouble> {
    delete_blocks(conn, "max_start_ns < ?1", cutoff_ns as i64)
}

/// The oldest tenth of the blocks.
fn delete_oldest_spans(conn: &Connection) -> Result<u64, Trouble> {
    let count: i64 = conn.query_row("SELECT count(*) FROM span_blocks", [], |r| r.get(0))?;
    delete_blocks(
        conn,
        "id IN (SELECT id FROM span_blocks ORDER BY id LIMIT ?1)",
        (count / 10).max(1),
    )
}

/// Deletes the blocks `condition` (with `?1` = `arg`) picks, and what
/// `late_spans` says of them. Returns the spans they held.
fn delete_blocks(conn: &Connection, condition: &str, arg: i64) -> Result<u64, Trouble> {
    let mut delete = conn.prepare(&format!("DELETE FROM span_blocks WHERE {condition} RETURNING spans"))?;
    let mut deleted = 0u64;
    for spans in delete.query_map([arg], |r| r.get::<_, i64>(0))? {
        deleted += spans? as u64;
    }
    if deleted > 0 {
        conn.execute(
            "DELETE FROM late_spans WHERE NOT EXISTS (SELECT 1 FROM span_blocks b WHERE b.id = late_spans.block)",
            [],
        )?;
    }
    Ok(deleted)
}

/// Deletes, oldest rowid first, the rows before the first one at or after
/// `cutoff`: rows are appended in time order, so this is what is older,
/// found without a time index.
fn delete_prefix(conn: &Connection, table: &str, column: &str, cutoff: i64) -> Result<u64, Trouble> {
    let first_kept: Option<i64> = conn
        .query_row(
            &format!("SELECT rowid FROM {table} WHERE {column} >= ?1 ORDER BY rowid LIMIT 1"),
            [cutoff],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let bound = match first_kept {
        Some(id) => id,
        None => conn.query_row(&format!("SELECT coalesce(max(rowid), 0) + 1 FROM {table}"), [], |r| {
            r.get(0)
        })?,
    };
    let mut deleted = 0u64;
    loop {
        let n = conn.execute(
            &format!("DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE rowid < ?1 ORDER BY rowid LIMIT ?2)"),
            params![bound, CHUNK],
        )? as u64;
        deleted += n;
        if n < CHUNK as u64 {
            return Ok(deleted);
        }
    }
}

fn delete_oldest_tenth(conn: &Connection, table: &str) -> Result<u64, Trouble> {
    let count: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    let n = (count / 10).max(1);
    Ok(conn.execute(
        &format!("DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY rowid LIMIT ?1)"),
        [n],
    )? as u64)
}

/// Renames a damaged file (and its WAL) out of the way; returns its new path.
/// A file already moved aside in the same second is never replaced: the
/// name then gets `-2`, `-3` …
fn move_aside(path: &Path) -> Result<PathBuf, Trouble> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let mut aside = path.with_extension(format!("db.damaged-{stamp}"));
    for n in 2.. {
        if !aside.exists() {
            break;
        }
        aside = path.with_extension(format!("db.damaged-{stamp}-{n}"));
    }
    std::fs::rename(path, &aside).map_err(|e| Trouble::Other(format!("cannot move {} aside: {e}", path.display())))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        let _ = std::fs::remove_file(side);
    }
    Ok(aside)
}
