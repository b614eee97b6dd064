//! A status line for a long step, for the person watching a terminal.
//!
//! The first build of a Rust project compiles every dependency: minutes of
//! cargo's `Compiling …` lines. On a terminal they become one line on
//! stderr, rewritten in place and cleared when the build ends; anywhere
//! else (CI, a pipe, a file) [`Status::show`] declines and the caller logs
//! the line at debug level, so logs stay short unless asked for.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Longest status text shown, so the line never wraps on a narrow terminal
/// (a wrapped line cannot be rewritten in place).
const WIDTH: usize = 72;

pub(crate) struct Status {
    terminal: bool,
    started: Instant,
    compiled: usize,
    drawn: bool,
}

impl Status {
    /// A status line on stderr when stderr is a terminal (and not `TERM=dumb`).
    pub fn for_stderr() -> Status {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Status::new(std::io::stderr().is_terminal() && !dumb)
    }

    fn new(terminal: bool) -> Status {
        Status {
            terminal,
            started: Instant::now(),
            compiled: 0,
            drawn: false,
        }
    }

    /// Show `line` in place; false when there is no terminal to show it on.
    pub fn show(&mut self, line: &str) -> bool {
        if !self.terminal {
            return false;
        }
        if line.starts_with("Compiling") {
            self.compiled += 1;
        }
        let text = self.text(line);
        let mut err = std::io::stderr().lock();
        // Carriage return, erase the line, draw: the previous status goes.
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        self.drawn = true;
        true
    }

    fn text(&self, line: &str) -> String {
        let head = format!(
            "  cargo [{}s, {} compiled] ",
            self.started.elapsed().as_secs(),
            self.compiled
        );
        let room = WIDTH.saturating_sub(head.chars().count());
        let mut text: String = line.chars().take(room).collect();
        if line.chars().count() > room {
            text.pop();
            text.push('…');
        }
        head + &text
    }

    /// Erase the status line, so what follows starts on a clean line.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_terminal_nothing_is_shown() {
        let mut status = Status::new(false);
        assert!(!status.show("Compiling serde v1.0.0"));
        assert!(!status.drawn);
    }

    #[test]
    fn the_text_counts_crates_and_never_outgrows_the_width() {
        let mut status = Status::new(true);
        status.compiled = 41;
        let text = status.text(&format!("Compiling {}", "x".repeat(200)));
        assert!(text.starts_with("  cargo [0s, 41 compiled] Compiling x"), "{text}");
        assert_eq!(text.chars().count(), WIDTH);
        assert!(text.ends_with('…'));
    }
}
