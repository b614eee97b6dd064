//! The Node.js worker processes and the framed protocol to them.
//!
//! Each worker talks over a Unix socket handed to it as fd 3 (its stdout and
//! stderr stay free for whatever user code prints; they are logged). Frames
//! are described in `frame.rs`. A writer task per worker drains every queued
//! frame into one write, so under load one syscall carries many calls; the
//! worker does the same in the other direction, and the reader here takes
//! every frame one read brought, then hands the replies to their waiting
//! calls under a single lock.
//!
//! Failure handling lives here:
//! - a worker that exits (a `process.exit` in a handler, a crash, an
//!   uncaught exception, a heap over `--max-old-space-size`, which
//!   `[runtime] node_max_heap_mb` sets) fails its in-flight calls with 500
//!   and is replaced;
//! - a call the engine stopped waiting for (timeout) is cancelled; a worker
//!   that does not even acknowledge the cancel within [`STUCK_AFTER`] is stuck
//!   in synchronous code: it is killed (SIGKILL) and replaced. New calls avoid
//!   a worker with an unacknowledged cancel;
//! - hot reload starts a fresh set of workers on the new build and switches
//!   to it only once every handler imported there, while the old workers
//!   finish what they have in flight (no request is dropped, and every module
//!   is evaluated anew, imports of imports included).

use crate::frame::{self, Frame, Next};
use crate::table::Table;
use rohas_runtime::pending::PendingCalls;
use rohas_runtime::sync::{lock, read, write};
use rohas_runtime::{HandlerError, Host, LogLevel, LogRecord, Outcome};
use serde_json::{json, Map};
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Notify};

/// A cancelled call whose worker has not acknowledged the cancel by then
/// means the worker's event loop is blocked: it is killed.
pub const STUCK_AFTER: Duration = Duration::from_millis(1000);

/// How long workers may take to import the handlers: 120 s, or
/// `ROHAS_NODE_LOAD_TIMEOUT` seconds (heavy npm packages can take a while).
fn load_timeout() -> Duration {
    let seconds = rohas_config::ProcessVar::NodeLoadTimeout
        .get()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(120);
    Duration::from_secs(seconds)
}

/// What a worker answered to one request.
#[derive(Debug)]
pub enum Reply {
    /// A call's result, decoded by the reader.
    Call(Result<Outcome, HandlerError>),
    Loaded(Vec<String>),
    /// The worker died before answering.
    Crashed(String),
}

pub struct Launch {
    pub node: PathBuf,
    pub host_script: PathBuf,
    pub project: PathBuf,
    pub dev: bool,
    /// `--max-old-space-size` for each worker, in MiB.
    pub max_heap_mb: Option<u64>,
    pub host: Arc<dyn Host>,
}

pub struct Worker {
    pub index: usize,
    /// The handler table this worker loaded: what to send it per call.
    pub table: Arc<Table>,
    pid: u32,
    tx: mpsc::UnboundedSender<Vec<u8>>,
    pending: PendingCalls<Reply>,
    /// Cancelled calls not yet acknowledged, with when they were cancelled.
    abandoned: Mutex<HashMap<u64, Instant>>,
    /// The handler file this worker said it was importing last.
    importing: Mutex<Option<String>>,
    /// Calls sent and not answered, acknowledged or failed.
    inflight: AtomicUsize,
    /// Replaced by a newer worker: it finishes what it has and takes no more.
    retiring: AtomicBool,
    dead: AtomicBool,
}

impl Worker {
    fn send(&self, frame: Vec<u8>) {
        let _ = self.tx.send(frame);
    }

    /// Register a request and send it; the receiver gets the reply. `None`
    /// when this worker takes no more calls (it is retiring or has stopped):
    /// the caller picks another one.
    ///
    /// The call is counted before the retiring flag is read, and [`retire`]
    /// sets the flag before it reads the count (both `SeqCst`): either the
    /// call sees the flag and goes elsewhere, or `retire` sees the call and
    /// waits for it. A worker whose pending table is not closed yet has not
    /// drained it, so a call that joins it is failed with the others.
    pub fn submit(&self, id: u64, frame: Vec<u8>) -> Option<oneshot::Receiver<Reply>> {
        self.inflight.fetch_add(1, Ordering::SeqCst);
        if self.retiring.load(Ordering::SeqCst) {
            self.finished();
            return None;
        }
        let registered = if self.is_dead() {
            None
        } else {
            self.pending.register(id)
        };
        let Some(rx) = registered else {
            self.finished();
            return None;
        };
        self.send(frame);
        Some(rx)
    }

