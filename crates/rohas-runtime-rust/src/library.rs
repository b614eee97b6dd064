//! One loaded handler library, and the callbacks it reports through.
//!
//! Every build is loaded from its own copy (`.rohas/lib/<name>-<pid>-<n>.so`):
//! the dynamic loader caches libraries by path, so loading the rebuilt file
//! under its usual name could hand back the old code, and cargo may rewrite
//! that file while the old library is still mapped.
//!
//! # Unloading
//!
//! A library is never `dlclose`d. When it is swapped out and its last
//! in-flight call has finished (the last `Arc<Library>` is dropped), its
//! tokio runtime is stopped (`rohas_shutdown`, on a thread of its own so no
//! engine thread waits) and its copy on disk is removed, but its code stays
//! mapped: a thread the user's code spawned, a thread-local destructor or a
//! callback still running could otherwise jump into unmapped memory and take
//! the engine down. The cost is the library's code pages for each rebuild in
//! one `rohas dev` session (a few MB each); `rohas start` never reloads.

use crate::abi::{self, Completion, HostVTable, UnknownCompletion};
use rohas_runtime::sync::lock;
use rohas_runtime::{Host, LogLevel, LogRecord, Needs};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// A call's completion: what its JSON is (`complete`'s `ok`, or the
/// unknown value the library sent) and the JSON.
pub(crate) struct Reply {
    pub kind: Result<Completion, UnknownCompletion>,
    pub body: Vec<u8>,
}

/// What the callbacks reach through their `ctx` pointer: shared by every
/// library of one runtime (call ids are unique across them).
pub(crate) struct Shared {
    pub host: Arc<dyn Host>,
    /// Calls that did not finish inside `rohas_invoke`, by call id.
    pub pending: Mutex<HashMap<u64, Slot, BuildHasherDefault<CallIdHasher>>>,
}

/// A call that did not finish in its first step.
pub(crate) enum Slot {
    /// The engine waits for it.
    Waiting(oneshot::Sender<Reply>),
    /// It finished on a library thread before the engine began to wait.
    Arrived(Reply),
    /// The engine stopped waiting, but its completion is on its way: dropped
    /// when it comes.
    Abandoned,
}

/// Call ids are a counter: they hash as themselves.
#[derive(Default)]
pub(crate) struct CallIdHasher(u64);

impl Hasher for CallIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

thread_local! {
    /// The call this thread is inside `rohas_invoke` for, and its reply if
    /// the handler finished there (most do): no map, no channel, no wake-up.
    static STARTING: Cell<u64> = const { Cell::new(0) };
    static FINISHED: RefCell<Option<Reply>> = const { RefCell::new(None) };
}

/// Run `start` (which calls `rohas_invoke` for `call_id`) and return the
/// reply if the handler finished before it returned.
pub(crate) fn start_call(call_id: u64, start: impl FnOnce()) -> Option<Reply> {
    let outer = STARTING.replace(call_id);
    start();
    STARTING.set(outer);
    FINISHED.with(|slot| slot.borrow_mut().take())
}

unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

unsafe fn shared<'a>(ctx: *const c_void) -> &'a Shared {
    &*(ctx as *const Shared)
}

unsafe extern "C" fn on_complete(ctx: *const c_void, call_id: u64, ok: u8, json: *const u8, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let reply = Reply {
            kind: Completion::try_from(ok),
            body: bytes(json, len).to_vec(),
        };
        if STARTING.get() == call_id {
            FINISHED.with(|slot| *slot.borrow_mut() = Some(reply));
            return;
        }
        let shared = shared(ctx);
        let mut pending = lock(&shared.pending);
        match pending.remove(&call_id) {
            Some(Slot::Waiting(tx)) => {
                drop(pending);
                let _ = tx.send(reply);
            }
            Some(Slot::Abandoned) => {}
            Some(Slot::Arrived(_)) | None => {
                pending.insert(call_id, Slot::Arrived(reply));
            }
        }
    }));
}

#[derive(serde::Deserialize)]
struct LogLine {
    #[serde(default)]
    level: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    handler: String,
    #[serde(default)]
    trace_id: String,
    #[serde(default)]
    fields: Map<String, Value>,
}

unsafe extern "C" fn on_log(ctx: *const c_void, json: *const u8, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let shared = shared(ctx);
        if let Ok(line) = serde_json::from_slice::<LogLine>(bytes(json, len)) {
            shared.host.log(LogRecord {
                level: LogLevel::parse(&line.level),
                message: line.message,
                handler: line.handler,
                trace_id: line.trace_id,
                fields: line.fields,
            });
        }
    }));
}

unsafe extern "C" fn on_broadcast(
    ctx: *const c_void,
    endpoint: *const u8,
    endpoint_len: usize,
    json: *const u8,
    len: usize,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let endpoint = String::from_utf8_lossy(bytes(endpoint, endpoint_len));
        let message = serde_json::from_slice(bytes(json, len)).unwrap_or(Value::Null);
        shared(ctx).host.broadcast(&endpoint, message);
    }));
}

unsafe extern "C" fn on_send(ctx: *const c_void, id: *const u8, id_len: usize, json: *const u8, len: usize) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let id = String::from_utf8_lossy(bytes(id, id_len));
        let message = serde_json::from_slice(bytes(json, len)).unwrap_or(Value::Null);
        shared(ctx).host.send(&id, message);
    }));
}

