//! Python handlers on an embedded CPython (PyO3).
//!
//! - `interpreter.rs` starts CPython and the thread that runs its asyncio loop;
//! - `bridge.rs` is the queue between tokio and that loop, and the `_rohas`
//!   module Python calls back into;
//! - `host.py` (compiled into the binary) imports handlers, reads their
//!   signatures, runs them and reports results;
//! - this file turns engine [`Invocation`]s into jobs and replies into
//!   [`Outcome`]s.
//!
//! The engine stops waiting for a call by dropping its future (timeouts): the
//! [`Pending`] guard then tells Python, whose watchdog cancels the task, or
//! interrupts a handler that never yields.

mod bridge;
mod interpreter;

use bridge::{Bridge, Job, Reply};
use rohas_runtime::reply::{WireFailure, WireSuccess};
use rohas_runtime::{BoxFuture, HandlerError, HandlerSpec, Invocation, LoadError, Outcome, Runtime, RuntimeOptions};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

pub struct PythonRuntime {
    bridge: Arc<Bridge>,
    project_dir: PathBuf,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
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
        }))
    }

    async fn control(&self, op: &'static str, data: String) -> Result<Value, String> {
        let submitted = self.bridge.control(op, data);
        let reply = Pending::new(&self.bridge, submitted.id, submitted.rx)
            .wait()
            .await
            .ok_or_else(|| "the Python runtime stopped".to_string())?;
        if !reply.ok {
            return Err(reply.body);
        }
        serde_json::from_str(&reply.body).map_err(|e| format!("bad reply from the Python host: {e}"))
    }
}

/// Waits for one reply; dropped early, it tells Python the call is abandoned.
struct Pending<'a> {
    bridge: &'a Bridge,
    id: u64,
    rx: Option<tokio::sync::oneshot::Receiver<Reply>>,
}

impl<'a> Pending<'a> {
    fn new(bridge: &'a Bridge, id: u64, rx: tokio::sync::oneshot::Receiver<Reply>) -> Self {
        Pending {
            bridge,
            id,
            rx: Some(rx),
        }
    }

    async fn wait(mut self) -> Option<Reply> {
        let rx = self.rx.as_mut()?;
        let reply = rx.await.ok();
        self.rx = None;
        reply
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.rx.is_some() {
            self.bridge.abandon(self.id);
        }
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
/// so Python parses only what the handler's parameters ask for.
fn call_job(call: Invocation) -> Job {
    let name = call.handler_name();
    let context = serde_json::to_string(&ContextData {
        handler_name: name,
        payload: &call.payload,
        query_params: &call.query_params,
        metadata: &call.metadata,
    })
    .expect("JSON values serialize");
    Job {
        id: 0,
        op: "call",
        data: call.request.to_string(),
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

fn load_error(p: LoadProblem, specs: &[HandlerSpec]) -> LoadError {
    match p.kind.as_str() {
        "missing" => LoadError::Missing {
            kind: specs
                .iter()
                .find(|s| s.id == p.handler)
                .map_or(rohas_runtime::HandlerKind::Api, |s| s.kind),
            handler: p.handler,
            looked_for: p.looked_for,
        },
        "no_function" => LoadError::NoFunction {
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

    fn load<'a>(&'a self, handlers: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>> {
        Box::pin(async move {
            let specs = serde_json::to_string(handlers).expect("handler specs serialize");
            match self.control("load", specs).await {
                Ok(value) => {
                    let problems: Vec<LoadProblem> = serde_json::from_value(value).unwrap_or_default();
                    if problems.is_empty() {
                        Ok(())
                    } else {
                        Err(problems.into_iter().map(|p| load_error(p, handlers)).collect())
                    }
                }
                Err(message) => Err(vec![LoadError::Failed(message)]),
            }
        })
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
            match Pending::new(&self.bridge, submitted.id, submitted.rx).wait().await {
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
