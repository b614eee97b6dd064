//! The engine's mirror of the C ABI between Rohas and a handler library.
//!
//! The definition, with the meaning of every symbol, callback and buffer, is
//! the library side: `crates/rohas-codegen/templates/rust/runtime/abi.rs`,
//! which codegen writes into each project as
//! `src/generated/rohas-runtime/src/abi.rs`. Change both together and bump
//! [`ABI_VERSION`]; a unit test below checks the two agree on it.
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
    const LIBRARY_SIDE: &str = include_str!("../../rohas-codegen/templates/rust/runtime/abi.rs");

    #[test]
    fn the_library_side_speaks_the_same_version() {
        let line = format!("pub const ABI_VERSION: u32 = {};", super::ABI_VERSION);
        assert!(
            LIBRARY_SIDE.contains(&line),
            "templates/rust/runtime/abi.rs must say `{line}`"
        );
    }

    #[test]
    fn the_library_side_declares_the_same_symbols_and_callbacks() {
        for symbol in [
            super::SYM_ABI_VERSION,
            super::SYM_INIT,
            super::SYM_HANDLERS,
            super::SYM_INVOKE,
            super::SYM_CANCEL,
            super::SYM_FREE,
            super::SYM_SHUTDOWN,
        ] {
            assert!(LIBRARY_SIDE.contains(&format!("fn {symbol}(")), "{symbol}");
        }
        for field in ["pub ctx:", "pub complete:", "pub log:", "pub broadcast:", "pub send:"] {
            assert!(LIBRARY_SIDE.contains(field), "{field}");
        }
        for (name, value) in [
            ("COMPLETE_FAILED", super::COMPLETE_FAILED),
            ("COMPLETE_WITH_EFFECTS", super::COMPLETE_WITH_EFFECTS),
            ("COMPLETE_VALUE", super::COMPLETE_VALUE),
        ] {
            let line = format!("pub const {name}: u8 = {value};");
            assert!(
                LIBRARY_SIDE.contains(&line),
                "templates/rust/runtime/abi.rs must say `{line}`"
            );
        }
    }
}
