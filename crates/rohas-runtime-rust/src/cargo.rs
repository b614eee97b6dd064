//! Building the project's library with cargo.
//!
//! `rohas dev` runs `cargo build` (debug), `rohas start` `cargo build
//! --release`, both with `--message-format=json-render-diagnostics`: the
//! JSON on stdout names the built `cdylib`, and stderr carries cargo's own
//! progress lines and the rendered diagnostics (returned when the build
//! fails). Progress is for people watching (`progress.rs`): one status line
//! rewritten in place on a terminal, debug-level log lines elsewhere, so a
//! first build's hundreds of `Compiling` lines stay out of CI logs.
//!
//! User builds go to `<project>/.rohas/target`, or to
//! `ROHAS_CARGO_TARGET_DIR` when set (tests share one across projects).
//! `CARGO_TARGET_DIR` and rustflags inherited from the environment are not
//! passed on: when `rohas` itself runs under cargo they describe the Rohas
//! build, not the project's.

use rohas_runtime::{Host, LogLevel, LogRecord};
use serde::Deserialize;
use serde_json::Map;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// Where cargo puts the project's build output.
pub fn target_dir(project: &Path) -> PathBuf {
    match rohas_config::ProcessVar::CargoTargetDir.get_os() {
        Some(dir) => PathBuf::from(dir),
        None => project.join(".rohas/target"),
    }
}

/// The cargo to run: `CARGO` (as cargo itself sets it), else `cargo` on the PATH.
fn cargo_program() -> String {
    std::env::var("CARGO")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "cargo".into())
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(default)]
    kind: Vec<String>,
}

/// Progress lines cargo prints while it works (shown, not kept as diagnostics).
fn is_progress(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or_default();
    matches!(
        word,
        "Compiling"
            | "Checking"
            | "Finished"
            | "Downloading"
            | "Downloaded"
            | "Updating"
            | "Locking"
            | "Adding"
            | "Blocking"
            | "Fresh"
            | "Running"
    )
}

fn progress(host: &Arc<dyn Host>, message: &str) {
    log(host, LogLevel::Info, message);
}

pub(crate) fn log(host: &Arc<dyn Host>, level: LogLevel, message: &str) {
    host.log(LogRecord {
        level,
        message: message.to_string(),
        handler: "cargo".into(),
        trace_id: String::new(),
        fields: Map::new(),
    });
}

/// Build the library of the project at `project`; the path of the built
/// `cdylib`, or what to tell the user.
pub fn build(project: &Path, release: bool, host: &Arc<dyn Host>) -> Result<PathBuf, String> {
    let manifest = project.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!(
            "{} is missing: a Rohas Rust project is a cargo crate (`rohas init --lang rust` creates one)",
            manifest.display()
        ));
    }
    let program = cargo_program();
    let mut command = Command::new(&program);
    command
        .arg("build")
        .arg("--lib")
        .arg("--message-format=json-render-diagnostics")
        .arg("--color=never")
        .arg("--manifest-path")
        .arg(&manifest);
    if release {
        command.arg("--release");
    }
    command
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir(project))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "`{program}` was not found: Rohas builds Rust handlers with cargo. Install Rust from https://rustup.rs \
                 (or set CARGO to the cargo program to use)"
            )
        } else {
            format!("cannot run `{program}`: {e}")
        }
    })?;
    progress(
        host,
        &format!(
            "building {} ({})",
            project.display(),
            if release { "release" } else { "debug" }
        ),
    );

    let started = std::time::Instant::now();
    let stderr = child.stderr.take().expect("piped stderr");
    let progress_host = Arc::clone(host);
    let diagnostics = std::thread::spawn(move || {
        let mut status = crate::progress::Status::for_stderr();
        let mut kept = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if is_progress(line.trim_start()) {
                if !status.show(line.trim()) {
                    log(&progress_host, LogLevel::Debug, line.trim());
                }
            } else {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        status.clear();
        kept
    });

    let manifest_canonical = manifest.canonicalize().unwrap_or(manifest.clone());
    let mut artifact = None;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<Message>(&line) else {
            continue;
        };
        if message.reason != "compiler-artifact" {
            continue;
        }
        let ours = message
            .manifest_path
            .as_ref()
            .is_some_and(|p| p.canonicalize().unwrap_or(p.clone()) == manifest_canonical);
        let cdylib = message
            .target
            .as_ref()
            .is_some_and(|t| t.kind.iter().any(|k| k == "cdylib"));
        if ours && cdylib {
            artifact = message.filenames.into_iter().find(|f| is_dynamic_library(f));
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("`{program} build` did not finish: {e}"))?;
    let diagnostics = diagnostics.join().unwrap_or_default();
    if status.success() {
        progress(host, &format!("built in {:.1}s", started.elapsed().as_secs_f64()));
    }
    if !status.success() {
        let registry = std::fs::read_to_string(project.join(GLUE)).unwrap_or_default();
        let diagnostics = point_at_handlers(&diagnostics, &registry);
        return Err(format!("`cargo build` failed:\n{}", diagnostics.trim_end()));
    }
    artifact.ok_or_else(|| {
        format!(
            "`cargo build` produced no dynamic library: set `crate-type = [\"cdylib\"]` under [lib] in {}",
            manifest.display()
        )
    })
}

