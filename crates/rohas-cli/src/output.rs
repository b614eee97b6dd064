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
            try_stdout_line(&format!("{} {message}", self.paint("1;32", "✓")));
        }
    }

    /// A success line on stderr, for a command whose stdout is its result
    /// (`rohas events publish` prints the message id there).
    pub fn success_aside(&self, message: &str) {
        if !self.quiet {
            eprintln!("{} {message}", self.paint("1;32", "✓"));
        }
    }

    /// Ordinary progress or information, suppressed by `--quiet`.
    pub fn info(&self, message: &str) {
        if !self.quiet {
            try_stdout_line(message);
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

/// One line on stdout for a command whose output is its result (`list-*`,
/// `codegen --openapi`): a closed pipe (`rohas list-handlers | head`) ends
/// the command quietly instead of panicking as `println!` would.
pub fn stdout_line(line: &str) {
    if !try_stdout_line(line) {
        std::process::exit(0);
    }
}

/// One line on stdout; false when stdout is closed. A server keeps serving
/// when nobody reads its output.
fn try_stdout_line(line: &str) -> bool {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").is_ok()
}
