//! A [`Runtime`] whose handlers are Rust closures registered by handler id
//! (`api:Name`, `middleware:name`, `cron:Name`, `ws_message:Ws` …).
//!
//! The real runtimes need Python, Node.js or cargo and a project on disk;
//! this one lets a test say exactly what a handler does (answer, fail,
//! sleep, panic, trigger events, call the host) and see exactly what the
//! engine passed it, in milliseconds. Every call is recorded before its
//! handler runs.

use rohas_runtime::{
    BoxFuture, Effects, HandlerError, HandlerId, HandlerKind, HandlerSpec, Host, Invocation, LoadError, Needs, Outcome,
    ReturnValue, Runtime, TriggeredEvent,
};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// What a handler answers.
pub type Reply = Result<Outcome, HandlerError>;

type Handler = Arc<dyn Fn(Invocation, Arc<dyn Host>) -> BoxFuture<'static, Reply> + Send + Sync>;

#[derive(Default)]
pub struct FakeRuntime {
    handlers: Mutex<HashMap<String, Handler>>,
    needs: Mutex<HashMap<String, Needs>>,
    calls: Mutex<Vec<Invocation>>,
    host: OnceLock<Arc<dyn Host>>,
    shutdowns: AtomicUsize,
}

impl FakeRuntime {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeRuntime::default())
    }

    /// The general form: `handler` gets the call and the engine's host and
    /// returns a future of its reply.
    pub fn on<F, Fut>(&self, id: &str, handler: F) -> &Self
    where
        F: Fn(Invocation, Arc<dyn Host>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |call, host| Box::pin(handler(call, host)));
        lock(&self.handlers).insert(id.to_string(), handler);
        self
    }

    /// A handler that answers at once, from the call alone.
    pub fn on_call<F>(&self, id: &str, handler: F) -> &Self
    where
        F: Fn(&Invocation) -> Reply + Send + Sync + 'static,
    {
        self.on(id, move |call, _| std::future::ready(handler(&call)))
    }

    /// A handler that always answers `value`.
    pub fn answer(&self, id: &str, value: Value) -> &Self {
        self.on_call(id, move |_| ok(value.clone()))
    }

    /// A handler that exists and answers nothing (`null`).
    pub fn declare(&self, id: &str) -> &Self {
        self.answer(id, Value::Null)
    }

    /// A handler that always fails with `error`.
    pub fn fail(&self, id: &str, error: HandlerError) -> &Self {
        self.on_call(id, move |_| Err(error.clone()))
    }

    /// A handler that sleeps for `delay`, then answers `value`.
    pub fn sleep(&self, id: &str, delay: Duration, value: Value) -> &Self {
        self.on(id, move |_, _| {
            let value = value.clone();
            async move {
                tokio::time::sleep(delay).await;
                ok(value)
            }
        })
    }

    /// A handler that waits until `gate` opens, then answers `value`.
    pub fn gated(&self, id: &str, gate: &Gate, value: Value) -> &Self {
        let gate = gate.clone();
        self.on(id, move |_, _| {
            let (gate, value) = (gate.clone(), value.clone());
            async move {
                gate.passed().await;
                ok(value)
            }
        })
    }

    /// A handler that never answers.
    pub fn hang(&self, id: &str) -> &Self {
        self.on(id, |_, _| std::future::pending())
    }

    /// A handler that panics while the engine polls it (a runtime with a
    /// bug: the real ones catch their handlers' panics).
    pub fn panic(&self, id: &str, message: &'static str) -> &Self {
        self.on(id, move |_, _| async move { panic!("{message}") })
    }

    /// What the runtime reports `id` reads (default: everything).
    pub fn set_needs(&self, id: &str, needs: Needs) -> &Self {
        lock(&self.needs).insert(id.to_string(), needs);
        self
    }

    /// One spec per registered handler: what the engine is told the project
    /// has (it decides from these which optional ws hooks exist).
    pub fn specs(&self) -> Vec<HandlerSpec> {
        let mut ids: Vec<String> = lock(&self.handlers).keys().cloned().collect();
        ids.sort();
        ids.into_iter().map(|id| spec(&id)).collect()
    }

    /// Called by the serving code once the engine's host exists.
    pub fn attach_host(&self, host: Arc<dyn Host>) {
        let _ = self.host.set(host);
    }

    /// Every call so far, in the order the engine made them.
    pub fn calls(&self) -> Vec<Invocation> {
        lock(&self.calls).clone()
    }

    /// The calls made to handler `id`.
    pub fn calls_to(&self, id: &str) -> Vec<Invocation> {
        lock(&self.calls)
            .iter()
            .filter(|c| &*c.handler == id)
            .cloned()
            .collect()
    }

    /// The one call made to `id`; fails the test if there were none or more.
    pub fn only_call(&self, id: &str) -> Invocation {
        let calls = self.calls_to(id);
        assert_eq!(calls.len(), 1, "calls to {id}: {calls:#?}");
        calls.into_iter().next().unwrap()
    }

    /// Wait until `id` was called at least `n` times (bounded, generous).
    pub async fn wait_calls(&self, id: &str, n: usize) -> Vec<Invocation> {
        let what = format!("{n} call(s) to {id}");
        super::eventually(&what, || {
            let calls = self.calls_to(id);
            (calls.len() >= n).then_some(calls)
        })
        .await
    }

    /// How many times the engine called [`Runtime::shutdown`].
    pub fn shutdowns(&self) -> usize {
        self.shutdowns.load(Ordering::SeqCst)
    }
}

