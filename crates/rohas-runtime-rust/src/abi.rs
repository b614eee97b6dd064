//! The engine's mirror of the C ABI between Rohas and a handler library.
//!
//! The definition, with the meaning of every symbol, callback and buffer, is
//! the library side: `rohas_rust_sdk::abi`
//! (`crates/rohas-rust-sdk/rohas-runtime/src/abi.rs`), which codegen writes
//! into each project as `src/generated/rohas-runtime/src/abi.rs`. Change
//! both together and bump [`ABI_VERSION`]; the unit tests below compare the
//! two: version, constants, the host table's layout, and the exports'
//! names and signatures.
//!
//! In short (version 2): the library exports `rohas_abi_version`,
//! `rohas_init(host)`, `rohas_handlers(&len) -> JSON [{"id", "needs"}]`,
//! `rohas_invoke(id, handler, call)` (the call is seven length-prefixed
//! parts, see [`encode_call`](crate::encode_call); runs the first step, then
//! returns), `rohas_cancel(id)`, `rohas_free`, `rohas_shutdown`; the engine
//! passes `complete`, `log`, `broadcast` and `send` callbacks. Pointers
//! passed to a function are borrowed for that call; the `rohas_handlers`
//! buffer is returned to `rohas_free`. A completion's JSON is the shared
//! reply shape ([`rohas_runtime::reply`]), whose optional `delay_ms` and
//! `"retryable"` joined version 2 without a bump (the library side says why).

use std::ffi::c_void;

/// The ABI version this engine speaks.
pub const ABI_VERSION: u32 = 2;

/// Callbacks handed to `rohas_init`; layout identical to the library's.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct HostVTable {
    pub ctx: *const c_void,
    pub complete: unsafe extern "C" fn(ctx: *const c_void, call_id: u64, ok: u8, json: *const u8, len: usize),
    pub log: unsafe extern "C" fn(ctx: *const c_void, json: *const u8, len: usize),
    pub broadcast:
        unsafe extern "C" fn(ctx: *const c_void, endpoint: *const u8, endpoint_len: usize, json: *const u8, len: usize),
    pub send: unsafe extern "C" fn(
        ctx: *const c_void,
        connection_id: *const u8,
        connection_id_len: usize,
        json: *const u8,
        len: usize,
    ),
}

pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
pub type InitFn = unsafe extern "C" fn(host: *const HostVTable) -> i32;
pub type HandlersFn = unsafe extern "C" fn(len: *mut usize) -> *mut u8;
pub type InvokeFn =
    unsafe extern "C" fn(call_id: u64, handler: *const u8, handler_len: usize, call: *const u8, call_len: usize);

/// `complete`'s `ok`: the call failed (`{"status", "message", …}`).
pub const COMPLETE_FAILED: u8 = 0;
/// `complete`'s `ok`: `{"value", "triggered", "payloads"}`.
pub const COMPLETE_WITH_EFFECTS: u8 = 1;
/// `complete`'s `ok`: the return value's JSON alone (no events).
pub const COMPLETE_VALUE: u8 = 2;

/// What a completion's JSON is: `complete`'s `ok`, read once where the
/// callback receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// [`COMPLETE_FAILED`]: a failure (`{"status", "message", …}`).
    Failed,
    /// [`COMPLETE_WITH_EFFECTS`]: `{"value", "triggered", "payloads"}`.
    WithEffects,
    /// [`COMPLETE_VALUE`]: the return value's JSON alone.
    Value,
}

/// An `ok` no version of this ABI defines: the call fails with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCompletion(pub u8);

impl TryFrom<u8> for Completion {
    type Error = UnknownCompletion;

    fn try_from(ok: u8) -> Result<Completion, UnknownCompletion> {
        match ok {
            COMPLETE_FAILED => Ok(Completion::Failed),
            COMPLETE_WITH_EFFECTS => Ok(Completion::WithEffects),
            COMPLETE_VALUE => Ok(Completion::Value),
            other => Err(UnknownCompletion(other)),
        }
    }
}
pub type CancelFn = unsafe extern "C" fn(call_id: u64) -> u8;
pub type FreeFn = unsafe extern "C" fn(ptr: *mut u8, len: usize);
pub type ShutdownFn = unsafe extern "C" fn();

