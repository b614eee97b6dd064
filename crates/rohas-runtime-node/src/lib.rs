//! TypeScript handlers: compiled to ES modules in Rust (oxc), run on V8 in a
//! pool of long-lived Node.js worker processes. V8 is not embedded in
//! `rohas` itself: that needs a prebuilt V8 archive fetched from outside the
//! package registries at build time (or hours of building V8), so Node.js
//! supplies V8, npm resolution and its APIs instead.
//!
//! - `compile.rs` turns one `.ts` file into JavaScript + source map, and
//!   reads exported functions' parameter types and the generated types;
//! - `build.rs` keeps `.rohas/build/` in step with `src/`, file by file;
//! - `types.rs` reduces the generated types to the date conversions the
//!   worker applies; `signature.rs` maps parameters to arguments;
//! - `table.rs` resolves the schema's handlers against the build;
//! - `frame.rs` is the wire format to the workers: call frames built from
//!   engine [`Invocation`]s, replies decoded into [`Outcome`]s;
//! - `pool.rs` runs the workers (`host.mjs`, compiled into the binary) and
//!   contains their failures; `dispatch.mjs`, beside it, is how a worker
//!   calls one handler, shared with the project's testing harness;
//! - `testing.rs` prepares a project for `rohas test`: the same build and
//!   handler table the engine loads, for the harness to call handlers with;
//! - this file ties them together behind the [`Runtime`] trait.
//!
//! Failures: an `HttpError` answers its status; anything else thrown is a
//! 500 with the stack mapped to `.ts` lines in `rohas dev` (Node's
//! `--enable-source-maps` and the emitted `.js.map` files); a promise rejected
//! and never awaited fails the call it came from (found through
//! AsyncLocalStorage) and the worker keeps serving; an uncaught exception or a
//! `process.exit` ends the worker: its calls fail with 500 and it is
//! replaced. Timeouts: see `pool.rs`.
//!
//! Hot reload replaces the workers rather than busting Node's module cache:
//! a cache-busting `?v=N` only reloads the handler module itself, not the
//! modules it imports, and leaks every old version. New workers load the new
//! build while the old ones finish their calls, so no request is dropped.

mod build;
mod compile;
mod frame;
mod node;
mod pool;
mod signature;
mod table;
pub mod testing;
mod types;

use pool::{Pool, Reply};
use rohas_runtime::pending::AwaitedReply;
use rohas_runtime::{
    BoxFuture, HandlerError, HandlerSpec, Invocation, LoadError, Needs, NeedsByHandler, Outcome, Runtime,
    RuntimeOptions,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const HOST_SCRIPT: &str = include_str!("host.mjs");
const DISPATCH_SCRIPT: &str = include_str!("dispatch.mjs");

/// Write the worker's modules into `.rohas/` (only when they changed, so a
/// running worker's files are not rewritten for nothing); the host's path.
fn write_worker_modules(project_dir: &std::path::Path) -> Result<PathBuf, String> {
    let dir = project_dir.join(".rohas");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, text) in [("rohas-dispatch.mjs", DISPATCH_SCRIPT), ("rohas-host.mjs", HOST_SCRIPT)] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(dir.join("rohas-host.mjs"))
}

pub use node::MIN_MAJOR as MIN_NODE_MAJOR;

pub struct NodeRuntime {
    project_dir: PathBuf,
    dev: bool,
    builder: Arc<Mutex<build::Builder>>,
    pool: Arc<Pool>,
    /// Serialises loads: a reload waits for the previous one.
    loading: tokio::sync::Mutex<()>,
    /// What the engine builds of a call, per handler ([`Runtime::needs`]),
    /// over every table loaded (a worker may still be on an older one).
    needs: NeedsByHandler,
}

impl NodeRuntime {
    /// Check for Node.js and write the host module; workers start on the
    /// first [`Runtime::load`]. Must be called inside a tokio runtime.
    pub fn start(options: RuntimeOptions) -> Result<Arc<NodeRuntime>, String> {
        let (node, _version) = node::find()?;
        let host_script = write_worker_modules(&options.project_dir)?;
        let pool = Pool::new(
            pool::Launch {
                node,
                host_script,
                project: options.project_dir.clone(),
                dev: options.dev,
                max_heap_mb: options.max_heap_mb,
                host: options.host,
            },
            options.workers,
        );
        Ok(Arc::new(NodeRuntime {
            builder: Arc::new(Mutex::new(build::Builder::new(&options.project_dir, options.dev))),
            project_dir: options.project_dir,
            dev: options.dev,
            pool,
            loading: tokio::sync::Mutex::new(()),
            needs: NeedsByHandler::default(),
        }))
    }

