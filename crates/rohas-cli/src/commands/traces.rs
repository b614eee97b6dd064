//! `rohas traces` (recent traces, newest first) and `rohas trace ID` (one
//! trace as a waterfall), from the running engine or the telemetry file.

use super::telemetry_args::{parse_duration, parse_kind, parse_since, unix_ms};
use super::telemetry_text::{self as text, Paint};
use crate::output::{stdout_line, Output};
use crate::project;
use crate::telemetry_client::{Ask, TelemetrySource, TraceSummary, TraceTree};
use anyhow::{anyhow, Context};
use rohas_telemetry::SpanKind;
use serde_json::json;
use std::process::ExitCode;
use std::time::Duration;

/// Most traces one request asks for (the API's page limit).

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only traces in which this handler ran (its id: api:CreateUser, event:UserCreated:sendWelcome).
    #[arg(long, value_name = "ID")]
    handler: Option<String>,
    /// Only traces that began with this kind of span: request, cron, delivery, ws_message …
    #[arg(long, value_parser = parse_kind)]
    kind: Option<SpanKind>,
    /// Only traces in which some span failed.
    #[arg(long)]
    errors: bool,
    /// Only traces whose first span took at least this long: 100ms, 2s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    slower_than: Option<Duration>,
    /// Only traces begun since then: 10m, 2h, 1d back, or a time (2026-12-05T10:00:00Z).
    #[arg(long, value_parser = parse_since, value_name = "WHEN")]
    since: Option<u64>,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Print the telemetry API's JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The trace id (from `rohas traces`, a log line, or a response's `x-trace-id`).
    id: String,
    /// Print the telemetry API's JSON (the span tree with its logs) instead of a waterfall.
    #[arg(long)]
    json: bool,
}

pub fn list(args: ListArgs, out: &Output) -> anyhow::Result<ExitCode> {
    let source = connect(out)?;
    let filters = vec![
        ("handler", args.handler.clone()),
        ("kind", args.kind.map(|k| k.as_str().to_string())),
        ("status", args.errors.then(|| "error".to_string())),
        (
            "min_duration_ms",
            args.slower_than.map(|d| (d.as_secs_f64() * 1e3).to_string()),
        ),
        ("since", args.since.map(unix_ms)),
    ];
    let filtered = filters.iter().any(|(_, v)| v.is_some());
    let (items, next) = source.newest(|q| Ask::Traces(q), &filters, args.limit, "trace list")?;
    if args.json {
        stdout_line(&serde_json::to_string_pretty(&json!({ "items": items, "next": next }))?);
        return Ok(ExitCode::SUCCESS);
    }
    let traces: Vec<TraceSummary> = items
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .context("the engine's trace list is not the JSON expected")?;
    if traces.is_empty() {
        out.info(if filtered {
            "no traces match these filters"
        } else {
            "no traces yet"
        });
        return Ok(ExitCode::SUCCESS);
    }
    let lines = table(&traces);
    let paint = Paint::stdout();
    // Failed traces stand out on a terminal: the whole row, so the widths
    // the table measured stay true.
    for (i, line) in lines.iter().enumerate() {
        let failed = i > 0 && traces[i - 1].errors > 0;
        stdout_line(&if failed {
            paint.error(line)
        } else {
            paint.dim_if(i == 0, line)
        });
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: ShowArgs, out: &Output) -> anyhow::Result<ExitCode> {
    let source = connect(out)?;
    let Some(answer) = source.ask(&Ask::Trace(&args.id))? else {
        return Err(anyhow!(
            "no trace `{}` in {}\n  help: list recent traces with `rohas traces`",
            args.id,
            source.describe()
        ));
    };
    if args.json {
        stdout_line(&serde_json::to_string_pretty(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    let tree: TraceTree = serde_json::from_value(answer).context("the engine's trace is not the JSON expected")?;
    for line in super::waterfall::render(&tree, text::width(), Paint::stdout()) {
        stdout_line(&line);
    }
    Ok(ExitCode::SUCCESS)
}

fn connect(out: &Output) -> anyhow::Result<TelemetrySource> {
    let root = project::current_root()?;
    let config = rohas_config::load(&root)?.config;
    let source = TelemetrySource::connect(&root, &config);
    out.detail(&format!("reading {}", source.describe()));
    Ok(source)
}

fn table(traces: &[TraceSummary]) -> Vec<String> {
    let rows: Vec<Vec<String>> = traces
        .iter()
        .map(|t| {
            vec![
                text::time(t.root.start_ns),
                t.trace_id.clone(),
                text::fit(&t.root.name, 48),
                t.root.kind.as_str().to_string(),
                if t.errors > 0 { "error" } else { "ok" }.to_string(),
                text::duration(t.duration_ns),
                t.spans.to_string(),
                t.errors.to_string(),
            ]
        })
        .collect();
    text::table(
        &["TIME", "TRACE", "ROOT", "KIND", "STATUS", "DURATION", "SPANS", "ERRORS"],
        &rows,
    )
}
