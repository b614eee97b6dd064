//! `ROHAS_<SECTION>_<KEY>` environment overrides (12-factor).
//!
//! The variable name alone cannot say whether `ROHAS_PROJECT_VERSION=1.0` is a
//! string or a number, so every overridable key is listed here with its type;
//! the value is converted to that type before it is merged into the TOML
//! table, and a value that does not convert is an error naming the variable.

use crate::error::{ConfigError, ConfigWarning};
use toml::{Table, Value};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Str,
    Int,
    Float,
    Bool,
    StrList,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Int => "an integer",
            Kind::Float => "a number",
            Kind::Bool => "true or false",
            Kind::StrList => "a comma-separated list",
        }
    }
}

/// Every key (docs/configuration.md) that the environment may set, as `section.key` paths.
pub(crate) const KEYS: &[(&str, Kind)] = &[
    ("project.name", Kind::Str),
    ("project.version", Kind::Str),
    ("project.language", Kind::Str),
    ("server.host", Kind::Str),
    ("server.port", Kind::Int),
    ("server.enable_cors", Kind::Bool),
    ("server.max_body_bytes", Kind::Int),
    ("server.header_read_timeout_ms", Kind::Int),
    ("server.body_read_timeout_ms", Kind::Int),
    ("server.idle_timeout_ms", Kind::Int),
    ("server.max_connections", Kind::Int),
    ("server.max_connections_per_client", Kind::Int),
    ("runtime.workers", Kind::Int),
    ("runtime.node_max_heap_mb", Kind::Int),
    ("runtime.timeouts.api", Kind::Float),
    ("runtime.timeouts.event", Kind::Float),
    ("runtime.timeouts.cron", Kind::Float),
    ("runtime.timeouts.websocket", Kind::Float),
    ("adapter.type", Kind::Str),
    ("adapter.buffer_size", Kind::Int),
    ("adapter.sync", Kind::Str),
    ("adapter.path", Kind::Str),
    ("adapter.publish_timeout_ms", Kind::Int),
    ("adapter.retention_hours", Kind::Float),
    ("events.concurrency", Kind::Int),
    ("events.retry_base_ms", Kind::Int),
    ("events.retry_max_ms", Kind::Int),
    ("events.max_payload_bytes", Kind::Int),
    ("telemetry.path", Kind::Str),
    ("telemetry.retention_days", Kind::Int),
    ("telemetry.enable_metrics", Kind::Bool),
    ("telemetry.enable_logs", Kind::Bool),
    ("telemetry.enable_traces", Kind::Bool),
    ("telemetry.sample_ratio", Kind::Float),
    ("telemetry.max_size_mb", Kind::Int),
    ("telemetry.metrics_public", Kind::Bool),
    ("telemetry.otlp_endpoint", Kind::Str),
    ("telemetry.otlp_protocol", Kind::Str),
    ("workbench.allowed_origins", Kind::StrList),
    ("workbench.api_key", Kind::Str),
    ("cron.timezone", Kind::Str),
    ("websocket.max_message_bytes", Kind::Int),
    ("websocket.ping_interval_ms", Kind::Int),
    ("websocket.idle_timeout_ms", Kind::Int),
    ("websocket.max_queued_messages", Kind::Int),
];

/// The config section a `ROHAS_<SECTION>_…` variable names, if Rohas has it.
fn section_of(var: &str) -> Option<&'static str> {
    let rest = var.strip_prefix("ROHAS_")?;
    KEYS.iter()
        .map(|(path, _)| path.split('.').next().unwrap_or(path))
        .find(|section| {
            rest.strip_prefix(&section.to_uppercase())
                .is_some_and(|after| after.starts_with('_'))
        })
}

/// The known variable nearest to `var` (a typo of one or two letters).
fn closest_key(var: &str) -> Option<String> {
    KEYS.iter()
        .map(|(path, _)| var_name(path))
        .map(|name| (edit_distance(&name, var), name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

fn var_name(path: &str) -> String {
    format!("ROHAS_{}", path.replace('.', "_").to_uppercase())
}

/// Merge overrides from `vars` into `table`. Broker keys under `[adapter]`
/// that are not listed (`ROHAS_ADAPTER_URL`) are taken as strings.
pub(crate) fn apply(
    table: &mut Table,
    vars: impl Iterator<Item = (String, String)>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    for (var, value) in vars {
        if !var.starts_with("ROHAS_") || crate::ProcessVar::is_one(&var) {
            continue;
        }
        let known = KEYS.iter().find(|(path, _)| var_name(path) == var);
        let (path, kind) = match known {
            Some((path, kind)) => (path.to_string(), *kind),
            None => match var.strip_prefix("ROHAS_ADAPTER_") {
                Some(rest) if !rest.is_empty() => (format!("adapter.{}", rest.to_lowercase()), Kind::Str),
                _ => {
                    // A variable of a section Rohas has (`ROHAS_SERVER_PROT`) is
                    // a typo worth a warning; any other `ROHAS_*` name (a test
                    // tool's, a deploy script's) is not ours to judge.
                    if let Some(section) = section_of(&var) {
                        let hint = closest_key(&var)
                            .map(|k| format!(" (did you mean {k}?)"))
                            .unwrap_or_default();
                        warnings.push(ConfigWarning {
                            location: "environment".into(),
                            message: format!(
                                "{var} looks like a `[{section}]` key but matches none; it is ignored{hint}"
                            ),
                        });
                    }
                    continue;
                }
            },
        };
        let converted = convert(&value, kind).ok_or_else(|| ConfigError::Env {
            var: var.clone(),
            value: value.clone(),
            key: path.clone(),
            expected: kind.expected(),
        })?;
        set(table, &path, converted);
    }
    Ok(())
}

fn convert(value: &str, kind: Kind) -> Option<Value> {
    let v = value.trim();
    Some(match kind {
        Kind::Str => Value::String(value.to_string()),
        Kind::Int => Value::Integer(v.parse().ok()?),
        Kind::Float => Value::Float(v.parse().ok()?),
        Kind::Bool => Value::Boolean(match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return None,
        }),
        Kind::StrList => Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
    })
}

fn set(table: &mut Table, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else { return };
        current = next;
    }
    current.insert(last.to_string(), value);
}
