//! A tiny indenting text builder for TypeScript, plus the literals generated
//! TypeScript needs (strings, JSDoc comments, property names), so generators
//! read as the code they emit.

pub use crate::code::Code;

impl Code {
    /// TypeScript source: two spaces per level.
    pub fn typescript() -> Self {
        Code::with_indent("  ")
    }

    /// A JSDoc comment at the current depth: `/** one line */` when it fits,
    /// else one ` * ` line per line of `doc`.
    pub fn jsdoc(&mut self, doc: &str) {
        let doc = doc.trim();
        if doc.is_empty() {
            return;
        }
        let body = escape_comment(doc);
        let lines: Vec<&str> = body.lines().map(str::trim_end).collect();
        if lines.len() == 1 && lines[0].len() + self.columns() <= 110 {
            self.line(&format!("/** {} */", lines[0]));
            return;
        }
        self.line("/**");
        for line in lines {
            if line.is_empty() {
                self.line(" *");
            } else {
                self.line(&format!(" * {line}"));
            }
        }
        self.line(" */");
    }

    /// `//` comment lines at the current depth (file headers of stubs).
    pub fn comment(&mut self, text: &str) {
        for line in text.trim().lines() {
            let line = line.trim_end();
            if line.is_empty() {
                self.line("//");
            } else {
                self.line(&format!("// {line}"));
            }
        }
    }
}

/// Text safe inside `/** … */`: a `*/` in a schema doc would end the comment.
fn escape_comment(text: &str) -> String {
    text.replace("*/", "*\\/")
}

/// A TypeScript string literal in double quotes.
pub fn ts_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// True when `name` can be written bare as an identifier or property name.
/// Reserved words are fine as property names (`{ class: string }`), so they
/// are not checked here.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A property name as written in an interface or object literal: the wire
/// name itself, quoted when it is not an identifier.
pub fn prop_name(wire: &str) -> String {
    if is_identifier(wire) {
        wire.to_string()
    } else {
        ts_str(wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape_quotes_and_controls() {
        assert_eq!(ts_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(ts_str("\u{1b}"), "\"\\x1b\"");
    }

    #[test]
    fn property_names_are_quoted_only_when_needed() {
        assert_eq!(prop_name("class"), "class");
        assert_eq!(prop_name("createdAt"), "createdAt");
        assert_eq!(prop_name("x-trace"), "\"x-trace\"");
        assert_eq!(prop_name("2fa"), "\"2fa\"");
    }

    #[test]
    fn jsdoc_never_closes_early() {
        let mut code = Code::typescript();
        code.jsdoc("a */ b");
        assert_eq!(code.finish(), "/** a *\\/ b */\n");
        let mut code = Code::typescript();
        code.jsdoc("Summary.\n\nMore.");
        assert_eq!(code.finish(), "/**\n * Summary.\n *\n * More.\n */\n");
    }
}
