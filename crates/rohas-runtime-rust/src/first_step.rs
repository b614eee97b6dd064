//! Where a call's first step runs, and the watchdog for one that never
//! comes back.
//!
//! `rohas_invoke` runs a handler up to its first `.await` on the thread that
//! calls it. If that thread were the task answering the caller, an
//! `async fn` looping on the CPU before its first `.await` would hold the
//! answer too: the call's timer lives in the same task, so the caller would
//! wait for ever instead of getting its 504. So each first step is a task
//! of its own ([`run`]); the caller's task only waits for the reply, and
//! its timer fires on another worker while the step loops.
//!
//! The looping step still holds the engine worker it runs on, and nothing
//! can take a thread back from Rust code. The watchdog, a plain thread (it
//! must run when every worker is held), looks at the steps in progress
//! four times a second. The first step it finds past its call's deadline is
//! logged with its handler's name, and from then on every first step of
//! that runtime runs on tokio's blocking pool, which grows, so at most one
//! engine worker is ever lost and the engine keeps answering.
//!
//! A step on time costs one task and two uncontended locks of this
//! thread's own slot.

use rohas_runtime::sync::lock;
use rohas_runtime::{Host, LogRecord};
use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How often the watchdog looks.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// A call without a deadline is looked at after this long.
const NO_DEADLINE: Duration = Duration::from_secs(30);

/// What one runtime shares with the watchdog.
pub(crate) struct Steps {
    host: Arc<dyn Host>,
    /// A step overran its deadline on an engine worker: first steps run on
    /// the blocking pool from then on.
    offload: AtomicBool,
}

impl Steps {
    pub fn new(host: Arc<dyn Host>) -> Arc<Steps> {
        Arc::new(Steps {
            host,
            offload: AtomicBool::new(false),
        })
    }

    /// Whether a watchdog found a step stuck past its deadline.
    #[cfg(test)]
    pub fn offloading(&self) -> bool {
        self.offload.load(Ordering::Relaxed)
    }
}

/// A first step in progress on one thread.
struct Running {
    steps: Arc<Steps>,
    handler: rohas_runtime::HandlerId,
    trace_id: String,
    started: Instant,
    deadline: Instant,
    reported: bool,
}

/// One thread's step in progress, if any.
#[derive(Default)]
struct Slot(Mutex<Option<Running>>);

thread_local! {
    static SLOT: OnceCell<Arc<Slot>> = const { OnceCell::new() };
}

/// Every thread's slot, for the watchdog; a thread that ended leaves a dead `Weak`.
fn slots() -> &'static Mutex<Vec<Weak<Slot>>> {
    static SLOTS: OnceLock<Mutex<Vec<Weak<Slot>>>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        std::thread::Builder::new()
            .name("rohas-rust-watchdog".into())
            .spawn(watch)
            .expect("cannot start the Rust runtime's watchdog thread");
        Mutex::new(Vec::new())
    })
}

/// This thread's slot, registered with the watchdog on first use.
fn this_thread() -> Arc<Slot> {
    SLOT.with(|slot| {
        Arc::clone(slot.get_or_init(|| {
            let slot = Arc::new(Slot::default());
            let mut all = lock(slots());
            all.retain(|s| s.strong_count() > 0);
            all.push(Arc::downgrade(&slot));
            slot
        }))
    })
}

/// Start `step` (a call's first step, which may never return) in a task of
/// its own: on the current runtime, or once a step overran its deadline,
/// on the blocking pool.
pub(crate) fn run(
    steps: &Arc<Steps>,
    handler: &rohas_runtime::HandlerId,
    trace_id: &str,
    deadline: Option<Instant>,
    step: impl FnOnce() + Send + 'static,
) {
    let started = Instant::now();
    let running = Running {
        steps: Arc::clone(steps),
        handler: handler.clone(),
        trace_id: trace_id.to_owned(),
        started,
        deadline: deadline.unwrap_or(started + NO_DEADLINE),
        reported: false,
    };
    let watched = move || {
        let slot = this_thread();
        // A step that starts another call's step inline (a handler calling
        // the engine synchronously) is not watched twice.
        let outer = lock(&slot.0).replace(running);
        step();
        *lock(&slot.0) = outer;
    };
    if steps.offload.load(Ordering::Relaxed) {
        drop(tokio::task::spawn_blocking(watched));
    } else {
        drop(tokio::spawn(async move { watched() }));
    }
}

