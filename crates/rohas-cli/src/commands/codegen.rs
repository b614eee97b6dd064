//! `rohas codegen`: write `src/generated/` and stubs for handlers that have
//! no file yet; `--openapi` prints the OpenAPI document instead.
//!
//! An invalid schema prints its diagnostics and writes nothing.

use crate::output::Output;
use crate::project;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas codegen                       regenerate src/generated and create missing stubs\n  rohas codegen --lang rust           override [project] language\n  rohas codegen --schema ../api/schema --output src\n  rohas codegen --openapi > openapi.json"
)]
pub struct Args {
    /// Schema file or folder (default: the project's schema/, or ROHAS_SCHEMA_PATH).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Source folder that receives generated/ and the handler stubs (default: src).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Handler language (default: [project] language in config/rohas.toml).
    #[arg(long, value_parser = ["python", "typescript", "rust"])]
    pub lang: Option<String>,
    /// Print the OpenAPI 3.1 document of the APIs instead of generating code.
    #[arg(long)]
    pub openapi: bool,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let root = match project::current_root() {
        Ok(root) => root,
        // With an explicit schema, a folder without config/ is fine.
        Err(_) if args.schema.is_some() => std::env::current_dir().context("cannot read the current directory")?,
        Err(err) => return Err(err),
    };
    let schema_path = match &args.schema {
        Some(p) => project::schema_path(Some(p))?,
        None => project::schema_path(None)?,
    };
    let schema = project::load_schema(&schema_path, out)?;

    if args.openapi {
        return openapi(&schema, &root);
    }

    let lang = project::language(&root, args.lang.as_deref())?;
    let code = rohas_codegen::project_code(&schema, lang, &root)?;
    let src_dir = args.output.unwrap_or_else(|| root.join("src"));
    let report = rohas_codegen::write(&root, &src_dir, &code.generated, &code.stubs, &code.specs)?;

    out.success(&format!(
        "generated {} code in {}: {} file(s) written, {} unchanged, {} removed, {} stub(s) created",
        lang.as_str(),
        src_dir.join("generated").display(),
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.stubs.len()
    ));
    for stub in &report.stubs {
        out.info(&format!("  new handler stub: {}", stub.display()));
    }
    for path in report.written.iter().chain(&report.removed) {
        out.detail(&format!("  {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

fn openapi(_schema: &rohas_schema::Schema, _root: &std::path::Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rohas codegen --openapi` is not built yet")
}
