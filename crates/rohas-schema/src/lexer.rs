//! Source text → tokens.
//!
//! The lexer never fails: anything it cannot make sense of becomes an
//! [`TokenKind::Error`] token carrying a message, so the parser reports it at
//! the right place and carries on. Comments are dropped except `///`, which is
//! documentation for the next declaration, field or enum variant.

use crate::span::{FileId, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    /// A string literal with escapes resolved.
    Str(String),
    Int(i64),
    Float(f64),
    /// A number with a unit glued on: `5s`, `500ms`, `2m`.
    Duration {
        value: u64,
        unit: String,
    },
    /// The text of a `///` comment, without the slashes.
    Doc(String),
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Comma,
    Question,
    At,
    /// Something the lexer could not read; the message says what.
    Error(String),
    Eof,
}

impl TokenKind {
    /// How the token is named in "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{name}`"),
            TokenKind::Str(_) => "a string".into(),
            TokenKind::Int(_) | TokenKind::Float(_) => "a number".into(),
            TokenKind::Duration { .. } => "a duration".into(),
            TokenKind::Doc(_) => "a `///` doc comment".into(),
            TokenKind::LBrace => "`{`".into(),
            TokenKind::RBrace => "`}`".into(),
            TokenKind::LBracket => "`[`".into(),
            TokenKind::RBracket => "`]`".into(),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::Colon => "`:`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::Question => "`?`".into(),
            TokenKind::At => "`@`".into(),
            TokenKind::Error(_) => "an unreadable character".into(),
            TokenKind::Eof => "the end of the file".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// All tokens of one file, ending with exactly one [`TokenKind::Eof`].
pub fn lex(file: FileId, text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        file,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

struct Lexer<'a> {
    file: FileId,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn run(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            let start = self.pos;
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'/' if self.peek(1) == Some(b'/') => self.line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                b'{' => self.single(TokenKind::LBrace),
                b'}' => self.single(TokenKind::RBrace),
                b'[' => self.single(TokenKind::LBracket),
                b']' => self.single(TokenKind::RBracket),
                b'(' => self.single(TokenKind::LParen),
                b')' => self.single(TokenKind::RParen),
                b':' => self.single(TokenKind::Colon),
                b',' | b';' => self.single(TokenKind::Comma),
                b'?' => self.single(TokenKind::Question),
                b'@' => self.single(TokenKind::At),
                b'"' => self.string(),
                b'-' | b'0'..=b'9' => self.number(),
                b if b.is_ascii_alphabetic() || b == b'_' => {
                    let end = self.scan_while(start, is_ident_byte);
                    self.push(TokenKind::Ident(self.text[start..end].to_string()), start, end);
                }
                _ => {
                    let ch = self.text[start..].chars().next().unwrap_or('\u{fffd}');
                    let end = start + ch.len_utf8();
                    // A letter is most likely part of a name: say what a
                    // name may hold, since the wire keeps it in every language.
                    let message = if ch.is_alphabetic() {
                        format!(
                            "`{ch}` cannot be part of a name: names are ASCII letters, digits and `_`, \
                             which every generated language can spell"
                        )
                    } else {
                        format!("unexpected character `{}`", ch.escape_debug())
                    };
                    self.push(TokenKind::Error(message), start, end);
                }
            }
        }
        let end = self.text.len();
        self.push(TokenKind::Eof, end, end);
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        self.out.push(Token {
            kind,
            span: Span::new(self.file, start, end),
        });
        self.pos = end;
    }

    fn single(&mut self, kind: TokenKind) {
        self.push(kind, self.pos, self.pos + 1);
    }

    fn scan_while(&self, from: usize, pred: impl Fn(u8) -> bool) -> usize {
        let mut end = from;
        while end < self.bytes.len() && pred(self.bytes[end]) {
            end += 1;
        }
        end
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        let end = self.scan_while(start, |b| b != b'\n');
        let body = &self.text[start..end];
        // `///` is documentation; `////…` is a plain comment, as in Rust.
        if body.starts_with("///") && !body.starts_with("////") {
            let doc = body[3..].strip_prefix(' ').unwrap_or(&body[3..]).trim_end();
            self.push(TokenKind::Doc(doc.to_string()), start, end);
        } else {
            self.pos = end;
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        match self.text[start + 2..].find("*/") {
            Some(i) => self.pos = start + 2 + i + 2,
            None => self.push(
                TokenKind::Error("unterminated `/*` comment: add `*/` to close it".into()),
                start,
                self.text.len(),
            ),
        }
    }

    fn string(&mut self) {
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            let at = start + 1 + i;
            match c {
                '"' => return self.push(TokenKind::Str(value), start, at + 1),
                '\n' => break,
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((j, other)) => {
                        let esc_end = start + 1 + j + other.len_utf8();
                        return self.push(
                            TokenKind::Error(format!(
                                "unknown escape `\\{}` in string: use \\n, \\t, \\\\ or \\\"",
                                other.escape_debug()
                            )),
                            at,
                            esc_end,
                        );
                    }
                    None => break,
                },
                c => value.push(c),
            }
        }
        let end = self.scan_while(start, |b| b != b'\n');
        self.push(
            TokenKind::Error("unterminated string: add a closing `\"` on the same line".into()),
            start,
            end,
        );
    }

    fn number(&mut self) {
        let start = self.pos;
        let digits_from = if self.bytes[start] == b'-' { start + 1 } else { start };
        let mut end = self.scan_while(digits_from, |b| b.is_ascii_digit());
        if end == digits_from {
            return self.push(TokenKind::Error("unexpected character `-`".into()), start, start + 1);
        }
        let mut is_float = false;
        if self.bytes.get(end) == Some(&b'.') && self.bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            end = self.scan_while(end + 1, |b| b.is_ascii_digit());
        }
        let number = &self.text[start..end];
        let unit_end = self.scan_while(end, is_ident_byte);
        if unit_end > end {
            let unit = self.text[end..unit_end].to_string();
            let kind = match number.parse::<u64>() {
                Ok(value) if !is_float => TokenKind::Duration { value, unit },
                _ => TokenKind::Error(format!(
                    "`{}` is not a duration: write a whole number followed by ms, s or m (`5s`)",
                    &self.text[start..unit_end]
                )),
            };
            return self.push(kind, start, unit_end);
        }
        let kind = if is_float {
            number.parse().map(TokenKind::Float).ok()
        } else {
            number.parse().map(TokenKind::Int).ok()
        };
        let kind =
            kind.unwrap_or_else(|| TokenKind::Error(format!("number `{number}` is too large for a 64-bit value")));
        self.push(kind, start, end);
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(FileId(0), text).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn reads_fields_attributes_and_durations() {
        assert_eq!(
            kinds("id Int @default(5) // x\ntimeout: 500ms"),
            vec![
                TokenKind::Ident("id".into()),
                TokenKind::Ident("Int".into()),
                TokenKind::At,
                TokenKind::Ident("default".into()),
                TokenKind::LParen,
                TokenKind::Int(5),
                TokenKind::RParen,
                TokenKind::Ident("timeout".into()),
                TokenKind::Colon,
                TokenKind::Duration {
                    value: 500,
                    unit: "ms".into()
                },
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn doc_comments_are_kept_and_plain_comments_dropped() {
        assert_eq!(
            kinds("/// The user\n/* block */ //// not doc\n"),
            vec![TokenKind::Doc("The user".into()), TokenKind::Eof]
        );
    }

    #[test]
    fn bad_input_becomes_error_tokens() {
        let k = kinds("\"open\n/* never closed");
        assert!(matches!(&k[0], TokenKind::Error(m) if m.contains("unterminated string")));
        assert!(matches!(&k[1], TokenKind::Error(m) if m.contains("unterminated `/*`")));
        assert!(matches!(kinds("é")[0], TokenKind::Error(_)));
        assert!(matches!(kinds("99999999999999999999")[0], TokenKind::Error(_)));
    }

    /// `café` is a name the schema cannot take (the wire uses it as it is
    /// in every language, and TypeScript and Rust spell identifiers
    /// differently outside ASCII): the error says what a name may hold.
    #[test]
    fn a_letter_outside_ascii_says_what_names_may_hold() {
        for text in ["café", "名前", "Ünïcode"] {
            let k = kinds(text);
            let message = k
                .iter()
                .find_map(|t| match t {
                    TokenKind::Error(m) => Some(m.clone()),
                    _ => None,
                })
                .unwrap();
            assert!(message.contains("ASCII letters, digits and `_`"), "{text}: {message}");
        }
    }
}
