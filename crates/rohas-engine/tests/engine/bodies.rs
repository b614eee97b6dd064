//! Request bodies: the size limit (413), JSON (400), the schema (422 with
//! the field path), a missing body, and what reaches the handler.

use crate::support::http::post;
use crate::support::raw::{Outcome, Raw};
use crate::support::{fixture, serve, serve_with, FakeRuntime, Options};
use rohas_runtime::Needs;
use serde_json::json;

fn valid_user() -> serde_json::Value {
    json!({"name": "Ada", "email": "ada@example.com", "address": {"city": "London"}, "tags": ["a", "b"]})
}

fn users() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:CreateUser", json!({"created": true}))
        .answer("api:Ping", json!("pong"));
    fake
}

#[tokio::test]
async fn a_valid_body_reaches_the_handler_as_payload_and_request_body() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    let answer = post(&app.at("/users")).json(&valid_user()).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let call = fake.only_call("api:CreateUser");
    assert_eq!(call.payload, valid_user());
    assert_eq!(call.request["body"], valid_user());
    assert_eq!(call.metadata["headers"]["content-type"], "application/json");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    let answer = post(&app.at("/users")).body("{name: Ada").send().await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.error_message().starts_with("request body is not valid JSON"),
        "{}",
        answer.body
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_body_against_the_schema_is_422_naming_each_field() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    let mut body = valid_user();
    body["email"] = json!("not an email");
    body["address"] = json!({"city": 7});
    body["tags"] = json!(["ok", 3]);
    let answer = post(&app.at("/users")).json(&body).send().await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.error_message(), "request body does not match the schema");
    let details = answer.json()["error"]["details"].clone();
    let mut paths: Vec<String> = details
        .as_array()
        .expect("details is a list of problems")
        .iter()
        .map(|p| p["path"].as_str().unwrap_or_default().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["body.address.city", "body.email", "body.tags[1]"], "{details}");
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_missing_required_field_is_422_with_its_path() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    let mut body = valid_user();
    body.as_object_mut().unwrap().remove("name");
    let answer = post(&app.at("/users")).json(&body).send().await;
    assert_eq!(answer.status, 422);
    assert_eq!(
        answer.json()["error"]["details"][0]["path"],
        "body.name",
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_missing_body_where_one_is_declared_is_422() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    for body in ["", "  \n"] {
        let answer = post(&app.at("/users")).body(body).send().await;
        assert_eq!(answer.status, 422, "{body:?}");
        assert_eq!(answer.error_message(), "request body is missing");
        assert_eq!(answer.json()["error"]["details"][0]["path"], "body");
    }
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn an_api_without_a_declared_body_takes_none_and_any_json() {
    let fake = users();
    let app = serve(&fixture("bodies.ro"), &fake).await;
    assert_eq!(post(&app.at("/ping")).send().await.status, 200);
    assert_eq!(post(&app.at("/ping")).json(&json!([1, 2])).send().await.status, 200);
    let payloads: Vec<_> = fake.calls_to("api:Ping").into_iter().map(|c| c.payload).collect();
    assert_eq!(payloads, [json!(null), json!([1, 2])]);
}

#[tokio::test]
async fn a_body_over_max_body_bytes_is_413() {
    let fake = users();
    let mut options = Options::default();
    options.config.server.max_body_bytes = 64;
    let app = serve_with(&fixture("bodies.ro"), &fake, options).await;
    let big = json!({"name": "x".repeat(200)});
    let answer = post(&app.at("/users")).json(&big).send().await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.error_message(), "request body is larger than 64 bytes");
    assert!(fake.calls().is_empty());
    // A small body still goes through.
    assert_eq!(post(&app.at("/ping")).body("{}").send().await.status, 200);
}

/// A client that writes its whole body before reading (as most do) still
/// gets the 413 the head earned: the server reads and discards what is
/// still coming instead of closing on it, which would reset the connection
/// and lose the answer (the client saw "broken pipe" or "connection reset").
#[tokio::test]
async fn a_413_from_the_head_reaches_a_client_still_writing_its_body() {
    let fake = users();
    let mut options = Options::default();
    options.config.server.max_body_bytes = 64;
    let app = serve_with(&fixture("bodies.ro"), &fake, options).await;
    let body = format!(r#"{{"name":"{}"}}"#, "x".repeat(20_000));
    for round in 0..3 {
        let mut raw = Raw::connect(app.addr).await;
        let head = format!(
            "POST /users HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        raw.send(head.as_bytes()).await;
        // The answer is sent from the head; the body arrives after it.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // In two writes, as a buffered client writes: had the server closed,
        // the first would draw a reset and the second fail.
        let (first, second) = body.as_bytes().split_at(body.len() / 2);
        for part in [first, second] {
            assert!(raw.try_send(part).await, "round {round}: the server closed on the body");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        match raw.outcome().await {
            Outcome::Answer(answer) => assert_eq!(answer.status, 413, "round {round}: {}", answer.body),
            Outcome::Closed => panic!("round {round}: the connection was closed before the 413 was read"),
        }
    }
    assert!(fake.calls().is_empty());
}

/// A handler that reads its body alone gets the bytes that came, not a
/// parsed value (`validate_stream.rs`); one that reads nothing gets no
/// header or query map built.
#[tokio::test]
async fn what_is_built_follows_the_handlers_needs() {
    let fake = users();
    fake.set_needs(
        "api:CreateUser",
        Needs {
            payload: true,
            ..Needs::NONE
        },
    )
    .set_needs("api:Ping", Needs::NONE);
    let app = serve(&fixture("bodies.ro"), &fake).await;
    let text = valid_user().to_string();
    assert_eq!(post(&app.at("/users")).body(&text).send().await.status, 200);
    assert_eq!(post(&app.at("/ping?q=1")).body("{}").send().await.status, 200);

    let call = fake.only_call("api:CreateUser");
    assert_eq!(call.payload_json.as_deref(), Some(text.as_bytes()));
    assert_eq!(call.payload, json!(null));
    let call = fake.only_call("api:Ping");
    assert!(call.metadata.is_empty(), "{:?}", call.metadata);
    assert!(call.query_params.is_empty());
    assert_eq!(call.request, json!(null));
}
