//! `rohas explain` through the real binary: what a user reads for a known
//! code, and the exit code and hint for an unknown one.

use std::process::Command;

/// Exit code, stdout, stderr. Runs in a temporary folder: explain needs no
/// project.
fn explain(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("explain")
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run rohas");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "rohas explain {args:?} panicked:\n{stderr}"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn known_code_prints_title_example_and_fix() {
    let (code, stdout, stderr) = explain(&["E0012"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(stdout.starts_with("E0012: duplicate route\n"), "{stdout}");
    assert!(stdout.contains("\nExample:\n\n    api GetUser {\n"), "{stdout}");
    assert!(stdout.contains("    path: \"/users/:name\""), "{stdout}");
    assert!(stdout.contains("\nFix:\n"), "{stdout}");
}

#[test]
fn lenient_spellings_name_the_same_code() {
    let (_, exact, _) = explain(&["E0012"]);
    for spelling in ["e0012", "E12"] {
        let (code, stdout, stderr) = explain(&[spelling]);
        assert_eq!(code, 0, "{spelling}: {stderr}");
        assert_eq!(stdout, exact, "{spelling}");
    }
}

#[test]
fn unknown_code_exits_1_and_lists_the_known_codes() {
    let (code, stdout, stderr) = explain(&["E9999"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("unknown diagnostic code `E9999`"), "{stderr}");
    assert!(stderr.contains("E0001, E0002"), "{stderr}");
    assert!(stderr.contains("E0018, E0019, W0001, W0002, W0003"), "{stderr}");
}

#[test]
fn without_a_code_lists_every_code_with_its_title() {
    let (code, stdout, stderr) = explain(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 23, "{stdout}");
    assert!(stdout.contains("E0012  duplicate route\n"), "{stdout}");
    assert!(stdout.contains("W0003  event without a handler\n"), "{stdout}");
    assert!(stdout.contains("W0004  event type not supported\n"), "{stdout}");
}

#[test]
fn the_upstream_event_type_warning_is_explained() {
    let (code, stdout, stderr) = explain(&["W0004"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("W0004: event type not supported\n"), "{stdout}");
    assert!(stdout.contains("    type: sqs"), "{stdout}");
    assert!(stdout.contains("[adapter]"), "{stdout}");
}
