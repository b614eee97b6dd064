//! A TypeScript project served by the real `rohas dev` on real Node.js
//! workers, driven over real HTTP and WebSockets: every handler kind, the
//! reference TypeScript examples (imports written at the handler's depth),
//! errors and status codes, a worker crash, a worker over its heap limit,
//! timeouts (a synchronous loop and a promise that never settles
//! included), middlewares, an event chain, cron, hot reload under load, an
//! npm dependency and graceful shutdown. No timing assertions (a delayed
//! event's "not before its delay" is a lower bound, not a timing).

mod support;

use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{get, post, scenarios, Server};

fn server() -> Server {
    Server::start("typescript-e2e", &[])
}

#[test]
fn a_module_whose_top_level_never_finishes_is_named() {
    // Each test is its own process under nextest: this reaches only this server.
    std::env::set_var("ROHAS_NODE_LOAD_TIMEOUT", "3");
    let s = server();
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    let version = s.root.join("src/handlers/api/version.ts");
    std::fs::write(
        &version,
        "while (true) {}\nexport async function handler() {\n  return { version: 2 };\n}\n",
    )
    .unwrap();
    s.wait_for_log("the last good version keeps serving");
    let log = s.log();
    assert!(
        log.contains("src/handlers/api/version.ts: importing it did not finish within 3 s"),
        "{log}"
    );
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
}

#[test]
fn health_and_create_user_seed_examples() {
    // The returned `Date` goes out as RFC 3339 text.
    scenarios::seed_health_and_create_user(&server());
}

#[test]
fn bad_bodies_get_400_and_422_before_any_handler_runs() {
    scenarios::bad_bodies_are_400_and_422(&server());
}

#[test]
fn context_handlers_get_query_path_params_and_trace_id() {
    let s = server();
    scenarios::context_handlers_get_query_path_params_and_trace_id(&s);
    assert_eq!(get(&s.url("/echo/ada")).1["handler"], "EchoContext");
}

#[test]
fn date_time_fields_reach_handlers_as_dates_and_project_modules_import() {
    let s = server();
    let (status, body) = post(
        &s.url("/schedule"),
        r#"{"title":"standup","at":"2024-05-01T10:00:00Z","slots":["2024-05-02T10:00:00Z"]}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isDate"], true);
    assert_eq!(body["year"], 2024);
    assert_eq!(body["slots"], json!([true]));
    assert_eq!(body["at"], "2024-05-01T10:00:00.000Z");

    // `../../lib` (a folder with index.ts re-exporting `./text`), a TS enum.
    assert_eq!(get(&s.url("/helper")), (200, json!({"text": "HI!", "level": "high"})));
}

#[test]
fn errors_map_to_status_codes_and_the_engine_keeps_serving() {
    let s = server();
    scenarios::seed_errors_keep_their_status(&s);
    assert_eq!(
        get(&s.url("/teapot")).1["error"]["details"],
        json!({"brew": "earl grey"})
    );

    let (status, body) = get(&s.url("/boom"));
    assert_eq!(status, 500);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("TypeError: kaboom"),
        "{body}"
    );
    // `rohas dev` maps the stack to the TypeScript source lines.
    let stack = body["error"]["stack"].as_str().unwrap_or_default();
    assert!(stack.contains("src/handlers/api/boom.ts:2:"), "{body}");
    assert!(stack.contains("explode") && !stack.contains("rohas-host"), "{body}");

    let (status, body) = get(&s.url("/unserializable"));
    assert_eq!(status, 500, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("BigInt"), "{body}");
    let (status, body) = get(&s.url("/cyclic"));
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("circular"),
        "{body}"
    );

    let (status, body) = get(&s.url("/forgetful"));
    assert_eq!(status, 500, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`Forgetful`") && message.contains("undefined"),
        "{body}"
    );

    assert_eq!(get(&s.url("/health")).0, 200);
}

#[test]
fn a_worker_that_exits_fails_its_request_and_is_replaced() {
    let s = server();
    for _ in 0..3 {
        let (status, body) = get(&s.url("/crash"));
        assert_eq!(status, 500, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("exited with code 3"),
            "{body}"
        );
        assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    }
}

#[test]
fn an_unhandled_rejection_fails_its_request_and_the_worker_keeps_serving() {
    let s = server();
    let (status, body) = get(&s.url("/rejecting"));
    assert_eq!(status, 500, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unhandled promise rejection: nobody awaited me"),
        "{body}"
    );
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
}

