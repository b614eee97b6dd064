//! The one thread that owns the SQLite connection. Every store operation
//! is handed to it; it takes everything waiting, runs it in one
//! transaction and commits once (group commit), then tells each caller.
//! So a thousand publishes cost one commit (and, with `sync = "always"`,
//! one fsync), and the file is never written from two threads.
//!
//! Acknowledgements, one per handled message, are most of the traffic, so
//! they have their own path: a plain `(receipt, outbox)` pushed into the
//! inbox, no closure, no channel of its own. Every ack pushed while a batch
//! is open shares that batch's [`Settled`] (one allocation per batch, an
//! `Arc` clone per ack); the writer publishes the batch's outcome there
//! once, after the commit (or the rollback), and wakes every ack waiting
//! on it. An ack therefore still resolves only once its row is committed,
//! and a failed batch fails every ack and job in it, none half-applied.
//! Other operations (publish, retry, bury, the admin reads) return a value
//! of their own and stay closures with a oneshot each: they are rare.

use crate::error::AdapterError;
use crate::store::Batch;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Jobs committed together at most: bounds one transaction's time. Acks
/// are not counted: each is one row, and they come no faster than the
/// deliveries handed out, which the queues' capacity bounds.
const MAX_JOBS: usize = 8192;

/// What a job does after its batch committed.
type Finish = Box<dyn FnOnce() + Send>;

/// A job's statements, run inside the batch's transaction.
type Work = Box<dyn FnOnce(&Connection) -> rusqlite::Result<Finish> + Send>;

pub(crate) struct Job {
    work: Work,
    fail: Box<dyn FnOnce(AdapterError) + Send>,
}

/// One delivery to mark acknowledged, with the messages its handler
/// published (inserted in the same transaction).
pub(crate) struct Ack {
    pub receipt: u64,
    pub outbox: Batch,
}

/// The outcome of one batch, shared by every ack in it.
#[derive(Default)]
struct Settled {
    outcome: OnceLock<Result<(), AdapterError>>,
    done: Notify,
}

impl Settled {
    /// Record the outcome (the first one wins) and wake every waiter.
    fn settle(&self, outcome: Result<(), AdapterError>) {
        let _ = self.outcome.set(outcome);
        self.done.notify_waiters();
    }

    async fn wait(&self) -> Result<(), AdapterError> {
        loop {
            let notified = self.done.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before looking, so a settle in between still
            // wakes this waiter.
            notified.as_mut().enable();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            notified.await;
        }
    }
}

/// What callers left for the writer, under one lock.
struct Inbox {
    jobs: Vec<Job>,
    acks: Vec<Ack>,
    /// The batch the acks above will be committed in.
    batch: Arc<Settled>,
    /// The writer sleeps on [`Shared::wake`] and must be woken.
    idle: bool,
    /// Stopping: nothing more is accepted.
    closed: bool,
}

impl Inbox {
    fn len(&self) -> usize {
        self.jobs.len() + self.acks.len()
    }
}

struct Shared {
    inbox: Mutex<Inbox>,
    wake: Condvar,
}

impl Shared {
    /// Add work with `push`; wakes the writer only when it sleeps, so a
    /// burst of acks costs one wake-up, not one each.
    fn submit<T>(&self, push: impl FnOnce(&mut Inbox) -> T) -> Result<T, AdapterError> {
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            return Err(AdapterError::Closed);
        }
        let pushed = push(&mut inbox);
        let wake = std::mem::take(&mut inbox.idle);
        drop(inbox);
        if wake {
            self.wake.notify_one();
        }
        Ok(pushed)
    }

    fn close(&self) {
        lock(&self.inbox).closed = true;
        self.wake.notify_one();
    }

    fn waiting(&self) -> usize {
        lock(&self.inbox).len()
    }
}

/// The sending side, shared by every caller.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Housekeeping the writer runs between batches.
pub(crate) trait Maintenance: Send + 'static {
    /// Called after each batch; may run its own statements.
    fn after_batch(&mut self, conn: &Connection);
}

