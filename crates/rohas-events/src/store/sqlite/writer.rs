//! The one thread that owns the SQLite connection. Every store operation
//! is a job sent to it; it takes every job waiting, runs them in one
//! transaction and commits once (group commit), then tells each job's
//! caller. So a thousand publishes cost one commit (and, with `sync =
//! "always"`, one fsync), and the file is never written from two threads.

use crate::error::AdapterError;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Jobs committed together at most: bounds one transaction's time.
const MAX_BATCH: usize = 8192;

/// What a job does after its batch committed.
type Finish = Box<dyn FnOnce() + Send>;

/// A job's statements, run inside the batch's transaction.
type Work = Box<dyn FnOnce(&Connection) -> rusqlite::Result<Finish> + Send>;

pub(crate) struct Job {
    work: Work,
    fail: Box<dyn FnOnce(AdapterError) + Send>,
}

/// The sending side, shared by every caller.
pub(crate) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Housekeeping the writer runs between batches.
pub(crate) trait Maintenance: Send + 'static {
    /// Called after each batch; may run its own statements.
    fn after_batch(&mut self, conn: &Connection);
}

impl Writer {
    pub fn start(mut conn: Connection, path: PathBuf, dirty: Arc<AtomicBool>, mut upkeep: impl Maintenance) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        let error_path = path;
        let thread = std::thread::Builder::new()
            .name("rohas-queue".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    gather(&rx, &mut jobs);
                    run_batch(&mut conn, jobs, &error_path, &dirty);
                    upkeep.after_batch(&conn);
                }
                // Every sender is gone: the connection closes here, which
                // checkpoints the WAL into the main file.
                drop(conn);
            })
            .expect("cannot start the queue writer thread");
        Writer {
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Run `work` in the next batch; its result once the batch committed.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, AdapterError> {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, AdapterError>>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let on_fail = tx.clone();
        let job = Job {
            work: Box::new(move |conn| {
                let value = work(conn)?;
                Ok(Box::new(move || {
                    if let Some(tx) = lock(&tx).take() {
                        let _ = tx.send(Ok(value));
                    }
                }))
            }),
            fail: Box::new(move |e| {
                if let Some(tx) = lock(&on_fail).take() {
                    let _ = tx.send(Err(e));
                }
            }),
        };
        let sent = lock(&self.jobs).as_ref().map(|jobs| jobs.send(job).is_ok());
        if sent != Some(true) {
            return Err(AdapterError::Closed);
        }
        rx.await.unwrap_or(Err(AdapterError::Closed))
    }

    /// Let the writer finish what it has, then wait for it.
    pub async fn stop(&self) {
        lock(&self.jobs).take();
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        lock(&self.jobs).take();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

/// Take every job waiting, up to [`MAX_BATCH`]; when that is only a few,
/// pause briefly while more keep arriving. The tasks that sent them are
/// usually about to send more (a worker settling a whole `receive` of
/// deliveries, one ack each), and without the pause this thread, woken by
/// the first, commits each alone: a commit (WAL frames written, the page
/// cache swept) and two context switches per message, the queue's largest
/// cost when it shares a core with the engine. A pause that brings nothing
/// ends the gathering, so a lone publish waits one pause at most.
fn gather(rx: &mpsc::Receiver<Job>, jobs: &mut Vec<Job>) {
    let drain = |jobs: &mut Vec<Job>| {
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
    };
    drain(jobs);
    let started = Instant::now();
    while jobs.len() < GATHER_BELOW && started.elapsed() < GATHER_MAX {
        let before = jobs.len();
        std::thread::sleep(GATHER_PAUSE);
        drain(jobs);
        if jobs.len() == before {
            break;
        }
    }
}

/// Batches smaller than this wait for more (see [`gather`]).
const GATHER_BELOW: usize = 256;
/// One pause; the kernel's timer slack makes it ~50 µs more.
const GATHER_PAUSE: Duration = Duration::from_micros(20);
/// Gathering never holds a batch longer than this.
const GATHER_MAX: Duration = Duration::from_micros(500);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn run_batch(conn: &mut Connection, jobs: Vec<Job>, path: &std::path::Path, dirty: &AtomicBool) {
    let mut done = Vec::with_capacity(jobs.len());
    let (works, fails): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.work, j.fail)).unzip();
    let result = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for work in works {
            done.push(work(&tx)?);
        }
        tx.commit()
    })();
    match result {
        Ok(()) => {
            dirty.store(true, Ordering::Release);
            for finish in done {
                finish();
            }
        }
        Err(e) => {
            // The whole batch rolled back (the transaction's drop): every
            // job in it failed, none half-applied.
            let error = super::classify(e, path);
            for fail in fails {
                fail(error.clone());
            }
        }
    }
}

/// With `sync = "batch"`, commits reach the OS at once (a crash of the
/// process loses nothing) and the disk within `interval` (a power loss
/// loses at most that much): this thread fsyncs the WAL file when a batch
/// was committed since its last look.
pub(crate) fn start_flusher(wal: PathBuf, dirty: Arc<AtomicBool>, interval: Duration, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("rohas-queue-sync".into())
        .spawn(move || {
            let mut file: Option<std::fs::File> = None;
            let mut last = Instant::now();
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(interval.saturating_sub(last.elapsed()));
                last = Instant::now();
                if !dirty.swap(false, Ordering::AcqRel) {
                    continue;
                }
                if file.is_none() {
                    file = std::fs::OpenOptions::new().read(true).write(true).open(&wal).ok();
                }
                if let Some(f) = &file {
                    let _ = f.sync_data();
                }
            }
        });
}
