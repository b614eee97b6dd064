//! [`OtlpExporter`]: the queue the recorder hands batches to, and the
//! thread that sends them.
//!
//! The recorder's thread only ever does a `try_send` of an `Arc`; when
//! the queue is full, or 32,768 records are already waiting or being
//! sent, the batch is dropped and counted. The exporter's thread gathers
//! what arrives within half a second into requests of at most 512
//! records, and sends them one at a time: a receiver that is slow or
//! down holds up only this thread, and the queue in front of it is what
//! gives way. A request that fails for a passing reason (no connection,
//! 429, 503, gRPC UNAVAILABLE …) is tried again three times, waiting
//! longer each time; then, or at once when the receiver refused it, the
//! batch is dropped and counted.
//!
//! People hear about trouble once: when the receiver stops answering
//! (and again when it answers again), and once per kind of refusal.

use super::endpoint::{Endpoint, Signal};
use super::mapping;
use super::transport::{Accepted, Client, Failure};
use super::{OtlpError, OtlpOptions};
use crate::log::LogEntry;
use crate::recorder::{Notice, Sink};
use crate::span::Span;
use bytes::Bytes;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Batches (as the recorder hands them) the queue holds before dropping.
const QUEUE: usize = 256;
/// Records held (queued or being sent) before new batches are dropped: a
/// bound on memory while the receiver is slow or down, whatever the size
/// of the recorder's batches (OpenTelemetry SDKs hold 2,048 spans; an
/// engine under load records far more per second than one app thread).
const MAX_HELD: usize = 32_768;
/// How long the thread gathers batches before sending them.
const GATHER: Duration = Duration::from_millis(500);
/// Most records in one request (OpenTelemetry SDKs' default).
const PER_REQUEST: usize = 512;
/// A request larger than this is split (receivers refuse bodies over
/// 4 MiB by default).
const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;
/// Tries of one request, the first included, for passing failures.
const TRIES: u32 = 4;
/// The wait before the first retry; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long [`Sink::close`] may take to send what is left.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

enum Batch {
    Spans(Arc<Vec<Span>>),
    Logs(Arc<Vec<LogEntry>>),
}

