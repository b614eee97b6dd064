//! The span blocks' bytes, in append-only segment files beside the
//! SQLite file (`<folder>/spans/<n>.seg`); `span_blocks` rows say which
//! segment, where and how long (see [`super::schema`]).
//!
//! Why not blobs in SQLite: a store at its size cap deleted its oldest
//! tenth of blocks every minute. SQLite walks each deleted blob's overflow
//! pages to free them and then writes new blocks into those freed pages,
//! all on the writer's core: under event bursts that made recording every
//! span cost a third more CPU than on a new store. And in WAL mode every
//! blob was written twice (the log, then the database). A segment is
//! written once, appended to, and deleted whole: the size cap and
//! retention unlink its file and drop its few index rows.
//!
//! Invariants:
//! - Bytes are appended before the row that points to them is committed,
//!   so a committed row's bytes are in the file (in the page cache at
//!   least: like the database, segments are never fsynced).
//! - Segment numbers only grow; the writer starts a new segment when it
//!   opens the store and never appends to one it did not create.
//! - A segment file no row points to is the writer's to delete (a crash
//!   between an append and its commit, a store whose database was deleted).

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The folder of segment files inside a telemetry folder.
pub(crate) const FOLDER: &str = "spans";

/// A segment file's number (its rows' `segment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SegmentId(pub u64);

/// Where a block's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub segment: SegmentId,
    pub offset: u64,
    pub length: u64,
}

/// The segments folder of the store whose database is `db_file`.
pub(crate) fn folder_of(db_file: &Path) -> PathBuf {
    db_file.parent().unwrap_or(Path::new(".")).join(FOLDER)
}

fn path_of(folder: &Path, id: SegmentId) -> PathBuf {
    folder.join(format!("{:010}.seg", id.0))
}

/// The segment files in `folder` with their sizes, oldest first.
fn list(folder: &Path) -> std::io::Result<Vec<(SegmentId, u64)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(number) = name.to_str().and_then(|n| n.strip_suffix(".seg")) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else { continue };
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        found.push((SegmentId(number), size));
    }
    found.sort_unstable();
    Ok(found)
}

/// The writer's side: the segments on disk and the one being appended to.
pub(crate) struct Segments {
    folder: PathBuf,
    /// Every segment with its size in bytes, oldest first; the last is
    /// the one appended to, once `current` is open.
    sizes: Vec<(SegmentId, u64)>,
    current: Option<File>,
    /// A segment this large takes no more blocks.
    target: u64,
    next: SegmentId,
}

impl Segments {
    /// The segments in `folder` (created if missing). Those `referenced`
    /// does not name are deleted; appending starts in a new segment.
    pub fn open(folder: &Path, target: u64, referenced: impl Fn(SegmentId) -> bool) -> std::io::Result<Segments> {
        std::fs::create_dir_all(folder)?;
        let mut sizes = Vec::new();
        let mut last = 0;
        for (id, size) in list(folder)? {
            last = last.max(id.0);
            if referenced(id) {
                sizes.push((id, size));
            } else {
                let _ = std::fs::remove_file(path_of(folder, id));
            }
        }
        Ok(Segments {
            folder: folder.to_path_buf(),
            sizes,
            current: None,
            target,
            next: SegmentId(last + 1),
        })
    }

    /// The folder the segment files are in.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Whether the folder is still there (someone may delete it).
    pub fn still_there(&self) -> bool {
        self.folder.is_dir()
    }

    /// Appends `data` and says where it went. On failure nothing is
    /// pointed to: the segment is cut back to where it was.
    pub fn append(&mut self, data: &[u8]) -> std::io::Result<Extent> {
        if self.current.is_none() {
            let id = self.next;
            let file = std::fs::OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(path_of(&self.folder, id))?;
            self.next = SegmentId(id.0 + 1);
            self.sizes.push((id, 0));
            self.current = Some(file);
        }
        let (Some(file), Some((segment, size))) = (self.current.as_mut(), self.sizes.last_mut()) else {
            unreachable!("a segment was opened above");
        };
        let offset = *size;
        if let Err(e) = file.write_all(data) {
            let _ = file.set_len(offset);
            return Err(e);
        }
        *size += data.len() as u64;
        let extent = Extent {
            segment: *segment,
            offset,
            length: data.len() as u64,
        };
        if *size >= self.target {
            self.current = None;
        }
        Ok(extent)
    }

