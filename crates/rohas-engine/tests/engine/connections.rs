//! What one client can hold: connections that send half a request header
//! (or nothing) are closed after `header_read_timeout_ms`, idle keep-alive
//! connections after `idle_timeout_ms`, and past `max_connections` a new
//! client is refused while the others keep being served. Raw sockets, as
//! an attacker would use them; the timeouts are tens or hundreds of
//! milliseconds so each test is quick, and no test asserts how long
//! anything took (only that it happened, or did not).

use crate::support::http::post;
use crate::support::raw::{Outcome, Raw};
use crate::support::{fixture, serve_with, FakeRuntime, Options, Served, PATIENCE};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// `/ping` answers `"pong"`, with `[server]` changed by `limits`.
async fn serve_limited(limits: impl FnOnce(&mut rohas_config::ServerConfig)) -> (Served, Arc<FakeRuntime>) {
    let fake = FakeRuntime::new();
    fake.answer("api:Ping", json!("pong"));
    let mut options = Options::default();
    limits(&mut options.config.server);
    let app = serve_with(&fixture("bodies.ro"), &fake, options).await;
    (app, fake)
}

const PING: &[u8] = b"POST /ping HTTP/1.1\r\nhost: test\r\ncontent-length: 2\r\n\r\n{}";

/// A `POST /ping` on a fresh connection; `true` when it is answered 200.
async fn ping_answered(app: &Served) -> bool {
    let mut raw = Raw::connect(app.addr).await;
    if !raw.try_send(PING).await {
        return false;
    }
    matches!(raw.outcome().await, Outcome::Answer(a) if a.status == 200)
}

