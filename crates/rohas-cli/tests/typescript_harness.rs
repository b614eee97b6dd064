//! The generated TypeScript testing harness (`src/generated/testing.ts`),
//! run by `rohas test` on `tests/fixtures/typescript-harness` with both
//! runners: Node's own (`node --test` on the tests the engine's compiler
//! built) and vitest. The checks themselves are `tests/cases.ts` in the
//! fixture: a typed call, an `HttpError`, a failing handler, event fan-out
//! with an event's own `triggers`, a delayed event on the fake clock, a
//! trigger cycle, cron, a WebSocket, a middleware, and unknown names.

mod support;

use std::path::Path;
use std::process::Command;

const CASES: usize = 10;

fn rohas_test(root: &Path) -> (i32, String) {
    let (code, stdout, stderr) = support::rohas_in(root, &["test"], &[]);
    (code, format!("{stdout}{stderr}"))
}

#[test]
fn the_harness_runs_under_node_test() {
    let (_tmp, root) = support::project("typescript-harness");
    let (code, said) = rohas_test(&root);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains(&format!("# pass {CASES}")),
        "node's runner ran every case: {said}"
    );
    assert!(root.join("src/generated/testing.ts").is_file());
    // Run without `rohas test` (no handler table), the harness says what to do.
    std::fs::remove_file(root.join(".rohas/test/handlers.json")).unwrap();
    let out = Command::new("node")
        .args(["--test", ".rohas/test/tests/harness.test.js"])
        .current_dir(&root)
        .output()
        .unwrap();
    let said_by_node = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said_by_node}");
    assert!(
        said_by_node.contains("run the tests with `rohas test`"),
        "{said_by_node}"
    );
    // A handler that stops delaying its event is caught.
    let welcome = root.join("src/handlers/events/send_welcome.ts");
    let text = std::fs::read_to_string(&welcome)
        .unwrap()
        .replace("{ delay: DAY }", "{ delay: 0 }");
    std::fs::write(&welcome, text).unwrap();
    let (code, said) = rohas_test(&root);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("a delayed event waits for the fake clock"), "{said}");
}

#[test]
fn the_harness_runs_under_vitest_and_type_checks() {
    let Some(modules) = std::env::var_os("ROHAS_VITEST_MODULES") else {
        eprintln!("skipped: ROHAS_VITEST_MODULES is not set (scripts/test sets it)");
        return;
    };
    let (_tmp, root) = support::project("typescript-harness");
    std::os::unix::fs::symlink(&modules, root.join("node_modules")).unwrap();
    std::fs::copy(root.join("vitest/harness.ts"), root.join("tests/harness.test.ts")).unwrap();
    let manifest = std::fs::read_to_string(root.join("package.json")).unwrap().replace(
        "\"type\": \"module\"",
        "\"type\": \"module\",\n  \"devDependencies\": { \"vitest\": \"^2.1.9\" }",
    );
    std::fs::write(root.join("package.json"), manifest).unwrap();
    let (code, said) = rohas_test(&root);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains(&format!("{CASES} passed")),
        "vitest ran every case: {said}"
    );
    // Strict tsc over the handlers, the harness and the tests: the typed
    // names hold (each `@ts-expect-error` on an unknown name must be an error).
    let out = Command::new(Path::new(&modules).join(".bin/tsc"))
        .args(["--noEmit", "-p", "."])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_project_without_tests_or_vitest_says_so() {
    let (_tmp, root) = support::project("typescript-harness");
    std::fs::remove_dir_all(root.join("tests")).unwrap();
    let (code, said) = rohas_test(&root);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("no tests: this project has no tests/*.test.ts files"),
        "{said}"
    );
}
