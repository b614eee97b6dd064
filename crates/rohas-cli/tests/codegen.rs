//! `rohas init` and `rohas codegen` through the real binary: what lands on
//! disk, that user code is never overwritten, that a second run changes
//! nothing, and that bad input writes nothing.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn rohas(args: &[&str], cwd: &Path) -> (i32, String, String) {
    support::rohas_at(cwd, args, &[])
}

/// Every file under `dir` with its contents and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let meta = std::fs::metadata(&path).unwrap();
                out.insert(path.clone(), (std::fs::read(&path).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    out
}

fn init(lang: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = rohas(&["init", "app", "--lang", lang], tmp.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let root = tmp.path().join("app");
    (tmp, root)
}

#[test]
fn init_creates_the_layout_with_generated_code_in_place() {
    let (_tmp, root) = init("rust");
    for path in [
        "config/rohas.toml",
        "schema/api/health.ro",
        "src/handlers/api/health.rs",
        "src/middlewares/auth.rs",
        "src/generated/api/Health.rs",
        "src/generated/events/UserCreated.rs",
        "src/generated/rohas-runtime/src/lib.rs",
        "Cargo.toml",
        ".gitignore",
        "README.md",
    ] {
        assert!(root.join(path).is_file(), "{path} missing");
    }
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("cdylib"), "{cargo}");
}

#[test]
fn init_refuses_a_non_empty_folder_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("taken")).unwrap();
    std::fs::write(tmp.path().join("taken/notes.txt"), "mine").unwrap();
    let (code, _, stderr) = rohas(&["init", "taken", "--lang", "rust"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("already exists and is not empty"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("taken/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn codegen_twice_changes_nothing() {
    for lang in ["rust", "python"] {
        let (_tmp, root) = init(lang);
        let before = snapshot(&root);
        let (code, stdout, stderr) = rohas(&["codegen"], &root);
        assert_eq!(code, 0, "{lang}: {stderr}");
        assert!(
            stdout.contains("0 file(s) written") && stdout.contains("0 stub(s) created"),
            "{lang}: {stdout}"
        );
        assert_eq!(before, snapshot(&root), "{lang}: a second codegen run changed files");
    }
}

#[test]
fn python_init_project_passes_mypy_strict() {
    let Some(mypy) = std::env::var_os("ROHAS_MYPY") else {
        eprintln!("skipped: ROHAS_MYPY is not set (scripts/test sets it)");
        return;
    };
    let (_tmp, root) = init("python");
    for path in [
        "pyproject.toml",
        "requirements.txt",
        "src/generated/api/Health.py",
        "src/handlers/api/health.py",
    ] {
        assert!(root.join(path).is_file(), "{path} missing");
    }
    let out = Command::new(mypy).arg("--strict").current_dir(&root).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// A new project ships a test per handler kind, and they pass as written
/// (pytest when the project's Python has it, unittest otherwise).
#[test]
fn python_init_project_tests_pass_with_rohas_test() {
    let (_tmp, root) = init("python");
    assert!(root.join("tests/test_handlers.py").is_file());
    let (code, stdout, stderr) = rohas(&["test"], &root);
    let said = format!("{stdout}{stderr}");
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("Ran 9 tests") || said.contains("9 passed"), "{said}");
    // And they can fail: a handler that answers wrongly is caught.
    let health = root.join("src/handlers/api/health.py");
    let text = std::fs::read_to_string(&health)
        .unwrap()
        .replace("status=\"ok\"", "status=\"down\"");
    std::fs::write(&health, text).unwrap();
    let (code, stdout, stderr) = rohas(&["test"], &root);
    assert_eq!(code, 1, "{stdout}{stderr}");
}

/// The same for a TypeScript project: vitest runs `tests/handlers.test.ts`
/// (through the generated testing harness), and `tsc` strict checks it with
/// the handlers (the project's `node_modules` is the one
/// `scripts/install-checkers.sh` filled).
#[test]
fn typescript_init_project_tests_pass_with_rohas_test() {
    let Some(modules) = std::env::var_os("ROHAS_VITEST_MODULES") else {
        eprintln!("skipped: ROHAS_VITEST_MODULES is not set (scripts/test sets it)");
        return;
    };
    let (_tmp, root) = init("typescript");
    std::os::unix::fs::symlink(&modules, root.join("node_modules")).unwrap();
    let (code, stdout, stderr) = rohas(&["test"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("9 passed"), "{stdout}{stderr}");
    let tsc = std::path::Path::new(&modules).join(".bin/tsc");
    let out = Command::new(tsc)
        .args(["--noEmit", "-p", "."])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let health = root.join("src/handlers/api/health.ts");
    let text = std::fs::read_to_string(&health).unwrap().replace("\"ok\"", "\"down\"");
    std::fs::write(&health, text).unwrap();
    let (code, stdout, stderr) = rohas(&["test"], &root);
    assert_eq!(code, 1, "{stdout}{stderr}");
}

/// The same for a Rust project: `cargo test` on the tests in `src/tests.rs`.
#[test]
fn rust_init_project_tests_pass_with_rohas_test() {
    let (_tmp, root) = init("rust");
    let target = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".cache/rohas-user-target"))
        .unwrap_or_else(|| std::env::temp_dir().join("rohas-user-target"));
    let run = |root: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
            .arg("test")
            .env("ROHAS_CARGO_TARGET_DIR", &target)
            .current_dir(root)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), said)
    };
    let (code, said) = run(&root);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("8 passed"), "{said}");
    let health = root.join("src/handlers/api/health.rs");
    let text = std::fs::read_to_string(&health).unwrap().replace("\"ok\"", "\"down\"");
    std::fs::write(&health, text).unwrap();
    let (code, said) = run(&root);
    assert_ne!(code, Some(0), "{said}");
    assert!(said.contains("health_answers_ok"), "{said}");
}

