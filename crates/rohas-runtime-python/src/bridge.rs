//! The Rust half of the bridge between the engine's tokio threads and the one
//! thread that runs Python's asyncio loop (`host.py` is the other half).
//!
//! Tokio threads never take the GIL to call a handler: [`Bridge::submit`]
//! pushes a job on a queue and, only when the queue was empty, has one byte
//! written to a socket the loop watches (after the other ready requests have
//! queued theirs). The loop then takes *every* queued job in one
//! call (`_rohas.take_batch`), so under load one wake-up and one GIL
//! round-trip serve many requests. Results come back through
//! `_rohas.complete`, which only hands a string to a oneshot channel.

use crate::json::{self, Encoder};
use pyo3::prelude::*;
use pyo3::types::PyString;
use rohas_runtime::pending::PendingCalls;
use rohas_runtime::sync::lock;
use rohas_runtime::{Host, LogLevel, LogRecord};
use serde_json::{Map, Value};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

/// A job for the loop: a handler call, or a control operation.
pub(crate) struct Job {
    pub id: u64,
    /// `call`, `load`, `invalidate` or `stop`.
    pub op: &'static str,
    pub handler: String,
    pub trace_id: String,
    /// JSON: the call's request (or event, message), the specs to load, the
    /// changed paths.
    pub data: String,
    /// JSON of the call's `HandlerContext` (calls only; parsed in Python
    /// only when the handler asks for the context).
    pub context: String,
    /// The WebSocket endpoint and connection of ws handlers.
    pub endpoint: Option<String>,
    pub connection: Option<String>,
}

/// What `host.py` answered: `ok` with a JSON body, or an error body.
pub(crate) struct Reply {
    pub ok: bool,
    pub body: String,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    /// A wake-up byte is on its way and the loop has not drained since.
    notified: bool,
}

pub(crate) struct Bridge {
    queue: Mutex<Queue>,
    wake: UnixStream,
    pending: PendingCalls<Reply>,
    next_id: AtomicU64,
    /// Calls the engine stopped waiting for, for the watchdog; `-1` stops it.
    abandoned: Mutex<Vec<i64>>,
    abandoned_signal: Condvar,
    pub host: Arc<dyn Host>,
    ready: Mutex<Option<std::sync::mpsc::Sender<Result<(), String>>>>,
    /// How late the loop's last half-second tick ran, in seconds (f64
    /// bits): a loop busy with blocking code answers late.
    loop_lag: AtomicU64,
}

/// One interpreter per process, so one bridge: the `_rohas` functions below
/// reach it through this.
static BRIDGE: OnceLock<Arc<Bridge>> = OnceLock::new();

impl Bridge {
    pub(crate) fn install(
        wake: UnixStream,
        host: Arc<dyn Host>,
        ready: std::sync::mpsc::Sender<Result<(), String>>,
    ) -> Result<Arc<Bridge>, String> {
        let bridge = Arc::new(Bridge {
            queue: Mutex::new(Queue::default()),
            wake,
            pending: PendingCalls::new(),
            next_id: AtomicU64::new(1),
            abandoned: Mutex::new(Vec::new()),
            abandoned_signal: Condvar::new(),
            host,
            ready: Mutex::new(Some(ready)),
            loop_lag: AtomicU64::new(0),
        });
        BRIDGE
            .set(bridge.clone())
            .map_err(|_| "the Python runtime can only be started once per process".to_string())?;
        Ok(bridge)
    }

    /// How late the event loop's last tick ran, in seconds.
    pub(crate) fn loop_lag(&self) -> f64 {
        f64::from_bits(self.loop_lag.load(Ordering::Relaxed))
    }

    /// A control job (`load`, `invalidate`, `stop`) with its JSON data.
    pub(crate) fn control(&self, op: &'static str, data: String) -> Submitted {
        self.submit(Job {
            id: 0,
            op,
            handler: String::new(),
            trace_id: String::new(),
            data,
            context: String::new(),
            endpoint: None,
            connection: None,
        })
    }

