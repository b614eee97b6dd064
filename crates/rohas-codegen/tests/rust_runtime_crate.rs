//! The thin `rohas-runtime` crate that codegen writes into Rust projects,
//! compiled here straight from its template and exercised as a handler and
//! the engine would use it.

#[path = "../templates/rust/runtime/lib.rs"]
#[allow(dead_code)]
mod rohas_runtime;

use rohas_runtime::{
    Connection, HandlerContext, Host, HttpError, Level, LogRecord, RuntimeError, State,
    TriggeredEvent,
};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

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

fn parse_number(text: &str) -> rohas_runtime::Result<i64> {
    // `?` on a std error type: the conversion the seed's reqwest example needs.
    Ok(text.parse::<i64>()?)
}

fn parse_json(text: &str) -> rohas_runtime::Result<Value> {
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
        vec![TriggeredEvent {
            event: "UserCreated".into(),
            payload: json!({"id": 1})
        }]
    );
    assert_eq!(
        effects.payloads,
        vec![TriggeredEvent {
            event: "Audit".into(),
            payload: json!({"v": 2})
        }]
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
