//! The library side of Rust handlers: the `rohas-runtime` crate that
//! `rohas codegen` writes into every Rust project
//! (`src/generated/rohas-runtime/`), which the project's handler library
//! compiles against and the engine loads through its C ABI.
//!
//! Its sources live in `rohas-runtime/` beside this file's folder and are
//! written into projects byte for byte ([`sources`]), so a project depends
//! on crates.io crates alone. Here they are a workspace crate like any
//! other: with the `runtime` feature (the default) they are compiled as
//! the private module `runtime`, linted, and tested (`tests/`), and
//! everything they export is re-exported at this crate's root, so
//! `rohas_rust_sdk::State` is the `rohas_runtime::State` a handler sees and
//! `$crate` paths in their macros resolve here as in a project.
//!
//! Codegen and the engine depend on this crate without that feature: they
//! need the file texts and [`shapes`], never the handler runtime itself.

pub mod sources;

#[cfg(feature = "runtime")]
#[path = "../rohas-runtime/src/lib.rs"]
mod runtime;

#[cfg(feature = "runtime")]
pub use runtime::*;

/// The event object and a middleware's changes, as the engine builds them
/// (`rohas_runtime::shapes` in the engine): one file, which the project's
/// test harness compiles as `testing::shapes`.
#[cfg(feature = "runtime")]
pub use runtime::testing::shapes;

#[cfg(not(feature = "runtime"))]
#[path = "../rohas-runtime/src/testing/shapes.rs"]
pub mod shapes;
