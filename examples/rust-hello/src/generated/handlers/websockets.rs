//! Handler files under `src/handlers/websockets/`.
// Written by `rohas codegen`. Do not edit: every run rewrites src/generated/.

#[path = "../../handlers/websockets/chat.rs"]
pub mod chat;
