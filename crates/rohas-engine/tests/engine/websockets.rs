//! WebSockets: `onConnect` (and middlewares) decide the upgrade, messages
//! are checked against `message`, `onMessage`'s reply goes to the sender
//! (or to every client with `broadcast: true`), handlers reach clients
//! through the host, and `onDisconnect` runs when a client leaves.

use crate::support::http::get;
use crate::support::ws::{connect, try_connect};
use crate::support::{fixture, http_error, ok, serve, FakeRuntime};
use rohas_runtime::HandlerKind;
use serde_json::json;

fn hello() -> serde_json::Value {
    json!({"user": "ada", "text": "hello"})
}

#[tokio::test]
async fn on_connect_sees_the_new_connection() {
    let fake = FakeRuntime::new();
    fake.declare("ws_connect:Chat");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let _client = connect(&app.ws("/ws/chat?room=7")).await;
    let call = fake.only_call("ws_connect:Chat");
    assert_eq!(call.kind, HandlerKind::WsConnect);
    assert_eq!(call.endpoint.as_deref(), Some("Chat"));
    let connection = call.connection_id.clone().expect("a connection id");
    assert_eq!(call.metadata["connection_id"], connection.as_str());
    assert_eq!(call.metadata["ws"], "Chat");
    assert_eq!(serde_json::Value::Object(call.query_params), json!({"room": "7"}));
}

#[tokio::test]
async fn on_connect_raising_refuses_the_upgrade_with_its_status() {
    let fake = FakeRuntime::new();
    fake.fail("ws_connect:Chat", http_error(403, "not in this room"));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    assert_eq!(try_connect(&app.ws("/ws/chat")).await.err(), Some(403));
}

#[tokio::test]
async fn a_middleware_rejection_refuses_the_upgrade() {
    let fake = FakeRuntime::new();
    fake.fail("middleware:auth", http_error(401, "no token"));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    assert_eq!(try_connect(&app.ws("/ws/guarded")).await.err(), Some(401));
    assert_eq!(fake.only_call("middleware:auth").request["ws"], "Guarded");
}

#[tokio::test]
async fn a_plain_get_on_a_websocket_path_is_426() {
    let fake = FakeRuntime::new();
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let answer = get(&app.at("/ws/chat")).send().await;
    assert_eq!(answer.status, 426);
    assert!(answer.error_message().contains("WebSocket endpoint"), "{}", answer.body);
}

#[tokio::test]
async fn on_message_replies_to_the_sender() {
    let fake = FakeRuntime::new();
    fake.on_call("ws_message:Chat", |call| ok(json!({"echo": call.payload["text"]})));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&hello()).await;
    assert_eq!(client.next_json().await, json!({"echo": "hello"}));
    let call = fake.only_call("ws_message:Chat");
    assert_eq!(call.kind, HandlerKind::WsMessage);
    assert_eq!(call.payload, hello());
    assert_eq!(call.request, hello());
}

#[tokio::test]
async fn a_message_against_the_schema_gets_a_422_reply() {
    let fake = FakeRuntime::new();
    fake.declare("ws_message:Chat");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&json!({"user": 1})).await;
    let reply = client.next_json().await;
    assert_eq!(
        reply["error"]["message"], "message does not match the schema",
        "{reply}"
    );
    let mut paths: Vec<String> = reply["error"]["details"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["path"].as_str().unwrap_or_default().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["message.text", "message.user"], "{reply}");
    // Text that is not JSON is a string, which is not a ChatMessage either.
    client.send_text("hi").await;
    assert_eq!(
        client.next_json().await["error"]["message"],
        "message does not match the schema"
    );
    assert!(fake.calls_to("ws_message:Chat").is_empty());
}

#[tokio::test]
async fn a_failing_on_message_replies_with_an_error() {
    let fake = FakeRuntime::new();
    fake.fail("ws_message:Chat", http_error(409, "duplicate"));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&hello()).await;
    let reply = client.next_json().await;
    assert_eq!(reply["error"]["message"], "409: duplicate", "{reply}");
    // The connection stays usable.
    client.send_json(&hello()).await;
    assert_eq!(client.next_json().await["error"]["message"], "409: duplicate");
}

