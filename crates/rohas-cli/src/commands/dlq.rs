//! `rohas dlq list|show|replay|purge`: the dead letters of the project's
//! event queue, through the running engine or the queue file.

use crate::admin_client::Admin;
use crate::output::{stdout_line, Output};
use crate::project;
use anyhow::bail;
use rohas_engine::rohas_events::{DeadLetter, DeadLetterId, DeadLetterQuery, Selection};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// List dead letters, newest first.
    List {
        /// Only this event's.
        #[arg(long)]
        event: Option<String>,
        /// Only this handler's (its name or `event:<Event>:<handler>`).
        #[arg(long)]
        handler: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON (one array) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one dead letter: its message and every attempt's error.
    Show { id: String },
    /// Deliver dead letters to their handler again (same message id).
    Replay {
        /// Dead letter ids (from `rohas dlq list`).
        ids: Vec<String>,
        /// Every dead letter (of `--event`, if given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        #[arg(long, requires = "all")]
        event: Option<String>,
    },
    /// Delete dead letters for good.
    Purge {
        ids: Vec<String>,
        /// Every dead letter (of `--event`, if given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        #[arg(long)]
        event: Option<String>,
    },
}

fn selection(ids: Vec<String>, all: bool, event: Option<String>) -> anyhow::Result<Selection> {
    if all || (ids.is_empty() && event.is_some()) {
        return Ok(Selection::all(event));
    }
    if ids.is_empty() {
        bail!("name dead letters by id (see `rohas dlq list`), or use --all [--event NAME]");
    }
    Ok(Selection::Ids {
        ids: ids.into_iter().map(DeadLetterId).collect(),
    })
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let root = project::current_root()?;
    let config = rohas_config::load(&root)?.config;
    let admin = Admin::connect(&root, &config)?;
    out.detail(&format!("working on {}", admin.describe()));
    match args.command {
        Command::List {
            event,
            handler,
            limit,
            json,
        } => {
            let mut query = DeadLetterQuery {
                event,
                handler,
                limit: Some(limit.min(DeadLetterQuery::MAX_LIMIT)),
                after: None,
            };
            let mut items: Vec<DeadLetter> = Vec::new();
            loop {
                let page = admin.dead_letters(query.clone())?;
                items.extend(page.items);
                match page.next {
                    Some(next) if items.len() < limit => query.after = Some(next),
                    _ => break,
                }
            }
            items.truncate(limit);
            if json {
                stdout_line(&serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                out.info("no dead letters");
            } else {
                print_table(&items);
            }
        }
        Command::Show { id } => match admin.dead_letter(&id)? {
            Some(dead) => stdout_line(&serde_json::to_string_pretty(&dead)?),
            None => bail!("no dead letter {id}: list them with `rohas dlq list`"),
        },
        Command::Replay { ids, all, event } => {
            let done = admin.replay(selection(ids, all, event)?)?;
            out.success(&format!(
                "replayed {} dead letter(s) through {}",
                done.replayed,
                admin.describe()
            ));
            if !done.unknown.is_empty() {
                let unknown: Vec<String> = done.unknown.iter().map(|i| i.0.clone()).collect();
                out.error(&format!(
                    "no dead letter with id {}: list them with `rohas dlq list`",
                    unknown.join(", ")
                ));
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Purge { ids, all, event } => {
            let purged = admin.purge(selection(ids, all, event)?)?;
            out.success(&format!("purged {purged} dead letter(s)"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(items: &[DeadLetter]) {
    let rows: Vec<[String; 6]> = items
        .iter()
        .map(|d| {
            let error = d
                .attempts
                .last()
                .map(|a| a.error.replace('\n', " "))
                .unwrap_or_default();
            let error: String = if error.chars().count() > 60 {
                error.chars().take(57).chain("...".chars()).collect()
            } else {
                error
            };
            [
                d.id.0.clone(),
                d.event.clone(),
                d.handler.0.to_string(),
                d.attempts.len().to_string(),
                d.dead_at.rfc3339(),
                error,
            ]
        })
        .collect();
    let header = ["ID", "EVENT", "HANDLER", "ATTEMPTS", "DEAD AT", "LAST ERROR"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        stdout_line(line.join("  ").trim_end());
    }
}
