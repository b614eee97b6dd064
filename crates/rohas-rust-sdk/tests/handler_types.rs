//! The runtime crate's types as a handler uses them: errors, `State` and
//! its effects, `Connection`, `HandlerContext`.

use rohas_rust_sdk::{
    Connection, HandlerContext, Host, HttpError, Level, LogRecord, RuntimeError, State,
    TriggeredEvent,
};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records everything a state sends while the handler runs.
#[derive(Default)]
struct RecordingHost {
    logs: Mutex<Vec<(Level, String, String, String)>>,
    broadcasts: Mutex<Vec<(String, Value)>>,
    sent: Mutex<Vec<(String, Value)>>,
}

impl Host for RecordingHost {
    fn log(&self, record: LogRecord<'_>) {
        self.logs.lock().unwrap().push((
            record.level,
            record.message.to_string(),
            record.handler.to_string(),
            record.trace_id.to_string(),
        ));
    }
    fn broadcast(&self, endpoint: &str, message: Value) {
        self.broadcasts
            .lock()
            .unwrap()
            .push((endpoint.to_string(), message));
    }
    fn send(&self, connection_id: &str, message: Value) {
        self.sent
            .lock()
            .unwrap()
            .push((connection_id.to_string(), message));
    }
}

fn parse_number(text: &str) -> rohas_rust_sdk::Result<i64> {
    // `?` on a std error type: the conversion the reference reqwest example needs.
    Ok(text.parse::<i64>()?)
}

fn parse_json(text: &str) -> rohas_rust_sdk::Result<Value> {
    Ok(serde_json::from_str(text)?)
}

#[test]
fn question_mark_converts_any_std_error_into_execution_failed() {
    assert_eq!(parse_number("42"), Ok(42));
    let err = parse_number("forty-two").unwrap_err();
    assert_eq!(
        err,
        RuntimeError::ExecutionFailed("invalid digit found in string".into())
    );
    assert_eq!(err.status(), 500);

    let err = parse_json("{").unwrap_err();
    assert!(
        matches!(&err, RuntimeError::ExecutionFailed(m) if m.contains("EOF")),
        "{err:?}"
    );
}

#[test]
fn error_chains_keep_their_sources() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("loading config failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let err: RuntimeError = Outer(std::io::Error::other("disk on fire")).into();
    assert_eq!(err.message(), "loading config failed: disk on fire");
}

#[test]
fn http_errors_keep_their_status() {
    let err: RuntimeError = HttpError::new(401, "missing token").into();
    assert_eq!(err.status(), 401);
    assert_eq!(err.message(), "missing token");
    assert_eq!(err.to_string(), "HTTP 401: missing token");
    assert_eq!(RuntimeError::http(404, "no user").status(), 404);
    assert_eq!(
        format!("{:?}", RuntimeError::ExecutionFailed("x".into())),
        "ExecutionFailed(\"x\")"
    );
}

#[test]
fn state_collects_effects_and_reports_live_calls_to_the_host() {
    let host = Arc::new(RecordingHost::default());
    let mut state = State::new("CreateUser", "trace-1", host.clone()).with_endpoint("Chat");

    let logger = state.logger();
    state
        .trigger_event("UserCreated", json!({"id": 1}))
        .unwrap();
    state.set_payload("Audit", json!({"v": 1})).unwrap();
    state.set_payload("Audit", json!({"v": 2})).unwrap();
    logger.info("created");
    state.logger().warning("careful");
    state.broadcast(json!({"text": "hi"})).unwrap();

    let effects = state.take_effects();
    assert_eq!(
        effects.triggered,
        vec![TriggeredEvent::new("UserCreated", json!({"id": 1}))]
    );
    assert_eq!(
        effects.payloads,
        vec![TriggeredEvent::new("Audit", json!({"v": 2}))]
    );
    assert!(state.effects().triggered.is_empty(), "take_effects empties");

    let logs = host.logs.lock().unwrap();
    assert_eq!(
        logs[0],
        (
            Level::Info,
            "created".into(),
            "CreateUser".into(),
            "trace-1".into()
        )
    );
    assert_eq!(logs[1].0, Level::Warn);
    assert_eq!(
        host.broadcasts.lock().unwrap().as_slice(),
        &[("Chat".to_string(), json!({"text": "hi"}))]
    );
}

#[test]
fn non_retryable_errors_answer_500_and_say_so() {
    let err = RuntimeError::non_retryable("order 7 has no lines");
    assert_eq!(
        err,
        RuntimeError::NonRetryable("order 7 has no lines".into())
    );
    assert_eq!((err.status(), err.message()), (500, "order 7 has no lines"));
    assert_eq!(err.to_string(), "order 7 has no lines");
    assert_eq!(format!("{err:?}"), "NonRetryable(\"order 7 has no lines\")");
    assert!(!err.is_retryable());
    assert!(RuntimeError::execution_failed("x").is_retryable());
    assert!(RuntimeError::http(404, "x").is_retryable());
}

#[test]
fn delayed_events_keep_their_place_and_delay() {
    let mut state = State::detached("Schedule");
    state.trigger_event("Now", json!(1)).unwrap();
    state
        .trigger_event_after("Later", json!({"n": 2}), Duration::from_millis(1500))
        .unwrap();
    state.trigger_event("AlsoNow", json!(3)).unwrap();
    let effects = state.take_effects();
    let delays: Vec<(&str, Option<Duration>)> = effects
        .triggered
        .iter()
        .map(|t| (t.event.as_str(), t.delay))
        .collect();
    assert_eq!(
        delays,
        [
            ("Now", None),
            ("Later", Some(Duration::from_millis(1500))),
            ("AlsoNow", None)
        ]
    );
    assert_eq!(effects.triggered[1].payload, json!({"n": 2}));
}

#[test]
fn broadcast_outside_a_ws_handler_says_what_to_use() {
    let state = State::detached("DailyCleanup");
    let err = state.broadcast(json!(1)).unwrap_err();
    assert!(err.message().contains("broadcast_to"), "{err}");
}

#[test]
fn unserializable_payloads_fail_the_call_not_the_process() {
    struct Broken;
    impl serde::Serialize for Broken {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no way"))
        }
    }
    let mut state = State::detached("x");
    let err = state.trigger_event("E", Broken).unwrap_err();
    assert!(err.message().contains("`E`") && err.message().contains("no way"));
    assert!(state.effects().triggered.is_empty());
}

#[test]
fn connection_send_goes_to_its_own_id() {
    let host = Arc::new(RecordingHost::default());
    let conn = Connection::new("c-7", host.clone());
    conn.send(json!({"hello": true})).unwrap();
    assert_eq!(conn.id(), "c-7");
    assert_eq!(
        host.sent.lock().unwrap().as_slice(),
        &[("c-7".to_string(), json!({"hello": true}))]
    );
}

#[test]
fn handler_context_reads_wire_json_and_headers() {
    let context: HandlerContext = serde_json::from_value(json!({
        "handler_name": "auth",
        "payload": {"name": "Ada"},
        "metadata": {"trace_id": "t-9", "headers": {"Authorization": "Bearer x"}}
    }))
    .unwrap();
    assert_eq!(context.query_params, Map::new());
    assert_eq!(context.trace_id(), Some("t-9"));
    assert_eq!(context.header("authorization"), Some("Bearer x"));
    assert_eq!(context.header("missing"), None);

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Input {
        name: String,
    }
    assert_eq!(
        context.payload_as::<Input>().unwrap(),
        Input { name: "Ada".into() }
    );
    assert!(context.payload_as::<Vec<i64>>().is_err());
}
