//! `rohas codegen`: write src/generated and missing handler stubs.

use crate::output::Output;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rohas codegen` is not built yet")
}
