//! The environment variables that configure the `rohas` process itself
//! rather than a config key (`ROHAS_<SECTION>_<KEY>` overrides are in
//! `env.rs`). One list, so the crates that read them and the check that
//! warns about unknown `ROHAS_*` variables cannot disagree.

use std::ffi::OsString;

/// A variable of the process, by what it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessVar {
    /// The config file instead of `config/rohas.toml`.
    ConfigPath,
    /// The schema folder instead of `schema/`.
    SchemaPath,
    /// `trace`, `debug`, `info` (default), `warn`, `error`.
    LogLevel,
    /// Where cargo builds a Rust project's handlers.
    CargoTargetDir,
    /// Threads of a Rust project's handler library (read by the generated
    /// runtime inside the user's crate, listed here so it is known).
    RustWorkers,
    /// The `node` binary instead of `node` on `PATH`.
    Node,
    /// Seconds Node.js workers may take to import the handlers.
    NodeLoadTimeout,
    /// `[telemetry] otlp_headers` as one string (`k=v,k2=v2`).
    OtlpHeaders,
}

impl ProcessVar {
    pub const ALL: [ProcessVar; 8] = [
        ProcessVar::ConfigPath,
        ProcessVar::SchemaPath,
        ProcessVar::LogLevel,
        ProcessVar::CargoTargetDir,
        ProcessVar::RustWorkers,
        ProcessVar::Node,
        ProcessVar::NodeLoadTimeout,
        ProcessVar::OtlpHeaders,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProcessVar::ConfigPath => "ROHAS_CONFIG_PATH",
            ProcessVar::SchemaPath => "ROHAS_SCHEMA_PATH",
            ProcessVar::LogLevel => "ROHAS_LOG_LEVEL",
            ProcessVar::CargoTargetDir => "ROHAS_CARGO_TARGET_DIR",
            ProcessVar::RustWorkers => "ROHAS_RUST_WORKERS",
            ProcessVar::Node => "ROHAS_NODE",
            ProcessVar::NodeLoadTimeout => "ROHAS_NODE_LOAD_TIMEOUT",
            ProcessVar::OtlpHeaders => "ROHAS_TELEMETRY_OTLP_HEADERS",
        }
    }

    /// Its value, when set and not empty.
    pub fn get(self) -> Option<String> {
        std::env::var(self.name()).ok().filter(|v| !v.trim().is_empty())
    }

    /// Its value as the OS gave it (a path), when set and not empty.
    pub fn get_os(self) -> Option<OsString> {
        std::env::var_os(self.name()).filter(|v| !v.is_empty())
    }

    /// Whether `name` is one of these.
    pub fn is_one(name: &str) -> bool {
        ProcessVar::ALL.iter().any(|v| v.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::ProcessVar;

    #[test]
    fn every_variable_has_a_distinct_rohas_name() {
        let names: std::collections::HashSet<_> = ProcessVar::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(names.len(), ProcessVar::ALL.len());
        assert!(names.iter().all(|n| n.starts_with("ROHAS_")));
        assert!(ProcessVar::is_one("ROHAS_NODE"));
        assert!(!ProcessVar::is_one("ROHAS_SERVER_PORT"));
    }
}