pub const SYM_ABI_VERSION: &str = "rohas_abi_version";
pub const SYM_INIT: &str = "rohas_init";
pub const SYM_HANDLERS: &str = "rohas_handlers";
pub const SYM_INVOKE: &str = "rohas_invoke";
pub const SYM_CANCEL: &str = "rohas_cancel";
pub const SYM_FREE: &str = "rohas_free";
pub const SYM_SHUTDOWN: &str = "rohas_shutdown";

/// What a non-zero `rohas_init` result means.
pub fn init_error(code: i32) -> &'static str {
    match code {
        1 => "the engine passed no host table",
        2 => "the library was initialised twice",
        3 => "the library could not start its tokio runtime",
        _ => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rohas_rust_sdk::abi as library;
    use std::mem::{align_of, offset_of, size_of};

    /// The exports exactly as a project's `registry.rs` expands them.
    mod exported {
        rohas_rust_sdk::export_handlers!(register);

        fn register(_: &mut rohas_rust_sdk::Registry) {}
    }

    #[test]
    fn both_sides_speak_the_same_version_and_constants() {
        assert_eq!(ABI_VERSION, library::ABI_VERSION);
        assert_eq!(exported::rohas_abi_version(), ABI_VERSION);
        assert_eq!(
            [COMPLETE_FAILED, COMPLETE_WITH_EFFECTS, COMPLETE_VALUE],
            [
                library::COMPLETE_FAILED,
                library::COMPLETE_WITH_EFFECTS,
                library::COMPLETE_VALUE
            ]
        );
        assert_eq!(library::INIT_OK, 0);
        for code in [library::INIT_NULL_HOST, library::INIT_TWICE, library::INIT_NO_RUNTIME] {
            assert_ne!(init_error(code), "unknown error", "rohas_init result {code}");
        }
    }

    #[test]
    fn completion_kinds_are_read_once_and_unknown_ones_refused() {
        assert_eq!(Completion::try_from(library::COMPLETE_FAILED), Ok(Completion::Failed));
        assert_eq!(
            Completion::try_from(library::COMPLETE_WITH_EFFECTS),
            Ok(Completion::WithEffects)
        );
        assert_eq!(Completion::try_from(library::COMPLETE_VALUE), Ok(Completion::Value));
        assert_eq!(Completion::try_from(3), Err(UnknownCompletion(3)));
        assert_eq!(Completion::try_from(u8::MAX), Err(UnknownCompletion(u8::MAX)));
    }

    #[test]
    fn the_host_table_has_the_library_layout() {
        assert_eq!(size_of::<HostVTable>(), size_of::<library::HostVTable>());
        assert_eq!(align_of::<HostVTable>(), align_of::<library::HostVTable>());
        let engine = [
            offset_of!(HostVTable, ctx),
            offset_of!(HostVTable, complete),
            offset_of!(HostVTable, log),
            offset_of!(HostVTable, broadcast),
            offset_of!(HostVTable, send),
        ];
        let library = [
            offset_of!(library::HostVTable, ctx),
            offset_of!(library::HostVTable, complete),
            offset_of!(library::HostVTable, log),
            offset_of!(library::HostVTable, broadcast),
            offset_of!(library::HostVTable, send),
        ];
        assert_eq!(engine, library);
    }

    /// Compiles only while every callback of the library's table has the
    /// type of the engine's.
    #[allow(dead_code)]
    fn same_callbacks(engine: HostVTable) -> library::HostVTable {
        library::HostVTable {
            ctx: engine.ctx,
            complete: engine.complete,
            log: engine.log,
            broadcast: engine.broadcast,
            send: engine.send,
        }
    }

    /// Each export has the name the engine looks up and (a compile-time
    /// check) the type it calls it as.
    macro_rules! export {
        ($name:ident, $symbol:expr, $type:ty) => {{
            let _: $type = exported::$name;
            assert_eq!(stringify!($name), $symbol);
        }};
    }

    #[test]
    fn the_exports_have_the_names_and_signatures_the_engine_loads() {
        export!(rohas_abi_version, SYM_ABI_VERSION, AbiVersionFn);
        // The same function but for its host table's type, whose layout is checked above.
        export!(
            rohas_init,
            SYM_INIT,
            unsafe extern "C" fn(host: *const library::HostVTable) -> i32
        );
        export!(rohas_handlers, SYM_HANDLERS, HandlersFn);
        export!(rohas_invoke, SYM_INVOKE, InvokeFn);
        export!(rohas_cancel, SYM_CANCEL, CancelFn);
        export!(rohas_free, SYM_FREE, FreeFn);
        export!(rohas_shutdown, SYM_SHUTDOWN, ShutdownFn);
    }
}
