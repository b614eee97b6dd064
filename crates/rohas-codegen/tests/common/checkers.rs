//! Each language's own checker on a generated project: `mypy --strict`,
//! `tsc --noEmit --strict` and `cargo`. The per-language test files and the
//! hostile-name generator run generated code through the same commands, so
//! "it type-checks" means one thing everywhere.
//!
//! mypy is `$ROHAS_TEST_PYTHON -m mypy` (or `python3`), tsc is `$ROHAS_TSC`;
//! `scripts/install-checkers.sh` installs both. A missing checker prints why
//! the check is skipped and returns false, so a machine without them still
//! runs the rest.

use rohas_codegen::{handler_specs, python, rust, typescript, GeneratedFile};
use rohas_runtime::Language;
use rohas_schema::Schema;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn write(root: &Path, rel: &Path, contents: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// `files` (the generated tree) in `root`, then a stub for every handler
/// whose files do not exist yet, as `rohas codegen` does.
fn write_with_stubs(
    root: &Path,
    files: Vec<GeneratedFile>,
    specs: &[rohas_runtime::HandlerSpec],
    stubs: Vec<GeneratedFile>,
) {
    for file in files {
        write(root, &file.path, &file.contents);
    }
    for stub in stubs {
        let exists = specs
            .iter()
            .filter(|s| s.files.first() == Some(&stub.path))
            .any(|s| s.files.iter().any(|f| root.join(f).exists()));
        if !exists {
            write(root, &stub.path, &stub.contents);
        }
    }
}

/// Python codegen of `schema` into `root`, with stubs.
pub fn python_codegen(root: &Path, schema: &Schema) {
    let specs = handler_specs(schema, Language::Python);
    let stubs = python::stubs(schema, &specs);
    write_with_stubs(root, python::generate(schema), &specs, stubs);
}

/// TypeScript codegen of `schema` into `root`, with stubs.
pub fn typescript_codegen(root: &Path, schema: &Schema) {
    let specs = handler_specs(schema, Language::TypeScript);
    let stubs = typescript::stubs(schema, &specs);
    write_with_stubs(root, typescript::generate(schema), &specs, stubs);
}

/// Rust codegen of `schema` into the project at `root`, with stubs.
pub fn rust_codegen(root: &Path, schema: &Schema) {
    let specs = handler_specs(schema, Language::Rust);
    let stubs = rust::stubs(schema, &specs);
    write_with_stubs(root, rust::generate_in(schema, root), &specs, stubs);
}

pub fn python() -> String {
    std::env::var("ROHAS_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// True when `python -c code` succeeds.
pub fn python_can(code: &str) -> bool {
    Command::new(python())
        .args(["-c", code])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `mypy --strict` on `src/` of `root`, or false (with the reason printed)
/// when mypy is not installed.
pub fn mypy_strict(root: &Path) -> bool {
    if !python_can("import mypy") {
        eprintln!(
            "skipped: `{} -m mypy` is not available (pip install mypy, or set ROHAS_TEST_PYTHON)",
            python()
        );
        return false;
    }
    let output = Command::new(python())
        .args([
            "-m",
            "mypy",
            "--strict",
            "--explicit-package-bases",
            "--no-error-summary",
            "src",
        ])
        .env("MYPYPATH", root.join("src"))
        .current_dir(root)
        .output()
        .expect("mypy runs");
    assert!(
        output.status.success(),
        "mypy --strict failed in {}:\n{}{}",
        root.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

/// `$ROHAS_TSC`, or None with the reason printed.
pub fn tsc() -> Option<PathBuf> {
    match std::env::var_os("ROHAS_TSC") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            eprintln!(
                "skipped: ROHAS_TSC is not set (run `eval \"$(scripts/install-checkers.sh | sed 's/^/export /')\"`)"
            );
            None
        }
    }
}

/// The `node_modules` folder that holds `tsc` and `@types/node`.
pub fn node_modules(tsc: &Path) -> PathBuf {
    let real = std::fs::canonicalize(tsc).unwrap_or_else(|e| panic!("ROHAS_TSC={}: {e}", tsc.display()));
    tsc.ancestors()
        .chain(real.ancestors())
        .find(|dir| dir.file_name().is_some_and(|n| n == "node_modules") && dir.join("@types/node").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "ROHAS_TSC={} is not inside a node_modules that has @types/node; \
                 use the tsc scripts/install-checkers.sh installs",
                tsc.display()
            )
        })
        .to_path_buf()
}

/// The tsconfig.json `rohas init` writes.
pub const TSCONFIG: &str = include_str!("../../templates/typescript/tsconfig.json");

/// `tsc --noEmit --strict -p <config>` in `root` (which gets a
/// `node_modules` link), plus `extra` options; false when tsc is not set.
pub fn tsc_strict(root: &Path, config: &str, extra: &[&str]) -> bool {
    let Some(tsc) = tsc() else { return false };
    let modules = node_modules(&tsc);
    if !root.join("node_modules").exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(&modules, root.join("node_modules")).unwrap();
        #[cfg(windows)]
        std::os::windows::fs::symlink_dir(&modules, root.join("node_modules")).unwrap();
    }
    let output = Command::new(&tsc)
        .args(["--noEmit", "--strict", "--pretty", "false", "-p", config])
        .args(extra)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tsc.display()));
    assert!(
        output.status.success(),
        "tsc --noEmit --strict -p {config} failed in {}:\n{}{}",
        root.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

/// `cargo <args>` in a generated Rust project. Builds share
/// `$HOME/.cache/rohas-user-target`, so crates.io dependencies compile once.
pub fn cargo(dir: &Path, args: &[&str]) {
    let target = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/rohas-user-target"))
        .unwrap_or_else(|| std::env::temp_dir().join("rohas-user-target"));
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} failed in {}:\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
