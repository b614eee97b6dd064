//! Code generation: a validated [`rohas_schema::Schema`] in, files out.
//!
//! One module per target language (`python`, `typescript`, `rust`) plus
//! `openapi` (the apis) and `asyncapi` (the events). Generators are pure:
//! they return [`GeneratedFile`]s, and `write.rs` decides what may be
//! written (all of `src/generated/`, and handler stubs only where no file
//! exists yet). Codegen never overwrites user code.

pub mod asyncapi;
pub mod code;
pub mod handlers;
pub mod init;
pub mod openapi;
pub mod project;
pub mod python;
pub use rohas_schema::naming;
pub mod rust;
pub mod typescript;
pub mod write;

pub use asyncapi::asyncapi;
pub use handlers::handler_specs;
pub use openapi::openapi;
pub use project::{project_code, CodegenError, ProjectCode};
pub use write::{write, WriteError, WriteReport};

use std::path::PathBuf;

/// One file a generator wants on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the project root, e.g. `src/generated/api/Health.py`.
    pub path: PathBuf,
    pub contents: String,
}

impl GeneratedFile {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }
}
