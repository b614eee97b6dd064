//! The telemetry store: one SQLite database in WAL mode and the span
//! blocks' segment files beside it ([`segments`]), written only by
//! the recorder's thread ([`StoreFile`]) and read by queries, each on its
//! own connection ([`crate::query`]).
//!
//! Telemetry is not worth an fsync: `synchronous = OFF` (a power loss may
//! lose the last moments; a process crash loses nothing written). What
//! goes wrong with the file is classified ([`Trouble`]) so the recorder can
//! say what happened once and keep the application serving.

pub(crate) mod block;
pub(crate) mod read;
mod schema;
pub(crate) mod segments;
mod write;

pub(crate) use schema::FILE;
pub(crate) use write::StoreFile;

use std::path::{Path, PathBuf};

/// What stopped a write, as the recorder needs to know it.
#[derive(Debug)]
pub(crate) enum Trouble {
    /// The disk (or the file system's quota) is full.
    Full,
    /// The file is not a database or is damaged: move it aside.
    Damaged(String),
    /// Anything else (permissions, I/O): try again later.
    Other(String),
}

impl From<rusqlite::Error> for Trouble {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Trouble::Full,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Trouble::Damaged(e.to_string()),
            _ => Trouble::Other(e.to_string()),
        }
    }
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trouble::Full => f.write_str("the disk is full"),
            Trouble::Damaged(e) => write!(f, "the file is damaged ({e})"),
            Trouble::Other(e) => f.write_str(e),
        }
    }
}

/// The database file in a telemetry folder.
pub(crate) fn file_in(folder: &Path) -> PathBuf {
    folder.join(FILE)
}

/// Opens a connection for reading (queries, the CLI without an engine).
pub(crate) fn open_reader(file: &Path) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    Ok(conn)
}
