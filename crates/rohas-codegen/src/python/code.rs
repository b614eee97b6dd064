//! A tiny indenting text builder for Python, plus the literals generated
//! Python needs (strings, docstrings), so generators read as the code they emit.

pub use crate::code::Code;

impl Code {
    /// Python source: four spaces per level.
    pub fn python() -> Self {
        Code::with_indent("    ")
    }

    /// Two empty lines, as PEP 8 puts between top-level definitions.
    pub fn gap(&mut self) {
        self.blanks(2);
    }

    /// A docstring at the current depth: one line when it fits, else the
    /// summary line, the rest, and the closing quotes on their own line.
    pub fn docstring(&mut self, doc: &str) {
        let doc = doc.trim();
        if doc.is_empty() {
            return;
        }
        let body = escape_docstring(doc);
        let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
        if lines.len() == 1 {
            self.line(&format!("\"\"\"{}\"\"\"", lines[0]));
            return;
        }
        self.line(&format!("\"\"\"{}", lines[0]));
        for line in &lines[1..] {
            self.line(line);
        }
        self.line("\"\"\"");
    }
}

/// Text safe inside `"""…"""`: backslashes doubled, no closing quotes inside,
/// no quote right before the closing ones.
fn escape_docstring(text: &str) -> String {
    let mut out = text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    if out.ends_with('"') {
        out.pop();
        out.push_str("\\\"");
    }
    out
}

/// A Python string literal in double quotes.
pub fn py_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape_quotes_and_controls() {
        assert_eq!(py_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(py_str("\u{1b}"), "\"\\x1b\"");
    }

    #[test]
    fn docstrings_never_close_early() {
        let mut code = Code::python();
        code.docstring("say \"\"\"hi\"\"\" to \"x\"");
        assert_eq!(code.finish(), "\"\"\"say \\\"\\\"\\\"hi\\\"\\\"\\\" to \"x\\\"\"\"\"\n");
        let mut code = Code::python();
        code.docstring("Summary.\n\nMore.");
        assert_eq!(code.finish(), "\"\"\"Summary.\n\nMore.\n\"\"\"\n");
    }
}
