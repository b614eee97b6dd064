//! `rohas dev` and `rohas start`: serve the project.
//!
//! Both validate the schema, start the runtime of the project's language,
//! load every handler (a missing one is an error naming the file it looked
//! for), and serve until SIGINT/SIGTERM. `dev` also regenerates code first
//! and watches `schema/` and `src/` for hot reload; `start` does neither.

use crate::output::Output;
use crate::serve::{Mode, ServeOptions};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rohas dev\n  rohas dev --port 8080\n  rohas dev --watch false\n  rohas -C examples/python-hello dev --port 0   (any free port; the ready line says which)"
)]
pub struct DevArgs {
    /// Schema file or folder (default: the project's schema/).
    #[arg(long)]
    pub schema: Option<std::path::PathBuf>,
    /// Port to listen on (default: [server] port; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Reload on file changes.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub watch: bool,
    /// Serve the workbench at /workbench (not built yet).
    #[arg(long)]
    pub workbench: bool,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:\n  rohas start\n  ROHAS_SERVER_HOST=0.0.0.0 ROHAS_SERVER_PORT=8080 rohas start")]
pub struct StartArgs {
    /// Schema file or folder (default: the project's schema/).
    #[arg(long)]
    pub schema: Option<std::path::PathBuf>,
    /// Port to listen on (default: [server] port; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
}

pub fn run_dev(args: DevArgs, out: &Output) -> anyhow::Result<ExitCode> {
    if args.workbench {
        out.warn("the workbench is not built yet; serving without it");
    }
    crate::serve::run(
        ServeOptions {
            mode: Mode::Dev { watch: args.watch },
            schema: args.schema,
            port: args.port,
        },
        out,
    )
}

pub fn run_start(args: StartArgs, out: &Output) -> anyhow::Result<ExitCode> {
    crate::serve::run(
        ServeOptions {
            mode: Mode::Start,
            schema: args.schema,
            port: args.port,
        },
        out,
    )
}
