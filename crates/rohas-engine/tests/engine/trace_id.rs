//! The trace id: a client's `x-trace-id` is honoured (within reason), else
//! a fresh one is made; either way the handler gets it and the answer
//! carries it.

use crate::support::http::get;
use crate::support::{fixture, serve, FakeRuntime};
use serde_json::json;

fn greeter() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": "hi"}));
    fake
}

#[tokio::test]
async fn a_given_trace_id_reaches_the_handler_and_comes_back() {
    let fake = greeter();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/greet")).header("x-trace-id", "req-7f3a").send().await;
    assert_eq!(answer.header("x-trace-id"), Some("req-7f3a"));
    let call = fake.only_call("api:Greet");
    assert_eq!(call.trace_id, "req-7f3a");
    assert_eq!(call.metadata["trace_id"], "req-7f3a");
    assert_eq!(call.metadata["handler_kind"], "api");
}

#[tokio::test]
async fn without_one_each_request_gets_a_fresh_id() {
    let fake = greeter();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let first = get(&app.at("/greet")).send().await;
    let second = get(&app.at("/greet")).send().await;
    let ids: Vec<String> = [first, second]
        .iter()
        .map(|a| a.header("x-trace-id").expect("a trace id").to_string())
        .collect();
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    let handled: Vec<String> = fake.calls_to("api:Greet").into_iter().map(|c| c.trace_id).collect();
    assert_eq!(handled, ids);
}

#[tokio::test]
async fn an_overlong_or_empty_trace_id_is_replaced() {
    let fake = greeter();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    for given in ["x".repeat(65), String::new()] {
        let answer = get(&app.at("/greet")).header("x-trace-id", &given).send().await;
        let id = answer.header("x-trace-id").expect("a trace id");
        assert_eq!(id.len(), 32, "given {given:?}, got {id}");
    }
    // 64 characters is still accepted.
    let given = "y".repeat(64);
    let answer = get(&app.at("/greet")).header("x-trace-id", &given).send().await;
    assert_eq!(answer.header("x-trace-id"), Some(given.as_str()));
}

#[tokio::test]
async fn error_answers_carry_the_given_trace_id() {
    let fake = greeter();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/nowhere")).header("x-trace-id", "lost-1").send().await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("x-trace-id"), Some("lost-1"));
    assert_eq!(answer.json()["error"]["trace_id"], "lost-1");
}

#[tokio::test]
async fn a_handlers_log_line_carries_its_handler_and_trace_id() {
    let fake = FakeRuntime::new();
    fake.on("api:Greet", |call, host| async move {
        let mut fields = serde_json::Map::new();
        fields.insert("user".into(), json!("ada"));
        host.log(rohas_runtime::LogRecord {
            level: rohas_runtime::LogLevel::Warn,
            message: "greeting a stranger".into(),
            handler: call.handler.to_string(),
            trace_id: call.trace_id.clone(),
            fields,
        });
        crate::support::ok(json!({"message": "hi"}))
    });
    let app = serve(&fixture("handlers.ro"), &fake).await;
    get(&app.at("/greet")).header("x-trace-id", "log-1").send().await;
    let lines = app.logged("greeting a stranger");
    assert_eq!(lines.len(), 1, "{:#?}", app.log.lines());
    assert!(
        lines[0].ends_with("WARN  api:Greet trace=log-1 greeting a stranger user=ada\n"),
        "{}",
        lines[0]
    );
}
