//! The engine: one value holding everything a running application needs,
//! and its lifecycle (start, reload, graceful shutdown).
//!
//! What depends on the schema (routes, validator, handler ids, WebSocket
//! paths) lives in [`Live`], swapped atomically on reload: a request in
//! flight keeps the `Live` it started with, the next one sees the new one.
//! Cron tasks and event workers are restarted on reload; deliveries an old
//! worker started finish.
//!
//! One shutdown signal, [`Shared::stop`], reaches every task: the HTTP
//! server stops accepting and closes idle connections, WebSocket
//! connections get a close frame, cron
//! tasks and event workers stop taking work. [`Engine::drain`] then waits
//! for what is running and for due events, up to its deadline, woken by
//! each request or delivery that ends ([`Shared::settled`]), not polling.

use crate::bus::EventBus;
use crate::host::EngineHost;
use crate::log::Log;
use crate::router::Router;
use crate::validate::Validator;
use arc_swap::ArcSwap;
use rohas_config::Config;
use rohas_events::Adapter;
use rohas_runtime::{HandlerId, HandlerKind, HandlerSpec, Runtime};
use rohas_schema::Schema;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The project's descriptions the engine serves as JSON, made from the
/// schema by the caller (the engine knows nothing of codegen).
#[derive(Debug, Clone, Default)]
pub struct Documents {
    /// Served at `GET /openapi.json`.
    pub openapi: Option<Value>,
    /// Served at `GET /asyncapi.json`.
    pub asyncapi: Option<Value>,
}

/// Everything the engine is started with.
pub struct EngineOptions {
    pub config: Config,
    pub schema: Schema,
    /// From `rohas_codegen::handler_specs`; the runtime already loaded them.
    pub specs: Vec<HandlerSpec>,
    pub runtime: Arc<dyn Runtime>,
    /// `rohas dev`: stacks in errors, response checks.
    pub dev: bool,
    /// The OpenAPI and AsyncAPI documents.
    pub documents: Documents,
    /// Where events travel (`memory`, `local`, a broker).
    pub adapter: Arc<dyn Adapter>,
}

/// The schema-dependent part, replaced as a whole on reload.
pub(crate) struct Live {
    pub schema: Arc<Schema>,
    pub router: Router,
    pub validator: Validator,
    /// Handler ids the project has (optional ws functions that exist).
    pub specs: HashMap<HandlerId, HandlerSpec>,
    /// ws path (normalised) → index into `schema.websockets`.
    pub ws_paths: FxHashMap<String, usize>,
    /// Each api's handler id (`api:<name>`), by index into `schema.apis`:
    /// built once, shared by every call.
    pub api_ids: Vec<HandlerId>,
    /// Each api's request span name (`GET /users/{id}`), built once.
    pub api_span_names: Vec<Arc<str>>,
    /// Each event's name and its publish span's (`publish UserCreated`),
    /// built once: a burst of publishes allocates neither.
    pub event_span_names: FxHashMap<String, EventSpanNames>,
    pub documents: Documents,
    /// This schema's number in the process (each load gets a new one):
    /// a message published under it carries it as
    /// [`rohas_events::Message::checked`], and its payload is not checked
    /// again at delivery while the schema is the same.
    pub generation: u64,
}

/// The names a message of one event puts on its spans.
#[derive(Clone)]
pub(crate) struct EventSpanNames {
    pub event: Arc<str>,
    /// `publish <event>`.
    pub publish: Arc<str>,
}

impl EventSpanNames {
    pub fn of(event: &str) -> Self {
        EventSpanNames {
            event: Arc::from(event),
            publish: Arc::from(format!("publish {event}")),
        }
    }
}

