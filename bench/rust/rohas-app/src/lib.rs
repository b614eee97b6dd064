//! The Rust HTTP benchmark's handlers (bench/rust/run.py): the same three
//! cases as bench/rust/axum-app, served by Rohas.

pub mod generated;
