//! `println!` and friends inside handlers, captured into the Rohas log.
//!
//! The project's generated `src/generated/capture.rs` shadows `println!`,
//! `print!`, `eprintln!` and `eprint!` for the handler modules with macros
//! that call [`line`]. While a call runs, the line becomes a log record
//! tagged with the handler and trace id (`info` for stdout, `warn` for
//! stderr, as Python's `print` is); anywhere else it is printed as usual.
//! `print!` without a newline is one record too.

use super::{Host, Level, LogRecord};
use serde_json::Map;
use std::cell::RefCell;
use std::sync::Arc;

/// Which call the current task or thread runs (cheap to clone: every
/// captured line takes a copy).
#[derive(Clone)]
pub struct CallTag {
    pub handler: Arc<str>,
    pub trace_id: Arc<str>,
    pub host: Arc<dyn Host>,
}

tokio::task_local! {
    /// Set around each async handler's future.
    pub static CURRENT: CallTag;
}

thread_local! {
    /// Set while a plain (blocking) handler runs on its thread.
    static BLOCKING: RefCell<Option<CallTag>> = const { RefCell::new(None) };
}

/// Run `work` with `tag` as the current call of this thread.
pub fn with_tag<R>(tag: Option<CallTag>, work: impl FnOnce() -> R) -> R {
    let previous = BLOCKING.with(|cell| cell.replace(tag));
    let result = work();
    BLOCKING.with(|cell| *cell.borrow_mut() = previous);
    result
}

/// The call running on this task or thread, if any.
pub fn current() -> Option<CallTag> {
    CURRENT
        .try_with(Clone::clone)
        .ok()
        .or_else(|| BLOCKING.with(|cell| cell.borrow().clone()))
}

/// One `println!` (`stderr = false`) or `eprintln!` (`stderr = true`).
pub fn line(stderr: bool, text: String) {
    match current() {
        Some(tag) => {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            tag.host.log(LogRecord {
                level: if stderr { Level::Warn } else { Level::Info },
                message: text,
                handler: &tag.handler,
                trace_id: &tag.trace_id,
                fields: &Map::new(),
            });
        }
        None if stderr => eprintln!("{text}"),
        None => println!("{text}"),
    }
}

/// One `print!` or `eprint!`: a record of its own inside a call.
pub fn text(stderr: bool, text: String) {
    match current() {
        Some(_) => line(stderr, text),
        None if stderr => eprint!("{text}"),
        None => print!("{text}"),
    }
}
