//! The short variant of `bench/attack/schemathesis.py` (issue 20): the
//! three `every-input-*` fixtures (path parameters, nested bodies, arrays,
//! enums, optional fields, defaults, constraints, every method) served by
//! the real `rohas dev`, and schemathesis on each one's `/openapi.json`
//! with a few examples per operation and a fixed seed: no 5xx, every
//! status, content type and body (error bodies included) as documented.
//! The long run is the same script with more examples (bench/README.md).
//!
//! Schemathesis comes from `$ROHAS_SCHEMATHESIS`'s environment
//! (`scripts/install-checkers.sh`) or is installed by the script into its
//! cached virtual environment; when neither works the test says why and
//! passes without running. User builds of the Rust fixture share
//! `$HOME/.cache/rohas-user-target`, as the Rust end-to-end tests do.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const LANGUAGES: [&str; 3] = ["python", "typescript", "rust"];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/attack/schemathesis.py")
}

/// The script's `--venv` for `$ROHAS_SCHEMATHESIS` (`<venv>/bin/st`), if set.
fn given_venv() -> Option<PathBuf> {
    let st = PathBuf::from(std::env::var_os("ROHAS_SCHEMATHESIS")?);
    Some(st.parent()?.parent()?.to_path_buf())
}

/// Schemathesis installed (or found) by the script: `None` with the reason
/// printed when it cannot be.
fn install(venv: Option<&Path>) -> Option<()> {
    let mut command = Command::new("python3");
    command.arg(script()).arg("--install-only");
    if let Some(venv) = venv {
        command.arg("--venv").arg(venv);
    }
    match command.output() {
        Ok(out) if out.status.success() => Some(()),
        Ok(out) => {
            eprintln!(
                "skipped: schemathesis could not be installed (scripts/install-checkers.sh installs it):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("skipped: python3 cannot run ({e})");
            None
        }
    }
}

#[test]
fn every_input_fixture_answers_as_its_openapi_document_says() {
    let venv = given_venv();
    if install(venv.as_deref()).is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new("python3");
    command
        .arg(script())
        .args(["--rohas", env!("CARGO_BIN_EXE_rohas")])
        .args(["--max-examples", "10", "--seed", "20", "--max-time", "600"])
        .arg("--report-dir")
        .arg(tmp.path().join("report"));
    if let Some(venv) = &venv {
        command.arg("--venv").arg(venv);
    }
    for language in LANGUAGES {
        let name = format!("every-input-{language}");
        let root = tmp.path().join(&name);
        support::copy_dir(&support::fixture(&name), &root);
        command.arg("--project").arg(&root);
    }
    let user_target = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/rohas-user-target"))
        .unwrap_or_else(|| std::env::temp_dir().join("rohas-user-target"));
    let out = command
        .env("ROHAS_CARGO_TARGET_DIR", user_target)
        .output()
        .expect("run bench/attack/schemathesis.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("schemathesis: 3 passed, 0 failed"),
        "{stdout}\n{stderr}"
    );
    // Every fixture was really exercised: 15 operations, each with cases.
    for language in LANGUAGES {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("| every-input-{language} |")))
            .unwrap_or_else(|| panic!("no summary row for {language}:\n{stdout}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2], "15", "operations tested, {language}: {row}");
        let cases: u64 = cells[3].parse().unwrap_or(0);
        assert!(cases >= 15 * 10, "test cases, {language}: {row}");
    }
}
