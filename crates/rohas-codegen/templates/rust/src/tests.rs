//! Tests of the handlers with the generated harness: each handler runs as
//! the engine runs it (its parameters built from the call, its events
//! collected, its log lines kept), with no server. `rohas test` (or `cargo
//! test`) runs them.
//!
//! `Harness::new()` knows the schema: `call_<api>` calls an api with a typed
//! body, `publish` runs every handler of an event and what they trigger,
//! `run_cron`, `middleware` and `ws` run the others. Its clock is fake and
//! starts at 2025-01-01T00:00:00Z: handlers that read the time with
//! `rohas_runtime::now()` see it, and `h.clock().advance(..)` moves it.

use crate::generated::api::CreateUser::{CreateUserInput, User};
use crate::generated::testing::{Harness, Request};
use crate::generated::websockets::Chat::WebSocketMessage;

#[test]
fn health_answers_ok_at_the_harness_time() {
    let h = Harness::new();
    let answer = h.call_health().unwrap();
    assert_eq!(answer.value().status, "ok");
    assert_eq!(answer.value().timestamp, "2025-01-01T00:00:00+00:00");
}

#[test]
fn create_user_returns_the_user_and_publishes_user_created() {
    let h = Harness::new();
    let input = CreateUserInput {
        name: "Ada".into(),
        email: "ada@example.com".into(),
    };
    let created = h.call_create_user(input).unwrap();
    let user = created.value();
    assert_eq!(user.email, "ada@example.com");
    // `triggers: [UserCreated]`: the returned user is the payload.
    assert_eq!(created.events[0].event, "UserCreated");
    assert_eq!(created.events[0].payload_as::<User>(), *user);
    assert!(created.logs[0].message.starts_with("created user"));
}

#[test]
fn user_created_sends_the_welcome_email() {
    let h = Harness::new();
    let user = User {
        id: 7,
        email: "ada@example.com".into(),
        ..User::default()
    };
    let run = h.publish("UserCreated", &user).unwrap();
    assert_eq!(run.handlers(), ["event:UserCreated:send_welcome_email"]);
    assert!(run.all_ok());
    assert!(run.runs[0].logs[0].message.contains("ada@example.com"));
}

#[test]
fn daily_cleanup_runs() {
    let h = Harness::new();
    let run = h.run_cron("DailyCleanup").unwrap();
    assert!(run.is_ok(), "{:?}", run.result);
    assert_eq!(run.logs.len(), 1);
}

#[test]
fn a_chat_message_is_broadcast_stamped_with_the_time() {
    let h = Harness::new();
    let chat = h.ws("Chat").unwrap();
    let message = WebSocketMessage {
        user: "ada".into(),
        text: "hi".into(),
        sent_at: None,
    };
    let step = chat.message(&message).unwrap();
    // `broadcast: true`: the reply goes to every client.
    let reply: WebSocketMessage = serde_json::from_value(step.broadcast[0].clone()).unwrap();
    assert_eq!(reply.text, "hi");
    assert_eq!(reply.sent_at, Some(h.clock().now().into()));
}

#[test]
fn chat_connect_and_disconnect_are_logged() {
    let h = Harness::new();
    let chat = h.ws("Chat").unwrap();
    let connected = chat.connect().unwrap();
    let disconnected = chat.disconnect().unwrap();
    let id = chat.connection_id();
    assert!(connected.logs[0].message.contains(id));
    assert!(disconnected.logs[0].message.contains(id));
}

#[test]
fn auth_refuses_a_request_without_a_token() {
    let h = Harness::new();
    let run = h.middleware("auth", Request::new()).unwrap();
    assert_eq!(run.refused().map(|e| e.status), Some(401));
}

#[test]
fn auth_lets_a_request_with_a_token_through() {
    let h = Harness::new();
    let request = Request::new().header("authorization", "Bearer secret");
    assert!(h.middleware("auth", request).unwrap().allowed());
}
