//! `rohas validate [PATH] [--format human|json|github]`: check a schema
//! file or folder; exit 0 when it has no error, 1 otherwise.
//!
//! `human` renders diagnostics for people (stderr) and a summary line;
//! `json` and `github` print only the machine form on stdout, for editors,
//! scripts and GitHub Actions annotations.

use crate::output::Output;
use crate::project;
use anyhow::Context;
use std::process::ExitCode;

/// How the diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered with the source line and a caret, on stderr; a summary on stdout.
    Human,
    /// One JSON document on stdout (keys in docs/cli.md).
    Json,
    /// GitHub Actions workflow commands (`::error file=…`) on stdout.
    Github,
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas validate                      the current project's schema/\n  rohas validate schema/api/users.ro  one file\n  rohas validate examples/python-hello\n  rohas validate --format github      annotate a pull request from GitHub Actions"
)]
pub struct Args {
    /// A .ro file, a schema folder, or a project folder (default: the current project's schema/).
    pub path: Option<std::path::PathBuf>,
    /// Output format: human, json or github.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let path = project::schema_path(args.path.as_deref())?;
    if args.format != Format::Human {
        return machine(&path, args.format);
    }
    let checked = project::check_schema(&path, out)?;
    let Some(schema) = &checked.schema else {
        out.error(&format!(
            "{} is invalid: {}",
            path.display(),
            project::summary(&checked)
        ));
        return Ok(ExitCode::FAILURE);
    };
    let declarations = schema.types.len()
        + schema.enums.len()
        + schema.apis.len()
        + schema.events.len()
        + schema.crons.len()
        + schema.websockets.len();
    let files = checked.sources.files().count();
    let warnings = checked.diagnostics.len();
    let warned = if warnings == 0 {
        String::new()
    } else {
        format!(", {warnings} warning(s)")
    };
    out.success(&format!(
        "{} is valid: {declarations} declaration(s) in {files} file(s){warned}",
        path.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The diagnostics in a machine format on stdout, paths relative to the
/// current folder (the repository root in CI); nothing on stderr.
fn machine(path: &std::path::Path, format: Format) -> anyhow::Result<ExitCode> {
    let checked = rohas_schema::check_path(path)?;
    let base = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let report = rohas_schema::report::report(&checked.sources, &checked.diagnostics, base.as_deref());
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&report).context("cannot write the report as JSON")?,
        Format::Github | Format::Human => rohas_schema::report::github(&report).trim_end().to_string(),
    };
    if !text.is_empty() {
        crate::output::stdout_line(&text);
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
