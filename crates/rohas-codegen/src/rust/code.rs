//! A tiny indenting text builder, so generators read as the code they emit.

pub use crate::code::Code;

impl Code {
    /// Rust source: four spaces per level.
    pub fn rust() -> Self {
        Code::with_indent("    ")
    }
}

/// `///` lines for a schema doc comment.
pub fn doc_lines(code: &mut Code, doc: Option<&str>) {
    comment_lines(code, "///", doc);
}

/// `//!` lines for a module doc.
pub fn module_doc(code: &mut Code, doc: Option<&str>) {
    comment_lines(code, "//!", doc);
}

fn comment_lines(code: &mut Code, marker: &str, doc: Option<&str>) {
    let Some(doc) = doc.map(str::trim).filter(|d| !d.is_empty()) else {
        return;
    };
    for line in doc.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            code.line(marker);
        } else {
            code.line(&format!("{marker} {line}"));
        }
    }
}