#[test]
fn the_init_typescript_project_serves_as_created() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rohas"))
        .arg("-C")
        .arg(tmp.path())
        .args(["init", "demo", "--lang", "typescript"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = Server::start_in(&tmp.path().join("demo"), "dev", &[]);
    scenarios::a_starter_project_serves(&s);
}

#[test]
fn timeouts_answer_504_even_for_a_handler_that_never_yields() {
    let s = server();
    let (status, _) = get(&s.url("/sleepy"));
    assert_eq!(status, 504);
    assert_eq!(get(&s.url("/health")).0, 200);
    let (status, _) = get(&s.url("/spin"));
    assert_eq!(status, 504);
    // The stuck worker is killed and replaced: handlers keep answering.
    for _ in 0..4 {
        assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    }
    s.wait_for_log("killing and replacing it");
    let (status, _) = get(&s.url("/spin"));
    assert_eq!(status, 504);
    assert_eq!(get(&s.url("/health")).0, 200);
}

#[test]
fn a_promise_that_never_settles_times_out_and_its_worker_keeps_serving() {
    let s = server();
    for _ in 0..3 {
        let (status, body) = get(&s.url("/pending"));
        assert_eq!(status, 504, "{body}");
        assert_eq!(body["error"]["message"], "handler timed out", "{body}");
        assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    }
    // A worker waiting on a promise acknowledges the cancel: it is not
    // killed. The synchronous loop after it is, once; had a pending call
    // been taken for stuck, its kill (a second earlier) would be counted too.
    assert_eq!(get(&s.url("/spin")).0, 504);
    s.wait_for_log("killing and replacing it");
    assert_eq!(s.count_log("killing and replacing it"), 1, "{}", s.log());
    assert_eq!(get(&s.url("/health")).0, 200);
}

#[test]
fn a_worker_over_its_heap_limit_fails_its_request_and_is_replaced() {
    let (_tmp, root) = support::project("typescript-e2e");
    // One worker: the requests after the crash are served by its replacement.
    let s = Server::start_with_env(
        &root,
        "dev",
        &[],
        &[("ROHAS_RUNTIME_NODE_MAX_HEAP_MB", "64"), ("ROHAS_RUNTIME_WORKERS", "1")],
    );
    let (status, body) = get(&s.url("/hog"));
    assert_eq!(status, 500, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("runs out of heap") && message.contains("`[runtime] node_max_heap_mb` = 64"),
        "{body}"
    );
    for _ in 0..3 {
        assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    }
    // Node's own report went to the log.
    assert!(s.log().contains("heap out of memory"), "{}", s.log());
    let (_, metrics) = get(&s.url("/metrics"));
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert!(metrics.contains("rohas_node_worker_restarts_total 1"), "{metrics}");
}

#[test]
fn middlewares_reject_or_change_the_context() {
    let s = server();
    scenarios::the_middleware_needs_the_token(&s);
    scenarios::a_middleware_changes_the_context(&s);
}

#[test]
fn events_chain_from_api_through_handlers() {
    let s = server();
    // The event's DateTime arrives as a Date.
    scenarios::events_chain_from_api_through_handlers(&s, "audit user grace@example.com created at a Date");
    // console.log lines carry the handler name.
    assert!(s
        .log()
        .lines()
        .any(|l| l.contains("send_welcome_email") && l.contains("User created: 7")));
}

/// Awaits the durable event queue (delays, dead letters in the admin API).
#[test]
fn a_delayed_event_waits_and_a_non_retryable_one_fails_once() {
    scenarios::delayed_and_non_retryable_events(&server());
}

#[test]
fn cron_every_second_runs_the_seed_handler() {
    let s = server();
    s.wait_for_log("Running scheduled cleanup");
}

#[test]
fn websockets_connect_message_broadcast_and_disconnect() {
    let s = server();
    let (mut a, b) = scenarios::room_rejects_then_broadcasts(&s);
    a.close(None).unwrap();
    drop(b);
    s.wait_for_log("left the room");
    // The reference chat module (onConnect/onMessage/onDisconnect).
    scenarios::seed_chat(&s);
}

#[test]
fn hot_reload_under_load_drops_no_request() {
    let s = server();
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));

    // Requests keep flowing while handlers are reloaded.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..3)
        .map(|_| {
            let url = s.url("/health");
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut answered = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (status, body) = get(&url);
                    assert_eq!(status, 200, "{body}");
                    answered += 1;
                }
                answered
            })
        })
        .collect();

    let version = s.root.join("src/handlers/api/version.ts");
    std::fs::write(
        &version,
        "export async function handler() {\n  return { version: 2 };\n}\n",
    )
    .unwrap();
    s.wait_for_log("reloaded src/handlers/api/version.ts");
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 2})));

    // A syntax error: a diagnostic with file:line:col, the last good version serves.
    std::fs::write(&version, "export async function handler( {\n  return 3;\n").unwrap();
    s.wait_for_log("the last good version keeps serving");
    assert!(s.log().contains("src/handlers/api/version.ts:"), "{}", s.log());
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 2})));
    std::fs::write(
        &version,
        "export async function handler() {\n  return { version: 3 };\n}\n",
    )
    .unwrap();
    s.wait_for_log_count("reloaded src/handlers/api/version.ts", 2);
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 3})));

    // A module the handler imports changed: the new workers evaluate it anew.
    std::fs::write(
        s.root.join("src/lib/text.ts"),
        "export function shout(text: string): string {\n  return `${text}?`;\n}\n",
    )
    .unwrap();
    s.wait_for_log("reloaded src/lib/text.ts");
    assert_eq!(get(&s.url("/helper")), (200, json!({"text": "hi?", "level": "high"})));

    stop.store(true, Ordering::Relaxed);
    let answered: usize = load.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(answered > 0);

    // A new api in the schema: codegen writes its TypeScript stub, routes are swapped.
    scenarios::a_new_api_in_the_schema_is_served(&s, "ts");
}

