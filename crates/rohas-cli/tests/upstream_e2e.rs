//! A project written for upstream rohas (`tests/fixtures/upstream-style`),
//! run unmodified through the real binary: `rohas validate` accepts it
//! (warning that `type: sqs` events stay local), `rohas codegen` writes the
//! snake_case modules and `generated.dto` its handlers import, mypy --strict
//! passes on them, `rohas start` refuses `[adapter] type = "aws"` saying
//! what to use, and with that (`ROHAS_ADAPTER_TYPE=local`) it serves a path
//! parameter, quoted middlewares and an event. No timing assertions.

mod support;

use serde_json::json;
use std::path::Path;
use std::process::Command;
use support::{request, Server};

/// `rohas <args>` in `root`: exit code, stdout, stderr.
fn rohas(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ROHAS_SCHEMA_PATH")
        .env_remove("ROHAS_CONFIG_PATH")
        .env_remove("ROHAS_ADAPTER_TYPE")
        .output()
        .expect("run rohas");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "rohas {args:?} panicked:\n{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn an_upstream_project_validates_generates_type_checks_and_serves() {
    let (_tmp, root) = support::project("upstream-style");

    // validate: valid, with one warning per event routed to AWS upstream.
    let (code, stdout, stderr) = rohas(&root, &["validate"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("is valid") && stdout.contains("2 warning(s)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning[W0004]: event `OrderPlaced` asks for `type: sqs`")
            && stderr.contains("order_events.ro:4:9")
            && stderr.contains("event `OvenCleaned` asks for `type: eventbridge`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("delivered through the project's `[adapter]`"),
        "{stderr}"
    );

    // codegen: the modules the handlers import exist; no handler is touched.
    let before = std::fs::read_to_string(root.join("src/handlers/api/place_order.py")).unwrap();
    let (code, stdout, stderr) = rohas(&root, &["codegen"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 stub(s) created"), "every handler exists: {stdout}");
    for module in [
        "api/PlaceOrder.py",
        "api/place_order/__init__.py",
        "api/get_order/__init__.py",
        "models/order/__init__.py",
        "models/loaf/__init__.py",
        "events/order_placed/__init__.py",
        "events/oven_cleaned/__init__.py",
        "dto/__init__.py",
        "dto/place_order_input/__init__.py",
        "dto/loaf_input/__init__.py",
    ] {
        assert!(root.join("src/generated").join(module).is_file(), "{module} missing");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("src/handlers/api/place_order.py")).unwrap(),
        before
    );

    // mypy --strict, configured by the project's pyproject.toml.
    match std::env::var_os("ROHAS_MYPY") {
        Some(mypy) => {
            let out = Command::new(mypy).current_dir(&root).output().unwrap();
            assert!(
                out.status.success(),
                "mypy --strict failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => eprintln!("mypy step skipped: ROHAS_MYPY is not set (scripts/test sets it)"),
    }

    // `[adapter] type = "aws"`: refused at start, naming what to use.
    let stderr = support::start_error(&root, &["start", "--port", "0"], &[]);
    assert!(
        stderr.contains("[adapter] type = \"aws\" (SQS) is not supported yet")
            && stderr.contains("type = \"local\"")
            && stderr.contains("ROHAS_ADAPTER_TYPE=local"),
        "{stderr}"
    );

    // With the local queue, as the message says: it serves.
    let s = Server::start_with_env(&root, "start", &[], &[("ROHAS_ADAPTER_TYPE", "local")]);
    let key = [("x-bakery-key", "flour")];

    // Path parameters written `{customerId}` and `{id}`, behind two quoted middlewares.
    let (status, body, _) = request("GET", &s.url("/customers/7/orders/42"), None, &key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 42);
    assert_eq!(body["customerId"], 7);
    assert_eq!(body["glutenFree"], false, "a Bool field");
    s.wait_for_log("request for request_log");
    let (status, body, _) = request("GET", &s.url("/customers/7/orders/42"), None, &[]);
    assert_eq!(status, 401, "{body}");

    // An api that triggers a `type: sqs` event: both handlers run here.
    let order = json!({"customerId": 3, "loaves": [{"bread": "rye", "count": 2}, {"bread": "spelt", "count": 1}]});
    let (status, body, _) = request("POST", &s.url("/orders"), Some(&order.to_string()), &key);
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().expect("an order id");
    assert_eq!(body["loaves"][1], json!({"orderId": id, "bread": "spelt", "count": 1}));
    s.wait_for_log(&format!("baking 3 loaves for order {id}"));
    s.wait_for_log(&format!("thank you, customer 3, for order {id}"));
}
