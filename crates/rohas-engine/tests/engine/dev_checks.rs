//! `rohas dev` checks responses against the schema: a mismatch is logged
//! as a warning (the client still gets the handler's answer, unchanged).
//! Outside dev nothing is checked.

use crate::support::http::get;
use crate::support::{fixture, serve, serve_with, FakeRuntime, Options};
use serde_json::json;

fn greeting_with_a_number() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": 5}));
    fake
}

#[tokio::test]
async fn in_dev_a_response_against_the_schema_is_logged_as_a_warning() {
    let fake = greeting_with_a_number();
    let options = Options {
        dev: true,
        ..Options::default()
    };
    let app = serve_with(&fixture("handlers.ro"), &fake, options).await;
    let answer = get(&app.at("/greet")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, r#"{"message":5}"#);
    let trace = answer.header("x-trace-id").expect("a trace id");
    let warnings = app.logged("response does not match the schema: response.message");
    assert_eq!(warnings.len(), 1, "{:#?}", app.log.lines());
    assert!(
        warnings[0].contains(&format!("WARN  api:Greet trace={trace}")),
        "{}",
        warnings[0]
    );
}

#[tokio::test]
async fn in_dev_a_matching_response_logs_nothing() {
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": "hi"}));
    let options = Options {
        dev: true,
        ..Options::default()
    };
    let app = serve_with(&fixture("handlers.ro"), &fake, options).await;
    assert_eq!(get(&app.at("/greet")).send().await.status, 200);
    assert!(app.logged("does not match").is_empty(), "{:#?}", app.log.lines());
}

#[tokio::test]
async fn outside_dev_responses_are_not_checked() {
    let fake = greeting_with_a_number();
    let app = serve(&fixture("handlers.ro"), &fake).await;
    assert_eq!(get(&app.at("/greet")).send().await.status, 200);
    // The check runs before the answer is sent: nothing can come later.
    assert!(app.logged("does not match").is_empty(), "{:#?}", app.log.lines());
}
