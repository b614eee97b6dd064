//! `rohas validate --format json|github` with the real binary: the machine
//! form alone on stdout, paths relative to where it runs, exit codes as in
//! the human form.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .args(args)
        .current_dir(repo().canonicalize().unwrap())
        .env("NO_COLOR", "1")
        .env_remove("ROHAS_SCHEMA_PATH")
        .output()
        .expect("run rohas");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const UNKNOWN_TYPE: &str = "crates/rohas-schema/tests/fixtures/invalid/E0005_unknown_type.ro";

#[test]
fn json_is_one_document_with_located_diagnostics() {
    let (code, stdout, stderr) = run(&["validate", "--format", "json", UNKNOWN_TYPE]);
    assert_eq!(code, 1);
    assert!(stderr.is_empty(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["valid"], false);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E0005");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], UNKNOWN_TYPE);
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(8), Some(13)));
    assert_eq!(d["end"], serde_json::json!({"line": 8, "column": 16}));
    assert_eq!(d["help"], "did you mean `User`?");
    // Keys come in the documented order (serde_json's map sorts them, so
    // read the text).
    let order = [
        "code", "severity", "title", "message", "file", "line", "column", "end", "help", "labels",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|k| stdout.find(&format!("\"{k}\":")).expect("key present"))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{stdout}");
}

#[test]
fn json_of_a_valid_project_exits_0() {
    let (code, stdout, _) = run(&["validate", "--format", "json", "examples/python-hello"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}

#[test]
fn github_prints_one_workflow_command_per_diagnostic() {
    let (code, stdout, _) = run(&["validate", "--format", "github", UNKNOWN_TYPE]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        format!(
            "::error file={UNKNOWN_TYPE},line=8,col=13,endLine=8,endColumn=16,title=E0005::unknown type `Usr`%0Ahelp: did you mean `User`?\n"
        )
    );
}