/// Retry [`ping_answered`] until it is (bounded by the patience).
async fn eventually_answered(app: &Served, what: &str) {
    let until = tokio::time::Instant::now() + PATIENCE;
    while !ping_answered(app).await {
        assert!(tokio::time::Instant::now() < until, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn half_header_connections_are_closed_and_lock_nobody_out() {
    let (app, _fake) = serve_limited(|s| {
        s.header_read_timeout_ms = 150;
        s.max_connections = 8;
    })
    .await;
    // Every slot taken by a client that stops halfway through its headers,
    // and one more that sends nothing at all.
    let mut stalled = Vec::new();
    for _ in 0..7 {
        let mut raw = Raw::connect(app.addr).await;
        raw.send(b"GET /greet HTTP/1.1\r\nhost: test\r\nx-slow: ").await;
        stalled.push(raw);
    }
    stalled.push(Raw::connect(app.addr).await);
    for (i, raw) in stalled.iter_mut().enumerate() {
        assert!(
            raw.closed_by_server().await,
            "stalled connection {i} still open after {PATIENCE:?}"
        );
    }
    // Their slots are free again.
    eventually_answered(&app, "a normal request after the stalled ones were closed").await;
}

#[tokio::test]
async fn a_later_request_that_stops_halfway_is_closed_after_the_header_timeout() {
    // Idle keep-alive is allowed for long; a started request is not.
    let (app, _fake) = serve_limited(|s| {
        s.header_read_timeout_ms = 150;
        s.idle_timeout_ms = 600_000;
    })
    .await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(PING).await;
    assert_eq!(raw.answer().await.status, 200);
    raw.send(b"POST /ping HTTP/1.1\r\nhost: te").await;
    assert!(
        raw.closed_by_server().await,
        "half a second request held the connection"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let (app, _fake) = serve_limited(|s| {
        s.header_read_timeout_ms = 600_000;
        s.idle_timeout_ms = 150;
    })
    .await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(PING).await;
    let answer = raw.answer().await;
    assert_eq!(answer.status, 200);
    assert_ne!(
        answer.header("connection"),
        Some("close"),
        "the connection is kept alive"
    );
    assert!(
        raw.closed_by_server().await,
        "an idle keep-alive connection stayed open"
    );
}

#[tokio::test]
async fn keep_alive_outlives_the_header_timeout_between_requests() {
    // The header timeout bounds a request's headers, not the wait for the
    // next request (that is the idle timeout).
    let (app, fake) = serve_limited(|s| {
        s.header_read_timeout_ms = 50;
        s.idle_timeout_ms = 600_000;
    })
    .await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(PING).await;
    assert_eq!(raw.answer().await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    raw.send(PING).await;
    assert_eq!(raw.answer().await.status, 200, "the idle connection was closed");
    assert_eq!(fake.calls_to("api:Ping").len(), 2);
}

#[tokio::test]
async fn over_max_connections_a_new_client_is_refused_and_the_others_keep_working() {
    let (app, fake) = serve_limited(|s| s.max_connections = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut raw = Raw::connect(app.addr).await;
        raw.send(PING).await;
        assert_eq!(raw.answer().await.status, 200);
        open.push(raw);
    }
    let mut extra = Raw::connect(app.addr).await;
    let _ = extra.try_send(PING).await;
    match extra.outcome().await {
        Outcome::Answer(answer) => {
            assert_eq!(answer.status, 503, "{answer:?}");
            assert_eq!(answer.header("connection"), Some("close"));
            assert!(answer.body.contains("too many open connections"), "{}", answer.body);
        }
        // Closed before the refusal could be read (the client's request
        // was still unread): refused too.
        Outcome::Closed => {}
    }
    assert_eq!(
        fake.calls_to("api:Ping").len(),
        3,
        "the refused client reached a handler"
    );
    assert!(!app.logged("max_connections").is_empty(), "the cap is logged");

    // The connections already open are served as before.
    for raw in &mut open {
        raw.send(PING).await;
        assert_eq!(raw.answer().await.status, 200);
    }
    // Once they go, new clients get in.
    drop(open);
    eventually_answered(&app, "a new client after the open ones closed").await;
}

#[tokio::test]
async fn a_slow_upload_within_the_body_timeout_succeeds() {
    let (app, fake) = serve_limited(|s| s.body_read_timeout_ms = 10_000).await;
    let body = json!({"slow": "x".repeat(64)}).to_string();
    let mut raw = Raw::connect(app.addr).await;
    raw.send(
        format!(
            "POST /ping HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    for piece in body.as_bytes().chunks(16) {
        tokio::time::sleep(Duration::from_millis(30)).await;
        raw.send(piece).await;
    }
    let answer = raw.answer().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(fake.only_call("api:Ping").payload["slow"], "x".repeat(64));
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off_with_408() {
    let (app, fake) = serve_limited(|s| s.body_read_timeout_ms = 150).await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(b"POST /ping HTTP/1.1\r\nhost: test\r\ncontent-length: 100\r\n\r\n{\"a\": ")
        .await;
    let answer = raw.answer().await;
    assert_eq!(answer.status, 408, "{}", answer.body);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(answer.body.contains("body_read_timeout_ms"), "{}", answer.body);
    assert!(raw.closed_by_server().await);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_chunked_body_with_an_invalid_chunk_size_is_400() {
    let (app, fake) = serve_limited(|_| {}).await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(b"POST /ping HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        .await;
    let answer = raw.answer().await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("could not be read"), "{}", answer.body);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_still_413() {
    let (app, fake) = serve_limited(|s| s.max_body_bytes = 64).await;
    let mut raw = Raw::connect(app.addr).await;
    raw.send(b"POST /ping HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n")
        .await;
    let chunk = format!("{:x}\r\n{}\r\n", 50, "x".repeat(50));
    raw.send(chunk.as_bytes()).await;
    raw.send(chunk.as_bytes()).await;
    let answer = raw.answer().await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(fake.calls().is_empty());
    // The ordinary client path still works.
    assert_eq!(post(&app.at("/ping")).body("{}").send().await.status, 200);
}
