//! `rohas init`: a new project folder with the standard layout (docs/README.md), an example
//! schema (Health, CreateUser → UserCreated → send_welcome_email, a cron job,
//! the Chat WebSocket, an `auth` middleware), real handlers for it in the
//! chosen language, the language's project files, `.gitignore` and a README.
//!
//! This module only writes the template. Generated code (`src/generated/`)
//! comes from the code generators, which the caller runs right after (the
//! CLI runs `rohas codegen` on the new folder), so `init` and `codegen` can
//! never disagree about what is generated.

mod templates;

use rohas_runtime::Language;
use std::path::{Path, PathBuf};

pub use templates::EXAMPLES;

/// What [`init_project`] created.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The project folder.
    pub root: PathBuf,
    pub name: String,
    pub language: Language,
    pub example: String,
    /// Every file written, relative to `root`, in writing order.
    pub files: Vec<PathBuf>,
    /// Commands to run next, for the CLI to print.
    pub next_steps: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} already exists and is not empty (it holds {}); `rohas init` never writes over files: choose a new folder name, or empty this one", .dir.display(), .entries.join(", "))]
    NotEmpty { dir: PathBuf, entries: Vec<String> },
    #[error("{} exists and is a file, not a folder; choose another project name", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("unknown example `{name}`; available: {}", .available.join(", "))]
    UnknownExample { name: String, available: Vec<String> },
    #[error("`{name}` cannot be a project name: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Create project `name` in `dir` (which must not exist or be empty), for
/// handlers in `lang`, from `example` (default: the first of [`EXAMPLES`]).
pub fn init_project(dir: &Path, name: &str, lang: Language, example: Option<&str>) -> Result<InitReport, InitError> {
    let example = match example {
        None => EXAMPLES[0],
        Some(e) => EXAMPLES
            .iter()
            .copied()
            .find(|x| *x == e)
            .ok_or_else(|| InitError::UnknownExample {
                name: e.to_string(),
                available: EXAMPLES.iter().map(|s| s.to_string()).collect(),
            })?,
    };
    if let Some(c) = name.chars().find(|c| c.is_control() || *c == '"' || *c == '\\') {
        return Err(InitError::InvalidName {
            name: name.to_string(),
            reason: format!("it contains {c:?}; use letters, digits, `-` or `_`"),
        });
    }
    let package = package_name(name)?;
    check_target(dir)?;

    let (language_title, setup, checks) = templates::readme_parts(lang);
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate_name}}", &package)
            .replace("{{package_name}}", &package)
            .replace("{{language}}", lang.as_str())
            .replace("{{language_title}}", language_title)
            .replace("{{setup}}", setup)
            .replace("{{checks}}", checks)
    };

    let mut planned: Vec<(PathBuf, String)> = Vec::new();
    for t in templates::COMMON.iter().chain(templates::for_language(lang)) {
        planned.push((PathBuf::from(t.path), fill(t.contents)));
    }
    planned.push((
        PathBuf::from(".gitignore"),
        format!("{}{}", templates::GITIGNORE, templates::gitignore(lang)),
    ));

    let mut files = Vec::new();
    for (rel, contents) in planned {
        write(dir, &rel, &contents)?;
        files.push(rel);
    }
    // Folders of the layout that the example leaves empty.
    for folder in [
        "src/handlers/api",
        "src/handlers/events",
        "src/handlers/cron",
        "src/handlers/websockets",
        "src/middlewares",
    ] {
        let path = dir.join(folder);
        std::fs::create_dir_all(&path).map_err(|source| InitError::Io { path, source })?;
    }

    let shown = dir.display().to_string();
    let mut next_steps = vec![format!("cd {shown}")];
    match lang {
        Language::Python => next_steps.push("python -m venv .venv && .venv/bin/pip install -r requirements.txt".into()),
        Language::TypeScript => next_steps.push("npm install".into()),
        Language::Rust => {}
    }
    next_steps.push("rohas dev".into());
    next_steps.push("curl http://127.0.0.1:3000/health".into());

    Ok(InitReport {
        root: dir.to_path_buf(),
        name: name.to_string(),
        language: lang,
        example: example.to_string(),
        files,
        next_steps,
    })
}

/// Refuse anything but a missing or empty folder.
fn check_target(dir: &Path) -> Result<(), InitError> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(InitError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let entries = std::fs::read_dir(dir).map_err(|source| InitError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let total = names.len();
    names.truncate(3);
    if total > 3 {
        names.push(format!("and {} more", total - 3));
    }
    Err(InitError::NotEmpty {
        dir: dir.to_path_buf(),
        entries: names,
    })
}

fn write(root: &Path, rel: &Path, contents: &str) -> Result<(), InitError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| InitError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, contents).map_err(|source| InitError::Io { path, source })
}

/// A package name every ecosystem accepts (Cargo, npm, PyPI): lower-case
/// ASCII letters, digits and `-`, starting with a letter, and not a name
/// Cargo reserves.
pub fn package_name(name: &str) -> Result<String, InitError> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        return Err(InitError::InvalidName {
            name: name.to_string(),
            reason: "it needs at least one ASCII letter or digit".into(),
        });
    }
    let out = if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("app-{out}")
    } else {
        out
    };
    let reserved = crate::naming::RUST_RESERVED.contains(&out.as_str())
        || ["test", "std", "core", "alloc", "proc-macro", "rohas-runtime"].contains(&out.as_str());
    Ok(if reserved { format!("{out}-app") } else { out })
}
