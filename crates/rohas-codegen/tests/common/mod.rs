//! What the codegen test files share: fixture paths and loading a schema
//! that must be valid.

#![allow(dead_code)]

use rohas_schema::Schema;
use std::path::{Path, PathBuf};

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The schema at `path` (a file or folder); panics with the rendered
/// diagnostics when it is invalid.
pub fn load(path: &Path) -> Schema {
    let checked = rohas_schema::check_path(path).expect("schema readable");
    let rendered = checked.render(false);
    checked
        .schema
        .unwrap_or_else(|| panic!("{} is invalid:\n{rendered}", path.display()))
}
pub mod checkers;
