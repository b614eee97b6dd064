//! Putting generated files on disk, with codegen's two promises kept here
//! and nowhere else:
//!
//! - `generated/` is rewritten in full: files whose declaration is gone are
//!   removed, but a file whose contents did not change is not touched, so a
//!   second run changes nothing (not even modification times, which the
//!   hot-reload watcher would otherwise see).
//! - a handler stub is written only when none of the handler's candidate
//!   files exists. User code is never overwritten.

use crate::GeneratedFile;
use rohas_runtime::HandlerSpec;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// What [`write`] did, paths relative to the project root.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Generated files created or changed.
    pub written: Vec<PathBuf>,
    /// Generated files already up to date.
    pub unchanged: Vec<PathBuf>,
    /// Stale files removed from the generated folder.
    pub removed: Vec<PathBuf>,
    /// Handler stubs created.
    pub stubs: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} is a file, not a folder; codegen writes {} inside it\n  help: pass another --output folder, or move the file away", .path.display(), .what)]
    NotAFolder { path: PathBuf, what: &'static str },
    #[error("cannot write {}: {source}\n  help: check that the folder exists and is writable", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `generated` (paths under `src/generated/`) and the `stubs` whose
/// handler has no file yet into the project at `root`. `src_dir` is where
/// `src/` goes (the `--output` option; normally `root/src`).
pub fn write(
    root: &Path,
    src_dir: &Path,
    generated: &[GeneratedFile],
    stubs: &[GeneratedFile],
    specs: &[HandlerSpec],
) -> Result<WriteReport, WriteError> {
    let place = |rel: &Path| place(root, src_dir, rel);
    for (dir, what) in [
        (src_dir.to_path_buf(), "src/"),
        (src_dir.join("generated"), "generated code"),
    ] {
        if dir.is_file() {
            return Err(WriteError::NotAFolder { path: dir, what });
        }
    }

    let mut report = WriteReport::default();
    let generated_dir = src_dir.join("generated");
    let mut keep: HashSet<PathBuf> = HashSet::new();
    for file in generated {
        let path = place(&file.path);
        keep.insert(path.clone());
        if std::fs::read(&path).is_ok_and(|old| old == file.contents.as_bytes()) {
            report.unchanged.push(file.path.clone());
            continue;
        }
        write_file(&path, &file.contents)?;
        report.written.push(file.path.clone());
    }
    remove_stale(&generated_dir, &keep, &mut report.removed, root)?;

    for stub in stubs {
        let has_file = specs
            .iter()
            .filter(|s| s.files.first() == Some(&stub.path))
            .any(|s| s.files.iter().any(|f| place(f).exists()));
        let path = place(&stub.path);
        if has_file || path.exists() || report.stubs.contains(&stub.path) {
            continue;
        }
        write_file(&path, &stub.contents)?;
        report.stubs.push(stub.path.clone());
    }
    Ok(report)
}

/// The generated files [`write`] would create or change: missing on disk,
/// or with other contents. `rohas start` refuses to serve when there is
/// one, because handlers would run against types of another schema.
pub fn out_of_date(root: &Path, src_dir: &Path, generated: &[GeneratedFile]) -> Vec<PathBuf> {
    generated
        .iter()
        .filter(|file| {
            let path = place(root, src_dir, &file.path);
            !std::fs::read(path).is_ok_and(|old| old == file.contents.as_bytes())
        })
        .map(|file| file.path.clone())
        .collect()
}

/// Where a project-relative path goes: `src/…` into `src_dir`.
fn place(root: &Path, src_dir: &Path, rel: &Path) -> PathBuf {
    match rel.strip_prefix("src") {
        Ok(inside) => src_dir.join(inside),
        Err(_) => root.join(rel),
    }
}

fn write_file(path: &Path, contents: &str) -> Result<(), WriteError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, contents).map_err(io(path))
}

/// Remove files under `dir` that codegen did not produce this run, and the
/// folders left empty. Caches the languages keep beside the sources
/// (`__pycache__`, Rust's `target` of the runtime crate) are left alone.
fn remove_stale(
    dir: &Path,
    keep: &HashSet<PathBuf>,
    removed: &mut Vec<PathBuf>,
    root: &Path,
) -> Result<(), WriteError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().unwrap_or_default();
        if name == "__pycache__" || name == "target" || name == "Cargo.lock" {
            continue;
        }
        if path.is_dir() {
            remove_stale(&path, keep, removed, root)?;
            if std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none()) {
                std::fs::remove_dir(&path).map_err(io(&path))?;
            }
        } else if !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(io(&path))?;
            removed.push(relative(&path, root));
        }
    }
    Ok(())
}

fn relative(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(|p| p.components().filter(|c| !matches!(c, Component::CurDir)).collect())
        .unwrap_or_else(|_| path.to_path_buf())
}
