//! CORS by default: the project's routes answer any origin with
//! `Access-Control-Allow-Origin: *` and never allow credentials, so a
//! page reads only what it could read without the user's cookies; the
//! engine's own APIs (admin, telemetry) carry no CORS at all, answer no
//! preflight, and refuse a request a page of another origin sent, which
//! would otherwise reach them from loopback without a key.

use crate::support::http::{get, post, request};
use crate::support::{fixture, ok, serve, FakeRuntime};
use serde_json::{json, Value};

const EVIL: &str = "http://evil.example";

fn fake() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.on_call("api:Place", |_| ok(json!({"id": 1})))
        .answer("event:OrderPlaced:bill", Value::Null)
        .answer("event:OrderPlaced:ship", Value::Null)
        .answer("event:OrderDone:notify", Value::Null);
    fake
}

#[tokio::test]
async fn project_routes_allow_any_origin_without_credentials() {
    let fake = fake();
    let app = serve(&fixture("bus.ro"), &fake).await;
    let preflight = request("OPTIONS", &app.at("/place"))
        .header("origin", EVIL)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(preflight.header("access-control-allow-credentials"), None);

    let answer = post(&app.at("/place"))
        .header("origin", EVIL)
        .header("cookie", "session=1")
        .json(&json!({"id": 1}))
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert_eq!(answer.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn the_engine_apis_answer_no_preflight_and_carry_no_cors() {
    let fake = fake();
    let app = serve(&fixture("bus.ro"), &fake).await;
    for path in [
        "/_rohas/events/OrderDone",
        "/_rohas/dead-letters/purge",
        "/metrics",
        "/telemetry/traces",
    ] {
        let preflight = request("OPTIONS", &app.at(path))
            .header("origin", EVIL)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await;
        assert_ne!(preflight.status, 204, "{path}: {}", preflight.body);
        assert_eq!(preflight.header("access-control-allow-origin"), None, "{path}");
        assert_eq!(preflight.header("access-control-allow-methods"), None, "{path}");
    }
    // The CLI's requests (no Origin) get in, and get no CORS either.
    for path in ["/_rohas/queues", "/metrics"] {
        let answer = get(&app.at(path)).send().await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.header("access-control-allow-origin"), None, "{path}");
    }
}

#[tokio::test]
async fn a_page_of_another_origin_cannot_drive_the_engine_apis_from_loopback() {
    let fake = fake();
    let app = serve(&fixture("bus.ro"), &fake).await;
    // A form post needs no preflight: it would have published the event.
    let answer = post(&app.at("/_rohas/events/OrderDone"))
        .header("origin", EVIL)
        .header("content-type", "text/plain")
        .body(r#"{"payload": {"id": 1}}"#)
        .send()
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    let message = answer.error_message();
    assert!(
        message.contains("other origins") && message.contains(EVIL) && message.contains("rohas CLI"),
        "{message}"
    );
    let answer = get(&app.at("/telemetry/traces")).header("origin", "null").send().await;
    assert_eq!(answer.status, 403, "{}", answer.body);

    // The same request without Origin (the CLI), or from the server's own
    // address, is taken.
    let own = app.url.clone();
    let answer = post(&app.at("/_rohas/events/OrderDone"))
        .header("origin", &own)
        .json(&json!({"payload": {"id": 2}}))
        .send()
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let answer = post(&app.at("/_rohas/events/OrderDone"))
        .json(&json!({"payload": {"id": 3}}))
        .send()
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let calls = fake.wait_calls("event:OrderDone:notify", 2).await;
    let mut ids: Vec<Value> = calls.iter().map(|c| c.payload["id"].clone()).collect();
    ids.sort_by_key(|v| v.as_i64());
    assert_eq!(ids, [json!(2), json!(3)], "the refused event was never published");
}

/// DNS rebinding: a page of evil.example whose name now points at
/// 127.0.0.1 sends `Host` and `Origin` that agree. Without the key, the
/// engine's APIs answer only a loopback name.
#[tokio::test]
async fn a_rebound_name_does_not_reach_the_engine_apis_without_the_key() {
    let fake = fake();
    let app = serve(&fixture("bus.ro"), &fake).await;
    let port = app.url.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let rebound = format!("evil.example:{port}");
    let answer = get(&app.at("/telemetry/traces"))
        .header("host", &rebound)
        .header("origin", &format!("http://{rebound}"))
        .send()
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    let message = answer.error_message();
    assert!(
        message.contains("localhost") && message.contains("api_key"),
        "{message}"
    );
    let answer = post(&app.at("/_rohas/events/OrderDone"))
        .header("host", &rebound)
        .json(&json!({"payload": {"id": 4}}))
        .send()
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    // By its loopback address it answers, as before.
    let answer = post(&app.at("/_rohas/events/OrderDone"))
        .json(&json!({"payload": {"id": 5}}))
        .send()
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let calls = fake.wait_calls("event:OrderDone:notify", 1).await;
    assert_eq!(
        calls[0].payload["id"],
        json!(5),
        "the rebound event was never published"
    );
}
