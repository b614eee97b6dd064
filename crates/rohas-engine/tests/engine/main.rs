//! The engine's in-process tests: one test binary (one link on a busy
//! machine), one module per behaviour. Each test serves its own engine on
//! `127.0.0.1:0` with a fake runtime (`../support`).

#[path = "../support/mod.rs"]
mod support;

mod routing;
mod bodies;
mod handler_errors;
mod dev_checks;
mod trace_id;
mod api_events;
mod timeouts;
mod middlewares;
mod cron;
mod websockets;
mod reload;
mod shutdown;
