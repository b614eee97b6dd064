//! Middlewares: each runs before the handler, in the schema's order, with
//! the request context; it may pass (return nothing), return a modified
//! context that later middlewares and the handler see, or reject (its
//! status, and the handler is not called).

use crate::support::http::{get, post};
use crate::support::{fixture, http_error, ok, serve, FakeRuntime};
use serde_json::json;

#[tokio::test]
async fn a_passing_middleware_sees_the_request_context() {
    let fake = FakeRuntime::new();
    fake.declare("middleware:auth").answer("api:Private", json!("secret"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    let answer = get(&app.at("/private?page=2"))
        .header("authorization", "Bearer t")
        .header("x-trace-id", "mw-1")
        .send()
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!("secret"));

    let call = fake.only_call("middleware:auth");
    assert_eq!(call.kind, rohas_runtime::HandlerKind::Middleware);
    assert_eq!(call.trace_id, "mw-1");
    assert_eq!(call.request["api"], "Private");
    assert_eq!(call.request["trace_id"], "mw-1");
    assert_eq!(call.request["query_params"], json!({"page": "2"}));
    assert_eq!(call.request["headers"]["authorization"], "Bearer t");
    assert_eq!(call.metadata["headers"]["authorization"], "Bearer t");
    assert_eq!(fake.calls_to("api:Private").len(), 1);
}

#[tokio::test]
async fn a_rejection_answers_with_its_status_and_skips_the_handler() {
    let fake = FakeRuntime::new();
    fake.fail("middleware:auth", http_error(401, "no token"))
        .answer("api:Private", json!("secret"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    let answer = get(&app.at("/private")).send().await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.error_message(), "no token");
    assert!(fake.calls_to("api:Private").is_empty());
}

#[tokio::test]
async fn middlewares_run_in_order_and_each_sees_the_last_ones_changes() {
    let fake = FakeRuntime::new();
    fake.on_call("middleware:first", |call| {
        let mut payload = call.request["payload"].clone();
        payload["seen"] = json!(["first"]);
        ok(json!({"payload": payload, "query_params": {"added": "by first"}}))
    })
    .on_call("middleware:second", |call| {
        let mut payload = call.request["payload"].clone();
        payload["seen"]
            .as_array_mut()
            .expect("first's change")
            .push(json!("second"));
        let mut headers = call.request["headers"].clone();
        headers["x-user"] = json!("ada");
        ok(json!({"payload": payload, "headers": headers}))
    })
    .answer("api:Layered", json!("ok"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    let answer = post(&app.at("/layered")).json(&json!({"n": 1})).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let order: Vec<String> = fake.calls().iter().map(|c| c.handler.to_string()).collect();
    assert_eq!(order, ["middleware:first", "middleware:second", "api:Layered"]);
    let call = fake.only_call("api:Layered");
    assert_eq!(call.payload, json!({"n": 1, "seen": ["first", "second"]}));
    assert_eq!(call.request["body"], call.payload);
    assert_eq!(
        serde_json::Value::Object(call.query_params),
        json!({"added": "by first"})
    );
    assert_eq!(call.metadata["headers"]["x-user"], "ada");
}

#[tokio::test]
async fn a_context_in_handler_context_shape_passes_its_headers_on() {
    let fake = FakeRuntime::new();
    fake.answer("middleware:auth", json!({"metadata": {"headers": {"x-user": "grace"}}}))
        .answer("api:Private", json!("secret"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    assert_eq!(get(&app.at("/private")).send().await.status, 200);
    assert_eq!(
        fake.only_call("api:Private").metadata["headers"],
        json!({"x-user": "grace"})
    );
}

#[tokio::test]
async fn a_rejection_early_in_the_chain_stops_it() {
    let fake = FakeRuntime::new();
    fake.fail("middleware:first", http_error(429, "slow down"))
        .declare("middleware:second")
        .answer("api:Layered", json!("ok"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    let answer = post(&app.at("/layered")).send().await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.error_message(), "slow down");
    assert!(fake.calls_to("middleware:second").is_empty());
    assert!(fake.calls_to("api:Layered").is_empty());
}

#[tokio::test]
async fn a_middleware_failure_is_500() {
    let fake = FakeRuntime::new();
    fake.fail("middleware:auth", crate::support::failed("database down"))
        .answer("api:Private", json!("secret"));
    let app = serve(&fixture("middlewares.ro"), &fake).await;
    let answer = get(&app.at("/private")).send().await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.error_message(), "database down");
    assert!(fake.calls_to("api:Private").is_empty());
}
