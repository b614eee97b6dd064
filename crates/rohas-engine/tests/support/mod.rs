//! What the engine's in-process tests share: a fake runtime
//! ([`fake::FakeRuntime`]), one function that serves an engine on it
//! ([`server::serve_with`]), HTTP and WebSocket clients, and bounded waits.
//!
//! The tests talk to a real server on `127.0.0.1:0` through real sockets,
//! so they check what a client sees, but with handlers written as Rust
//! closures instead of a Python, Node.js or cargo project behind the binary.

#![allow(dead_code)]

pub mod events;
pub mod fake;
pub mod http;
pub mod raw;
pub mod server;
pub mod ws;

pub use fake::{failed, http_error, ok, ok_triggering, FakeRuntime, Gate};
pub use server::{serve, serve_with, Options, Served};

use std::future::Future;
use std::time::Duration;

/// The longest a test waits for something that should happen: generous,
/// as machines running the tests are shared and slow at times.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Poll `check` until it gives a value (every 10 ms, for at most
/// [`PATIENCE`]); fails the test naming `what` otherwise.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let until = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(tokio::time::Instant::now() < until, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Run `future` to completion or fail the test after [`PATIENCE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("waited {PATIENCE:?} for {what}"))
}

/// A schema from `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
