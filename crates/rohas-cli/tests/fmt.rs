//! `rohas fmt` on real folders: it formats in place, `--check` lists what
//! would change and exits 1, and a file with a syntax error is reported
//! (file:line:column) and left byte for byte as it was.

mod support;

use std::path::Path;
use std::process::Command;

const MESSY: &str = include_str!("../../rohas-schema/tests/fixtures/format/messy.ro");

fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("ROHAS_SCHEMA_PATH")
        .output()
        .expect("run rohas");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// A project folder with `schema/` holding a tidy and a messy file.
fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("schema/api")).unwrap();
    std::fs::write(
        tmp.path().join("schema/api/health.ro"),
        "api Health {\n  method: GET\n  path: \"/health\"\n}\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("schema/messy.ro"), MESSY).unwrap();
    tmp
}

#[test]
fn check_lists_the_files_that_would_change_and_changes_nothing() {
    let tmp = project();
    let (code, stdout, stderr) = run(&["fmt", "--check"], tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.trim_end().ends_with("messy.ro"), "{stdout}");
    assert!(
        stderr.contains("1 file(s) are not formatted: run `rohas fmt`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("schema/messy.ro")).unwrap(),
        MESSY
    );
}

#[test]
fn fmt_formats_in_place_and_then_check_passes() {
    let tmp = project();
    let (code, stdout, stderr) = run(&["fmt"], tmp.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 file(s) formatted, 1 already formatted"), "{stdout}");
    let formatted = std::fs::read_to_string(tmp.path().join("schema/messy.ro")).unwrap();
    assert!(
        formatted.contains("model User {\n  id       Int      @id @auto // the key\n"),
        "{formatted}"
    );
    let (code, stdout, _) = run(&["fmt", "--check"], tmp.path());
    assert_eq!(code, 0);
    assert!(stdout.contains("2 file(s) already formatted"), "{stdout}");
    // The formatted schema validates as the original did.
    let (code, _, stderr) = run(&["validate"], tmp.path());
    assert_eq!(code, 0, "{stderr}");
}

/// A project written for upstream rohas (relations with argument objects,
/// `@@index` lines, `{id}` paths): formatted in place, its argument
/// objects keep their commas, a second run has nothing to do, and the
/// project validates as before.
#[test]
fn an_upstream_style_project_formats_and_still_validates() {
    let (_tmp, root) = support::project("upstream-style");
    let (code, stdout, stderr) = run(&["fmt"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let bakery = std::fs::read_to_string(root.join("schema/models/bakery.ro")).unwrap();
    assert!(
        bakery.contains("@relation({\n    fields: [orderId],\n    references: [id],\n"),
        "{bakery}"
    );
    let (code, stdout, _) = run(&["fmt", "--check"], &root);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, stderr) = run(&["validate"], &root);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("is valid"), "{stdout}");
}

#[test]
fn a_syntax_error_is_reported_and_the_file_left_untouched() {
    let tmp = project();
    let broken = b"model User {\r\n  id   Int\n  name: \n}\n";
    let path = tmp.path().join("schema/broken.ro");
    std::fs::write(&path, broken).unwrap();
    let (code, _, stderr) = run(&["fmt", "schema/broken.ro", "schema/messy.ro"], tmp.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("schema/broken.ro:4:1"), "{stderr}");
    assert!(stderr.contains("error[E0001]"), "{stderr}");
    assert!(stderr.contains("has syntax errors; it was left unchanged"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), broken);
    // The other file named was still formatted.
    assert_ne!(
        std::fs::read_to_string(tmp.path().join("schema/messy.ro")).unwrap(),
        MESSY
    );
}

#[test]
fn a_missing_path_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["fmt", "nope.ro"], tmp.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("nope.ro does not exist"), "{stderr}");
}

fn with_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn stdin_in_formatted_text_out_for_editors() {
    let (code, stdout, stderr) = with_stdin(&["fmt", "--stdin"], "enum Role { A, B }");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "enum Role {\n  A\n  B\n}\n");
    let (code, stdout, stderr) = with_stdin(&["fmt", "--stdin"], "enum Role {\n  A,\n");
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "nothing to replace the buffer with: {stdout}");
    assert!(stderr.contains("<stdin>:3:1"), "{stderr}");
}
