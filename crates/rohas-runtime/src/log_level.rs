//! The level of a log line from user code, read from whatever its host
//! wrote.
//!
//! Each language host names levels its own way (Python's `logging` says
//! `warning` and `critical`, `console.warn` says `warn`, the Rust runtime
//! crate writes its `Level`), and the engine shows five. The mapping lives
//! here once so the three runtimes cannot drift apart: an unknown name is
//! `info` rather than a dropped line.

use std::fmt;

/// One of the five levels the engine's log stream knows.
/// Serialized as its name (`warn`), as records always carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level a host means by `name`, leniently: `warning` is
    /// [`LogLevel::Warn`], `critical` and `fatal` are [`LogLevel::Error`],
    /// case does not matter, and anything unknown is [`LogLevel::Info`].
    pub fn parse(name: &str) -> LogLevel {
        const NAMES: [(&str, LogLevel); 8] = [
            ("trace", LogLevel::Trace),
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("error", LogLevel::Error),
            ("critical", LogLevel::Error),
            ("fatal", LogLevel::Error),
        ];
        let name = name.trim();
        NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map_or(LogLevel::Info, |(_, level)| *level)
    }

    /// The name [`crate::LogRecord::level`] carries: `trace`, `debug`,
    /// `info`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::LogLevel;

    #[test]
    fn every_host_spelling_maps_to_one_of_five_levels() {
        let cases = [
            ("trace", "trace"),
            ("debug", "debug"),
            ("info", "info"),
            ("warn", "warn"),
            ("warning", "warn"),
            ("WARNING", "warn"),
            ("error", "error"),
            ("critical", "error"),
            ("fatal", "error"),
            ("log", "info"),
            ("", "info"),
            ("notice", "info"),
        ];
        for (sent, shown) in cases {
            assert_eq!(LogLevel::parse(sent).as_str(), shown, "{sent:?}");
        }
    }

    #[test]
    fn a_level_reads_back_as_itself() {
        for level in [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
        ] {
            assert_eq!(LogLevel::parse(level.as_str()), level);
        }
    }
}
