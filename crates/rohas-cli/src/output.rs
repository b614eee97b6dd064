//! How the CLI talks to people: coloured on a terminal, plain otherwise,
//! quiet and verbose levels.

use std::io::IsTerminal;

#[derive(Clone)]
pub struct Output {
    pub verbose: bool,
    pub quiet: bool,
    /// Colour on stderr/stdout terminals, unless `NO_COLOR` is set.
    pub color: bool,
}

impl Output {
    pub fn new(verbose: bool, quiet: bool) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        Output { verbose, quiet, color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A success line (`✓ schema is valid: …`), suppressed by `--quiet`.
    pub fn success(&self, message: &str) {
        if !self.quiet {
            println!("{} {message}", self.paint("1;32", "✓"));
        }
    }

    /// Ordinary progress or information, suppressed by `--quiet`.
    pub fn info(&self, message: &str) {
        if !self.quiet {
            println!("{message}");
        }
    }

    /// Detail shown only with `--verbose`.
    pub fn detail(&self, message: &str) {
        if self.verbose {
            eprintln!("{}", self.paint("2", message));
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}: {message}", self.paint("1;33", "warning"));
        }
    }

    pub fn error(&self, message: &str) {
        eprintln!("{}: {message}", self.paint("1;31", "error"));
    }
}