impl Runtime for FakeRuntime {
    fn language(&self) -> &'static str {
        "fake"
    }

    /// One counter: the calls so far (the engine shows it in `/metrics`).
    fn gauges(&self) -> Vec<rohas_runtime::RuntimeGauge> {
        vec![rohas_runtime::RuntimeGauge {
            name: "rohas_fake_calls_total",
            help: "Calls the fake runtime took.",
            counter: true,
            value: lock(&self.calls).len() as f64,
        }]
    }

    fn load<'a>(&'a self, _: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn invalidate<'a>(&'a self, _: &'a [PathBuf]) -> BoxFuture<'a, Result<(), LoadError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn invoke(&self, call: Invocation) -> BoxFuture<'_, Reply> {
        lock(&self.calls).push(call.clone());
        let handler = lock(&self.handlers).get(&*call.handler).cloned();
        let host = self
            .host
            .get()
            .cloned()
            .expect("the fake runtime has no host: serve it first");
        match handler {
            Some(handler) => handler(call, host),
            None => Box::pin(std::future::ready(Err(failed(&format!(
                "fake runtime: no handler registered for `{}`",
                call.handler
            ))))),
        }
    }

    fn needs(&self, handler: &str) -> Needs {
        lock(&self.needs).get(handler).copied().unwrap_or(Needs::ALL)
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}

/// Holds handlers back until the test opens it (a request kept in flight
/// for exactly as long as the test needs, with no sleeps).
#[derive(Clone)]
pub struct Gate(Arc<tokio::sync::watch::Sender<bool>>);

impl Gate {
    pub fn new() -> Gate {
        Gate(Arc::new(tokio::sync::watch::channel(false).0))
    }

    pub fn open(&self) {
        self.0.send_replace(true);
    }

    pub async fn passed(&self) {
        let mut open = self.0.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }
}

/// A success answering `value`.
pub fn ok(value: Value) -> Reply {
    Ok(Outcome {
        value: ReturnValue::from_value(&value),
        effects: Effects::default(),
    })
}

/// A success answering `value` that called `trigger_event` for each of
/// `events` (name, payload).
pub fn ok_triggering(value: Value, events: &[(&str, Value)]) -> Reply {
    Ok(Outcome {
        value: ReturnValue::from_value(&value),
        effects: Effects {
            triggered: events
                .iter()
                .map(|(name, payload)| TriggeredEvent::new(*name, payload.clone()))
                .collect(),
            payloads: Vec::new(),
        },
    })
}

/// `HttpError(status, message)` raised by a handler.
pub fn http_error(status: u16, message: &str) -> HandlerError {
    HandlerError::Http {
        status,
        message: message.to_string(),
        details: None,
    }
}

/// Any other exception, without a stack.
pub fn failed(message: &str) -> HandlerError {
    HandlerError::Failed {
        message: message.to_string(),
        stack: None,
    }
}

fn spec(id: &str) -> HandlerSpec {
    let Some(handler) = HandlerId::parse(id) else {
        panic!("fake runtime: `{id}` is not a handler id");
    };
    let kind = handler.kind();
    HandlerSpec {
        name: handler.name().to_string(),
        id: handler,
        kind,
        files: vec![PathBuf::from(format!("src/handlers/{}.fake", id.replace(':', "/")))],
        functions: vec!["handler".into()],
        request_type: None,
        body_type: None,
        message_type: None,
        event_type: None,
        optional: matches!(
            kind,
            HandlerKind::WsConnect | HandlerKind::WsMessage | HandlerKind::WsDisconnect
        ),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
