//! Diagnostics → the text a user reads, rustc-style, via codespan-reporting.
//!
//! ```text
//! error[E0005]: unknown type `Usr`
//!   ┌─ schema/api/users.ro:4:13
//!   │
//! 4 │   response: Usr
//!   │             ^^^ no type with this name
//!   │
//!   = help: did you mean `User`?
//! ```
//!
//! Colour is a parameter rather than detected here, so tests can snapshot
//! the plain text and the CLI decides from the terminal.

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::SourceMap;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, LabelStyle};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};

/// Render every diagnostic, in order, as one string.
pub fn render(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    for (_, file) in sources.files() {
        files.add(file.path.display().to_string(), file.text.as_str());
    }
    let mut buffer = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config {
        chars: term::Chars::ascii(),
        ..term::Config::default()
    };
    for diag in diagnostics {
        let cs = match diag.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let labels = diag
            .labels
            .iter()
            .map(|l| {
                let style = if l.primary {
                    LabelStyle::Primary
                } else {
                    LabelStyle::Secondary
                };
                CsLabel::new(style, l.span.file.0 as usize, l.span.range()).with_message(&l.message)
            })
            .collect();
        let notes = diag.help.iter().map(|h| format!("help: {h}")).collect();
        let cs = cs
            .with_code(diag.code.as_str())
            .with_message(&diag.message)
            .with_labels(labels)
            .with_notes(notes);
        if let Err(e) = term::emit(&mut buffer, &config, &files, &cs) {
            // Only a span outside its file gets here; show the message anyway.
            buffer_fallback(&mut buffer, diag, &e.to_string());
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

fn buffer_fallback(buffer: &mut termcolor::Buffer, diag: &Diagnostic, why: &str) {
    use std::io::Write;
    let _ = writeln!(
        buffer,
        "{}[{}]: {} ({why})",
        severity_word(diag.severity),
        diag.code,
        diag.message
    );
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
