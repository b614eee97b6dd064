//! When a connection has waited too long, and the socket wrapper that
//! tells it.
//!
//! A connection is always in one of four phases, and each but one has a
//! deadline:
//!
//! - `Fresh`: accepted, no request yet: the first request's headers are
//!   due `header_read_timeout` after the accept (a client that connects and
//!   sends nothing, or half a header, is closed then);
//! - `Waiting`: keep-alive, between requests: the next one must start
//!   within `idle_timeout`;
//! - `Head`: a later request's first bytes came: its headers are due
//!   `header_read_timeout` after them;
//! - `Busy`: a request is being answered: no deadline here (the body has
//!   its own in `body.rs`, the handler its timeout).
//!
//! The phase changes without touching a timer: hyper's service call and
//! the answer's end set it, the socket wrapper notices a request's first
//! bytes. The connection's one timer reads the phase only when it fires
//! and then sets itself to the deadline the phase gives (see
//! `connection.rs`), so a busy keep-alive connection costs two clock reads
//! per request and no timer work.
//!
//! Everything here is touched from the connection's own task (hyper polls
//! the service and the socket there); the atomics make it `Sync`, with no
//! ordering needed.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{Limits, Slot};

/// The phase, in the low two bits of the state; the rest is when it began,
/// in microseconds since the accept.
const FRESH: u64 = 0;
const WAITING: u64 = 1;
const HEAD: u64 = 2;
const BUSY: u64 = 3;
const PHASE: u64 = 0b11;

/// One connection's phase and since when.
pub(crate) struct Clock {
    accepted: Instant,
    state: AtomicU64,
    /// The last answer refused a request whose body may not all have been
    /// read: close this connection lingering (`linger.rs`).
    unread_body: AtomicBool,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            accepted: Instant::now(),
            state: AtomicU64::new(FRESH),
            unread_body: AtomicBool::new(false),
        }
    }

    fn set(&self, phase: u64) {
        let micros = u64::try_from(self.accepted.elapsed().as_micros()).unwrap_or(u64::MAX >> 2);
        self.state.store(micros << 2 | phase, Ordering::Relaxed);
    }

    /// hyper read the headers of a request and called the service.
    pub(crate) fn request_started(&self) {
        self.state.store(BUSY, Ordering::Relaxed);
    }

    /// The answer's future ended (answered, or dropped because the client
    /// went away).
    /// A request was answered: `refused_with_body` when the answer is an
    /// error and the request came with a body, which the server may have
    /// left unread.
    pub(crate) fn answered(&self, refused_with_body: bool) {
        self.unread_body.store(refused_with_body, Ordering::Relaxed);
    }

    fn body_may_be_coming(&self) -> bool {
        self.unread_body.load(Ordering::Relaxed)
    }

    pub(crate) fn request_ended(&self) {
        self.set(WAITING);
    }

    /// Bytes came from the client.
    fn bytes_read(&self) {
        if self.state.load(Ordering::Relaxed) & PHASE == WAITING {
            self.set(HEAD);
        }
    }

    /// When the connection is due to close, and what it was waiting for;
    /// `None` while a request is answered.
    pub(crate) fn deadline(&self, limits: &Limits) -> Option<(Instant, Overdue)> {
        let state = self.state.load(Ordering::Relaxed);
        let since = self.accepted + std::time::Duration::from_micros(state >> 2);
        match state & PHASE {
            FRESH | HEAD => Some((since + limits.header_read, Overdue::Headers)),
            WAITING => Some((since + limits.idle, Overdue::NextRequest)),
            _ => None,
        }
    }
}

/// What a closed connection had not sent in time (for the debug log).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Overdue {
    Headers,
    NextRequest,
}

/// The accepted socket, which tells the clock when a request's first bytes
/// arrive and holds the connection's slot (`[server] max_connections`,
/// and its client's count) until it is dropped: after a WebSocket upgrade it lives on inside the
/// WebSocket, which keeps the slot taken.
///
/// Dropped after an error answer to a request whose body may still be
/// coming, it hands the socket to a lingering close (`linger.rs`).
pub(crate) struct Watched {
    /// Taken only when it is dropped.
    held: Option<(TcpStream, Slot)>,
    clock: std::sync::Arc<Clock>,
}

impl Watched {
    pub(crate) fn new(stream: TcpStream, clock: std::sync::Arc<Clock>, slot: Slot) -> Watched {
        Watched {
            held: Some((stream, slot)),
            clock,
        }
    }

    fn stream(&mut self) -> &mut TcpStream {
        &mut self.held.as_mut().expect("the socket is taken only when dropped").0
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.clock.body_may_be_coming() {
            if let Some((stream, slot)) = self.held.take() {
                super::linger::close_later(stream, slot);
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(self.stream()).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.stream()).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.held.as_ref().is_some_and(|(stream, _)| stream.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()).poll_shutdown(cx)
    }
}
