//! Starting the embedded interpreter and the thread that runs its loop.
//!
//! CPython is initialised once, without its signal handlers (Ctrl-C belongs to
//! the engine). The loop thread imports the host module (`host.py`, compiled
//! into the binary) and stays inside `host.main` for the life of the process.
//! The host calls handlers through `rohas_dispatch`: the `dispatch.py` that
//! codegen also writes into every project as `generated.dispatch`, so the
//! project's test harness runs handlers through the code the engine runs.

use crate::bridge::{self, Bridge};
use pyo3::prelude::*;
use pyo3::types::PyModule;
use std::ffi::CString;
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

const HOST_SOURCE: &str = include_str!("host.py");
const DISPATCH_SOURCE: &str = rohas_codegen::python::DISPATCH_PY;

pub(crate) struct Started {
    pub bridge: Arc<Bridge>,
    pub thread: std::thread::JoinHandle<()>,
}

pub(crate) fn start(
    project: &std::path::Path,
    dev: bool,
    host: Arc<dyn rohas_runtime::Host>,
) -> Result<Started, String> {
    let (wake_tx, wake_rx) =
        UnixStream::pair().map_err(|e| format!("cannot create the Python runtime's wake-up socket: {e}"))?;
    wake_tx
        .set_nonblocking(true)
        .map_err(|e| format!("cannot configure the wake-up socket: {e}"))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let bridge = Bridge::install(wake_tx, host, ready_tx)?;

    Python::initialize();
    let project = project.to_string_lossy().into_owned();
    let loop_bridge = bridge.clone();
    let wake_fd = wake_rx.into_raw_fd();
    let thread = std::thread::Builder::new()
        .name("rohas-python".into())
        // A main thread's stack, not a spawned thread's 2 MiB: handlers run
        // here, and so does the JSON writer, which recurses once per level
        // of nesting (up to `json::MAX_DEPTH`).
        .stack_size(8 << 20)
        .spawn(move || {
            let result = Python::attach(|py| -> PyResult<()> {
                let sys = py.import("sys")?;
                sys.getattr("modules")?.set_item("_rohas", bridge::module(py)?)?;
                let dispatch = CString::new(DISPATCH_SOURCE).expect("dispatch.py has no NUL byte");
                let dispatch = PyModule::from_code(py, &dispatch, c"rohas_dispatch.py", c"rohas_dispatch")?;
                sys.getattr("modules")?.set_item("rohas_dispatch", dispatch)?;
                let source = CString::new(HOST_SOURCE).expect("host.py has no NUL byte");
                let host = PyModule::from_code(py, &source, c"rohas_host.py", c"rohas_host")?;
                host.call_method1("main", (project, dev, wake_fd))?;
                Ok(())
            });
            if let Err(e) = result {
                let message = Python::attach(|py| describe(py, &e));
                loop_bridge.failed_to_start(message);
            }
        })
        .map_err(|e| format!("cannot start the Python thread: {e}"))?;

    match ready_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(())) => Ok(Started { bridge, thread }),
        Ok(Err(message)) => Err(format!("the embedded Python did not start: {message}")),
        Err(_) => Err("the embedded Python did not start within 60 s".into()),
    }
}

/// A Python exception as text, with its traceback.
pub(crate) fn describe(py: Python<'_>, error: &PyErr) -> String {
    let traceback = error.traceback(py).and_then(|t| t.format().ok()).unwrap_or_default();
    format!("{traceback}{error}")
}
