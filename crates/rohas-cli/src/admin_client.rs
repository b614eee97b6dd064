//! What `rohas dlq` and `rohas events` talk to: the running engine's admin
//! API when an engine serves the project (it acts at once: a replayed
//! message is picked up immediately), else the queue file directly (the
//! engine picks the changes up when it starts).

use crate::output::Output;
use crate::project;
use anyhow::{anyhow, bail, Context};
use rohas_config::Config;
use rohas_engine::rohas_events::{
    Adapter, DeadLetter, DeadLetterId, DeadLetterQuery, Message, Page, QueueLock, Replayed, Selection,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub enum Admin {
    Engine { url: String },
    Direct(Box<Direct>),
}

/// The queue file opened by this process (no engine runs).
pub struct Direct {
    adapter: Arc<dyn Adapter>,
    tokio: tokio::runtime::Runtime,
    root: std::path::PathBuf,
    config: Config,
}

impl Admin {
    /// The running engine if there is one, else the queue itself.
    pub fn connect(root: &Path, config: &Config) -> anyhow::Result<Admin> {
        let dir = crate::queue::dir(root, config);
        let announced = QueueLock::engine(&dir);
        match config.adapter.kind.as_str() {
            "local" if QueueLock::is_held(&dir) => match announced {
                Some(info) => Ok(Admin::Engine { url: info.url }),
                None => bail!(
                    "an engine holds the queue in {} but has not said where it serves (it may be starting); try again",
                    dir.display()
                ),
            },
            "local" => {
                let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let adapter = crate::queue::open(root, config)?;
                Ok(Admin::Direct(Box::new(Direct {
                    adapter,
                    tokio,
                    root: root.to_path_buf(),
                    config: config.clone(),
                })))
            }
            _ => match announced {
                Some(info) => Ok(Admin::Engine { url: info.url }),
                None => bail!(
                    "no engine is running, and the `{}` adapter keeps nothing between runs: start `rohas dev` first",
                    config.adapter.kind
                ),
            },
        }
    }

    pub fn dead_letters(&self, query: DeadLetterQuery) -> anyhow::Result<Page<DeadLetter>> {
        match self {
            Admin::Engine { url } => {
                let mut request = ureq::get(&format!("{url}/_rohas/dead-letters"));
                for (key, value) in [
                    ("event", &query.event),
                    ("handler", &query.handler),
                    ("after", &query.after),
                ] {
                    if let Some(v) = value {
                        request = request.query(key, v);
                    }
                }
                if let Some(limit) = query.limit {
                    request = request.query("limit", &limit.to_string());
                }
                answer(request.call())
            }
            Admin::Direct(d) => Ok(d.tokio.block_on(d.adapter.dead_letters(query))?),
        }
    }

    pub fn dead_letter(&self, id: &str) -> anyhow::Result<Option<DeadLetter>> {
        match self {
            Admin::Engine { url } => match ureq::get(&format!("{url}/_rohas/dead-letters/{id}")).call() {
                Err(ureq::Error::Status(404, _)) => Ok(None),
                other => answer(other).map(Some),
            },
            Admin::Direct(d) => Ok(d.tokio.block_on(d.adapter.dead_letter(DeadLetterId(id.into())))?),
        }
    }

    pub fn replay(&self, selection: Selection) -> anyhow::Result<Replayed> {
        match self {
            Admin::Engine { url } => {
                answer(ureq::post(&format!("{url}/_rohas/dead-letters/replay")).send_json(json!(selection)))
            }
            Admin::Direct(d) => Ok(d.tokio.block_on(d.adapter.replay(selection))?),
        }
    }

    pub fn purge(&self, selection: Selection) -> anyhow::Result<usize> {
        match self {
            Admin::Engine { url } => {
                let value: Value =
                    answer(ureq::post(&format!("{url}/_rohas/dead-letters/purge")).send_json(json!(selection)))?;
                Ok(value["purged"].as_u64().unwrap_or(0) as usize)
            }
            Admin::Direct(d) => Ok(d.tokio.block_on(d.adapter.purge(selection))?),
        }
    }

    /// Publish `payload` as `event`; returns the message id.
    pub fn publish(
        &self,
        event: &str,
        payload: Value,
        delay: Option<Duration>,
        out: &Output,
    ) -> anyhow::Result<String> {
        match self {
            Admin::Engine { url } => {
                let body = json!({ "payload": payload, "delay_ms": delay.map(|d| d.as_millis() as u64) });
                let value: Value = answer(ureq::post(&format!("{url}/_rohas/events/{event}")).send_json(body))?;
                Ok(value["id"].as_str().unwrap_or_default().to_string())
            }
            Admin::Direct(direct) => {
                let Direct {
                    adapter,
                    tokio,
                    root,
                    config,
                } = &**direct;
                let schema = project::load_schema(&project::schema_path(Some(&root.join("schema")))?, out)?;
                rohas_engine::publishing::known_event(&schema, event).map_err(|e| anyhow!(e))?;
                let schema = Arc::new(schema);
                let validator = rohas_engine::validate::Validator::new(schema.clone());
                let limit = config.events.max_payload_bytes;
                if let Some(problem) =
                    rohas_engine::publishing::payload_problem(&validator, &schema, limit, event, &payload)
                {
                    bail!("{problem}");
                }
                let subscriptions = rohas_engine::publishing::subscriptions(&schema);
                let trace_id = rohas_engine::log::new_trace_id();
                let message = Message::new(event, payload, trace_id, "cli").delayed(delay);
                let id = message.id.0.clone();
                tokio.block_on(async {
                    adapter.declare(&subscriptions).await?;
                    adapter.publish(vec![message]).await?;
                    Ok::<_, anyhow::Error>(())
                })?;
                Ok(id)
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Admin::Engine { url } => format!("the running engine ({url})"),
            Admin::Direct(_) => "the queue file (no engine is running)".into(),
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        if let Admin::Direct(d) = self {
            d.tokio.block_on(d.adapter.close());
        }
    }
}

/// A JSON answer, or the engine's error message.
fn answer<T: DeserializeOwned>(result: Result<ureq::Response, ureq::Error>) -> anyhow::Result<T> {
    match result {
        Ok(response) => response
            .into_json()
            .context("the engine's answer is not the JSON expected"),
        Err(ureq::Error::Status(status, response)) => {
            let body: Value = response.into_json().unwrap_or(Value::Null);
            let message = body["error"]["message"].as_str().unwrap_or("(no message)").to_string();
            Err(anyhow!("the engine answered {status}: {message}"))
        }
        Err(e) => Err(anyhow!("cannot reach the engine: {e}")),
    }
}
