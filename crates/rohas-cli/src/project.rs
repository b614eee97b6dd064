//! Finding the project a command runs on: its root, config, schema folder and
//! handler language, and checking its schema with diagnostics printed for
//! people.

use crate::output::Output;
use anyhow::{bail, Context};
use rohas_runtime::Language;
use rohas_schema::{Checked, Schema};
use std::path::{Path, PathBuf};

/// The folder holding `config/rohas.toml` or `schema/`, searching upward
/// from `start`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("config/rohas.toml").is_file() || dir.join("schema").is_dir())
        .map(Path::to_path_buf)
}

/// The project root for a command run in the current directory.
pub fn current_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    find_root(&cwd).ok_or_else(|| {
        anyhow::anyhow!(
            "no Rohas project here: {} has no config/rohas.toml or schema/ folder (nor does any parent)\n  help: run this inside a project, or create one with `rohas init my-app --lang python`",
            cwd.display()
        )
    })
}

/// Where the schema is: an explicit path (a `.ro` file, a schema folder, or a
/// project folder holding `schema/`), else `ROHAS_SCHEMA_PATH`, else the
/// current project's `schema/`.
pub fn schema_path(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_dir() && p.join("schema").is_dir() && !has_ro_files_directly(p) {
            return Ok(p.join("schema"));
        }
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ROHAS_SCHEMA_PATH") {
        return Ok(PathBuf::from(p));
    }
    Ok(current_root()?.join("schema"))
}

fn has_ro_files_directly(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "ro"))
        })
        .unwrap_or(false)
}

/// Check the schema at `path` and print its diagnostics (errors and
/// warnings; only errors with `--quiet`) to stderr. `checked.schema` is the
/// model when there was no error.
pub fn check_schema(path: &Path, out: &Output) -> anyhow::Result<Checked> {
    let checked = rohas_schema::check_path(path)?;
    if !checked.diagnostics.is_empty() && (!out.quiet || checked.has_errors()) {
        eprint!("{}", checked.render(out.color));
    }
    Ok(checked)
}

/// Like [`check_schema`], but an invalid schema is an error for the command.
pub fn load_schema(path: &Path, out: &Output) -> anyhow::Result<Schema> {
    let checked = check_schema(path, out)?;
    let summary = summary(&checked);
    checked
        .schema
        .ok_or_else(|| anyhow::anyhow!("{} is invalid ({summary}); fix the errors above", path.display()))
}

/// `2 error(s), 1 warning(s)`.
pub fn summary(checked: &Checked) -> String {
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = checked.diagnostics.len() - errors;
    format!("{errors} error(s), {warnings} warning(s)")
}

/// The handler language: `--lang`, else `[project] language`, else guessed
/// from the project files.
pub fn language(root: &Path, explicit: Option<&str>) -> anyhow::Result<Language> {
    match language_if_known(root, explicit)? {
        Some(lang) => Ok(lang),
        None => bail!(
            "cannot tell the handler language of {}: set `language` under [project] in config/rohas.toml, or pass --lang",
            root.display()
        ),
    }
}

/// Like [`language`], but `None` when nothing says which language it is
/// (a config that cannot be read is still an error).
pub fn language_if_known(root: &Path, explicit: Option<&str>) -> anyhow::Result<Option<Language>> {
    if let Some(name) = explicit {
        return parse_language(name).map(Some);
    }
    let loaded = rohas_config::load(root)?;
    if let Some(lang) = loaded.config.project.language.as_deref().and_then(Language::parse) {
        return Ok(Some(lang));
    }
    if root.join("package.json").is_file() {
        return Ok(Some(Language::TypeScript));
    }
    if root.join("Cargo.toml").is_file() {
        return Ok(Some(Language::Rust));
    }
    if root.join("pyproject.toml").is_file() || root.join("requirements.txt").is_file() {
        return Ok(Some(Language::Python));
    }
    Ok(None)
}

/// `python`, `typescript` or `rust`.
pub fn parse_language(name: &str) -> anyhow::Result<Language> {
    Language::parse(name).ok_or_else(|| anyhow::anyhow!("unknown language `{name}`: use python, typescript or rust"))
}
