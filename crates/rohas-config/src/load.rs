//! Reading `config/rohas.toml`: defaults, then the file, then the environment.

use crate::env;
use crate::error::{ConfigError, ConfigWarning};
use crate::model::Config;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A loaded configuration and what was noticed while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<ConfigWarning>,
    /// The file that was read; `None` when the project has none (defaults only).
    pub path: Option<PathBuf>,
}

/// Load the configuration of the project in `project_dir`: the file named by
/// `ROHAS_CONFIG_PATH`, else `config/rohas.toml` when it exists, else
/// defaults; then `ROHAS_<SECTION>_<KEY>` overrides from the process environment.
pub fn load(project_dir: &Path) -> Result<Loaded, ConfigError> {
    let explicit = crate::ProcessVar::ConfigPath.get_os().map(PathBuf::from);
    let path = match explicit {
        Some(p) => Some(if p.is_absolute() { p } else { project_dir.join(p) }),
        None => Some(project_dir.join("config/rohas.toml")).filter(|p| p.exists()),
    };
    let text = match &path {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
            path: p.clone(),
            source,
        })?),
        None => None,
    };
    load_file(path.as_deref(), text.as_deref(), std::env::vars())
}

/// Load from given text (the file at `path`, used in messages) and
/// environment variables. `text: None` means defaults only.
pub fn load_file(
    path: Option<&Path>,
    text: Option<&str>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let shown = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("config/rohas.toml"));
    let mut warnings = Vec::new();
    let text = text.unwrap_or("");

    // First pass on the text itself, so syntax and type errors keep their
    // position and every key serde does not know is reported.
    let mut ignored = Vec::new();
    let de = toml::Deserializer::new(text);
    serde_ignored::deserialize(de, |p| ignored.push(p.to_string()))
        .map(|_: Config| ())
        .map_err(|e| invalid(&shown, text, &e))?;
    for key in ignored {
        warnings.push(ConfigWarning {
            location: format!("{}:{}", shown.display(), line_of_key(text, &key)),
            message: format!("unknown key `{key}` is ignored{}", suggestion(&key)),
        });
    }

    // Second pass with the environment merged in. Values from the environment
    // were converted to the key's type already, so this cannot fail on them.
    let mut table: toml::Table = toml::from_str(text).map_err(|e| invalid(&shown, text, &e))?;
    env::apply(&mut table, vars.into_iter(), &mut warnings)?;
    let mut config = Config::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Invalid {
        path: shown.clone(),
        line: 0,
        key: None,
        message: e.to_string(),
    })?;
    check_values(&mut config, &shown, text, &mut warnings)?;
    Ok(Loaded {
        config,
        warnings,
        path: path.map(Path::to_path_buf),
    })
}

