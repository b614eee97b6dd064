//! An API handler's events leave only after it succeeds, each payload
//! checked against its event first. (The bus that carries them is tested
//! with the bus; these look only at what the handler's outcome publishes,
//! through `support::events`.)

use crate::support::events::{listen, published};
use crate::support::http::post;
use crate::support::{fixture, ok_triggering, serve, FakeRuntime};
use serde_json::json;

#[tokio::test]
async fn an_apis_triggers_publish_its_return_value() {
    let fake = FakeRuntime::new();
    fake.answer("api:Register", json!({"userId": 7}));
    listen(&fake, "UserSignedUp", "welcome");
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = post(&app.at("/register")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        published(&fake, "UserSignedUp", "welcome", 1).await,
        [json!({"userId": 7})]
    );
    // Published with the request's trace id.
    let trace = answer.header("x-trace-id").expect("a trace id");
    assert_eq!(fake.calls_to("event:UserSignedUp:welcome")[0].trace_id, trace);
}

#[tokio::test]
async fn an_event_payload_against_its_schema_fails_the_request() {
    let fake = FakeRuntime::new();
    fake.on_call("api:Register", |_| {
        ok_triggering(json!({"userId": 1}), &[("UserSignedUp", json!({"userId": "seven"}))])
    });
    listen(&fake, "UserSignedUp", "welcome");
    let app = serve(&fixture("handlers.ro"), &fake).await;
    let answer = post(&app.at("/register")).send().await;
    assert_eq!(answer.status, 500);
    let message = answer.error_message();
    assert!(
        message.starts_with("invalid payload for event `UserSignedUp`: payload.userId"),
        "{message}"
    );
}
