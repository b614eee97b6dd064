//! A lingering close: after an error answer to a request whose body the
//! server did not read (a 413 from the head, a refusal before the body),
//! the socket reads and discards what the client is still sending for a
//! bounded time before it closes.
//!
//! Closing at once would be wrong for most clients: they write the whole
//! body before reading the answer, and bytes that reach a closed socket
//! make the kernel reset the connection, so the client's next write fails
//! ("broken pipe") and the answer it earned is never read. nginx and
//! Apache linger the same way.
//!
//! Bounded three ways, so a client cannot use it to hold a socket: at most
//! [`LINGER_FOR`] in all, [`QUIET_FOR`] without a byte, [`AT_MOST`] bytes.
//! The connection keeps its slot meanwhile (the socket is still open).

use super::Slot;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest a closing connection reads on.
const LINGER_FOR: Duration = Duration::from_secs(5);
/// The longest it waits for the client's next bytes.
const QUIET_FOR: Duration = Duration::from_secs(1);
/// The most it reads and throws away.
const AT_MOST: usize = 8 * 1024 * 1024;

/// Take over `stream` from a connection that ended: linger on it in a task
/// of its own (the connection's task is ending).
pub(super) fn close_later(stream: TcpStream, slot: Slot) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(linger(stream, slot));
    }
}

async fn linger(mut stream: TcpStream, slot: Slot) {
    // The answer is out: say so (hyper may already have).
    let _ = stream.shutdown().await;
    let until = tokio::time::Instant::now() + LINGER_FOR;
    let mut buf = vec![0u8; 16 * 1024];
    let mut discarded = 0usize;
    while discarded < AT_MOST {
        let quiet = tokio::time::Instant::now() + QUIET_FOR;
        match tokio::time::timeout_at(quiet.min(until), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => discarded += n,
            // The client closed, the socket failed, or it took too long.
            _ => break,
        }
    }
    drop(stream);
    drop(slot);
}