impl Writer {
    pub fn start(mut conn: Connection, path: PathBuf, dirty: Arc<AtomicBool>, mut upkeep: impl Maintenance) -> Writer {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox {
                jobs: Vec::new(),
                acks: Vec::new(),
                batch: Arc::default(),
                idle: false,
                closed: false,
            }),
            wake: Condvar::new(),
        });
        let inside = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rohas-queue".into())
            .spawn(move || {
                let _on_exit = Abandon(&inside);
                let mut spare = Taken::default();
                while let Some((taken, batch)) = next_batch(&inside, std::mem::take(&mut spare)) {
                    spare = run_batch(&mut conn, taken, batch, &path, &dirty);
                    upkeep.after_batch(&conn);
                }
                // Closed and nothing left: the connection closes here,
                // which checkpoints the WAL into the main file.
                drop(conn);
            })
            .expect("cannot start the queue writer thread");
        Writer {
            shared,
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
        self.shared.submit(|inbox| inbox.jobs.push(job))?;
        rx.await.unwrap_or(Err(AdapterError::Closed))
    }

    /// Mark `receipt` acknowledged and insert `outbox`, in the next batch;
    /// resolves once that batch committed.
    pub async fn ack(&self, ack: Ack) -> Result<(), AdapterError> {
        let batch = self.shared.submit(|inbox| {
            inbox.acks.push(ack);
            inbox.batch.clone()
        })?;
        batch.wait().await
    }

    /// Let the writer finish what it has, then wait for it.
    pub async fn stop(&self) {
        self.shared.close();
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.close();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

/// One batch's work, out of the inbox. The ack vector comes back empty
/// from [`run_batch`] and goes into the inbox again, so its memory is
/// reused.
#[derive(Default)]
struct Taken {
    jobs: Vec<Job>,
    acks: Vec<Ack>,
}

/// A batch's [`Settled`], held by the writer until it has an outcome.
/// Dropped without one (the writer panicked mid-batch), it fails the
/// batch's acks rather than leave them waiting forever.
struct Pledge(Arc<Settled>);

impl Pledge {
    fn keep(self, outcome: Result<(), AdapterError>) {
        self.0.settle(outcome);
    }
}

impl Drop for Pledge {
    fn drop(&mut self) {
        if self.0.outcome.get().is_none() {
            self.0.settle(Err(AdapterError::Closed));
        }
    }
}

/// Wait for work, gather more (see [`gather`]), then take it all as one
/// batch, leaving `spare`'s empty vector and a new [`Settled`] for the
/// acks that come next. `None` once closed and empty.
fn next_batch(shared: &Shared, mut spare: Taken) -> Option<(Taken, Pledge)> {
    {
        let mut inbox = lock(&shared.inbox);
        while inbox.len() == 0 {
            if inbox.closed {
                return None;
            }
            inbox.idle = true;
            inbox = shared.wake.wait(inbox).unwrap_or_else(|e| e.into_inner());
        }
        inbox.idle = false;
    }
    gather(shared);
    let next = Arc::new(Settled::default());
    let mut inbox = lock(&shared.inbox);
    if inbox.jobs.len() > MAX_JOBS {
        // The rest are closures with their own answer: they can wait for
        // the next batch, unlike acks, which belong to `inbox.batch`.
        spare.jobs.extend(inbox.jobs.drain(..MAX_JOBS));
    } else {
        std::mem::swap(&mut spare.jobs, &mut inbox.jobs);
    }
    std::mem::swap(&mut spare.acks, &mut inbox.acks);
    let batch = std::mem::replace(&mut inbox.batch, next);
    Some((spare, Pledge(batch)))
}

/// When only a few jobs wait, pause briefly while more keep arriving. The
/// tasks that sent them are usually about to send more (a worker settling
/// a whole `receive` of deliveries, one ack each), and without the pause
/// this thread, woken by the first, commits each alone: a commit (WAL
/// frames written, the page cache swept) and two context switches per
/// message, the queue's largest cost when it shares a core with the
/// engine. A pause that brings nothing ends the gathering, so a lone
/// publish waits one pause at most.
fn gather(shared: &Shared) {
    let started = Instant::now();
    let mut seen = shared.waiting();
    while seen < GATHER_BELOW && started.elapsed() < GATHER_MAX {
        std::thread::sleep(GATHER_PAUSE);
        let now = shared.waiting();
        if now == seen {
            break;
        }
        seen = now;
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

/// Run and commit one batch, tell every caller, and hand back the emptied
/// vectors.
fn run_batch(conn: &mut Connection, taken: Taken, batch: Pledge, path: &std::path::Path, dirty: &AtomicBool) -> Taken {
    let Taken { jobs, mut acks } = taken;
    let mut done = Vec::with_capacity(jobs.len());
    // Every job's `fail` kept aside first: one never run (after a failing
    // one) fails with the batch's error too.
    let (works, fails): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.work, j.fail)).unzip();
    let result = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for work in works {
            done.push(work(&tx)?);
        }
        super::acknowledge(&tx, &acks)?;
        tx.commit()
    })();
    match result {
        Ok(()) => {
            dirty.store(true, Ordering::Release);
            for finish in done {
                finish();
            }
            batch.keep(Ok(()));
        }
        Err(e) => {
            // The whole batch rolled back (the transaction's drop): every
            // job and ack in it failed, none half-applied.
            let error = super::classify(e, path);
            for fail in fails {
                fail(error.clone());
            }
            batch.keep(Err(error));
        }
    }
    acks.clear();
    Taken { jobs: Vec::new(), acks }
}

