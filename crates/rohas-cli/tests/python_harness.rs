//! The generated Python test harness (`generated.testing`), driven by the
//! real binary: `rohas test` on `tests/fixtures/python-harness`, whose
//! `tests/test_harness.py` covers a typed api call, an `HttpError`, a
//! failing handler, a middleware, triggered events and their fan-out to any
//! depth, a trigger cycle, a ws connect/message/disconnect, a cron job with
//! a delayed event and the fake clock, and an unknown handler's error.

mod support;

use std::process::Command;

/// `rohas test` on a fresh copy of the fixture: (exit code, all output).
fn rohas_test(envs: &[(&str, &str)]) -> (i32, String, tempfile::TempDir) {
    let (tmp, root) = support::project("python-harness");
    let (code, stdout, stderr) = support::rohas_in(&root, &["test"], envs);
    (code, format!("{stdout}{stderr}"), tmp)
}

#[test]
fn the_harness_runs_every_kind_of_handler() {
    let (code, said, _tmp) = rohas_test(&[]);
    assert_eq!(code, 0, "{said}");
    // 13 tests, one of them skipped unless asked to fail (unittest or pytest).
    assert!(
        said.contains("Ran 13 tests") || said.contains("12 passed, 1 skipped"),
        "{said}"
    );
}

#[test]
fn a_wrong_expectation_fails_the_run() {
    let (code, said, _tmp) = rohas_test(&[("ROHAS_TEST_MAKE_IT_FAIL", "1")]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("'tea' != 'coffee'"), "{said}");
}

/// The names `Harness` takes are the schema's, as `Literal`s: mypy accepts
/// the fixture's tests and refuses a misspelt api name.
#[test]
fn mypy_checks_the_names_and_types_the_harness_takes() {
    let Some(mypy) = std::env::var_os("ROHAS_MYPY") else {
        eprintln!("skipped: ROHAS_MYPY is not set (scripts/install-checkers.sh gives it)");
        return;
    };
    let (_tmp, root) = support::project("python-harness");
    let (code, stdout, stderr) = support::rohas_in(&root, &["codegen"], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mypy_on = |root: &std::path::Path| {
        Command::new(&mypy)
            .args([
                "--strict",
                "--explicit-package-bases",
                "--no-error-summary",
                "src",
                "tests",
            ])
            .env("MYPYPATH", root.join("src"))
            .current_dir(root)
            .output()
            .unwrap()
    };
    let out = mypy_on(&root);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    std::fs::write(
        root.join("tests/test_typo.py"),
        "from generated.testing import Harness\n\n\ndef test_typo() -> None:\n    Harness().call_api(\"PlaceOrdr\", {})\n",
    )
    .unwrap();
    let out = mypy_on(&root);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a misspelt api name type-checks: {said}");
    assert!(said.contains("test_typo.py:5"), "{said}");
}

/// What the fixture's tests assert through the harness is what the server
/// does with the same handlers: the statuses, the middleware, the response
/// body, and the event chain's handlers.
#[test]
fn the_server_does_what_the_harness_said() {
    let server = support::Server::start("python-harness", &[]);
    let (status, body) = support::get(&server.url("/orders/9"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["message"], "no order 9", "{body}");

    let order = r#"{"item": "tea", "qty": 2}"#;
    let (status, body) = support::post(&server.url("/orders"), order);
    assert_eq!(status, 401, "the middleware refuses first: {body}");
    let token = [("authorization", "Bearer t")];
    let (status, body, _) = support::request("POST", &server.url("/orders"), Some(order), &token);
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["item"], &body["qty"]), (&"tea".into(), &2.into()), "{body}");
    assert!(body["placedAt"].is_string(), "{body}");
    let (status, body, _) = support::request(
        "POST",
        &server.url("/orders"),
        Some(r#"{"item": "tea", "qty": 0}"#),
        &token,
    );
    assert_eq!(
        (status, &body["error"]["details"]),
        (422, &serde_json::json!({"qty": 0})),
        "{body}"
    );
    // reserve_stock → StockReserved → confirm_order, and OrderAudited → audit
    // once both handlers of OrderPlaced succeeded.
    server.wait_for_log("confirmed");
    server.wait_for_log("audited");

    let (status, body) = support::post(&server.url("/crash"), "{}");
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ValueError: boom"),
        "{body}"
    );
}
