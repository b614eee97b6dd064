//! Types generated from the schema (`rohas codegen`), and the declarations
//! of your handler files. Do not edit: every run rewrites src/generated/.
//! Your `src/lib.rs` declares it with `pub mod generated;`.

pub mod api;
/// `println!` and friends in your handlers go to the Rohas log (declared
/// before `handlers` so its macros shadow std's there).
#[macro_use]
mod capture;
pub mod events;
/// `FromCall` for the schema's types, so handlers can ask for them.
mod extract;
/// Your handler files (`src/handlers/…`, `src/middlewares/…`), linted as your code.
pub mod handlers;
pub mod models;
/// The handlers the engine calls, and the C ABI it loads this library through.
pub mod registry;
pub mod runtime;
pub mod state;
pub mod websockets;
