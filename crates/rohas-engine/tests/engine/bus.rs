//! The event bus on the in-memory adapter: retries, dead letters, the
//! non-retryable error, delays, the join of an event's handlers, replay
//! through the admin API, payload limits, and order with concurrency 1.
//! (The storage side of the contract is tested in rohas-events; the real
//! queue file and `kill -9` through the binary in rohas-cli.)

use crate::support::http::{get, post};
use crate::support::{eventually, failed, fixture, ok, ok_triggering, serve, serve_with, FakeRuntime, Options};
use rohas_config::Config;
use rohas_runtime::HandlerError;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn quick_retries() -> Options {
    let mut config = Config::default();
    config.events.retry_base_ms = 5;
    config.events.retry_max_ms = 20;
    Options {
        config,
        ..Options::default()
    }
}

async fn dead_letters(url: &str) -> Vec<Value> {
    let page = get(&format!("{url}/_rohas/dead-letters")).send().await.json();
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Wait until the engine has logged `n` dead letters (the line that names
/// the `rohas dlq show` command).
async fn dead_lettered(app: &crate::support::server::Served, n: usize) {
    eventually("dead letters logged", || {
        (app.logged("rohas dlq show").len() >= n).then_some(())
    })
    .await;
}

async fn publish(url: &str, event: &str, body: Value) -> crate::support::http::Answer {
    post(&format!("{url}/_rohas/events/{event}")).json(&body).send().await
}

#[tokio::test]
async fn a_failing_handler_is_retried_with_the_same_message_id() {
    let fake = FakeRuntime::new();
    let tries = Arc::new(AtomicU32::new(0));
    let counter = tries.clone();
    fake.on_call("event:Flaky:flaky", move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) < 2 {
            Err(failed("not yet"))
        } else {
            ok(Value::Null)
        }
    });
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    assert_eq!(
        publish(&app.url, "Flaky", json!({"payload": {"id": 1}})).await.status,
        202
    );
    let calls = fake.wait_calls("event:Flaky:flaky", 3).await;
    let attempts: Vec<_> = calls.iter().map(|c| c.metadata["attempt"].clone()).collect();
    assert_eq!(attempts, [json!(1), json!(2), json!(3)]);
    let ids: Vec<_> = calls.iter().map(|c| c.metadata["message_id"].clone()).collect();
    assert!(ids[0].is_string() && ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(calls[0].metadata["event"], "Flaky");
    assert_eq!(calls[0].metadata["source"], "admin");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        fake.calls_to("event:Flaky:flaky").len(),
        3,
        "no attempt after the success"
    );
    assert!(dead_letters(&app.url).await.is_empty());
}

