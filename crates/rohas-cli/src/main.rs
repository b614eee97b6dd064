//! `rohas`: the command a user runs. Thin by design: it parses arguments,
//! finds the project, and calls into the library crates, turning their typed
//! errors into messages for people.

mod admin_client;
mod commands;
mod file_limit;
mod output;
mod project;
mod queue;
mod serve;
mod telemetry_client;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: request handling allocates
/// and frees many small buffers across tokio threads, where glibc malloc
/// showed up at about a tenth of the server's time in profiles.
///
/// Built without transparent huge pages (`no_thp`, which also turns them
/// off for the process): a burst of events grows and shrinks the heap,
/// and with huge pages every 2 MiB it touched anew was zeroed by the
/// kernel, 40 % of the CPU of a 50,000-event burst to Rust handlers
/// (`clear_page_erms`); without them 8 instead of 11 µs per event, and
/// HTTP throughput unchanged.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "rohas",
    version,
    about = "Schema-driven, event-driven backends: describe APIs, events, cron jobs and WebSockets in .ro files, write handlers in Python, TypeScript or Rust, run them with one binary.",
    after_help = "Examples:\n  rohas init my-app --lang python     create a project\n  rohas validate schema/               check a schema folder\n  rohas fmt --check                    is every .ro file formatted?\n  rohas explain E0012                  what a diagnostic code means and how to fix it\n  rohas codegen                        regenerate src/generated and missing handler stubs\n  rohas dev                            serve with hot reload\n  rohas -C examples/python-hello dev   serve a project in another folder\n  rohas list-handlers                  show every handler and the file it lives in"
)]
struct Cli {
    /// Print more detail (debug logs, timings).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Print only errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Run as if started in this project folder (like `git -C`).
    #[arg(short = 'C', long = "project", global = true, value_name = "DIR")]
    project: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new project from a template.
    Init(commands::init::Args),
    /// Generate typed code (src/generated) and missing handler stubs.
    Codegen(commands::codegen::Args),
    /// Check a schema file or folder and print diagnostics.
    Validate(commands::validate::Args),
    /// Format .ro files in place; --check lists those that would change.
    Fmt(commands::fmt::Args),
    /// Explain a diagnostic code (E0012, W0001 …): the rule, an example, the fix.
    Explain(commands::explain::Args),
    /// Serve the project with hot reload.
    Dev(commands::dev::DevArgs),
    /// Serve the project for production: no watching, no stub generation.
    Start(commands::dev::StartArgs),
    /// List every handler the schema declares and the file it lives in.
    ListHandlers(commands::list::Args),
    /// List every event with its payload, handlers and triggers.
    ListEvents(commands::list::Args),
    /// Dead letters: list, show, replay, purge.
    Dlq(commands::dlq::Args),
    /// Publish an event by hand.
    Events(commands::events::Args),
    /// Recent traces, newest first: what each request, event or cron run did.
    Traces(commands::traces::ListArgs),
    /// One trace as a waterfall: its spans in order, their timing and logs.
    Trace(commands::traces::ShowArgs),
    /// Stored log lines, or with -f the running engine's live ones.
    Logs(commands::logs::Args),
    /// Run the project's tests with its runner (pytest, vitest, cargo test).
    Test(commands::test::Args),
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `ROHAS_LOG_LEVEL` sets the default verbosity; the flags win over it.
    let level = rohas_config::ProcessVar::LogLevel
        .get()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let verbose = cli.verbose || (!cli.quiet && matches!(level.as_str(), "debug" | "trace"));
    let quiet = cli.quiet || (!cli.verbose && level == "error");
    let out = output::Output::new(verbose, quiet);
    if let Some(dir) = &cli.project {
        if let Err(err) = std::env::set_current_dir(dir) {
            out.error(&format!("cannot enter project folder {}: {err}", dir.display()));
            return ExitCode::FAILURE;
        }
    }
    let result = match cli.command {
        Command::Init(args) => commands::init::run(args, &out),
        Command::Codegen(args) => commands::codegen::run(args, &out),
        Command::Validate(args) => commands::validate::run(args, &out),
        Command::Fmt(args) => commands::fmt::run(args, &out),
        Command::Explain(args) => commands::explain::run(args, &out),
        Command::Dev(args) => commands::dev::run_dev(args, &out),
        Command::Start(args) => commands::dev::run_start(args, &out),
        Command::ListHandlers(args) => commands::list::handlers(args, &out),
        Command::ListEvents(args) => commands::list::events(args, &out),
        Command::Dlq(args) => commands::dlq::run(args, &out),
        Command::Test(args) => commands::test::run(args, &out),
        Command::Events(args) => commands::events::run(args, &out),
        Command::Traces(args) => commands::traces::list(args, &out),
        Command::Trace(args) => commands::traces::show(args, &out),
        Command::Logs(args) => commands::logs::run(args, &out),
        Command::Version => {
            println!("rohas {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            out.error(&format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}
