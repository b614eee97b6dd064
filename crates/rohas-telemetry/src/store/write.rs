//! The writing side of the store: batches of spans (their bytes to a
//! segment file, their row to SQLite) and logs in one transaction each,
//! metric points, and upkeep (retention, size cap).

use super::block::Block;
use super::schema::{DROP_OLD_BLOCKS, OLD_BLOCKS, SCHEMA};
use super::segments::{self, Extent, SegmentId, Segments};
use super::Trouble;
use crate::log::LogEntry;
use crate::metrics::Point;
use crate::span::Span;
use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Rows deleted per statement by upkeep: bounds how long one upkeep step
/// holds the writer.
const CHUNK: i64 = 5000;

/// The size a segment file grows to before the next begins: a sixteenth
/// of the size cap, so the cap drops a sixteenth at a time, within 16 KiB
/// (tests' tiny caps) and 64 MiB.
fn segment_target(max_bytes: u64) -> u64 {
    (max_bytes / 16).clamp(16 * 1024, 64 * 1024 * 1024)
}

pub(crate) struct StoreFile {
    conn: Connection,
    path: PathBuf,
    segments: Segments,
    /// The last committed block's `bound_ns` (blocks' bounds only grow).
    bound_ns: u64,
    /// The block being written, kept for the next.
    buffer: Vec<u8>,
    /// Bytes of spans and logs written since the last upkeep: see
    /// [`StoreFile::written_since_upkeep`].
    since_upkeep: u64,
}

