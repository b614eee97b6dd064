//! A Python project served by the real `rohas dev`, driven over real HTTP and
//! WebSockets: every handler kind, the reference Python examples as written,
//! errors and status codes, timeouts (a CPU loop and a blocking call in an
//! `async def` included), middlewares, an event chain, cron,
//! hot reload and graceful shutdown. No timing assertions (a delayed
//! event's "not before its delay" is a lower bound, not a timing).

mod support;

use serde_json::json;
use std::time::Duration;
use support::{get, post, request, scenarios, Server};

fn server() -> Server {
    Server::start("python-e2e", &[])
}

#[test]
fn return_values_of_every_kind_become_json() {
    let s = server();
    let (status, body) = get(&s.url("/values"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "points": [{"x": 1, "y": 2.5, "color": "red"}],
            "when": "2026-01-02T03:04:05+00:00",
            "day": "2026-01-02",
            "pair": [1, "two"],
        })
    );
}

#[test]
fn the_response_body_is_the_json_the_handler_returned() {
    let s = server();
    let (status, body, headers) = request("GET", &s.url("/values"), None, &[]);
    assert_eq!(status, 200, "{body}");
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-trace-id").len(), 32, "{headers:?}");
    // Sent as the host wrote it: the dict's key order, not sorted.
    let text = ureq::get(&s.url("/values")).call().unwrap().into_string().unwrap();
    assert!(
        text.starts_with(r#"{"points":[{"x":1,"y":2.5,"color":"red"}],"when":"#),
        "{text}"
    );

    // HEAD on a GET route: the headers without the body.
    let (status, body, headers) = request("HEAD", &s.url("/values"), None, &[]);
    assert_eq!(status, 200);
    assert_eq!(body, json!(""));
    assert!(
        headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-length") && v != "0"),
        "{headers:?}"
    );
}

#[test]
fn packages_in_the_project_virtual_environment_import() {
    let s = server();
    // Without the package, the import fails at call time with a clear 500.
    let (status, body) = get(&s.url("/venv"));
    assert_eq!(status, 500, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("tinypkg"), "{body}");
    drop(s);

    let (_tmp, root) = support::project("python-e2e");
    let package = root.join(".venv/lib/python3.11/site-packages/tinypkg");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("__init__.py"), "ANSWER = 42\n").unwrap();
    let s = Server::start_in(&root, "dev", &[]);
    assert_eq!(get(&s.url("/venv")), (200, json!({"answer": 42})));
}

#[test]
fn health_and_create_user_seed_examples() {
    scenarios::seed_health_and_create_user(&server());
}

#[test]
fn bad_bodies_get_400_422_and_413_with_field_paths() {
    let s = server();
    scenarios::bad_bodies_are_400_and_422(&s);

    let (status, body) = post(&s.url("/users"), r#"{"name":"","email":5,"extra":true}"#);
    assert_eq!(status, 422, "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    let paths: Vec<&str> = details.iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["body.name", "body.email"], "{body}");

    let huge = format!(r#"{{"name":"{}","email":"a@b"}}"#, "x".repeat(10_000));
    let (status, _) = post(&s.url("/users"), &huge);
    assert_eq!(status, 413);
}

#[test]
fn unknown_routes_and_wrong_methods() {
    let s = server();
    let (status, body) = get(&s.url("/nope"));
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("no route"));
    let (status, _, headers) = request("DELETE", &s.url("/users"), None, &[]);
    assert_eq!(status, 405);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("allow") && v == "POST"),
        "{headers:?}"
    );
}

#[test]
fn context_handlers_get_query_path_params_and_trace_id() {
    scenarios::context_handlers_get_query_path_params_and_trace_id(&server());
}

#[test]
fn errors_map_to_status_codes_and_the_engine_keeps_serving() {
    let s = server();
    scenarios::seed_errors_keep_their_status(&s);

    let (status, body) = get(&s.url("/boom"));
    assert_eq!(status, 500);
    assert!(body["error"]["message"].as_str().unwrap().contains("kaboom"), "{body}");
    // `rohas dev` shows the Python traceback with the user's file and line.
    let stack = body["error"]["stack"].as_str().unwrap_or_default();
    assert!(stack.contains("boom.py") && stack.contains("explode"), "{body}");

    let (status, body) = get(&s.url("/unserializable"));
    assert_eq!(status, 500, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("object"), "{body}");

    assert_eq!(get(&s.url("/health")).0, 200);
}

#[test]
fn timeouts_answer_504_even_for_a_handler_that_never_yields() {
    let s = server();
    let (status, _) = get(&s.url("/sleepy"));
    assert_eq!(status, 504);
    let (status, _) = get(&s.url("/spin"));
    assert_eq!(status, 504);
    // The CPU loop was interrupted: other handlers still run.
    assert_eq!(get(&s.url("/health")).0, 200);
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
}

