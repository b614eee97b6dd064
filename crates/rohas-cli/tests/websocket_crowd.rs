//! 10,000 WebSocket clients on one `rohas dev` (Python handlers): all held
//! open at once, every one of them hears a broadcast, another endpoint
//! keeps answering while the broadcast goes out, and once the clients
//! leave the engine counts none left. The clients live in this process
//! (it raises its own open-file limit); the server raises its own to fit
//! `[server] max_connections` (the fixture's config).

mod support;

use std::time::{Duration, Instant};
use support::{get, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 10_000;
/// Handshakes in progress at once (the listener's backlog is 1024).
const CONNECTING: usize = 256;
/// Guards against a hang, not a timing claim.
const PATIENCE: Duration = Duration::from_secs(300);

/// Raises this process's soft limit to its hard one: whether the clients fit.
fn raise_own_file_limit() -> Result<(), String> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = (CLIENTS + 512) as u64;
    if limit.maximum.is_some_and(|hard| hard < wanted) {
        return Err(format!(
            "the hard open-file limit {:?} is below the {wanted} this test needs",
            limit.maximum
        ));
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )
    .map_err(|e| format!("cannot raise the open-file limit: {e}"))
}

async fn connect(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!(
        "GET /ws/crowd HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read the answer's head byte by byte: a frame may follow it at once.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.expect("the handshake's answer");
        head.push(byte);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

/// A masked text frame, as a client must send it.
fn text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    assert!(payload.len() < 126);
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The next text frame's text (server frames are unmasked; pings are
/// answered by nobody here and none come: the fixture's interval is long).
async fn next_text(stream: &mut TcpStream) -> String {
    loop {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.expect("a frame");
        let len = match head[1] & 0x7F {
            126 => stream.read_u16().await.unwrap() as usize,
            127 => stream.read_u64().await.unwrap() as usize,
            n => n as usize,
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).await.unwrap();
        match head[0] & 0x0F {
            0x1 => return String::from_utf8(payload).unwrap(),
            0x8 => panic!("closed by the server: {payload:?}"),
            _ => {}
        }
    }
}

fn connections_counted(s: &Server) -> Option<u64> {
    let (status, text) = get(&s.url("/metrics"));
    assert_eq!(status, 200);
    text.as_str()?
        .lines()
        .find_map(|l| l.strip_prefix("rohas_websocket_connections "))
        .and_then(|v| v.trim().parse().ok())
}

fn wait_for_count(s: &Server, wanted: u64) {
    let until = Instant::now() + PATIENCE;
    loop {
        let now = connections_counted(s);
        if now == Some(wanted) {
            return;
        }
        assert!(
            Instant::now() < until,
            "the engine counts {now:?} connections, not {wanted}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ten_thousand_clients_are_held_and_all_hear_a_broadcast() {
    if let Err(why) = raise_own_file_limit() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut s = Server::start("ws-crowd", &[]);
    let port: u16 = s.base.rsplit(':').next().unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let started = Instant::now();
    let mut clients: Vec<TcpStream> = runtime.block_on(async {
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTING));
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    let _turn = gate.acquire_owned().await.unwrap();
                    connect(port).await
                })
            })
            .collect();
        let mut clients = Vec::with_capacity(CLIENTS);
        for task in tasks {
            clients.push(task.await.expect("a client connects"));
        }
        clients
    });
    let connected = started.elapsed();
    wait_for_count(&s, CLIENTS as u64);

    // One client speaks; every client, itself included, hears it, while
    // another endpoint is asked again and again.
    let mut speaker = clients.pop().unwrap();
    let started = Instant::now();
    let heard = runtime.block_on(async {
        speaker
            .write_all(&text_frame(r#"{"user":"ada","text":"hello crowd"}"#))
            .await
            .unwrap();
        let listeners: Vec<_> = clients
            .drain(..)
            .chain(std::iter::once(speaker))
            .map(|mut client| {
                tokio::spawn(async move {
                    let text = next_text(&mut client).await;
                    (text, client)
                })
            })
            .collect();
        let pings = tokio::task::spawn_blocking({
            let url = s.url("/ping");
            move || {
                (0..20)
                    .map(|_| {
                        let asked = Instant::now();
                        let (status, body) = get(&url);
                        assert_eq!(status, 200, "{body}");
                        asked.elapsed()
                    })
                    .collect::<Vec<_>>()
            }
        });
        let mut heard = Vec::with_capacity(CLIENTS);
        for listener in listeners {
            let (text, client) = tokio::time::timeout(PATIENCE, listener)
                .await
                .unwrap_or_else(|_| panic!("{} of {CLIENTS} clients heard the broadcast", heard.len()))
                .unwrap();
            assert!(text.contains("hello crowd"), "{text}");
            heard.push(client);
        }
        let fanned_out = started.elapsed();
        let pings = pings.await.unwrap();
        eprintln!(
            "{CLIENTS} clients connected in {connected:?}; the broadcast reached all in {fanned_out:?}; \
             /ping during it: slowest {:?}",
            pings.iter().max().unwrap()
        );
        heard
    });
    assert_eq!(heard.len(), CLIENTS);

    drop(heard);
    wait_for_count(&s, 0);
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());
    assert!(!s.log().contains("panicked"), "{}", s.log());
}
