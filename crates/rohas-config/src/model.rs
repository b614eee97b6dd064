//! The typed configuration with its defaults (every key is described in
//! docs/configuration.md).

use crate::secret::{BrokerOptions, Secret};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    pub project: ProjectConfig,
    pub server: ServerConfig,
    pub runtime: RuntimeConfig,
    pub adapter: AdapterConfig,
    pub events: EventsConfig,
    pub telemetry: TelemetryConfig,
    pub workbench: WorkbenchConfig,
    pub cron: CronConfig,
    pub websocket: WebSocketConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProjectConfig {
    pub name: String,
    pub version: String,
    /// `python`, `typescript` or `rust`; `None` when not set (the CLI then
    /// looks at the project files).
    pub language: Option<String>,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        ProjectConfig {
            name: "rohas-app".into(),
            version: "0.1.0".into(),
            language: None,
        }
    }
}

/// The HTTP listener. The timeouts and the connection cap bound what one
/// client can hold: without them a few hundred connections that send half
/// a request, or a few thousand idle ones, shut everyone else out.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub enable_cors: bool,
    pub max_body_bytes: u64,
    /// How long a client has to send a request's headers: from the
    /// connection's start for its first request, from the first byte for
    /// the next ones. A connection past it is closed.
    pub header_read_timeout_ms: u64,
    /// How long a client has to send a whole request body once its headers
    /// came; past it the answer is 408 and the connection is closed.
    pub body_read_timeout_ms: u64,
    /// How long a keep-alive connection may wait, between requests, for
    /// the next one before it is closed.
    pub idle_timeout_ms: u64,
    /// Connections open at once (WebSockets included); one more is
    /// answered 503 and closed, and the others keep being served.
    pub max_connections: usize,
    /// Connections one client (an IPv4 address, an IPv6 /64) may hold open
    /// at once; its next one is answered 503 and closed while other
    /// clients are served. `None`: [`DEFAULT_SHARE`] of `max_connections`,
    /// `Some(0)`: no per-client limit. Read it through
    /// [`ServerConfig::connections_per_client`].
    pub max_connections_per_client: Option<usize>,
}

/// The default per-client limit is `max_connections` divided by this: one
/// client can hold an eighth of the slots, so however many connections it
/// opens, seven eighths stay for everyone else, and a reverse proxy or a
/// busy office behind one NAT address (which look like one client) still
/// gets 1250 connections with the default `max_connections`.
pub const DEFAULT_SHARE: usize = 8;

/// The default per-client limit is never below this many connections, so
/// a small `max_connections` does not cut off a browser (which opens up to
/// six connections to one host) or a small pool.
pub const DEFAULT_PER_CLIENT_FLOOR: usize = 8;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 3000,
            enable_cors: true,
            max_body_bytes: 1024 * 1024,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 10_000,
            max_connections_per_client: None,
        }
    }
}

impl ServerConfig {
    /// The per-client connection limit in effect, or `None` when there is
    /// none: turned off with 0, or not below `max_connections` (the global
    /// cap then refuses first).
    pub fn connections_per_client(&self) -> Option<usize> {
        let limit = self
            .max_connections_per_client
            .unwrap_or((self.max_connections / DEFAULT_SHARE).max(DEFAULT_PER_CLIENT_FLOOR));
        (limit > 0 && limit < self.max_connections).then_some(limit)
    }
}

/// WebSocket connections: limits on what one client may send, and on what
/// it may leave unread, so that one client cannot exhaust memory or hold
/// up the others.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct WebSocketConfig {
    /// A larger message from a client closes its connection (code 1009).
    pub max_message_bytes: usize,
    /// How often the server pings each client.
    pub ping_interval_ms: u64,
    /// A connection from which nothing (a message, a pong) has come for
    /// this long is closed (code 1001) and `onDisconnect` runs.
    pub idle_timeout_ms: u64,
    /// Messages waiting to be sent to one client; a client that falls this
    /// far behind (it stopped reading) is disconnected.
    pub max_queued_messages: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            max_message_bytes: 1024 * 1024,
            ping_interval_ms: 20_000,
            idle_timeout_ms: 60_000,
            max_queued_messages: 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RuntimeConfig {
    /// TypeScript worker processes; `None` means one per core.
    pub workers: Option<usize>,
    /// Heap limit of each Node.js worker in MiB (`--max-old-space-size`);
    /// `None` leaves Node's own default. A worker that goes over it dies,
    /// fails the calls it was running, and is replaced, instead of growing
    /// until the machine runs out of memory.
    pub node_max_heap_mb: Option<u64>,
    pub timeouts: Timeouts,
}

