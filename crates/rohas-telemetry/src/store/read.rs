//! Reading spans back out of their blocks (see [`super::schema`]): a
//! trace's spans, and the blocks newest first for the trace list. A query
//! decodes each block it touches once ([`Blocks`] keeps them).

use super::block::{decode, BadBlock};
use super::segments::{self, Extent, SegmentId};
use crate::span::Span;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Most decoded blocks one query keeps.
const KEPT: usize = 128;

/// What reading a block can run into.
#[derive(Debug)]
pub(crate) enum ReadError {
    Sql(rusqlite::Error),
    Bad(BadBlock),
    /// A segment file could not be read (a short one is [`ReadError::Bad`]).
    Io(std::io::Error),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sql(e)
    }
}

/// One block's row, without its blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockRow {
    pub id: i64,
    /// No root in this block or an earlier one started after this.
    pub bound_ns: u64,
}

/// The blocks one query has decoded, by id.
pub(crate) struct Blocks<'c> {
    conn: &'c Connection,
    /// The segment files' folder.
    segments: PathBuf,
    /// The segment file read last (a trace's blocks are usually in one).
    open: Option<(SegmentId, File)>,
    decoded: HashMap<i64, Rc<Vec<Span>>>,
}

impl<'c> Blocks<'c> {
    /// The blocks of the store whose database `db_file` is open as `conn`.
    pub fn new(conn: &'c Connection, db_file: &Path) -> Blocks<'c> {
        Blocks {
            conn,
            segments: segments::folder_of(db_file),
            open: None,
            decoded: HashMap::new(),
        }
    }

    /// The spans of block `id` (an empty list for a block deleted meanwhile).
    pub fn spans(&mut self, id: i64) -> Result<Rc<Vec<Span>>, ReadError> {
        if let Some(spans) = self.decoded.get(&id) {
            return Ok(Rc::clone(spans));
        }
        let extent = self
            .conn
            .prepare_cached("SELECT segment, offset, length FROM span_blocks WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(Extent {
                    segment: SegmentId(r.get::<_, i64>(0)? as u64),
                    offset: r.get::<_, i64>(1)? as u64,
                    length: r.get::<_, i64>(2)? as u64,
                })
            })
            .optional()?;
        let data = match extent {
            // Deleted meanwhile (the row or its segment): nothing to show.
            None => None,
            Some(extent) => match segments::read(&self.segments, extent, &mut self.open) {
                Ok(data) => data,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(ReadError::Bad(BadBlock(
                        "its segment file is shorter than its row says",
                    )))
                }
                Err(e) => return Err(ReadError::Io(e)),
            },
        };
        let spans = Rc::new(match data {
            Some(data) => decode(&data).map_err(ReadError::Bad)?,
            None => Vec::new(),
        });
        if self.decoded.len() >= KEPT {
            // A scan through a large store must not hold it all decoded.
            self.decoded.clear();
        }
        self.decoded.insert(id, Rc::clone(&spans));
        Ok(spans)
    }

    /// Every stored span of `trace_id`, by start then span id.
    pub fn trace(&mut self, trace_id: &str) -> Result<Vec<Span>, ReadError> {
        let mut ids: Vec<i64> = Vec::new();
        {
            let mut by_range = self.conn.prepare_cached(
                "SELECT id FROM span_blocks WHERE max_trace >= ?1 AND min_trace <= ?1 AND max_trace IS NOT NULL",
            )?;
            for id in by_range.query_map([trace_id], |r| r.get(0))? {
                ids.push(id?);
            }
            let mut late = self
                .conn
                .prepare_cached("SELECT block FROM late_spans WHERE trace_id = ?1")?;
            for id in late.query_map([trace_id], |r| r.get(0))? {
                ids.push(id?);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut spans = Vec::new();
        for id in ids {
            let block = self.spans(id)?;
            spans.extend(block.iter().filter(|s| s.trace_id == trace_id).cloned());
        }
        spans.sort_by_key(|s| (s.start_ns, s.span_id.as_u64()));
        Ok(spans)
    }

    /// The blocks with roots, newest first, from before block `before`
    /// (all when `None`), `n` at a time.
    pub fn with_roots_before(&self, before: Option<i64>, n: usize) -> Result<Vec<BlockRow>, ReadError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, bound_ns FROM span_blocks WHERE id < ?1 AND roots > 0 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![before.unwrap_or(i64::MAX), n as i64], |r| {
            Ok(BlockRow {
                id: r.get(0)?,
                bound_ns: r.get::<_, i64>(1)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
