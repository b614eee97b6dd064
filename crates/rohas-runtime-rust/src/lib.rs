//! Rust handlers: the project's crate, built by cargo as a `cdylib` and
//! loaded into the engine behind a small, versioned C ABI.
//!
//! - `abi.rs` mirrors the ABI (defined in the project's generated
//!   `rohas-runtime` crate: no Rust types, allocator or tokio runtime cross it);
//! - `cargo.rs` builds the library, showing cargo's progress;
//! - `library.rs` loads one build from its own copy and carries the callbacks;
//! - this file loads and swaps libraries, and turns engine [`Invocation`]s
//!   into ABI calls.
//!
//! Loading, in order: regenerate the handler glue from the handler files
//! (`rohas_rust_glue::handler_glue`: a renamed function or a new
//! parameter needs new glue, and `rohas dev` only reruns codegen for schema
//! changes), report missing files and functions, build, load the new library,
//! then swap it in. New calls go to the new library; calls in flight keep
//! their `Arc` of the old one and finish there; the old one stops when its
//! last call ends (see `library.rs` for why it stays mapped). Any failure
//! leaves the previous library serving.
//!
//! Each call is started with `rohas_invoke`, which runs the handler's first
//! step on this thread (inside the library's tokio runtime) and hands a
//! handler that waits to the library's threads. The call carries only the
//! parts the handler's parameters read (the library lists them per handler,
//! [`Runtime::needs`] tells the engine). The answer comes through the
//! `complete` callback: for a handler that did not wait, before
//! `rohas_invoke` returns, through a thread-local (`library::start_call`);
//! otherwise from a library thread, through the pending map and a oneshot.
//! Dropping the call's future (a timeout, a client gone) calls
//! `rohas_cancel`, which drops the handler's future in the library.

mod abi;
mod cargo;
mod first_step;
mod fresh;
mod library;
mod progress;

use abi::{Completion, UnknownCompletion};
use library::{Library, Reply, Shared, Slot};
use rohas_runtime::pending::AwaitedReply;
use rohas_runtime::reply::{WireFailure, WireSuccess};
use rohas_runtime::sync::{lock, read, write};
use rohas_runtime::{
    BoxFuture, HandlerError, HandlerSpec, Host, Invocation, LoadError, LogLevel, Needs, NeedsByHandler, Outcome,
    Runtime, RuntimeOptions,
};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::oneshot::{self, Sender};

pub use cargo::target_dir;

pub struct RustRuntime {
    project_dir: PathBuf,
    release: bool,
    shared: Arc<Shared>,
    current: RwLock<Option<Arc<Library>>>,
    /// What each handler reads, over every library loaded (see `needs`).
    needs: NeedsByHandler,
    /// Sources changed since the last build.
    dirty: AtomicBool,
    /// One load (glue, build, swap) at a time.
    loading: tokio::sync::Mutex<()>,
    next_call: AtomicU64,
    next_copy: AtomicU64,
    /// Where first steps run; shared with the watchdog.
    steps: Arc<first_step::Steps>,
}

impl RustRuntime {
    /// A runtime for the project in `options.project_dir`; nothing is built
    /// until [`Runtime::load`]. `options.dev` builds debug, else release.
    pub fn start(options: RuntimeOptions) -> Result<Arc<RustRuntime>, String> {
        let runtime = RustRuntime {
            release: !options.dev,
            steps: first_step::Steps::new(Arc::clone(&options.host)),
            shared: Arc::new(Shared {
                host: options.host,
                pending: Mutex::new(HashMap::default()),
            }),
            current: RwLock::new(None),
            needs: NeedsByHandler::default(),
            dirty: AtomicBool::new(true),
            loading: tokio::sync::Mutex::new(()),
            next_call: AtomicU64::new(1),
            next_copy: AtomicU64::new(1),
            project_dir: options.project_dir,
        };
        remove_stale_copies(&runtime.copies_dir());
        Ok(Arc::new(runtime))
    }

    fn copies_dir(&self) -> PathBuf {
        self.project_dir.join(".rohas/lib")
    }

    fn current(&self) -> Option<Arc<Library>> {
        read(&self.current).clone()
    }

    /// The engine stopped waiting for call `id`, which did not complete
    /// inside `rohas_invoke`: cancel it in the library.
    fn abandon(&self, library: &Library, id: u64) {
        let mut pending = lock(&self.shared.pending);
        if let Some(Slot::Waiting(_)) = pending.remove(&id) {
            drop(pending);
            cancel(&self.shared, library, id);
        }
        // Not waiting yet: its first step sees the closed channel.
    }

