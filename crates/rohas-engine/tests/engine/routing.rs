//! Routing: what answers which method and path (404, 405 with `Allow`,
//! path and query parameters, HEAD), and the CORS headers and preflight.

use crate::support::http::{get, request};
use crate::support::{fixture, serve, serve_with, FakeRuntime, Options};
use serde_json::json;

fn routes() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:Hello", json!({"hello": "world"}))
        .answer("api:GetItem", json!({"item": true}))
        .answer("api:DeleteItem", json!(null))
        .answer("api:Me", json!({"me": true}))
        .answer("api:ItemPart", json!({"part": true}));
    fake
}

#[tokio::test]
async fn a_route_answers_with_the_handlers_json() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    let answer = get(&app.at("/hello")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.json(), json!({"hello": "world"}));
    assert_eq!(fake.only_call("api:Hello").kind, rohas_runtime::HandlerKind::Api);
}

#[tokio::test]
async fn an_unknown_path_is_404_naming_it() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    let answer = get(&app.at("/nowhere")).send().await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_message(), "no route for GET /nowhere");
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;

    let answer = request("PUT", &app.at("/items/7")).send().await;
    assert_eq!(answer.status, 405);
    let mut allowed: Vec<&str> = answer.header("allow").unwrap_or_default().split(", ").collect();
    allowed.sort();
    assert_eq!(allowed, ["DELETE", "GET"]);

    let answer = request("POST", &app.at("/hello")).send().await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET"));
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn path_and_query_parameters_reach_the_handler() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    let answer = get(&app.at("/items/42/parts/wheel?colour=red&n=2")).send().await;
    assert_eq!(answer.status, 200);

    let call = fake.only_call("api:ItemPart");
    assert_eq!(call.metadata["path_params"], json!({"id": "42", "part": "wheel"}));
    assert_eq!(call.request["id"], "42");
    assert_eq!(call.request["part"], "wheel");
    assert_eq!(call.request["query_params"], json!({"colour": "red", "n": "2"}));
    assert_eq!(
        serde_json::Value::Object(call.query_params),
        json!({"colour": "red", "n": "2"})
    );
    assert_eq!(call.metadata["api"], "ItemPart");
}

#[tokio::test]
async fn a_literal_segment_wins_over_a_parameter() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    assert_eq!(get(&app.at("/items/me")).send().await.json(), json!({"me": true}));
    assert_eq!(get(&app.at("/items/you")).send().await.json(), json!({"item": true}));
    assert_eq!(fake.calls_to("api:Me").len(), 1);
    assert_eq!(fake.calls_to("api:GetItem").len(), 1);
}

#[tokio::test]
async fn a_trailing_slash_finds_the_same_route() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    assert_eq!(get(&app.at("/hello/")).send().await.status, 200);
}

#[tokio::test]
async fn head_is_answered_by_the_get_route() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    let answer = request("HEAD", &app.at("/items/3")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        fake.only_call("api:GetItem").metadata["path_params"],
        json!({"id": "3"})
    );
}

#[tokio::test]
async fn a_preflight_is_answered_without_calling_a_handler() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    let answer = request("OPTIONS", &app.at("/hello"))
        .header("origin", "http://example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-custom")
        .send()
        .await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(answer.header("access-control-allow-headers"), Some("x-custom"));
    assert_eq!(answer.header("access-control-max-age"), Some("600"));
    let methods = answer.header("access-control-allow-methods").unwrap_or_default();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn every_answer_carries_cors_when_enabled() {
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    for path in ["/hello", "/nowhere"] {
        let answer = get(&app.at(path)).send().await;
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"), "{path}");
    }
}

#[tokio::test]
async fn without_cors_there_are_no_cors_headers_and_options_is_a_method_like_any() {
    let fake = routes();
    let mut options = Options::default();
    options.config.server.enable_cors = false;
    let app = serve_with(&fixture("routes.ro"), &fake, options).await;

    let answer = get(&app.at("/hello")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), None);

    let answer = request("OPTIONS", &app.at("/hello"))
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET"));
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

/// The engine serves no files, and a path that climbs out of a folder
/// (plain or percent-encoded, through a built-in prefix or not) reaches no
/// file and no handler: 404, never a file's contents. A future static
/// folder (the workbench) inherits this test.
#[tokio::test]
async fn paths_that_climb_out_reach_no_file() {
    use crate::support::raw::Raw;
    let fake = routes();
    let app = serve(&fixture("routes.ro"), &fake).await;
    for path in [
        "/workbench/../../etc/passwd",
        "/workbench/%2e%2e/%2e%2e/etc/passwd",
        "/workbench/..%2f..%2fetc%2fpasswd",
        "/workbench/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/../../../../etc/passwd",
        "/telemetry/..%2f..%2fetc%2fpasswd",
        "/_rohas/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/workbench/....//....//etc/passwd",
    ] {
        let mut raw = Raw::connect(app.addr).await;
        raw.send(format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").as_bytes())
            .await;
        let answer = raw.answer().await;
        assert!(
            matches!(answer.status, 400 | 404),
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        assert!(!answer.body.contains("root:"), "{path}: {}", answer.body);
    }
    assert!(fake.calls().is_empty(), "no handler ran");
}
