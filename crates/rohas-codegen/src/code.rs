//! A tiny indenting text builder, so generators read as the code they emit.
//! One builder for every target language: each language's `code.rs` adds
//! its constructor (the indent unit) and its own comment and literal forms
//! in an `impl Code` block of its own.

/// Source being written: lines at a depth, `unit` per level.
pub struct Code {
    text: String,
    depth: usize,
    unit: &'static str,
}

impl Code {
    /// An empty file indented by `unit` (four spaces, two spaces …) per level.
    pub fn with_indent(unit: &'static str) -> Self {
        Code {
            text: String::new(),
            depth: 0,
            unit,
        }
    }

    /// One line at the current depth (an empty `text` gives an empty line).
    pub fn line(&mut self, text: &str) {
        if !text.is_empty() {
            for _ in 0..self.depth {
                self.text.push_str(self.unit);
            }
            self.text.push_str(text);
        }
        self.text.push('\n');
    }

    /// A line that opens a block (`class X:`, `export interface X {`): what
    /// follows is indented.
    pub fn open(&mut self, text: &str) {
        self.line(text);
        self.depth += 1;
    }

    /// A line that closes a block opened by [`Code::open`] (`}`, `)`).
    pub fn close(&mut self, text: &str) {
        self.dedent();
        self.line(text);
    }

    /// A function signature that opens a block, `{head}({params}){tail}`:
    /// on one line when that is at most `width` characters, else one
    /// parameter per line, as rustfmt, black and prettier write it.
    pub fn open_signature<P: AsRef<str>>(&mut self, head: &str, params: &[P], tail: &str, width: usize) {
        let joined: Vec<&str> = params.iter().map(AsRef::as_ref).collect();
        let one_line = format!("{head}({}){tail}", joined.join(", "));
        if one_line.len() <= width {
            self.open(&one_line);
        } else {
            self.open(&format!("{head}("));
            for p in joined {
                self.line(&format!("{p},"));
            }
            self.close(&format!("){tail}"));
            self.indent();
        }
    }

    /// Indent what follows without writing a line (after a wrapped signature).
    pub fn indent(&mut self) {
        self.depth += 1;
    }

    /// Leave a block that has no closing line.
    pub fn dedent(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// How many columns the current depth indents.
    pub fn columns(&self) -> usize {
        self.depth * self.unit.len()
    }

    /// An empty line, never two in a row, never at the start.
    pub fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// Empty lines until `count` of them end the text (never at the start).
    pub fn blanks(&mut self, count: usize) {
        if self.text.is_empty() {
            return;
        }
        let wanted = "\n".repeat(count + 1);
        while !self.text.ends_with(&wanted) {
            self.text.push('\n');
        }
    }

    /// Append text written elsewhere (already indented).
    pub fn raw(&mut self, text: &str) {
        self.text.push_str(text);
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
