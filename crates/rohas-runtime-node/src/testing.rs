//! What `rohas test` prepares so a TypeScript project's tests call handlers
//! the way the engine does (the harness in `src/generated/harness.ts`):
//!
//! - the build in `.rohas/build/`, by the engine's compiler, and from it the
//!   handler table the engine's workers load (which export each handler is,
//!   what each parameter gets, where its inputs hold dates), written to
//!   `.rohas/test/handlers.json`: parameter roles come from the TypeScript
//!   types, which only this compiler reads, so the harness cannot work them
//!   out itself;
//! - `.rohas/rohas-dispatch.mjs`, the worker's own code for calling one
//!   handler, which the harness imports rather than copying;
//! - for a project without vitest, its tests compiled into
//!   `.rohas/test/tests/` for `node --test` (Node.js 20 cannot load `.ts`
//!   files itself). `.rohas/test/src` links to the build, so a compiled
//!   test's `../src/…` imports are the very modules the harness loads.

use crate::build::Builder;
use crate::compile;
use rohas_runtime::HandlerSpec;
use std::path::{Path, PathBuf};

/// Where the harness reads the handler table, relative to the project.
pub const TABLE: &str = ".rohas/test/handlers.json";

/// Build the project and write what the harness reads; with
/// `compile_tests`, also compile `tests/**/*.ts` and return the test files
/// `node --test` should run (`*.test.ts`, `*.spec.ts`, `*_test.ts`,
/// `*-test.ts`, `test-*.ts`), sorted. Errors are ready for the user.
pub fn prepare(project: &Path, specs: &[HandlerSpec], compile_tests: bool) -> Result<Vec<PathBuf>, Vec<String>> {
    crate::write_worker_modules(project).map_err(|e| vec![e])?;
    let mut builder = Builder::new(project, true);
    let report = builder.build();
    if !report.errors.is_empty() {
        return Err(report.errors);
    }
    let table = crate::table::handler_table(project, &builder, specs, true)
        .map_err(|errors| errors.into_iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    let test_dir = project.join(".rohas/test");
    let write = |path: &Path, text: &str| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let json = serde_json::to_string_pretty(&table.json).map_err(|e| vec![e.to_string()])?;
    write(&project.join(TABLE), &json).map_err(|e| vec![e])?;
    let out = test_dir.join("tests");
    // Fresh each run: a deleted test must not run from an old build, and
    // vitest, which collects `*.test.js` too, must not find any.
    let _ = std::fs::remove_dir_all(&out);
    if !compile_tests {
        return Ok(Vec::new());
    }
    write(&test_dir.join("package.json"), "{\"type\": \"module\"}\n").map_err(|e| vec![e])?;
    link_build(&test_dir).map_err(|e| vec![e])?;
    let mut sources = Vec::new();
    collect(&project.join("tests"), &mut sources);
    sources.sort();
    let mut errors = Vec::new();
    let mut runnable = Vec::new();
    for source in sources {
        let rel = source.strip_prefix(project.join("tests")).unwrap_or(&source);
        let target = out.join(rel).with_extension("js");
        match compile_test(project, &source, &target) {
            Ok(()) if is_test_file(&source) => runnable.push(target),
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(runnable)
    } else {
        Err(errors)
    }
}

/// `.rohas/test/src` → `../build`, so `tests/…`'s `../src/x` is the build's `x`.
fn link_build(test_dir: &Path) -> Result<(), String> {
    let link = test_dir.join("src");
    if std::fs::read_link(&link).is_ok_and(|target| target == Path::new("../build")) {
        return Ok(());
    }
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_dir_all(&link);
    std::os::unix::fs::symlink("../build", &link).map_err(|e| format!("cannot link {}: {e}", link.display()))
}

fn compile_test(project: &Path, source: &Path, target: &Path) -> Result<(), String> {
    let display = source.strip_prefix(project).unwrap_or(source).display().to_string();
    let text = std::fs::read_to_string(source).map_err(|e| format!("cannot read {display}: {e}"))?;
    let from_dir = source.parent().unwrap_or(project).to_path_buf();
    let compiled = compile::compile(&text, source, &display, Some(source), &|spec| {
        compile::resolve_specifier(&from_dir, spec)
    })
    .map_err(|e| e.0)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let mut js = compiled.js;
    if let Some(map) = &compiled.map {
        let map_path = PathBuf::from(format!("{}.map", target.display()));
        std::fs::write(&map_path, map).map_err(|e| format!("cannot write {}: {e}", map_path.display()))?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("test.js");
        js.push_str(&format!("//# sourceMappingURL={name}.map\n"));
    }
    std::fs::write(target, js).map_err(|e| format!("cannot write {}: {e}", target.display()))
}

/// Node's own patterns for test files, for `.ts` sources.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(stem) = name.strip_suffix(".ts") else {
        return false;
    };
    stem.ends_with(".test")
        || stem.ends_with(".spec")
        || stem.ends_with("_test")
        || stem.ends_with("-test")
        || stem.starts_with("test-")
        || stem == "test"
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            collect(&path, into);
        } else if name.ends_with(".ts") && !name.ends_with(".d.ts") {
            into.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_follow_nodes_patterns() {
        for yes in [
            "a.test.ts",
            "a.spec.ts",
            "a_test.ts",
            "a-test.ts",
            "test-a.ts",
            "test.ts",
        ] {
            assert!(is_test_file(Path::new(yes)), "{yes}");
        }
        for no in ["helpers.ts", "a.test.js", "contest.ts"] {
            assert!(!is_test_file(Path::new(no)), "{no}");
        }
    }
}
