//! The generated Rust test harness (`crate::generated::testing::Harness`)
//! through the real `rohas test`, on the fixture `rust_e2e.rs` serves with
//! `rohas dev`: its `src/harness_tests.rs` calls the same handlers with the
//! harness (a typed call, triggered events, event fan-out, a WebSocket
//! session, cron on the fake clock, a failing handler, an `HttpError`, an
//! unknown handler), and a handler changed to answer differently fails them.
//!
//! User builds share `$HOME/.cache/rohas-user-target`, as the codegen tests do.

mod support;

use std::path::{Path, PathBuf};

fn rohas_test(root: &Path, args: &[&str]) -> (i32, String) {
    let target = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/rohas-user-target"))
        .unwrap_or_else(|| std::env::temp_dir().join("rohas-user-target"));
    let target = target.to_string_lossy().into_owned();
    let mut all = vec!["test"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = support::rohas_in(root, &all, &[("ROHAS_CARGO_TARGET_DIR", &target)]);
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn the_harness_runs_the_fixtures_handlers_as_the_engine_does() {
    let (_tmp, root) = support::project("rust-e2e");
    let (code, said) = rohas_test(&root, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("test result: ok. 12 passed; 0 failed"), "{said}");
    assert!(
        root.join("src/generated/testing.rs").is_file(),
        "`rohas test` wrote the harness first"
    );

    // A handler that answers differently fails the test that calls it.
    let teapot = root.join("src/handlers/api/teapot.rs");
    let text = std::fs::read_to_string(&teapot).unwrap().replace("418", "419");
    std::fs::write(&teapot, text).unwrap();
    let (code, said) = rohas_test(&root, &["--", "failures_are_http_errors"]);
    assert_ne!(code, 0, "{said}");
    assert!(said.contains("failures_are_http_errors ... FAILED"), "{said}");
    assert!(said.contains("419"), "the assertion shows the new status: {said}");
}
