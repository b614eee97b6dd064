//! `src/**/*.ts` → `.rohas/build/**/*.js` (+ `.js.map`), incrementally: a
//! file is recompiled only when its size, mtime and then content changed.
//! Plain `.js`/`.mjs`/`.cjs`/`.json` files under `src/` are copied so relative
//! imports of them resolve in the build too. A file that fails to compile
//! keeps its previous output, so the last good build keeps serving.

use crate::compile::{self, Exports};
use crate::types::TypeTable;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone)]
struct Entry {
    stamp: (Option<SystemTime>, u64),
    hash: u64,
    exports: Exports,
    types: TypeTable,
}

pub struct Builder {
    project: PathBuf,
    src: PathBuf,
    out: PathBuf,
    dev: bool,
    /// By path relative to `src/`.
    files: HashMap<PathBuf, Entry>,
}

/// What `Builder::build` did.
#[derive(Debug, Default)]
pub struct BuildReport {
    pub compiled: usize,
    pub errors: Vec<String>,
}

impl Builder {
    pub fn new(project: &Path, dev: bool) -> Builder {
        Builder {
            project: project.to_path_buf(),
            src: project.join("src"),
            out: build_dir(project),
            dev,
            files: HashMap::new(),
        }
    }

    /// Bring the build up to date with `src/`.
    pub fn build(&mut self) -> BuildReport {
        let mut report = BuildReport::default();
        if let Err(e) = std::fs::create_dir_all(&self.out) {
            report.errors.push(format!("cannot create {}: {e}", self.out.display()));
            return report;
        }
        let marker = self.out.join("package.json");
        if !marker.is_file() {
            // Emitted `.js` files are ES modules whatever the project's package.json says.
            let _ = std::fs::write(&marker, "{\"type\": \"module\"}\n");
        }
        let mut seen = Vec::new();
        collect(&self.src, &self.src, &mut seen);
        let present: std::collections::HashSet<&PathBuf> = seen.iter().collect();
        let gone: Vec<PathBuf> = self.files.keys().filter(|k| !present.contains(k)).cloned().collect();
        for rel in gone {
            self.files.remove(&rel);
            let _ = std::fs::remove_file(self.out.join(output_name(&rel)));
            let _ = std::fs::remove_file(self.out.join(format!("{}.map", output_name(&rel).display())));
        }
        for rel in &seen {
            if let Err(e) = self.update(rel, &mut report) {
                report.errors.push(e);
            }
        }
        report
    }

    fn update(&mut self, rel: &Path, report: &mut BuildReport) -> Result<(), String> {
        let path = self.src.join(rel);
        let meta = std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", self.display(&path)))?;
        let stamp = (meta.modified().ok(), meta.len());
        let out = self.out.join(output_name(rel));
        if self.files.get(rel).is_some_and(|e| e.stamp == stamp) && out.exists() {
            return Ok(());
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", self.display(&path)))?;
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let hash = hasher.finish();
        if let Some(entry) = self.files.get_mut(rel) {
            if entry.hash == hash && out.exists() {
                entry.stamp = stamp;
                return Ok(());
            }
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        if !is_typescript(rel) {
            std::fs::write(&out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            self.files.insert(
                rel.to_path_buf(),
                Entry {
                    stamp,
                    hash,
                    exports: Exports::default(),
                    types: TypeTable::default(),
                },
            );
            return Ok(());
        }
        let source = String::from_utf8(bytes).map_err(|_| format!("{}: is not UTF-8 text", self.display(&path)))?;
        let from_dir = path.parent().unwrap_or(&self.src).to_path_buf();
        let map_source = self.dev.then(|| relative(out.parent().unwrap_or(&self.out), &path));
        let compiled = compile::compile(&source, &path, &self.display(&path), map_source.as_deref(), &|spec| {
            compile::resolve_specifier(&from_dir, spec)
        })
        .map_err(|e| e.0)?;
        let file_name = out
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("index.js")
            .to_string();
        let mut js = compiled.js;
        if let Some(map) = &compiled.map {
            let map_path = self.out.join(format!("{}.map", output_name(rel).display()));
            std::fs::write(&map_path, map).map_err(|e| format!("cannot write {}: {e}", map_path.display()))?;
            js.push_str(&format!("//# sourceMappingURL={file_name}.map\n"));
        }
        std::fs::write(&out, js).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
        report.compiled += 1;
        self.files.insert(
            rel.to_path_buf(),
            Entry {
                stamp,
                hash,
                exports: compiled.exports,
                types: compiled.types,
            },
        );
        Ok(())
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.project).unwrap_or(path).display().to_string()
    }

    /// Exported functions of `file` (a path relative to the project).
    pub fn exports(&self, file: &Path) -> Option<&Exports> {
        let rel = file.strip_prefix("src").ok()?;
        self.files.get(rel).map(|e| &e.exports)
    }

    /// The declarations of one generated module (`generated/api/Health.ts`).
    pub fn module_types(&self, rel_to_src: &Path) -> Option<&TypeTable> {
        self.files.get(rel_to_src).map(|e| &e.types)
    }

    /// Every declaration under `src/generated/`.
    pub fn generated_types(&self) -> TypeTable {
        let mut all = TypeTable::default();
        let mut paths: Vec<&PathBuf> = self.files.keys().filter(|p| p.starts_with("generated")).collect();
        paths.sort();
        for p in paths {
            for (name, shape) in &self.files[p].types.types {
                all.types.entry(name.clone()).or_insert_with(|| shape.clone());
            }
        }
        all
    }

    /// The emitted file for a source file relative to the project.
    pub fn output_of(&self, file: &Path) -> PathBuf {
        let rel = file.strip_prefix("src").unwrap_or(file);
        self.out.join(output_name(rel))
    }
}

pub fn build_dir(project: &Path) -> PathBuf {
    project.join(".rohas").join("build")
}

fn is_typescript(rel: &Path) -> bool {
    matches!(rel.extension().and_then(|e| e.to_str()), Some("ts" | "mts" | "tsx"))
}

fn output_name(rel: &Path) -> PathBuf {
    match rel.extension().and_then(|e| e.to_str()) {
        Some("ts" | "tsx") => rel.with_extension("js"),
        Some("mts") => rel.with_extension("mjs"),
        _ => rel.to_path_buf(),
    }
}

fn collect(root: &Path, dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, into);
            continue;
        }
        let keep = !name.ends_with(".d.ts")
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("ts" | "mts" | "tsx" | "js" | "mjs" | "cjs" | "json")
            );
        if keep {
            if let Ok(rel) = path.strip_prefix(root) {
                into.push(rel.to_path_buf());
            }
        }
    }
}

/// `to` relative to folder `from` (both absolute), with `..` as needed.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_c: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_c[common..] {
        out.push(c.as_os_str());
    }
    out
}
