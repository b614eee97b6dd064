//! Fairness between clients: one client holding as many connections as
//! `[server] max_connections_per_client` allows is refused more, while
//! another client keeps being served, and gets its slots back as its
//! connections close.
//!
//! The server listens on 127.0.0.1; the clients connect from 127.0.0.2
//! (the attacker) and 127.0.0.3 (everyone else), which Linux routes to
//! the loopback interface like 127.0.0.1, so the server sees two clients.
//! Where those addresses cannot be bound (macOS has only 127.0.0.1 unless
//! aliases are added), the tests say so and pass without checking.
//!
//! A connection counts as held once one request on it was answered (the
//! server accepted it); refusals are then certain, and nothing depends on
//! how long anything takes.

use crate::support::raw::{Outcome, Raw};
use crate::support::{fixture, serve_with, FakeRuntime, Options, Served, PATIENCE};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

const PING: &[u8] = b"POST /ping HTTP/1.1\r\nhost: test\r\ncontent-length: 2\r\n\r\n{}";

/// Whether this machine lets a client connect from the two addresses.
fn loopback_aliases() -> bool {
    for ip in [ATTACKER, OTHER] {
        if let Err(e) = std::net::TcpListener::bind((ip, 0)) {
            eprintln!(
                "skipped: cannot bind {ip} ({e}); these tests need 127.0.0.2 and 127.0.0.3 \
                 (on macOS: `sudo ifconfig lo0 alias 127.0.0.2 up`, and the same for 127.0.0.3)"
            );
            return false;
        }
    }
    true
}

/// `/ping` answers `"pong"`, with `[server]` changed by `limits`.
async fn serve_limited(limits: impl FnOnce(&mut rohas_config::ServerConfig)) -> (Served, Arc<FakeRuntime>) {
    let fake = FakeRuntime::new();
    fake.answer("api:Ping", json!("pong"));
    let mut options = Options::default();
    limits(&mut options.config.server);
    let app = serve_with(&fixture("bodies.ro"), &fake, options).await;
    (app, fake)
}

/// A connection from `from` with one request answered, kept alive. Retried
/// while the client's earlier connections, closed on the client's side,
/// may still be counted on the server's.
async fn held(app: &Served, from: IpAddr) -> Raw {
    let until = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut raw = Raw::connect_from(from, app.addr).await;
        if raw.try_send(PING).await {
            if let Outcome::Answer(answer) = raw.outcome().await {
                if answer.status == 200 {
                    return raw;
                }
                assert_eq!(answer.status, 503, "{answer:?}");
            }
        }
        assert!(
            tokio::time::Instant::now() < until,
            "waited {PATIENCE:?} for a connection from {from} to be served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A new connection from `from` is refused as over its client's limit.
async fn assert_refused_per_client(app: &Served, from: IpAddr) {
    let mut raw = Raw::connect_from(from, app.addr).await;
    let _ = raw.try_send(PING).await;
    match raw.outcome().await {
        Outcome::Answer(answer) => {
            assert_eq!(answer.status, 503, "{answer:?}");
            assert_eq!(answer.header("connection"), Some("close"));
            assert_eq!(answer.header("retry-after"), Some("1"));
            assert!(
                answer.body.contains("this client has too many open connections"),
                "{}",
                answer.body
            );
        }
        // Closed before the refusal could be read (the request was still
        // unread): refused too.
        Outcome::Closed => {}
    }
    assert!(raw.closed_by_server().await, "the refused connection was left open");
}

#[tokio::test]
async fn a_client_at_its_limit_is_refused_while_another_client_is_served() {
    if !loopback_aliases() {
        return;
    }
    let (app, fake) = serve_limited(|s| {
        s.max_connections = 20;
        s.max_connections_per_client = Some(4);
    })
    .await;
    let mut attacker = Vec::new();
    for _ in 0..4 {
        attacker.push(held(&app, ATTACKER).await);
    }
    for _ in 0..5 {
        assert_refused_per_client(&app, ATTACKER).await;
    }
    // Another client gets its own four, all served.
    let mut other = Vec::new();
    for _ in 0..4 {
        other.push(held(&app, OTHER).await);
    }
    // The attacker's connections already open are served as before.
    for raw in attacker.iter_mut().chain(other.iter_mut()) {
        raw.send(PING).await;
        assert_eq!(raw.answer().await.status, 200);
    }
    assert_eq!(
        fake.calls_to("api:Ping").len(),
        16,
        "a refused connection reached a handler"
    );
    // Five refusals, one line naming the client and the key.
    let lines = app.logged("max_connections_per_client");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("127.0.0.2"), "{}", lines[0]);
}

#[tokio::test]
async fn a_client_whose_connections_closed_connects_again() {
    if !loopback_aliases() {
        return;
    }
    let (app, fake) = serve_limited(|s| {
        s.max_connections = 20;
        s.max_connections_per_client = Some(3);
    })
    .await;
    // A count that leaked on close would lock the client out for good by
    // the second round.
    for round in 0..4 {
        let open: Vec<Raw> = {
            let mut open = Vec::new();
            for _ in 0..3 {
                open.push(held(&app, ATTACKER).await);
            }
            open
        };
        assert_refused_per_client(&app, ATTACKER).await;
        drop(open);
        let mut again = held(&app, ATTACKER).await;
        again.send(PING).await;
        assert_eq!(again.answer().await.status, 200, "round {round}");
    }
    assert!(fake.calls_to("api:Ping").len() >= 4 * 5);
}

#[tokio::test]
async fn connections_closed_by_the_header_timeout_give_their_slots_back() {
    if !loopback_aliases() {
        return;
    }
    let (app, _fake) = serve_limited(|s| {
        s.header_read_timeout_ms = 150;
        s.max_connections = 20;
        s.max_connections_per_client = Some(3);
    })
    .await;
    // The attack itself: connections that send half a header, or nothing.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut raw = Raw::connect_from(ATTACKER, app.addr).await;
        raw.send(b"GET /greet HTTP/1.1\r\nhost: test\r\nx-slow: ").await;
        stalled.push(raw);
    }
    stalled.push(Raw::connect_from(ATTACKER, app.addr).await);
    let _other = held(&app, OTHER).await;
    for (i, raw) in stalled.iter_mut().enumerate() {
        assert!(raw.closed_by_server().await, "stalled connection {i} still open");
    }
    // Closed by the server, not the client: the slots are free all the same.
    let mut fresh = Vec::new();
    for _ in 0..3 {
        fresh.push(held(&app, ATTACKER).await);
    }
}

#[tokio::test]
async fn zero_turns_the_per_client_limit_off_and_the_global_cap_still_holds() {
    let (app, _fake) = serve_limited(|s| {
        s.max_connections = 6;
        s.max_connections_per_client = Some(0);
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..6 {
        let mut raw = Raw::connect(app.addr).await;
        raw.send(PING).await;
        assert_eq!(raw.answer().await.status, 200);
        open.push(raw);
    }
    let mut extra = Raw::connect(app.addr).await;
    let _ = extra.try_send(PING).await;
    if let Outcome::Answer(answer) = extra.outcome().await {
        assert_eq!(answer.status, 503, "{answer:?}");
        assert!(
            answer.body.contains("the server has too many open connections"),
            "{}",
            answer.body
        );
    }
    assert!(app.logged("max_connections_per_client").is_empty());
    assert!(!app.logged("max_connections)").is_empty(), "the global cap is logged");
}
