//! The runtime on its own, without the engine: compile a tiny project, start
//! real Node.js workers, call a handler many times at once, check what the
//! generated `State` and `NonRetryableError` put on the wire, and (ignored by
//! default, run with `--ignored --nocapture`) measure the per-call cost of the
//! bridge: frame, socket, worker dispatch and back.

use rohas_runtime::{HandlerError, HandlerKind, HandlerSpec, Host, Invocation, LogRecord, Runtime, RuntimeOptions};
use rohas_runtime_node::NodeRuntime;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Remembers what handlers sent through it.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<String>>,
}

impl Host for Recorder {
    fn log(&self, record: LogRecord) {
        self.sent
            .lock()
            .unwrap()
            .push(format!("log {} {} {}", record.level, record.handler, record.message));
    }
    fn broadcast(&self, endpoint: &str, message: Value) {
        self.sent
            .lock()
            .unwrap()
            .push(format!("broadcast {endpoint} {message}"));
    }
    fn send(&self, connection_id: &str, message: Value) {
        self.sent
            .lock()
            .unwrap()
            .push(format!("send {connection_id} {message}"));
    }
}

fn project(workers: usize) -> (tempfile::TempDir, Arc<NodeRuntime>, Vec<HandlerSpec>) {
    project_with(workers, Arc::new(Recorder::default()))
}

fn project_with(workers: usize, host: Arc<Recorder>) -> (tempfile::TempDir, Arc<NodeRuntime>, Vec<HandlerSpec>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("src/handlers/api");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("echo.ts"),
        "export async function handler(req: EchoRequest): Promise<unknown> {\n  return { got: req.body, q: req.queryParams };\n}\n",
    )
    .unwrap();
    let ws = tmp.path().join("src/handlers/websockets");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("chat.ts"),
        "export function onMessage(msg: WebSocketMessage, conn: Connection, state: State) {\n  console.log(\"got\", msg.text);\n  conn.send({ echo: msg.text });\n  state.broadcast({ all: msg.text });\n  return { reply: true };\n}\n",
    )
    .unwrap();
    let runtime = NodeRuntime::start(RuntimeOptions {
        project_dir: tmp.path().to_path_buf(),
        dev: false,
        workers,
        max_heap_mb: None,
        host,
    })
    .unwrap();
    let specs = vec![
        HandlerSpec {
            id: rohas_runtime::HandlerId::api("Echo"),
            kind: HandlerKind::Api,
            name: "Echo".into(),
            files: vec![PathBuf::from("src/handlers/api/echo.ts")],
            functions: vec!["handler".into()],
            request_type: Some("EchoRequest".into()),
            body_type: None,
            message_type: None,
            event_type: None,
            optional: false,
        },
        HandlerSpec {
            id: rohas_runtime::HandlerId::ws(rohas_runtime::HandlerKind::WsMessage, "Chat", None),
            kind: HandlerKind::WsMessage,
            name: "Chat".into(),
            files: vec![PathBuf::from("src/handlers/websockets/chat.ts")],
            functions: vec!["on_message".into(), "onMessage".into()],
            request_type: None,
            body_type: None,
            message_type: Some("ChatMessage".into()),
            event_type: None,
            optional: true,
        },
    ];
    (tmp, runtime, specs)
}

