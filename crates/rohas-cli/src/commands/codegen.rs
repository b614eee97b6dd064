//! `rohas codegen`: write `src/generated/` and stubs for handlers that have
//! no file yet; `--openapi` prints the OpenAPI document of the apis instead,
//! `--asyncapi` the AsyncAPI document of the events.
//!
//! An invalid schema prints its diagnostics and writes nothing.

use crate::output::Output;
use crate::project;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas codegen                       regenerate src/generated and create missing stubs\n  rohas codegen --lang rust           override [project] language\n  rohas codegen --schema ../api/schema --output src\n  rohas codegen --openapi > openapi.json\n  rohas codegen --asyncapi > asyncapi.json"
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
    #[arg(long, conflicts_with = "asyncapi")]
    pub openapi: bool,
    /// Print the AsyncAPI 3.0 document of the events instead of generating code.
    #[arg(long)]
    pub asyncapi: bool,
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

    if args.openapi || args.asyncapi {
        let document = if args.openapi {
            Document::OpenApi
        } else {
            Document::AsyncApi
        };
        return print_document(&schema, &root, document, out);
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

/// Which description of the project to print.
#[derive(Clone, Copy)]
enum Document {
    OpenApi,
    AsyncApi,
}

/// Print the OpenAPI or AsyncAPI document (pretty JSON) on stdout, titled
/// with the `[project] name` and `version` of the config; without a config
/// file the title is the project folder's name. Diagnostics go to stderr,
/// so `rohas codegen --openapi > openapi.json` keeps a clean file.
fn print_document(
    schema: &rohas_schema::Schema,
    root: &std::path::Path,
    document: Document,
    out: &Output,
) -> anyhow::Result<ExitCode> {
    let loaded = rohas_config::load(root)?;
    for warning in &loaded.warnings {
        out.warn(&warning.to_string());
    }
    let project = loaded.config.project;
    let folder = root.file_name().map(|n| n.to_string_lossy().into_owned());
    let title = match folder {
        Some(folder) if loaded.path.is_none() || project.name.trim().is_empty() => folder,
        _ => project.name,
    };
    let version = Some(project.version).filter(|v| !v.trim().is_empty());
    let version = version.as_deref().unwrap_or("0.1.0");
    let (doc, what) = match document {
        Document::OpenApi => (rohas_codegen::openapi(schema, &title, version), "OpenAPI"),
        Document::AsyncApi => (rohas_codegen::asyncapi(schema, &title, version), "AsyncAPI"),
    };
    let text =
        serde_json::to_string_pretty(&doc).with_context(|| format!("cannot write the {what} document as JSON"))?;
    crate::output::stdout_line(&text);
    Ok(ExitCode::SUCCESS)
}
