//! Python handlers on an embedded CPython (PyO3).
//!
//! - `interpreter.rs` starts CPython and the thread that runs its asyncio loop;
//! - `bridge.rs` is the queue between tokio and that loop, and the `_rohas`
//!   module Python calls back into;
//! - `json/` writes handler results as JSON, walking the Python objects;
//! - `host.py` (compiled into the binary) imports handlers, reads their
//!   signatures, runs them and reports results;
//! - this file turns engine [`Invocation`]s into jobs and replies into
//!   [`Outcome`]s.
//!
//! The engine stops waiting for a call by dropping its future (timeouts): the
//! [`AwaitedReply`] guard then tells Python, whose watchdog cancels the task,
//! or interrupts a handler that never yields.

mod bridge;
mod interpreter;
mod json;

use bridge::{Bridge, Job, Reply, Submitted};
use rohas_runtime::pending::AwaitedReply;
use rohas_runtime::reply::{WireFailure, WireSuccess};
use rohas_runtime::{
    BoxFuture, HandlerError, HandlerKind, HandlerSpec, Invocation, LoadError, Needs, NeedsByHandler, Outcome,
    ParamRole, Runtime, RuntimeOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct PythonRuntime {
    bridge: Arc<Bridge>,
    project_dir: PathBuf,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    /// What the engine builds of a call, per handler ([`Runtime::needs`]),
    /// over every load (a call queued before a reload meets the new handler).
    needs: NeedsByHandler,
}

impl PythonRuntime {
    /// Start CPython and its loop thread. Fails with a message naming what is
    /// missing (the shared library, the standard library …).
    pub fn start(options: RuntimeOptions) -> Result<Arc<PythonRuntime>, String> {
        let started = interpreter::start(&options.project_dir, options.dev, options.host)?;
        Ok(Arc::new(PythonRuntime {
            bridge: started.bridge,
            project_dir: options.project_dir,
            thread: std::sync::Mutex::new(Some(started.thread)),
            needs: NeedsByHandler::default(),
        }))
    }

    async fn control(&self, op: &'static str, data: String) -> Result<Value, String> {
        let submitted = self.bridge.control(op, data);
        let reply = self
            .reply(submitted)
            .await
            .ok_or_else(|| "the Python runtime stopped".to_string())?;
        if !reply.ok {
            return Err(reply.body);
        }
        serde_json::from_str(&reply.body).map_err(|e| format!("bad reply from the Python host: {e}"))
    }

    /// A submitted job's reply; dropped early, it tells Python the call is
    /// abandoned. `None`: the Python runtime stopped.
    async fn reply(&self, submitted: Submitted) -> Option<Reply> {
        let id = submitted.id;
        AwaitedReply::new(submitted.rx, || self.bridge.abandon(id)).wait().await
    }
}

/// `HandlerContext`'s wire form, serialized from borrowed parts.
#[derive(Serialize)]
struct ContextData<'a> {
    handler_name: &'a str,
    payload: &'a Value,
    query_params: &'a serde_json::Map<String, Value>,
    metadata: &'a serde_json::Map<String, Value>,
}

/// One call as a job: the request and the context as separate JSON texts,
/// so Python parses only what the handler's parameters ask for, and each
/// written only when they read it (`call.needs`). A handler that reads its
/// body alone gets `{"body": ..}` (api) or `{"payload": ..}` (other kinds)
/// as its request, from the payload or the bytes the engine passed on
/// unparsed.
fn call_job(mut call: Invocation) -> Job {
    // `serde_json::to_string`, not `Value::to_string`: the latter goes
    // through the formatter, several times slower.
    let json = |value: &Value| serde_json::to_string(value).expect("JSON values serialize");
    let data = if call.needs.request {
        match call.request_json.take() {
            // Written by the engine (`Runtime::request_as_json`).
            Some(raw) => String::from_utf8(raw).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            None => json(&call.request),
        }
    } else if call.needs.payload {
        let body = match &call.payload_json {
            Some(raw) => String::from_utf8_lossy(raw),
            None => Cow::Owned(json(&call.payload)),
        };
        // Where `arguments` in `host.py` reads a body: an api's request
        // holds it as `body`, any other request as `payload`.
        let key = if call.kind == HandlerKind::Api {
            "body"
        } else {
            "payload"
        };
        format!("{{\"{key}\":{body}}}")
    } else {
        "null".to_string()
    };
    let context = if call.needs.context {
        serde_json::to_string(&ContextData {
            handler_name: call.handler_name(),
            payload: &call.payload,
            query_params: &call.query_params,
            metadata: &call.metadata,
        })
        .expect("JSON values serialize")
    } else {
        String::new()
    };
    Job {
        id: 0,
        op: "call",
        data,
        context,
        handler: call.handler.to_string(),
        trace_id: call.trace_id,
        endpoint: call.endpoint,
        connection: call.connection_id,
    }
}