#[tokio::test]
async fn a_broadcasting_endpoint_sends_the_reply_to_every_client() {
    let fake = FakeRuntime::new();
    fake.declare("ws_connect:Room:join")
        .on_call("ws_message:Room:say", |call| ok(json!({"said": call.payload["text"]})));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut ada = connect(&app.ws("/ws/room")).await;
    let mut grace = connect(&app.ws("/ws/room")).await;
    ada.send_json(&hello()).await;
    assert_eq!(ada.next_json().await, json!({"said": "hello"}));
    assert_eq!(grace.next_json().await, json!({"said": "hello"}));
    assert_eq!(fake.calls_to("ws_connect:Room:join").len(), 2);
}

#[tokio::test]
async fn handlers_send_and_broadcast_through_the_host() {
    let fake = FakeRuntime::new();
    fake.on("ws_message:Chat", |call, host| async move {
        let endpoint = call.endpoint.clone().expect("an endpoint");
        let me = call.connection_id.clone().expect("a connection");
        host.broadcast(&endpoint, json!({"all": call.payload["text"]}));
        host.send(&me, json!({"only": "you"}));
        ok(json!(null))
    })
    .answer("ws_message:Room:say", json!("room only"));
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut ada = connect(&app.ws("/ws/chat")).await;
    let mut grace = connect(&app.ws("/ws/chat")).await;
    let mut elsewhere = connect(&app.ws("/ws/room")).await;
    ada.send_json(&hello()).await;
    assert_eq!(ada.next_json().await, json!({"all": "hello"}));
    assert_eq!(ada.next_json().await, json!({"only": "you"}));
    assert_eq!(grace.next_json().await, json!({"all": "hello"}));
    // Room's client is on another endpoint: its first message is its own
    // reply, so the broadcast (sent before) did not reach it.
    elsewhere.send_json(&hello()).await;
    assert_eq!(elsewhere.next_json().await, json!("room only"));
}

#[tokio::test]
async fn an_api_handler_can_broadcast_to_websocket_clients() {
    let fake = FakeRuntime::new();
    fake.on("api:Announce", |_, host| async move {
        host.broadcast("Chat", json!({"news": "deploy at noon"}));
        ok(json!("sent"))
    });
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    let answer = crate::support::http::post(&app.at("/announce")).send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(client.next_json().await, json!({"news": "deploy at noon"}));
}

#[tokio::test]
async fn on_disconnect_runs_when_the_client_closes() {
    let fake = FakeRuntime::new();
    fake.declare("ws_connect:Chat").declare("ws_disconnect:Chat");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let client = connect(&app.ws("/ws/chat")).await;
    let connected = fake.only_call("ws_connect:Chat").connection_id;
    client.close().await;
    let calls = fake.wait_calls("ws_disconnect:Chat", 1).await;
    assert_eq!(calls[0].kind, HandlerKind::WsDisconnect);
    assert_eq!(calls[0].connection_id, connected);
}

#[tokio::test]
async fn on_disconnect_runs_when_the_connection_just_drops() {
    let fake = FakeRuntime::new();
    fake.declare("ws_disconnect:Room:leave");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let client = connect(&app.ws("/ws/room")).await;
    drop(client);
    fake.wait_calls("ws_disconnect:Room:leave", 1).await;
}

/// A runtime that panics in `onMessage` (the real ones catch their
/// handlers' panics) loses the connection; `onDisconnect` should still run
/// and the connection leave the registry.
#[tokio::test]
async fn on_disconnect_runs_after_a_panicking_on_message() {
    let fake = FakeRuntime::new();
    fake.panic("ws_message:Chat", "the runtime has a bug")
        .declare("ws_disconnect:Chat");
    let app = serve(&fixture("websockets.ro"), &fake).await;
    let mut client = connect(&app.ws("/ws/chat")).await;
    client.send_json(&hello()).await;
    fake.wait_calls("ws_disconnect:Chat", 1).await;
}
