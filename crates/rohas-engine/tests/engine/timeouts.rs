//! Handler timeouts: a handler past its deadline is a 504 (and a warning);
//! the schema's `timeout:` wins over `[runtime.timeouts]`, which applies
//! otherwise. Handlers here hang or sleep far past or far short of the
//! limits, so no outcome depends on the machine's speed.

use crate::support::http::get;
use crate::support::{fixture, serve, serve_with, FakeRuntime, Options};
use serde_json::json;
use std::time::Duration;

/// `[runtime.timeouts] api = 0.1` (seconds).
fn short_api_timeout() -> Options {
    let mut options = Options::default();
    options.config.runtime.timeouts.api = 0.1;
    options
}

#[tokio::test]
async fn a_handler_past_its_schema_timeout_is_504() {
    let fake = FakeRuntime::new();
    fake.hang("api:Quick");
    let app = serve(&fixture("timeouts.ro"), &fake).await;
    let answer = get(&app.at("/quick")).send().await;
    assert_eq!(answer.status, 504);
    assert_eq!(answer.error_message(), "handler timed out");
    assert_eq!(
        app.logged("api:Quick timed out after 100ms").len(),
        1,
        "{:#?}",
        app.log.lines()
    );
}

#[tokio::test]
async fn the_configured_timeout_applies_when_the_schema_sets_none() {
    let fake = FakeRuntime::new();
    fake.hang("api:Plain");
    let app = serve_with(&fixture("timeouts.ro"), &fake, short_api_timeout()).await;
    assert_eq!(get(&app.at("/plain")).send().await.status, 504);
}

#[tokio::test]
async fn the_schema_timeout_wins_over_the_configured_one() {
    let fake = FakeRuntime::new();
    fake.sleep("api:Patient", Duration::from_millis(500), json!("done"));
    let app = serve_with(&fixture("timeouts.ro"), &fake, short_api_timeout()).await;
    let answer = get(&app.at("/patient")).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!("done"));
}

#[tokio::test]
async fn the_runtime_is_told_the_deadline() {
    let fake = FakeRuntime::new();
    fake.answer("api:Patient", json!(null));
    let app = serve(&fixture("timeouts.ro"), &fake).await;
    let before = std::time::Instant::now();
    get(&app.at("/patient")).send().await;
    let deadline = fake.only_call("api:Patient").deadline.expect("a deadline");
    // 60 s after the call was made: well past now, at most 60 s past `before`.
    assert!(deadline > before + Duration::from_secs(50), "{deadline:?}");
    assert!(deadline <= std::time::Instant::now() + Duration::from_secs(60));
}

/// A runtime that stops a handler itself (at `Invocation::deadline`) says
/// so with `HandlerError::Timeout`: the same 504.
#[tokio::test]
async fn a_timeout_reported_by_the_runtime_is_504() {
    let fake = FakeRuntime::new();
    fake.fail("api:Plain", rohas_runtime::HandlerError::Timeout);
    let app = serve(&fixture("timeouts.ro"), &fake).await;
    let answer = get(&app.at("/plain")).send().await;
    assert_eq!(answer.status, 504);
    assert_eq!(answer.error_message(), "handler timed out");
}
