//! One accepted connection: hyper's HTTP/1.1 connection (with upgrades,
//! for WebSockets) driven until it ends, its deadline passes, or shutdown.
//!
//! hyper's own header timeout is not used: it counts from the moment hyper
//! starts waiting for a request, so it would also cut keep-alive
//! connections that are merely idle, and there would be no separate idle
//! timeout. [`Clock`] tells the two apart.

use super::clock::{Clock, Overdue, Watched};
use super::{Limits, Slot};
use crate::http::App;
use axum::body::Body;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// What one connection task needs besides its socket.
pub(crate) struct Serving {
    pub(crate) app: App,
    pub(crate) limits: Limits,
    /// Shutdown began: finish the request in flight, then close.
    pub(crate) stop: CancellationToken,
    /// The drain deadline passed: close now, whatever is in flight.
    pub(crate) abort: CancellationToken,
}

/// Serve `stream` until the client or the server ends the connection.
pub(crate) async fn serve(serving: Serving, stream: TcpStream, slot: Slot) {
    let Serving {
        app,
        limits,
        stop,
        abort,
    } = serving;
    let log = app.log().clone();
    let clock = Arc::new(Clock::new());
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&clock), slot));
    let service = PerConnection {
        app,
        clock: Arc::clone(&clock),
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);

    // One timer for the connection's life. A phase that begins later can
    // be due no sooner than the shorter timeout after it begins, so the
    // timer never waits past that (nor past the current phase's
    // deadline), and then looks at the clock again.
    let shortest = limits.header_read.min(limits.idle);
    let next_look = |now: std::time::Instant, due: Option<std::time::Instant>| {
        let soonest = now + shortest;
        due.map_or(soonest, |due| due.min(soonest))
    };
    let now = std::time::Instant::now();
    let timer = tokio::time::sleep_until(next_look(now, clock.deadline(&limits).map(|(due, _)| due)).into());
    tokio::pin!(timer);
    let mut stopping = false;
    loop {
        tokio::select! {
            biased;
            // Ends when the client closes, on an error, or once a
            // WebSocket upgrade took the socket over.
            _ = connection.as_mut() => return,
            _ = timer.as_mut() => {
                let now = std::time::Instant::now();
                match clock.deadline(&limits) {
                    Some((due, overdue)) if due <= now => {
                        log.debug(&match overdue {
                            Overdue::Headers => format!(
                                "closed a connection that sent no complete request headers within {} ms ([server] header_read_timeout_ms)",
                                limits.header_read.as_millis()
                            ),
                            Overdue::NextRequest => format!(
                                "closed a keep-alive connection idle for {} ms ([server] idle_timeout_ms)",
                                limits.idle.as_millis()
                            ),
                        });
                        return;
                    }
                    due => timer.as_mut().reset(next_look(now, due.map(|(due, _)| due)).into()),
                }
            }
            // Idle connections close at once; one with a request in flight
            // after its answer.
            _ = stop.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = abort.cancelled() => return,
        }
    }
}

/// The hyper service of one connection: the connection's [`App`], and
/// its clock told when each request starts and ends.
struct PerConnection {
    app: App,
    clock: Arc<Clock>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for PerConnection {
    type Response = Response;
    type Error = Infallible;
    type Future = Answering;

    fn call(&self, request: hyper::Request<Incoming>) -> Answering {
        self.clock.request_started();
        let with_body = !hyper::body::Body::is_end_stream(request.body());
        Answering {
            answer: self.app.call(request.map(Body::new)),
            clock: Arc::clone(&self.clock),
            with_body,
        }
    }
}

/// A request's answer; when it is dropped (answered, or given up because
/// the client went away) the connection waits for its next request.
struct Answering {
    answer: rohas_runtime::BoxFuture<'static, Response>,
    clock: Arc<Clock>,
    /// The request came with a body (which an error answer may have left
    /// unread).
    with_body: bool,
}

impl Future for Answering {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answered = self.answer.as_mut().poll(cx);
        if let Poll::Ready(response) = &answered {
            let status = response.status();
            self.clock
                .answered(self.with_body && (status.is_client_error() || status.is_server_error()));
        }
        answered.map(Ok)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.clock.request_ended();
    }
}
