//! [`Telemetry`]: the handle the engine records through, and the one
//! thread that writes.
//!
//! Recording never waits: a span is pushed onto one of a few bounded
//! buffers ([`SpanBuffers`]), a log line is a `try_send` into a bounded
//! queue, and when either is full the record is dropped and counted. The
//! thread takes what is waiting in batches, adds spans up into
//! the metric totals, stores what is enabled and sampled in one
//! transaction per batch, passes the batch to the exporters, and every 10
//! seconds stores the metric points; once a minute it deletes what is
//! past retention or over the size cap.
//!
//! Trouble with the file never reaches the application: a full disk stops
//! the writing (said once, retried every 10 s); a damaged file is moved
//! aside and a new one started; a file deleted while running is replaced.
//! Each is said once through [`Notice`].

use crate::log::LogEntry;
use crate::metrics::{self, Gauge, ProcessStats, Totals};
use crate::query::{self, LogQuery, MetricsQuery, Page, QueryError, TraceQuery, TraceSummary, TraceTree};
use crate::span::Span;
use crate::span_buffers::{Pushed, SpanBuffers, SHARDS};
use crate::store::{self, StoreFile, Trouble};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the recorder tells people what happened to its file (the engine
/// prints it as a warning).
pub type Notice = Arc<dyn Fn(&str) + Send + Sync>;

/// Where finished batches go besides the store (the OTLP exporter). Called
/// on the recorder's thread: a sink must hand the batch to its own thread
/// and return at once.
pub trait Sink: Send + 'static {
    fn spans(&self, batch: &Arc<Vec<Span>>);
    fn logs(&self, batch: &Arc<Vec<LogEntry>>);
    /// Called once when the recorder stops: send what is left.
    fn close(&self) {}
}

pub struct Options {
    /// The telemetry folder (`.rohas/telemetry`); `None` stores nothing
    /// (metrics and exporters still work).
    pub folder: Option<PathBuf>,
    pub traces: bool,
    pub logs: bool,
    pub metrics: bool,
    /// Share of traces stored and exported, 0.0 to 1.0, decided from the
    /// trace id (so every engine of a trace decides alike).
    pub sample_ratio: f64,
    pub retention: Duration,
    /// Cap on the live data in the file.
    pub max_bytes: u64,
    /// Log lines the queue holds before dropping; spans wait in a few
    /// per-thread buffers (`span_buffers.rs`), each holding as many.
    pub queue_capacity: usize,
    pub sinks: Vec<Box<dyn Sink>>,
    pub notice: Notice,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            folder: None,
            traces: true,
            logs: true,
            metrics: true,
            sample_ratio: 1.0,
            retention: Duration::from_secs(30 * 24 * 3600),
            max_bytes: 1024 * 1024 * 1024,
            queue_capacity: 65_536,
            sinks: Vec::new(),
            notice: Arc::new(|_| {}),
        }
    }
}

enum Record {
    Log(LogEntry),
    /// Answered once everything sent before it was written.
    Flush(mpsc::Sender<()>),
    /// Run upkeep now (retention, size cap, the file still there, a
    /// stopped store tried again).
    Upkeep,
    /// A query opened at this instant found the file damaged.
    Damaged(Instant),
    /// Write what came before, then end the thread.
    Stop,
}

/// The recording handle. Cheap to clone; `Telemetry::off()` records nothing.
#[derive(Clone)]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    tx: Mutex<Option<SyncSender<Record>>>,
    /// A clone of the sender for the hot path (no lock): dropped on close
    /// together with the one above.
    fast: SyncSender<Record>,
    /// Where spans wait for the writer (not the queue: see `span_buffers.rs`).
    spans: Arc<SpanBuffers>,
    traces: bool,
    logs: bool,
    spans_wanted: bool,
    dropped_spans: AtomicU64,
    dropped_logs: AtomicU64,
    totals: Arc<Mutex<Totals>>,
    gauges: Arc<Mutex<Vec<Gauge>>>,
    tail: tokio::sync::broadcast::Sender<Arc<LogEntry>>,
    file: Option<PathBuf>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The writer, to wake it for a flush or close.
    writer: std::thread::Thread,
    closed: std::sync::atomic::AtomicBool,
}

impl Telemetry {
    pub fn off() -> Telemetry {
        Telemetry { inner: None }
    }