fn call(n: u64) -> Invocation {
    let mut query = Map::new();
    query.insert("n".into(), json!(n.to_string()));
    Invocation {
        handler: rohas_runtime::HandlerId::api("Echo"),
        kind: HandlerKind::Api,
        trace_id: format!("trace-{n}"),
        request: json!({"query_params": query, "body": {"n": n}, "headers": {}}),
        payload: json!({"n": n}),
        payload_json: None,
        request_json: None,
        query_params: query,
        metadata: Map::new(),
        connection_id: None,
        endpoint: None,
        deadline: None,
        needs: rohas_runtime::Needs::ALL,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight_each_get_their_own_answer() {
    let (_tmp, runtime, specs) = project(2);
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    let calls = (0..500u64).map(|n| {
        let runtime = runtime.clone();
        tokio::spawn(async move { (n, runtime.invoke(call(n)).await) })
    });
    for task in calls.collect::<Vec<_>>() {
        let (n, outcome) = task.await.unwrap();
        let outcome = outcome.unwrap();
        assert_eq!(outcome.value, json!({"got": {"n": n}, "q": {"n": n.to_string()}}));
    }
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_larger_than_one_read_arrive_whole_both_ways() {
    let (_tmp, runtime, specs) = project(1);
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    // Several socket reads each way, and calls in flight around it.
    let big: String = (0..700_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let mut large = call(1);
    large.request["body"] = json!({"text": big, "snow": "❄"});
    let small = (2..40u64).map(|n| {
        let runtime = runtime.clone();
        tokio::spawn(async move { (n, runtime.invoke(call(n)).await) })
    });
    let small: Vec<_> = small.collect();
    let outcome = runtime.invoke(large).await.unwrap();
    assert_eq!(
        outcome.value,
        json!({"got": {"text": big, "snow": "❄"}, "q": {"n": "1"}})
    );
    for task in small {
        let (n, outcome) = task.await.unwrap();
        assert_eq!(
            outcome.unwrap().value,
            json!({"got": {"n": n}, "q": {"n": n.to_string()}})
        );
    }
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_handlers_get_a_connection_and_state_that_reach_the_host() {
    let host = Arc::new(Recorder::default());
    let (_tmp, runtime, specs) = project_with(1, host.clone());
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    let mut message = call(1);
    message.handler = rohas_runtime::HandlerId::ws(rohas_runtime::HandlerKind::WsMessage, "Chat", None);
    message.kind = HandlerKind::WsMessage;
    message.request = json!({"user": "a", "text": "hi"});
    message.connection_id = Some("conn-1".into());
    message.endpoint = Some("Chat".into());
    let outcome = runtime.invoke(message).await.unwrap();
    assert_eq!(outcome.value, json!({"reply": true}));
    let sent = host.sent.lock().unwrap().clone();
    assert!(sent.contains(&"log info Chat got hi".to_string()), "{sent:?}");
    assert!(sent.contains(&r#"send conn-1 {"echo":"hi"}"#.to_string()), "{sent:?}");
    assert!(sent.contains(&r#"broadcast Chat {"all":"hi"}"#.to_string()), "{sent:?}");
    runtime.shutdown().await;
}

/// An api spec for `src/handlers/api/<file>.ts`'s `handler`.
fn api_spec(name: &str, file: &str) -> HandlerSpec {
    HandlerSpec {
        id: rohas_runtime::HandlerId::api(name),
        kind: HandlerKind::Api,
        name: name.into(),
        files: vec![PathBuf::from(format!("src/handlers/api/{file}.ts"))],
        functions: vec!["handler".into()],
        request_type: Some(format!("{name}Request")),
        body_type: None,
        message_type: None,
        event_type: None,
        optional: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_and_non_retryable_errors_cross_the_wire() {
    let (tmp, runtime, _) = project(1);
    // The generated support modules, so the worker uses the real `State`
    // and handlers import the real `NonRetryableError`.
    for file in rohas_codegen::typescript::generate(&rohas_schema::Schema::default()) {
        let path = tmp.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.contents).unwrap();
    }
    let api = tmp.path().join("src/handlers/api");
    std::fs::write(
        api.join("later.ts"),
        r#"import { State } from "../../generated/state";

export function handler(req: LaterRequest, state: State): null {
  state.triggerEvent("Now", { n: 1 });
  state.triggerEvent("Later", { n: 2 }, { delay: 1500 });
  state.triggerEvent("Soon", null, { delay: 0.25 });
  state.triggerEvent("Plain", 3, {});
  return null;
}
"#,
    )
    .unwrap();
    std::fs::write(
        api.join("negative.ts"),
        r#"import { State } from "../../generated/state";

export function handler(req: NegativeRequest, state: State): null {
  state.triggerEvent("Back", null, { delay: -1 });
  return null;
}
"#,
    )
    .unwrap();
    std::fs::write(
        api.join("doomed.ts"),
        r#"import { NonRetryableError } from "../../generated/runtime";

class OrderInvalid extends NonRetryableError {
  constructor(message: string) {
    super(message);
    this.name = "OrderInvalid";
  }
}

export async function handler(req: DoomedRequest): Promise<null> {
  if (req.queryParams.sub === "yes") {
    throw new OrderInvalid("order 7 has no lines");
  }
  throw new NonRetryableError("card declined");
}
"#,
    )
    .unwrap();
    std::fs::write(
        api.join("plain.ts"),
        "export function handler(req: PlainRequest): null {\n  throw new Error(\"try again\");\n}\n",
    )
    .unwrap();
    let specs = [
        api_spec("Later", "later"),
        api_spec("Negative", "negative"),
        api_spec("Doomed", "doomed"),
        api_spec("Plain", "plain"),
    ];
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    let call_of = |handler: &str, sub: &str| {
        let mut call = call(1);
        call.handler = rohas_runtime::HandlerId::api(handler);
        call.request["query_params"] = json!({"sub": sub});
        call
    };

    let outcome = runtime.invoke(call_of("Later", "")).await.unwrap();
    let sent: Vec<_> = outcome
        .effects
        .triggered
        .iter()
        .map(|t| (t.event.as_str(), t.payload_value(), t.delay))
        .collect();
    assert_eq!(
        sent,
        [
            ("Now", json!({"n": 1}), None),
            ("Later", json!({"n": 2}), Some(Duration::from_millis(1500))),
            // A fraction of a millisecond is rounded up, never down to "at once".
            ("Soon", Value::Null, Some(Duration::from_millis(1))),
            ("Plain", json!(3), None),
        ]
    );

    match runtime.invoke(call_of("Negative", "")).await {
        Err(HandlerError::Failed { message, .. }) => {
            assert!(
                message.contains("RangeError") && message.contains("`Back`"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    for (sub, expected) in [
        ("", "NonRetryableError: card declined"),
        ("yes", "OrderInvalid: order 7 has no lines"),
    ] {
        match runtime.invoke(call_of("Doomed", sub)).await {
            Err(HandlerError::NonRetryable { message, .. }) => assert_eq!(message, expected),
            other => panic!("{sub:?}: {other:?}"),
        }
    }
    assert!(matches!(
        runtime.invoke(call_of("Plain", "")).await,
        Err(HandlerError::Failed { .. })
    ));
    runtime.shutdown().await;
}

/// A `DateTime` in an api's typed query (`query:`), inline or in a named
/// record, reaches the handler as a `Date`, as one in the body does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_query_dates_are_revived() {
    let (tmp, runtime, _) = project(1);
    let schema = tmp.path().join("schema/app.ro");
    std::fs::create_dir_all(schema.parent().unwrap()).unwrap();
    std::fs::write(
        &schema,
        r#"input Window { since DateTime  days Int @default(7) }
api Inline { method: GET  path: "/inline"  query: { after: DateTime?, n: Int? }  response: Json }
api Named { method: GET  path: "/named"  query: Window  response: Json }
"#,
    )
    .unwrap();
    let checked = rohas_schema::check_path(&schema).unwrap();
    let rendered = checked.render(false);
    let parsed = checked.schema.unwrap_or_else(|| panic!("{rendered}"));
    for file in rohas_codegen::typescript::generate(&parsed) {
        let path = tmp.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.contents).unwrap();
    }
    let api = tmp.path().join("src/handlers/api");
    std::fs::write(
        api.join("inline.ts"),
        r#"import type { InlineRequest } from "../../generated/api/Inline";

export function handler(req: InlineRequest): unknown {
  const after = req.query.after;
  return { date: after instanceof Date, year: after?.getUTCFullYear(), n: req.query.n, raw: req.queryParams };
}
"#,
    )
    .unwrap();
    std::fs::write(
        api.join("named.ts"),
        r#"import type { NamedRequest } from "../../generated/api/Named";

export function handler(req: NamedRequest): unknown {
  return { date: req.query.since instanceof Date, days: req.query.days ?? null };
}
"#,
    )
    .unwrap();
    let specs = [api_spec("Inline", "inline"), api_spec("Named", "named")];
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    let call_of = |handler: &str, query: Value| {
        let mut call = call(1);
        call.handler = rohas_runtime::HandlerId::api(handler);
        call.request["query"] = query;
        call.request["query_params"] = json!({"n": "3"});
        call
    };
    let outcome = runtime
        .invoke(call_of("Inline", json!({"after": "2024-05-01T10:00:00Z", "n": 3})))
        .await
        .unwrap();
    assert_eq!(
        outcome.value,
        json!({"date": true, "year": 2024, "n": 3, "raw": {"n": "3"}})
    );
    // Absent optional: nothing to revive.
    let outcome = runtime.invoke(call_of("Inline", json!({}))).await.unwrap();
    assert_eq!(outcome.value, json!({"date": false, "raw": {"n": "3"}}));
    let outcome = runtime
        .invoke(call_of("Named", json!({"since": "2024-05-01T10:00:00Z"})))
        .await
        .unwrap();
    assert_eq!(outcome.value, json!({"date": true, "days": null}));
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn per_call_overhead() {
    let (_tmp, runtime, specs) = project(1);
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();
    for _ in 0..2000 {
        runtime.invoke(call(1)).await.unwrap();
    }
    let n = 20_000u64;
    let started = Instant::now();
    for i in 0..n {
        runtime.invoke(call(i)).await.unwrap();
    }
    let sequential = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let runtime = runtime.clone();
        tasks.push(tokio::spawn(async move { runtime.invoke(call(i)).await.unwrap() }));
        if tasks.len() == 64 {
            for t in tasks.drain(..) {
                t.await.unwrap();
            }
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("one worker: {sequential:.1} µs per call one at a time (round trip), {concurrent:.1} µs per call with 64 in flight");
    runtime.shutdown().await;
}