/// Runs when the writer thread ends, even by a panic: no ack is left
/// waiting for a batch that will never commit, and nothing new is taken.
/// (A job's oneshot fails by itself when its closure is dropped.)
struct Abandon<'a>(&'a Shared);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        let mut inbox = lock(&self.0.inbox);
        inbox.closed = true;
        inbox.batch.settle(Err(AdapterError::Closed));
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

#[cfg(test)]
mod tests {
    //! The writer alone, on a real file. A gate job holds the writer inside
    //! one batch while the test fills the inbox, so which acks share a
    //! batch is decided by the test, not by timing.

    use super::*;
    use crate::message::Message;
    use crate::store::{receipt, NewDelivery, Stored};
    use std::sync::mpsc;

    struct Fixture {
        _dir: tempfile::TempDir,
        path: PathBuf,
        writer: Arc<Writer>,
    }

    struct NoUpkeep;

    impl Maintenance for NoUpkeep {
        fn after_batch(&mut self, _: &Connection) {}
    }

    /// A writer on a new queue file holding `deliveries` pending deliveries
    /// of one message (seq 1), to subscriptions 1..=deliveries ([`nth`]).
    async fn fixture(deliveries: u64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::FILE_NAME);
        let conn = super::super::schema::open(&path, super::super::Sync::Batch).unwrap();
        let writer = Arc::new(Writer::start(
            conn,
            path.clone(),
            Arc::new(AtomicBool::new(false)),
            NoUpkeep,
        ));
        let batch = Batch {
            messages: vec![stored(1)],
            deliveries: (1..=deliveries).map(|n| NewDelivery { receipt: nth(n) }).collect(),
        };
        writer
            .run(move |conn| super::super::insert_batch(conn, &batch))
            .await
            .unwrap();
        Fixture {
            _dir: dir,
            path,
            writer,
        }
    }

    /// The fixture's `n`th delivery.
    fn nth(n: u64) -> u64 {
        receipt::receipt(1, n as u16)
    }

    fn stored(seq: u64) -> Stored {
        Stored {
            seq,
            message: Arc::new(Message::new("E", serde_json::json!({}), "t", "test")),
        }
    }

    /// Holds the writer inside a batch until `open` is called.
    struct Gate {
        release: mpsc::Sender<()>,
        job: tokio::task::JoinHandle<Result<(), AdapterError>>,
    }

    impl Gate {
        /// Returns once the writer is inside the gate's batch: what is
        /// submitted from now on goes into a later batch.
        async fn close(writer: &Arc<Writer>) -> Gate {
            let (release, wait) = mpsc::channel::<()>();
            let (entered, inside) = tokio::sync::oneshot::channel::<()>();
            let writer = writer.clone();
            let job = tokio::spawn(async move {
                writer
                    .run(move |_| {
                        let _ = entered.send(());
                        let _ = wait.recv();
                        Ok(())
                    })
                    .await
            });
            inside.await.unwrap();
            Gate { release, job }
        }

        async fn open(self) {
            self.release.send(()).unwrap();
            self.job.await.unwrap().unwrap();
        }
    }

    /// Returns once `n` jobs and acks wait in the inbox.
    async fn until_waiting(writer: &Writer, n: usize) {
        while writer.shared.waiting() != n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn spawn_acks(
        writer: &Arc<Writer>,
        receipts: std::ops::RangeInclusive<u64>,
    ) -> Vec<tokio::task::JoinHandle<Result<(), AdapterError>>> {
        receipts
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .ack(Ack {
                            receipt: nth(n),
                            outbox: Batch::default(),
                        })
                        .await
                })
            })
            .collect()
    }

    fn acknowledged(path: &std::path::Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("SELECT COUNT(*) FROM acks", [], |r| r.get(0)).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acks_resolve_once_their_batch_committed_and_persist() {
        let f = fixture(600).await;
        let first = Gate::close(&f.writer).await;
        let early = spawn_acks(&f.writer, 1..=200);
        until_waiting(&f.writer, 200).await;
        // Its jobs run before its acks: batch 2 is held with its acks
        // applied but not committed.
        let second = {
            let writer = f.writer.clone();
            let opened = tokio::spawn(async move { Gate::close(&writer).await });
            until_waiting(&f.writer, 201).await;
            first.open().await;
            opened.await.unwrap()
        };
        let late = spawn_acks(&f.writer, 201..=600);
        until_waiting(&f.writer, 400).await;
        assert!(
            early.iter().all(|ack| !ack.is_finished()),
            "an ack resolved before its batch committed"
        );
        second.open().await;
        for ack in early.into_iter().chain(late) {
            ack.await.unwrap().unwrap();
        }
        f.writer.stop().await;
        assert_eq!(acknowledged(&f.path), 600);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_batch_fails_every_ack_in_it_and_applies_none() {
        let f = fixture(3).await;
        let gate = Gate::close(&f.writer).await;
        let plain = spawn_acks(&f.writer, 1..=1);
        let with_outbox = {
            let writer = f.writer.clone();
            tokio::spawn(async move {
                let outbox = Batch {
                    messages: vec![stored(2)],
                    ..Batch::default()
                };
                writer
                    .ack(Ack {
                        receipt: nth(2),
                        outbox,
                    })
                    .await
            })
        };
        // Message seq 1 exists: this ack's outbox breaks the batch.
        let broken = {
            let writer = f.writer.clone();
            tokio::spawn(async move {
                let outbox = Batch {
                    messages: vec![stored(1)],
                    ..Batch::default()
                };
                writer
                    .ack(Ack {
                        receipt: nth(3),
                        outbox,
                    })
                    .await
            })
        };
        until_waiting(&f.writer, 3).await;
        gate.open().await;
        for ack in plain.into_iter().chain([with_outbox, broken]) {
            assert!(matches!(ack.await.unwrap(), Err(AdapterError::Store { .. })));
        }
        let messages: i64 = f
            .writer
            .run(|conn| conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!((messages, acknowledged(&f.path)), (1, 0), "half applied");
        // The next batch is not poisoned by the last one.
        for ack in spawn_acks(&f.writer, 1..=3) {
            ack.await.unwrap().unwrap();
        }
        f.writer.stop().await;
        assert_eq!(acknowledged(&f.path), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_fails_the_jobs_after_it_with_its_error() {
        let f = fixture(1).await;
        let gate = Gate::close(&f.writer).await;
        let failing = {
            let writer = f.writer.clone();
            tokio::spawn(async move { writer.run(|conn| conn.execute_batch("NOT SQL")).await })
        };
        until_waiting(&f.writer, 1).await;
        let never_run = {
            let writer = f.writer.clone();
            tokio::spawn(async move { writer.run(|conn| conn.execute_batch("DELETE FROM deliveries")).await })
        };
        let ack = spawn_acks(&f.writer, 1..=1);
        until_waiting(&f.writer, 3).await;
        gate.open().await;
        for job in [failing, never_run].into_iter().chain(ack) {
            assert!(matches!(job.await.unwrap(), Err(AdapterError::Store { .. })));
        }
        f.writer.stop().await;
        assert_eq!(acknowledged(&f.path), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_writer_fails_the_acks_waiting_for_it() {
        let f = fixture(2).await;
        let gate = Gate::close(&f.writer).await;
        let waiting = spawn_acks(&f.writer, 1..=1);
        let crash = {
            let writer = f.writer.clone();
            tokio::spawn(async move { writer.run(|_| -> rusqlite::Result<()> { panic!("writer bug") }).await })
        };
        until_waiting(&f.writer, 2).await;
        gate.open().await;
        assert!(matches!(crash.await.unwrap(), Err(AdapterError::Closed)));
        for ack in waiting.into_iter().chain(spawn_acks(&f.writer, 2..=2)) {
            assert!(matches!(ack.await.unwrap(), Err(AdapterError::Closed)));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopped_writer_refuses_acks() {
        let f = fixture(1).await;
        f.writer.stop().await;
        let refused = f.writer.ack(Ack {
            receipt: nth(1),
            outbox: Batch::default(),
        });
        assert!(matches!(refused.await, Err(AdapterError::Closed)));
        assert_eq!(acknowledged(&f.path), 0);
    }
}