#[tokio::test]
async fn the_last_failure_keeps_a_dead_letter_with_every_attempts_error() {
    let fake = FakeRuntime::new();
    let n = Arc::new(AtomicU32::new(0));
    let counter = n.clone();
    fake.on_call("event:Flaky:flaky", move |_| {
        Err(failed(&format!("boom {}", counter.fetch_add(1, Ordering::SeqCst) + 1)))
    });
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    publish(&app.url, "Flaky", json!({"payload": {"id": 2}})).await;
    let dead = eventually("a dead letter", || {
        app.log.lines().iter().find(|l| l.contains("rohas dlq show")).cloned()
    })
    .await;
    assert!(dead.contains("gave up after 3 attempt(s): boom 3"), "{dead}");
    let items = dead_letters(&app.url).await;
    assert_eq!(items.len(), 1);
    let errors: Vec<_> = items[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"].clone())
        .collect();
    assert_eq!(errors, [json!("boom 1"), json!("boom 2"), json!("boom 3")]);
    assert_eq!(items[0]["handler"], "event:Flaky:flaky");
    assert_eq!(items[0]["message"]["payload"], json!({"id": 2}));
    let trace = fake.calls_to("event:Flaky:flaky")[0].trace_id.clone();
    assert_eq!(items[0]["attempts"][0]["trace_id"], json!(trace));
    let one = get(&format!(
        "{}/_rohas/dead-letters/{}",
        app.url,
        items[0]["id"].as_str().unwrap()
    ))
    .send()
    .await;
    assert_eq!(one.json()["message"]["id"], items[0]["message"]["id"]);
}

#[tokio::test]
async fn a_non_retryable_error_is_a_dead_letter_at_once() {
    let fake = FakeRuntime::new();
    fake.fail(
        "event:Flaky:flaky",
        HandlerError::NonRetryable {
            message: "bad data".into(),
            stack: None,
        },
    );
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    publish(&app.url, "Flaky", json!({"payload": {"id": 3}})).await;
    dead_lettered(&app, 1).await;
    assert_eq!(fake.calls_to("event:Flaky:flaky").len(), 1);
    let items = dead_letters(&app.url).await;
    assert_eq!(items[0]["attempts"].as_array().unwrap().len(), 1);
    assert!(app
        .log
        .lines()
        .iter()
        .any(|l| l.contains("failed for good (non-retryable): bad data")));
}

#[tokio::test]
async fn replay_delivers_a_dead_letter_again_and_purge_deletes() {
    let fake = FakeRuntime::new();
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = broken.clone();
    fake.on_call("event:Flaky:flaky", move |_| {
        if flag.load(Ordering::SeqCst) {
            Err(failed("broken"))
        } else {
            ok(Value::Null)
        }
    });
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    publish(&app.url, "Flaky", json!({"payload": {"id": 4}})).await;
    publish(&app.url, "Flaky", json!({"payload": {"id": 5}})).await;
    dead_lettered(&app, 2).await;
    let items = dead_letters(&app.url).await;
    let id_of = |n: i64| {
        items.iter().find(|d| d["message"]["payload"]["id"] == n).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    broken.store(false, Ordering::SeqCst);
    let replayed = post(&format!("{}/_rohas/dead-letters/replay", app.url))
        .json(&json!({"ids": [id_of(4), "nope"]}))
        .send()
        .await;
    assert_eq!(replayed.json(), json!({"replayed": 1, "unknown": ["nope"]}));
    let calls = fake.wait_calls("event:Flaky:flaky", 7).await;
    let last = calls.last().unwrap();
    assert_eq!(last.metadata["attempt"], json!(1), "a replay is a first attempt again");
    assert_eq!(last.payload, json!({"id": 4}));
    let purged = post(&format!("{}/_rohas/dead-letters/purge", app.url))
        .json(&json!({"all": true}))
        .send()
        .await;
    assert_eq!(purged.json(), json!({"purged": 1}));
    assert!(dead_letters(&app.url).await.is_empty());
    let missing = get(&format!("{}/_rohas/dead-letters/{}", app.url, id_of(5)))
        .send()
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn one_handlers_failure_never_reruns_the_other_and_the_join_waits_for_both() {
    let fake = FakeRuntime::new();
    fake.answer("api:Place", json!({"id": 9}));
    fake.declare("event:OrderPlaced:ship");
    fake.fail("event:OrderPlaced:bill", failed("card declined"));
    fake.declare("event:OrderDone:notify");
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    assert_eq!(post(&app.at("/place")).json(&json!({"id": 9})).send().await.status, 200);
    dead_lettered(&app, 1).await;
    assert_eq!(fake.calls_to("event:OrderPlaced:bill").len(), 3);
    assert_eq!(fake.calls_to("event:OrderPlaced:ship").len(), 1, "ship ran once");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        fake.calls_to("event:OrderDone:notify").is_empty(),
        "OrderDone needs both handlers"
    );
}

#[tokio::test]
async fn an_events_triggers_are_published_once_all_its_handlers_succeeded() {
    let fake = FakeRuntime::new();
    fake.answer("api:Place", json!({"id": 10}));
    fake.declare("event:OrderPlaced:ship");
    fake.declare("event:OrderPlaced:bill");
    fake.declare("event:OrderDone:notify");
    let app = serve(&fixture("bus.ro"), &fake).await;
    post(&app.at("/place")).json(&json!({"id": 10})).send().await;
    let done = fake.wait_calls("event:OrderDone:notify", 1).await;
    assert_eq!(done[0].payload, json!({"id": 10}));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.calls_to("event:OrderDone:notify").len(), 1);
}

#[tokio::test]
async fn a_delayed_event_is_not_delivered_before_its_time() {
    let fake = FakeRuntime::new();
    fake.on_call("api:Place", |_| {
        let mut reply = ok_triggering(json!({"id": 11}), &[("Later", json!({"id": 11}))])?;
        reply.effects.triggered[0].delay = Some(Duration::from_millis(300));
        Ok(reply)
    });
    fake.declare("event:OrderPlaced:ship");
    fake.declare("event:OrderPlaced:bill");
    fake.declare("event:OrderDone:notify");
    fake.declare("event:Later:later");
    let app = serve(&fixture("bus.ro"), &fake).await;
    let sent = Instant::now();
    post(&app.at("/place")).json(&json!({"id": 11})).send().await;
    fake.wait_calls("event:Later:later", 1).await;
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "delivered after {:?}",
        sent.elapsed()
    );
}