/// Handler timeouts in seconds, per handler kind.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct Timeouts {
    pub api: f64,
    pub event: f64,
    pub cron: f64,
    pub websocket: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            api: 30.0,
            event: 30.0,
            cron: 30.0,
            websocket: 30.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct AdapterConfig {
    /// `local` (default: the embedded durable queue), `memory`, or a
    /// broker (`nats`, `rabbitmq`, `redis`, `postgres`, `kafka`, `sqs`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Deliveries one event handler may have waiting before publishing
    /// to it waits (back-pressure).
    pub buffer_size: usize,
    /// `local`: how much a commit promises (see [`SyncMode`]).
    pub sync: SyncMode,
    /// `local`: the queue's folder, relative to the project.
    pub path: String,
    /// How long publishing waits for room in a full queue before it fails
    /// (an API caller then gets 503).
    pub publish_timeout_ms: u64,
    /// `local`: how long acknowledged messages are kept, in hours.
    pub retention_hours: f64,
    /// Each broker's own keys (`url`, `stream`, …), kept as written;
    /// printed with passwords hidden.
    #[serde(flatten)]
    pub options: BrokerOptions,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            kind: "local".into(),
            buffer_size: 100_000,
            sync: SyncMode::Batch,
            path: ".rohas/queue".into(),
            publish_timeout_ms: 5_000,
            retention_hours: 24.0,
            options: BrokerOptions::default(),
        }
    }
}

/// What the `local` queue's commit promises.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// A crash of the process loses nothing; a power loss at most the last
    /// ~10 ms (the file is flushed to disk that often).
    #[default]
    Batch,
    /// Every publish is on disk before it returns.
    Always,
}

/// How event handlers are run.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct EventsConfig {
    /// Deliveries one event handler runs at once.
    pub concurrency: usize,
    /// Per handler (`"Event.handler"`) or per event (`"Event"`): deliveries
    /// at once; 1 keeps publish order.
    pub handler_concurrency: BTreeMap<String, usize>,
    /// Backoff before the second attempt; doubles each time, with jitter.
    pub retry_base_ms: u64,
    /// The longest backoff.
    pub retry_max_ms: u64,
    /// An event payload larger than this (as JSON) is refused.
    pub max_payload_bytes: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            concurrency: 256,
            handler_concurrency: BTreeMap::new(),
            retry_base_ms: 100,
            retry_max_ms: 30_000,
            max_payload_bytes: 256 * 1024,
        }
    }
}

impl EventsConfig {
    /// Deliveries at once for `handler` of `event`.
    pub fn concurrency_of(&self, event: &str, handler: &str) -> usize {
        self.handler_concurrency
            .get(&format!("{event}.{handler}"))
            .or_else(|| self.handler_concurrency.get(event))
            .copied()
            .unwrap_or(self.concurrency)
            .max(1)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct TelemetryConfig {
    pub path: String,
    pub retention_days: u32,
    pub enable_metrics: bool,
    pub enable_logs: bool,
    pub enable_traces: bool,
    /// Share of traces stored and exported, 0.0 to 1.0 (metrics count
    /// every request whatever the share).
    pub sample_ratio: f64,
    /// Cap on the stored telemetry; the oldest is deleted beyond it.
    pub max_size_mb: u64,
    /// `/metrics` answers any address without the workbench key.
    pub metrics_public: bool,
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (default) or `grpc`.
    pub otlp_protocol: String,
    /// Extra headers sent with every export (an API key of a hosted
    /// backend): secrets, never printed.
    pub otlp_headers: BTreeMap<String, Secret>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            path: ".rohas/telemetry".into(),
            retention_days: 30,
            enable_metrics: true,
            enable_logs: true,
            enable_traces: true,
            sample_ratio: 1.0,
            max_size_mb: 1024,
            metrics_public: false,
            otlp_endpoint: None,
            otlp_protocol: "http/protobuf".into(),
            otlp_headers: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct WorkbenchConfig {
    pub allowed_origins: Vec<String>,
    /// The bearer token the admin, telemetry and workbench APIs ask of
    /// clients off loopback.
    pub api_key: Option<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct CronConfig {
    /// IANA time zone name; `None` is the system time zone.
    pub timezone: Option<String>,
}
