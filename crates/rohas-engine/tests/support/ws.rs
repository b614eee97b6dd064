//! A WebSocket client for the tests: tokio-tungstenite, the same crate and
//! version axum serves WebSockets with (no new dependency in the graph).
//! Every wait is bounded so a missing message fails the test instead of
//! hanging it.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message that should come.
const WAIT: Duration = Duration::from_secs(10);

pub struct Client(WebSocketStream<MaybeTlsStream<TcpStream>>);

/// Connect to `url` (`ws://…`); `Err` carries the HTTP status when the
/// server refused the upgrade.
pub async fn try_connect(url: &str) -> Result<Client, u16> {
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await {
        Ok(Ok((stream, _))) => Ok(Client(stream)),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => Err(response.status().as_u16()),
        Ok(Err(e)) => panic!("connecting to {url}: {e}"),
        Err(_) => panic!("connecting to {url}: no answer within {WAIT:?}"),
    }
}

/// Connect to `url`; fails the test if the upgrade is refused.
pub async fn connect(url: &str) -> Client {
    try_connect(url)
        .await
        .unwrap_or_else(|status| panic!("connecting to {url}: refused with {status}"))
}

impl Client {
    pub async fn send_text(&mut self, text: &str) {
        self.0
            .send(Message::text(text))
            .await
            .expect("sending a WebSocket message");
    }

    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next text message, as JSON (bounded wait; pings are skipped).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.next())
                .await
                .unwrap_or_else(|_| panic!("no WebSocket message within {WAIT:?}"))
                .expect("the connection closed before a message came")
                .expect("reading a WebSocket message");
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// The close frame's code, once the server closes (bounded wait).
    pub async fn next_close_code(&mut self) -> Option<u16> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.next())
                .await
                .unwrap_or_else(|_| panic!("no close within {WAIT:?}"));
            match frame {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Read (and so answer pings, as any live client does) for `period`,
    /// expecting no message: what came, counted.
    pub async fn listen(&mut self, period: Duration) -> Heard {
        let mut heard = Heard::default();
        let until = tokio::time::Instant::now() + period;
        loop {
            let frame = match tokio::time::timeout_at(until, self.0.next()).await {
                Err(_) => return heard,
                Ok(frame) => frame,
            };
            match frame {
                Some(Ok(Message::Ping(_))) => heard.pings += 1,
                Some(Ok(Message::Close(frame))) => {
                    heard.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    return heard;
                }
                Some(Ok(other)) => panic!("expected no message, got {other:?}"),
                Some(Err(_)) | None => {
                    heard.closed = Some(1006);
                    return heard;
                }
            }
        }
    }

    /// Close cleanly and wait for the server's close.
    pub async fn close(mut self) {
        let _ = self.0.close(None).await;
        let _ = tokio::time::timeout(WAIT, async { while let Some(Ok(_)) = self.0.next().await {} }).await;
    }
}

/// What [`Client::listen`] saw.
#[derive(Debug, Default)]
pub struct Heard {
    pub pings: usize,
    /// The close code, if the connection ended (1006: without a close frame).
    pub closed: Option<u16>,
}
