//! The engine: one value holding everything a running application needs,
//! and its lifecycle (start, reload, graceful shutdown).
//!
//! What depends on the schema (routes, validator, handler ids, WebSocket
//! paths) lives in [`Live`], swapped atomically on reload: a request in
//! flight keeps the `Live` it started with, the next one sees the new one.
//! Cron tasks and event subscriptions are restarted on reload; an old event
//! worker drains what it had queued before it stops.

use crate::bus::EventBus;
use crate::host::EngineHost;
use crate::log::Log;
use crate::router::Router;
use crate::validate::Validator;
use arc_swap::ArcSwap;
use rohas_config::Config;
use rohas_runtime::{HandlerKind, HandlerSpec, Runtime};
use rohas_schema::Schema;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// Everything the engine is started with.
pub struct EngineOptions {
    pub config: Config,
    pub schema: Schema,
    /// From `rohas_codegen::handler_specs`; the runtime already loaded them.
    pub specs: Vec<HandlerSpec>,
    pub runtime: Arc<dyn Runtime>,
    /// `rohas dev`: stacks in errors, response checks.
    pub dev: bool,
    /// The OpenAPI document served at `/openapi.json`.
    pub openapi: Option<Value>,
}

/// The schema-dependent part, replaced as a whole on reload.
pub(crate) struct Live {
    pub schema: Arc<Schema>,
    pub router: Router,
    pub validator: Validator,
    /// Handler ids the project has (optional ws functions that exist).
    pub specs: HashMap<String, HandlerSpec>,
    /// ws path (normalised) → index into `schema.websockets`.
    pub ws_paths: FxHashMap<String, usize>,
    /// Each api's handler id (`api:<name>`), by index into `schema.apis`:
    /// built once, shared by every call.
    pub api_ids: Vec<Arc<str>>,
    pub openapi: Option<Value>,
}

impl Live {
    fn new(schema: Schema, specs: Vec<HandlerSpec>, openapi: Option<Value>) -> Self {
        let schema = Arc::new(schema);
        let ws_paths = schema
            .websockets
            .iter()
            .enumerate()
            .map(|(i, w)| (crate::router::normalize(&w.path).to_string(), i))
            .collect();
        let api_ids = schema
            .apis
            .iter()
            .map(|api| Arc::from(format!("api:{}", api.name)))
            .collect();
        Live {
            api_ids,
            router: Router::new(&schema),
            validator: Validator::new(schema.clone()),
            specs: specs.into_iter().map(|s| (s.id.clone(), s)).collect(),
            ws_paths,
            openapi,
            schema,
        }
    }

    pub fn has_handler(&self, id: &str) -> bool {
        self.specs.contains_key(id)
    }
}

pub(crate) struct Shared {
    pub live: ArcSwap<Live>,
    pub runtime: Arc<dyn Runtime>,
    pub config: Config,
    pub dev: bool,
    pub log: Log,
    pub host: Arc<EngineHost>,
    pub bus: EventBus,
    /// API requests and ws messages being handled (graceful shutdown waits).
    pub in_flight: AtomicUsize,
    /// Cron tasks of the current schema.
    pub background: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    /// The timeout of a handler kind, from `[runtime.timeouts]` unless the
    /// declaration sets its own.
    pub fn timeout(&self, kind: HandlerKind, declared: Option<Duration>) -> Duration {
        if let Some(d) = declared {
            return d;
        }
        let t = &self.config.runtime.timeouts;
        let secs = match kind {
            HandlerKind::Api | HandlerKind::Middleware => t.api,
            HandlerKind::Event => t.event,
            HandlerKind::Cron => t.cron,
            HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect => t.websocket,
        };
        Duration::from_secs_f64(secs.max(0.001))
    }
}

/// A running application. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<Shared>,
}

impl Engine {
    /// Build the engine and start its cron jobs and event subscriptions.
    /// Serve HTTP with [`Engine::serve`].
    pub fn start(options: EngineOptions, host: Arc<EngineHost>) -> Engine {
        let bus = EventBus::memory(options.config.adapter.buffer_size.max(1));
        let shared = Arc::new(Shared {
            live: ArcSwap::from_pointee(Live::new(options.schema, options.specs, options.openapi)),
            runtime: options.runtime,
            config: options.config,
            dev: options.dev,
            log: host.log.clone(),
            host,
            bus,
            in_flight: AtomicUsize::new(0),
            background: Mutex::new(Vec::new()),
        });
        let engine = Engine { shared };
        engine.start_background();
        engine
    }

    /// Event workers run detached: after a reload the old ones drain what
    /// they had queued and end when their channel closes. Cron tasks are
    /// replaced outright.
    fn start_background(&self) {
        crate::bus::subscribe_all(&self.shared);
        let tasks = crate::cron::start_all(&self.shared);
        let old = std::mem::replace(
            &mut *self.shared.background.lock().unwrap_or_else(|e| e.into_inner()),
            tasks,
        );
        for task in old {
            task.abort();
        }
    }

    /// Swap in a new schema (already validated, handlers already loaded by
    /// the runtime): routes, validation, cron and subscriptions follow.
    pub fn reload(&self, schema: Schema, specs: Vec<HandlerSpec>, openapi: Option<Value>) {
        self.shared.bus.close_subscriptions();
        self.shared.live.store(Arc::new(Live::new(schema, specs, openapi)));
        self.start_background();
    }

    pub fn log(&self) -> &Log {
        &self.shared.log
    }

    /// Every route, for the start-up banner: `GET /users/:id  api GetUser`.
    pub fn routes(&self) -> Vec<String> {
        let live = self.shared.live.load();
        let mut out: Vec<String> = live
            .schema
            .apis
            .iter()
            .map(|a| format!("{:<6} {:<28} api {}", a.method.as_str(), a.path, a.name))
            .collect();
        out.extend(
            live.schema
                .websockets
                .iter()
                .map(|w| format!("{:<6} {:<28} ws {}", "WS", w.path, w.name)),
        );
        out
    }

    /// Serve on `listener` until `shutdown` resolves, then stop accepting,
    /// let in-flight requests and queued events finish (up to `drain`), and
    /// stop the runtime.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        drain: Duration,
    ) -> std::io::Result<()> {
        let app = crate::http::make_service(self.clone());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let result = server.await;
        let _ = stop_rx;
        self.drain(drain).await;
        result
    }

    /// Wait for queued events and in-flight work, at most `deadline`.
    pub async fn drain(&self, deadline: Duration) {
        let until = tokio::time::Instant::now() + deadline;
        while tokio::time::Instant::now() < until {
            let busy = self.shared.in_flight.load(Ordering::SeqCst) + self.shared.bus.pending();
            if busy == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.shared.in_flight.load(Ordering::SeqCst) + self.shared.bus.pending();
        if left > 0 {
            self.shared.log.warn(&format!(
                "shutdown deadline reached with {left} handler call(s) unfinished"
            ));
        }
        for task in self
            .shared
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.shared.runtime.shutdown().await;
    }
}
