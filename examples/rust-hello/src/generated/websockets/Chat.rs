//! ws `Chat` at `/ws/chat`.
//!
//! A chat room: every message a client sends goes to every client.
// Written by `rohas codegen` from the schema. Do not edit: every run rewrites src/generated/.

pub use crate::generated::models::ChatMessage::ChatMessage;

/// One client connection: its id and `send`.
pub use rohas_runtime::Connection;

/// Path clients connect to for `Chat`.
pub const PATH: &str = "/ws/chat";

/// The message type, under the name every ws module shares.
pub use crate::generated::models::ChatMessage::ChatMessage as WebSocketMessage;
