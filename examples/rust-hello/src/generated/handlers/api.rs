//! Handler files under `src/handlers/api/`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#[path = "../../handlers/api/create_user.rs"]
pub mod create_user;

#[path = "../../handlers/api/health.rs"]
pub mod health;
