//! The C ABI between the Rohas engine and a project's handler library.
//!
//! This file is the definition of the ABI; the engine's mirror is
//! `crates/rohas-runtime-rust/src/abi.rs` in the Rohas repository. Change
//! both together and bump [`ABI_VERSION`] on any change.
//!
//! # Version 2
//!
//! The library (the project's `cdylib`) exports, through
//! [`export_handlers!`](crate::export_handlers), which the generated
//! `src/generated/registry.rs` invokes:
//!
//! | symbol | signature | what it does |
//! |---|---|---|
//! | `rohas_abi_version` | `() -> u32` | [`ABI_VERSION`]; the engine refuses any other |
//! | `rohas_init` | `(host: *const HostVTable) -> i32` | copies `*host`, starts the library's own tokio runtime; `0` = ok |
//! | `rohas_handlers` | `(len: *mut usize) -> *mut u8` | JSON array of the handlers the library serves, `[{"id", "needs"}]`; free with `rohas_free` |
//! | `rohas_invoke` | `(call_id: u64, handler: *const u8, handler_len: usize, call: *const u8, call_len: usize)` | starts a call: runs its first step, then returns |
//! | `rohas_cancel` | `(call_id: u64) -> u8` | the engine stopped waiting: the call's future is dropped; `1` = no completion follows, `0` = the call had already finished and its completion is on its way (or came) |
//! | `rohas_free` | `(ptr: *mut u8, len: usize)` | frees a buffer the library returned |
//! | `rohas_shutdown` | `()` | stops the runtime (waits up to 1 s for its threads); no call may follow |
//!
//! `handler` is a handler id (`api:CreateUser`). `needs` lists the parts of a
//! call the handler's parameters read (`"request"`, `"payload"`,
//! `"context"`, see [`needs`](super::call::needs)); the engine may leave the
//! others out. `"request_fields_only"` beside `"request"` says that the
//! request is read without its `payload` field (an event's, whose fields
//! are also at the top level): the engine may leave that field out. `call` is seven parts, each a little-endian `u32` length then
//! that many bytes (`u32::MAX`: the part is absent, no bytes follow), in this
//! order: the trace id, the request (JSON, wire shape), the payload (JSON),
//! the query parameters (JSON object), the metadata (JSON object), the ws
//! endpoint, the ws connection id. Parts are read only when a parameter asks,
//! so no part is parsed that the handler does not use.
//!
//! The engine passes callbacks in [`HostVTable`]; the library calls them from
//! its own threads, and from the thread calling `rohas_invoke` while it runs
//! (a handler's first step runs there), at any time between `rohas_init` and
//! the end of `rohas_shutdown`; so the engine must not hold a lock across
//! `rohas_invoke` that a callback takes:
//! - `complete(ctx, call_id, ok, json, len)` once per call not cancelled
//!   (for a handler that finishes in its first step, on the calling thread
//!   before `rohas_invoke` returns):
//!   `ok = 2` with the return value's JSON (no events asked for), `ok = 1`
//!   with `{"value", "triggered": [[event, payload, delay_ms?]…], "payloads":
//!   {event: payload}}` (`delay_ms`, whole milliseconds, only for
//!   `trigger_event_after`), or `ok = 0` with `{"status", "message", "details"}`
//!   (an HTTP error) or `{"message", "stack"}` (anything else, panics
//!   included; with `"retryable": false` for `RuntimeError::NonRetryable`);
//! - `log(ctx, json, len)` with `{"level", "message", "handler", "trace_id", "fields"}`;
//! - `broadcast(ctx, endpoint, endpoint_len, json, len)` and
//!   `send(ctx, connection_id, connection_id_len, json, len)`.
//!
//! # Ownership
//!
//! Whoever allocates frees. A pointer passed to a function (either way) is
//! borrowed for the duration of that call only: the callee copies what it
//! keeps. The one buffer that outlives a call is the result of
//! `rohas_handlers`, which the engine gives back to `rohas_free`. Strings are
//! UTF-8, not NUL-terminated. No Rust type, allocator, `Arc` or tokio runtime
//! crosses the boundary; panics never unwind across it (each export catches
//! them; a handler's panic becomes a failed call with the panic message).
//!
//! # Additions within a version
//!
//! `delay_ms` and `"retryable"` came in version 2 without a bump: both are
//! optional, and an engine that reads them reads a library that never
//! writes them as before, so every library built for version 2 still loads
//! (a bump would refuse them all until `rohas codegen` runs again). Only a
//! library's *use* of them needs an engine that knows them: an older engine
//! fails a call that delays an event (a reply it cannot read) rather than
//! deliver the event early, and retries a non-retryable failure like any.