    /// Queue a job (its id is assigned here); the receiver gets its reply.
    pub(crate) fn submit(&self, mut job: Job) -> Submitted {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        job.id = id;
        // The table is never closed (the loop thread's end drops nothing),
        // but a refused call would fail as if the runtime had stopped.
        let rx = self.pending.register(id).unwrap_or_else(|| oneshot::channel().1);
        let wake = {
            let mut queue = lock(&self.queue);
            queue.jobs.push(job);
            !std::mem::replace(&mut queue.notified, true)
        };
        if wake {
            self.wake_soon();
        }
        Submitted { id, rx }
    }

    /// Wake the loop, once the engine's thread has queued what else is ready.
    ///
    /// On a tokio thread the byte is written by a task that first yields,
    /// which tokio runs after the other ready tasks (the requests that came
    /// in the same read of the sockets): they join the batch, and the loop
    /// wakes once for all of them. Woken at once, the loop took one job per
    /// wake-up, as the two threads took turns on a busy core.
    fn wake_soon(&self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async {
                    tokio::task::yield_now().await;
                    bridge().wake_now();
                });
            }
            Err(_) => self.wake_now(),
        }
    }

    fn wake_now(&self) {
        // A full socket buffer means a wake-up is already pending.
        let _ = (&self.wake).write(&[1]);
    }

    /// The engine no longer waits for call `id` (timeout, client gone).
    pub(crate) fn abandon(&self, id: u64) {
        if self.pending.forget(id) {
            lock(&self.abandoned).push(id as i64);
            self.abandoned_signal.notify_one();
        }
    }

    pub(crate) fn stop_watchdog(&self) {
        lock(&self.abandoned).push(-1);
        self.abandoned_signal.notify_one();
    }

    /// The loop thread ended before saying it was ready.
    pub(crate) fn failed_to_start(&self, message: String) {
        if let Some(tx) = lock(&self.ready).take() {
            let _ = tx.send(Err(message));
        }
    }
}

pub(crate) struct Submitted {
    pub id: u64,
    pub rx: oneshot::Receiver<Reply>,
}

fn bridge() -> &'static Arc<Bridge> {
    BRIDGE
        .get()
        .expect("the _rohas module is only used after the bridge is installed")
}

// ------------------------------------------------------------ the `_rohas` module

