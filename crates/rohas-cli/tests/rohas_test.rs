//! `rohas test` on a copy of examples/python-hello: the user's tests run
//! with `src/` importable and generated code brought up to date, the exit
//! code is the runner's, and a project without tests says so.

mod support;

use std::path::Path;

fn rohas_test(root: &Path, fail: bool) -> (i32, String) {
    let envs: &[(&str, &str)] = if fail { &[("ROHAS_TEST_MAKE_IT_FAIL", "1")] } else { &[] };
    let (code, stdout, stderr) = support::rohas_in(root, &["test"], envs);
    (code, format!("{stdout}{stderr}"))
}

fn example() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    support::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-hello"),
        &root,
    );
    (tmp, root)
}

#[test]
fn a_projects_tests_run_against_fresh_generated_code() {
    let (_tmp, root) = example();
    let _ = std::fs::remove_dir_all(root.join("src/generated"));
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rohas-test/test_health.py"),
        root.join("tests/test_health.py"),
    )
    .unwrap();
    let (code, text) = rohas_test(&root, false);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Ran 2 tests") || text.contains("2 passed"), "{text}");
    assert!(root.join("src/generated").is_dir(), "generated code was written first");
    let (code, text) = rohas_test(&root, true);
    assert_eq!(code, 1, "a failing test fails the command: {text}");
    assert!(text.contains("asked to fail"), "{text}");
}

#[test]
fn a_project_without_tests_says_so() {
    let (_tmp, root) = example();
    let _ = std::fs::remove_dir_all(root.join("tests"));
    let (code, text) = rohas_test(&root, false);
    if text.contains("collected 0 items") || text.contains("no tests ran") {
        assert_eq!(code, 5, "pytest's own code for nothing collected: {text}");
    } else {
        assert_eq!(code, 5, "{text}");
        assert!(text.contains("no tests: this project has no tests/ folder"), "{text}");
    }
}
