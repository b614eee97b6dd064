//! The project's event transport, as `[adapter]` configures it: opened by
//! `rohas dev`/`start` for the engine, and by `rohas dlq`/`rohas events`
//! when no engine runs.

use anyhow::bail;
use rohas_config::{Config, SyncMode};
use rohas_engine::rohas_events::{Adapter, LocalAdapter, LocalOptions, MemoryAdapter, QueueOptions, Sync};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The `local` queue's folder.
pub fn dir(root: &Path, config: &Config) -> PathBuf {
    root.join(&config.adapter.path)
}

fn queue_options(config: &Config) -> QueueOptions {
    QueueOptions {
        capacity: config.adapter.buffer_size.max(1),
        publish_timeout: Duration::from_millis(config.adapter.publish_timeout_ms),
    }
}

/// Open the configured adapter. `local` takes the queue's lock, so a
/// second engine on the same project stops here with a clear message.
pub fn open(root: &Path, config: &Config) -> anyhow::Result<Arc<dyn Adapter>> {
    match config.adapter.kind.as_str() {
        "memory" => Ok(Arc::new(MemoryAdapter::memory(queue_options(config)))),
        "local" => {
            let adapter = LocalAdapter::open(LocalOptions {
                dir: dir(root, config),
                sync: match config.adapter.sync {
                    SyncMode::Batch => Sync::Batch,
                    SyncMode::Always => Sync::Always,
                },
                retention: Duration::from_secs_f64(config.adapter.retention_hours.max(0.0) * 3600.0),
                queue: queue_options(config),
            })?;
            Ok(Arc::new(adapter))
        }
        "aws" => {
            let service = match config.adapter.options.get("aws_type").and_then(|v| v.as_str()) {
                Some(t) if t.eq_ignore_ascii_case("eventbridge") => "EventBridge",
                _ => "SQS",
            };
            bail!(
                "[adapter] type = \"aws\" ({service}) is not supported yet by this version of rohas\n  \
                 help: use type = \"local\" (the default: a durable queue in {}, no broker or AWS account needed) \
                 or \"memory\" in config/rohas.toml, or run with ROHAS_ADAPTER_TYPE=local; events marked \
                 `type: sqs` or `type: eventbridge` are then delivered by that adapter, not by AWS",
                config.adapter.path
            )
        }
        other => bail!(
            "[adapter] type = \"{other}\" is not available in this version of rohas: use \"local\" (the default: a durable queue in {}, no broker needed) or \"memory\"",
            config.adapter.path
        ),
    }
}
