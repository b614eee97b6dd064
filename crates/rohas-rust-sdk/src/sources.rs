//! The runtime crate's files as codegen writes them into a project, under
//! `src/generated/rohas-runtime/`: each source file's text, compiled into
//! this crate from the very files this crate builds and tests, and its
//! `Cargo.toml`.

/// One file of the runtime crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative to the runtime crate's folder (`src/abi.rs`).
    pub path: &'static str,
    pub text: &'static str,
}

/// The runtime crate's version: this crate's, which is Rohas's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every source file of the runtime crate (`src/**.rs`).
pub const FILES: &[SourceFile] = &[
    file("src/lib.rs", include_str!("../rohas-runtime/src/lib.rs")),
    file("src/abi.rs", include_str!("../rohas-runtime/src/abi.rs")),
    file("src/call.rs", include_str!("../rohas-runtime/src/call.rs")),
    file("src/time.rs", include_str!("../rohas-runtime/src/time.rs")),
    file(
        "src/effects.rs",
        include_str!("../rohas-runtime/src/effects.rs"),
    ),
    file(
        "src/capture.rs",
        include_str!("../rohas-runtime/src/capture.rs"),
    ),
    file(
        "src/testing.rs",
        include_str!("../rohas-runtime/src/testing.rs"),
    ),
    file(
        "src/testing/clock.rs",
        include_str!("../rohas-runtime/src/testing/clock.rs"),
    ),
    file(
        "src/testing/engine.rs",
        include_str!("../rohas-runtime/src/testing/engine.rs"),
    ),
    file(
        "src/testing/results.rs",
        include_str!("../rohas-runtime/src/testing/results.rs"),
    ),
    file(
        "src/testing/shapes.rs",
        include_str!("../rohas-runtime/src/testing/shapes.rs"),
    ),
];

const MANIFEST_TEMPLATE: &str = include_str!("../rohas-runtime/Cargo.toml.tmpl");

const fn file(path: &'static str, text: &'static str) -> SourceFile {
    SourceFile { path, text }
}

/// The runtime crate's `Cargo.toml` (package `rohas-runtime`, [`VERSION`]).
pub fn manifest() -> String {
    MANIFEST_TEMPLATE.replace("{{version}}", VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_source_file_is_written_into_projects() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rohas-runtime");
        let mut on_disk = Vec::new();
        rust_files(&root.join("src"), &root, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|f| f.path.to_string()).collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "FILES lists exactly rohas-runtime/src/**.rs"
        );
        for file in FILES {
            let text = std::fs::read_to_string(root.join(file.path)).unwrap();
            assert_eq!(file.text, text, "{}", file.path);
        }
    }

    #[test]
    fn the_manifest_names_the_package_handlers_import() {
        let manifest = manifest();
        assert!(manifest.contains("name = \"rohas-runtime\""), "{manifest}");
        assert!(
            manifest.contains(&format!("version = \"{VERSION}\"")),
            "{manifest}"
        );
        assert!(
            !manifest.contains("{{"),
            "every placeholder filled: {manifest}"
        );
    }
}