#[test]
fn codegen_never_overwrites_a_handler_and_removes_stale_generated_files() {
    let (_tmp, root) = init("rust");
    let handler = root.join("src/handlers/api/health.rs");
    std::fs::write(&handler, "// my own code\n").unwrap();
    // Drop the cron job and add an api: its module goes, a stub appears.
    std::fs::remove_file(root.join("schema/cron/cleanup.ro")).unwrap();
    std::fs::write(
        root.join("schema/api/ping.ro"),
        "api Ping {\n  method: GET\n  path: \"/ping\"\n  response: String\n}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = rohas(&["codegen"], &root);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&handler).unwrap(), "// my own code\n");
    assert!(
        stdout.contains("new handler stub: src/handlers/api/ping.rs"),
        "{stdout}"
    );
    assert!(root.join("src/generated/api/Ping.rs").is_file());
    // The cron handler is user code: it stays even though the schema dropped it.
    assert!(root.join("src/handlers/cron/daily_cleanup.rs").is_file());
    let cron_modules = std::fs::read_to_string(root.join("src/generated/handlers/cron.rs")).unwrap();
    assert!(!cron_modules.contains("daily_cleanup"), "{cron_modules}");
}

#[test]
fn codegen_on_an_invalid_schema_prints_diagnostics_and_writes_nothing() {
    let (_tmp, root) = init("rust");
    std::fs::remove_dir_all(root.join("src/generated")).unwrap();
    std::fs::write(
        root.join("schema/api/broken.ro"),
        "api Broken {\n  method: GET\n  path: \"/b\"\n  response: Nope\n}\n",
    )
    .unwrap();
    let (code, _, stderr) = rohas(&["codegen"], &root);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown type `Nope`") && stderr.contains("broken.ro:4:13"),
        "{stderr}"
    );
    assert!(!root.join("src/generated").exists(), "nothing may be written");
}

#[test]
fn codegen_into_an_output_that_is_a_file_is_a_clear_error() {
    let (_tmp, root) = init("rust");
    std::fs::write(root.join("not-a-dir"), "").unwrap();
    let (code, _, stderr) = rohas(&["codegen", "--output", "not-a-dir"], &root);
    assert_eq!(code, 1);
    assert!(stderr.contains("not-a-dir is a file, not a folder"), "{stderr}");
}

#[test]
fn codegen_outside_a_project_says_how_to_start_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = rohas(&["codegen"], tmp.path());
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no Rohas project here") && stderr.contains("rohas init"),
        "{stderr}"
    );
}
