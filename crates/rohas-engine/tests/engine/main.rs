//! The engine's in-process tests: one test binary (one link on a busy
//! machine), one module per behaviour. Each test serves its own engine on
//! `127.0.0.1:0` with a fake runtime (`../support`).

#[path = "../support/mod.rs"]
mod support;

mod api_events;
mod bodies;
mod bus;
mod connections;
mod connections_per_client;
mod cors;
mod cron;
mod dev_checks;
mod handler_errors;
mod json_bombs;
mod middlewares;
mod off_loopback;
mod openapi_conformance;
mod query;
mod reload;
mod routing;
mod shutdown;
mod telemetry;
mod timeouts;
mod trace_id;
mod websocket_limits;
mod websockets;
