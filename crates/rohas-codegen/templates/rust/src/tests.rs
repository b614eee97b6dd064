//! Tests of the handlers, called as plain functions: no engine, no server.
//! `rohas test` (or `cargo test`) runs them.
//!
//! Each test builds what the engine would pass (generated types, a `State`
//! whose host records what the handler logs) and checks what comes back.
//! These handlers never wait on anything, so `run` polls each once; a
//! handler that awaits I/O needs an executor (add `tokio` as a
//! dev-dependency and use `#[tokio::test]`).

use crate::generated::api::CreateUser::CreateUserInput;
use crate::generated::events::UserCreated::UserCreated;
use crate::generated::handlers::{api, cron, events, middlewares, websockets};
use crate::generated::runtime::{HandlerContext, RuntimeError};
use crate::generated::state::State;
use crate::generated::websockets::Chat::WebSocketMessage;
use rohas_runtime::{Host, LogRecord};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Stands in for the engine: keeps the lines a handler logs.
#[derive(Default)]
struct RecordingHost {
    lines: Mutex<Vec<String>>,
}

impl Host for RecordingHost {
    fn log(&self, record: LogRecord<'_>) {
        let line = format!("{} {}", record.level.as_str(), record.message);
        self.lines.lock().unwrap().push(line);
    }

    fn broadcast(&self, _endpoint: &str, _message: Value) {}

    fn send(&self, _connection_id: &str, _message: Value) {}
}

fn state_for(handler: &str) -> (State, Arc<RecordingHost>) {
    let host = Arc::new(RecordingHost::default());
    (State::new(handler, "test-trace", host.clone()), host)
}

fn lines(host: &RecordingHost) -> Vec<String> {
    host.lines.lock().unwrap().clone()
}

/// Polls a handler that finishes without waiting.
fn run<F: Future>(handler: F) -> F::Output {
    let mut handler = std::pin::pin!(handler);
    match handler
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => {
            panic!("the handler waited: give the test an executor (see the module docs)")
        }
    }
}

#[test]
fn health_answers_ok() {
    let answer = run(api::health::handler()).unwrap();
    assert_eq!(answer.status, "ok");
    assert!(chrono::DateTime::parse_from_rfc3339(&answer.timestamp).is_ok());
}

#[test]
fn create_user_returns_the_user_and_logs_it() {
    let (mut state, host) = state_for("CreateUser");
    let input = CreateUserInput {
        name: "Ada".into(),
        email: "ada@example.com".into(),
    };
    let user = run(api::create_user::handler(input, &mut state)).unwrap();
    assert_eq!(
        (user.name.as_str(), user.email.as_str()),
        ("Ada", "ada@example.com")
    );
    assert!(user.id > 0);
    assert!(
        lines(&host)[0].starts_with("info created user"),
        "{:?}",
        lines(&host)
    );
}

#[test]
fn welcome_email_is_logged_for_the_user() {
    let (mut state, host) = state_for("send_welcome_email");
    let event = UserCreated {
        id: 7,
        email: "ada@example.com".into(),
        ..UserCreated::default()
    };
    run(events::send_welcome_email::handler(event, &mut state)).unwrap();
    assert!(
        lines(&host)[0].contains("ada@example.com"),
        "{:?}",
        lines(&host)
    );
}

#[test]
fn daily_cleanup_runs() {
    let (mut state, host) = state_for("DailyCleanup");
    run(cron::daily_cleanup::handler(&mut state)).unwrap();
    assert_eq!(lines(&host).len(), 1);
}

#[test]
fn a_chat_message_comes_back_stamped() {
    let message = WebSocketMessage {
        user: "ada".into(),
        text: "hi".into(),
        sent_at: None,
    };
    let reply = run(websockets::chat::on_message(message)).unwrap();
    assert_eq!((reply.user.as_str(), reply.text.as_str()), ("ada", "hi"));
    assert!(reply.sent_at.is_some());
}

#[test]
fn chat_connect_and_disconnect_are_logged() {
    let (mut state, host) = state_for("Chat");
    let context = HandlerContext {
        metadata: json!({"connection_id": "c1"}).as_object().unwrap().clone(),
        ..HandlerContext::default()
    };
    run(websockets::chat::on_connect(context.clone(), &mut state)).unwrap();
    run(websockets::chat::on_disconnect(context, &mut state)).unwrap();
    let said = lines(&host);
    assert!(
        said.len() == 2 && said.iter().all(|l| l.contains("c1")),
        "{said:?}"
    );
}

fn with_headers(headers: Value) -> HandlerContext {
    HandlerContext {
        metadata: json!({ "headers": headers }).as_object().unwrap().clone(),
        ..HandlerContext::default()
    }
}

#[test]
fn auth_refuses_a_request_without_a_token() {
    let (mut state, _) = state_for("auth");
    let refused = run(middlewares::auth::handler(
        with_headers(json!({})),
        &mut state,
    ));
    assert!(
        matches!(refused, Err(RuntimeError::Http { status: 401, .. })),
        "{refused:?}"
    );
}

#[test]
fn auth_lets_a_request_with_a_token_through() {
    let (mut state, _) = state_for("auth");
    let context = with_headers(json!({"authorization": "Bearer secret"}));
    assert!(run(middlewares::auth::handler(context, &mut state))
        .unwrap()
        .is_none());
}