    /// Send the handler table; the receiver gets the load reply (or the
    /// worker's end, if it stopped first).
    fn submit_load(&self, id: u64, table: &Table) -> oneshot::Receiver<Reply> {
        self.submit(id, frame::json(frame::LOAD, id, &table.json))
            .unwrap_or_else(|| {
                let (tx, rx) = oneshot::channel();
                let _ = tx.send(Reply::Crashed("the Node.js worker stopped while starting".into()));
                rx
            })
    }

    /// The engine no longer waits for call `id`: tell the worker, and watch
    /// that it answers at all.
    pub fn abandon(&self, id: u64) {
        if self.pending.forget(id) {
            lock(&self.abandoned).insert(id, Instant::now());
            self.send(frame::empty(frame::CANCEL, id));
        }
    }

    fn suspect(&self) -> bool {
        !lock(&self.abandoned).is_empty()
    }

    fn finished(&self) {
        let _ = self
            .inflight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
    }

    fn kill(&self) {
        // SAFETY: plain syscall on a pid this process spawned and still reaps.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }
}

pub struct Pool {
    launch: Launch,
    size: usize,
    slots: RwLock<Vec<Arc<Worker>>>,
    /// Every live worker, current or retiring, for the stuck-worker check.
    all: Mutex<Vec<Weak<Worker>>>,
    /// The handler table the current workers loaded; replacements load it too.
    table: Mutex<Option<Arc<Table>>>,
    next_id: AtomicU64,
    /// Workers replaced after they died or got stuck (for metrics).
    restarts: AtomicU64,
    changed: Notify,
    me: Weak<Pool>,
}

impl Pool {
    pub fn new(launch: Launch, size: usize) -> Arc<Pool> {
        let pool = Arc::new_cyclic(|me| Pool {
            launch,
            size: size.max(1),
            slots: RwLock::new(Vec::new()),
            all: Mutex::new(Vec::new()),
            table: Mutex::new(None),
            next_id: AtomicU64::new(1),
            restarts: AtomicU64::new(0),
            changed: Notify::new(),
            me: me.clone(),
        });
        let weak = Arc::downgrade(&pool);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(pool) = weak.upgrade() else { return };
                pool.kill_stuck();
            }
        });
        pool
    }

    /// (workers alive now, workers replaced since start).
    pub fn health(&self) -> (usize, u64) {
        let alive = read(&self.slots).iter().filter(|w| !w.is_dead()).count();
        (alive, self.restarts.load(Ordering::Relaxed))
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A worker for a new call: the least busy one that is alive and not
    /// stuck, waiting for a replacement when there is none.
    pub async fn pick(&self) -> Option<Arc<Worker>> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.changed.notified();
            {
                let slots = read(&self.slots);
                if slots.is_empty() {
                    return None;
                }
                let best = slots
                    .iter()
                    .filter(|w| !w.is_dead() && !w.suspect())
                    .min_by_key(|w| w.inflight.load(Ordering::Relaxed));
                if let Some(w) = best {
                    return Some(w.clone());
                }
            }
            if Instant::now() > until {
                return None;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    fn kill_stuck(&self) {
        let workers: Vec<Arc<Worker>> = {
            let mut all = lock(&self.all);
            all.retain(|w| w.strong_count() > 0);
            all.iter().filter_map(Weak::upgrade).collect()
        };
        for w in workers {
            let stuck = lock(&w.abandoned).values().any(|since| since.elapsed() > STUCK_AFTER);
            if stuck && !w.is_dead() {
                self.launch.host.log(LogRecord {
                    level: LogLevel::Warn,
                    message: format!(
                        "Node.js worker {} did not stop a timed-out handler (synchronous code?): killing and replacing it",
                        w.index
                    ),
                    handler: "typescript".into(),
                    trace_id: String::new(),
                    fields: Map::new(),
                });
                w.kill();
            }
        }
    }

    /// Start a full set of workers on `table` and switch to them once every
    /// one imported every handler; the previous workers finish their calls.
    pub async fn load(&self, table: Table) -> Result<(), Vec<String>> {
        let table = Arc::new(table);
        let mut fresh = Vec::new();
        let mut waits = Vec::new();
        for index in 0..self.size {
            match self.spawn(index, table.clone()) {
                Ok(w) => {
                    let id = self.next_id();
                    waits.push(w.submit_load(id, &table));
                    fresh.push(w);
                }
                Err(e) => {
                    for w in &fresh {
                        w.kill();
                    }
                    return Err(vec![e]);
                }
            }
        }
        let mut errors = Vec::new();
        let limit = load_timeout();
        for rx in waits {
            let reply = tokio::time::timeout(limit, rx).await;
            match reply {
                Ok(Ok(Reply::Loaded(e))) => {
                    if errors.is_empty() {
                        errors = e;
                    }
                }
                Ok(Ok(Reply::Crashed(message))) => {
                    if errors.is_empty() {
                        errors.push(message);
                    }
                }
                Ok(Ok(other)) => errors.push(format!("unexpected answer from a Node.js worker: {other:?}")),
                Ok(Err(_)) => errors.push("a Node.js worker stopped while loading handlers".into()),
                Err(_) => errors.push(match fresh.iter().find_map(|w| lock(&w.importing).clone()) {
                    Some(file) => format!(
                        "{file}: importing it did not finish within {} s: does its top-level code loop or wait forever?",
                        limit.as_secs()
                    ),
                    None => format!("Node.js workers did not load the handlers within {} s", limit.as_secs()),
                }),
            }
        }
        for w in &fresh {
            w.finished();
        }
        if !errors.is_empty() {
            for w in &fresh {
                w.dead.store(true, Ordering::Release);
                w.kill();
            }
            return Err(errors);
        }
        *lock(&self.table) = Some(table);
        let old = {
            let mut slots = write(&self.slots);
            std::mem::replace(&mut *slots, fresh)
        };
        self.changed.notify_waiters();
        for w in old {
            tokio::spawn(retire(w));
        }
        Ok(())
    }

    /// Replace a worker that died, if it is still one of the current ones.
    fn replace(&self, dead: &Arc<Worker>) {
        let is_current = {
            let slots = read(&self.slots);
            slots.get(dead.index).is_some_and(|w| Arc::ptr_eq(w, dead))
        };
        if !is_current {
            return;
        }
        let table = lock(&self.table).clone();
        let Some(table) = table else { return };
        match self.spawn(dead.index, table.clone()) {
            Ok(w) => {
                let id = self.next_id();
                let rx = w.submit_load(id, &table);
                let counted = w.clone();
                tokio::spawn(async move {
                    let _ = rx.await;
                    counted.finished();
                });
                let mut slots = write(&self.slots);
                if slots.get(dead.index).is_some_and(|x| Arc::ptr_eq(x, dead)) {
                    self.restarts.fetch_add(1, Ordering::Relaxed);
                    slots[dead.index] = w;
                } else {
                    w.kill();
                }
                drop(slots);
                self.changed.notify_waiters();
            }
            Err(e) => self.launch.host.log(LogRecord {
                level: LogLevel::Error,
                message: format!("cannot restart Node.js worker {}: {e}", dead.index),
                handler: "typescript".into(),
                trace_id: String::new(),
                fields: Map::new(),
            }),
        }
    }

    fn spawn(&self, index: usize, table: Arc<Table>) -> Result<Arc<Worker>, String> {
        let launch = &self.launch;
        let (ours, theirs) =
            std::os::unix::net::UnixStream::pair().map_err(|e| format!("cannot create a socket pair: {e}"))?;
        let mut command = tokio::process::Command::new(&launch.node);
        if launch.dev {
            command.arg("--enable-source-maps");
        }
        if let Some(mb) = launch.max_heap_mb {
            command.arg(format!("--max-old-space-size={mb}"));
        }
        command
            .arg(&launch.host_script)
            .current_dir(&launch.project)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let fd = theirs.as_raw_fd();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // A worker spinning in a handler never sees its socket close:
                // make the kernel stop it when the engine goes away.
                #[cfg(target_os = "linux")]
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if fd == 3 {
                    let flags = libc::fcntl(3, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", launch.node.display()))?;
        drop(theirs);
        ours.set_nonblocking(true)
            .map_err(|e| format!("cannot set up the worker socket: {e}"))?;
        let stream =
            tokio::net::UnixStream::from_std(ours).map_err(|e| format!("cannot set up the worker socket: {e}"))?;
        let (reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let worker = Arc::new(Worker {
            index,
            table,
            pid: child.id().unwrap_or(0),
            tx,
            pending: PendingCalls::new(),
            abandoned: Mutex::new(HashMap::new()),
            importing: Mutex::new(None),
            inflight: AtomicUsize::new(0),
            retiring: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        });
        lock(&self.all).push(Arc::downgrade(&worker));

        // Writer: every queued frame in one write.
        let busy = Arc::downgrade(&worker);
        tokio::spawn(async move {
            let mut buffer = Vec::with_capacity(64 * 1024);
            while let Some(first) = rx.recv().await {
                // Woken by the first frame, this task would run right after
                // the call that queued it (tokio's LIFO slot) and write one
                // frame per syscall, waking the worker each time. Under load
                // (other calls in flight) it yields once so the other ready
                // requests queue their calls first and one write carries
                // many; a lone call goes out at once.
                if busy.upgrade().is_some_and(|w| w.inflight.load(Ordering::Relaxed) > 1) {
                    tokio::task::yield_now().await;
                }
                buffer.extend_from_slice(&first);
                while buffer.len() < 1 << 20 {
                    match rx.try_recv() {
                        Ok(more) => buffer.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                if writer.write_all(&buffer).await.is_err() {
                    return;
                }
                buffer.clear();
            }
        });

        for (stream, level) in [
            (
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                LogLevel::Info,
            ),
            (
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                LogLevel::Warn,
            ),
        ] {
            let Some(stream) = stream else { continue };
            let host = launch.host.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut fields = Map::new();
                    fields.insert("worker".into(), json!(index));
                    host.log(LogRecord {
                        level,
                        message: line,
                        handler: String::new(),
                        trace_id: String::new(),
                        fields,
                    });
                }
            });
        }

        // Reader, then the end of the process: fail what is in flight, replace it.
        let w = worker.clone();
        let host = launch.host.clone();
        let pool = self.me.clone();
        let max_heap_mb = launch.max_heap_mb;
        tokio::spawn(async move {
            read_frames(reader, &w, &*host).await;
            w.kill();
            let status = child.wait().await;
            let how = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(code), _) => format!("exited with code {code}"),
                    (None, Some(9)) => "was killed".to_string(),
                    // What V8 does when the heap is full.
                    (None, Some(6)) => format!(
                        "aborted (signal 6: Node.js does this when a worker runs out of heap{})",
                        heap_limit_hint(max_heap_mb)
                    ),
                    (None, Some(sig)) => format!("was stopped by signal {sig}"),
                    _ => "stopped".to_string(),
                },
                Err(e) => format!("could not be waited for: {e}"),
            };
            // Closed as it is drained: no call joins it after.
            w.dead.store(true, Ordering::Release);
            let pending = w.pending.close();
            lock(&w.abandoned).clear();
            w.inflight.store(0, Ordering::Release);
            for tx in pending {
                let _ = tx.send(Reply::Crashed(format!(
                    "the Node.js worker running this handler {how} before it finished (a `process.exit`, a crash, or a stuck handler elsewhere on that worker); it was restarted"
                )));
            }
            if let Some(pool) = pool.upgrade() {
                tokio::time::sleep(Duration::from_millis(20)).await;
                pool.replace(&w);
                pool.changed.notify_waiters();
            }
        });
        Ok(worker)
    }

    pub async fn shutdown(&self) {
        let workers = std::mem::take(&mut *write(&self.slots));
        let retiring: Vec<_> = workers.into_iter().map(|w| tokio::spawn(retire(w))).collect();
        for r in retiring {
            let _ = r.await;
        }
    }
}

