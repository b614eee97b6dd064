//! Hot reload for `rohas dev` (docs/cli.md, "rohas dev"): watch `schema/` and `src/`, and on a
//! change apply it without a restart.
//!
//! - a handler file: the runtime drops its cached code and reloads; the next
//!   request runs the new version, requests in flight finish on the old one;
//! - a schema file: re-validate, regenerate code, reload handlers, swap
//!   routes;
//! - anything that fails (a syntax error, an invalid schema) is printed and
//!   the last good version keeps serving.
//!
//! Events are debounced: editors write a file in several steps.

use crate::output::Output;
use crate::serve::Project;
use anyhow::Context;
use notify::{RecursiveMode, Watcher as _};
use rohas_engine::Engine;
use rohas_runtime::Runtime;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the tree must stay quiet before a reload: long enough to take an
/// editor's save (write, rename, chmod) as one change, short enough not to be
/// felt. A longer burst (a `git checkout`) may reload twice, which is harmless.
const QUIET: Duration = Duration::from_millis(50);

/// Keeps watching while alive.
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn start(project: Project, engine: Engine, runtime: Arc<dyn Runtime>, out: Output) -> anyhow::Result<Watcher> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })
    .context("cannot watch the project for changes")?;
    for dir in [project.schema_path.clone(), project.root.join("src")] {
        if dir.exists() {
            watcher
                .watch(&dir, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
        }
    }
    // A Rust project's manifest: a new dependency or feature needs a rebuild.
    // (The folder is watched, not the file: editors save by replacing it.
    // So a source file at the root, such as `build.rs`, reloads too; a
    // Cargo.toml created after start-up is not seen until the next start.)
    if project.root.join("Cargo.toml").is_file() {
        watcher
            .watch(&project.root, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", project.root.display()))?;
    }

    let task = tokio::spawn(async move {
        let mut specs = match rohas_schema::check_path(&project.schema_path) {
            Ok(checked) => checked.schema.map(|s| project.specs(&s)).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        while let Some(first) = rx.recv().await {
            let mut changed = vec![first];
            // Wait until the burst of events is over.
            while let Ok(Some(path)) = tokio::time::timeout(QUIET, rx.recv()).await {
                changed.push(path);
            }
            changed.sort();
            changed.dedup();
            let changed: Vec<PathBuf> = changed.into_iter().filter(|p| relevant(&project, p)).collect();
            if changed.is_empty() {
                continue;
            }
            let schema_changed = changed
                .iter()
                .any(|p| p.starts_with(&project.schema_path) || is_schema_file(p));
            if schema_changed {
                reload_schema(&project, &engine, &runtime, &out, &mut specs).await;
            } else {
                reload_sources(&project, &runtime, &out, &specs, &changed).await;
            }
        }
    });
    Ok(Watcher {
        _watcher: watcher,
        task,
    })
}

fn is_schema_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "ro")
}

/// Handler sources, schema files and the project's `Cargo.toml`; not
/// generated code, caches or build output.
fn relevant(project: &Project, path: &Path) -> bool {
    if path == project.root.join("Cargo.toml") {
        return true;
    }
    let generated = project.root.join("src/generated");
    if path.starts_with(&generated) {
        return false;
    }
    if path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("__pycache__" | "node_modules" | "target" | ".rohas")
        )
    }) {
        return false;
    }
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("ro" | "py" | "ts" | "rs")
    )
}

async fn reload_sources(
    project: &Project,
    runtime: &Arc<dyn Runtime>,
    out: &Output,
    specs: &[rohas_runtime::HandlerSpec],
    changed: &[PathBuf],
) {
    if let Err(e) = runtime.invalidate(changed).await {
        out.error(&format!("{e}; the last good version keeps serving"));
        return;
    }
    match runtime.load(specs).await {
        Ok(()) => {
            let names: Vec<String> = changed
                .iter()
                .map(|p| p.strip_prefix(&project.root).unwrap_or(p).display().to_string())
                .collect();
            out.success(&format!("reloaded {}", names.join(", ")));
        }
        Err(errors) => {
            for e in errors {
                out.error(&format!("{e}; the last good version keeps serving"));
            }
        }
    }
}

async fn reload_schema(
    project: &Project,
    engine: &Engine,
    runtime: &Arc<dyn Runtime>,
    out: &Output,
    specs: &mut Vec<rohas_runtime::HandlerSpec>,
) {
    let checked = match rohas_schema::check_path(&project.schema_path) {
        Ok(c) => c,
        Err(e) => {
            out.error(&format!("{e}; the last good schema keeps serving"));
            return;
        }
    };
    if !checked.diagnostics.is_empty() {
        eprint!("{}", checked.render(out.color));
    }
    let Some(schema) = checked.schema else {
        out.error("the schema has errors; the last good schema keeps serving");
        return;
    };
    if let Err(e) = project.codegen(&schema, out) {
        out.error(&format!("codegen failed: {e:#}; the last good schema keeps serving"));
        return;
    }
    // Generated modules changed under the runtime's feet: drop them all.
    let generated = project.root.join("src/generated");
    if let Err(e) = runtime.invalidate(&[generated]).await {
        out.error(&format!("{e}; the last good schema keeps serving"));
        return;
    }
    let new_specs = project.specs(&schema);
    if let Err(errors) = runtime.load(&new_specs).await {
        for e in errors {
            out.error(&e.to_string());
        }
        out.error("handlers failed to load; the last good schema keeps serving");
        return;
    }
    let documents = project.documents(&schema);
    engine.reload(schema, new_specs.clone(), documents).await;
    *specs = new_specs;
    out.success("schema reloaded");
    for route in engine.routes() {
        out.info(&format!("  {route}"));
    }
}
