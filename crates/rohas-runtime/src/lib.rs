//! The interface every handler runtime (Python, TypeScript, Rust) implements,
//! and the plain data that crosses it.
//!
//! The engine owns HTTP, routing, validation, the event bus, cron and
//! WebSockets; a runtime only loads user code and calls it. Keep this crate
//! small and free of engine types: it is what the three runtimes agree on.
//! Events a handler triggers are *returned* in [`Effects`] rather than
//! published from inside the runtime, so the engine can publish them only when
//! the handler succeeded.

mod handler;
mod handler_id;
mod invocation;
mod log_level;
mod lookup;
pub mod pending;
pub mod reply;
mod roles;
pub mod sync;

/// The event object and a middleware's changes: one definition, which the
/// Rust runtime crate written into every project also compiles for its
/// test harness.
pub use rohas_rust_sdk::shapes;

pub use handler::{HandlerKind, HandlerSpec, Language};
pub use handler_id::{HandlerId, NotAHandlerId};
pub use invocation::{
    Effects, HandlerError, Invocation, LogRecord, Needs, NeedsByHandler, Outcome, ReturnValue, TriggeredEvent,
};
pub use log_level::LogLevel;
pub use roles::ParamRole;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Calls a runtime makes back into the engine *while* a handler runs (as
/// opposed to triggered events, which wait for the handler to succeed).
pub trait Host: Send + Sync + 'static {
    /// A log line from the handler: `state.logger`, `print`, `console.log`, `println!`.
    fn log(&self, record: LogRecord);
    /// `state.broadcast(...)`: send `message` to every client of ws `endpoint`.
    fn broadcast(&self, endpoint: &str, message: serde_json::Value);
    /// `connection.send(...)`: send `message` to one WebSocket connection.
    fn send(&self, connection_id: &str, message: serde_json::Value);
}

/// Why loading user code failed: shown to the user, the previous version
/// keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No file for a handler the schema names.
    #[error("handler `{handler}` ({kind}) not found: looked for {}; run `rohas codegen` to create a stub", .looked_for.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Missing {
        handler: String,
        kind: HandlerKind,
        looked_for: Vec<PathBuf>,
    },
    /// The file exists but does not export the function.
    #[error("{file}: no function `{expected}` for handler `{handler}`", file = .file.display())]
    NoFunction {
        handler: String,
        file: PathBuf,
        expected: String,
    },
    /// Syntax error, import error, compile error: the runtime's own message.
    #[error("{0}")]
    Failed(String),
}

/// A handler runtime: loads the project's handlers and invokes them.
pub trait Runtime: Send + Sync + 'static {
    /// "python", "typescript" or "rust".
    fn language(&self) -> &'static str;

    /// Load (or reload) every handler in `handlers`. Called at start and after
    /// each change in `rohas dev`; on error, the previously loaded handlers
    /// must keep working.
    fn load<'a>(&'a self, handlers: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>>;

    /// Files changed on disk (absolute paths under the project): drop cached
    /// code for them so the next `load`/`invoke` sees the new version.
    fn invalidate<'a>(&'a self, changed: &'a [PathBuf]) -> BoxFuture<'a, Result<(), LoadError>>;

    /// Call one handler. The engine applies the timeout by dropping this
    /// future; a runtime that cannot be interrupted by a drop (a blocked
    /// thread, a worker in a loop) must stop the handler itself when told by
    /// `Invocation::deadline`.
    fn invoke(&self, call: Invocation) -> BoxFuture<'_, Result<Outcome, HandlerError>>;

    /// Which parts of an invocation `handler` (an id) reads, when the
    /// runtime knows from the handler's signature; the engine builds only
    /// those. The default, everything, is always correct.
    fn needs(&self, handler: &str) -> Needs {
        let _ = handler;
        Needs::ALL
    }

    /// Whether the runtime hands the request to its handlers as JSON text,
    /// so it sends [`Invocation::request_json`] when the engine sets it
    /// (an event's request, written without building a tree). The
    /// default, no, is always correct.
    fn request_as_json(&self) -> bool {
        false
    }

    /// Figures about the runtime itself, for metrics (`/metrics` and the
    /// stored series): Node.js workers alive and restarted, and so on.
    /// The default has none.
    fn gauges(&self) -> Vec<RuntimeGauge> {
        Vec::new()
    }

    /// Finish in-flight calls and release resources.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}

/// One figure a runtime reports ([`Runtime::gauges`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeGauge {
    /// A Prometheus metric name (`rohas_node_workers_alive`).
    pub name: &'static str,
    pub help: &'static str,
    /// `true` for a count that only grows (a `_total` counter).
    pub counter: bool,
    pub value: f64,
}

/// What the engine hands a runtime factory.
pub struct RuntimeOptions {
    /// Project root (the folder holding `config/` and `src/`).
    pub project_dir: PathBuf,
    /// `rohas dev`: include stack traces in errors, check more.
    pub dev: bool,
    /// Worker processes, where the runtime has them.
    pub workers: usize,
    /// Heap limit of each worker process in MiB, where the runtime has
    /// them (Node.js: `--max-old-space-size`); `None`: the runtime's default.
    pub max_heap_mb: Option<u64>,
    pub host: Arc<dyn Host>,
}
