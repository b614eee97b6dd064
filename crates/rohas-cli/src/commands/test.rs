//! `rohas test [-- ARGS]`: the project's tests with the right runner and
//! environment, after bringing `src/generated/` up to date (a test of stale
//! types would pass where the server would not).
//!
//! - Python: pytest when the project's Python has it, else `unittest`
//!   discovery; `src/` is on `PYTHONPATH` as it is for the engine, and the
//!   project's `.venv` (or `venv`, or the active `VIRTUAL_ENV`) is used.
//! - TypeScript: the handlers are built and their table written as the
//!   engine would load them (`rohas_runtime_node::testing`), for the
//!   harness in `src/generated/testing.ts`; then vitest when `package.json`
//!   lists it (`npx vitest run`), else Node's own runner on the tests
//!   compiled by the engine's compiler (`node --test`: Node 20 cannot load
//!   `.ts` files itself).
//! - Rust: `cargo test` in the project.
//!
//! The exit code is the runner's (pytest's 5 for "no tests collected"
//! included), so CI reads it as it would the runner's own.

use crate::output::Output;
use crate::project;
use rohas_runtime::Language;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas test                      every test of the project\n  rohas test -- -k users -x       arguments after -- go to the runner (pytest here)"
)]
pub struct Args {
    /// Arguments for the test runner (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<ExitCode> {
    let root = project::current_root()?;
    let lang = project::language(&root, None)?;
    // Up to date generated code first, as `rohas dev` would have it.
    let schema_path = project::schema_path(None)?;
    let schema = project::load_schema(&schema_path, out)?;
    let code = rohas_codegen::project_code(&schema, lang, &root)?;
    rohas_codegen::write(&root, &root.join("src"), &code.generated, &code.stubs, &code.specs)?;
    let mut command = match lang {
        Language::Python => python(&root, &args.args, out)?,
        Language::TypeScript => typescript(&root, &code.specs, &args.args)?,
        Language::Rust => {
            let mut c = Command::new("cargo");
            // The folder `rohas dev` builds in: its dependencies are built once.
            c.arg("test")
                .args(&args.args)
                .env("CARGO_TARGET_DIR", rohas_runtime_rust::target_dir(&root));
            c
        }
    };
    command.current_dir(&root);
    out.detail(&format!("running {command:?}"));
    let status = command
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run {:?}: {e}", command.get_program()))?;
    Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8))
}

fn python(root: &Path, args: &[String], out: &Output) -> anyhow::Result<Command> {
    let python = project_python(root);
    let has_pytest = Command::new(&python)
        .args(["-c", "import pytest"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut command = Command::new(&python);
    if has_pytest {
        command.args(["-m", "pytest"]).args(args);
    } else {
        if !root.join("tests").is_dir() {
            // What pytest answers when it collects nothing: exit code 5.
            out.error("no tests: this project has no tests/ folder\n  help: write tests/test_*.py (unittest or pytest style); `src/` is on the import path, so `from handlers.api.health import handler` works");
            let mut none = Command::new(&python);
            none.args(["-c", "raise SystemExit(5)"]);
            return Ok(none);
        }
        out.info(
            "pytest is not installed in the project's Python: running unittest discovery (pip install pytest for more)",
        );
        command.args(["-m", "unittest", "discover", "-s", "tests"]).args(args);
    }
    let src = root.join("src");
    let path = match std::env::var_os("PYTHONPATH") {
        Some(old) if !old.is_empty() => {
            let mut joined = src.into_os_string();
            joined.push(":");
            joined.push(old);
            joined
        }
        _ => src.into_os_string(),
    };
    command.env("PYTHONPATH", path);
    Ok(command)
}

/// The project's virtual environment's Python, else the active one's, else
/// `python3` on `PATH`.
fn project_python(root: &Path) -> PathBuf {
    let candidates = [root.join(".venv"), root.join("venv")]
        .into_iter()
        .chain(std::env::var_os("VIRTUAL_ENV").map(PathBuf::from));
    for venv in candidates {
        let python = venv.join("bin").join("python");
        if python.is_file() {
            return python;
        }
    }
    PathBuf::from("python3")
}

fn typescript(root: &Path, specs: &[rohas_runtime::HandlerSpec], args: &[String]) -> anyhow::Result<Command> {
    let manifest = std::fs::read_to_string(root.join("package.json")).unwrap_or_default();
    let vitest = manifest.contains("\"vitest\"");
    let tests = rohas_runtime_node::testing::prepare(root, specs, !vitest)
        .map_err(|errors| anyhow::anyhow!("cannot prepare the handlers for the tests:\n  {}", errors.join("\n  ")))?;
    if vitest {
        let mut command = Command::new("npx");
        command.args(["vitest", "run"]).args(args);
        return Ok(command);
    }
    if tests.is_empty() {
        anyhow::bail!(
            "no tests: this project has no tests/*.test.ts files\n  help: write tests with `node:test` (or npm install --save-dev vitest) in tests/*.test.ts and run rohas test again"
        );
    }
    let node = rohas_config::ProcessVar::Node
        .get_os()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("node"));
    let mut command = Command::new(node);
    command.args(["--enable-source-maps", "--test"]).args(args).args(tests);
    Ok(command)
}