fn check_values(
    config: &mut Config,
    path: &Path,
    text: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    if let Some(lang) = &mut config.project.language {
        // Upstream rohas writes the short names; everything downstream
        // reads the long ones.
        let long = match lang.as_str() {
            "py" => Some("python"),
            "ts" => Some("typescript"),
            "rs" => Some("rust"),
            _ => None,
        };
        if let Some(long) = long {
            *lang = long.to_string();
        }
        if !matches!(lang.as_str(), "python" | "typescript" | "rust") {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(text, "project.language"),
                key: Some("project.language".into()),
                message: format!("unknown language {lang:?}: expected \"python\", \"typescript\" or \"rust\""),
            });
        }
    }
    // `aws` (upstream rohas's SQS/EventBridge adapter, with `aws_type`,
    // `region`, `queue_prefix`) is a known name so the file loads for
    // commands that need no queue; `rohas dev`/`start` refuse it with
    // what to use instead.
    const ADAPTERS: &[&str] = &[
        "local", "memory", "nats", "rabbitmq", "redis", "postgres", "kafka", "sqs", "aws",
    ];
    if !ADAPTERS.contains(&config.adapter.kind.as_str()) {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, "adapter.type"),
            key: Some("adapter.type".into()),
            message: format!(
                "unknown adapter {:?}: expected one of {}",
                config.adapter.kind,
                ADAPTERS.join(", ")
            ),
        });
    }
    let t = &config.runtime.timeouts;
    for (name, secs) in [
        ("api", t.api),
        ("event", t.event),
        ("cron", t.cron),
        ("websocket", t.websocket),
    ] {
        if !(secs > 0.0 && secs.is_finite()) {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(text, &format!("runtime.timeouts.{name}")),
                key: Some(format!("runtime.timeouts.{name}")),
                message: format!("timeout must be a positive number of seconds, got {secs}"),
            });
        }
    }
    let s = &config.server;
    let w = &config.websocket;
    for (key, value) in [
        ("server.header_read_timeout_ms", s.header_read_timeout_ms),
        ("server.body_read_timeout_ms", s.body_read_timeout_ms),
        ("server.idle_timeout_ms", s.idle_timeout_ms),
        ("server.max_connections", s.max_connections as u64),
        ("websocket.max_message_bytes", w.max_message_bytes as u64),
        ("websocket.ping_interval_ms", w.ping_interval_ms),
        ("websocket.idle_timeout_ms", w.idle_timeout_ms),
        ("websocket.max_queued_messages", w.max_queued_messages as u64),
    ] {
        if value == 0 {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of_key(text, key),
                key: Some(key.into()),
                message: "must be greater than 0 (it is a limit that keeps one client from holding the server; \
                          remove the key to use the default)"
                    .into(),
            });
        }
    }
    if w.ping_interval_ms >= w.idle_timeout_ms {
        warnings.push(ConfigWarning {
            location: format!("{}:{}", path.display(), line_of_key(text, "websocket.ping_interval_ms")),
            message: format!(
                "`websocket.ping_interval_ms` ({}) is not below `websocket.idle_timeout_ms` ({}): \
                 clients that answer every ping are still disconnected as idle",
                w.ping_interval_ms, w.idle_timeout_ms
            ),
        });
    }
    // Not an error: a limit that never bites is harmless, and the two keys
    // are often set in different places (file and environment).
    if let Some(per_client) = s.max_connections_per_client.filter(|&n| n >= s.max_connections) {
        warnings.push(ConfigWarning {
            location: format!(
                "{}:{}",
                path.display(),
                line_of_key(text, "server.max_connections_per_client")
            ),
            message: format!(
                "`server.max_connections_per_client` ({per_client}) is not below `server.max_connections` ({}): \
                 one client can take every connection. Lower it, or set it to 0 to say there is no per-client limit",
                s.max_connections
            ),
        });
    }
    let ratio = config.telemetry.sample_ratio;
    if !(0.0..=1.0).contains(&ratio) {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, "telemetry.sample_ratio"),
            key: Some("telemetry.sample_ratio".into()),
            message: format!("sample_ratio is the share of traces kept, from 0.0 to 1.0, got {ratio}"),
        });
    }
    const OTLP: &[&str] = &["http/protobuf", "grpc"];
    if !OTLP.contains(&config.telemetry.otlp_protocol.as_str()) {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, "telemetry.otlp_protocol"),
            key: Some("telemetry.otlp_protocol".into()),
            message: format!(
                "unknown OTLP protocol {:?}: expected one of {}",
                config.telemetry.otlp_protocol,
                OTLP.join(", ")
            ),
        });
    }
    if config.runtime.node_max_heap_mb == Some(0) {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            line: line_of_key(text, "runtime.node_max_heap_mb"),
            key: Some("runtime.node_max_heap_mb".into()),
            message: "must be greater than 0 (MiB of heap per Node.js worker; remove the key to use Node's default)"
                .into(),
        });
    }
    if config.runtime.workers == Some(0) {
        warnings.push(ConfigWarning {
            location: format!("{}:{}", path.display(), line_of_key(text, "runtime.workers")),
            message: "`runtime.workers = 0` means one worker per core".into(),
        });
    }
    Ok(())
}

fn invalid(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let offset = err.span().map_or(0, |s| s.start);
    let line = text[..offset.min(text.len())].matches('\n').count() + 1;
    let key = key_at_line(text, line);
    let mut message = err.message().trim().to_string();
    // toml quotes the value it found (`invalid type: integer `4242``):
    // not when the value is a secret.
    if key.as_deref().is_some_and(holds_secret) {
        message = without_quoted(&message);
    }
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        key,
        message,
    }
}

/// Whether the value at a dotted key is a secret: the workbench key, OTLP
/// headers, a broker's password or token.
fn holds_secret(key: &str) -> bool {
    key == "workbench.api_key"
        || key.starts_with("telemetry.otlp_headers")
        || key.strip_prefix("adapter.").is_some_and(crate::is_secret_key)
}

/// `message` with every `quoted` part replaced by `***`.
fn without_quoted(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { crate::HIDDEN } else { part })
        .collect::<Vec<_>>()
        .join("`")
}

/// The dotted key defined on `line` (1-based), with its `[section]` prefix.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let mut section = String::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.trim().to_string();
        }
        if i + 1 == line {
            let key = l.split_once('=')?.0.trim();
            return Some(if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            });
        }
    }
    None
}

/// The line where dotted `key` is set, or 1 when it cannot be found.
fn line_of_key(text: &str, key: &str) -> usize {
    let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    let mut section_line = None;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(s) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = s.trim().to_string();
            if current == key {
                return i + 1;
            }
            if current == section {
                section_line = Some(i + 1);
            }
            continue;
        }
        if current == section && t.split_once('=').is_some_and(|(k, _)| k.trim() == name) {
            return i + 1;
        }
    }
    section_line.unwrap_or(1)
}

fn suggestion(key: &str) -> String {
    let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
    let candidates = env::KEYS.iter().filter_map(|(path, _)| {
        let (s, n) = path.rsplit_once('.')?;
        (s == section || section.is_empty()).then_some(n)
    });
    let best = candidates
        .map(|c| (strsim::jaro_winkler(c, name), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}
