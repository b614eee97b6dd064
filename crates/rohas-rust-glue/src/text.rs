//! The Rust text the glue writes, built a line at a depth so each generator
//! reads as the code it emits: four spaces per level, as rustfmt indents.

/// Rust source being written.
#[derive(Default)]
pub struct Text {
    text: String,
    depth: usize,
}

impl Text {
    /// One line at the current depth (an empty `line` gives an empty line).
    pub fn line(&mut self, line: &str) {
        if !line.is_empty() {
            for _ in 0..self.depth {
                self.text.push_str("    ");
            }
            self.text.push_str(line);
        }
        self.text.push('\n');
    }

    /// A line that opens a block: what follows is indented.
    pub fn open(&mut self, line: &str) {
        self.line(line);
        self.depth += 1;
    }

    /// The line that closes a block [`Text::open`] opened.
    pub fn close(&mut self, line: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(line);
    }

    /// An empty line, never two in a row, never at the start.
    pub fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// The text, without trailing empty lines, ending in one newline.
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

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn blocks_indent_and_blank_lines_never_pile_up() {
        let mut text = Text::default();
        text.blank();
        text.open("fn f() {");
        text.line("x();");
        text.blank();
        text.blank();
        text.line("");
        text.close("}");
        text.blank();
        assert_eq!(text.finish(), "fn f() {\n    x();\n\n\n}\n");
    }
}