#[test]
fn an_npm_dependency_imports_from_node_modules() {
    let (_tmp, root) = support::project("typescript-e2e");
    let installed = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "is-number@7.0.0"])
        .current_dir(&root)
        .output();
    match installed {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipped: `npm install is-number` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Err(e) => {
            eprintln!("skipped: npm is not available: {e}");
            return;
        }
    }
    std::fs::write(
        root.join("src/handlers/api/version.ts"),
        "import isNumber from \"is-number\";\n\nexport async function handler() {\n  return { version: isNumber(\"5\") ? 5 : 0 };\n}\n",
    )
    .unwrap();
    let s = Server::start_in(&root, "dev", &[]);
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 5})));
}

#[test]
fn graceful_shutdown_finishes_a_request_in_flight() {
    let (_tmp, root) = support::project("typescript-e2e");
    std::fs::write(
        root.join("src/handlers/api/version.ts"),
        "export async function handler() {\n  console.log(\"blocking for a while\");\n  await new Promise((r) => setTimeout(r, 500));\n  return { slept: true };\n}\n",
    )
    .unwrap();
    let mut s = Server::start_in(&root, "dev", &[]);
    scenarios::shutdown_finishes_a_request_in_flight(
        &mut s,
        "/version",
        "blocking for a while",
        json!({"slept": true}),
    );
}

#[test]
fn missing_handlers_and_syntax_errors_are_start_errors() {
    let (_tmp, root) = support::project("typescript-e2e");
    std::fs::remove_file(root.join("src/handlers/api/teapot.ts")).unwrap();
    std::fs::write(root.join("src/handlers/api/boom.ts"), "export function handler( {\n").unwrap();
    std::fs::write(root.join("src/handlers/api/failing.ts"), "export const other = 1;\n").unwrap();
    let stderr = support::start_error(&root, &["dev", "--port", "0", "--watch", "false"], &[]);
    assert!(
        stderr.contains("src/handlers/api/boom.ts:2:1: syntax error"),
        "{stderr}"
    );

    // With the syntax error fixed, the missing file and function are named
    // (`rohas start`: `dev` would write a stub for the missing file).
    std::fs::write(root.join("src/handlers/api/boom.ts"), "export function handler() {}\n").unwrap();
    // The `dev` run above wrote a stub for it.
    std::fs::remove_file(root.join("src/handlers/api/teapot.ts")).unwrap();
    let stderr = support::start_error(&root, &["start", "--port", "0"], &[]);
    assert!(
        stderr.contains("src/handlers/api/teapot.ts") && stderr.contains("rohas codegen"),
        "{stderr}"
    );
    assert!(
        stderr.contains("src/handlers/api/failing.ts: no function `handler` or `handleFailing`"),
        "{stderr}"
    );
}

#[test]
fn a_missing_node_binary_is_a_clear_start_error() {
    let (_tmp, root) = support::project("typescript-e2e");
    let node = root.join("no-such-node");
    let stderr = support::start_error(&root, &["start", "--port", "0"], &[("ROHAS_NODE", node.as_os_str())]);
    assert!(stderr.contains("Node.js 20 or newer"), "{stderr}");
}
