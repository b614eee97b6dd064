//! What the engine records: spans and their parent links (request →
//! handler, publish → delivery → handler, one delivery span per attempt),
//! trace context in and out (`traceparent`), metrics, and the telemetry
//! API's routes and refusals. The store is a real SQLite file in a
//! temporary folder; the store itself is tested in rohas-telemetry.

use crate::support::http::{get, post};
use crate::support::{eventually, failed, fixture, http_error, ok, serve, serve_with, FakeRuntime, Options};
use rohas_config::Config;
use rohas_engine::rohas_telemetry::{
    self as telemetry, Reader, SpanKind, SpanStatus, Telemetry, TraceParent, TraceTree,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

struct Recorded {
    telemetry: Telemetry,
    reader: Reader,
    _dir: tempfile::TempDir,
}

fn recorder() -> Recorded {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::start(telemetry::Options {
        folder: Some(dir.path().to_path_buf()),
        ..telemetry::Options::default()
    });
    Recorded {
        reader: Reader::in_folder(dir.path()),
        telemetry,
        _dir: dir,
    }
}

/// The trace once it has `spans` spans (the writer stores in batches).
async fn trace_with(r: &Recorded, trace_id: &str, spans: usize) -> TraceTree {
    eventually(&format!("{spans} spans in trace {trace_id}"), || {
        r.telemetry.flush(std::time::Duration::from_secs(5));
        r.reader.trace(trace_id).ok().filter(|t| t.spans.len() >= spans)
    })
    .await
}

fn options(r: &Recorded) -> Options {
    let mut config = Config::default();
    config.events.retry_base_ms = 5;
    config.events.retry_max_ms = 10;
    Options {
        config,
        telemetry: r.telemetry.clone(),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_request_and_the_event_it_published_are_one_trace() {
    let r = recorder();
    let fake = FakeRuntime::new();
    fake.answer("api:Register", json!({"userId": 7}));
    fake.answer("event:UserSignedUp:welcome", json!(null));
    let app = serve_with(&fixture("handlers.ro"), &fake, options(&r)).await;
    let answer = post(&app.at("/register")).send().await;
    assert_eq!(answer.status, 200);
    let trace_id = answer.header("x-trace-id").unwrap().to_string();
    let header = TraceParent::parse(answer.header("traceparent").expect("a traceparent answer")).unwrap();
    assert_eq!(header.trace_id, trace_id);

    let tree = trace_with(&r, &trace_id, 5).await;
    let shape: Vec<(usize, SpanKind, &str)> = tree
        .spans
        .iter()
        .map(|n| (n.depth, n.span.kind, &*n.span.name))
        .collect();
    assert_eq!(
        shape,
        [
            (0, SpanKind::Request, "POST /register"),
            (1, SpanKind::Handler, "api:Register"),
            (1, SpanKind::Publish, "publish UserSignedUp"),
            (2, SpanKind::Delivery, "UserSignedUp → welcome"),
            (3, SpanKind::Handler, "event:UserSignedUp:welcome"),
        ]
    );
    let root = &tree.spans[0].span;
    assert_eq!(root.span_id, header.parent, "the answer names the request span");
    assert_eq!(root.status_code, Some(200));
    assert_eq!(tree.spans[3].span.attempt, Some(1));
    assert!(tree.spans[3].span.message_id.is_some());
    for n in &tree.spans {
        assert!(n.span.duration_ns > 0, "{:?}", n.span);
    }
    let handler = &tree.spans[1].span;
    assert!(handler.start_ns >= root.start_ns && handler.end_ns() <= root.end_ns());
}

#[tokio::test]
async fn a_failed_attempt_and_its_retry_are_two_delivery_spans() {
    let r = recorder();
    let fake = FakeRuntime::new();
    fake.answer("api:Register", json!({"userId": 7}));
    let tries = Arc::new(AtomicUsize::new(0));
    let seen = tries.clone();
    fake.on_call("event:UserSignedUp:welcome", move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(failed("smtp down"))
        } else {
            ok(json!(null))
        }
    });
    let app = serve_with(&fixture("handlers.ro"), &fake, options(&r)).await;
    let answer = post(&app.at("/register")).send().await;
    let trace_id = answer.header("x-trace-id").unwrap().to_string();
    let tree = trace_with(&r, &trace_id, 7).await;
    let deliveries: Vec<_> = tree
        .spans
        .iter()
        .filter(|n| n.span.kind == SpanKind::Delivery)
        .collect();
    assert_eq!(deliveries.len(), 2);
    let (first, second) = if deliveries[0].span.attempt == Some(1) {
        (&deliveries[0].span, &deliveries[1].span)
    } else {
        (&deliveries[1].span, &deliveries[0].span)
    };
    assert_eq!((first.attempt, first.status), (Some(1), SpanStatus::Error));
    assert_eq!(first.error.as_deref(), Some("smtp down"));
    assert_eq!((second.attempt, second.status), (Some(2), SpanStatus::Ok));
    assert_eq!(first.parent_id, second.parent_id, "both attempts hang off the publish");
    let metrics = eventually("the metrics to count both attempts", || {
        r.telemetry.flush(std::time::Duration::from_secs(5));
        let text = r.telemetry.prometheus();
        text.contains(r#"rohas_events_failed_total{event="UserSignedUp",handler="event:UserSignedUp:welcome"} 1"#)
            .then_some(text)
    })
    .await;
    assert!(metrics
        .contains(r#"rohas_events_delivered_total{event="UserSignedUp",handler="event:UserSignedUp:welcome"} 1"#));
    assert!(metrics.contains(r#"rohas_events_published_total{event="UserSignedUp"} 1"#));
}

#[tokio::test]
async fn an_incoming_traceparent_is_continued_and_a_malformed_one_ignored() {
    let r = recorder();
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": "hi"}));
    let app = serve_with(&fixture("handlers.ro"), &fake, options(&r)).await;
    let given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = get(&app.at("/greet")).header("traceparent", given).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-trace-id"), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    let tree = trace_with(&r, "4bf92f3577b34da6a3ce929d0e0e4736", 2).await;
    let root = &tree.spans[0].span;
    assert_eq!(
        root.parent_id.map(|p| p.to_string()).as_deref(),
        Some("00f067aa0ba902b7")
    );
    assert!(root.remote_parent);
    let listed = r.reader.traces(&Default::default()).unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|t| t.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"),
        "a remote parent's child is listed as a trace"
    );

    for hostile in [
        "00-ZZZ-00f067aa0ba902b7-01",
        &format!("00-{}-00f067aa0ba902b7-01", "a".repeat(5000)),
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ] {
        let answer = get(&app.at("/greet")).header("traceparent", hostile).send().await;
        assert_eq!(answer.status, 200);
        let id = answer.header("x-trace-id").unwrap();
        assert_ne!(id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(id.len(), 32);
    }
}

#[tokio::test]
async fn a_client_error_the_handler_chose_is_not_a_failed_span() {
    let r = recorder();
    let fake = FakeRuntime::new();
    fake.fail("api:Greet", http_error(404, "no such greeting"));
    fake.fail("api:Fails", failed("boom"));
    let app = serve_with(&fixture("handlers.ro"), &fake, options(&r)).await;
    let missing = get(&app.at("/greet")).send().await;
    let boom = get(&app.at("/fails")).send().await;
    let missing = trace_with(&r, missing.header("x-trace-id").unwrap(), 2).await;
    let boom = trace_with(&r, boom.header("x-trace-id").unwrap(), 2).await;
    assert_eq!(missing.spans[1].span.status, SpanStatus::Ok);
    assert_eq!(missing.spans[1].span.status_code, Some(404));
    assert_eq!(missing.spans[0].span.status_code, Some(404));
    assert_eq!(boom.spans[0].span.status, SpanStatus::Error);
    assert_eq!(boom.spans[1].span.error.as_deref(), Some("boom"));
}

#[tokio::test]
async fn the_telemetry_api_answers_pages_metrics_and_names_bad_parameters() {
    let r = recorder();
    let fake = FakeRuntime::new();
    fake.answer("api:Greet", json!({"message": "hi"}));
    let app = serve_with(&fixture("handlers.ro"), &fake, options(&r)).await;
    for _ in 0..3 {
        assert_eq!(get(&app.at("/greet")).send().await.status, 200);
    }
    let page = eventually("three traces listed", || {
        r.telemetry.flush(std::time::Duration::from_secs(5));
        r.reader.traces(&Default::default()).ok().filter(|p| p.items.len() >= 3)
    })
    .await;
    let answer = get(&app.at("/telemetry/traces?limit=2")).send().await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert_eq!(body["items"][0]["trace_id"], json!(page.items[0].trace_id));
    let next = body["next"].as_str().expect("a cursor");
    let rest = get(&app.at(&format!("/telemetry/traces?limit=2&after={next}")))
        .send()
        .await
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let one = get(&app.at(&format!("/telemetry/traces/{}", page.items[0].trace_id)))
        .send()
        .await
        .json();
    assert_eq!(one["spans"][0]["kind"], "request");

    let bad = get(&app.at("/telemetry/traces?kind=nope")).send().await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.error_message().contains("unknown kind `nope`"),
        "{}",
        bad.error_message()
    );
    let unknown = get(&app.at("/telemetry/traces/ffffffffffffffffffffffffffffffff"))
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(get(&app.at("/telemetry/nothing")).send().await.status, 404);
    assert_eq!(post(&app.at("/telemetry/traces")).send().await.status, 405);

    let metrics = get(&app.at("/metrics")).send().await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = metrics.body.clone();
    assert!(text.contains("# TYPE rohas_handler_calls_total counter"), "{text}");
    assert!(text.contains("rohas_websocket_connections 0"), "{text}");
    assert!(text.contains("process_resident_memory_bytes"), "{text}");
    assert!(
        text.contains("# TYPE rohas_fake_calls_total counter"),
        "the runtime's own figures: {text}"
    );
    assert!(text.contains("rohas_fake_calls_total 3"), "{text}");
}

#[tokio::test]
async fn a_route_of_the_schema_wins_over_a_built_in_path() {
    let fake = FakeRuntime::new();
    fake.answer("api:MyMetrics", json!({"mine": true}));
    let schema = r#"
api MyMetrics {
  method: GET
  path: "/metrics"
  response: Json
}
"#;
    let app = serve(schema, &fake).await;
    let answer = get(&app.at("/metrics")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"mine": true}));
}
