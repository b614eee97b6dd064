//! Project configuration: `config/rohas.toml`, defaults for every key, and
//! 12-factor overrides from the environment (`ROHAS_<SECTION>_<KEY>`).
//!
//! A project with no config file runs on the defaults. Unknown keys are
//! warnings that name the key; a value of the wrong type is an error naming
//! the file, line and expected type. This crate reads files and environment
//! only: it never starts anything.

mod env;
mod error;
mod fuzz;
mod load;
mod model;
mod process;
mod secret;

pub use error::{ConfigError, ConfigWarning};
pub use fuzz::fuzz_one;
pub use load::{load, load_file, Loaded};
pub use model::*;
pub use process::ProcessVar;
pub use secret::{is_secret_key, without_credentials, BrokerOptions, Secret, HIDDEN};
