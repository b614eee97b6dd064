//! One export request, over HTTP/1.1 (`http/protobuf`) or HTTP/2 (gRPC),
//! on a kept-alive connection, and what the answer means for a retry.
//!
//! gRPC here is one unary call and nothing more: the message with its
//! 5-byte prefix (no compression, big-endian length) as the body, and
//! `grpc-status` read from the trailers (or the headers, for a
//! trailers-only answer). OTLP needs no streaming, so no gRPC library.

use super::endpoint::{Endpoint, Signal};
use super::{OtlpError, OtlpProtocol, Secret};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, HOST, RETRY_AFTER, USER_AGENT};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Duration;

/// Why a request did not deliver its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection, a broken one, or no answer in time: worth retrying.
    Unreachable(String),
    /// The receiver is busy or down for now (HTTP 429, 502, 503, 504;
    /// gRPC UNAVAILABLE, RESOURCE_EXHAUSTED …): worth retrying, after the
    /// wait it asked for if it did.
    Busy {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The receiver refused this batch (any other status): retrying would
    /// get the same answer.
    Refused(String),
}

/// A delivered batch, which the receiver may have accepted only in part.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Records the receiver said it dropped (OTLP's partial success).
    pub rejected: i64,
    pub message: String,
}

/// The body of an OTLP error answer (`google.rpc.Status`): only its
/// message is read.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The partial-success part of both export answers: field 1 of
/// `Export{Trace,Logs}ServiceResponse`, with the same two fields.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportResponse {
    #[prost(message, optional, tag = "1")]
    partial_success: Option<PartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PartialSuccess {
    #[prost(int64, tag = "1")]
    rejected: i64,
    #[prost(string, tag = "2")]
    error_message: String,
}

enum Connection {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Connection {
    fn is_closed(&self) -> bool {
        match self {
            Connection::Http1(s) => s.is_closed(),
            Connection::Http2(s) => s.is_closed(),
        }
    }
}

/// The longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Most bytes of an answer read (an answer is a few bytes; an error page
/// from a proxy may be large).
const MAX_ANSWER: usize = 64 * 1024;

pub struct Client {
    endpoint: Endpoint,
    protocol: OtlpProtocol,
    headers: HeaderMap,
    connection: Option<Connection>,
}

impl Client {
    pub fn new(endpoint: Endpoint, protocol: OtlpProtocol, headers: &[(String, Secret)]) -> Result<Client, OtlpError> {
        Ok(Client {
            endpoint,
            protocol,
            headers: header_map(headers)?,
            connection: None,
        })
    }

    /// Sends one encoded export request; gives up after `timeout`
    /// (connecting included).
    pub async fn send(&mut self, signal: Signal, message: Bytes, timeout: Duration) -> Result<Accepted, Failure> {
        match tokio::time::timeout(timeout, self.exchange(signal, message)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(failure)) => {
                if matches!(failure, Failure::Unreachable(_)) {
                    self.connection = None;
                }
                Err(failure)
            }
            Err(_) => {
                // The connection may be stuck mid-answer: start a new one.
                self.connection = None;
                Err(Failure::Unreachable(format!(
                    "no answer within {} ms",
                    timeout.as_millis()
                )))
            }
        }
    }

    async fn exchange(&mut self, signal: Signal, message: Bytes) -> Result<Accepted, Failure> {
        let body = match self.protocol {
            OtlpProtocol::Http => message,
            OtlpProtocol::Grpc => {
                let mut framed = Vec::with_capacity(message.len() + 5);
                framed.push(0);
                framed.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
                framed.extend_from_slice(&message);
                Bytes::from(framed)
            }
        };
        let reused = self.connection.as_ref().is_some_and(|c| !c.is_closed());
        let response = match self.request(signal, body.clone()).await {
            // A kept-alive connection the receiver closed while it was
            // idle is not the receiver being down: once more, on a new one.
            Err(Failure::Unreachable(_)) if reused => {
                self.connection = None;
                self.request(signal, body).await?
            }
            other => other?,
        };
        match self.protocol {
            OtlpProtocol::Http => http_answer(response).await,
            OtlpProtocol::Grpc => grpc_answer(response).await,
        }
    }

    async fn request(&mut self, signal: Signal, body: Bytes) -> Result<Response<Incoming>, Failure> {
        let path = self.endpoint.path(self.protocol, signal);
        let mut request = match self.protocol {
            OtlpProtocol::Http => Request::post(path)
                .header(HOST, &self.endpoint.authority)
                .header(CONTENT_TYPE, "application/x-protobuf")
                .body(Full::new(body)),
            OtlpProtocol::Grpc => Request::post(format!("http://{}{path}", self.endpoint.authority))
                .header(CONTENT_TYPE, "application/grpc")
                .header("te", "trailers")
                .body(Full::new(body)),
        }
        .map_err(|e| Failure::Refused(format!("cannot build the request: {e}")))?;
        request.headers_mut().insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("rohas/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in &self.headers {
            request.headers_mut().insert(name, value.clone());
        }
        if self.connection.as_ref().is_none_or(Connection::is_closed) {
            self.connection = Some(self.connect().await?);
        }
        let broken = |e: hyper::Error| Failure::Unreachable(describe(&e));
        match self.connection.as_mut() {
            Some(Connection::Http1(sender)) => {
                sender.ready().await.map_err(broken)?;
                sender.send_request(request).await.map_err(broken)
            }
            Some(Connection::Http2(sender)) => {
                sender.ready().await.map_err(broken)?;
                sender.send_request(request).await.map_err(broken)
            }
            None => Err(Failure::Unreachable("not connected".into())),
        }
    }