/// A library loaded, initialised and serving `handlers`.
pub(crate) struct Library {
    /// Kept (never closed) so the symbols below stay valid; see the module docs.
    _lib: std::mem::ManuallyDrop<libloading::Library>,
    copy: PathBuf,
    invoke: abi::InvokeFn,
    cancel: abi::CancelFn,
    shutdown: abi::ShutdownFn,
    stopped: AtomicBool,
    /// The handlers served, with what each one's parameters read.
    pub handlers: FxHashMap<String, Needs>,
}

/// One entry of `rohas_handlers`' list.
#[derive(serde::Deserialize)]
struct Served {
    id: String,
    #[serde(default)]
    needs: Vec<String>,
}

impl Served {
    fn needs(&self) -> Needs {
        let has = |name: &str| self.needs.iter().any(|n| n == name);
        Needs {
            request: has("request"),
            payload: has("payload"),
            context: has("context"),
            // A Rust event type reads the payload's fields where they are
            // at the top level, and (a generated one) only them.
            event_fields: has("request"),
            event_payload: !has("request_fields_only"),
        }
    }
}

impl Library {
    /// Load `built` (cargo's output) from a copy at `copy`, check its ABI and
    /// start it.
    pub fn open(built: &Path, copy: &Path, shared: &Arc<Shared>) -> Result<Library, String> {
        if let Some(dir) = copy.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::copy(built, copy)
            .map_err(|e| format!("cannot copy {} to {}: {e}", built.display(), copy.display()))?;
        let lib = open_library(copy).map_err(|e| {
            let _ = std::fs::remove_file(copy);
            format!("cannot load the handler library {}: {e}", built.display())
        })?;
        match Library::start(lib, copy, shared) {
            Ok(library) => Ok(library),
            Err(message) => {
                let _ = std::fs::remove_file(copy);
                Err(format!("{}: {message}", built.display()))
            }
        }
    }

    fn start(lib: libloading::Library, copy: &Path, shared: &Arc<Shared>) -> Result<Library, String> {
        let version: abi::AbiVersionFn = symbol(&lib, abi::SYM_ABI_VERSION).map_err(|_| {
            "not a Rohas handler library: it exports no `rohas_abi_version`. Does src/lib.rs declare \
             `pub mod generated;`, and is src/generated/ up to date (`rohas codegen`)?"
                .to_string()
        })?;
        let version = unsafe { version() };
        if version != abi::ABI_VERSION {
            return Err(format!(
                "the library speaks Rohas ABI version {version}, this rohas speaks version {}: run `rohas codegen` \
                 with this rohas to update src/generated/rohas-runtime, then build again",
                abi::ABI_VERSION
            ));
        }
        let init: abi::InitFn = symbol(&lib, abi::SYM_INIT)?;
        let handlers: abi::HandlersFn = symbol(&lib, abi::SYM_HANDLERS)?;
        let free: abi::FreeFn = symbol(&lib, abi::SYM_FREE)?;
        let invoke: abi::InvokeFn = symbol(&lib, abi::SYM_INVOKE)?;
        let cancel: abi::CancelFn = symbol(&lib, abi::SYM_CANCEL)?;
        let shutdown: abi::ShutdownFn = symbol(&lib, abi::SYM_SHUTDOWN)?;

        // One strong count per library, never given back: the library may
        // call back until it is stopped, and it is never unloaded.
        let ctx = Arc::into_raw(Arc::clone(shared)) as *const c_void;
        let vtable = HostVTable {
            ctx,
            complete: on_complete,
            log: on_log,
            broadcast: on_broadcast,
            send: on_send,
        };
        let code = unsafe { init(&vtable) };
        if code != 0 {
            return Err(format!("rohas_init failed: {}", abi::init_error(code)));
        }
        let mut len = 0usize;
        let served = unsafe {
            let ptr = handlers(&mut len);
            let served: Vec<Served> = serde_json::from_slice(bytes(ptr, len)).unwrap_or_default();
            free(ptr, len);
            served
        };
        Ok(Library {
            _lib: std::mem::ManuallyDrop::new(lib),
            copy: copy.to_path_buf(),
            invoke,
            cancel,
            shutdown,
            stopped: AtomicBool::new(false),
            handlers: served.iter().map(|s| (s.id.clone(), s.needs())).collect(),
        })
    }

    /// Start call `call_id`; its completion arrives through `Shared::pending`.
    pub fn invoke(&self, call_id: u64, handler: &str, call: &[u8]) {
        unsafe { (self.invoke)(call_id, handler.as_ptr(), handler.len(), call.as_ptr(), call.len()) }
    }

    /// Stop call `call_id`; `false` when it had already finished and its
    /// completion is on its way.
    pub fn cancel(&self, call_id: u64) -> bool {
        unsafe { (self.cancel)(call_id) == 1 }
    }

    /// Stop the library's runtime (waits for its threads, up to a second).
    pub fn stop(&self) {
        if !self.stopped.swap(true, Ordering::SeqCst) {
            unsafe { (self.shutdown)() };
            let _ = std::fs::remove_file(&self.copy);
        }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let shutdown = self.shutdown;
        let copy = std::mem::take(&mut self.copy);
        // Off the engine's threads: stopping joins the library's workers.
        let _ = std::thread::Builder::new()
            .name("rohas-rust-unload".into())
            .spawn(move || {
                unsafe { shutdown() };
                let _ = std::fs::remove_file(copy);
            });
    }
}

fn symbol<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, String> {
    unsafe {
        lib.get::<T>(name.as_bytes()).map(|s| *s).map_err(|_| {
            format!("the library does not export `{name}`: is src/generated/ up to date (`rohas codegen`)?")
        })
    }
}

#[cfg(unix)]
fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL).map(Into::into) }
}

#[cfg(not(unix))]
fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    unsafe { libloading::Library::new(path) }
}