    async fn build_and_table(&self, specs: Vec<HandlerSpec>) -> Result<table::Table, Vec<LoadError>> {
        let builder = self.builder.clone();
        let project = self.project_dir.clone();
        let dev = self.dev;
        tokio::task::spawn_blocking(move || {
            let mut builder = rohas_runtime::sync::lock(&builder);
            let report = builder.build();
            if !report.errors.is_empty() {
                return Err(report.errors.into_iter().map(LoadError::Failed).collect());
            }
            table::handler_table(&project, &builder, &specs, dev)
        })
        .await
        .unwrap_or_else(|e| Err(vec![LoadError::Failed(format!("the TypeScript compiler failed: {e}"))]))
    }
}

fn outcome(reply: Reply) -> Result<Outcome, HandlerError> {
    match reply {
        Reply::Call(result) => result,
        Reply::Crashed(message) => Err(HandlerError::Failed { message, stack: None }),
        Reply::Loaded(_) => Err(HandlerError::Failed {
            message: "unexpected load reply to a call".into(),
            stack: None,
        }),
    }
}

impl Runtime for NodeRuntime {
    fn language(&self) -> &'static str {
        "typescript"
    }

    fn gauges(&self) -> Vec<rohas_runtime::RuntimeGauge> {
        let (alive, restarts) = self.pool.health();
        vec![
            rohas_runtime::RuntimeGauge {
                name: "rohas_node_workers_alive",
                help: "Node.js worker processes alive.",
                counter: false,
                value: alive as f64,
            },
            rohas_runtime::RuntimeGauge {
                name: "rohas_node_worker_restarts_total",
                help: "Node.js workers replaced after they died or got stuck.",
                counter: true,
                value: restarts as f64,
            },
        ]
    }

    fn load<'a>(&'a self, handlers: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>> {
        Box::pin(async move {
            let _serial = self.loading.lock().await;
            let table = self.build_and_table(handlers.to_vec()).await?;
            // Before the new workers take calls.
            self.needs.add(table.invocation_needs());
            self.pool
                .load(table)
                .await
                .map_err(|errors| errors.into_iter().map(LoadError::Failed).collect())
        })
    }

    fn needs(&self, handler: &str) -> Needs {
        self.needs.get(handler)
    }

    /// Call frames carry the request as JSON text for the worker to parse.
    fn request_as_json(&self) -> bool {
        true
    }

    fn invalidate<'a>(&'a self, _changed: &'a [PathBuf]) -> BoxFuture<'a, Result<(), LoadError>> {
        // The next `load` rebuilds what changed (by mtime and content) and
        // starts workers on the new build.
        Box::pin(async move { Ok(()) })
    }

    fn invoke(&self, call: Invocation) -> BoxFuture<'_, Result<Outcome, HandlerError>> {
        Box::pin(async move {
            // A worker picked just before a reload may retire (or a crashed
            // one be found dead) before the call is registered: pick again.
            let (worker, id, rx) = loop {
                let Some(worker) = self.pool.pick().await else {
                    return Err(HandlerError::Failed {
                        message: "no Node.js worker is running: the handlers are not loaded".into(),
                        stack: None,
                    });
                };
                let id = self.pool.next_id();
                let needs = worker.table.needs(&call.handler);
                if let Some(rx) = worker.submit(id, frame::call(id, &call, needs)) {
                    break (worker, id, rx);
                }
                tokio::task::yield_now().await;
            };
            // Dropped early (timeout), it cancels the call.
            let reply = AwaitedReply::new(rx, || worker.abandon(id)).wait().await;
            match reply {
                Some(reply) => outcome(reply),
                None => Err(HandlerError::Failed {
                    message: "the Node.js worker stopped before the handler finished".into(),
                    stack: None,
                }),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move { self.pool.shutdown().await })
    }
}
