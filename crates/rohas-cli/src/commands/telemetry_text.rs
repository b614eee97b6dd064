//! How telemetry reads in a terminal: times in the user's time zone,
//! durations in the unit that fits, log lines, colour only on a terminal,
//! and the terminal's width.

use rohas_telemetry::{Level, LogEntry};
use std::io::IsTerminal;

/// Colour for stdout: on a terminal, unless `NO_COLOR` is set.
#[derive(Clone, Copy)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    pub fn stdout() -> Paint {
        Paint {
            on: std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
        }
    }

    pub fn paint(self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A header row: dim, so the rows stand out.
    pub fn dim_if(self, dim: bool, text: &str) -> String {
        if dim {
            self.dim(text)
        } else {
            text.to_string()
        }
    }

    pub fn error(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub fn level(self, level: Level, text: &str) -> String {
        match level {
            Level::Error => self.paint("1;31", text),
            Level::Warn => self.paint("33", text),
            Level::Info => self.paint("32", text),
            Level::Debug | Level::Trace => self.dim(text),
        }
    }
}

/// `2026-12-05 10:00:00.123` in the local time zone.
pub fn time(ns: u64) -> String {
    let at = chrono::DateTime::from_timestamp_nanos(i64::try_from(ns).unwrap_or(i64::MAX));
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// `850ns`, `12.5µs`, `3.2ms`, `1.25s`, `2m05s`.
pub fn duration(ns: u64) -> String {
    let n = ns as f64;
    match ns {
        0..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => format!("{:.1}µs", n / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1}ms", n / 1e6),
        1_000_000_000..60_000_000_000 => format!("{:.2}s", n / 1e9),
        _ => {
            let s = ns / 1_000_000_000;
            format!("{}m{:02}s", s / 60, s % 60)
        }
    }
}

/// `WARN ` and the like: five wide, so messages line up.
pub fn level(level: Level) -> String {
    format!("{:<5}", level.as_str().to_ascii_uppercase())
}

/// A log's message and fields on one line (`smtp down  to="a@b.c"`):
/// line breaks in a message become `⏎` so one entry stays one line.
pub fn message(entry: &LogEntry) -> String {
    let mut text = entry.message.trim_end().replace("\r\n", "\n").replace('\n', " ⏎ ");
    for (key, value) in &entry.fields {
        let value = match value {
            serde_json::Value::String(s) if !s.contains(char::is_whitespace) && !s.is_empty() => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!("  {key}={value}"));
    }
    if entry.truncated {
        text.push_str("  (truncated)");
    }
    text
}

/// The width to fit: the terminal's, else `COLUMNS`, else 120 (a pipe or
/// a file has no width; wide enough for a readable waterfall).
pub fn width() -> usize {
    #[cfg(unix)]
    if std::io::stdout().is_terminal() {
        if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdout()) {
            if size.ws_col > 0 {
                return usize::from(size.ws_col);
            }
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|c| *c > 0)
        .unwrap_or(120)
}

/// At most `max` characters, an ellipsis marking a cut.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A table: columns padded to their widest cell, two spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_unit_that_fits() {
        assert_eq!(duration(850), "850ns");
        assert_eq!(duration(12_500), "12.5µs");
        assert_eq!(duration(3_210_000), "3.2ms");
        assert_eq!(duration(1_250_000_000), "1.25s");
        assert_eq!(duration(125_000_000_000), "2m05s");
    }

    #[test]
    fn cut_text_is_marked() {
        assert_eq!(fit("POST /users", 20), "POST /users");
        assert_eq!(fit("POST /users/{id}/avatar", 10), "POST /use…");
    }
}