use super::call::{needs, Call, CallData, Failure, HandlerFuture, Outcome, Registry, Success};
use super::capture::{self, CallTag};
use super::{Host, LogRecord};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

/// The version of this ABI; the engine refuses a library with another.
pub const ABI_VERSION: u32 = 2;

/// Callbacks the engine hands the library in `rohas_init`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct HostVTable {
    /// Opaque engine pointer passed back to every callback.
    pub ctx: *const c_void,
    pub complete:
        unsafe extern "C" fn(ctx: *const c_void, call_id: u64, ok: u8, json: *const u8, len: usize),
    pub log: unsafe extern "C" fn(ctx: *const c_void, json: *const u8, len: usize),
    pub broadcast: unsafe extern "C" fn(
        ctx: *const c_void,
        endpoint: *const u8,
        endpoint_len: usize,
        json: *const u8,
        len: usize,
    ),
    pub send: unsafe extern "C" fn(
        ctx: *const c_void,
        connection_id: *const u8,
        connection_id_len: usize,
        json: *const u8,
        len: usize,
    ),
}

// The engine promises its callbacks may be called from any thread.
unsafe impl Send for HostVTable {}
unsafe impl Sync for HostVTable {}

/// `complete`'s `ok`: the call failed.
pub const COMPLETE_FAILED: u8 = 0;
/// `complete`'s `ok`: `{"value", "triggered", "payloads"}`.
pub const COMPLETE_WITH_EFFECTS: u8 = 1;
/// `complete`'s `ok`: the return value's JSON alone.
pub const COMPLETE_VALUE: u8 = 2;

/// `rohas_init` results.
pub const INIT_OK: i32 = 0;
pub const INIT_NULL_HOST: i32 = 1;
pub const INIT_TWICE: i32 = 2;
pub const INIT_NO_RUNTIME: i32 = 3;

struct Library {
    vtable: HostVTable,
    host: Arc<dyn Host>,
    registry: Registry,
    handle: tokio::runtime::Handle,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    tasks: Mutex<HashMap<u64, tokio::task::AbortHandle>>,
}

static LIBRARY: OnceLock<Library> = OnceLock::new();

thread_local! {
    /// Where the last panic on this thread happened (set by the panic hook).
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The [`Host`] handlers' states talk to: the engine's callbacks.
struct AbiHost {
    vtable: HostVTable,
}

impl Host for AbiHost {
    fn log(&self, record: LogRecord<'_>) {
        let json = json!({
            "level": record.level.as_str(),
            "message": record.message,
            "handler": record.handler,
            "trace_id": record.trace_id,
            "fields": record.fields,
        })
        .to_string();
        unsafe { (self.vtable.log)(self.vtable.ctx, json.as_ptr(), json.len()) }
    }

    fn broadcast(&self, endpoint: &str, message: Value) {
        let json = message.to_string();
        unsafe {
            (self.vtable.broadcast)(
                self.vtable.ctx,
                endpoint.as_ptr(),
                endpoint.len(),
                json.as_ptr(),
                json.len(),
            )
        }
    }

    fn send(&self, connection_id: &str, message: Value) {
        let json = message.to_string();
        unsafe {
            (self.vtable.send)(
                self.vtable.ctx,
                connection_id.as_ptr(),
                connection_id.len(),
                json.as_ptr(),
                json.len(),
            )
        }
    }
}

fn workers() -> usize {
    std::env::var("ROHAS_RUST_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
}

/// `rohas_init`.
///
/// # Safety
/// `host` is null or points to a valid [`HostVTable`].
pub unsafe fn init(host: *const HostVTable, register: fn(&mut Registry)) -> i32 {
    if host.is_null() {
        return INIT_NULL_HOST;
    }
    let vtable = *host;
    catch_unwind(move || {
        if LIBRARY.get().is_some() {
            return INIT_TWICE;
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers())
            .thread_name("rohas-handlers")
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(_) => return INIT_NO_RUNTIME,
        };
        // Panics are answered as failed calls; the hook only keeps where they happened.
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}:{}", tidy_path(l.file()), l.line(), l.column()));
            PANIC_AT.with(|cell| *cell.borrow_mut() = at);
        }));
        let mut registry = Registry::default();
        register(&mut registry);
        let library = Library {
            vtable,
            host: Arc::new(AbiHost { vtable }),
            registry,
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            tasks: Mutex::new(HashMap::new()),
        };
        match LIBRARY.set(library) {
            Ok(()) => INIT_OK,
            Err(_) => INIT_TWICE,
        }
    })
    .unwrap_or(INIT_NO_RUNTIME)
}

