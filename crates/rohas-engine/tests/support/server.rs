//! Serving an engine in-process: schema text and a fake runtime in, a base
//! URL and a stop switch out.
//!
//! [`serve_with`] is the one place that builds [`EngineOptions`], so a
//! change to the engine's options is adapted here and nowhere else.

use super::fake::FakeRuntime;
use rohas_config::Config;
use rohas_engine::log::Captured;
use rohas_engine::rohas_events::{Adapter, MemoryAdapter, QueueOptions};
use rohas_engine::rohas_telemetry::Telemetry;
use rohas_engine::{Engine, EngineHost, EngineOptions, Log};
use rohas_schema::{Schema, SourceMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How to serve, beyond the schema and the runtime.
pub struct Options {
    pub config: Config,
    /// `rohas dev`: stacks in 500s, response checks.
    pub dev: bool,
    /// How long `serve` waits for in-flight work after the shutdown signal.
    pub drain: Duration,
    /// Where events travel; `None`: a fresh in-memory adapter.
    pub adapter: Option<Arc<dyn Adapter>>,
    /// What the engine records spans, logs and metrics into (off by default).
    pub telemetry: Telemetry,
    /// The address to listen on (port 0); `127.0.0.1` by default.
    pub bind: std::net::IpAddr,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: Config::default(),
            dev: false,
            drain: Duration::from_secs(10),
            adapter: None,
            telemetry: Telemetry::off(),
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
        }
    }
}

/// A running engine. Dropping it leaves the server to the test's tokio
/// runtime, which ends with the test.
pub struct Served {
    /// `http://<address>:<port>`.
    pub url: String,
    pub addr: SocketAddr,
    pub engine: Engine,
    pub fake: Arc<FakeRuntime>,
    /// Every line the engine logged.
    pub log: Captured,
    stop: Option<oneshot::Sender<()>>,
    exit: Option<JoinHandle<std::io::Result<()>>>,
}

/// Serve `schema` with default options.
pub async fn serve(schema: &str, fake: &Arc<FakeRuntime>) -> Served {
    serve_with(schema, fake, Options::default()).await
}

/// Parse `schema`, start the engine on `fake` and serve it on
/// `127.0.0.1:0` (or `options.bind`) until [`Served::shutdown`].
pub async fn serve_with(schema: &str, fake: &Arc<FakeRuntime>, options: Options) -> Served {
    let (log, captured) = Log::captured();
    let host = EngineHost::new(log.with_telemetry(options.telemetry));
    fake.attach_host(host.clone());
    let engine = Engine::start(
        EngineOptions {
            config: options.config,
            schema: parse(schema),
            specs: fake.specs(),
            runtime: fake.clone(),
            dev: options.dev,
            documents: Default::default(),
            adapter: options
                .adapter
                .unwrap_or_else(|| Arc::new(MemoryAdapter::memory(QueueOptions::default()))),
        },
        host,
    )
    .await;
    let listener = tokio::net::TcpListener::bind((options.bind, 0))
        .await
        .unwrap_or_else(|e| panic!("bind {}:0: {e}", options.bind));
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = engine.clone();
    let exit = tokio::spawn(async move {
        let signal = async move {
            let _ = stopped.await;
        };
        serving.serve(listener, signal, options.drain).await
    });
    Served {
        url: format!("http://{addr}"),
        addr,
        engine,
        fake: fake.clone(),
        log: captured,
        stop: Some(stop),
        exit: Some(exit),
    }
}

/// A schema from its text; fails the test with the diagnostics if invalid.
pub fn parse(schema: &str) -> Schema {
    let mut sources = SourceMap::new();
    sources.add("test.ro", schema);
    let checked = rohas_schema::check_sources(sources);
    let rendered = checked.render(false);
    checked
        .schema
        .unwrap_or_else(|| panic!("the test's schema is invalid:\n{rendered}"))
}

impl Served {
    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `ws://…` + `path`.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Swap in a new schema, with the fake's handlers as they are now.
    pub async fn reload(&self, schema: &str) {
        self.engine
            .reload(parse(schema), self.fake.specs(), Default::default())
            .await;
    }

    /// Send the shutdown signal (once); `serve` then stops accepting and
    /// drains.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Wait for `serve` to return (bounded), without signalling.
    pub async fn exited(&mut self) -> std::io::Result<()> {
        let exit = self.exit.take().expect("exited() awaited twice");
        tokio::time::timeout(Duration::from_secs(30), exit)
            .await
            .expect("serve did not return within 30 s")
            .expect("the serve task panicked")
    }

    /// Signal and wait for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown();
        self.exited().await
    }

    /// Lines the engine logged so far that contain `needle`.
    pub fn logged(&self, needle: &str) -> Vec<String> {
        self.log.lines().into_iter().filter(|l| l.contains(needle)).collect()
    }
}
