//! `HandlerContext`, `HttpError`, `Result` and `RuntimeError`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub use rohas_runtime::{HandlerContext, HttpError, Result, RuntimeError};
