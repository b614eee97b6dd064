//! `rohas validate [PATH]`: check a schema file or folder; exit 0 when it has
//! no error, 1 otherwise.

use crate::output::Output;
use crate::project;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas validate                      the current project's schema/\n  rohas validate schema/api/users.ro  one file\n  rohas validate examples/python-hello"
)]
pub struct Args {
    /// A .ro file, a schema folder, or a project folder (default: the current project's schema/).
    pub path: Option<std::path::PathBuf>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let path = project::schema_path(args.path.as_deref())?;
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
