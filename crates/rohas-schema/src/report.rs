//! Diagnostics for machines: a JSON document with stable keys for editors
//! and scripts, and GitHub Actions workflow commands that annotate a pull
//! request's lines, as `ruff check --output-format json|github` offers.
//!
//! Positions are 1-based lines and columns counted in characters; `end` is
//! the position just past the last character of the primary label, as in
//! LSP. The key order of [`Report`] is part of the contract (documented in
//! docs/cli.md): a key may be added, never renamed or removed.

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::{SourceMap, Span};
use serde::Serialize;
use std::path::Path;

/// Bumped only if a key changes meaning or disappears.
pub const REPORT_VERSION: u32 = 1;

/// The whole result of checking a schema, as `rohas validate --format json`
/// prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    /// True when there is no error (warnings alone keep a schema valid).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<LocatedDiagnostic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LocatedDiagnostic {
    /// `E0005`, `W0001` …: `rohas explain CODE` prints its long form.
    pub code: String,
    pub severity: &'static str,
    /// The code's one-line title, the same for every diagnostic of a code.
    pub title: &'static str,
    /// What is wrong here.
    pub message: String,
    /// Where the primary label points; `null` (with `line`, `column`,
    /// `end`) only for a diagnostic about no place in particular.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end: Option<Position>,
    pub help: Option<String>,
    /// Every labelled place, primary first: for a duplicate name, the
    /// first declaration too.
    pub labels: Vec<LocatedLabel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LocatedLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: Position,
    pub message: String,
    pub primary: bool,
}

/// Diagnostics with their places resolved. File paths under `base` are
/// written relative to it (GitHub and editors want paths from the
/// repository root, where CI runs).
pub fn report(sources: &SourceMap, diagnostics: &[Diagnostic], base: Option<&Path>) -> Report {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    Report {
        version: REPORT_VERSION,
        valid: errors == 0,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics: diagnostics.iter().map(|d| locate(sources, d, base)).collect(),
    }
}

fn locate(sources: &SourceMap, diag: &Diagnostic, base: Option<&Path>) -> LocatedDiagnostic {
    let mut labels: Vec<LocatedLabel> = diag
        .labels
        .iter()
        .map(|l| {
            let (start, end) = place(sources, l.span);
            LocatedLabel {
                file: shown_path(sources.path(l.span.file), base),
                line: start.line,
                column: start.column,
                end,
                message: l.message.clone(),
                primary: l.primary,
            }
        })
        .collect();
    labels.sort_by_key(|l| !l.primary);
    let primary = labels.first();
    LocatedDiagnostic {
        code: diag.code.as_str().to_string(),
        severity: severity_name(diag.severity),
        title: diag.code.title(),
        message: diag.message.clone(),
        file: primary.map(|l| l.file.clone()),
        line: primary.map(|l| l.line),
        column: primary.map(|l| l.column),
        end: primary.map(|l| l.end),
        help: diag.help.clone(),
        labels,
    }
}

fn place(sources: &SourceMap, span: Span) -> (Position, Position) {
    let at = |offset| {
        let (line, column) = sources.line_col(span.file, offset);
        Position { line, column }
    };
    (at(span.start), at(span.end))
}

fn shown_path(path: &Path, base: Option<&Path>) -> String {
    let relative = base.and_then(|b| path.strip_prefix(b).ok()).unwrap_or(path);
    relative.display().to_string()
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One GitHub Actions workflow command per diagnostic
/// (`::error file=schema/a.ro,line=3,col=5,endLine=3,endColumn=8,title=E0005::unknown type`),
/// each on its own line. The help line follows the message.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let mut properties = Vec::new();
        if let (Some(file), Some(line), Some(column), Some(end)) = (&d.file, d.line, d.column, d.end) {
            properties.push(format!("file={}", escape_property(file)));
            properties.push(format!("line={line}"));
            properties.push(format!("col={column}"));
            properties.push(format!("endLine={}", end.line));
            properties.push(format!("endColumn={}", end.column));
        }
        properties.push(format!("title={}", escape_property(&d.code)));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} {}::{}\n",
            d.severity,
            properties.join(","),
            escape_data(&message)
        ));
    }
    out
}

/// The escaping GitHub's runner undoes in a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// The escaping GitHub's runner undoes in a command's properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_text_is_escaped() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
