//! Graceful shutdown: after the signal, `serve` stops accepting, lets the
//! requests in flight get their answers, stops the runtime and returns.

use crate::support::http::get;
use crate::support::{fixture, serve, within, FakeRuntime, Gate};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn serve_returns_after_the_shutdown_signal_and_stops_the_runtime() {
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": "hi"}));
    let app = serve(&fixture("handlers.ro"), &fake).await;
    assert_eq!(get(&app.at("/greet")).send().await.status, 200);
    let url = app.at("/greet");
    app.stop().await.expect("serve ends without an error");
    assert_eq!(fake.shutdowns(), 1);
    assert!(get(&url).try_send().await.is_err(), "still answering after shutdown");
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_still_gets_its_answer() {
    let fake = FakeRuntime::new();
    let gate = Gate::new();
    fake.gated("api:Greet", &gate, json!({"message": "late but whole"}));
    let mut app = serve(&fixture("handlers.ro"), &fake).await;
    let in_flight = tokio::spawn(get(&app.at("/greet")).send());
    fake.wait_calls("api:Greet", 1).await;

    app.shutdown();
    // `serve` waits for the request: give it a moment to (wrongly) return.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.shutdowns(), 0, "the runtime stopped with a request in flight");

    gate.open();
    let answer = within("the request in flight", in_flight).await.expect("request task");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"message": "late but whole"}));
    app.exited().await.expect("serve ends without an error");
    assert_eq!(fake.shutdowns(), 1);
}

/// `Engine::serve` says it lets in-flight requests finish "up to `drain`";
/// a handler that never answers should not hold the process past it.
#[tokio::test]
async fn a_hung_request_does_not_hold_shutdown_past_the_drain_deadline() {
    let fake = FakeRuntime::new();
    fake.hang("api:Greet");
    let mut options = crate::support::Options {
        drain: Duration::from_millis(200),
        ..Default::default()
    };
    options.config.runtime.timeouts.api = 600.0;
    let mut app = crate::support::serve_with(&fixture("handlers.ro"), &fake, options).await;
    let _in_flight = tokio::spawn(get(&app.at("/greet")).try_send());
    fake.wait_calls("api:Greet", 1).await;
    app.shutdown();
    within("serve to return after the drain deadline", app.exited())
        .await
        .expect("serve ends without an error");
}

#[tokio::test]
async fn websocket_clients_get_a_close_frame_and_on_disconnect_runs() {
    let fake = FakeRuntime::new();
    fake.declare("ws_connect:Chat");
    fake.declare("ws_message:Chat");
    fake.declare("ws_disconnect:Chat");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = crate::support::ws::connect(&app.ws("/ws/chat")).await;
    fake.wait_calls("ws_connect:Chat", 1).await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(client.next_close_code().await, Some(1001), "going away");
    fake.wait_calls("ws_disconnect:Chat", 1).await;
    within("serve to return", stopping)
        .await
        .unwrap()
        .expect("serve ends without an error");
}

#[tokio::test]
async fn queued_events_finish_before_the_runtime_stops() {
    let fake = FakeRuntime::new();
    fake.on("event:Sequence:one_by_one", |_, _| async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        crate::support::ok(serde_json::Value::Null)
    });
    let mut options = crate::support::Options::default();
    options.config.events.handler_concurrency.insert("Sequence".into(), 1);
    let app = crate::support::serve_with(&fixture("bus.ro"), &fake, options).await;
    for id in 0..40 {
        crate::support::http::post(&format!("{}/_rohas/events/Sequence", app.url))
            .json(&json!({"payload": {"id": id}}))
            .send()
            .await;
    }
    app.stop().await.expect("serve ends without an error");
    assert_eq!(
        fake.calls_to("event:Sequence:one_by_one").len(),
        40,
        "every queued event ran"
    );
    assert_eq!(fake.shutdowns(), 1);
}
