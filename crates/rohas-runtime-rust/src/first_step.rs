//! Where a call's first step runs, and the watchdog for one that never
//! comes back.
//!
//! `rohas_invoke` runs a handler up to its first `.await` on the thread that
//! calls it: inline, in the task that answers the caller, with no thread
//! hop ([`inline`]). That is what makes a Rust handler as cheap as an axum
//! one, and what axum does too: an `async fn` that loops on the CPU before
//! its first `.await` holds that task, its caller's timer with it, and the
//! engine worker it runs on, until it returns. Nothing can take a thread
//! back from Rust code. (Running every first step as a task of its own
//! would let the caller's timer fire, but costs ≈ 15 % of a small request's
//! CPU, for every request.)
//!
//! So the damage is bounded instead. The watchdog, a plain thread (it must
//! run when every worker is held), looks at the steps in progress four
//! times a second. The first step it finds past its call's deadline is
//! logged with its handler's name and trace id, and from then on every
//! first step of that runtime runs on tokio's blocking pool ([`offloaded`]),
//! which grows: their callers get their 504 on time, and at most one engine
//! worker is ever lost. A handler that blocks a little on every call is
//! moved earlier, by the library itself (see `abi.rs` in the project's
//! runtime crate: three first steps over 10 ms in a row).

use rohas_runtime::sync::lock;
use rohas_runtime::{HandlerId, Host, LogRecord};
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
    /// A step overran its deadline: first steps run on the blocking pool
    /// from then on.
    offload: AtomicBool,
}

impl Steps {
    pub fn new(host: Arc<dyn Host>) -> Arc<Steps> {
        Arc::new(Steps {
            host,
            offload: AtomicBool::new(false),
        })
    }

    /// Whether first steps leave the engine's workers (a step overran).
    pub fn offloading(&self) -> bool {
        self.offload.load(Ordering::Relaxed)
    }
}

/// The step a thread is running, if any. The trace id's buffer is kept
/// between calls, so watching a step allocates nothing.
#[derive(Default)]
struct Running {
    call: Option<(Arc<Steps>, HandlerId)>,
    trace_id: String,
    started: Option<Instant>,
    deadline: Option<Instant>,
    reported: bool,
    /// On the blocking pool, not in its caller's task.
    offloaded: bool,
}

#[derive(Default)]
struct Slot(Mutex<Running>);

thread_local! {
    static SLOT: Arc<Slot> = {
        let slot = Arc::new(Slot::default());
        let mut all = lock(slots());
        all.retain(|s| s.strong_count() > 0);
        all.push(Arc::downgrade(&slot));
        slot
    };
}

/// Every thread's slot, for the watchdog (started with the first one); a
/// thread that ended leaves a dead `Weak`.
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

/// Run `step` on this thread, in its caller's task, watched.
pub(crate) fn inline<R>(
    steps: &Arc<Steps>,
    handler: &HandlerId,
    trace_id: &str,
    deadline: Option<Instant>,
    step: impl FnOnce() -> R,
) -> R {
    watched(steps, handler, trace_id, deadline, false, step)
}

fn watched<R>(
    steps: &Arc<Steps>,
    handler: &HandlerId,
    trace_id: &str,
    deadline: Option<Instant>,
    offloaded: bool,
    step: impl FnOnce() -> R,
) -> R {
    SLOT.with(|slot| {
        let started = Instant::now();
        {
            // Steps never nest: a handler's first step cannot start another
            // call's on its thread (calls come from the engine's tasks).
            let mut running = lock(&slot.0);
            running.call = Some((Arc::clone(steps), handler.clone()));
            running.trace_id.clear();
            running.trace_id.push_str(trace_id);
            running.started = Some(started);
            running.deadline = Some(deadline.unwrap_or(started + NO_DEADLINE));
            running.reported = false;
            running.offloaded = offloaded;
        }
        let result = step();
        let mut running = lock(&slot.0);
        running.call = None;
        running.started = None;
        result
    })
}

/// Run `step` on tokio's blocking pool, watched: for once a step overran.
pub(crate) fn offloaded(
    steps: &Arc<Steps>,
    handler: HandlerId,
    trace_id: String,
    deadline: Option<Instant>,
    step: impl FnOnce() + Send + 'static,
) {
    let steps = Arc::clone(steps);
    drop(tokio::task::spawn_blocking(move || {
        watched(&steps, &handler, &trace_id, deadline, true, step)
    }));
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
                let late = running.deadline.is_some_and(|d| now > d);
                match (&running.call, running.started) {
                    (Some((steps, handler)), Some(started)) if late && !running.reported => {
                        let found = Overdue {
                            steps: Arc::clone(steps),
                            handler: handler.clone(),
                            trace_id: running.trace_id.clone(),
                            ran: now - started,
                            offloaded: running.offloaded,
                        };
                        running.reported = true;
                        Some(found)
                    }
                    _ => None,
                }
            };
            if let Some(overdue) = overdue {
                overdue.report();
            }
        }
    }
}

