//! Handler files under `src/middlewares/`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#[path = "../../middlewares/auth.rs"]
pub mod auth;
