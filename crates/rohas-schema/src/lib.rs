//! The `.ro` schema language: source text → tokens → AST with spans → a
//! validated [`model::Schema`], plus the diagnostics a user reads when the
//! schema is wrong.
//!
//! Start at [`check_path`]: it reads a schema folder, parses each file
//! (`lexer`, `parser`), lowers all of them into one model (`lower/`) and
//! collects every diagnostic on the way; [`Checked::render`] prints them.
//! Each diagnostic carries a [`Code`], whose [`Code::explanation`] is the long
//! form `rohas explain` prints.
//!
//! This crate knows nothing about code generation, HTTP or runtimes: it only
//! answers "what does this schema folder declare, and is it valid?". It must
//! never panic, whatever bytes it is given.

pub mod ast;
mod check;
mod code;
pub mod diagnostic;
mod explain;
pub mod format;
mod fuzz;
pub mod lexer;
mod lower;
pub mod model;
pub mod naming;
pub mod parser;
mod render;
pub mod report;
pub mod span;
mod suggest;

pub use check::{check_path, check_sources, Checked, LoadError, MAX_FILE_BYTES};
pub use code::Code;
pub use diagnostic::{Diagnostic, Label, Severity};
pub use explain::Explanation;
pub use format::{format_source, FormatError};
pub use fuzz::fuzz_one;
pub use model::Schema;
pub use render::render;
pub use span::{FileId, SourceMap, Span};
pub use suggest::did_you_mean;