fn outcome(reply: Reply) -> Result<Outcome, HandlerError> {
    let bad = |e: serde_json::Error| HandlerError::Failed {
        message: format!("bad reply from the Python host: {e}"),
        stack: None,
    };
    if reply.ok {
        let s: WireSuccess = serde_json::from_str(&reply.body).map_err(bad)?;
        return Ok(s.into_outcome());
    }
    let f: WireFailure = serde_json::from_str(&reply.body).map_err(bad)?;
    Err(f.into_error())
}

/// `host.py`'s answer to `load`: what went wrong, or each handler's
/// parameter roles.
#[derive(Deserialize, Default)]
struct Loaded {
    #[serde(default)]
    problems: Vec<LoadProblem>,
    #[serde(default)]
    roles: HashMap<String, Vec<String>>,
}

/// What the engine must build for a handler whose parameters take `roles`,
/// as `signature_binders` in `host.py` names them (the rule is
/// [`Needs::of_roles`]; `arguments` reads the call that way).
fn needs_of(roles: &[String]) -> Needs {
    Needs::of_roles(roles.iter().map(|role| ParamRole::parse(role)))
}

#[derive(Deserialize)]
struct LoadProblem {
    kind: String,
    #[serde(default)]
    handler: String,
    #[serde(default)]
    looked_for: Vec<PathBuf>,
    #[serde(default)]
    file: PathBuf,
    #[serde(default)]
    expected: String,
    #[serde(default)]
    message: String,
}

/// A problem `host.py` reported, as the error every runtime gives: a
/// missing file or function is described from the handler's spec (the
/// host names the handler and the file it found), so the message reads as
/// the other runtimes' do.
fn load_error(p: LoadProblem, specs: &[HandlerSpec]) -> LoadError {
    let spec = specs.iter().find(|s| s.id == p.handler);
    match (p.kind.as_str(), spec) {
        ("missing", Some(spec)) => LoadError::missing(spec),
        ("no_function", Some(spec)) => LoadError::no_function(spec, &p.file),
        ("missing", None) => LoadError::Missing {
            kind: HandlerKind::Api,
            handler: p.handler,
            looked_for: p.looked_for,
        },
        ("no_function", None) => LoadError::NoFunction {
            handler: p.handler,
            file: p.file,
            expected: p.expected,
        },
        _ => LoadError::Failed(p.message),
    }
}

