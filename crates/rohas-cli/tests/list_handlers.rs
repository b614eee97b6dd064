//! `rohas list-handlers` with the real binary: each handler with what runs
//! it (an api's method and path, the event, the schedule, the ws path),
//! and on a bare schema folder with no project around it.

mod support;

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    support::rohas_at(cwd, args, &[])
}

fn row<'a>(stdout: &'a str, starts: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(starts))
        .unwrap_or_else(|| panic!("no {starts:?} row:\n{stdout}"))
}

#[test]
fn each_handler_shows_what_runs_it() {
    let (code, stdout, stderr) = run(&["-C", "examples/python-hello", "list-handlers"], &repo());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("KIND "), "{stdout}");
    assert!(stdout.lines().next().unwrap().contains(" ON "), "{stdout}");
    let create = row(&stdout, "api            CreateUser");
    assert!(
        create.contains("POST /users") && create.trim_end().ends_with("ok"),
        "{create}"
    );
    assert!(row(&stdout, "api            Health").contains("GET /health"));
    assert!(row(&stdout, "event").contains("UserCreated"));
    assert!(row(&stdout, "cron").contains("0 0 * * *"));
    assert!(row(&stdout, "ws_message").contains("/ws/chat"));
    assert!(row(&stdout, "middleware").contains("CreateUser"));
}

/// A schema folder outside any project.
fn bare() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bare");
    let defs = root.join("defs");
    std::fs::create_dir_all(&defs).unwrap();
    std::fs::write(
        defs.join("api.ro"),
        "type Ok { ok: Boolean }\n\napi Health {\n  method: GET\n  path: \"/health\"\n  response: Ok\n}\n",
    )
    .unwrap();
    (tmp, root)
}

#[test]
fn a_bare_schema_folder_with_a_language_lists_the_files_codegen_would_create() {
    let (_tmp, root) = bare();
    let (code, stdout, stderr) = run(&["list-handlers", "defs", "--lang", "typescript"], &root);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("STATUS"), "no project, no status:\n{stdout}");
    let health = row(&stdout, "api");
    assert!(health.contains("GET /health"), "{health}");
    assert!(
        health.contains("src/handlers/api/health.ts :: handler | handleHealth"),
        "{health}"
    );
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_bare_schema_folder_without_a_language_lists_every_language() {
    let (_tmp, root) = bare();
    let (code, stdout, stderr) = run(&["list-handlers", "defs"], &root);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.lines().next().unwrap().contains("LANG"), "{stdout}");
    for file in [
        "src/handlers/api/health.py :: handler | handle_health",
        "src/handlers/api/health.ts :: handler | handleHealth",
        "src/handlers/api/health.rs :: handler | handle_health",
    ] {
        assert!(stdout.contains(file), "{file} missing:\n{stdout}");
    }
    assert!(stderr.contains("listing the files of each language"), "{stderr}");
}

#[test]
fn an_unknown_language_is_an_error() {
    let (_tmp, root) = bare();
    let (code, _, stderr) = run(&["list-handlers", "defs", "--lang", "cobol"], &root);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown language `cobol`: use python, typescript or rust"),
        "{stderr}"
    );
}
