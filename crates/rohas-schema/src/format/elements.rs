//! One file's text as a flat list of printable pieces: every token the lexer
//! reads, plus the plain comments it drops, each with its source range and
//! how many line breaks came before it.
//!
//! The lexer stays as it is (the parser has no use for comments): the text
//! between two tokens can only be whitespace and `//` or `/* */` comments, so
//! they are found again here. Pieces are classified by their *text*, not by
//! the lexer's token kind, so a token kind added to the language later is
//! still printed exactly as written (it falls in [`Class::Other`]).

use crate::lexer::{lex, TokenKind};
use crate::span::FileId;

/// What the printer needs to know about a piece to lay it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// `{`, `[` or `(`.
    Open,
    /// `}`, `]` or `)`.
    Close,
    /// `,` or `;` (the lexer reads both as a separator).
    Comma,
    Colon,
    Question,
    At,
    /// A name, keyword, string, number or duration.
    Word,
    /// `/// …`: documentation, a token the parser reads.
    Doc,
    /// `// …`: runs to the end of its line.
    LineComment,
    /// `/* … */`.
    BlockComment,
    /// Anything else: spaced exactly as in the source.
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct Element<'a> {
    pub class: Class,
    /// The source text of the piece.
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
    /// Line breaks between the previous piece and this one.
    pub newlines_before: usize,
}

impl Element<'_> {
    /// Comments and docs: pieces that may sit on a line of their own.
    pub fn is_comment(&self) -> bool {
        matches!(self.class, Class::Doc | Class::LineComment | Class::BlockComment)
    }

    /// Pieces after which the line must end.
    pub fn ends_line(&self) -> bool {
        matches!(self.class, Class::Doc | Class::LineComment)
    }

    /// The text to print: comments lose trailing whitespace, a doc comment
    /// gets one space after `///` (the lexer reads `///x` and `/// x` alike),
    /// everything else is printed as written.
    pub fn printed(&self) -> String {
        match self.class {
            Class::Doc => {
                let body = self.text[3..].trim_end();
                if body.is_empty() || body.starts_with(' ') {
                    format!("///{body}")
                } else {
                    format!("/// {body}")
                }
            }
            Class::LineComment => self.text.trim_end().to_string(),
            Class::BlockComment => self.text.replace("\r\n", "\n"),
            _ => self.text.to_string(),
        }
    }
}

/// Every piece of `text`, in order. Only called on text that parsed without
/// error, so every token is one the lexer read in full.
pub(super) fn elements(text: &str) -> Vec<Element<'_>> {
    let mut out = Vec::new();
    let mut last_end = 0;
    for token in lex(FileId(0), text) {
        if token.kind == TokenKind::Eof {
            break;
        }
        let range = token.span.range();
        comments_between(text, last_end, range.start, &mut out);
        let piece = &text[range.clone()];
        let class = if matches!(token.kind, TokenKind::Doc(_)) {
            Class::Doc
        } else {
            classify(piece)
        };
        out.push(Element {
            class,
            text: piece,
            start: range.start,
            end: range.end,
            newlines_before: newlines(&text[last_end..range.start], &out, last_end),
        });
        last_end = range.end;
    }
    comments_between(text, last_end, text.len(), &mut out);
    out
}

/// Line breaks in the whitespace just before a new piece: only those after
/// the last comment pushed from the same gap count.
fn newlines(gap: &str, out: &[Element<'_>], gap_start: usize) -> usize {
    let from = match out.last() {
        Some(last) if last.end > gap_start => last.end - gap_start,
        _ => 0,
    };
    gap[from..].matches('\n').count()
}

/// The comments in `text[from..to]`, which holds only whitespace and comments.
fn comments_between<'a>(text: &'a str, from: usize, to: usize, out: &mut Vec<Element<'a>>) {
    let bytes = text.as_bytes();
    let mut pos = from;
    let mut breaks = 0;
    while pos < to {
        match bytes[pos] {
            b'\n' => {
                breaks += 1;
                pos += 1;
            }
            b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                let end = text[pos..to].find('\n').map_or(to, |i| pos + i);
                out.push(comment(text, Class::LineComment, pos, end, breaks));
                breaks = 0;
                pos = end;
            }
            b'/' if bytes.get(pos + 1) == Some(&b'*') => {
                let end = text[pos + 2..to].find("*/").map_or(to, |i| pos + 2 + i + 2);
                out.push(comment(text, Class::BlockComment, pos, end, breaks));
                breaks = 0;
                pos = end;
            }
            _ => pos += 1,
        }
    }
}

fn comment(text: &str, class: Class, start: usize, end: usize, newlines_before: usize) -> Element<'_> {
    Element {
        class,
        text: &text[start..end],
        start,
        end,
        newlines_before,
    }
}

fn classify(piece: &str) -> Class {
    match piece {
        "{" | "[" | "(" => Class::Open,
        "}" | "]" | ")" => Class::Close,
        "," | ";" => Class::Comma,
        ":" => Class::Colon,
        "?" => Class::Question,
        "@" => Class::At,
        _ if piece.starts_with("//") => Class::LineComment,
        _ if piece.starts_with("/*") => Class::BlockComment,
        _ => match piece.chars().next() {
            Some(c) if c.is_alphanumeric() || matches!(c, '_' | '"' | '-') => Class::Word,
            _ => Class::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_found_between_tokens_with_their_line_breaks() {
        let text = "a // one\n\n/* two */ b /// three\nc";
        let pieces: Vec<(Class, &str, usize)> = elements(text)
            .iter()
            .map(|e| (e.class, e.text, e.newlines_before))
            .collect();
        assert_eq!(
            pieces,
            vec![
                (Class::Word, "a", 0),
                (Class::LineComment, "// one", 0),
                (Class::BlockComment, "/* two */", 2),
                (Class::Word, "b", 0),
                (Class::Doc, "/// three", 0),
                (Class::Word, "c", 1),
            ]
        );
    }

    #[test]
    fn docs_get_one_space_and_keep_their_value() {
        let doc = |text| Element {
            class: Class::Doc,
            text,
            start: 0,
            end: 0,
            newlines_before: 0,
        };
        assert_eq!(doc("///x  ").printed(), "/// x");
        assert_eq!(doc("///  x").printed(), "///  x");
        assert_eq!(doc("///\r").printed(), "///");
    }
}
