//! One engine per queue. The queue folder holds `LOCK`, locked (an OS file
//! lock, released by the kernel however the process ends, `kill -9`
//! included) by whoever has the queue open, and `engine.json`, where a
//! serving engine says how to reach it, so `rohas dlq` can go through the
//! running engine instead of the file.

use crate::error::AdapterError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::Path;

pub struct QueueLock {
    /// Held open: the OS lock lasts as long as the file does.
    _file: File,
}

/// What a serving engine writes next to its queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    pub pid: u32,
    /// Base URL of its admin API, e.g. `http://127.0.0.1:3000`.
    pub url: String,
}

const LOCK: &str = "LOCK";
const ENGINE: &str = "engine.json";

impl QueueLock {
    pub fn acquire(dir: &Path) -> Result<QueueLock, AdapterError> {
        let path = dir.join(LOCK);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| AdapterError::Store {
                path: path.clone(),
                reason: format!("cannot open the lock file: {e}"),
            })?;
        if let Err(e) = file.try_lock() {
            let holder = QueueLock::engine(dir)
                .map(|info| format!(" (pid {}, serving {})", info.pid, info.url))
                .unwrap_or_default();
            return Err(AdapterError::Locked(match e {
                std::fs::TryLockError::WouldBlock => format!(
                    "another rohas engine is already using the event queue in {}{holder}: one engine per queue. Stop it first, or point this one at another queue ([adapter] path)",
                    dir.display()
                ),
                std::fs::TryLockError::Error(e) => format!("cannot lock {}: {e}", path.display()),
            }));
        }
        let _ = file.set_len(0);
        let _ = write!(file, "{}", std::process::id());
        Ok(QueueLock { _file: file })
    }

    /// Say where the engine holding the queue in `dir` serves its admin
    /// API; the engine takes it back with [`QueueLock::withdraw`] when it
    /// stops (after a crash a stale file is harmless: the CLI trusts it only
    /// while the lock is held).
    pub fn announce(dir: &Path, url: &str) {
        let info = EngineInfo {
            pid: std::process::id(),
            url: url.to_string(),
        };
        if let Ok(text) = serde_json::to_string(&info) {
            let _ = std::fs::write(dir.join(ENGINE), text);
        }
    }

    /// Take back what [`QueueLock::announce`] said (at a clean stop).
    pub fn withdraw(dir: &Path) {
        let _ = std::fs::remove_file(dir.join(ENGINE));
    }

    /// The engine announced in `dir`, if one is.
    pub fn engine(dir: &Path) -> Option<EngineInfo> {
        let text = std::fs::read_to_string(dir.join(ENGINE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether some process holds the lock of the queue in `dir` now.
    pub fn is_held(dir: &Path) -> bool {
        let Ok(file) = File::open(dir.join(LOCK)) else {
            return false;
        };
        matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    }
}