    /// Undoes the last [`Segments::append`] (its row was not committed).
    pub fn take_back(&mut self, extent: Extent) {
        if let Some((segment, size)) = self.sizes.last_mut() {
            if *segment == extent.segment && *size == extent.offset + extent.length {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path_of(&self.folder, *segment));
                if file.and_then(|f| f.set_len(extent.offset)).is_ok() {
                    *size = extent.offset;
                }
            }
        }
    }

    /// Bytes in all segments.
    pub fn bytes(&self) -> u64 {
        self.sizes.iter().map(|(_, size)| size).sum()
    }

    /// The segments, oldest first.
    pub fn ids(&self) -> impl Iterator<Item = SegmentId> + '_ {
        self.sizes.iter().map(|(id, _)| *id)
    }

    /// Whether `id` is the segment being appended to.
    pub fn is_appending(&self, id: SegmentId) -> bool {
        self.current.is_some() && self.sizes.last().is_some_and(|(last, _)| *last == id)
    }

    /// The oldest segment, unless it is the one being appended to.
    pub fn oldest_closed(&self) -> Option<SegmentId> {
        let (id, _) = *self.sizes.first()?;
        (!self.is_appending(id)).then_some(id)
    }

    /// Stops appending to the current segment: the next block starts a new one.
    pub fn close_current(&mut self) {
        self.current = None;
    }

    /// Deletes segment `id` (its rows must be gone first).
    pub fn remove(&mut self, id: SegmentId) {
        if let Some(at) = self.sizes.iter().position(|(s, _)| *s == id) {
            if at + 1 == self.sizes.len() {
                self.current = None;
            }
            self.sizes.remove(at);
        }
        let _ = std::fs::remove_file(path_of(&self.folder, id));
    }
}

/// Reads a block's bytes. `None`: the segment is gone (deleted by
/// retention or the size cap since its row was read). A segment shorter
/// than the extent is an error of kind `UnexpectedEof`.
pub(crate) fn read(
    folder: &Path,
    extent: Extent,
    open: &mut Option<(SegmentId, File)>,
) -> std::io::Result<Option<Vec<u8>>> {
    if open.as_ref().is_none_or(|(id, _)| *id != extent.segment) {
        match File::open(path_of(folder, extent.segment)) {
            Ok(file) => *open = Some((extent.segment, file)),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    let Some((_, file)) = open.as_ref() else {
        return Ok(None);
    };
    let length = usize::try_from(extent.length).map_err(|_| std::io::Error::from(ErrorKind::InvalidData))?;
    let mut data = vec![0; length];
    file.read_exact_at(&mut data, extent.offset)?;
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_go_into_segments_of_about_the_target_size_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), 10, |_| true).unwrap();
        let a = segments.append(b"first block").unwrap();
        let b = segments.append(b"second").unwrap();
        let c = segments.append(b"third").unwrap();
        assert_eq!((a.segment, a.offset), (SegmentId(1), 0), "a new store starts at 1");
        // The first block filled segment 1 past 10 bytes: the next starts 2.
        assert_eq!(
            (b.segment, b.offset, c.segment, c.offset),
            (SegmentId(2), 0, SegmentId(2), 6)
        );
        assert_eq!(segments.bytes(), 22);
        let mut open = None;
        assert_eq!(read(dir.path(), c, &mut open).unwrap().unwrap(), b"third");
        assert_eq!(read(dir.path(), a, &mut open).unwrap().unwrap(), b"first block");
        segments.remove(SegmentId(1));
        assert_eq!(
            read(dir.path(), a, &mut None).unwrap(),
            None,
            "a deleted segment reads as gone"
        );
        assert_eq!(segments.bytes(), 11);
    }

    #[test]
    fn opening_keeps_what_rows_point_to_and_starts_a_new_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), 1, |_| true).unwrap();
        for block in [&b"one"[..], b"two", b"three"] {
            segments.append(block).unwrap();
        }
        drop(segments);
        let segments = Segments::open(dir.path(), 1, |id| id != SegmentId(2)).unwrap();
        assert_eq!(segments.ids().collect::<Vec<_>>(), [SegmentId(1), SegmentId(3)]);
        assert!(!path_of(dir.path(), SegmentId(2)).exists(), "an orphan is deleted");
        assert_eq!(segments.next, SegmentId(4));
    }

    #[test]
    fn a_short_segment_is_an_error_not_a_short_block() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), 1 << 20, |_| true).unwrap();
        let extent = segments.append(b"0123456789").unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(path_of(dir.path(), extent.segment))
            .unwrap()
            .set_len(4)
            .unwrap();
        let e = read(dir.path(), extent, &mut None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn taking_back_an_append_cuts_the_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut segments = Segments::open(dir.path(), 1 << 20, |_| true).unwrap();
        segments.append(b"kept").unwrap();
        let dropped = segments.append(b"not committed").unwrap();
        segments.take_back(dropped);
        assert_eq!(segments.bytes(), 4);
        let next = segments.append(b"next").unwrap();
        assert_eq!(next.offset, 4, "the next block goes where the dropped one was");
    }
}
