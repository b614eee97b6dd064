//! `rohas logs`: the newest stored log lines, oldest first like a log
//! file; with `-f`, then every new line as the running engine writes it,
//! until Ctrl-C.

use super::telemetry_args::{parse_level, parse_since, unix_ms};
use super::telemetry_text::{self as text, Paint};
use crate::output::{stdout_line, Output};
use crate::project;
use crate::telemetry_client::{query_string, Ask, LogStream, TelemetrySource};
use anyhow::Context;
use rohas_telemetry::{Level, LogEntry};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Most lines one request asks for (the API's page limit).

#[derive(clap::Args)]
pub struct Args {
    /// Keep printing new lines as the running engine writes them (Ctrl-C ends).
    #[arg(short, long)]
    follow: bool,
    /// Only this trace's lines.
    #[arg(long, value_name = "ID")]
    trace: Option<String>,
    /// Only this level and above: trace, debug, info, warn, error.
    #[arg(long, value_parser = parse_level)]
    level: Option<Level>,
    /// Only lines written by this handler (api:CreateUser, or just CreateUser), or `engine`.
    #[arg(long, value_name = "ID")]
    handler: Option<String>,
    /// Only lines whose message or fields hold this text (any case).
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,
    /// Only lines since then: 10m, 2h, 1d back, or a time (2026-12-05T10:00:00Z).
    #[arg(long, value_parser = parse_since, value_name = "WHEN")]
    since: Option<u64>,
    /// Print the newest this many stored lines (with -f: before following).
    #[arg(short = 'n', long, default_value_t = 50)]
    limit: usize,
    /// Print JSON: the telemetry API's page, or with -f one entry per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let root = project::current_root()?;
    let config = rohas_config::load(&root)?.config;
    let source = TelemetrySource::connect(&root, &config);
    out.detail(&format!("reading {}", source.describe()));
    let filters = vec![
        ("level", args.level.map(|l| l.as_str().to_string())),
        ("handler", args.handler.clone()),
        ("trace", args.trace.clone()),
        ("text", args.grep.clone()),
    ];
    let paint = Paint::stdout();
    if !args.follow {
        let mut stored = filters.clone();
        stored.push(("since", args.since.map(unix_ms)));
        let (items, next) = source.newest(|q| Ask::Logs(q), &stored, args.limit, "log list")?;
        if args.json {
            stdout_line(&serde_json::to_string_pretty(&json!({ "items": items, "next": next }))?);
            return Ok(ExitCode::SUCCESS);
        }
        let entries = entries(items)?;
        if entries.is_empty() {
            out.info(if filters.iter().any(|(_, v)| v.is_some()) || args.since.is_some() {
                "no log lines match these filters"
            } else {
                "no log lines yet"
            });
        }
        for entry in entries.iter().rev() {
            print(entry, args.json, paint)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    follow(&source, args, filters, paint, out)
}

/// Connects to the live stream first, then prints the newest stored lines
/// and what the stream brought meanwhile, skipping a line both had.
fn follow(
    source: &TelemetrySource,
    args: Args,
    filters: Vec<(&str, Option<String>)>,
    paint: Paint,
    out: &Output,
) -> anyhow::Result<ExitCode> {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // Ctrl-C is the normal way out: caught from the start, so it ends the
    // command quietly instead of killing it mid-line.
    let stop = {
        let _inside = tokio.enter();
        crate::serve::shutdown_signal()
    };
    let stream = source.stream(&query_string(&filters))?;
    let mut stored = filters;
    stored.push(("since", args.since.map(unix_ms)));
    let (items, _) = source.newest(|q| Ask::Logs(q), &stored, args.limit, "log list")?;
    let history = entries(items)?;
    for entry in history.iter().rev() {
        print(entry, args.json, paint)?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<LogEntry>>(1024);
    // The stream reads block; a thread of its own keeps them apart from
    // the signal. It ends with the process.
    std::thread::spawn(move || pump(stream, tx));
    let newest_stored = history.first().map(|e| e.time_ns);
    tokio.block_on(async move {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(ExitCode::SUCCESS),
                line = rx.recv() => match line {
                    Some(Ok(entry)) => {
                        let seen = newest_stored.is_some_and(|t| entry.time_ns <= t) && history.contains(&entry);
                        if !seen {
                            print(&entry, args.json, paint)?;
                        }
                    }
                    Some(Err(e)) => return Err(e),
                    None => {
                        if !out.quiet {
                            eprintln!("the engine closed the log stream (it stopped); nothing more to follow");
                        }
                        return Ok(ExitCode::SUCCESS);
                    }
                },
            }
        }
    })
}

fn pump(stream: LogStream, tx: tokio::sync::mpsc::Sender<anyhow::Result<LogEntry>>) {
    for line in stream {
        let failed = line.is_err();
        if tx.blocking_send(line).is_err() || failed {
            return;
        }
    }
}

fn entries(items: Vec<Value>) -> anyhow::Result<Vec<LogEntry>> {
    items
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .context("the engine's log lines are not the JSON expected")
}

/// `2026-12-05 10:00:00.123  WARN   api:CreateUser  message  key=value  trace=…`
fn print(entry: &LogEntry, json: bool, paint: Paint) -> anyhow::Result<()> {
    if json {
        stdout_line(&serde_json::to_string(entry)?);
        return Ok(());
    }
    let mut line = format!(
        "{}  {}  {}  {}",
        paint.dim(&text::time(entry.time_ns)),
        paint.level(entry.level, &text::level(entry.level)),
        entry.source,
        text::message(entry)
    );
    if let Some(trace) = &entry.trace_id {
        line.push_str(&paint.dim(&format!("  trace={trace}")));
    }
    stdout_line(&line);
    Ok(())
}
