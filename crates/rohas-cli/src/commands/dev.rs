//! `rohas dev` and `rohas start`: serve the project.

use crate::output::Output;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DevArgs {}

#[derive(clap::Args)]
pub struct StartArgs {}

pub fn run_dev(_args: DevArgs, _out: &Output) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rohas dev` is not built yet")
}

pub fn run_start(_args: StartArgs, _out: &Output) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rohas start` is not built yet")
}
