//! Serving a project: the steps `rohas dev` and `rohas start` share, in the
//! order a user sees them: config → schema → (dev: codegen) → runtime →
//! handlers → routes → "Rohas ready on http://…" → serve → graceful stop.

use crate::output::Output;
use crate::project;
use anyhow::Context;
use rohas_engine::rohas_events::QueueLock;
use rohas_engine::rohas_telemetry::{Options as TelemetryOptions, Telemetry};
use rohas_engine::{Engine, EngineHost, EngineOptions, Log};
use rohas_runtime::{HandlerSpec, Language, Runtime, RuntimeOptions};
use rohas_schema::Schema;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub enum Mode {
    Dev { watch: bool },
    Start,
}

pub struct ServeOptions {
    pub mode: Mode,
    pub schema: Option<PathBuf>,
    pub port: Option<u16>,
}

/// How long shutdown waits for in-flight handlers and queued events.
const DRAIN: Duration = Duration::from_secs(10);

/// What a running project is made of; hot reload rebuilds parts of it.
pub struct Project {
    pub root: PathBuf,
    pub schema_path: PathBuf,
    pub language: Language,
    pub name: String,
    pub version: String,
    pub dev: bool,
}

impl Project {
    /// Regenerate `src/generated/` and missing stubs (dev only).
    pub fn codegen(&self, schema: &Schema, out: &Output) -> anyhow::Result<()> {
        let code = rohas_codegen::project_code(schema, self.language, &self.root)?;
        let report = rohas_codegen::write(
            &self.root,
            &self.root.join("src"),
            &code.generated,
            &code.stubs,
            &code.specs,
        )?;
        for stub in &report.stubs {
            out.info(&format!("created handler stub {}", stub.display()));
        }
        Ok(())
    }

    /// `rohas start` serves only code generated from the schema it
    /// serves: after a schema change without `rohas codegen`, handlers
    /// would run against types of another schema and fail in ways that
    /// point nowhere near the cause. (`dev` regenerates instead.)
    ///
    /// The check compares what codegen would write with what is on disk,
    /// so a hand edit counts too and no stamp file can drift. A project
    /// with no `src/generated/` at all is left to the runtime, whose
    /// errors name each missing handler file and function.
    pub fn ensure_generated_is_current(&self, schema: &Schema) -> anyhow::Result<()> {
        if !self.root.join("src/generated").is_dir() {
            return Ok(());
        }
        let code = rohas_codegen::project_code(schema, self.language, &self.root)?;
        let stale = rohas_codegen::write::out_of_date(&self.root, &self.root.join("src"), &code.generated);
        let Some(first) = stale.first() else {
            return Ok(());
        };
        let mut message = format!(
            "src/generated/ is out of date with the schema: {} generated file(s) missing or different (first: {})",
            stale.len(),
            first.display()
        );
        // Codegen also writes stubs: name the handlers it would create, so
        // one run of it is seen to fix everything.
        let missing: Vec<String> = code
            .specs
            .iter()
            .filter(|s| !s.optional && !s.files.iter().any(|f| self.root.join(f).is_file()))
            .filter_map(|s| s.files.first().map(|f| f.display().to_string()))
            .collect();
        if !missing.is_empty() {
            message.push_str(&format!("\n  handler file(s) missing too: {}", missing.join(", ")));
        }
        message.push_str(
            "\n  help: run `rohas codegen` (it regenerates src/generated/ and creates stubs for missing handlers), then start again",
        );
        anyhow::bail!(message)
    }

    pub fn specs(&self, schema: &Schema) -> Vec<HandlerSpec> {
        rohas_codegen::handler_specs(schema, self.language)
    }

    /// The documents the engine serves on `GET /openapi.json` and
    /// `GET /asyncapi.json`.
    pub fn documents(&self, schema: &Schema) -> rohas_engine::Documents {
        rohas_engine::Documents {
            openapi: Some(rohas_codegen::openapi(schema, &self.name, &self.version)),
            asyncapi: Some(rohas_codegen::asyncapi(schema, &self.name, &self.version)),
        }
    }
}

