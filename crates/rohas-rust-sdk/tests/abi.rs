//! The library side of the C ABI, driven in-process the way the engine
//! drives a loaded library: init with a host table, list the handlers,
//! invoke, cancel, shut down. (One test: the library state is per process.)

use rohas_rust_sdk::abi::{self, HostVTable};
use rohas_rust_sdk::call::{needs, Call, HandlerFuture};
use rohas_rust_sdk::{Registry, RuntimeError};
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
        call.finish(
            Err::<(), _>(RuntimeError::http(418, "short and stout")),
            state,
        )
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
        state.set_payload("Odd \"name\"", json!([1])).unwrap();
        state.set_payload("Plain", json!({})).unwrap();
        call.finish(Ok::<_, RuntimeError>(()), state)
    })
}

fn doomed(call: Call) -> HandlerFuture {
    Box::pin(async move {
        let state = call.state();
        call.finish(
            Err::<(), _>(RuntimeError::non_retryable("order 7 has no lines")),
            state,
        )
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
    unsafe {
        abi::invoke(
            id,
            handler.as_ptr(),
            handler.len(),
            call.as_ptr(),
            call.len(),
        )
    }
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
    let served: Value =
        serde_json::from_slice(unsafe { std::slice::from_raw_parts(ptr, len) }).unwrap();
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
    assert_eq!(
        completion(2),
        (0, json!({"status": 418, "message": "short and stout"}))
    );

    // A panic is a failed call with its message and location; the library keeps serving.
    invoke(3, "api:Boom", &call_with(Value::Null));
    let (ok, body) = completion(3);
    assert_eq!(
        (ok, &body["message"]),
        (0, &json!("handler panicked: kaboom"))
    );
    assert!(
        body["stack"].as_str().unwrap().contains("tests/abi.rs"),
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
        ok == 0
            && body["message"]
                .as_str()
                .unwrap()
                .contains("not in this library"),
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
    assert_eq!(body["payloads"], json!({"Odd \"name\"": [1], "Plain": {}}));
    let read: rohas_runtime::reply::WireSuccess = serde_json::from_value(body).unwrap();
    let delays: Vec<_> = read
        .into_outcome()
        .effects
        .triggered
        .iter()
        .map(|t| t.delay)
        .collect();
    assert_eq!(
        delays,
        [
            None,
            Some(Duration::from_millis(1500)),
            Some(Duration::from_millis(1))
        ]
    );

    // A non-retryable error says so; the engine reads it as such.
    invoke(9, "event:Order:doomed", &call_with(Value::Null));
    let (ok, body) = completion(9);
    assert_eq!(
        (ok, &body),
        (
            0,
            &json!({"message": "order 7 has no lines", "retryable": false})
        )
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

/// A request read without its `payload` field (a generated event type's)
/// is said by a name of its own beside `request`: an engine that does not
/// know the name sends the whole request, as before.
#[test]
fn a_request_read_without_its_payload_says_so() {
    assert_eq!(
        needs::names(needs::REQUEST),
        ["request", "request_fields_only"]
    );
    assert_eq!(
        needs::names(needs::REQUEST | needs::REQUEST_PAYLOAD),
        ["request"]
    );
    // Any parameter that reads the whole request keeps `payload` coming.
    assert_eq!(
        needs::names(needs::REQUEST | needs::ALL),
        ["request", "payload", "context"]
    );
    assert!(needs::names(needs::REQUEST_PAYLOAD).is_empty());
}
