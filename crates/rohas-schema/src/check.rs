//! The entry points: check a schema folder (or one file, or in-memory
//! sources) and get back the diagnostics and, when valid, the model.

use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::Schema;
use crate::parser::parse_file;
use crate::span::{FileId, SourceMap, Span};
use std::path::{Path, PathBuf};

/// Files larger than this are refused rather than parsed.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Folders nested deeper than this under the schema folder are not read
/// (it also stops symlink loops).
const MAX_DIR_DEPTH: usize = 32;

/// The result of checking a schema: every source read, every diagnostic
/// (errors and warnings, in file and position order), and the model when
/// there was no error.
#[derive(Debug, Clone)]
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Option<Schema>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics as a user reads them (see `render.rs`).
    pub fn render(&self, color: bool) -> String {
        crate::render::render(&self.sources, &self.diagnostics, color)
    }
}

/// Why a schema could not even be read. Everything about its contents is a
/// [`Diagnostic`] instead.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("schema path {} does not exist\n  help: pass a .ro file or a schema folder, or run inside a project that has schema/", .0.display())]
    NotFound(PathBuf),
    #[error("{} has no .ro files\n  help: declare something, e.g. schema/api/health.ro with `api Health {{ method: GET  path: \"/health\" }}`", .0.display())]
    NoFiles(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Check a `.ro` file, or every `.ro` file under a folder (sorted by path,
/// any depth).
pub fn check_path(path: &Path) -> Result<Checked, LoadError> {
    let meta = std::fs::metadata(path).map_err(|_| LoadError::NotFound(path.to_path_buf()))?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        collect(path, 0, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(LoadError::NoFiles(path.to_path_buf()));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };

    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    for file in files {
        let io = |source| LoadError::Io {
            path: file.clone(),
            source,
        };
        let size = std::fs::metadata(&file).map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            let id = sources.add(&file, "");
            diagnostics.push(
                Diagnostic::error(
                    Code::E0002,
                    format!("schema file is too large ({size} bytes; the limit is {MAX_FILE_BYTES})"),
                )
                .with_primary(Span::new(id, 0, 0), "not read")
                .with_help("split it into several files"),
            );
            continue;
        }
        let bytes = std::fs::read(&file).map_err(io)?;
        match String::from_utf8(bytes) {
            Ok(text) => {
                sources.add(&file, text);
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let id = sources.add(&file, text);
                diagnostics.push(
                    Diagnostic::error(Code::E0002, "schema file is not valid UTF-8")
                        .with_primary(
                            Span::new(id, at, at + '\u{fffd}'.len_utf8()),
                            format!("invalid byte at offset {at}"),
                        )
                        .with_help("save the file as UTF-8"),
                );
            }
        }
    }
    Ok(check_with(sources, diagnostics))
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "ro") {
            out.push(path);
        }
    }
    Ok(())
}

/// Check sources already in memory (tests, the engine's reload, benchmarks).
pub fn check_sources(sources: SourceMap) -> Checked {
    check_with(sources, Vec::new())
}

fn check_with(sources: SourceMap, mut diagnostics: Vec<Diagnostic>) -> Checked {
    // Files that already failed to load (not UTF-8, too large) are not parsed.
    let unreadable: Vec<FileId> = diagnostics
        .iter()
        .flat_map(|d| d.labels.iter().map(|l| l.span.file))
        .collect();
    let mut files = Vec::new();
    for (id, file) in sources.files() {
        if unreadable.contains(&id) {
            continue;
        }
        let (decls, errors) = parse_file(id, &file.text);
        if decls.is_empty() && errors.is_empty() {
            diagnostics.push(
                Diagnostic::error(Code::E0003, "schema file declares nothing")
                    .with_primary(Span::new(id, 0, file.text.len().min(1)), "no declaration in this file")
                    .with_help(
                        "add a declaration (model, input, type, enum, api, event, cron or ws) or delete the file",
                    ),
            );
        }
        diagnostics.extend(errors);
        files.push(decls);
    }
    let (schema, mut diagnostics, sources) = crate::lower::lower(sources, files, diagnostics);
    diagnostics.sort_by_key(|d| d.labels.iter().find(|l| l.primary).map(|l| (l.span.file, l.span.start)));
    Checked {
        sources,
        diagnostics,
        schema,
    }
}