/// `rohas_handlers`.
///
/// # Safety
/// `len` is a valid pointer to write the buffer's length to.
pub unsafe fn handlers(len: *mut usize) -> *mut u8 {
    let handlers: Vec<Value> = LIBRARY
        .get()
        .map(|l| {
            l.registry
                .entries()
                .iter()
                .map(|entry| json!({"id": entry.id, "needs": needs::names(entry.needs)}))
                .collect()
        })
        .unwrap_or_default();
    let bytes = serde_json::to_vec(&handlers).unwrap_or_else(|_| b"[]".to_vec());
    let boxed = bytes.into_boxed_slice();
    if !len.is_null() {
        *len = boxed.len();
    }
    Box::into_raw(boxed) as *mut u8
}

/// `rohas_free`.
///
/// # Safety
/// `ptr`/`len` come from `rohas_handlers` and are freed once.
pub unsafe fn free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)));
    }
}

fn complete(vtable: &HostVTable, call_id: u64, outcome: Outcome) {
    let (ok, json) = match outcome {
        Ok(Success::Value(json)) => (COMPLETE_VALUE, json),
        Ok(Success::WithEffects(json)) => (COMPLETE_WITH_EFFECTS, json),
        Err(failure) => (COMPLETE_FAILED, failure.0.to_string()),
    };
    unsafe { (vtable.complete)(vtable.ctx, call_id, ok, json.as_ptr(), json.len()) }
}

unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

/// `rohas_invoke`.
///
/// # Safety
/// The pointers are valid for their lengths during this call.
pub unsafe fn invoke(
    call_id: u64,
    handler: *const u8,
    handler_len: usize,
    call: *const u8,
    call_len: usize,
) {
    let handler = bytes(handler, handler_len);
    let call = bytes(call, call_len);
    let _ = catch_unwind(AssertUnwindSafe(|| start(call_id, handler, call)));
}

