//! Handler files under `src/handlers/cron/`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#[path = "../../handlers/cron/daily_cleanup.rs"]
pub mod daily_cleanup;
