//! Knowing the library is up to date without asking cargo.
//!
//! A `cargo build` that finds nothing to do still costs 50–100 ms (the
//! rustup proxy, reading the lock file, fingerprints): most of `rohas
//! start`'s time to its first answer. After each successful build a stamp
//! in `.rohas/build/<profile>.json` records the library built and a
//! fingerprint of every input the project owns: `Cargo.toml`,
//! `Cargo.lock`, `build.rs`, `.cargo/config(.toml)` and every file under
//! `src/` (the generated runtime crate and the handler glue included), by
//! path, size and modification time, and the same of each `path`
//! dependency outside the project. The fingerprint is taken *before* the
//! build, so a file saved while cargo ran makes the next start build again.
//! A start whose fingerprint and library match the stamp loads the library
//! straight away.
//!
//! Where the inputs are not all the project's own (no `Cargo.lock` beside
//! `Cargo.toml`: a member of a workspace elsewhere), there is no stamp and
//! cargo is always asked. Anything not understood, likewise: the stamp can
//! only skip a build, never cause a wrong one to be loaded, as long as
//! saving a file changes its size or modification time (as it does on
//! every file system Rohas runs on).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// What a build was made from, to compare with the next start's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint(u64);

#[derive(serde::Serialize, serde::Deserialize)]
struct Stamp {
    inputs: Fingerprint,
    library: PathBuf,
    /// The library file's own size and modification time: another build
    /// into a shared target folder replaces it.
    library_file: Fingerprint,
}

fn stamp_path(project: &Path, release: bool) -> PathBuf {
    let profile = if release { "release" } else { "debug" };
    project.join(".rohas/build").join(format!("{profile}.json"))
}

/// The project's inputs now; `None` when they are not all known (then
/// cargo decides).
pub fn fingerprint(project: &Path) -> Option<Fingerprint> {
    if !project.join("Cargo.lock").is_file() {
        return None;
    }
    let mut files = Vec::new();
    inputs_of(project, &mut files);
    let root = project.canonicalize().ok()?;
    for dependency in path_dependencies(&project.join("Cargo.toml"))? {
        let dir = root.join(dependency).canonicalize().ok()?;
        if !dir.starts_with(&root) {
            inputs_of(&dir, &mut files);
        }
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    for file in &files {
        file.hash(&mut hasher);
        file_stamp(file)?.hash(&mut hasher);
    }
    Some(Fingerprint(hasher.finish()))
}

/// The library recorded for `inputs`, if it is still the file built then.
pub fn fresh_library(project: &Path, release: bool, inputs: Fingerprint) -> Option<PathBuf> {
    let text = std::fs::read(stamp_path(project, release)).ok()?;
    let stamp: Stamp = serde_json::from_slice(&text).ok()?;
    let library_file = file_stamp(&stamp.library)?;
    (stamp.inputs == inputs && library_file == stamp.library_file).then_some(stamp.library)
}

/// Remember that `library` was built from `inputs`. Failing to is only a
/// slower next start, so errors are ignored.
pub fn record(project: &Path, release: bool, inputs: Fingerprint, library: &Path) {
    let Some(library_file) = file_stamp(library) else {
        return;
    };
    let stamp = Stamp {
        inputs,
        library: library.to_path_buf(),
        library_file,
    };
    let path = stamp_path(project, release);
    if let (Some(dir), Ok(text)) = (path.parent(), serde_json::to_vec(&stamp)) {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(path, text);
    }
}

/// Forget the stamp: the next start asks cargo.
pub fn forget(project: &Path, release: bool) {
    let _ = std::fs::remove_file(stamp_path(project, release));
}

/// A file's size and modification time.
fn file_stamp(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    let mut hasher = DefaultHasher::new();
    (meta.len(), modified.as_nanos()).hash(&mut hasher);
    Some(Fingerprint(hasher.finish()))
}

/// A crate folder's inputs: its manifests, build script, cargo config and
/// everything under `src/`.
fn inputs_of(dir: &Path, files: &mut Vec<PathBuf>) {
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        ".cargo/config.toml",
        ".cargo/config",
    ] {
        let file = dir.join(name);
        if file.is_file() {
            files.push(file);
        }
    }
    walk(&dir.join("src"), files);
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, files),
            Ok(_) => files.push(path),
            Err(_) => {}
        }
    }
}

/// The `path = "…"` of every dependency in `manifest` (all dependency
/// tables, target-specific and `[patch]` ones included); `None` when the
/// manifest cannot be read.
fn path_dependencies(manifest: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: toml::Value = toml::from_str(&text).ok()?;
    let mut found = Vec::new();
    collect_paths(&value, &mut found);
    Some(found)
}

