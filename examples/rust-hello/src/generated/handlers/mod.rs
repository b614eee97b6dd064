//! Your handler files, declared here so you never list them by hand:
//! each file the schema names under `src/handlers/` or `src/middlewares/`
//! is a module below (`crate::generated::handlers::api::health`).
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

pub mod api;
pub mod cron;
pub mod events;
pub mod middlewares;
pub mod websockets;