impl StoreFile {
    /// Opens (creating) the file, with its segments: a segment no row
    /// points to is deleted, and so are rows whose segment is gone.
    /// A file that is not a database, or is
    /// damaged, is moved aside to `telemetry.db.damaged-<time>` and a new
    /// one started; the second value says where it went.
    /// `max_bytes` is the size cap (it sets the segments' size).
    pub fn open(path: &Path, max_bytes: u64) -> Result<(StoreFile, Option<PathBuf>), Trouble> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Trouble::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        match StoreFile::try_open(path, max_bytes) {
            Ok(file) => Ok((file, None)),
            Err(Trouble::Damaged(_)) => {
                let aside = move_aside(path)?;
                Ok((StoreFile::try_open(path, max_bytes)?, Some(aside)))
            }
            Err(e) => Err(e),
        }
    }

    /// Replaces a file found damaged while in use (a write or upkeep hit a
    /// bad page that opening did not read): closes it, moves it aside and
    /// starts a new one. Returns the new file and where the old one went.
    pub fn replace_damaged(self, max_bytes: u64) -> Result<(StoreFile, PathBuf), Trouble> {
        let StoreFile {
            conn, path, segments, ..
        } = self;
        // Closed first, so nothing writes the old file after the move.
        drop(conn);
        drop(segments);
        let aside = move_aside(&path)?;
        Ok((StoreFile::try_open(&path, max_bytes)?, aside))
    }

    fn try_open(path: &Path, max_bytes: u64) -> Result<StoreFile, Trouble> {
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
        let old_blocks: i64 = conn.query_row(OLD_BLOCKS, [], |r| r.get(0))?;
        if old_blocks > 0 {
            conn.execute_batch(DROP_OLD_BLOCKS)?;
        }
        conn.execute_batch(SCHEMA)?;
        // A damaged page deep in the file shows only when read: a quick
        // look at the tables' first pages catches a truncated or garbled file.
        conn.query_row("SELECT count(*) FROM (SELECT 1 FROM span_blocks LIMIT 1)", [], |_| {
            Ok(())
        })?;
        let bound: i64 = conn.query_row("SELECT coalesce(max(bound_ns), 0) FROM span_blocks", [], |r| r.get(0))?;
        let referenced: HashSet<SegmentId> = conn
            .prepare("SELECT DISTINCT segment FROM span_blocks")?
            .query_map([], |r| r.get::<_, i64>(0))?
            .map(|s| s.map(|s| SegmentId(s as u64)))
            .collect::<Result<_, _>>()?;
        let folder = segments::folder_of(path);
        let segments = Segments::open(&folder, segment_target(max_bytes), |id| referenced.contains(&id))
            .map_err(|e| io_trouble(&folder, e))?;
        // And the other way: rows whose segment is gone (deleted by hand,
        // or the folder removed while the engine ran) go too.
        let present: HashSet<SegmentId> = segments.ids().collect();
        for lost in referenced.difference(&present) {
            delete_blocks(&conn, "segment = ?1", lost.0 as i64)?;
        }
        Ok(StoreFile {
            conn,
            path: path.to_path_buf(),
            segments,
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
        self.path.exists() && self.segments.still_there()
    }

    pub fn write(&mut self, spans: &[&Span], logs: &[&LogEntry]) -> Result<(), Trouble> {
        if spans.is_empty() && logs.is_empty() {
            return Ok(());
        }
        // The block's bytes go first: a row is only committed pointing to
        // bytes already written.
        let mut extent = None;
        if !spans.is_empty() {
            self.buffer.clear();
            super::block::encode(spans, &mut self.buffer);
            let appended = self.segments.append(&self.buffer);
            extent = Some(appended.map_err(|e| io_trouble(self.segments.folder(), e))?);
        }
        let written = self.write_rows(spans, logs, extent);
        if let (Err(_), Some(extent)) = (&written, extent) {
            self.segments.take_back(extent);
        }
        written
    }

    fn write_rows(&mut self, spans: &[&Span], logs: &[&LogEntry], extent: Option<Extent>) -> Result<(), Trouble> {
        let tx = self.conn.transaction()?;
        // Kept only once the block is committed.
        let mut bound_ns = self.bound_ns;
        let block_bytes = extent.map_or(0, |e| e.length as usize);
        {
            if let Some(extent) = extent {
                let block = Block::of(spans, self.bound_ns);
                tx.prepare_cached(
                    "INSERT INTO span_blocks (bound_ns, max_start_ns, min_trace, max_trace, roots, spans, segment, offset, length)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    block.bound_ns as i64,
                    block.max_start_ns as i64,
                    block.min_trace,
                    block.max_trace,
                    block.roots,
                    spans.len() as i64,
                    extent.segment.0 as i64,
                    extent.offset as i64,
                    extent.length as i64,
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
    /// all older, logs in chunks, oldest first) and metric points older
    /// than `points_cutoff_s`; then, while the live data is larger than
    /// `max_bytes`, the oldest segment of spans (or, when logs take more
    /// room than spans, the oldest tenth of the logs). A segment no block
    /// points to any more is deleted. Returns the spans and rows deleted.
    pub fn upkeep(&mut self, cutoff_ns: u64, points_cutoff_s: i64, max_bytes: u64) -> Result<u64, Trouble> {
        self.since_upkeep = 0;
        let mut deleted = 0;
        deleted += delete_blocks(&self.conn, "max_start_ns < ?1", cutoff_ns as i64)?;
        deleted += delete_prefix(&self.conn, "logs", "time_ns", cutoff_ns as i64)?;
        deleted += self
            .conn
            .execute("DELETE FROM metric_points WHERE at_s < ?1", [points_cutoff_s])? as u64;
        self.delete_empty_segments()?;
        // Each round frees a sixteenth of the cap or a tenth of the logs.
        for _ in 0..64 {
            let (rows, spans) = (self.db_live_bytes()?, self.segments.bytes());
            if rows + spans <= max_bytes {
                break;
            }
            if spans >= rows {
                match self.segments.oldest_closed() {
                    Some(oldest) => {
                        deleted += delete_blocks(&self.conn, "segment = ?1", oldest.0 as i64)?;
                        self.segments.remove(oldest);
                    }
                    // One segment, still appended to: close it so it can go.
                    None => self.segments.close_current(),
                }
            } else {
                let n = delete_oldest_tenth(&self.conn, "logs")?;
                if n == 0 {
                    break;
                }
                deleted += n;
            }
        }
        Ok(deleted)
    }

    /// Deletes the segments (but the one appended to) that no block points
    /// to any more: retention deleted their blocks one by one.
    fn delete_empty_segments(&mut self) -> Result<(), Trouble> {
        let ids: Vec<SegmentId> = self.segments.ids().collect();
        let mut used = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM span_blocks WHERE segment = ?1)")?;
        let mut empty = Vec::new();
        for id in ids {
            if !used.query_row([id.0 as i64], |r| r.get::<_, bool>(0))? {
                empty.push(id);
            }
        }
        drop(used);
        for id in empty {
            if !self.segments.is_appending(id) {
                self.segments.remove(id);
            }
        }
        Ok(())
    }

    /// The database's bytes in use (pages minus free pages): deleted rows
    /// free pages for reuse, so this, not the file's length, is what counts.
    fn db_live_bytes(&self) -> Result<u64, Trouble> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(((pages - free).max(0) * size) as u64)
    }
}

/// What an I/O error on the segments means for the recorder.
fn io_trouble(folder: &Path, e: std::io::Error) -> Trouble {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Trouble::Full,
        _ => Trouble::Other(format!("{}: {e}", folder.display())),
    }
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

/// Renames a damaged file (and its WAL) out of the way, with the segments
/// its blocks point to (`<new name>.spans/`); returns its new path. A file
/// already moved aside in the same second is never replaced: the name then
/// gets `-2`, `-3` …
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
    let spans = segments::folder_of(path);
    if std::fs::read_dir(&spans).is_ok_and(|mut d| d.next().is_some()) {
        let _ = std::fs::rename(&spans, format!("{}.{}", aside.display(), segments::FOLDER));
    }
    Ok(aside)
}