impl Runtime for PythonRuntime {
    fn language(&self) -> &'static str {
        "python"
    }

    fn gauges(&self) -> Vec<rohas_runtime::RuntimeGauge> {
        vec![rohas_runtime::RuntimeGauge {
            name: "rohas_python_loop_lag_seconds",
            help: "How late the Python event loop's last half-second tick ran (blocking code in an async handler makes it late).",
            counter: false,
            value: self.bridge.loop_lag(),
        }]
    }

    fn load<'a>(&'a self, handlers: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>> {
        Box::pin(async move {
            let specs = serde_json::to_string(handlers).expect("handler specs serialize");
            match self.control("load", specs).await {
                Ok(value) => {
                    let loaded: Loaded = serde_json::from_value(value).unwrap_or_default();
                    if !loaded.problems.is_empty() {
                        return Err(loaded.problems.into_iter().map(|p| load_error(p, handlers)).collect());
                    }
                    self.needs.add(handlers.iter().filter_map(|spec| {
                        let roles = loaded.roles.get(spec.id.as_str())?;
                        Some((spec.id.to_string(), needs_of(roles)))
                    }));
                    Ok(())
                }
                Err(message) => Err(vec![LoadError::Failed(message)]),
            }
        })
    }

    /// Jobs carry the request as JSON text for `host.py` to parse.
    fn request_as_json(&self) -> bool {
        true
    }

    fn needs(&self, handler: &str) -> Needs {
        self.needs.get(handler)
    }

    fn invalidate<'a>(&'a self, changed: &'a [PathBuf]) -> BoxFuture<'a, Result<(), LoadError>> {
        Box::pin(async move {
            let paths: Vec<String> = changed
                .iter()
                .map(|p| self.project_dir.join(p).to_string_lossy().into_owned())
                .collect();
            self.control("invalidate", json!(paths).to_string())
                .await
                .map(|_| ())
                .map_err(LoadError::Failed)
        })
    }

    fn invoke(&self, call: Invocation) -> BoxFuture<'_, Result<Outcome, HandlerError>> {
        Box::pin(async move {
            let submitted = self.bridge.submit(call_job(call));
            match self.reply(submitted).await {
                Some(reply) => outcome(reply),
                None => Err(HandlerError::Failed {
                    message: "the Python runtime stopped before the handler finished".into(),
                    stack: None,
                }),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.bridge.control("stop", String::new());
            self.bridge.stop_watchdog();
            let thread = self.thread.lock().ok().and_then(|mut t| t.take());
            if let Some(thread) = thread {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parameter_roles_say_what_the_engine_builds() {
        assert_eq!(needs_of(&roles(&[])), Needs::NONE);
        assert_eq!(needs_of(&roles(&["state"])), Needs::NONE);
        let body = needs_of(&roles(&["body", "state"]));
        assert_eq!((body.request, body.payload, body.context), (false, true, false));
        assert!(needs_of(&roles(&["request", "state"])).request);
        // A non-api body is the payload too (`Needs::of_roles`), sent alone
        // where `arguments` looks for it (`call_job`).
        assert_eq!(needs_of(&roles(&["body"])), body);
        assert!(needs_of(&roles(&["event"])).request);
        let context = needs_of(&roles(&["context"]));
        assert_eq!((context.request, context.payload, context.context), (false, true, true));
    }

    fn invocation(needs: Needs) -> Invocation {
        Invocation {
            handler: rohas_runtime::HandlerId::api("CreateUser"),
            kind: HandlerKind::Api,
            trace_id: "t".into(),
            request: json!({"body": {"name": "a"}, "headers": {}}),
            payload: json!({"name": "a"}),
            payload_json: None,
            request_json: None,
            query_params: serde_json::Map::new(),
            metadata: serde_json::Map::new(),
            connection_id: None,
            endpoint: None,
            deadline: None,
            needs,
        }
    }

    #[test]
    fn a_job_carries_only_what_the_handler_reads() {
        let all = call_job(invocation(Needs::ALL));
        assert_eq!(all.data, r#"{"body":{"name":"a"},"headers":{}}"#);
        assert!(
            all.context.contains(r#""handler_name":"CreateUser""#),
            "{}",
            all.context
        );

        let none = call_job(invocation(Needs::NONE));
        assert_eq!((none.data.as_str(), none.context.as_str()), ("null", ""));

        let body_only = Needs {
            payload: true,
            ..Needs::NONE
        };
        let mut call = invocation(body_only);
        call.request = Value::Null;
        assert_eq!(call_job(call).data, r#"{"body":{"name":"a"}}"#);
        let mut raw = invocation(body_only);
        raw.payload = Value::Null;
        raw.payload_json = Some(br#"{"name": "raw"}"#.to_vec());
        assert_eq!(call_job(raw).data, r#"{"body":{"name": "raw"}}"#);
        let mut event = invocation(body_only);
        event.kind = HandlerKind::Event;
        event.request = Value::Null;
        assert_eq!(call_job(event).data, r#"{"payload":{"name":"a"}}"#);
        // A request the engine wrote goes as it is.
        let mut written = invocation(Needs::ALL);
        written.request = Value::Null;
        written.request_json = Some(br#"{"name": "a", "payload": {"name": "a"}}"#.to_vec());
        assert_eq!(call_job(written).data, r#"{"name": "a", "payload": {"name": "a"}}"#);
    }
}
