//! The real `rohas` binary on real folders: exit codes and what a user reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema_fixture(path: &str) -> PathBuf {
    repo().join("crates/rohas-schema/tests/fixtures").join(path)
}

fn rohas(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rohas"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ROHAS_SCHEMA_PATH")
        .env_remove("ROHAS_CONFIG_PATH")
        .output()
        .expect("run rohas")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code, stdout, stderr; asserts no panic happened.
fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = rohas(args, cwd);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "rohas {args:?} panicked:\n{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn validate_example_project_prints_one_success_line() {
    let (code, stdout, stderr) = run(&["validate", "examples/python-hello/schema"], &repo());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("is valid: 9 declaration(s) in 6 file(s)"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn validate_finds_schema_of_a_project_folder_and_of_the_current_project() {
    let (code, stdout, _) = run(&["validate", "examples/python-hello"], &repo());
    assert_eq!(code, 0);
    assert!(stdout.contains("schema is valid"), "{stdout}");
    let (code, stdout, _) = run(&["validate"], &repo().join("examples/python-hello/schema/api"));
    assert_eq!(code, 0, "searches upward for the project");
    assert!(stdout.contains("is valid"), "{stdout}");
}

#[test]
fn invalid_schema_exits_1_with_location_source_line_and_caret() {
    let path = schema_fixture("invalid/E0005_unknown_type.ro");
    let (code, _, stderr) = run(&["validate", path.to_str().unwrap()], &repo());
    assert_eq!(code, 1);
    assert!(stderr.contains("error[E0005]: unknown type `Usr`"), "{stderr}");
    assert!(stderr.contains("E0005_unknown_type.ro:8:13"), "{stderr}");
    assert!(
        stderr.contains("8 |   response: Usr\n  |             ^^^ no type with this name"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `User`?"), "{stderr}");
    assert!(stderr.contains("is invalid: 1 error(s), 0 warning(s)"), "{stderr}");
}

#[test]
fn every_invalid_fixture_fails_and_every_warning_fixture_passes() {
    let dir = schema_fixture("invalid");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (code, _, stderr) = run(&["validate", path.to_str().unwrap()], &repo());
        let expected = if name.starts_with('W') { 0 } else { 1 };
        assert_eq!(code, expected, "{name}:\n{stderr}");
        assert!(stderr.contains(&name[..5]), "{name} should print its code:\n{stderr}");
    }
}

#[test]
fn quiet_hides_warnings_but_not_errors() {
    let warn = schema_fixture("invalid/W0003_event_without_handler.ro");
    let (code, _, stderr) = run(&["--quiet", "validate", warn.to_str().unwrap()], &repo());
    assert_eq!(code, 0);
    assert!(!stderr.contains("W0003"), "{stderr}");
    let err = schema_fixture("invalid/E0008_missing_property.ro");
    let (code, _, stderr) = run(&["--quiet", "validate", err.to_str().unwrap()], &repo());
    assert_eq!(code, 1);
    assert!(stderr.contains("E0008"), "{stderr}");
}

#[test]
fn log_level_error_from_the_environment_acts_like_quiet() {
    let warn = schema_fixture("invalid/W0003_event_without_handler.ro");
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .args(["validate", warn.to_str().unwrap()])
        .env("ROHAS_LOG_LEVEL", "error")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("W0003"), "{}", text(&out.stderr));
}

#[test]
fn schema_path_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("validate")
        .current_dir(tmp.path())
        .env("ROHAS_SCHEMA_PATH", repo().join("examples/python-hello/schema"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is valid"));
}

#[test]
fn duplicate_names_across_files_show_both_places() {
    let dir = schema_fixture("invalid/E0004_duplicate_across_files");
    let (code, _, stderr) = run(&["validate", dir.to_str().unwrap()], &repo());
    assert_eq!(code, 1);
    assert!(stderr.contains("a.ro:1:7"), "{stderr}");
    assert!(stderr.contains("b.ro:2:6"), "{stderr}");
}

#[test]
fn missing_folder_empty_file_and_binary_file_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["validate", "no/such/schema"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("schema path no/such/schema does not exist"), "{stderr}");

    std::fs::write(tmp.path().join("empty.ro"), "").unwrap();
    let (code, _, stderr) = run(&["validate", "empty.ro"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("schema file declares nothing"), "{stderr}");

    std::fs::write(tmp.path().join("binary.ro"), [0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96]).unwrap();
    let (code, _, stderr) = run(&["validate", "binary.ro"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
}

#[test]
fn deep_nesting_and_random_bytes_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = format!(
        "type T {{ a: {} Int {} }}",
        "{ a: ".repeat(100_000),
        "}".repeat(100_000)
    );
    std::fs::write(tmp.path().join("deep.ro"), deep).unwrap();
    let (code, _, stderr) = run(&["validate", "deep.ro"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("E0016"), "{}", &stderr[..stderr.len().min(2000)]);

    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(tmp.path().join("noise.ro"), noise).unwrap();
    let (code, _, _) = run(&["validate", "noise.ro"], tmp.path());
    assert_eq!(code, 1);
}

#[test]
fn keyword_names_are_valid() {
    let path = schema_fixture("valid/reserved_names.ro");
    let (code, stdout, stderr) = run(&["validate", path.to_str().unwrap()], &repo());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("is valid"));
}

#[test]
fn list_handlers_and_events_on_the_example() {
    let (code, stdout, _) = run(&["-C", "examples/python-hello", "list-handlers"], &repo());
    assert_eq!(code, 0);
    assert!(
        stdout.contains("src/handlers/api/create_user.py :: handler | handle_create_user"),
        "{stdout}"
    );
    assert!(stdout.contains("src/middlewares/auth.py"), "{stdout}");
    let (code, stdout, _) = run(&["list-events", "examples/python-hello"], &repo());
    assert_eq!(code, 0);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("UserCreated"))
        .expect("UserCreated row");
    assert!(
        row.contains("send_welcome_email") && row.contains("api CreateUser"),
        "{row}"
    );
}

#[test]
fn a_config_with_a_wrong_type_names_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("schema")).unwrap();
    std::fs::create_dir_all(tmp.path().join("config")).unwrap();
    std::fs::write(
        tmp.path().join("schema/a.ro"),
        "type Ok { a: Int }\napi A { method: GET path: \"/a\" response: Ok }\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("config/rohas.toml"),
        "[project]\nlanguage = \"python\"\n\n[server]\nport = \"eighty\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(&["list-handlers"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("rohas.toml"), "{stderr}");
    assert!(stderr.contains("rohas.toml:5:"), "{stderr}");
    assert!(stderr.contains("port"), "{stderr}");
}

#[test]
fn version_and_help() {
    let (code, stdout, _) = run(&["version"], &repo());
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("rohas {}", env!("CARGO_PKG_VERSION")));
    let (code, stdout, _) = run(&["--help"], &repo());
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Examples:") && stdout.contains("rohas validate"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&["validate", "--help"], &repo());
    assert_eq!(code, 0);
    assert!(stdout.contains("rohas validate schema/api/users.ro"), "{stdout}");
}