    async fn connect(&self) -> Result<Connection, Failure> {
        let stream = tokio::net::TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        // Small requests: send them now rather than wait to fill a packet.
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        let refused = |e: hyper::Error| Failure::Unreachable(describe(&e));
        match self.protocol {
            OtlpProtocol::Http => {
                let (sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(refused)?;
                tokio::spawn(connection);
                Ok(Connection::Http1(sender))
            }
            OtlpProtocol::Grpc => {
                let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .map_err(refused)?;
                tokio::spawn(connection);
                Ok(Connection::Http2(sender))
            }
        }
    }
}

fn header_map(headers: &[(String, Secret)]) -> Result<HeaderMap, OtlpError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = |reason: String| OtlpError::BadHeader {
            name: name.clone(),
            reason,
        };
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
        if matches!(
            header.as_str(),
            "host" | "content-type" | "content-length" | "te" | "transfer-encoding" | "connection"
        ) {
            return Err(bad("the exporter sets it".into()));
        }
        let mut value = HeaderValue::from_str(value.expose().trim()).map_err(|e| bad(e.to_string()))?;
        value.set_sensitive(true);
        map.append(header, value);
    }
    Ok(map)
}

/// hyper's error with its cause (`connection closed before message
/// completed`, `connection reset by peer` …).
fn describe(e: &hyper::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn read_body(body: Incoming) -> Result<(Bytes, Option<HeaderMap>), Failure> {
    let collected = http_body_util::Limited::new(body, MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| Failure::Unreachable(format!("the answer broke off: {e}")))?;
    let trailers = collected.trailers().cloned();
    Ok((collected.to_bytes(), trailers))
}

async fn http_answer(response: Response<Incoming>) -> Result<Accepted, Failure> {
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let protobuf = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/x-protobuf"));
    let (body, _) = read_body(response.into_body()).await?;
    if status.is_success() {
        return Ok(accepted(&body));
    }
    let detail = if protobuf {
        <RpcStatus as prost::Message>::decode(body.as_ref())
            .map(|s| s.message)
            .unwrap_or_default()
    } else {
        String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string()
    };
    let reason = match detail.is_empty() {
        true => status.to_string(),
        false => format!("{status}: {detail}"),
    };
    // OTLP/HTTP: only these mean "try again"; every other 4xx and 5xx
    // would get the same answer.
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    ) {
        Err(Failure::Busy { reason, retry_after })
    } else {
        Err(Failure::Refused(reason))
    }
}

async fn grpc_answer(response: Response<Incoming>) -> Result<Accepted, Failure> {
    let status = response.status();
    let headers = response.headers().clone();
    let (body, trailers) = read_body(response.into_body()).await?;
    if status != StatusCode::OK {
        // Not a gRPC answer (a proxy's): read the HTTP status as gRPC does.
        let reason = format!("HTTP {status} instead of a gRPC answer");
        return match status {
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Err(Failure::Busy {
                reason,
                retry_after: None,
            }),
            _ => Err(Failure::Refused(reason)),
        };
    }
    // A trailers-only answer carries the status in its headers.
    let fields = trailers
        .as_ref()
        .filter(|t| t.contains_key("grpc-status"))
        .unwrap_or(&headers);
    let code = fields
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    let message = fields
        .get("grpc-message")
        .map(|v| percent_decode(v.as_bytes()))
        .unwrap_or_default();
    match code {
        Some(0) => Ok(accepted(body.get(5..).unwrap_or_default())),
        Some(code) => {
            let reason = format!(
                "gRPC status {code} ({}){}",
                grpc_code_name(code),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                }
            );
            // OTLP/gRPC's retryable codes.
            if matches!(code, 1 | 4 | 8 | 10 | 11 | 14 | 15) {
                Err(Failure::Busy {
                    reason,
                    retry_after: None,
                })
            } else {
                Err(Failure::Refused(reason))
            }
        }
        None => Err(Failure::Unreachable("the answer has no grpc-status".into())),
    }
}

fn accepted(body: &[u8]) -> Accepted {
    let answer = <ExportResponse as prost::Message>::decode(body).unwrap_or_default();
    let partial = answer.partial_success.unwrap_or_default();
    Accepted {
        rejected: partial.rejected,
        message: partial.error_message,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

fn grpc_code_name(code: u32) -> &'static str {
    match code {
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "?",
    }
}

/// `grpc-message` (and OpenTelemetry's header setting) is percent-encoded UTF-8.
pub(super) fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode(b"bad%20input%3A %E2%9C%93"), "bad input: ✓");
        assert_eq!(percent_decode(b"100%"), "100%");
    }

    #[test]
    fn headers_are_checked_once_at_start() {
        let ok = header_map(&[("Authorization".into(), "Bearer x".into())]).unwrap();
        assert_eq!(ok.get("authorization").unwrap(), "Bearer x");
        let bad = header_map(&[("bad header".into(), "x".into())])
            .unwrap_err()
            .to_string();
        assert!(bad.contains("`bad header`"), "{bad}");
        let bad = header_map(&[("x-tenant".into(), "a\nb".into())])
            .unwrap_err()
            .to_string();
        assert!(bad.contains("x-tenant"), "{bad}");
        assert!(header_map(&[("Content-Type".into(), "x".into())]).is_err());
    }
}
