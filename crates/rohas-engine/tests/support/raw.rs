//! A raw HTTP/1.1 client on a `TcpStream`, for what a well-behaved client
//! never does: stop halfway through the headers, hold a keep-alive
//! connection idle, drip a body, send a broken chunk size. The tests read
//! the bytes the server sends (or that it closed) exactly.
//!
//! Every read is bounded by [`PATIENCE`], so a server that never answers
//! fails the test instead of hanging it.

use super::PATIENCE;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// One connection.
pub struct Raw {
    stream: TcpStream,
    /// Read but not yet consumed (the start of a next answer).
    pending: Vec<u8>,
}

/// One answer as read off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    /// `name: value` lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What came back on a connection.
#[derive(Debug)]
pub enum Outcome {
    Answer(RawAnswer),
    /// Closed (or reset) before a whole answer came.
    Closed,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Raw {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .expect("connecting within the patience")
            .expect("connecting");
        Raw {
            stream,
            pending: Vec::new(),
        }
    }

    /// Connect from `source` (a local address such as `127.0.0.2`: Linux
    /// routes all of 127.0.0.0/8 to the loopback interface), so the server
    /// sees another client than `127.0.0.1`.
    pub async fn connect_from(source: IpAddr, addr: SocketAddr) -> Raw {
        let socket = match source {
            IpAddr::V4(_) => TcpSocket::new_v4(),
            IpAddr::V6(_) => TcpSocket::new_v6(),
        }
        .expect("a socket");
        socket
            .bind(SocketAddr::new(source, 0))
            .unwrap_or_else(|e| panic!("binding {source}: {e}"));
        let stream = tokio::time::timeout(PATIENCE, socket.connect(addr))
            .await
            .expect("connecting within the patience")
            .expect("connecting");
        Raw {
            stream,
            pending: Vec::new(),
        }
    }

    /// Write bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("writing to the server");
    }

    /// Write bytes; `false` if the server already closed.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    /// A complete `GET` with keep-alive.
    pub async fn get(&mut self, path: &str) {
        self.send(format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").as_bytes())
            .await;
    }

    /// The next answer, or [`Outcome::Closed`].
    pub async fn outcome(&mut self) -> Outcome {
        tokio::time::timeout(PATIENCE, self.read_answer())
            .await
            .unwrap_or_else(|_| panic!("no answer and no close within {PATIENCE:?}"))
    }

    /// The next answer; fails the test if the connection closed instead.
    pub async fn answer(&mut self) -> RawAnswer {
        match self.outcome().await {
            Outcome::Answer(answer) => answer,
            Outcome::Closed => panic!("the server closed the connection instead of answering"),
        }
    }

    /// Whether the server closes the connection within [`PATIENCE`]
    /// (anything it sends first is skipped).
    pub async fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        let wait = async {
            loop {
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        };
        tokio::time::timeout(PATIENCE, wait).await.is_ok()
    }

    async fn fill(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        match self.stream.read(&mut buf).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                true
            }
        }
    }

    async fn read_answer(&mut self) -> Outcome {
        let head_end = loop {
            if let Some(at) = find(&self.pending, b"\r\n\r\n") {
                break at;
            }
            if !self.fill().await {
                return Outcome::Closed;
            }
        };
        let head = String::from_utf8_lossy(&self.pending[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {head:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while self.pending.len() < body_start + length {
            if !self.fill().await {
                return Outcome::Closed;
            }
        }
        let body = String::from_utf8_lossy(&self.pending[body_start..body_start + length]).into_owned();
        self.pending.drain(..body_start + length);
        Outcome::Answer(RawAnswer { status, headers, body })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
