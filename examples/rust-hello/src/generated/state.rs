//! `State`: what a handler uses to log, trigger events and broadcast.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{Connection, Effects, Level, Logger, State};
