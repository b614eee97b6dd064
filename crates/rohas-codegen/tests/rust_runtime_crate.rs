//! The thin `rohas-runtime` crate that codegen writes into Rust projects,
//! compiled here straight from its template and exercised as a handler and
//! the engine would use it.

// The template is formatted for user projects (rustfmt's default width),
// not for this workspace's width: keep `cargo fmt` out of it.
#[path = "../templates/rust/runtime/lib.rs"]
#[allow(dead_code, unused_imports)]
#[rustfmt::skip]
mod template_runtime;

use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use template_runtime::{
    Connection, HandlerContext, Host, HttpError, Level, LogRecord, RuntimeError, State, TriggeredEvent,
};

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
        self.broadcasts.lock().unwrap().push((endpoint.to_string(), message));
    }
    fn send(&self, connection_id: &str, message: Value) {
        self.sent.lock().unwrap().push((connection_id.to_string(), message));
    }
}

fn parse_number(text: &str) -> template_runtime::Result<i64> {
    // `?` on a std error type: the conversion the reference reqwest example needs.
    Ok(text.parse::<i64>()?)
}

fn parse_json(text: &str) -> template_runtime::Result<Value> {
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
    state.trigger_event("UserCreated", json!({"id": 1})).unwrap();
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
    assert_eq!(effects.payloads, vec![TriggeredEvent::new("Audit", json!({"v": 2}))]);
    assert!(state.effects().triggered.is_empty(), "take_effects empties");

    let logs = host.logs.lock().unwrap();
    assert_eq!(
        logs[0],
        (Level::Info, "created".into(), "CreateUser".into(), "trace-1".into())
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
    assert_eq!(err, RuntimeError::NonRetryable("order 7 has no lines".into()));
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
    let delays: Vec<(&str, Option<Duration>)> = effects.triggered.iter().map(|t| (t.event.as_str(), t.delay)).collect();
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
    assert_eq!(context.payload_as::<Input>().unwrap(), Input { name: "Ada".into() });
    assert!(context.payload_as::<Vec<i64>>().is_err());
}

/// The library side of the C ABI, driven in-process the way the engine
/// drives a loaded library: init with a host table, list the handlers,
/// invoke, cancel, shut down. (One test: the library state is per process.)
mod abi {
    use super::template_runtime::abi::{self, HostVTable};
    use super::template_runtime::call::{needs, Call, HandlerFuture};
    use super::template_runtime::{Registry, RuntimeError};
    use serde_json::{json, Value};
    use std::ffi::c_void;
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    static COMPLETIONS: Mutex<Vec<(u64, u8, Value)>> = Mutex::new(Vec::new());
    static ARRIVED: Condvar = Condvar::new();
    static LOGS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

    fn text(ptr: *const u8, len: usize) -> Value {
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        serde_json::from_slice(bytes).unwrap()
    }

    unsafe extern "C" fn complete(_: *const c_void, id: u64, ok: u8, json: *const u8, len: usize) {
        COMPLETIONS.lock().unwrap().push((id, ok, text(json, len)));
        ARRIVED.notify_all();
    }
    unsafe extern "C" fn log(_: *const c_void, json: *const u8, len: usize) {
        LOGS.lock().unwrap().push(text(json, len));
    }
    unsafe extern "C" fn ignore(_: *const c_void, _: *const u8, _: usize, _: *const u8, _: usize) {}

    fn completion(id: u64) -> (u8, Value) {
        let mut done = COMPLETIONS.lock().unwrap();
        loop {
            if let Some((_, ok, body)) = done.iter().find(|c| c.0 == id) {
                return (*ok, body.clone());
            }
            let (next, timeout) = ARRIVED.wait_timeout(done, Duration::from_secs(20)).unwrap();
            assert!(!timeout.timed_out(), "no completion for call {id}");
            done = next;
        }
    }

    fn hello(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let mut state = call.state();
            let body: Value = call.extract("body")?;
            state.trigger_event("Greeted", json!({"n": 1})).unwrap();
            state.set_payload("Audit", json!("a")).unwrap();
            state.logger().info("hello called");
            call.finish(Ok::<_, RuntimeError>(json!({"got": body})), state)
        })
    }

    fn teapot(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let state = call.state();
            call.finish(Err::<(), _>(RuntimeError::http(418, "short and stout")), state)
        })
    }

    fn boom(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let state = call.state();
            if call.payload().is_null() {
                panic!("kaboom");
            }
            call.finish((), state)
        })
    }

    /// Three events: at once, after 1.5 s, and after 1 ns (which the wire
    /// rounds up to 1 ms, never down to "at once").
    fn later(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let mut state = call.state();
            state.trigger_event("Now", json!(1)).unwrap();
            state
                .trigger_event_after("Later", json!({"n": 2}), Duration::from_millis(1500))
                .unwrap();
            state
                .trigger_event_after("Soon", json!(null), Duration::from_nanos(1))
                .unwrap();
            call.finish(Ok::<_, RuntimeError>(()), state)
        })
    }

    fn doomed(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let state = call.state();
            call.finish(Err::<(), _>(RuntimeError::non_retryable("order 7 has no lines")), state)
        })
    }

    fn forever(call: Call) -> HandlerFuture {
        Box::pin(async move {
            let state = call.state();
            std::future::pending::<()>().await;
            call.finish((), state)
        })
    }

    fn register(registry: &mut Registry) {
        registry.add("api:Hello", hello, needs::PAYLOAD);
        registry.add("api:Teapot", teapot, 0);
        registry.add("api:Boom", boom, needs::PAYLOAD);
        registry.add("api:Forever", forever, needs::ALL);
        registry.add("api:Later", later, 0);
        registry.add("event:Order:doomed", doomed, 0);
    }

    /// A call buffer as the engine writes it: trace id `t-1`, the payload,
    /// every other part left out.
    fn call_with(payload: Value) -> Vec<u8> {
        let mut out = Vec::new();
        let mut part = |bytes: Option<&[u8]>| match bytes {
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(bytes);
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        };
        let payload = payload.to_string();
        part(Some(b"t-1"));
        part(None);
        part(Some(payload.as_bytes()));
        for _ in 0..4 {
            part(None);
        }
        out
    }

    fn invoke(id: u64, handler: &str, call: &[u8]) {
        unsafe { abi::invoke(id, handler.as_ptr(), handler.len(), call.as_ptr(), call.len()) }
    }

    #[test]
    fn calls_complete_through_the_host_table() {
        let table = HostVTable {
            ctx: std::ptr::null(),
            complete,
            log,
            broadcast: ignore,
            send: ignore,
        };
        assert_eq!(unsafe { abi::init(&table, register) }, abi::INIT_OK);
        assert_eq!(unsafe { abi::init(&table, register) }, abi::INIT_TWICE);

        let mut len = 0;
        let ptr = unsafe { abi::handlers(&mut len) };
        let served: Value = serde_json::from_slice(unsafe { std::slice::from_raw_parts(ptr, len) }).unwrap();
        unsafe { abi::free(ptr, len) };
        assert_eq!(
            served,
            json!([
                {"id": "api:Hello", "needs": ["payload"]},
                {"id": "api:Teapot", "needs": []},
                {"id": "api:Boom", "needs": ["payload"]},
                {"id": "api:Forever", "needs": ["request", "payload", "context"]},
                {"id": "api:Later", "needs": []},
                {"id": "event:Order:doomed", "needs": []},
            ])
        );

        invoke(1, "api:Hello", &call_with(json!({"name": "Ada"})));
        assert_eq!(
            completion(1),
            (
                1,
                json!({"value": {"got": {"name": "Ada"}}, "triggered": [["Greeted", {"n": 1}]], "payloads": {"Audit": "a"}})
            )
        );
        assert_eq!(LOGS.lock().unwrap()[0]["message"], "hello called");
        assert_eq!(LOGS.lock().unwrap()[0]["trace_id"], "t-1");

        invoke(2, "api:Teapot", &call_with(Value::Null));
        assert_eq!(completion(2), (0, json!({"status": 418, "message": "short and stout"})));

        // A panic is a failed call with its message and location; the library keeps serving.
        invoke(3, "api:Boom", &call_with(Value::Null));
        let (ok, body) = completion(3);
        assert_eq!((ok, &body["message"]), (0, &json!("handler panicked: kaboom")));
        assert!(
            body["stack"].as_str().unwrap().contains("rust_runtime_crate.rs"),
            "{body}"
        );
        // No events asked for: the completion is the return value alone.
        invoke(4, "api:Boom", &call_with(json!(1)));
        assert_eq!(completion(4), (abi::COMPLETE_VALUE, Value::Null));

        // A cancelled call never completes; the next one does.
        invoke(5, "api:Forever", &call_with(Value::Null));
        assert_eq!(abi::cancel(5), 1, "a waiting call is stopped");
        assert_eq!(abi::cancel(5), 0, "nothing left to stop");
        invoke(6, "api:Nope", &call_with(Value::Null));
        let (ok, body) = completion(6);
        assert!(
            ok == 0 && body["message"].as_str().unwrap().contains("not in this library"),
            "{body}"
        );
        // A call buffer cut short fails that call, naming what is missing.
        invoke(7, "api:Hello", &call_with(json!(1))[..10]);
        let (ok, body) = completion(7);
        assert!(
            ok == 0 && body["message"].as_str().unwrap().contains("part 1"),
            "{body}"
        );
        assert!(COMPLETIONS.lock().unwrap().iter().all(|c| c.0 != 5));

        // Delays travel as whole milliseconds (rounded up), and the engine
        // reads them back as the delays of the events to publish.
        invoke(8, "api:Later", &call_with(Value::Null));
        let (ok, body) = completion(8);
        assert_eq!(ok, abi::COMPLETE_WITH_EFFECTS);
        assert_eq!(
            body["triggered"],
            json!([["Now", 1], ["Later", {"n": 2}, 1500], ["Soon", null, 1]])
        );
        let read: rohas_runtime::reply::WireSuccess = serde_json::from_value(body).unwrap();
        let delays: Vec<_> = read.into_outcome().effects.triggered.iter().map(|t| t.delay).collect();
        assert_eq!(
            delays,
            [None, Some(Duration::from_millis(1500)), Some(Duration::from_millis(1))]
        );

        // A non-retryable error says so; the engine reads it as such.
        invoke(9, "event:Order:doomed", &call_with(Value::Null));
        let (ok, body) = completion(9);
        assert_eq!(
            (ok, &body),
            (0, &json!({"message": "order 7 has no lines", "retryable": false}))
        );
        let read: rohas_runtime::reply::WireFailure = serde_json::from_value(body).unwrap();
        assert!(
            matches!(
                read.into_error(),
                rohas_runtime::HandlerError::NonRetryable { ref message, .. } if message == "order 7 has no lines"
            ),
            "not read as non-retryable"
        );

        abi::shutdown();
    }
}