#[test]
fn a_blocking_call_in_an_async_handler_times_out_and_is_stopped_when_it_returns() {
    let s = server();
    // One interpreter, one asyncio loop: `time.sleep` in an `async def`
    // holds it (other Python calls wait) and cannot be interrupted, but the
    // caller still gets its 504 on time and the handler goes no further.
    let (status, body) = get(&s.url("/nap"));
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["message"], "handler timed out", "{body}");
    assert_eq!(get(&s.url("/health")).0, 200);
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    // `/blocking` starts once the loop is free again, so the nap's own line,
    // had it gone on, would be logged first.
    assert_eq!(get(&s.url("/blocking")).0, 200);
    s.wait_for_log("blocking for a while");
    assert!(!s.log().contains("the nap went on"), "{}", s.log());
}

#[test]
fn a_blocking_def_handler_does_not_stall_others() {
    scenarios::blocking_handlers_do_not_stall_others(&server());
}

#[test]
fn middlewares_reject_or_change_the_context() {
    let s = server();
    scenarios::the_middleware_needs_the_token(&s);
    scenarios::a_middleware_changes_the_context(&s);
}

#[test]
fn events_chain_from_api_through_handlers() {
    scenarios::events_chain_from_api_through_handlers(&server(), "audit user grace@example.com");
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
    // A message that does not match the schema gets an error frame.
    a.send(tungstenite::Message::text(r#"{"user":"a"}"#)).unwrap();
    let reply = scenarios::read_json(&mut a);
    assert_eq!(reply["error"]["details"][0]["path"], "message.text", "{reply}");
    a.close(None).unwrap();
    drop(b); // not a clean close
    s.wait_for_log("left the room");
    scenarios::seed_chat(&s);
}

#[test]
fn hot_reload_of_a_handler_and_of_the_schema() {
    let s = server();
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 1})));
    std::fs::write(
        s.root.join("src/handlers/api/version.py"),
        "async def handler() -> dict:\n    return {\"version\": 2}\n",
    )
    .unwrap();
    s.wait_for_log("reloaded src/handlers/api/version.py");
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 2})));

    // A syntax error keeps the last good version serving.
    std::fs::write(s.root.join("src/handlers/api/version.py"), "async def handler(:\n").unwrap();
    s.wait_for_log("the last good version keeps serving");
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 2})));
    std::fs::write(
        s.root.join("src/handlers/api/version.py"),
        "async def handler() -> dict:\n    return {\"version\": 3}\n",
    )
    .unwrap();
    s.wait_for_log_count("reloaded src/handlers/api/version.py", 2);
    assert_eq!(get(&s.url("/version")), (200, json!({"version": 3})));

    // A new api in the schema: codegen writes its stub, routes are swapped.
    scenarios::a_new_api_in_the_schema_is_served(&s, "py");

    // An invalid schema is reported and the old routes keep working.
    std::fs::write(
        s.root.join("schema/extra.ro"),
        "api Ping { method: GET path: \"/ping\" response: Nope }\n",
    )
    .unwrap();
    s.wait_for_log("the last good schema keeps serving");
    assert_eq!(get(&s.url("/ping")).0, 200);
}

#[test]
fn graceful_shutdown_finishes_a_request_in_flight() {
    scenarios::shutdown_finishes_a_request_in_flight(
        &mut server(),
        "/blocking",
        "blocking for a while",
        json!({"slept": true}),
    );
}

#[test]
fn a_missing_handler_is_a_start_error_naming_the_file_and_codegen() {
    let (_tmp, root) = support::project("python-e2e");
    std::fs::remove_file(root.join("src/handlers/api/teapot.py")).unwrap();
    let stderr = support::start_error(&root, &["start", "--port", "0"], &[]);
    assert!(
        stderr.contains("src/handlers/api/teapot.py") && stderr.contains("rohas codegen"),
        "{stderr}"
    );
}

#[test]
fn broken_handler_modules_are_start_errors_naming_file_and_line() {
    let (_tmp, root) = support::project("python-e2e");
    std::fs::write(root.join("src/handlers/api/boom.py"), "def handler(:\n").unwrap();
    std::fs::write(root.join("src/handlers/api/failing.py"), "import no_such_module\n").unwrap();
    let stderr = support::start_error(&root, &["dev", "--port", "0", "--watch", "false"], &[]);
    assert!(
        stderr.contains("src/handlers/api/boom.py:1:13: syntax error"),
        "{stderr}"
    );
    assert!(
        stderr.contains("src/handlers/api/failing.py: raised on import: ModuleNotFoundError"),
        "{stderr}"
    );
}

#[test]
fn the_python_hello_example_serves_as_the_readme_says() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("python-hello");
    support::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-hello"),
        &root,
    );
    let s = Server::start_in(&root, "dev", &[]);
    scenarios::a_starter_project_serves(&s);
    let (status, body) = get(&s.url("/openapi.json"));
    assert_eq!(status, 200);
    assert!(body["paths"]["/users"]["post"].is_object(), "{body}");
}

#[test]
fn a_client_that_leaves_mid_request_does_not_hold_up_shutdown() {
    use std::io::Write;
    let mut s = server();
    let address = s.base.trim_start_matches("http://").to_string();
    let mut client = std::net::TcpStream::connect(&address).unwrap();
    client.write_all(b"GET /sleepy HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(client); // gone before the handler answers
    std::thread::sleep(Duration::from_millis(200));
    let status = s.terminate();
    assert!(status.success(), "{}", s.log());
    assert!(!s.log().contains("unfinished"), "{}", s.log());
}
