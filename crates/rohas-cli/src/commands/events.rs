//! `rohas events publish NAME 'JSON'`: publish an event by hand, through
//! the running engine or into the queue file for the next start.

use crate::admin_client::Admin;
use crate::output::{stdout_line, Output};
use crate::project;
use anyhow::{bail, Context};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Publish one event; prints its message id.
    Publish {
        /// The event's name in the schema.
        name: String,
        /// The payload as JSON (default: null).
        payload: Option<String>,
        /// Deliver no earlier than this from now: 500ms, 30s, 5m, 2h (a bare number is seconds).
        #[arg(long, value_parser = parse_delay)]
        delay: Option<Duration>,
    },
}

pub fn parse_delay(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a delay: use e.g. 500ms, 30s, 5m or 2h"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit `{other}` in `{text}`: use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let root = project::current_root()?;
    let config = rohas_config::load(&root)?.config;
    match args.command {
        Command::Publish { name, payload, delay } => {
            let payload = match payload {
                Some(text) => {
                    serde_json::from_str(&text).with_context(|| format!("the payload is not valid JSON: {text}"))?
                }
                None => serde_json::Value::Null,
            };
            let admin = Admin::connect(&root, &config)?;
            let id = admin.publish(&name, payload, delay, out)?;
            if id.is_empty() {
                bail!("the engine did not say which message it published");
            }
            out.success_aside(&format!("published {name} through {}", admin.describe()));
            stdout_line(&id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_delay;
    use std::time::Duration;

    #[test]
    fn delays_read_like_people_write_them() {
        assert_eq!(parse_delay("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_delay("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_delay("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_delay("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_delay("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_delay("soon").is_err());
    }
}