impl Live {
    fn new(schema: Schema, specs: Vec<HandlerSpec>, documents: Documents) -> Self {
        let schema = Arc::new(schema);
        let ws_paths = schema
            .websockets
            .iter()
            .enumerate()
            .map(|(i, w)| (crate::router::normalize(&w.path).to_string(), i))
            .collect();
        let api_ids = schema.apis.iter().map(|api| HandlerId::api(&api.name)).collect();
        let api_span_names = schema
            .apis
            .iter()
            .map(|api| Arc::from(format!("{} {}", api.method.as_str(), api.path)))
            .collect();
        let event_span_names = schema
            .events
            .iter()
            .map(|e| (e.name.clone(), EventSpanNames::of(&e.name)))
            .collect();
        Live {
            api_ids,
            api_span_names,
            event_span_names,
            router: Router::new(&schema),
            validator: Validator::new(schema.clone()),
            specs: specs.into_iter().map(|s| (s.id.clone(), s)).collect(),
            ws_paths,
            documents,
            schema,
            generation: {
                static LOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
                LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        }
    }

    /// The span names of `event`'s messages: made once per schema, made
    /// now for an event it does not declare.
    pub fn event_span_names(&self, event: &str) -> EventSpanNames {
        match self.event_span_names.get(event) {
            Some(names) => names.clone(),
            None => EventSpanNames::of(event),
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
    /// Spans, logs and metrics (the same handle the log writes to).
    pub telemetry: rohas_telemetry::Telemetry,
    pub host: Arc<EngineHost>,
    pub bus: EventBus,
    /// API requests and ws messages being handled (graceful shutdown waits).
    pub in_flight: AtomicUsize,
    /// Cron tasks of the current schema.
    pub background: Mutex<Vec<JoinHandle<()>>>,
    /// Cancelled when shutdown begins: every long-lived task watches it.
    pub stop: CancellationToken,
    /// Woken, during shutdown, each time a request or a delivery ends: the
    /// drain waits on it instead of polling.
    pub settled: tokio::sync::Notify,
}

impl Shared {
    /// A request or a delivery ended: wake the drain (only during shutdown,
    /// so serving pays one atomic load, not a lock).
    pub fn settled(&self) {
        if self.stop.is_cancelled() {
            self.settled.notify_waiters();
        }
    }

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
    /// Build the engine and start its cron jobs and event workers. Serve
    /// HTTP with [`Engine::serve`].
    pub async fn start(options: EngineOptions, host: Arc<EngineHost>) -> Engine {
        let shared = Arc::new(Shared {
            live: ArcSwap::from_pointee(Live::new(options.schema, options.specs, options.documents)),
            runtime: options.runtime,
            config: options.config,
            dev: options.dev,
            log: host.log.clone(),
            telemetry: host.log.telemetry().clone(),
            host,
            bus: EventBus::new(options.adapter),
            in_flight: AtomicUsize::new(0),
            background: Mutex::new(Vec::new()),
            stop: CancellationToken::new(),
            settled: tokio::sync::Notify::new(),
        });
        let engine = Engine { shared };
        engine.start_background().await;
        crate::telemetry_api::start_gauges(&engine);
        engine
    }

    /// Event workers and cron tasks of the current schema; those of the
    /// previous one stop (deliveries they started finish).
    async fn start_background(&self) {
        crate::bus::subscribe_all(&self.shared).await;
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
    pub async fn reload(&self, schema: Schema, specs: Vec<HandlerSpec>, documents: Documents) {
        self.shared.live.store(Arc::new(Live::new(schema, specs, documents)));
        self.start_background().await;
    }

    /// The event transport, for the admin API and tools.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.shared.bus.adapter
    }

    pub fn log(&self) -> &Log {
        &self.shared.log
    }

    pub fn telemetry(&self) -> &rohas_telemetry::Telemetry {
        &self.shared.telemetry
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
    /// let in-flight requests and due events finish (up to `drain`), and
    /// stop the runtime.
    ///
    /// Connections are bounded by `[server] max_connections` (and
    /// `max_connections_per_client` per client) and closed when they are
    /// too slow to send a request or idle too long (`server/`); accept errors (out of file descriptors) are waited
    /// out, never fatal.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        drain: Duration,
    ) -> std::io::Result<()> {
        let stop = self.shared.stop.clone();
        let signalled = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown => signalled.cancel(),
                _ = signalled.cancelled() => {}
            }
        });
        let connections = crate::server::Connections::new(&self.shared.config.server);
        crate::server::accept(self, listener, &connections, &stop).await;
        // The drain deadline counts from the signal: connections finish
        // their requests until then, and the ones still open after it are
        // closed (a hung request's future is dropped).
        let until = tokio::time::Instant::now() + drain;
        connections.closed(until).await;
        self.drain(until.saturating_duration_since(tokio::time::Instant::now()))
            .await;
        Ok(())
    }

    /// Begin shutdown from code (what SIGTERM does through `serve`).
    pub fn shutdown(&self) {
        self.shared.stop.cancel();
    }

    /// Wait for in-flight work and due events, at most `deadline`; then
    /// stop the event workers, close the adapter (what did not finish is
    /// delivered again next time, with a durable adapter) and the runtime.
    pub async fn drain(&self, deadline: Duration) {
        self.shared.stop.cancel();
        let until = tokio::time::Instant::now() + deadline;
        let busy = || self.shared.in_flight.load(Ordering::SeqCst) + self.shared.bus.adapter.outstanding();
        loop {
            // Registered before the check, so an end between the check and
            // the wait still wakes it.
            let ended = self.shared.settled.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if busy() == 0 {
                break;
            }
            tokio::select! {
                // Due work only shrinks when a request or a delivery ends
                // (a retry put off until later is not counted).
                _ = ended => {}
                _ = tokio::time::sleep_until(until) => break,
            }
        }
        let left = busy();
        if left > 0 {
            self.shared.log.warn(&format!(
                "shutdown deadline reached with {left} handler call(s) or event(s) unfinished{}",
                if self.shared.bus.adapter.kind() == "memory" {
                    ""
                } else {
                    "; unfinished events are delivered again at the next start"
                }
            ));
        }
        self.shared.bus.stop_workers();
        for task in self
            .shared
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.shared.bus.adapter.close().await;
        self.shared.runtime.shutdown().await;
    }
}