/// Where the heap limit of an aborted worker comes from, for its message.
fn heap_limit_hint(max_heap_mb: Option<u64>) -> String {
    match max_heap_mb {
        Some(mb) => format!(", over `[runtime] node_max_heap_mb` = {mb}"),
        None => "; `[runtime] node_max_heap_mb` sets the limit".into(),
    }
}

/// Let a worker finish its calls, then stop it.
async fn retire(w: Arc<Worker>) {
    w.retiring.store(true, Ordering::SeqCst);
    let until = Instant::now() + Duration::from_secs(300);
    while w.inflight.load(Ordering::SeqCst) > 0 && !w.is_dead() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w.dead.store(true, Ordering::Release);
    w.kill();
}

/// Read frames until the worker's end closes (or sends nonsense). Each read
/// takes whatever the socket has; every whole frame in it is handled, and
/// the call results among them are delivered together.
async fn read_frames(mut reader: tokio::net::unix::OwnedReadHalf, w: &Worker, host: &dyn Host) {
    const CHUNK: usize = 64 * 1024;
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut results = Vec::new();
    loop {
        match reader.read_buf(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut used = 0;
        let wanted = loop {
            match frame::next(&buffer[used..]) {
                Next::Frame(frame, size) => {
                    used += size;
                    match frame.kind {
                        frame::VALUE | frame::DONE | frame::FAIL => results.push((frame.id, frame::outcome(frame))),
                        _ => handle(w, host, frame),
                    }
                }
                Next::Partial(wanted) => break wanted,
                Next::Broken => {
                    // Replies read before the bad bytes still reach their calls.
                    w.deliver(&mut results);
                    return;
                }
            }
        };
        w.deliver(&mut results);
        buffer.drain(..used);
        // Room for the rest of a large frame, or for the next read; a
        // buffer grown for one large reply does not stay that large.
        if buffer.is_empty() && buffer.capacity() > 16 * CHUNK {
            buffer = Vec::with_capacity(CHUNK);
        }
        buffer.reserve(wanted.max(buffer.len() + CHUNK / 4) - buffer.len());
    }
}

impl Worker {
    /// Hand call results to the calls waiting for them: one lock of the
    /// pending table for the whole batch. A result is counted once, whether
    /// or not the engine still waits.
    fn deliver(&self, results: &mut Vec<(u64, Result<Outcome, HandlerError>)>) {
        if results.is_empty() {
            return;
        }
        let count = results.len();
        let unclaimed = self
            .pending
            .complete_many(results.drain(..).map(|(id, result)| (id, Reply::Call(result))));
        for _ in unclaimed.len()..count {
            self.finished();
        }
        for id in unclaimed {
            // Cancelled: the result is the acknowledgement.
            if lock(&self.abandoned).remove(&id).is_some() {
                self.finished();
            }
        }
    }
}

/// A frame other than a call's result.
fn handle(w: &Worker, host: &dyn Host, frame: Frame<'_>) {
    match frame.kind {
        frame::LOADED => {
            let errors = match serde_json::from_slice::<frame::Loaded>(frame.body) {
                Ok(loaded) => loaded.errors,
                Err(e) => vec![format!("bad load reply from a Node.js worker: {e}")],
            };
            w.pending.complete(frame.id, Reply::Loaded(errors));
        }
        frame::ACK if lock(&w.abandoned).remove(&frame.id).is_some() => w.finished(),
        frame::IMPORTING => *lock(&w.importing) = Some(String::from_utf8_lossy(frame.body).into_owned()),
        frame::LOG => {
            if let Ok(log) = serde_json::from_slice::<frame::Log>(frame.body) {
                host.log(LogRecord {
                    level: LogLevel::parse(&log.level),
                    message: log.message,
                    handler: log.handler,
                    trace_id: log.trace_id,
                    fields: log.fields.unwrap_or_default(),
                });
            }
        }
        frame::BROADCAST => {
            if let Ok(b) = serde_json::from_slice::<frame::Broadcast>(frame.body) {
                host.broadcast(&b.endpoint, b.message);
            }
        }
        frame::SEND => {
            if let Ok(s) = serde_json::from_slice::<frame::SendToConnection>(frame.body) {
                host.send(&s.connection_id, s.message);
            }
        }
        _ => {}
    }
}
