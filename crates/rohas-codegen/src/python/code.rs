//! A tiny indenting text builder for Python, plus the literals generated
//! Python needs (strings, docstrings), so generators read as the code they emit.

/// Python source being written, four spaces per level.
#[derive(Default)]
pub struct Code {
    text: String,
    depth: usize,
}

impl Code {
    pub fn new() -> Self {
        Code::default()
    }

    /// One line at the current depth (an empty `text` gives an empty line).
    pub fn line(&mut self, text: &str) {
        if !text.is_empty() {
            for _ in 0..self.depth {
                self.text.push_str("    ");
            }
            self.text.push_str(text);
        }
        self.text.push('\n');
    }

    /// A line that opens a block (`class X:`, `def f():`): what follows is indented.
    pub fn open(&mut self, text: &str) {
        self.line(text);
        self.depth += 1;
    }

    /// Indent what follows without writing a line (after a wrapped signature).
    pub fn indent(&mut self) {
        self.depth += 1;
    }

    /// Leave a block (Python has no closing line).
    pub fn dedent(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A line that closes a bracket opened by [`Code::open`] (`)`, `}`).
    pub fn close(&mut self, text: &str) {
        self.dedent();
        self.line(text);
    }

    /// An empty line, never two in a row, never at the start.
    pub fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// Two empty lines, as PEP 8 puts between top-level definitions.
    pub fn gap(&mut self) {
        if self.text.is_empty() {
            return;
        }
        while !self.text.ends_with("\n\n\n") {
            self.text.push('\n');
        }
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

    /// Append text written elsewhere (already indented).
    pub fn raw(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub fn finish(self) -> String {
        let mut text = self.text;
        while text.ends_with("\n\n") {
            text.pop();
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
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
        let mut code = Code::new();
        code.docstring("say \"\"\"hi\"\"\" to \"x\"");
        assert_eq!(code.finish(), "\"\"\"say \\\"\\\"\\\"hi\\\"\\\"\\\" to \"x\\\"\"\"\"\n");
        let mut code = Code::new();
        code.docstring("Summary.\n\nMore.");
        assert_eq!(code.finish(), "\"\"\"Summary.\n\nMore.\n\"\"\"\n");
    }
}
