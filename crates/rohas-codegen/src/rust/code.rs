//! A tiny indenting text builder, so generators read as the code they emit.

/// Rust source being written, four spaces per level.
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

    /// A line that opens a block: what follows is indented.
    pub fn open(&mut self, text: &str) {
        self.line(text);
        self.depth += 1;
    }

    /// A line that closes a block.
    pub fn close(&mut self, text: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(text);
    }

    /// Indent what follows without writing a line (after a multi-line signature).
    pub fn depth_in(&mut self) {
        self.depth += 1;
    }

    pub fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    pub fn finish(self) -> String {
        let mut text = self.text;
        while text.ends_with("\n\n") {
            text.pop();
        }
        text
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
