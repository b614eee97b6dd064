//! JSON bombs: input built to exhaust the parser (100,000 `[`, objects
//! nested as deep, a number of 400,000 digits, a string or a key count
//! that fills the body limit) sent to every kind of endpoint that parses
//! client JSON. Each gets a clear 4xx naming what is wrong, or is taken
//! when it is valid and within the limits; none overflows the stack of the
//! thread parsing it (which would abort the test binary) or hangs, and the
//! engine serves normally after.

use crate::support::http::post;
use crate::support::ws::connect;
use crate::support::{fixture, ok, serve, FakeRuntime};
use serde_json::{json, Value};

const DEEP: &str = "arrays and objects are nested more than 127 levels deep";

fn deep_bombs() -> Vec<(&'static str, String)> {
    vec![
        ("100,000 `[`", "[".repeat(100_000)),
        (
            "100,000 nested arrays, closed",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "50,000 nested objects",
            format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000)),
        ),
    ]
}

fn huge_numbers() -> Vec<(&'static str, String)> {
    vec![
        ("a 400,000-digit integer", format!("1{}", "0".repeat(400_000))),
        ("an exponent out of range", "1e999999".to_string()),
    ]
}

/// A string of ~900 KB and an object of 60,000 keys: valid, and within
/// the default 1 MiB body limit.
fn large_but_valid() -> Vec<(&'static str, String)> {
    let keys: Vec<String> = (0..60_000).map(|i| format!(r#""k{i}":{i}"#)).collect();
    vec![
        ("a 900 KB string", format!("\"{}\"", "a".repeat(900_000))),
        ("60,000 keys", format!("{{{}}}", keys.join(","))),
    ]
}

fn bomb_server_fake() -> std::sync::Arc<FakeRuntime> {
    let fake = FakeRuntime::new();
    fake.answer("api:Typed", json!("typed"))
        .answer("api:Free", json!("free"))
        .answer("api:Bare", json!("bare"))
        .on_call("ws_message:Feed", |_| ok(json!({"heard": true})))
        .on_call("ws_message:Things", |_| ok(json!({"heard": true})))
        .answer("event:Happened:note", Value::Null);
    fake
}

#[tokio::test]
async fn api_bodies_nested_too_deep_are_400_naming_the_depth() {
    let fake = bomb_server_fake();
    let app = serve(&fixture("json_bombs.ro"), &fake).await;
    for path in ["/typed", "/free", "/bare"] {
        for (what, body) in deep_bombs() {
            let answer = post(&app.at(path)).body(&body).send().await;
            assert_eq!(answer.status, 400, "{what} to {path}: {}", answer.body);
            let message = answer.error_message();
            assert!(
                message.starts_with("request body is not valid JSON: ") && message.contains(DEEP),
                "{what} to {path}: {message}"
            );
        }
    }
    assert!(fake.calls().is_empty(), "no handler ran");
    assert_eq!(
        post(&app.at("/typed"))
            .json(&json!({"name": "ada"}))
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn api_bodies_with_numbers_out_of_range_are_400() {
    let fake = bomb_server_fake();
    let app = serve(&fixture("json_bombs.ro"), &fake).await;
    for path in ["/typed", "/free", "/bare"] {
        for (what, body) in huge_numbers() {
            let answer = post(&app.at(path)).body(&body).send().await;
            assert_eq!(answer.status, 400, "{what} to {path}: {}", answer.body);
            assert!(
                answer.error_message().contains("number out of range"),
                "{what} to {path}: {}",
                answer.body
            );
        }
    }
    assert!(fake.calls().is_empty(), "no handler ran");
}

#[tokio::test]
async fn long_strings_and_many_keys_are_taken_within_the_body_limit_and_413_past_it() {
    let fake = bomb_server_fake();
    let app = serve(&fixture("json_bombs.ro"), &fake).await;
    for (what, body) in large_but_valid() {
        assert_eq!(post(&app.at("/free")).body(&body).send().await.status, 200, "{what}");
        assert_eq!(post(&app.at("/bare")).body(&body).send().await.status, 200, "{what}");
        // Not a `Thing`: the schema says what is wrong.
        let answer = post(&app.at("/typed")).body(&body).send().await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.body);
    }
    assert_eq!(
        fake.calls_to("api:Free")[1].payload.as_object().map(|o| o.len()),
        Some(60_000)
    );
    // Past the limit: the engine answers 413 from the head and closes
    // without reading the body, so a client writing all 2 MiB may meet a
    // closed socket first. Send the head and a little, then read.
    let address = app.url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(address).unwrap();
        let head = "POST /free HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                    content-length: 2097154\r\n\r\n\"aaaa";
        tcp.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 1048576 bytes"), "{answer}");
}

#[tokio::test]
async fn websocket_messages_nested_too_deep_get_an_error_reply_and_the_connection_goes_on() {
    let fake = bomb_server_fake();
    let app = serve(&fixture("json_bombs.ro"), &fake).await;
    for path in ["/ws/feed", "/ws/things"] {
        let mut client = connect(&app.ws(path)).await;
        for (what, text) in deep_bombs() {
            client.send_text(&text).await;
            let reply = client.next_json().await;
            let message = reply["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("message is not valid JSON: ") && message.contains(DEEP),
                "{what} to {path}: {reply}"
            );
        }
        client.send_json(&json!({"name": "ada"})).await;
        assert_eq!(client.next_json().await, json!({"heard": true}), "{path}");
    }
    // Only the two good messages reached a handler.
    assert_eq!(fake.calls_to("ws_message:Feed").len(), 1);
    assert_eq!(fake.calls_to("ws_message:Things").len(), 1);
}

#[tokio::test]
async fn event_payloads_through_the_admin_api_are_bounded_too() {
    let fake = bomb_server_fake();
    let app = serve(&fixture("json_bombs.ro"), &fake).await;
    let url = app.at("/_rohas/events/Happened");
    for (what, payload) in deep_bombs() {
        let body = format!(r#"{{"payload": {payload}}}"#);
        let answer = post(&url).body(&body).send().await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(answer.error_message().contains(DEEP), "{what}: {}", answer.body);
    }
    for (what, payload) in huge_numbers() {
        let body = format!(r#"{{"payload": {payload}}}"#);
        let answer = post(&url).body(&body).send().await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(
            answer.error_message().contains("number out of range"),
            "{what}: {}",
            answer.body
        );
    }
    for (what, body) in [("100,000 `[`", "[".repeat(100_000))] {
        let answer = post(&app.at("/_rohas/dead-letters/replay")).body(&body).send().await;
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(answer.error_message().contains(DEEP), "{what}: {}", answer.body);
    }
    let answer = post(&url).json(&json!({"payload": {"ok": true}})).send().await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    fake.wait_calls("event:Happened:note", 1).await;
    assert!(fake.calls_to("event:Happened:note").len() == 1);
}