fn start(call_id: u64, handler: &[u8], buffer: &[u8]) {
    let Some(library) = LIBRARY.get() else { return };
    let id = std::str::from_utf8(handler).unwrap_or("(not UTF-8)");
    let Some(entry) = library.registry.get(id) else {
        let message = format!(
            "handler `{id}` is not in this library: is its file declared in src/generated/handlers/ (`rohas codegen`)?"
        );
        complete(
            &library.vtable,
            call_id,
            Err(Failure(json!({ "message": message }))),
        );
        return;
    };
    let data = match CallData::read(buffer) {
        Ok(data) => data,
        Err(error) => {
            let message = format!("the engine sent a call the library cannot read: {error}");
            complete(
                &library.vtable,
                call_id,
                Err(Failure(json!({ "message": message }))),
            );
            return;
        }
    };
    let call = Call::new(data, Arc::clone(&entry.name), Arc::clone(&library.host));
    // For the call's tag, and the warning about a slow first step.
    let trace_id = Arc::clone(call.trace_id());
    let tag = || CallTag {
        handler: Arc::clone(&entry.name),
        trace_id: Arc::clone(&trace_id),
        host: Arc::clone(&library.host),
    };
    let mut handler = (entry.function)(call);
    // The first step runs here, on the caller's thread, inside this
    // library's runtime (so `tokio::spawn`, timers and I/O use it) and with
    // the call's tag set for this step only: a handler that answers without
    // waiting, as most do, costs no thread hop and no wrapping future. One
    // that waits (plain `fn` handlers always do: they run on the blocking
    // pool) continues as a task on the library's runtime, which polls it
    // again at once with its own waker. A handler whose first step held the
    // caller's thread too long several calls in a row (blocking work in an
    // `async fn`) skips this from then on. In a row: one slow step can be
    // the thread losing its core to another process.
    if !entry.offloaded.load(Ordering::Relaxed) {
        let started = coarse_now();
        let first = {
            let _runtime = library.handle.enter();
            let waker = noop_waker();
            let mut context = Context::from_waker(&waker);
            capture::CURRENT.sync_scope(tag(), || poll_caught(handler.as_mut(), &mut context))
        };
        let took = coarse_now().saturating_sub(started);
        if took <= FIRST_STEP_BUDGET {
            if entry.slow_steps.load(Ordering::Relaxed) != 0 {
                entry.slow_steps.store(0, Ordering::Relaxed);
            }
        } else if entry.slow_steps.fetch_add(1, Ordering::Relaxed) + 1 >= SLOW_STEPS_TO_OFFLOAD
            && !entry.offloaded.swap(true, Ordering::Relaxed)
        {
            report_slow_first_step(&library.host, id, &entry.name, &trace_id, took);
        }
        if let Poll::Ready(outcome) = first {
            complete(&library.vtable, call_id, panic_to_failure(outcome));
            return;
        }
    }
    let future = capture::CURRENT.scope(tag(), CatchUnwind { future: handler });
    let vtable = library.vtable;
    // The lock is held across `spawn` so the task cannot finish (and remove
    // its entry) before the entry exists.
    let mut tasks = lock(&library.tasks);
    let task = library.handle.spawn(async move {
        let outcome = panic_to_failure(future.await);
        if let Some(library) = LIBRARY.get() {
            if lock(&library.tasks).remove(&call_id).is_none() {
                return; // cancelled meanwhile: nobody waits for it
            }
        }
        complete(&vtable, call_id, outcome);
    });
    tasks.insert(call_id, task.abort_handle());
}

/// How long a handler's first step may hold the caller's thread; after
/// [`SLOW_STEPS_TO_OFFLOAD`] longer ones in a row its calls move to the
/// library's threads for good.
const FIRST_STEP_BUDGET: Duration = Duration::from_millis(10);
const SLOW_STEPS_TO_OFFLOAD: u32 = 3;

/// A clock for timing first steps, read twice per call: on Linux the
/// kernel's coarse monotonic clock (a few milliseconds of resolution, plenty
/// against a 10 ms budget, for a fraction of a precise read's cost).
#[cfg(target_os = "linux")]
fn coarse_now() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid `timespec` for the call to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn coarse_now() -> Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The warning for a first step over [`FIRST_STEP_BUDGET`], tagged with its call.
fn report_slow_first_step(
    host: &Arc<dyn Host>,
    id: &str,
    name: &str,
    trace_id: &str,
    took: Duration,
) {
    let message = format!(
        "handler `{id}` ran {} ms before its first `.await` ({SLOW_STEPS_TO_OFFLOAD} calls in a row), on the engine's thread: its calls now run on the handler library's threads; make blocking work a plain `fn` handler or `tokio::task::spawn_blocking`",
        took.as_millis()
    );
    host.log(LogRecord {
        level: super::Level::Warn,
        message: &message,
        handler: name,
        trace_id,
        fields: &serde_json::Map::new(),
    });
}

/// A waker that does nothing, for the first step: the task that continues a
/// handler polls it again with its own waker. (`Waker::noop` needs Rust 1.85.)
fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &NOOP)
    }
    fn noop(_: *const ()) {}
    static NOOP: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the (null) data pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &NOOP)) }
}

/// `rohas_cancel`: `1` when the call was stopped (no completion follows).
pub fn cancel(call_id: u64) -> u8 {
    catch_unwind(|| {
        let library = LIBRARY.get()?;
        let task = lock(&library.tasks).remove(&call_id)?;
        task.abort();
        Some(())
    })
    .ok()
    .flatten()
    .map_or(0, |()| 1)
}

