//! Which handlers a project has and where their code lives.

use crate::HandlerId;
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    Api,
    Event,
    Cron,
    WsConnect,
    WsMessage,
    WsDisconnect,
    Middleware,
}

impl HandlerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Api => "api",
            HandlerKind::Event => "event",
            HandlerKind::Cron => "cron",
            HandlerKind::WsConnect => "ws_connect",
            HandlerKind::WsMessage => "ws_message",
            HandlerKind::WsDisconnect => "ws_disconnect",
            HandlerKind::Middleware => "middleware",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One handler the schema asks for, resolved to candidate files and function
/// names by the engine (the table in docs/handlers.md). The runtime picks the first
/// candidate file that exists and, in it, the first function name it defines.
#[derive(Debug, Clone, Serialize)]
pub struct HandlerSpec {
    /// Unique key the engine uses in [`crate::Invocation::handler`], e.g.
    /// `api:CreateUser`, `event:UserCreated:send_welcome_email`,
    /// `ws_message:Chat`.
    pub id: HandlerId,
    pub kind: HandlerKind,
    /// The schema name (api/cron/ws name, event handler or middleware name).
    pub name: String,
    /// Candidate source files, in order of preference, relative to the
    /// project root (`src/handlers/api/create_user.py`, `…/CreateUser.py`).
    pub files: Vec<PathBuf>,
    /// Candidate function names, in order (`handler`, `handle_create_user`).
    pub functions: Vec<String>,
    /// Generated type names the signature may ask for, so a runtime can tell
    /// `CreateUserInput` (the body) from `CreateUserRequest` (the request).
    pub request_type: Option<String>,
    pub body_type: Option<String>,
    pub message_type: Option<String>,
    /// For an event handler: the event name (its generated type name).
    pub event_type: Option<String>,
    /// The function may be absent (the three functions of a single-module ws).
    pub optional: bool,
}

/// The handler languages Rohas runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    TypeScript,
    Rust,
}

impl Language {
    pub fn parse(name: &str) -> Option<Language> {
        match name {
            "python" | "py" => Some(Language::Python),
            "typescript" | "ts" => Some(Language::TypeScript),
            "rust" | "rs" => Some(Language::Rust),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::TypeScript => "typescript",
            Language::Rust => "rust",
        }
    }
    /// Source file extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::TypeScript => "ts",
            Language::Rust => "rs",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