/// The generated glue calling the handlers.
const GLUE: &str = "src/generated/registry.rs";

/// A compile error on a line of the glue is about a handler (a parameter no
/// extractor serves, a return type that is not a reply): each such line names
/// the handler's `file:line:column`, so point the diagnostic there and keep
/// the glue's line as a note. The same error on a needs probe (`needs_of`,
/// which repeats the handler call to learn its parameter types) is left out:
/// the parameter's own line already reports it.
fn point_at_handlers(diagnostics: &str, registry: &str) -> String {
    let glue: Vec<&str> = registry.lines().collect();
    let glue_line = |line: &str| {
        line.trim_start()
            .strip_prefix("--> ")
            .and_then(|at| at.strip_prefix(GLUE))
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| glue.get(n.wrapping_sub(1)).copied())
    };
    let mut out = String::new();
    let mut skipping = false;
    let lines: Vec<&str> = diagnostics.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("error") || line.starts_with("warning") {
            // A diagnostic starts: is its first location a needs probe?
            let first_arrow = lines[i + 1..]
                .iter()
                .take_while(|l| !(l.starts_with("error") || l.starts_with("warning")))
                .find(|l| l.trim_start().starts_with("--> "));
            skipping = first_arrow
                .and_then(|l| glue_line(l))
                .is_some_and(|text| text.contains("needs_of("));
        }
        if skipping {
            continue;
        }
        let arrow = line.trim_start();
        let handler = glue_line(line).and_then(handler_location);
        match handler {
            Some(at) => {
                let indent = &line[..line.len() - arrow.len()];
                out.push_str(&format!("{indent}--> {at}\n"));
                out.push_str(&format!("{indent} = note: in the generated call {}\n", &arrow[4..]));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// `…"`count` at src/handlers/api/x.rs:3:22")?;` or `… // handler at src/…:3:14`.
fn handler_location(glue_line: &str) -> Option<String> {
    let (_, rest) = glue_line.rsplit_once(" at ")?;
    let at = rest.trim_end().trim_end_matches(")?;").trim_end_matches('"');
    at.starts_with("src/").then(|| at.to_string())
}

fn is_dynamic_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_are_told_from_diagnostics() {
        assert!(is_progress("Compiling serde v1.0.200"));
        assert!(is_progress(
            "Finished `dev` profile [unoptimized + debuginfo] target(s) in 2.1s"
        ));
        assert!(!is_progress("error[E0308]: mismatched types"));
        assert!(!is_progress("  --> src/handlers/api/health.rs:3:5"));
    }

    #[test]
    fn errors_in_the_glue_point_at_the_handler() {
        let registry = "fn a() {\n        let p0 = call.extract(\"`count` at src/handlers/api/version.rs:3:22\")?;\n        let returned = crate::x::handler(p0).await; // handler at src/handlers/api/version.rs:3:14\n}\n    needs |= rohas_runtime::call::needs_of(|p0| { let _ = crate::x::handler(p0); });\n";
        let diagnostics = "error[E0277]: no\n   --> src/generated/registry.rs:2:23\n    |\nerror[E0308]: mismatched\n   --> src/generated/registry.rs:3:9\n   --> src/lib.rs:1:1\nerror[E0277]: the probe\n   --> src/generated/registry.rs:5:20\n    |\n";
        let pointed = point_at_handlers(diagnostics, registry);
        assert!(
            pointed.contains("   --> src/handlers/api/version.rs:3:22\n"),
            "{pointed}"
        );
        assert!(
            pointed.contains("    = note: in the generated call src/generated/registry.rs:2:23"),
            "{pointed}"
        );
        assert!(
            pointed.contains("   --> src/handlers/api/version.rs:3:14\n"),
            "{pointed}"
        );
        assert!(pointed.contains("   --> src/lib.rs:1:1\n"), "{pointed}");
        assert!(!pointed.contains("the probe"), "{pointed}");
    }

    #[test]
    fn dynamic_libraries_by_extension() {
        assert!(is_dynamic_library(Path::new("/t/debug/libapp.so")));
        assert!(!is_dynamic_library(Path::new("/t/debug/libapp.rlib")));
    }
}