    pub fn start(options: Options) -> Telemetry {
        if !options.traces && !options.logs && !options.metrics && options.sinks.is_empty() {
            return Telemetry::off();
        }
        let (tx, rx) = mpsc::sync_channel(options.queue_capacity.max(16));
        let totals = Arc::new(Mutex::new(Totals::default()));
        let gauges = Arc::new(Mutex::new(Vec::new()));
        let file = options.folder.as_deref().map(store::file_in);
        let spans_wanted = options.traces || options.metrics || !options.sinks.is_empty();
        let (tail, _) = tokio::sync::broadcast::channel(4096);
        let spans = Arc::new(SpanBuffers::new(options.queue_capacity));
        let writer = Writer {
            rx,
            spans: Arc::clone(&spans),
            spares: std::array::from_fn(|_| Vec::new()),
            high_water: [0; SHARDS],
            file: file.clone(),
            store: None,
            stopped: None,
            traces: options.traces,
            logs: options.logs,
            metrics: options.metrics,
            sample_below: sample_threshold(options.sample_ratio),
            retention: options.retention,
            max_bytes: options.max_bytes,
            sinks: options.sinks,
            notice: options.notice,
            totals: totals.clone(),
            gauges: gauges.clone(),
            resumed: false,
            said: None,
            opened_at: None,
            window_start: Totals::default(),
            batch_logs: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("rohas-telemetry".into())
            .spawn(move || writer.run())
            .expect("cannot start the telemetry thread");
        Telemetry {
            inner: Some(Arc::new(Inner {
                fast: tx.clone(),
                tx: Mutex::new(Some(tx)),
                spans,
                traces: options.traces,
                logs: options.logs,
                spans_wanted,
                dropped_spans: AtomicU64::new(0),
                dropped_logs: AtomicU64::new(0),
                totals,
                gauges,
                tail,
                file,
                writer: thread.thread().clone(),
                thread: Mutex::new(Some(thread)),
                closed: std::sync::atomic::AtomicBool::new(false),
            })),
        }
    }

    /// Whether spans are wanted at all (stored, counted or exported): the
    /// engine builds none when not.
    pub fn spans_on(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.spans_wanted)
    }