fn collect_paths(value: &toml::Value, found: &mut Vec<PathBuf>) {
    if let toml::Value::Table(table) = value {
        for (key, item) in table {
            match item {
                toml::Value::String(path) if key == "path" => found.push(PathBuf::from(path)),
                toml::Value::Table(_) => collect_paths(item, found),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Project {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        library: PathBuf,
    }

    fn project() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("app");
        std::fs::create_dir_all(root.join("src/handlers")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        std::fs::write(root.join("Cargo.lock"), "version = 4\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), "mod handlers;\n").unwrap();
        std::fs::write(root.join("src/handlers/a.rs"), "pub fn a() {}\n").unwrap();
        let library = tmp.path().join("target/libapp.so");
        std::fs::create_dir_all(library.parent().unwrap()).unwrap();
        std::fs::write(&library, "built").unwrap();
        Project {
            _tmp: tmp,
            root,
            library,
        }
    }

    /// Write `text` so the modification time surely differs.
    fn save(path: &Path, text: &str) {
        let before = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        std::fs::write(path, text).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let later = before.map_or(std::time::SystemTime::now(), |t| t + std::time::Duration::from_secs(1));
        file.set_modified(later).unwrap();
    }

    fn built(p: &Project) -> Fingerprint {
        let inputs = fingerprint(&p.root).expect("a project with a lock file");
        record(&p.root, true, inputs, &p.library);
        inputs
    }

    #[test]
    fn an_unchanged_project_is_fresh_for_its_profile_only() {
        let p = project();
        built(&p);
        let now = fingerprint(&p.root).unwrap();
        assert_eq!(fresh_library(&p.root, true, now), Some(p.library.clone()));
        assert_eq!(fresh_library(&p.root, false, now), None, "no debug build recorded");
    }

    #[test]
    fn any_source_or_manifest_change_is_not_fresh() {
        for change in [
            "src/handlers/a.rs",
            "src/lib.rs",
            "Cargo.toml",
            "Cargo.lock",
            "src/new.rs",
        ] {
            let p = project();
            built(&p);
            save(&p.root.join(change), "[package]\nname = \"changed\"\n");
            let now = fingerprint(&p.root).unwrap();
            assert_eq!(fresh_library(&p.root, true, now), None, "{change}");
        }
        let p = project();
        built(&p);
        std::fs::remove_file(p.root.join("src/handlers/a.rs")).unwrap();
        assert_eq!(
            fresh_library(&p.root, true, fingerprint(&p.root).unwrap()),
            None,
            "removed"
        );
    }

    #[test]
    fn a_replaced_library_is_not_fresh() {
        let p = project();
        let inputs = built(&p);
        save(&p.library, "another build");
        assert_eq!(fresh_library(&p.root, true, inputs), None);
        std::fs::remove_file(&p.library).unwrap();
        assert_eq!(fresh_library(&p.root, true, inputs), None);
    }

    #[test]
    fn a_path_dependency_outside_the_project_counts() {
        let p = project();
        let dep = p.root.parent().unwrap().join("shared");
        std::fs::create_dir_all(dep.join("src")).unwrap();
        std::fs::write(dep.join("src/lib.rs"), "pub fn s() {}\n").unwrap();
        std::fs::write(
            p.root.join("Cargo.toml"),
            "[package]\nname = \"app\"\n[dependencies]\nshared = { path = \"../shared\" }\n",
        )
        .unwrap();
        built(&p);
        assert!(fresh_library(&p.root, true, fingerprint(&p.root).unwrap()).is_some());
        save(&dep.join("src/lib.rs"), "pub fn s() { changed() }\n");
        assert_eq!(fresh_library(&p.root, true, fingerprint(&p.root).unwrap()), None);
    }

    #[test]
    fn without_a_lock_file_or_a_readable_manifest_cargo_decides() {
        let p = project();
        std::fs::remove_file(p.root.join("Cargo.lock")).unwrap();
        assert_eq!(fingerprint(&p.root), None);
        let p = project();
        std::fs::write(p.root.join("Cargo.toml"), "[package\n").unwrap();
        assert_eq!(fingerprint(&p.root), None);
    }

    #[test]
    fn a_damaged_or_forgotten_stamp_is_not_fresh() {
        let p = project();
        let inputs = built(&p);
        std::fs::write(stamp_path(&p.root, true), "{not json").unwrap();
        assert_eq!(fresh_library(&p.root, true, inputs), None);
        built(&p);
        forget(&p.root, true);
        assert_eq!(fresh_library(&p.root, true, inputs), None);
    }
}
