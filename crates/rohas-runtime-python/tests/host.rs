//! The Python runtime on its own, without the engine: the embedded CPython
//! runs `host.py` on a tiny project whose `src/generated/` is the real
//! generated package, and the replies are read as the engine reads them.
//! What is checked here is the wire: a delayed `trigger_event` arrives with
//! its delay, a `NonRetryableError` (or a subclass) as non-retryable.
//!
//! One test only: CPython is started once per process.

use rohas_runtime::{
    HandlerError, HandlerKind, HandlerSpec, Host, Invocation, LogRecord, Needs, Runtime, RuntimeOptions,
};
use rohas_runtime_python::PythonRuntime;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

struct Quiet;

impl Host for Quiet {
    fn log(&self, _: LogRecord) {}
    fn broadcast(&self, _: &str, _: Value) {}
    fn send(&self, _: &str, _: Value) {}
}

fn write(root: &Path, rel: impl AsRef<Path>, contents: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

const LATER: &str = r#"from datetime import timedelta
from generated.state import State


async def handler(state: State) -> None:
    state.trigger_event("Now", {"n": 1})
    state.trigger_event("Later", {"n": 2}, delay=1.5)
    state.trigger_event("Soon", None, delay=timedelta(microseconds=1))
    state.trigger_event("Positional", 3, timedelta(seconds=1.1))
    state.trigger_event("Plain", 4)
"#;

const NEGATIVE: &str = r#"from generated.state import State


async def handler(state: State) -> None:
    state.trigger_event("Back", None, delay=-1)
"#;

const DOOMED: &str = r#"from generated.runtime import HandlerContext, NonRetryableError


class OrderInvalid(NonRetryableError):
    pass


async def handler(context: HandlerContext) -> None:
    if context.query_params.get("sub") == "yes":
        raise OrderInvalid("order 7 has no lines")
    raise NonRetryableError("card declined")
"#;

const PLAIN: &str = r#"async def handler() -> None:
    raise RuntimeError("try again")
"#;

fn spec(name: &str, file: &str) -> HandlerSpec {
    HandlerSpec {
        id: rohas_runtime::HandlerId::api(name),
        kind: HandlerKind::Api,
        name: name.into(),
        files: vec![PathBuf::from(format!("src/handlers/api/{file}.py"))],
        functions: vec!["handler".into()],
        request_type: None,
        body_type: None,
        message_type: None,
        event_type: None,
        optional: false,
    }
}

fn call(handler: &str, sub: &str) -> Invocation {
    let mut query = Map::new();
    query.insert("sub".into(), json!(sub));
    Invocation {
        handler: rohas_runtime::HandlerId::api(handler),
        kind: HandlerKind::Api,
        trace_id: "t-1".into(),
        request: json!({"query_params": query, "body": null, "headers": {}}),
        payload: Value::Null,
        payload_json: None,
        request_json: None,
        query_params: query,
        metadata: Map::new(),
        connection_id: None,
        endpoint: None,
        deadline: None,
        needs: Needs::ALL,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays_and_non_retryable_errors_cross_the_wire() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for file in rohas_codegen::python::generate(&rohas_schema::Schema::default()) {
        write(root, &file.path, &file.contents);
    }
    for (file, source) in [
        ("later", LATER),
        ("negative", NEGATIVE),
        ("doomed", DOOMED),
        ("plain", PLAIN),
    ] {
        write(root, format!("src/handlers/api/{file}.py"), source);
    }
    let runtime = PythonRuntime::start(RuntimeOptions {
        project_dir: root.to_path_buf(),
        dev: false,
        workers: 1,
        max_heap_mb: None,
        host: Arc::new(Quiet),
    })
    .expect("the embedded Python starts");
    let specs = [
        spec("Later", "later"),
        spec("Negative", "negative"),
        spec("Doomed", "doomed"),
        spec("Plain", "plain"),
    ];
    runtime.load(&specs).await.map_err(|e| format!("{e:?}")).unwrap();

    let outcome = runtime.invoke(call("Later", "")).await.unwrap();
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
            // A microsecond is rounded up to a millisecond, never down to "at once".
            ("Soon", Value::Null, Some(Duration::from_millis(1))),
            ("Positional", json!(3), Some(Duration::from_millis(1100))),
            ("Plain", json!(4), None),
        ]
    );

    match runtime.invoke(call("Negative", "")).await {
        Err(HandlerError::Failed { message, .. }) => {
            assert!(
                message.contains("ValueError") && message.contains("`Back`"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    for (sub, expected) in [
        ("", "NonRetryableError: card declined"),
        ("yes", "OrderInvalid: order 7 has no lines"),
    ] {
        match runtime.invoke(call("Doomed", sub)).await {
            Err(HandlerError::NonRetryable { message, .. }) => assert_eq!(message, expected),
            other => panic!("{sub:?}: {other:?}"),
        }
    }
    match runtime.invoke(call("Plain", "")).await {
        Err(HandlerError::Failed { message, .. }) => assert_eq!(message, "RuntimeError: try again"),
        other => panic!("{other:?}"),
    }
    runtime.shutdown().await;
}
