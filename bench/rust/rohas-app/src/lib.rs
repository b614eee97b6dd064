//! The Rust HTTP benchmark's handlers (bench/rust/run.py): the same three
//! cases as bench/rust/axum-app, served by Rohas.

pub mod generated;

/// The handlers' allocator (see Cargo.toml): buffers never cross the ABI to
/// be freed on the other side, so the library may use its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
