//! {{name}}: a Rohas backend with Rust handlers.
//!
//! `generated` is written by `rohas codegen` from `schema/`: the types, the
//! runtime crate, and the declarations of your handler files under
//! `src/handlers/` and `src/middlewares/`, so a new handler file needs no
//! `mod` line. Add your own modules (database access, shared helpers) below.

pub mod generated;

/// Tests of the handlers (`rohas test` or `cargo test`).
#[cfg(test)]
mod tests;