/// The watchdog's loop: report each step past its deadline once.
fn watch() {
    loop {
        std::thread::sleep(LOOK_EVERY);
        let now = Instant::now();
        let live: Vec<Arc<Slot>> = lock(slots()).iter().filter_map(Weak::upgrade).collect();
        for slot in live {
            let overdue = {
                let mut running = lock(&slot.0);
                match running.as_mut() {
                    Some(r) if !r.reported && now > r.deadline => {
                        r.reported = true;
                        Some((
                            Arc::clone(&r.steps),
                            r.handler.clone(),
                            r.trace_id.clone(),
                            now - r.started,
                        ))
                    }
                    _ => None,
                }
            };
            if let Some((steps, handler, trace_id, ran)) = overdue {
                report(&steps, &handler, trace_id, ran);
            }
        }
    }
}

fn report(steps: &Steps, handler: &rohas_runtime::HandlerId, trace_id: String, ran: Duration) {
    let first = !steps.offload.swap(true, Ordering::Relaxed);
    let then = if first {
        "; from now on every Rust handler starts on a separate thread pool so the engine keeps answering"
    } else {
        ""
    };
    let message = format!(
        "handler `{handler}` has run {:.1} s without reaching an `.await` (a loop or a blocking call in an `async fn`): its caller got its timeout, but the thread it runs on stays held until it returns{then}. Make blocking work a plain `fn` handler or `tokio::task::spawn_blocking`, then restart",
        ran.as_secs_f64()
    );
    steps.host.log(LogRecord {
        level: "error",
        message,
        handler: handler.name().to_owned(),
        trace_id,
        fields: serde_json::Map::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::HandlerId;
    use std::sync::mpsc;

    #[derive(Default)]
    struct Logs(Mutex<Vec<String>>);

    impl Host for Logs {
        fn log(&self, record: LogRecord) {
            lock(&self.0).push(format!("{} {} {}", record.level, record.handler, record.message));
        }
        fn broadcast(&self, _: &str, _: serde_json::Value) {}
        fn send(&self, _: &str, _: serde_json::Value) {}
    }

    /// A step that loops past its deadline: the caller is not held, the
    /// step is reported once with its handler, and later steps run on the
    /// blocking pool instead of the workers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_step_past_its_deadline_is_reported_and_later_ones_leave_the_workers() {
        let logs = Arc::new(Logs::default());
        let steps = Steps::new(logs.clone());
        let handler = HandlerId::api("Spin");
        let (release, released) = mpsc::channel::<()>();
        let deadline = Instant::now() + Duration::from_millis(100);
        run(&steps, &handler, "t1", Some(deadline), move || {
            let _ = released.recv();
        });
        // `run` returned at once, and this task still runs.
        while logs.0.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(steps.offloading());
        let log = logs.0.lock().unwrap().join("\n");
        assert!(log.starts_with("error Spin handler `api:Spin`"), "{log}");
        assert!(log.contains("without reaching an `.await`"), "{log}");
        assert!(log.contains("from now on"), "{log}");

        let (tx, rx) = tokio::sync::oneshot::channel();
        run(&steps, &handler, "t2", None, move || {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = tx.send(name);
        });
        let thread = rx.await.expect("the step ran");
        assert_ne!(thread.as_deref(), Some("tokio-runtime-worker"), "{thread:?}");
        release.send(()).unwrap();
        tokio::time::sleep(LOOK_EVERY * 2).await;
        assert_eq!(logs.0.lock().unwrap().len(), 1, "reported once");
    }

    /// A step on time is never reported.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_step_on_time_is_not_reported() {
        let logs = Arc::new(Logs::default());
        let steps = Steps::new(logs.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let deadline = Instant::now() + Duration::from_millis(50);
        run(&steps, &HandlerId::api("Quick"), "t", Some(deadline), move || {
            let _ = tx.send(());
        });
        rx.await.unwrap();
        tokio::time::sleep(LOOK_EVERY * 2).await;
        assert!(logs.0.lock().unwrap().is_empty());
        assert!(!steps.offloading());
    }
}