/// A job as `host.py` receives it: `(id, op, handler, trace_id, data,
/// context, endpoint, connection)`.
type JobTuple = (
    u64,
    &'static str,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Every queued job, as [`JobTuple`]s.
#[pyfunction]
fn take_batch() -> Vec<JobTuple> {
    let jobs = {
        let mut queue = lock(&bridge().queue);
        queue.notified = false;
        std::mem::take(&mut queue.jobs)
    };
    jobs.into_iter()
        .map(|j| {
            (
                j.id,
                j.op,
                j.handler,
                j.trace_id,
                j.data,
                j.context,
                j.endpoint,
                j.connection,
            )
        })
        .collect()
}

/// The reply to job `id` (ignored when the engine stopped waiting).
#[pyfunction]
fn complete(id: u64, ok: bool, body: String) {
    bridge().pending.complete(id, Reply { ok, body });
}

/// The replies to many jobs at once: one lock for the batch, then the sends.
/// A body is a `str`, or an [`Encoded`] reply whose text moves over as is.
#[pyfunction]
fn complete_many(replies: Vec<(u64, bool, Bound<'_, PyAny>)>) -> PyResult<()> {
    let replies = replies
        .into_iter()
        .map(|(id, ok, body)| {
            Ok((
                id,
                Reply {
                    ok,
                    body: body_text(&body)?,
                },
            ))
        })
        .collect::<PyResult<Vec<_>>>()?;
    bridge().pending.complete_many(replies);
    Ok(())
}

fn body_text(body: &Bound<'_, PyAny>) -> PyResult<String> {
    match body.cast::<Encoded>() {
        Ok(encoded) => Ok(std::mem::take(&mut encoded.borrow_mut().text)),
        Err(_) => body.extract(),
    }
}

/// A successful call's reply, written in Rust and kept there: `host.py`
/// only passes it on to `complete_many`, so the text never becomes a
/// Python `str`.
#[pyclass(module = "_rohas")]
pub(crate) struct Encoded {
    pub text: String,
}

#[pymethods]
impl Encoded {
    /// The text (a copy), for a look from Python: tests, debugging.
    fn __str__(&self) -> &str {
        &self.text
    }
}

thread_local! {
    /// The buffer `dumps` writes into, kept between calls (taken, not
    /// borrowed: a `to_wire` may call `dumps` while it is in use).
    static BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    /// The size of the last reply, to allocate the next one at once.
    static LAST_REPLY: std::cell::Cell<usize> = const { std::cell::Cell::new(256) };
}

/// `value` as JSON text, as the runtime writes it (see `json/mod.rs`).
#[pyfunction]
fn dumps<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let mut encoder = Encoder::new(value.py(), BUFFER.take());
    json::guarded(|| encoder.value(value))?;
    let (text, mut buffer) = encoder.into_py_string()?;
    if buffer.capacity() <= 1 << 20 {
        buffer.clear();
        BUFFER.set(buffer);
    }
    Ok(text)
}

/// The reply to a call that succeeded: `{"value": …, "triggered": …,
/// "payloads": …}`, the value as `wire_top` used to prepare it (see
/// [`Encoder::returned`]).
#[pyfunction]
fn success(value: &Bound<'_, PyAny>, triggered: &Bound<'_, PyAny>, payloads: &Bound<'_, PyAny>) -> PyResult<Encoded> {
    let mut encoder = Encoder::new(value.py(), Vec::with_capacity(LAST_REPLY.get()));
    json::guarded(|| {
        encoder.raw("{\"value\":");
        encoder.returned(value)?;
        encoder.raw(",\"triggered\":");
        encoder.value(triggered)?;
        encoder.raw(",\"payloads\":");
        encoder.value(payloads)?;
        encoder.raw("}");
        Ok(())
    })?;
    let text = encoder.into_string()?;
    LAST_REPLY.set(text.len() + 64);
    Ok(Encoded { text })
}

#[pyfunction]
fn log(handler: &str, trace_id: &str, level: &str, message: String, fields: &str) {
    let fields = match serde_json::from_str::<Value>(fields) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    bridge().host.log(LogRecord {
        level: LogLevel::parse(level),
        message,
        handler: handler.to_string(),
        trace_id: trace_id.to_string(),
        fields,
    });
}

#[pyfunction]
fn broadcast(endpoint: &str, message: &str) {
    let message = serde_json::from_str(message).unwrap_or(Value::Null);
    bridge().host.broadcast(endpoint, message);
}

#[pyfunction]
fn send(connection_id: &str, message: &str) {
    let message = serde_json::from_str(message).unwrap_or(Value::Null);
    bridge().host.send(connection_id, message);
}

/// Abandoned call ids, waiting up to `timeout_ms` (without the GIL) for one.
#[pyfunction]
fn wait_abandoned(py: Python<'_>, timeout_ms: u64) -> Vec<i64> {
    py.detach(|| {
        let b = bridge();
        let mut list = lock(&b.abandoned);
        if list.is_empty() {
            list = b
                .abandoned_signal
                .wait_timeout(list, Duration::from_millis(timeout_ms))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        std::mem::take(&mut *list)
    })
}

/// The loop's tick ran `seconds` late (see `Host.tick` in host.py).
#[pyfunction]
fn loop_lag(seconds: f64) {
    bridge().loop_lag.store(seconds.max(0.0).to_bits(), Ordering::Relaxed);
}

/// The loop runs: `PythonRuntime::start` may return.
#[pyfunction]
fn ready() {
    if let Some(tx) = lock(&bridge().ready).take() {
        let _ = tx.send(Ok(()));
    }
}

/// The `_rohas` module `host.py` imports.
pub(crate) fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "_rohas")?;
    m.add_function(wrap_pyfunction!(take_batch, &m)?)?;
    m.add_function(wrap_pyfunction!(complete, &m)?)?;
    m.add_function(wrap_pyfunction!(complete_many, &m)?)?;
    m.add_function(wrap_pyfunction!(log, &m)?)?;
    m.add_function(wrap_pyfunction!(broadcast, &m)?)?;
    m.add_function(wrap_pyfunction!(send, &m)?)?;
    m.add_function(wrap_pyfunction!(wait_abandoned, &m)?)?;
    m.add_function(wrap_pyfunction!(ready, &m)?)?;
    m.add_function(wrap_pyfunction!(loop_lag, &m)?)?;
    m.add_function(wrap_pyfunction!(dumps, &m)?)?;
    m.add_function(wrap_pyfunction!(success, &m)?)?;
    Ok(m)
}
