//! `rohas fmt [--check] [PATHS]`: format `.ro` files in place, or with
//! `--check` list the files that would change and exit 1 (for CI and
//! pre-commit hooks), as `cargo fmt --check` does.
//!
//! A file with a syntax error is never touched: its diagnostics are printed
//! and the command exits 1, after formatting the other files. `--stdin`
//! formats a buffer for an editor: text in, formatted text out.

use crate::output::Output;
use crate::project;
use anyhow::Context;
use rohas_schema::{format_source, FormatError, SourceMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas fmt                           format the current project's schema/\n  rohas fmt --check                   list files that are not formatted; exit 1 if any\n  rohas fmt schema/api/users.ro       one file\n  rohas fmt --stdin < users.ro        print the formatted text (editors)"
)]
pub struct Args {
    /// .ro files, schema folders or project folders (default: the current project's schema/).
    pub paths: Vec<PathBuf>,
    /// Change nothing: print the files that would change and exit 1 if any would.
    #[arg(long)]
    pub check: bool,
    /// Format the text read from stdin and print it on stdout (for editors).
    #[arg(long, conflicts_with_all = ["paths", "check"])]
    pub stdin: bool,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
    /// Not formatted; the reason was printed.
    Failed,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    if args.stdin {
        return stdin(out);
    }
    let roots = if args.paths.is_empty() {
        vec![project::schema_path(None)?]
    } else {
        args.paths
            .iter()
            .map(|p| project::schema_path(Some(p)))
            .collect::<anyhow::Result<_>>()?
    };
    // Sorted and each file once, even when the paths overlap.
    let mut files = std::collections::BTreeSet::new();
    for root in &roots {
        files.extend(ro_files(root)?);
    }

    let (mut changed, mut unchanged, mut failed) = (Vec::new(), 0, 0);
    for file in &files {
        match format_file(file, args.check, out)? {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Changed => changed.push(file),
            Outcome::Failed => failed += 1,
        }
    }

    if args.check {
        for file in &changed {
            crate::output::stdout_line(&file.display().to_string());
        }
        if !changed.is_empty() {
            out.error(&format!(
                "{} file(s) are not formatted: run `rohas fmt` to format them",
                changed.len()
            ));
        } else if failed == 0 {
            out.success(&format!("{unchanged} file(s) already formatted"));
        }
    } else {
        out.success(&format!(
            "{} file(s) formatted, {unchanged} already formatted{}",
            changed.len(),
            if failed > 0 {
                format!(", {failed} left unchanged because of errors")
            } else {
                String::new()
            }
        ));
        for file in &changed {
            out.detail(&format!("  {}", file.display()));
        }
    }
    // --check fails on any file that would change; both modes on any error.
    let ok = failed == 0 && (!args.check || changed.is_empty());
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `--stdin`: the formatted text on stdout, or the syntax errors on stderr
/// (labelled `<stdin>`) and nothing on stdout, so an editor never replaces
/// a buffer with an error message.
fn stdin(out: &Output) -> anyhow::Result<ExitCode> {
    use std::io::{Read, Write};
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).context("cannot read stdin")?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("stdin is not valid UTF-8"))?;
    let mut sources = SourceMap::new();
    let id = sources.add("<stdin>", text.as_str());
    match format_source(id, &text) {
        Ok(formatted) => {
            std::io::stdout()
                .lock()
                .write_all(formatted.as_bytes())
                .context("cannot write stdout")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(FormatError::Syntax(diagnostics)) => {
            eprint!("{}", rohas_schema::render(&sources, &diagnostics, out.color));
            out.error("stdin has syntax errors; nothing was formatted");
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            out.error(&format!("stdin: {err}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Format one file (or, with `check`, only compare).
fn format_file(path: &Path, check: bool, out: &Output) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        out.error(&format!("{} is not valid UTF-8: save it as UTF-8", path.display()));
        return Ok(Outcome::Failed);
    };
    let mut sources = SourceMap::new();
    let id = sources.add(path, text.as_str());
    let formatted = match format_source(id, &text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostics)) => {
            eprint!("{}", rohas_schema::render(&sources, &diagnostics, out.color));
            out.error(&format!("{} has syntax errors; it was left unchanged", path.display()));
            return Ok(Outcome::Failed);
        }
        Err(err) => {
            out.error(&format!("{}: {err}", path.display()));
            return Ok(Outcome::Failed);
        }
    };
    if formatted == text {
        return Ok(Outcome::Unchanged);
    }
    if !check {
        write_atomically(path, &formatted)?;
    }
    Ok(Outcome::Changed)
}

/// Write through a temporary file in the same folder and rename it over
/// the original, so an interrupted run never leaves half a schema.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.rohas-fmt"));
    let result = (|| -> std::io::Result<()> {
        std::fs::write(&tmp, text)?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// `path` itself when it is a file, else every `.ro` file under it, sorted.
fn ro_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|_| {
        anyhow::anyhow!(
            "{} does not exist\n  help: pass .ro files or schema folders, or run inside a project that has schema/",
            path.display()
        )
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    collect(path, 0, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    // Deep enough for any schema, and a stop for symlink loops.
    if depth > 32 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read {}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "ro") {
            out.push(path);
        }
    }
    Ok(())
}