pub fn run(options: ServeOptions, out: &Output) -> anyhow::Result<ExitCode> {
    let root = project::current_root()?;
    let loaded = rohas_config::load(&root)?;
    for warning in &loaded.warnings {
        out.warn(&warning.to_string());
    }
    let mut config = loaded.config;
    if let Some(port) = options.port {
        config.server.port = port;
    }
    let dev = matches!(options.mode, Mode::Dev { .. });
    let schema_path = project::schema_path(options.schema.as_deref().or(Some(&root.join("schema"))))?;
    let schema = project::load_schema(&schema_path, out)?;
    let language = project::language(&root, None)?;
    let project = Project {
        name: config.project.name.clone(),
        version: config.project.version.clone(),
        root: root.clone(),
        schema_path,
        language,
        dev,
    };
    if dev {
        project.codegen(&schema, out)?;
    } else {
        project.ensure_generated_is_current(&schema)?;
    }

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    tokio.block_on(serve(project, config, schema, options.mode, out))
}

async fn serve(
    project: Project,
    config: rohas_config::Config,
    schema: Schema,
    mode: Mode,
    out: &Output,
) -> anyhow::Result<ExitCode> {
    // The queue first: a second engine on the same project stops here,
    // before it starts a runtime or takes a port.
    let adapter = crate::queue::open(&project.root, &config)?;
    let telemetry = start_telemetry(&project, &config)?;
    let host = EngineHost::new(Log::from_env().with_telemetry(telemetry.clone()));
    let runtime = start_runtime(&project, &config, host.clone()).await?;
    let specs = project.specs(&schema);
    if let Err(errors) = runtime.load(&specs).await {
        for e in &errors {
            out.error(&e.to_string());
        }
        runtime.shutdown().await;
        anyhow::bail!(
            "{} handler(s) could not be loaded; fix them and start again",
            errors.len()
        );
    }

    if let Some(warning) = crate::file_limit::fit(config.server.max_connections) {
        out.warn(&warning);
    }
    let address = format!("{}:{}", config.server.host, config.server.port);
    let listener = tokio::net::TcpListener::bind(&address).await.with_context(|| {
        format!("cannot listen on {address}: is another server using the port? Set --port or [server] port")
    })?;
    let bound = listener.local_addr()?;
    let documents = project.documents(&schema);
    let queue_dir = crate::queue::dir(&project.root, &config);
    let engine = Engine::start(
        EngineOptions {
            config,
            schema,
            specs,
            runtime: runtime.clone(),
            dev: project.dev,
            documents,
            adapter,
        },
        host,
    )
    .await;
    let _ = std::fs::create_dir_all(&queue_dir);
    QueueLock::announce(&queue_dir, &format!("http://{}", admin_address(bound)));
    for route in engine.routes() {
        out.info(&format!("  {route}"));
    }
    let watcher = match mode {
        Mode::Dev { watch: true } => Some(crate::watch::start(
            project,
            engine.clone(),
            runtime.clone(),
            out.clone(),
        )?),
        _ => None,
    };
    let stop = shutdown_signal();
    out.success(&format!("Rohas ready on http://{bound}"));

    engine.serve(listener, stop, DRAIN).await?;
    drop(watcher);
    // What was recorded while draining is written before the process ends.
    let _ = tokio::task::spawn_blocking(move || telemetry.close()).await;
    QueueLock::withdraw(&queue_dir);
    out.info("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The telemetry recorder for `[telemetry]`: its store under the project
/// (`.rohas/telemetry` by default); what goes wrong with the store is
/// printed as a warning, once.
fn start_telemetry(project: &Project, config: &rohas_config::Config) -> anyhow::Result<Telemetry> {
    let t = &config.telemetry;
    let warn = Log::from_env();
    let mut sinks: Vec<Box<dyn rohas_engine::rohas_telemetry::Sink>> = Vec::new();
    if let Some(endpoint) = t.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) {
        sinks.push(Box::new(otlp_exporter(project, config, endpoint, warn.clone())?));
    }
    Ok(Telemetry::start(TelemetryOptions {
        folder: Some(project.root.join(&t.path)),
        traces: t.enable_traces,
        logs: t.enable_logs,
        metrics: t.enable_metrics,
        sample_ratio: t.sample_ratio,
        retention: Duration::from_secs(u64::from(t.retention_days) * 24 * 3600),
        max_bytes: t.max_size_mb.saturating_mul(1024 * 1024),
        notice: Arc::new(move |m| warn.warn(m)),
        sinks,
        ..TelemetryOptions::default()
    }))
}

/// The OTLP exporter for `[telemetry] otlp_endpoint`; a bad endpoint or
/// header stops the start with the key named.
fn otlp_exporter(
    project: &Project,
    config: &rohas_config::Config,
    endpoint: &str,
    warn: Log,
) -> anyhow::Result<rohas_engine::rohas_telemetry::OtlpExporter> {
    use rohas_engine::rohas_telemetry::{otlp, OtlpExporter, OtlpOptions, OtlpProtocol};
    let t = &config.telemetry;
    let protocol: OtlpProtocol = t
        .otlp_protocol
        .parse()
        .map_err(|e| anyhow::anyhow!("[telemetry] otlp_protocol: {e}"))?;
    let mut options = OtlpOptions::new(endpoint, protocol, project.name.clone());
    options.service_version = Some(project.version.clone());
    options.headers = t.otlp_headers.clone().into_iter().collect();
    // The table has no environment form of its own: one string, written
    // as OpenTelemetry's OTEL_EXPORTER_OTLP_HEADERS is.
    if let Some(text) = rohas_config::ProcessVar::OtlpHeaders.get() {
        let more = otlp::parse_headers(&text).map_err(|e| anyhow::anyhow!("ROHAS_TELEMETRY_OTLP_HEADERS: {e}"))?;
        options.headers.extend(more);
    }
    // The error names the endpoint itself, with any password masked.
    OtlpExporter::start(options, Arc::new(move |m| warn.warn(m))).map_err(|e| anyhow::anyhow!("[telemetry] {e}"))
}

/// Where the CLI on this machine reaches the engine: a wildcard listen
/// address is reached on loopback.
fn admin_address(bound: std::net::SocketAddr) -> std::net::SocketAddr {
    let mut address = bound;
    if bound.ip().is_unspecified() {
        address.set_ip(if bound.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    address
}

async fn start_runtime(
    project: &Project,
    config: &rohas_config::Config,
    host: Arc<EngineHost>,
) -> anyhow::Result<Arc<dyn Runtime>> {
    let options = RuntimeOptions {
        project_dir: project.root.clone(),
        dev: project.dev,
        workers: config
            .runtime
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        max_heap_mb: config.runtime.node_max_heap_mb,
        host,
    };
    match project.language {
        Language::Python => python_runtime(options),
        Language::Rust => Ok(rohas_runtime_rust::RustRuntime::start(options).map_err(anyhow::Error::msg)?),
        Language::TypeScript => Ok(rohas_runtime_node::NodeRuntime::start(options).map_err(anyhow::Error::msg)?),
    }
}

fn python_runtime(options: RuntimeOptions) -> anyhow::Result<Arc<dyn Runtime>> {
    let runtime = rohas_runtime_python::PythonRuntime::start(options).map_err(|e| {
        anyhow::anyhow!("{e}\nRohas embeds CPython 3.11: install it as a shared library (libpython3.11.so), the one `rohas` was built with")
    })?;
    Ok(runtime)
}

/// SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: it is called before the
/// ready line, so a signal sent as soon as a supervisor (or a test) sees
/// that line is a graceful stop, never the default kill.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => {},
                _ = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