    /// Regenerate the glue and report handlers without a file or function.
    fn prepare(&self, specs: &[HandlerSpec]) -> Result<bool, Vec<LoadError>> {
        let mut errors = Vec::new();
        let glue = rohas_rust_glue::handler_glue(specs, &self.project_dir);
        for spec in specs.iter().filter(|s| !s.optional) {
            let file = match spec.source_file(&self.project_dir) {
                Ok(file) => file,
                Err(missing) => {
                    errors.push(missing);
                    continue;
                }
            };
            // A file that does not parse: the build reports cargo's diagnostics.
            if !glue.found.iter().any(|f| f.id == spec.id) && !glue.unparsable.contains(file) {
                errors.push(LoadError::no_function(spec, file));
            }
        }
        let generated = self.project_dir.join("src/generated");
        if !generated.join("mod.rs").is_file() || !generated.join("rohas-runtime/Cargo.toml").is_file() {
            errors.push(LoadError::Failed(format!(
                "{} is missing or incomplete: run `rohas codegen`",
                generated.display()
            )));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut changed = false;
        for file in &glue.files {
            let path = self.project_dir.join(&file.path);
            if std::fs::read_to_string(&path).ok().as_deref() == Some(file.contents.as_str()) {
                continue;
            }
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            std::fs::write(&path, &file.contents)
                .map_err(|e| vec![LoadError::Failed(format!("cannot write {}: {e}", path.display()))])?;
            changed = true;
        }
        Ok(changed)
    }

    async fn build_and_open(&self) -> Result<Library, String> {
        let project = self.project_dir.clone();
        let release = self.release;
        let host = Arc::clone(&self.shared.host);
        let built = tokio::task::spawn_blocking(move || build(&project, release, &host))
            .await
            .map_err(|e| format!("the build task failed: {e}"))??;
        let stem = built
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("handlers")
            .to_string();
        let extension = built.extension().and_then(|e| e.to_str()).unwrap_or("so").to_string();
        let n = self.next_copy.fetch_add(1, Ordering::Relaxed);
        let copy = self
            .copies_dir()
            .join(format!("{stem}-{}-{n}.{extension}", std::process::id()));
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || Library::open(&built, &copy, &shared))
            .await
            .map_err(|e| format!("loading the library failed: {e}"))?
    }
}

/// The project's library: the one built last, when nothing it was built
/// from changed since (`fresh.rs`), else what `cargo build` makes.
fn build(project: &Path, release: bool, host: &Arc<dyn Host>) -> Result<PathBuf, String> {
    let inputs = fresh::fingerprint(project);
    if let Some(library) = inputs.and_then(|inputs| fresh::fresh_library(project, release, inputs)) {
        let message = format!("{} is up to date: not rebuilt", library.display());
        cargo::log(host, LogLevel::Info, &message);
        return Ok(library);
    }
    match cargo::build(project, release, host) {
        Ok(library) => {
            if let Some(inputs) = inputs {
                fresh::record(project, release, inputs, &library);
            }
            Ok(library)
        }
        Err(error) => {
            fresh::forget(project, release);
            Err(error)
        }
    }
}