/// A step the watchdog found past its deadline.
struct Overdue {
    steps: Arc<Steps>,
    handler: HandlerId,
    trace_id: String,
    ran: Duration,
    offloaded: bool,
}

impl Overdue {
    fn report(self) {
        let Overdue {
            steps,
            handler,
            trace_id,
            ran,
            offloaded,
        } = self;
        let held = if offloaded {
            "its caller got its timeout, but the pool thread it runs on is held until it returns."
        } else {
            "no Rust code can be stopped, so its caller waits and the engine thread it runs on is held until it returns."
        };
        let then = if !steps.offload.swap(true, Ordering::Relaxed) {
            " From now on every Rust handler starts on a separate thread pool, so the engine keeps answering and callers get their timeouts."
        } else {
            ""
        };
        let message = format!(
            "handler `{handler}` has run {:.1} s, past its timeout, without reaching an `.await` (a loop or a blocking call in an `async fn`): {held}{then} Make blocking work a plain `fn` handler or `tokio::task::spawn_blocking`",
            ran.as_secs_f64()
        );
        steps.host.log(LogRecord {
            level: rohas_runtime::LogLevel::Error,
            message,
            handler: handler.name().to_owned(),
            trace_id,
            fields: serde_json::Map::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[derive(Default)]
    struct Logs(Mutex<Vec<String>>);

    impl Host for Logs {
        fn log(&self, record: LogRecord) {
            let line = format!(
                "{} {} {} {}",
                record.level, record.handler, record.trace_id, record.message
            );
            lock(&self.0).push(line);
        }
        fn broadcast(&self, _: &str, _: serde_json::Value) {}
        fn send(&self, _: &str, _: serde_json::Value) {}
    }

    fn logs(logs: &Logs) -> Vec<String> {
        lock(&logs.0).clone()
    }

    /// A step held past its deadline is reported once, with its handler
    /// and trace id, and later steps run off the engine's workers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_step_past_its_deadline_is_reported_and_later_ones_leave_the_workers() {
        let host = Arc::new(Logs::default());
        let steps = Steps::new(host.clone());
        let (release, released) = mpsc::channel::<()>();
        let held = {
            let steps = Arc::clone(&steps);
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_millis(100);
                inline(&steps, &HandlerId::api("Spin"), "trace-1", Some(deadline), || {
                    released.recv().unwrap()
                })
            })
        };
        while logs(&host).is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(steps.offloading());
        let log = logs(&host).join("\n");
        assert!(log.starts_with("error Spin trace-1 handler `api:Spin`"), "{log}");
        assert!(log.contains("without reaching an `.await`"), "{log}");
        assert!(log.contains("From now on"), "{log}");

        let (tx, rx) = tokio::sync::oneshot::channel();
        offloaded(&steps, HandlerId::api("Spin"), "trace-2".into(), None, move || {
            let _ = tx.send(std::thread::current().name().map(str::to_owned));
        });
        let thread = rx.await.expect("the step ran");
        assert_ne!(thread.as_deref(), Some("tokio-runtime-worker"), "{thread:?}");
        release.send(()).unwrap();
        held.await.unwrap();
        tokio::time::sleep(LOOK_EVERY * 2).await;
        assert_eq!(logs(&host).len(), 1, "reported once: {:?}", logs(&host));

        // One held on the pool is reported too, as such.
        let (release, released) = mpsc::channel::<()>();
        let deadline = Instant::now() + Duration::from_millis(50);
        offloaded(
            &steps,
            HandlerId::api("Spin"),
            "trace-3".into(),
            Some(deadline),
            move || released.recv().unwrap(),
        );
        while logs(&host).len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        release.send(()).unwrap();
        let second = &logs(&host)[1];
        assert!(second.starts_with("error Spin trace-3"), "{second}");
        assert!(second.contains("its caller got its timeout"), "{second}");
        assert!(!second.contains("From now on"), "said once: {second}");
    }

    /// Steps on time are never reported, and return what they returned.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn steps_on_time_are_not_reported() {
        let host = Arc::new(Logs::default());
        let steps = Steps::new(host.clone());
        for n in 0..3 {
            let deadline = Instant::now() + Duration::from_millis(50);
            let got = inline(&steps, &HandlerId::api("Quick"), "t", Some(deadline), || n * 2);
            assert_eq!(got, n * 2);
        }
        tokio::time::sleep(LOOK_EVERY * 2).await;
        assert!(logs(&host).is_empty(), "{:?}", logs(&host));
        assert!(!steps.offloading());
    }
}