#[tokio::test]
async fn with_concurrency_one_messages_arrive_in_publish_order() {
    let fake = FakeRuntime::new();
    fake.on("event:Sequence:one_by_one", |_, _| async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        ok(Value::Null)
    });
    let mut options = Options::default();
    options.config.events.handler_concurrency.insert("Sequence".into(), 1);
    let app = serve_with(&fixture("bus.ro"), &fake, options).await;
    for id in 0..30 {
        publish(&app.url, "Sequence", json!({"payload": {"id": id}})).await;
    }
    let calls = fake.wait_calls("event:Sequence:one_by_one", 30).await;
    let order: Vec<i64> = calls.iter().map(|c| c.payload["id"].as_i64().unwrap()).collect();
    assert_eq!(order, (0..30).collect::<Vec<_>>());
}

#[tokio::test]
async fn payloads_are_checked_and_bounded() {
    let fake = FakeRuntime::new();
    fake.on_call("api:Place", |_| {
        ok_triggering(json!({"id": 1}), &[("Later", json!({"id": 1, "pad": "x".repeat(300)}))])
    });
    fake.declare("event:Later:later");
    let mut options = Options::default();
    options.config.events.max_payload_bytes = 200;
    let app = serve_with(&fixture("bus.ro"), &fake, options).await;
    let answer = post(&app.at("/place")).json(&json!({"id": 1})).send().await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.error_message().contains("max_payload_bytes"),
        "{}",
        answer.error_message()
    );
    let big = publish(&app.url, "Later", json!({"payload": {"id": 1, "pad": "y".repeat(300)}})).await;
    assert_eq!(big.status, 413);
    let wrong = publish(&app.url, "Later", json!({"payload": {"id": "one"}})).await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.error_message().contains("payload.id"),
        "{}",
        wrong.error_message()
    );
    let unknown = publish(&app.url, "Nope", json!({"payload": {}})).await;
    assert_eq!(unknown.status, 404);
    assert!(fake.calls_to("event:Later:later").is_empty());
}

#[tokio::test]
async fn a_replayed_payload_the_schema_no_longer_accepts_is_dead_again() {
    let fake = FakeRuntime::new();
    fake.fail("event:Later:later", failed("down"));
    let app = serve_with(&fixture("bus.ro"), &fake, quick_retries()).await;
    publish(&app.url, "Later", json!({"payload": {"id": 12}})).await;
    dead_lettered(&app, 1).await;
    // The payload type gains a required field.
    app.reload(&fixture("bus.ro").replace(
        "type Order {\n  id: Int\n}",
        "type Order {\n  id: Int\n  sku: String\n}",
    ))
    .await;
    let replayed = post(&format!("{}/_rohas/dead-letters/replay", app.url))
        .json(&json!({"all": true}))
        .send()
        .await;
    assert_eq!(replayed.json()["replayed"], 1);
    let dead = eventually("dead again", || {
        app.log
            .lines()
            .iter()
            .find(|l| l.contains("payload no longer matches the schema"))
            .cloned()
    })
    .await;
    assert!(dead.contains("payload.sku"), "{dead}");
    assert_eq!(
        fake.calls_to("event:Later:later").len(),
        3,
        "the handler never saw the old payload again"
    );
}

#[tokio::test]
async fn queues_report_depth_per_handler() {
    let fake = FakeRuntime::new();
    fake.hang("event:Later:later");
    let app = serve(&fixture("bus.ro"), &fake).await;
    publish(&app.url, "Later", json!({"payload": {"id": 13}})).await;
    fake.wait_calls("event:Later:later", 1).await;
    let queues = get(&format!("{}/_rohas/queues", app.url)).send().await.json();
    assert_eq!(queues["adapter"], "memory");
    let later = queues["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["handler"] == "event:Later:later")
        .cloned()
        .unwrap();
    assert_eq!(
        (later["in_flight"].clone(), later["declared"].clone()),
        (json!(1), json!(true))
    );
}