/// Copies left by a `rohas` process that is gone (its pid is in the name).
fn remove_stale_copies(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id().to_string();
    let proc = Path::new("/proc");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let Some(pid) = stem.rsplit('-').nth(1) else {
            continue;
        };
        if pid != me && proc.is_dir() && !proc.join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The call as `rohas_invoke` receives it (ABI version 2): seven parts,
/// each a little-endian `u32` length and that many bytes, `u32::MAX` for a
/// part left out: trace id, request, payload, query parameters, metadata
/// (JSON), ws endpoint, ws connection id. Only the parts `needs` names are
/// written, straight from the invocation.
pub fn encode_call(call: &Invocation, needs: Needs) -> Vec<u8> {
    // Room for the texts the engine already wrote, so they are copied in
    // once: growing from a guess was three reallocations per event.
    let written = |raw: &Option<Vec<u8>>| raw.as_ref().map_or(0, Vec::len);
    let mut out =
        Vec::with_capacity(128 + call.trace_id.len() + written(&call.request_json) + written(&call.payload_json));
    fn bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
        match bytes {
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(bytes);
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        }
    }
    fn json(out: &mut Vec<u8>, value: Option<&impl Serialize>) {
        let Some(value) = value else {
            return bytes(out, None);
        };
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        if serde_json::to_writer(&mut *out, value).is_err() {
            out.truncate(at + 4);
            out.extend_from_slice(b"null");
        }
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    bytes(&mut out, Some(call.trace_id.as_bytes()));
    match (&call.request_json, needs.request) {
        (Some(raw), true) => bytes(&mut out, Some(raw)),
        _ => json(&mut out, needs.request.then_some(&call.request)),
    }
    match (&call.payload_json, needs.payload) {
        (Some(raw), true) => bytes(&mut out, Some(raw)),
        _ => json(&mut out, needs.payload.then_some(&call.payload)),
    }
    json(&mut out, needs.context.then_some(&call.query_params));
    json(&mut out, needs.context.then_some(&call.metadata));
    bytes(&mut out, call.endpoint.as_deref().map(str::as_bytes));
    bytes(&mut out, call.connection_id.as_deref().map(str::as_bytes));
    out
}

/// Stop call `id` in the library. Already finished, its completion is
/// coming, and is dropped then.
fn cancel(shared: &Shared, library: &Library, id: u64) {
    if !library.cancel(id) {
        lock(&shared.pending).insert(id, Slot::Abandoned);
    }
}

/// A call's first step on a thread of the blocking pool (see
/// `first_step.rs`): start it in the library and hand its reply to `tx`,
/// or leave `tx` in the pending map for the library's threads when the
/// handler waits.
fn start_off_thread(shared: &Shared, library: &Library, id: u64, handler: &str, request: &[u8], tx: Sender<Reply>) {
    let reply = match library::start_call(id, || library.invoke(id, handler, request)) {
        Some(reply) => reply,
        None => {
            let mut pending = lock(&shared.pending);
            match pending.remove(&id) {
                Some(Slot::Arrived(reply)) => reply,
                _ if tx.is_closed() => {
                    // The engine stopped waiting while this step ran.
                    drop(pending);
                    cancel(shared, library, id);
                    return;
                }
                _ => {
                    pending.insert(id, Slot::Waiting(tx));
                    return;
                }
            }
        }
    };
    let _ = tx.send(reply);
}

fn outcome(reply: Reply) -> Result<Outcome, HandlerError> {
    let bad = |error: String| HandlerError::Failed {
        message: format!("bad completion from the Rust library: {error}"),
        stack: None,
    };
    match reply.kind {
        Ok(Completion::Value) => {
            // Written by serde_json in the library's runtime crate.
            let json = String::from_utf8(reply.body).map_err(|e| bad(e.to_string()))?;
            Ok(Outcome {
                value: rohas_runtime::ReturnValue::from_trusted_json(json),
                effects: Default::default(),
            })
        }
        Ok(Completion::WithEffects) => {
            let s: WireSuccess = rohas_runtime::reply::parse(&reply.body).map_err(|e| bad(e.to_string()))?;
            Ok(s.into_outcome())
        }
        Ok(Completion::Failed) => {
            let f: WireFailure = rohas_runtime::reply::parse(&reply.body).map_err(|e| bad(e.to_string()))?;
            Err(f.into_error())
        }
        Err(UnknownCompletion(ok)) => Err(bad(format!("unknown completion kind {ok}"))),
    }
}

impl Runtime for RustRuntime {
    fn language(&self) -> &'static str {
        "rust"
    }

    fn load<'a>(&'a self, handlers: &'a [HandlerSpec]) -> BoxFuture<'a, Result<(), Vec<LoadError>>> {
        Box::pin(async move {
            let _one_at_a_time = self.loading.lock().await;
            let glue_changed = self.prepare(handlers)?;
            let loaded = self.current();
            if !glue_changed && !self.dirty.load(Ordering::SeqCst) && loaded.is_some() {
                return Ok(());
            }
            self.dirty.store(false, Ordering::SeqCst);
            let library = match self.build_and_open().await {
                Ok(library) => library,
                Err(message) => {
                    // Build again next time, even if nothing else changes.
                    self.dirty.store(true, Ordering::SeqCst);
                    return Err(vec![LoadError::Failed(message)]);
                }
            };
            let missing: Vec<LoadError> = handlers
                .iter()
                .filter(|s| !s.optional && !library.handlers.contains_key(s.id.as_str()))
                .map(|s| LoadError::no_function(s, s.files.first().map_or(Path::new(""), |f| f.as_path())))
                .collect();
            if !missing.is_empty() {
                library.stop();
                self.dirty.store(true, Ordering::SeqCst);
                return Err(missing);
            }
            // Before the library takes calls.
            self.needs
                .add(library.handlers.iter().map(|(id, needs)| (id.clone(), *needs)));
            let old = write(&self.current).replace(Arc::new(library));
            // The old library stops when its last call in flight ends.
            drop(old);
            Ok(())
        })
    }

    fn invalidate<'a>(&'a self, _changed: &'a [PathBuf]) -> BoxFuture<'a, Result<(), LoadError>> {
        Box::pin(async move {
            self.dirty.store(true, Ordering::SeqCst);
            Ok(())
        })
    }

    fn invoke(&self, call: Invocation) -> BoxFuture<'_, Result<Outcome, HandlerError>> {
        Box::pin(async move {
            let Some(library) = self.current() else {
                return Err(HandlerError::Failed {
                    message: "the Rust handler library is not loaded".into(),
                    stack: None,
                });
            };
            // An api call carries what `needs` said (the engine asked it
            // already); other calls are narrowed here. A handler the library
            // lacks is reported by the library itself.
            let needs = if call.needs == Needs::ALL {
                library.handlers.get(&*call.handler).copied().unwrap_or(Needs::ALL)
            } else {
                call.needs
            };
            let request = encode_call(&call, needs);
            let id = self.next_call.fetch_add(1, Ordering::Relaxed);
            let rx = if self.steps.offloading() {
                let (tx, rx) = oneshot::channel();
                let step = {
                    let library = Arc::clone(&library);
                    let shared = Arc::clone(&self.shared);
                    let handler = call.handler.clone();
                    move || start_off_thread(&shared, &library, id, handler.as_str(), &request, tx)
                };
                first_step::offloaded(&self.steps, call.handler, call.trace_id, call.deadline, step);
                rx
            } else {
                let start = || library::start_call(id, || library.invoke(id, &call.handler, &request));
                if let Some(reply) =
                    first_step::inline(&self.steps, &call.handler, &call.trace_id, call.deadline, start)
                {
                    return outcome(reply);
                }
                let mut pending = lock(&self.shared.pending);
                if let Some(Slot::Arrived(reply)) = pending.remove(&id) {
                    return outcome(reply);
                }
                let (tx, rx) = oneshot::channel();
                pending.insert(id, Slot::Waiting(tx));
                rx
            };
            // Dropped early, it cancels the call.
            let reply = AwaitedReply::new(rx, || self.abandon(&library, id)).wait().await;
            match reply {
                Some(reply) => outcome(reply),
                None => Err(HandlerError::Failed {
                    message: "the Rust library stopped before the handler finished".into(),
                    stack: None,
                }),
            }
        })
    }

    /// The union over every library loaded, so a call that meets an older
    /// library during a reload still carries what that one reads.
    fn needs(&self, handler: &str) -> Needs {
        self.needs.get(handler)
    }

    /// The library parses the request from the JSON this writes.
    fn request_as_json(&self) -> bool {
        true
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let library = write(&self.current).take();
            if let Some(library) = library {
                let _ = tokio::task::spawn_blocking(move || library.stop()).await;
            }
            lock(&self.shared.pending).clear();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_runtime::HandlerKind;
    use serde_json::{json, Value};

    fn ws_call() -> Invocation {
        Invocation {
            handler: rohas_runtime::HandlerId::ws(rohas_runtime::HandlerKind::WsMessage, "Chat", Some("on_message")),
            kind: HandlerKind::WsMessage,
            trace_id: "t".into(),
            request: json!({"text": "hi"}),
            payload: json!({"text": "hi"}),
            payload_json: None,
            request_json: None,
            query_params: serde_json::Map::new(),
            metadata: json!({"connection_id": "c1"}).as_object().cloned().unwrap(),
            connection_id: Some("c1".into()),
            endpoint: Some("Chat".into()),
            deadline: None,
            needs: Needs::ALL,
        }
    }

    /// The parts of an encoded call, `None` for one left out.
    fn parts(mut bytes: &[u8]) -> Vec<Option<String>> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let len = u32::from_le_bytes(bytes[..4].try_into().unwrap());
            bytes = &bytes[4..];
            if len == u32::MAX {
                out.push(None);
                continue;
            }
            let (part, rest) = bytes.split_at(len as usize);
            out.push(Some(String::from_utf8(part.to_vec()).unwrap()));
            bytes = rest;
        }
        out
    }

    #[test]
    fn calls_go_out_as_the_parts_the_handler_needs() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            parts(&encode_call(&ws_call(), Needs::ALL)),
            [
                some("t"),
                some(r#"{"text":"hi"}"#),
                some(r#"{"text":"hi"}"#),
                some("{}"),
                some(r#"{"connection_id":"c1"}"#),
                some("Chat"),
                some("c1"),
            ]
        );
        let payload_only = Needs {
            payload: true,
            ..Needs::NONE
        };
        assert_eq!(
            parts(&encode_call(&ws_call(), payload_only)),
            [
                some("t"),
                None,
                some(r#"{"text":"hi"}"#),
                None,
                None,
                some("Chat"),
                some("c1")
            ]
        );
        let mut no_endpoint = ws_call();
        no_endpoint.endpoint = None;
        no_endpoint.connection_id = None;
        assert_eq!(
            parts(&encode_call(&no_endpoint, Needs::NONE)),
            [some("t"), None, None, None, None, None, None]
        );
        // A request the engine wrote as JSON goes out as it is, in place
        // of the (then null) request value.
        let mut written = ws_call();
        written.request = Value::Null;
        written.request_json = Some(br#"{"text": "as written"}"#.to_vec());
        let request = Needs {
            request: true,
            ..Needs::NONE
        };
        assert_eq!(
            parts(&encode_call(&written, request))[1],
            some(r#"{"text": "as written"}"#)
        );
    }

    fn reply(kind: Completion, body: Value) -> Reply {
        Reply {
            kind: Ok(kind),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn completions_become_outcomes_and_errors() {
        let done = outcome(reply(
            Completion::WithEffects,
            json!({"value": 1, "triggered": [["E", {"a": 1}]], "payloads": {"P": 2}}),
        ))
        .unwrap();
        assert_eq!(done.value, json!(1));
        assert_eq!(
            done.effects.triggered,
            [rohas_runtime::TriggeredEvent::new("E", json!({"a": 1}))]
        );
        assert_eq!(done.effects.payloads[0].event, "P");

        let value = outcome(Reply {
            kind: Ok(Completion::Value),
            body: br#"{"b":1,"a":[2]}"#.to_vec(),
        })
        .unwrap();
        assert_eq!(value.value.json(), r#"{"b":1,"a":[2]}"#);
        assert!(value.effects.triggered.is_empty() && value.effects.payloads.is_empty());

        match outcome(reply(Completion::Failed, json!({"status": 418, "message": "tea"}))) {
            Err(HandlerError::Http {
                status: 418,
                message,
                details: None,
            }) => assert_eq!(message, "tea"),
            other => panic!("{other:?}"),
        }
        match outcome(reply(
            Completion::Failed,
            json!({"message": "boom", "stack": "at x.rs:1:1"}),
        )) {
            Err(HandlerError::Failed { message, stack }) => {
                assert_eq!((message.as_str(), stack.as_deref()), ("boom", Some("at x.rs:1:1")))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            outcome(Reply {
                kind: Ok(Completion::WithEffects),
                body: b"not json".to_vec()
            }),
            Err(HandlerError::Failed { .. })
        ));
        // A kind this engine does not know fails the call, naming it.
        match outcome(Reply {
            kind: Err(UnknownCompletion(7)),
            body: b"{}".to_vec(),
        }) {
            Err(HandlerError::Failed { message, .. }) => {
                assert!(message.contains("unknown completion kind 7"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// What `trigger_event_after` and `RuntimeError::NonRetryable` complete with.
    #[test]
    fn completions_carry_delays_and_non_retryable_failures() {
        let done = outcome(reply(
            Completion::WithEffects,
            json!({"value": null, "triggered": [["E", 1], ["L", 2, 1000]], "payloads": {}}),
        ))
        .unwrap();
        let delays: Vec<_> = done.effects.triggered.iter().map(|t| t.delay).collect();
        assert_eq!(delays, [None, Some(std::time::Duration::from_secs(1))]);
        match outcome(reply(
            Completion::Failed,
            json!({"message": "no lines", "retryable": false}),
        )) {
            Err(HandlerError::NonRetryable { message, stack: None }) => assert_eq!(message, "no lines"),
            other => panic!("{other:?}"),
        }
    }
}
