//! Reading a request body whole, with the ways it can go wrong kept apart,
//! because each tells the client something different: too large (413,
//! `[server] max_body_bytes`), too slow (408, `[server]
//! body_read_timeout_ms`), or not valid HTTP (400: a chunked body with a bad
//! chunk size, a connection that ended mid-body).
//!
//! The deadline covers the whole body, not each read, so a client sending a
//! byte every few seconds cannot hold a request open forever; a slow upload
//! that finishes within it succeeds.
//!
//! The body is polled once before the timer is armed: a small body usually
//! arrives with its headers, and then no timer is registered or cancelled
//! (this is on every request's path).

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::task::Poll;
use std::time::Duration;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the limit (declared by `content-length` or counted).
    TooLarge { limit: usize },
    /// Not all of it came within the deadline.
    TooSlow { timeout: Duration },
    /// Not a valid HTTP body (bad chunk encoding, the connection ended).
    Malformed { reason: String },
}

impl BodyError {
    /// The answer to send. 408 and 400 close the connection: what is left
    /// of the body on it cannot be told apart from a next request.
    pub(crate) fn into_response(self, trace_id: &str) -> Response {
        let (status, message, close) = match self {
            BodyError::TooLarge { limit } => (413, format!("request body is larger than {limit} bytes"), false),
            BodyError::TooSlow { timeout } => (
                408,
                format!(
                    "the request body did not arrive within {} ms ([server] body_read_timeout_ms)",
                    timeout.as_millis()
                ),
                true,
            ),
            BodyError::Malformed { reason } => (400, format!("the request body could not be read: {reason}"), true),
        };
        let mut response = ApiError::new(status, message, trace_id).into_response();
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// The whole body, at most `limit` bytes, within `timeout`.
pub(crate) async fn read(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, BodyError> {
    // A `content-length` past the limit is answered from the head, without
    // waiting for (or reading) a body that would be refused anyway.
    if usize::try_from(axum::body::HttpBody::size_hint(&body).lower()).map_or(true, |n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut collecting = std::pin::pin!(axum::body::to_bytes(body, limit));
    let first = std::future::poll_fn(|cx| Poll::Ready(collecting.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(result) => result,
        Poll::Pending => match tokio::time::timeout(timeout, collecting).await {
            Ok(result) => result,
            Err(_) => return Err(BodyError::TooSlow { timeout }),
        },
    };
    result.map_err(|e| classify(e.into_inner(), limit))
}

/// `to_bytes` reports the limit and the connection's errors alike; the
/// limit is a `LengthLimitError` somewhere in the chain.
fn classify(error: axum::BoxError, limit: usize) -> BodyError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
    let mut reason = String::new();
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return BodyError::TooLarge { limit };
        }
        let text = e.to_string();
        // axum's and hyper's wrappers repeat their source's text.
        if !reason.contains(&text) {
            if !reason.is_empty() {
                reason.push_str(": ");
            }
            reason.push_str(&text);
        }
        cause = e.source();
    }
    BodyError::Malformed { reason }
}
