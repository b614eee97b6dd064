//! The Rohas engine: serves a validated schema with handlers from any
//! runtime. HTTP routing and validation (`http`, `router`, `validate`,
//! `validate_stream`, `query`), the
//! event bus (`bus`), cron (`cron`), WebSockets (`ws`), middlewares and
//! timeouts (`dispatch`), the lifecycle (`engine`), the spans it records
//! (`spans`) and the APIs beside the application's (`admin`,
//! `telemetry_api`).
//!
//! The engine is language-neutral: it calls user code only through
//! [`rohas_runtime::Runtime`], and publishes a handler's events only after
//! the handler succeeded. It never panics on user input and keeps serving
//! after any handler failure.

mod admin;
mod body;
mod bus;
mod cron;
mod dispatch;
mod engine;
mod error;
mod host;
mod http;
pub mod log;
mod nesting;
mod origin;
pub mod publishing;
mod query;
mod router;
mod server;
mod spans;
mod telemetry_api;
pub mod validate;
mod validate_stream;
mod ws;

pub use engine::{Documents, Engine, EngineOptions};
pub use host::EngineHost;
pub use log::Log;
pub use rohas_events;
pub use rohas_telemetry;
