//! What a client sees when a handler fails: `HttpError` keeps its status,
//! message and details; any other failure is a 500 with the trace id (and
//! the stack only in `rohas dev`); a panicking runtime leaves the engine
//! serving.

use crate::support::http::get;
use crate::support::{fixture, http_error, serve, serve_with, FakeRuntime, Options};
use rohas_runtime::HandlerError;
use serde_json::json;

#[tokio::test]
async fn an_http_error_keeps_its_status_message_and_details() {
    let fake = FakeRuntime::new();
    fake.fail(
        "api:Fails",
        HandlerError::Http {
            status: 418,
            message: "short and stout".into(),
            details: Some(json!({"spout": "missing"})),
        },
    );
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/fails")).send().await;
    assert_eq!(answer.status, 418);
    let error = &answer.json()["error"];
    assert_eq!(error["message"], "short and stout");
    assert_eq!(error["details"], json!({"spout": "missing"}));
    assert_eq!(error["trace_id"].as_str(), answer.header("x-trace-id"));
    assert!(error.get("stack").is_none());
}

#[tokio::test]
async fn a_failure_is_500_with_the_trace_id_and_no_stack_outside_dev() {
    let fake = FakeRuntime::new();
    fake.fail(
        "api:Fails",
        HandlerError::Failed {
            message: "KeyError: 'id'".into(),
            stack: Some("Traceback: line 3".into()),
        },
    );
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/fails")).send().await;
    assert_eq!(answer.status, 500);
    let error = &answer.json()["error"];
    assert_eq!(error["message"], "KeyError: 'id'");
    let trace = error["trace_id"].as_str().expect("a trace id");
    assert_eq!(Some(trace), answer.header("x-trace-id"));
    assert_eq!(fake.only_call("api:Fails").trace_id, trace);
    assert!(error.get("stack").is_none(), "{error}");
    // The failure is logged as an error under the handler, with its trace.
    let logged = app.logged(&format!("ERROR api:Fails trace={trace} 500 KeyError"));
    assert_eq!(logged.len(), 1, "{:#?}", app.log.lines());
}

#[tokio::test]
async fn in_dev_a_failure_shows_its_stack() {
    let fake = FakeRuntime::new();
    fake.fail(
        "api:Fails",
        HandlerError::Failed {
            message: "boom".into(),
            stack: Some("Traceback: line 3".into()),
        },
    );
    let options = Options {
        dev: true,
        ..Options::default()
    };
    let app = serve_with(&fixture("handlers.ro"), &fake, options).await;
    let answer = get(&app.at("/fails")).send().await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["error"]["stack"], "Traceback: line 3");
}

#[tokio::test]
async fn a_non_retryable_error_is_a_500_like_any_failure() {
    let fake = FakeRuntime::new();
    fake.fail(
        "api:Fails",
        HandlerError::NonRetryable {
            message: "card declined".into(),
            stack: None,
        },
    );
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/fails")).send().await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.error_message(), "card declined");
}

#[tokio::test]
async fn a_status_that_is_not_http_becomes_500() {
    let fake = FakeRuntime::new();
    fake.fail("api:Fails", http_error(1000, "odd status"));
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/fails")).send().await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.error_message(), "odd status");
}

#[tokio::test]
async fn the_engine_keeps_serving_after_a_handler_panics() {
    let fake = FakeRuntime::new();
    fake.panic("api:Panics", "the runtime has a bug")
        .answer("api:Greet", json!({"message": "still here"}));
    let app = serve(&fixture("handlers.ro"), &fake).await;
    // The panicking request gets no proper answer (its connection ends);
    // whatever it gets, it must not be a success.
    if let Ok(answer) = get(&app.at("/panics")).try_send().await {
        assert!(answer.status >= 500, "{answer:?}");
    }
    for _ in 0..3 {
        let answer = get(&app.at("/greet")).send().await;
        assert_eq!(answer.json(), json!({"message": "still here"}));
    }
    assert_eq!(fake.calls_to("api:Panics").len(), 1);
}

#[tokio::test]
async fn a_missing_handler_is_a_500_not_a_crash() {
    let fake = FakeRuntime::new();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = get(&app.at("/greet")).send().await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.error_message().contains("no handler registered"),
        "{}",
        answer.body
    );
}
