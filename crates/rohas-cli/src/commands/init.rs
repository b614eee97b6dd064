//! `rohas init NAME --lang …`: create a project from the template, then put
//! the generated code in place by running `rohas codegen` on it.
//!
//! Codegen runs as a child `rohas -C NAME codegen` so `init` produces exactly
//! what the `codegen` command produces, with no second code path to keep in step.

use crate::output::Output;
use anyhow::Context;
use rohas_codegen::init::{init_project, InitReport};
use rohas_runtime::Language;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  rohas init my-app --lang python\n  rohas init api --lang rust --example hello")]
pub struct Args {
    /// Folder to create (its name is the project name); it must not exist or be empty.
    pub name: PathBuf,
    /// Handler language.
    #[arg(long, value_parser = ["python", "typescript", "rust"])]
    pub lang: String,
    /// Example to start from (available: hello).
    #[arg(long)]
    pub example: Option<String>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let lang = Language::parse(&args.lang)
        .with_context(|| format!("unknown language `{}`: use python, typescript or rust", args.lang))?;
    let name = project_name(&args.name)?;
    let report = init_project(&args.name, &name, lang, args.example.as_deref())?;
    out.success(&format!(
        "created {} ({} handlers, example `{}`, {} files)",
        report.root.display(),
        report.language,
        report.example,
        report.files.len()
    ));
    for file in &report.files {
        out.detail(&format!("  {}", file.display()));
    }

    let generated = run_codegen(&report.root, out);
    print_next_steps(&report, generated, out);
    Ok(ExitCode::SUCCESS)
}

/// The folder's own name, also for `.` or a path ending in `..`.
fn project_name(dir: &Path) -> anyhow::Result<String> {
    if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
        if name != "." && name != ".." {
            return Ok(name.to_string());
        }
    }
    let absolute = std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let normal: PathBuf = absolute.components().collect();
    normal
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .with_context(|| format!("{} has no folder name to use as the project name", dir.display()))
}

/// Run `rohas -C <root> codegen`; false (with a warning) when it failed.
fn run_codegen(root: &Path, out: &Output) -> bool {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            out.warn(&format!("cannot find the rohas binary to run codegen ({err})"));
            return false;
        }
    };
    out.info("generating code (rohas codegen)…");
    let status = Command::new(exe)
        .arg("--quiet")
        .arg("-C")
        .arg(root)
        .arg("codegen")
        .status();
    match status {
        Ok(s) if s.success() => true,
        Ok(_) | Err(_) => {
            out.warn(&format!(
                "the project was created, but its generated code is not in place yet: run `rohas codegen` in {}",
                root.display()
            ));
            false
        }
    }
}

fn print_next_steps(report: &InitReport, generated: bool, out: &Output) {
    out.info("\nNext steps:");
    let mut steps = report.next_steps.clone();
    if !generated {
        steps.insert(1, "rohas codegen".into());
    }
    for step in steps {
        out.info(&format!("  {step}"));
    }
}