    pub fn traces_on(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.traces)
    }

    pub fn logs_on(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.logs)
    }

    /// Records a finished span. Never waits (its buffer's lock is held by
    /// another thread only while the writer swaps the vector out).
    pub fn span(&self, mut span: Span) {
        let Some(inner) = self.inner.as_ref().filter(|i| i.spans_wanted) else {
            return;
        };
        // After `close` nothing takes them (a closed queue refused them).
        if inner.closed.load(Ordering::Relaxed) {
            return;
        }
        crate::limits::cut_span(&mut span);
        match inner.spans.push(span) {
            Pushed::Kept => {}
            Pushed::HalfFull => inner.writer.unpark(),
            Pushed::Full => {
                inner.dropped_spans.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records a log line (and shows it to live tails). Never waits.
    pub fn log(&self, mut entry: LogEntry) {
        let Some(inner) = self.inner.as_ref().filter(|i| i.logs) else {
            return;
        };
        crate::limits::cut_log(&mut entry);
        if inner.tail.receiver_count() > 0 {
            let _ = inner.tail.send(Arc::new(entry.clone()));
        }
        if let Err(TrySendError::Full(_)) = inner.fast.try_send(Record::Log(entry)) {
            inner.dropped_logs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The engine's gauges now (queue depth, open WebSockets): kept for
    /// `/metrics` and stored with the next 10-second point.
    pub fn gauges(&self, gauges: Vec<Gauge>) {
        if let Some(inner) = &self.inner {
            *lock(&inner.gauges) = gauges;
        }
    }

    /// Live log lines, for `logs -f` and the workbench.
    pub fn tail(&self) -> Option<tokio::sync::broadcast::Receiver<Arc<LogEntry>>> {
        self.inner.as_ref().map(|i| i.tail.subscribe())
    }

    /// Waits (up to `timeout`) until everything recorded before this call
    /// is written. Blocking: call it off the async threads.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(inner) = &self.inner else { return true };
        let (tx, rx) = mpsc::channel();
        let sent = lock(&inner.tx).as_ref().map(|s| s.send(Record::Flush(tx)).is_ok());
        inner.writer.unpark();
        sent == Some(true) && rx.recv_timeout(timeout).is_ok()
    }

    /// A query that started at `opened` found the file damaged (SQLite
    /// said so while reading pages no write touches): the writer moves it
    /// aside and starts a new one, unless it has already done so since.
    pub fn damaged(&self, opened: Instant) {
        if let Some(inner) = &self.inner {
            let _ = inner.fast.try_send(Record::Damaged(opened));
        }
    }

    /// Runs upkeep now instead of at the next minute (retention, the size
    /// cap, a deleted file replaced, a stopped store tried again), then
    /// waits for it like [`Telemetry::flush`]. Blocking.
    pub fn upkeep(&self, timeout: Duration) -> bool {
        let Some(inner) = &self.inner else { return true };
        let sent = lock(&inner.tx).as_ref().map(|s| s.send(Record::Upkeep).is_ok());
        sent == Some(true) && self.flush(timeout)
    }

    /// Writes what is queued and stops the thread. Blocking.
    pub fn close(&self) {
        let Some(inner) = &self.inner else { return };
        if inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        lock(&inner.tx).take();
        // Blocking send: the stop marker must get in behind what is queued.
        let _ = inner.fast.send(Record::Stop);
        inner.writer.unpark();
        if let Some(t) = lock(&inner.thread).take() {
            let _ = t.join();
        }
    }

    /// The Prometheus text of everything counted since start.
    pub fn prometheus(&self) -> String {
        let Some(inner) = &self.inner else {
            return metrics::prometheus::render(&Totals::default(), &[], ProcessStats::read().as_ref());
        };
        let mut totals = lock(&inner.totals).clone();
        totals.dropped_spans = inner.dropped_spans.load(Ordering::Relaxed);
        totals.dropped_logs = inner.dropped_logs.load(Ordering::Relaxed);
        let gauges = lock(&inner.gauges).clone();
        metrics::prometheus::render(&totals, &gauges, ProcessStats::read().as_ref())
    }

    /// The totals counted so far (tests, the workbench's summary).
    pub fn totals(&self) -> Totals {
        self.inner.as_ref().map(|i| lock(&i.totals).clone()).unwrap_or_default()
    }

    /// The store's file, when there is one.
    pub fn file(&self) -> Option<PathBuf> {
        self.inner.as_ref().and_then(|i| i.file.clone())
    }

    pub fn reader(&self) -> Option<Reader> {
        self.file().map(Reader::new)
    }
}

/// Queries on a telemetry file, with or without an engine running.
/// Blocking: the engine calls them off its async threads.
#[derive(Debug, Clone)]
pub struct Reader {
    file: PathBuf,
}

impl Reader {
    /// A reader of the file in a telemetry folder.
    pub fn in_folder(folder: &std::path::Path) -> Reader {
        Reader::new(store::file_in(folder))
    }

    fn new(file: PathBuf) -> Reader {
        Reader { file }
    }

    /// The SQLite file it reads (`<folder>/telemetry.db`).
    pub fn file(&self) -> &std::path::Path {
        &self.file
    }

    pub fn traces(&self, q: &TraceQuery) -> Result<Page<TraceSummary>, QueryError> {
        query::traces(&self.file, q)
    }

    pub fn trace(&self, trace_id: &str) -> Result<TraceTree, QueryError> {
        query::trace(&self.file, trace_id)
    }

    pub fn logs(&self, q: &LogQuery) -> Result<Page<LogEntry>, QueryError> {
        query::logs(&self.file, q)
    }

    pub fn metrics(&self, q: &MetricsQuery) -> Result<serde_json::Value, QueryError> {
        query::metric_series(&self.file, q, chrono::Utc::now().timestamp())
    }
}

/// How often the writer looks at its queue.
const TICK: Duration = Duration::from_millis(25);
/// Most records written in one transaction.
const BATCH: usize = 8192;
/// Fewer spans (or logs) than this wait for more, up to [`MAX_WAIT`]: a
/// block costs a transaction, a statement and WAL pages of its own, so a
/// server at a few hundred requests a second wrote forty blocks a second
/// of a dozen spans each, and paid those costs per dozen (under callgrind,
/// 600 instructions a request). OpenTelemetry's batch exporter waits for
/// 512 spans too.
const MIN_BLOCK: usize = 512;
/// How long recorded spans and logs may wait for a fuller block.
const MAX_WAIT: Duration = Duration::from_millis(250);
/// How often upkeep (retention, size cap, the file still there) runs, at
/// the least: it also runs once a tenth of the size cap was written since
/// the last (`StoreFile::written_since_upkeep`).
const UPKEEP_EVERY: Duration = Duration::from_secs(60);
/// How long a stopped store waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(10);
/// How long metric points are kept.
const POINTS_KEPT_S: i64 = 24 * 3600;

struct Writer {
    rx: Receiver<Record>,
    spans: Arc<SpanBuffers>,
    /// An emptied vector per buffer, swapped in when its spans are taken.
    spares: [Vec<Span>; SHARDS],
    /// Each buffer's recent largest turn, decaying: what its spare is
    /// sized for (see `run`).
    high_water: [usize; SHARDS],
    file: Option<PathBuf>,
    store: Option<StoreFile>,
    /// Why the store is not written, and when that was seen.
    stopped: Option<(String, Instant)>,
    traces: bool,
    logs: bool,
    metrics: bool,
    sample_below: u64,
    retention: Duration,
    max_bytes: u64,
    sinks: Vec<Box<dyn Sink>>,
    notice: Notice,
    totals: Arc<Mutex<Totals>>,
    /// The engine's latest gauges (shared with the handle), stored with each point.
    gauges: Arc<Mutex<Vec<Gauge>>>,
    window_start: Totals,
    /// Writing was tried again after trouble: the next good write says so.
    resumed: bool,
    /// The trouble last said (not said again while it lasts).
    said: Option<String>,
    /// When the file written now was opened (a query's report of damage
    /// is about this file only if the query started later).
    opened_at: Option<Instant>,
    /// The batch's logs, kept between batches (see `run`).
    batch_logs: Vec<LogEntry>,
}

impl Writer {
    fn run(mut self) {
        self.open();
        let resolution = Duration::from_secs(metrics::RESOLUTION_S as u64);
        let mut next_point = Instant::now() + resolution;
        let mut next_upkeep = Instant::now() + UPKEEP_EVERY;
        let mut full = false;
        let mut gone = false;
        let mut last_write = Instant::now();
        loop {
            // Woken by the clock, not by each record: a wake-up per record
            // costs the serving threads a context switch each (on one core,
            // more than the record itself). A flush or close unparks it.
            if !full {
                let wait = next_point.saturating_duration_since(Instant::now());
                std::thread::park_timeout(TICK.min(wait));
            }
            // Between batches: a step of the wall clock is taken here.
            crate::clock::follow_wall_clock();
            // Each log is moved once, into a vector kept from batch to
            // batch (growing a fresh one copied each several times and
            // faulted in new pages).
            let mut logs = std::mem::take(&mut self.batch_logs);
            let mut stop = false;
            let mut upkeep_now = false;
            let mut damaged: Option<Instant> = None;
            let mut flushed = Vec::new();
            let mut taken = 0;
            while taken < BATCH {
                match self.rx.try_recv() {
                    Ok(record) => match record {
                        Record::Log(l) => logs.push(l),
                        Record::Stop => stop = true,
                        Record::Upkeep => upkeep_now = true,
                        Record::Damaged(opened) => damaged = damaged.max(Some(opened)),
                        Record::Flush(done) => flushed.push(done),
                    },
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        gone = true;
                        break;
                    }
                }
                taken += 1;
            }
            full = taken == BATCH;
            // A small batch waits for more (unless something waits on it).
            let turn = Instant::now();
            let due = stop
                || gone
                || full
                || upkeep_now
                || damaged.is_some()
                || !flushed.is_empty()
                || turn >= last_write + MAX_WAIT
                || turn >= next_point
                || logs.len() >= MIN_BLOCK
                || self.spans.waiting() >= MIN_BLOCK;
            if !due {
                self.batch_logs = logs;
                continue;
            }
            last_write = turn;
            // First: what this batch holds goes to the new file.
            if let Some(opened) = damaged {
                // A report about a file already replaced is old news.
                let current = self.opened_at.is_some_and(|at| at <= opened);
                if current && self.store.is_some() {
                    self.trouble(Trouble::Damaged("a query found a damaged page".into()));
                }
            }
            // The spans of each buffer are a batch of their own (read in
            // place, not moved into one); the logs go with the first.
            // Taken after the queue: a flush or stop read from it comes
            // after the spans its caller recorded, which are here now.
            for i in 0..SHARDS {
                let spare = std::mem::take(&mut self.spares[i]);
                let mut spans = self.spans.take(i, spare);
                // A thread outrunning the clock: no sleep before the next turn.
                full |= spans.len() >= BATCH;
                let taken = spans.len();
                self.take(&mut spans, &mut logs);
                logs.clear();
                // The spare is sized for the buffer's recent largest turn,
                // not the last one: events come in bursts (a handler
                // publishing thousands), and a vector grown step by step
                // on the recording thread copied every span at each step
                // (2 % of a burst's instructions). The mark falls by a
                // 1/1024th a turn (halved in some 18 s), and a spare four
                // times larger than it is replaced, so the memory goes back
                // a while after a burst. An exporter that kept the vector
                // leaves an empty one here. A new spare has half the mark
                // again as headroom: turns under steady load differ by a
                // fifth or so, and a spare of exactly the mark grew (a
                // copy of every span) on every turn a little busier.
                let mark = taken.max(self.high_water[i] - self.high_water[i] / 1024);
                self.high_water[i] = mark;
                if spans.capacity() < mark || spans.capacity() > 4 * mark.max(1024) {
                    // A new vector, not `reserve`: growing one copies its
                    // whole old allocation, though it is empty.
                    spans = Vec::with_capacity(mark + mark / 2);
                }
                self.spares[i] = spans;
            }
            self.batch_logs = logs;
            let now = Instant::now();
            if now >= next_point {
                self.point();
                next_point = now + resolution;
            }
            if upkeep_now {
                if let Some((reason, _)) = self.stopped.take() {
                    self.stopped = Some((reason, Instant::now() - RETRY_AFTER));
                }
            }
            // Early when a tenth of the cap was written since the last.
            let grown = self
                .store
                .as_ref()
                .is_some_and(|s| s.written_since_upkeep() >= (self.max_bytes / 10).max(64 * 1024));
            if now >= next_upkeep || upkeep_now || grown {
                self.writable();
                self.upkeep();
                next_upkeep = now + UPKEEP_EVERY;
            }
            // Answered last: a flush after an upkeep waits for the upkeep.
            for done in flushed {
                let _ = done.send(());
            }
            if stop || (gone && !full) {
                break;
            }
        }
        for sink in &self.sinks {
            sink.close();
        }
    }

    /// Counts, stores and exports one batch. Leaves the vectors to be
    /// cleared and used again (unless a sink took them).
    fn take(&mut self, spans: &mut Vec<Span>, logs: &mut Vec<LogEntry>) {
        if spans.is_empty() && logs.is_empty() {
            return;
        }
        if self.metrics && !spans.is_empty() {
            let mut totals = lock(&self.totals);
            for s in spans.iter() {
                totals.add(s);
            }
        }
        if !self.traces {
            spans.clear();
        } else if self.sample_below != u64::MAX {
            spans.retain(|s| sampled(&s.trace_id, self.sample_below));
        }
        if !self.logs {
            logs.clear();
        }
        let span_refs: Vec<&Span> = spans.iter().collect();
        let log_refs: Vec<&LogEntry> = logs.iter().collect();
        // A buffer may hold more than a block should: `BATCH` spans a
        // transaction, the logs with the first.
        let mut chunks = span_refs.chunks(BATCH);
        self.store(chunks.next().unwrap_or_default(), &log_refs);
        for chunk in chunks {
            self.store(chunk, &[]);
        }
        drop(span_refs);
        drop(log_refs);
        if !self.sinks.is_empty() {
            let spans = Arc::new(std::mem::take(spans));
            let logs = Arc::new(std::mem::take(logs));
            for sink in &self.sinks {
                if !spans.is_empty() {
                    sink.spans(&spans);
                }
                if !logs.is_empty() {
                    sink.logs(&logs);
                }
            }
        }
    }

    /// Stores one transaction's spans and logs; what is not stored is
    /// counted.
    fn store(&mut self, span_refs: &[&Span], log_refs: &[&LogEntry]) {
        let unstored = (span_refs.len() + log_refs.len()) as u64;
        if unstored == 0 {
            return;
        }
        if self.writable() {
            if let Some(store) = &mut self.store {
                match store.write(span_refs, log_refs) {
                    Ok(()) if std::mem::take(&mut self.resumed) => {
                        self.said = None;
                        (self.notice)(&format!("telemetry: writing to {} again", store.path().display()));
                    }
                    Ok(()) => {}
                    Err(e) => {
                        let damaged = matches!(e, Trouble::Damaged(_));
                        self.trouble(e);
                        // A damaged file was replaced by a new one: the
                        // batch goes there.
                        let rewritten = damaged
                            && self
                                .store
                                .as_mut()
                                .is_some_and(|s| s.write(span_refs, log_refs).is_ok());
                        if !rewritten {
                            lock(&self.totals).unstored += unstored;
                        }
                    }
                }
            }
        } else if self.file.is_some() {
            lock(&self.totals).unstored += unstored;
        }
    }

    /// Whether to write now: a store is open, or the wait after trouble
    /// is over and opening again worked.
    fn writable(&mut self) -> bool {
        match &self.stopped {
            None => self.store.is_some(),
            Some((_, since)) if since.elapsed() < RETRY_AFTER => false,
            Some(_) => {
                if self.store.is_none() {
                    self.open();
                } else {
                    // Try again; a new failure stops it again (said only
                    // if the reason changed).
                    self.stopped = None;
                    self.resumed = true;
                }
                if self.stopped.is_none() && self.store.is_some() {
                    return true;
                }
                false
            }
        }
    }

    fn open(&mut self) {
        let Some(file) = self.file.clone() else { return };
        match StoreFile::open(&file, self.max_bytes) {
            Ok((store, aside)) => {
                if let Some(aside) = aside {
                    (self.notice)(&format!(
                        "telemetry: {} was damaged; moved it to {} and started a new one",
                        file.display(),
                        aside.display()
                    ));
                }
                if self.stopped.take().is_some() {
                    self.resumed = true;
                }
                self.store = Some(store);
                self.opened_at = Some(Instant::now());
            }
            Err(e) => self.trouble(e),
        }
    }

    /// Stops writing after trouble, saying so once.
    fn trouble(&mut self, e: Trouble) {
        let path = self.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default();
        if let Trouble::Damaged(_) = e {
            if self.replace_damaged() {
                return;
            }
        }
        let reason = e.to_string();
        if self.said.as_deref() != Some(reason.as_str()) {
            self.said = Some(reason.clone());
            (self.notice)(&format!(
                "telemetry: stopped writing to {path}: {reason}; the application keeps serving, and telemetry tries again every {}s",
                RETRY_AFTER.as_secs()
            ));
        }
        self.stopped = Some((reason, Instant::now()));
    }

    /// Moves a file that failed as damaged aside and starts a new one,
    /// saying so. Reopening alone is not enough: a file whose first pages
    /// are sound opens fine and fails again at the next write.
    fn replace_damaged(&mut self) -> bool {
        let Some(store) = self.store.take() else {
            // Damaged at opening: opening again moves it aside.
            self.open();
            return self.store.is_some();
        };
        let file = store.path().to_path_buf();
        match store.replace_damaged(self.max_bytes) {
            Ok((store, aside)) => {
                (self.notice)(&format!(
                    "telemetry: {} was damaged; moved it to {} and started a new one",
                    file.display(),
                    aside.display()
                ));
                self.store = Some(store);
                self.opened_at = Some(Instant::now());
                true
            }
            // Not moved (say, no permission): the caller says why writing stopped.
            Err(_) => false,
        }
    }

    fn point(&mut self) {
        if !self.metrics {
            return;
        }
        let now = lock(&self.totals).clone();
        let at = chrono::Utc::now().timestamp();
        let gauges = lock(&self.gauges).clone();
        let points = metrics::window_points(at, &now, &self.window_start, &gauges, ProcessStats::read().as_ref());
        self.window_start = now;
        if self.writable() {
            if let Some(store) = &mut self.store {
                if let Err(e) = store.write_points(&points) {
                    self.trouble(e);
                }
            }
        }
    }

    fn upkeep(&mut self) {
        let Some(store) = &mut self.store else { return };
        if !store.still_there() {
            let path = store.path().display().to_string();
            self.store = None;
            self.open();
            if self.store.is_some() {
                (self.notice)(&format!(
                    "telemetry: {path} was deleted while running; started a new one"
                ));
            }
            return;
        }
        let cutoff = crate::now_ns().saturating_sub(u64::try_from(self.retention.as_nanos()).unwrap_or(u64::MAX));
        let points_cutoff = chrono::Utc::now().timestamp() - POINTS_KEPT_S.min(self.retention.as_secs() as i64);
        if let Err(e) = store.upkeep(cutoff, points_cutoff, self.max_bytes) {
            self.trouble(e);
        }
    }
}

/// A trace is kept when a hash of its id falls below the threshold.
fn sample_threshold(ratio: f64) -> u64 {
    if ratio >= 1.0 || ratio.is_nan() {
        u64::MAX
    } else if ratio <= 0.0 {
        0
    } else {
        (ratio * u64::MAX as f64) as u64
    }
}

fn sampled(trace_id: &str, below: u64) -> bool {
    if below == u64::MAX {
        return true;
    }
    let bytes = crate::ids::trace_id_bytes(trace_id);
    let low = u64::from_be_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
    low < below
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