/// `rohas_shutdown`.
pub fn shutdown() {
    let _ = catch_unwind(|| {
        if let Some(library) = LIBRARY.get() {
            for (_, task) in lock(&library.tasks).drain() {
                task.abort();
            }
            if let Some(runtime) = lock(&library.runtime).take() {
                runtime.shutdown_timeout(Duration::from_secs(1));
            }
        }
    });
}

/// `src/generated/handlers/../../handlers/api/boom.rs` → `src/handlers/api/boom.rs`
/// (handler files are compiled through `#[path]` modules).
fn tidy_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            "." => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What polling a handler gives: its outcome, or a panic's message and
/// location.
type Caught = Result<Outcome, (String, Option<String>)>;

/// Poll a handler's future once, catching a panic.
fn poll_caught(
    future: Pin<&mut (dyn Future<Output = Outcome> + Send)>,
    cx: &mut Context<'_>,
) -> Poll<Caught> {
    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Ready(outcome)) => Poll::Ready(Ok(outcome)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(panic_report(payload))),
    }
}

/// A handler's panic fails its call with the message and where it happened.
fn panic_to_failure(caught: Caught) -> Outcome {
    caught.unwrap_or_else(|(message, at)| {
        Err(Failure::with_stack(
            format!("handler panicked: {message}"),
            at,
        ))
    })
}

/// Polls a handler's future, turning a panic into its message and location.
struct CatchUnwind {
    future: HandlerFuture,
}

impl Future for CatchUnwind {
    type Output = Caught;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_caught(self.future.as_mut(), cx)
    }
}

/// A caught panic's message, and where it happened (on this thread).
fn panic_report(payload: Box<dyn std::any::Any + Send>) -> (String, Option<String>) {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    let at = PANIC_AT.with(|cell| cell.borrow_mut().take());
    (message, at.map(|at| format!("at {at}")))
}

/// Run a plain (not `async`) handler on tokio's blocking pool, so it never
/// holds up the async handlers; a panic in it fails the call.
pub async fn blocking<F, R>(work: F) -> Result<R, Failure>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let tag = capture::current();
    let task = tokio::task::spawn_blocking(move || {
        capture::with_tag(tag, || {
            catch_unwind(AssertUnwindSafe(work)).map_err(panic_report)
        })
    });
    match task.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err((message, at))) => Err(Failure::with_stack(
            format!("handler panicked: {message}"),
            at,
        )),
        Err(error) => Err(Failure::with_stack(
            format!("handler stopped: {error}"),
            None,
        )),
    }
}

/// Exports the ABI's symbols from the project's library, serving the
/// handlers `register` adds. Written once, by the generated
/// `src/generated/registry.rs`.
#[macro_export]
macro_rules! export_handlers {
    ($register:path) => {
        /// The Rohas ABI version this library speaks.
        #[no_mangle]
        pub extern "C" fn rohas_abi_version() -> u32 {
            $crate::abi::ABI_VERSION
        }

        /// # Safety
        /// Called by the engine only, with a valid host table.
        #[no_mangle]
        pub unsafe extern "C" fn rohas_init(host: *const $crate::abi::HostVTable) -> i32 {
            $crate::abi::init(host, $register)
        }

        /// # Safety
        /// Called by the engine only.
        #[no_mangle]
        pub unsafe extern "C" fn rohas_handlers(len: *mut usize) -> *mut u8 {
            $crate::abi::handlers(len)
        }

        /// # Safety
        /// Called by the engine only, with valid buffers.
        #[no_mangle]
        pub unsafe extern "C" fn rohas_invoke(
            call_id: u64,
            handler: *const u8,
            handler_len: usize,
            call: *const u8,
            call_len: usize,
        ) {
            $crate::abi::invoke(call_id, handler, handler_len, call, call_len)
        }

        /// The engine stopped waiting for `call_id`.
        #[no_mangle]
        pub extern "C" fn rohas_cancel(call_id: u64) -> u8 {
            $crate::abi::cancel(call_id)
        }

        /// # Safety
        /// Called by the engine only, with a buffer from `rohas_handlers`.
        #[no_mangle]
        pub unsafe extern "C" fn rohas_free(ptr: *mut u8, len: usize) {
            $crate::abi::free(ptr, len)
        }

        /// Stop the library's runtime.
        #[no_mangle]
        pub extern "C" fn rohas_shutdown() {
            $crate::abi::shutdown()
        }
    };
}
