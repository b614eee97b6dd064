//! The typed configuration with its defaults (SPEC 7).

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    pub project: ProjectConfig,
    pub server: ServerConfig,
    pub runtime: RuntimeConfig,
    pub adapter: AdapterConfig,
    pub telemetry: TelemetryConfig,
    pub workbench: WorkbenchConfig,
    pub cron: CronConfig,
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

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub enable_cors: bool,
    pub max_body_bytes: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 3000,
            enable_cors: true,
            max_body_bytes: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RuntimeConfig {
    /// TypeScript worker processes; `None` means one per core.
    pub workers: Option<usize>,
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
    /// `memory`, `nats`, `kafka`, `rabbitmq`, `sqs` or `redis`.
    #[serde(rename = "type")]
    pub kind: String,
    pub buffer_size: usize,
    /// Each broker's own keys (`url`, `stream`, …), kept as written.
    #[serde(flatten)]
    pub options: BTreeMap<String, toml::Value>,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            kind: "memory".into(),
            buffer_size: 1024,
            options: BTreeMap::new(),
        }
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
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            path: ".rohas/telemetry".into(),
            retention_days: 30,
            enable_metrics: true,
            enable_logs: true,
            enable_traces: true,
            otlp_endpoint: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct WorkbenchConfig {
    pub allowed_origins: Vec<String>,
    pub api_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct CronConfig {
    /// IANA time zone name; `None` is the system time zone.
    pub timezone: Option<String>,
}
