//! What one WebSocket client can cost the others (`[websocket]`): a
//! message over `max_message_bytes` closes its connection with 1009, a
//! client from which nothing comes is closed as idle while one that answers
//! pings stays, and a client that stops reading is disconnected once its queue
//! is full, without holding up a broadcast, and `onDisconnect` runs for
//! it. An open WebSocket holds its connection slot (`[server]
//! max_connections`) until it closes.

use crate::support::http::post;
use crate::support::raw::{Outcome, Raw};
use crate::support::ws::connect;
use crate::support::{fixture, ok, serve_with, within, FakeRuntime, Options, Served};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn serve_ws(fake: &Arc<FakeRuntime>, limits: impl FnOnce(&mut rohas_config::WebSocketConfig)) -> Served {
    let mut options = Options::default();
    limits(&mut options.config.websocket);
    serve_with(&fixture("websockets.ro"), fake, options).await
}

fn hello() -> serde_json::Value {
    json!({"user": "ada", "text": "hello"})
}

/// A message big enough that a few fill a socket's buffers.
fn big() -> serde_json::Value {
    json!({"pad": "x".repeat(256 * 1024)})
}

#[tokio::test]
async fn a_message_over_max_message_bytes_closes_the_connection_with_1009() {
    let fake = FakeRuntime::new();
    fake.on_call("ws_message:Chat", |call| ok(json!({"echo": call.payload["text"]})))
        .declare("ws_disconnect:Chat");
    let app = serve_ws(&fake, |w| w.max_message_bytes = 1024).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&hello()).await;
    assert_eq!(client.next_json().await, json!({"echo": "hello"}));

    client
        .send_json(&json!({"user": "ada", "text": "x".repeat(4096)}))
        .await;
    assert_eq!(client.next_close_code().await, Some(1009));
    fake.wait_calls("ws_disconnect:Chat", 1).await;
    assert_eq!(
        fake.calls_to("ws_message:Chat").len(),
        1,
        "the big message reached the handler"
    );
    assert!(!app.logged("max_message_bytes").is_empty());
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected_while_quiet() {
    let fake = FakeRuntime::new();
    fake.on_call("ws_message:Chat", |call| ok(json!({"echo": call.payload["text"]})))
        .declare("ws_disconnect:Chat");
    let app = serve_ws(&fake, |w| {
        w.ping_interval_ms = 40;
        w.idle_timeout_ms = 400;
    })
    .await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    // Quiet for well past the idle timeout, but reading: pings come and
    // are answered.
    let heard = client.listen(Duration::from_millis(1200)).await;
    assert!(heard.pings > 0, "no ping came");
    assert_eq!(heard.closed, None, "closed though it answered every ping");
    client.send_json(&hello()).await;
    assert_eq!(client.next_json().await, json!({"echo": "hello"}));
    assert!(fake.calls_to("ws_disconnect:Chat").is_empty());
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_as_idle() {
    let fake = FakeRuntime::new();
    fake.declare("ws_message:Chat").declare("ws_disconnect:Chat");
    // No ping before the idle timeout: nothing at all comes from the client.
    let app = serve_ws(&fake, |w| {
        w.ping_interval_ms = 600_000;
        w.idle_timeout_ms = 200;
    })
    .await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    fake.wait_calls("ws_disconnect:Chat", 1).await;
    assert_eq!(client.next_close_code().await, Some(1001));
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_on_disconnect_runs() {
    let fake = FakeRuntime::new();
    fake.on("ws_message:Chat", |call, host| async move {
        let me = call.connection_id.clone().expect("a connection");
        for _ in 0..200 {
            host.send(&me, big());
        }
        ok(json!(null))
    })
    .declare("ws_disconnect:Chat");
    let app = serve_ws(&fake, |w| w.max_queued_messages = 8).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&hello()).await;
    // The client never reads: 50 MB cannot all fit in the sockets' buffers.
    let gone = fake.wait_calls("ws_disconnect:Chat", 1).await;
    assert_eq!(gone[0].connection_id, fake.only_call("ws_message:Chat").connection_id);
    assert!(
        !app.logged("fell 8 messages behind").is_empty(),
        "{:?}",
        app.log.lines()
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_holds_up_no_broadcast_and_no_other_endpoint() {
    let fake = FakeRuntime::new();
    let slow_id = Arc::new(Mutex::new(String::new()));
    let flood = slow_id.clone();
    fake.declare("ws_connect:Chat")
        .declare("ws_disconnect:Chat")
        .declare("ws_connect:Room:join")
        .on_call("ws_message:Room:say", |call| ok(json!({"said": call.payload["text"]})))
        .on("api:Announce", move |_, host| {
            let slow = flood.lock().unwrap().clone();
            async move {
                for _ in 0..200 {
                    host.send(&slow, big());
                }
                host.broadcast("Chat", json!({"announced": true}));
                ok(json!("sent"))
            }
        });
    let app = serve_ws(&fake, |w| w.max_queued_messages = 8).await;
    let _slow = connect(&app.ws("/ws/chat")).await;
    let slow = fake.wait_calls("ws_connect:Chat", 1).await[0]
        .connection_id
        .clone()
        .expect("a connection id");
    *slow_id.lock().unwrap() = slow.clone();
    let mut reader = connect(&app.ws("/ws/chat")).await;
    let mut elsewhere = connect(&app.ws("/ws/room")).await;

    let answer = post(&app.at("/announce")).send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The client that reads gets the broadcast; the other endpoint answers.
    assert_eq!(reader.next_json().await, json!({"announced": true}));
    elsewhere.send_json(&hello()).await;
    assert_eq!(elsewhere.next_json().await, json!({"said": "hello"}));
    // The one that does not read is gone, and only it.
    let gone = fake.wait_calls("ws_disconnect:Chat", 1).await;
    assert_eq!(gone[0].connection_id.as_deref(), Some(slow.as_str()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.calls_to("ws_disconnect:Chat").len(), 1);
}

#[tokio::test]
async fn an_open_websocket_counts_towards_max_connections() {
    let fake = FakeRuntime::new();
    fake.declare("ws_disconnect:Chat").answer("api:Announce", json!("sent"));
    let mut options = Options::default();
    options.config.server.max_connections = 1;
    let app = serve_with(&fixture("websockets.ro"), &fake, options).await;
    let client = connect(&app.ws("/ws/chat")).await;

    let announce = b"POST /announce HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n";
    let mut raw = Raw::connect(app.addr).await;
    let _ = raw.try_send(announce).await;
    if let Outcome::Answer(answer) = raw.outcome().await {
        assert_eq!(answer.status, 503, "{answer:?}");
    }
    assert!(
        fake.calls_to("api:Announce").is_empty(),
        "a second connection was served"
    );

    // Once the WebSocket is gone, its slot is free.
    client.close().await;
    fake.wait_calls("ws_disconnect:Chat", 1).await;
    let answered = async {
        loop {
            let mut raw = Raw::connect(app.addr).await;
            if raw.try_send(announce).await {
                if let Outcome::Answer(answer) = raw.outcome().await {
                    if answer.status == 200 {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    within("an answer after the WebSocket closed", answered).await;
    assert_eq!(fake.calls_to("api:Announce").len(), 1);
}
