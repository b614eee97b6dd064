//! Config errors and warnings, each naming the file, line and key.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}\n  help: check the path, or unset ROHAS_CONFIG_PATH to use config/rohas.toml", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Bad TOML syntax or a value of the wrong type.
    #[error("{}:{line}: {message}{}", path.display(), key.as_ref().map(|k| format!(" (key `{k}`)")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        key: Option<String>,
        message: String,
    },
    /// An environment override with a value of the wrong type.
    #[error("environment variable {var}={value:?}: expected {expected} for `{key}`")]
    Env {
        var: String,
        value: String,
        key: String,
        expected: &'static str,
    },
}

/// Something suspicious that does not stop the project from running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Where it was found: `config/rohas.toml:12` or `environment`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
