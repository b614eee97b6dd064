//! Handler files under `src/handlers/events/`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#[path = "../../handlers/events/send_welcome_email.rs"]
pub mod send_welcome_email;