/// Sends spans and logs to an OTLP receiver. Give it to the recorder as a
/// sink: `Options { sinks: vec![Box::new(exporter)], .. }`.
pub struct OtlpExporter {
    /// Dropped on close: the thread sends what is queued, then ends.
    queue: Mutex<Option<mpsc::Sender<Batch>>>,
    stats: OtlpStats,
    shared: Arc<Shared>,
    /// Answered (by dropping its sender) when the thread has ended.
    ended: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the recorder's side and the exporter's thread both see.
struct Shared {
    /// Set by close: the thread gives up on what is not sent by then,
    /// a request in flight included.
    deadline: tokio::sync::watch::Sender<Option<Instant>>,
    notice: Notice,
    /// Records queued or being sent.
    held: AtomicUsize,
    /// A full queue was said (once).
    said_full: AtomicBool,
}

impl OtlpExporter {
    /// Checks the options and starts the exporter's thread. Nothing is
    /// sent until the first batch; an unreachable receiver is said later,
    /// through `notice`, once.
    pub fn start(options: OtlpOptions, notice: Notice) -> Result<OtlpExporter, OtlpError> {
        let endpoint = Endpoint::parse(&options.endpoint, options.protocol)?;
        let client = Client::new(endpoint.clone(), options.protocol, &options.headers)?;
        // A runtime of its own: the exporter works the same whether or not
        // the engine's runtime is busy, blocked or shutting down.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = OtlpStats::default();
        let shared = Arc::new(Shared {
            deadline: tokio::sync::watch::Sender::new(None),
            notice,
            held: AtomicUsize::new(0),
            said_full: AtomicBool::new(false),
        });
        let (ended_tx, ended_rx) = std::sync::mpsc::channel::<()>();
        let sender = Sender {
            client,
            receiver: endpoint.display(),
            timeout: options.timeout.max(Duration::from_millis(1)),
            resource: mapping::resource(&options.service_name, options.service_version.as_deref()),
            stats: stats.clone(),
            shared: shared.clone(),
            down: None,
            refusals_said: HashSet::new(),
        };
        let thread = std::thread::Builder::new().name("rohas-otlp".into()).spawn(move || {
            runtime.block_on(sender.run(rx));
            // A name lookup may still be running on the blocking pool (a
            // slow DNS server): close does not wait for it.
            runtime.shutdown_background();
            drop(ended_tx);
        })?;
        Ok(OtlpExporter {
            queue: Mutex::new(Some(tx)),
            stats,
            shared,
            ended: Mutex::new(Some(ended_rx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The exporter's counters, readable after the exporter is handed to
    /// the recorder.
    pub fn stats(&self) -> OtlpStats {
        self.stats.clone()
    }

    fn push(&self, batch: Batch, records: usize, dropped: &AtomicU64) {
        let queue = lock(&self.queue);
        let Some(queue) = queue.as_ref() else {
            dropped.fetch_add(records as u64, Ordering::Relaxed);
            return;
        };
        // Pushes take turns on the queue's lock, so the check cannot race
        // another push; the exporter's thread only takes away.
        let held = &self.shared.held;
        let full = held.load(Ordering::Acquire) + records > MAX_HELD || {
            held.fetch_add(records, Ordering::AcqRel);
            let refused = queue.try_send(batch).is_err();
            if refused {
                held.fetch_sub(records, Ordering::AcqRel);
            }
            refused
        };
        if full {
            dropped.fetch_add(records as u64, Ordering::Relaxed);
            if !self.shared.said_full.swap(true, Ordering::Relaxed) {
                (self.shared.notice)(
                    "telemetry: the OTLP exporter cannot keep up with what is recorded; some spans and logs are not exported (said once)",
                );
            }
        }
    }

    /// Sets the deadline and lets the thread finish; does not wait.
    fn stop(&self) {
        self.shared.deadline.send_if_modified(|d| {
            let unset = d.is_none();
            d.get_or_insert_with(|| Instant::now() + CLOSE_WITHIN);
            unset
        });
        lock(&self.queue).take();
    }
}

impl Sink for OtlpExporter {
    fn spans(&self, batch: &Arc<Vec<Span>>) {
        self.push(Batch::Spans(batch.clone()), batch.len(), &self.stats.0.dropped_spans);
    }

    fn logs(&self, batch: &Arc<Vec<LogEntry>>) {
        self.push(Batch::Logs(batch.clone()), batch.len(), &self.stats.0.dropped_logs);
    }

    /// Sends what is queued, giving up on what is not sent within 5 s.
    fn close(&self) {
        self.stop();
        let Some(ended) = lock(&self.ended).take() else { return };
        // The thread keeps to the deadline; the extra second is slack.
        if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
            ended.recv_timeout(CLOSE_WITHIN + Duration::from_secs(1))
        {
            if let Some(thread) = lock(&self.thread).take() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for OtlpExporter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The exporter's counters (shared; cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct OtlpStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    exported_spans: AtomicU64,
    exported_logs: AtomicU64,
    dropped_spans: AtomicU64,
    dropped_logs: AtomicU64,
    failed_requests: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OtlpCounts {
    /// Records the receiver took.
    pub exported_spans: u64,
    pub exported_logs: u64,
    /// Records not exported: the queue was full, the receiver refused
    /// them (in whole or in part) or could not be reached.
    pub dropped_spans: u64,
    pub dropped_logs: u64,
    /// Requests that failed, retries included.
    pub failed_requests: u64,
}

impl OtlpStats {
    pub fn counts(&self) -> OtlpCounts {
        let c = &self.0;
        OtlpCounts {
            exported_spans: c.exported_spans.load(Ordering::Relaxed),
            exported_logs: c.exported_logs.load(Ordering::Relaxed),
            dropped_spans: c.dropped_spans.load(Ordering::Relaxed),
            dropped_logs: c.dropped_logs.load(Ordering::Relaxed),
            failed_requests: c.failed_requests.load(Ordering::Relaxed),
        }
    }
}

/// The exporter's thread.
struct Sender {
    client: Client,
    receiver: String,
    timeout: Duration,
    resource: Resource,
    stats: OtlpStats,
    shared: Arc<Shared>,
    /// What was said when the receiver stopped taking data; `None` while
    /// it takes it.
    down: Option<String>,
    /// Refusals already said (by their reason's first words).
    refusals_said: HashSet<String>,
}

impl Sender {
    async fn run(mut self, mut rx: mpsc::Receiver<Batch>) {
        // `None` once every sender is gone (close) and the queue is empty.
        while let Some(first) = rx.recv().await {
            let mut spans = Vec::new();
            let mut logs = Vec::new();
            let mut records = 0;
            let mut take = |batch: Batch, records: &mut usize| match batch {
                Batch::Spans(s) => {
                    *records += s.len();
                    spans.push(s);
                }
                Batch::Logs(l) => {
                    *records += l.len();
                    logs.push(l);
                }
            };
            take(first, &mut records);
            // Gather for a moment: one request for many small batches.
            let until = tokio::time::Instant::now() + GATHER;
            while records < PER_REQUEST {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(batch)) => take(batch, &mut records),
                    Ok(None) | Err(_) => break,
                }
            }
            let spans: Vec<&Span> = spans.iter().flat_map(|b| b.iter()).collect();
            let logs: Vec<&LogEntry> = logs.iter().flat_map(|b| b.iter()).collect();
            for chunk in spans.chunks(PER_REQUEST) {
                self.export_spans(chunk).await;
            }
            for chunk in logs.chunks(PER_REQUEST) {
                self.export_logs(chunk).await;
            }
            self.shared.held.fetch_sub(records, Ordering::AcqRel);
        }
    }

    async fn export_spans(&mut self, spans: &[&Span]) {
        self.export(Signal::Traces, spans, |r, s| {
            mapping::traces_request(r, s).encode_to_vec()
        })
        .await;
    }

    async fn export_logs(&mut self, logs: &[&LogEntry]) {
        self.export(Signal::Logs, logs, |r, l| mapping::logs_request(r, l).encode_to_vec())
            .await;
    }

    /// Sends records as one request (two halves when too large) and
    /// counts what became of them.
    async fn export<T>(&mut self, signal: Signal, records: &[&T], encode: fn(&Resource, &[&T]) -> Vec<u8>) {
        let message = Bytes::from(encode(&self.resource, records));
        if message.len() > MAX_REQUEST_BYTES && records.len() > 1 {
            let (a, b) = records.split_at(records.len() / 2);
            Box::pin(self.export(signal, a, encode)).await;
            return Box::pin(self.export(signal, b, encode)).await;
        }
        let c = self.stats.0.clone();
        let (exported, dropped) = match signal {
            Signal::Traces => (&c.exported_spans, &c.dropped_spans),
            Signal::Logs => (&c.exported_logs, &c.dropped_logs),
        };
        let count = records.len() as u64;
        let rejected = match self.deliver(signal, message).await {
            Some(accepted) => u64::try_from(accepted.rejected).unwrap_or(0).min(count),
            None => count,
        };
        exported.fetch_add(count - rejected, Ordering::Relaxed);
        dropped.fetch_add(rejected, Ordering::Relaxed);
    }

    /// Sends one request, retrying passing failures; `None` when the
    /// batch is given up.
    async fn deliver(&mut self, signal: Signal, message: Bytes) -> Option<Accepted> {
        let what = match signal {
            Signal::Traces => "spans",
            Signal::Logs => "logs",
        };
        let mut backoff = FIRST_BACKOFF;
        // Closing while the receiver is down: one try each, so close does
        // not spend its time on waits that are unlikely to help.
        let tries = if self.time_left().is_some() && self.down.is_some() {
            1
        } else {
            TRIES
        };
        for attempt in 1..=tries {
            let timeout = match self.time_left() {
                Some(left) if left.is_zero() => return None,
                Some(left) => left.min(self.timeout),
                None => self.timeout,
            };
            let mut closing = self.shared.deadline.subscribe();
            let sent = tokio::select! {
                sent = self.client.send(signal, message.clone(), timeout) => sent,
                () = deadline_passes(&mut closing) => return None,
            };
            let failure = match sent {
                Ok(accepted) => {
                    self.answered();
                    if accepted.rejected > 0 {
                        self.say_refusal(
                            format!("partial {what}"),
                            format!(
                                "kept only part of a batch of {what} ({} rejected: {})",
                                accepted.rejected, accepted.message
                            ),
                        );
                    }
                    return Some(accepted);
                }
                Err(f) => f,
            };
            self.stats.0.failed_requests.fetch_add(1, Ordering::Relaxed);
            let wait = match failure {
                Failure::Refused(reason) => {
                    // The receiver answered, so it is up.
                    self.answered();
                    let kind = reason.split(':').next().unwrap_or_default().to_string();
                    self.say_refusal(format!("{what} {kind}"), format!("refused a batch of {what}: {reason}"));
                    return None;
                }
                Failure::Unreachable(reason) => {
                    self.down(format!(
                        "cannot reach the OTLP receiver at {} ({reason})",
                        self.receiver
                    ));
                    backoff
                }
                Failure::Busy { reason, retry_after } => {
                    self.down(format!(
                        "the OTLP receiver at {} does not take data now ({reason})",
                        self.receiver
                    ));
                    retry_after.unwrap_or(backoff)
                }
            };
            if attempt == tries {
                break;
            }
            let wait = match self.time_left() {
                Some(left) if left <= wait => return None,
                _ => wait,
            };
            tokio::time::sleep(wait).await;
            backoff *= 2;
        }
        None
    }

    /// Time left before close gives up, when closing.
    fn time_left(&self) -> Option<Duration> {
        self.shared
            .deadline
            .borrow()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Says once that the receiver does not take data, until it does again.
    fn down(&mut self, what: String) {
        if self.down.is_none() {
            (self.shared.notice)(&format!(
                "telemetry: {what}; spans and logs are retried a few times, then dropped, until it answers (said once)"
            ));
            self.down = Some(what);
        }
    }

    fn answered(&mut self) {
        if self.down.take().is_some() {
            let c = self.stats.counts();
            (self.shared.notice)(&format!(
                "telemetry: the OTLP receiver at {} answers again ({} spans and {} logs dropped so far)",
                self.receiver, c.dropped_spans, c.dropped_logs
            ));
        }
    }

    fn say_refusal(&mut self, kind: String, text: String) {
        if self.refusals_said.insert(kind) {
            (self.shared.notice)(&format!(
                "telemetry: the OTLP receiver at {} {text}; such batches are dropped (said once)",
                self.receiver
            ));
        }
    }
}

/// Resolves when close's deadline passes (never, if close is not called).
async fn deadline_passes(closing: &mut tokio::sync::watch::Receiver<Option<Instant>>) {
    loop {
        let deadline = *closing.borrow_and_update();
        if let Some(deadline) = deadline {
            return tokio::time::sleep_until(deadline.into()).await;
        }
        if closing.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
