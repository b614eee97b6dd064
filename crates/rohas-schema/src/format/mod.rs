//! `rohas fmt`: one canonical layout for `.ro` files, as `cargo fmt` and
//! `prisma format` give Rust and Prisma, so schema diffs show meaning and
//! not whitespace.
//!
//! Formatting is a pure function of one file's text. It is stable (the same
//! input always gives the same output), idempotent (formatting formatted
//! text changes nothing) and keeps every comment. A file with a syntax error
//! is refused with the parser's diagnostics: guessing a layout for a broken
//! file could move text the user is still writing.
//!
//! How: the text becomes a flat list of pieces (tokens and comments,
//! `elements.rs`), nested by brackets into a tree (`tree.rs`), and printed
//! (`print.rs`) with hints from the parser's AST about where members start.
//! The printer works on pieces, not on grammar rules, so a construct this
//! module does not know is printed as written rather than dropped.
//!
//! Before the result is returned it is checked: it must parse, and hold the
//! same tokens (commas aside) and the same comments as the input. A
//! formatter bug therefore shows as an error naming the file, never as a
//! schema that means something else.

mod elements;
mod print;
mod tree;

use crate::diagnostic::Diagnostic;
use crate::lexer::{lex, TokenKind};
use crate::parser::parse_file;
use crate::span::FileId;
use elements::{elements, Class};

/// Why a file was left as it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FormatError {
    /// The file does not parse; the diagnostics point into it (with the
    /// [`FileId`] given to [`format_source`]).
    #[error("the file has syntax errors; fix them, then format again")]
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not mean the same as the original. This is
    /// a bug in the formatter, never in the schema.
    #[error("the formatter could not keep this file's meaning ({0}), so it left the file unchanged; please report it with the file attached")]
    NotPreserved(&'static str),
}

/// The formatted text of one `.ro` file. `file` only labels the
/// diagnostics of a syntax error.
pub fn format_source(file: FileId, text: &str) -> Result<String, FormatError> {
    let (decls, errors) = parse_file(file, text);
    if !errors.is_empty() {
        return Err(FormatError::Syntax(errors));
    }
    let formatted = layout(text, &decls);
    verify(text, &formatted)?;
    Ok(formatted)
}

/// The formatted text, with `decls` (the file's AST) as hints. Without
/// them it still keeps every piece, laid out by the source's line breaks.
fn layout(text: &str, decls: &[crate::ast::Decl]) -> String {
    let hints = tree::Hints::new(decls);
    let nodes = tree::nest(elements(text));
    print::Printer { hints: &hints }.file(&nodes)
}

/// The formatted text parses, and has the input's tokens (separating
/// commas may go) and comments, in order.
fn verify(original: &str, formatted: &str) -> Result<(), FormatError> {
    if !parse_file(FileId(0), formatted).1.is_empty() {
        return Err(FormatError::NotPreserved("the result does not parse"));
    }
    let tokens = |text: &str| -> Vec<TokenKind> {
        lex(FileId(0), text)
            .into_iter()
            .map(|t| t.kind)
            .filter(|k| *k != TokenKind::Comma)
            .collect()
    };
    if tokens(original) != tokens(formatted) {
        return Err(FormatError::NotPreserved("the tokens changed"));
    }
    let comments = |text: &str| -> Vec<String> {
        elements(text)
            .iter()
            .filter(|e| matches!(e.class, Class::LineComment | Class::BlockComment))
            .map(|e| e.printed())
            .collect()
    };
    if comments(original) != comments(formatted) {
        return Err(FormatError::NotPreserved("a comment changed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without hints (as for a construct the grammar may grow, which the
    /// AST does not describe yet) the printer keeps every piece, spaced as
    /// written, one per source line.
    #[test]
    fn constructs_without_hints_print_as_written() {
        let text = "model Post {\n  id  Int @id\n\n\n  @@index([authorId, createdAt])\n  author User @relation(fields: [authorId], references: [id])\n  x = 1.5 // odd\n}\n";
        let once = layout(text, &[]);
        assert_eq!(
            once,
            "model Post {\n  id Int @id\n\n  @@index([authorId, createdAt])\n  author User @relation(fields: [authorId], references: [id])\n  x = 1.5 // odd\n}\n"
        );
        assert_eq!(layout(&once, &[]), once);
        let tokens = |t: &str| -> Vec<TokenKind> { lex(FileId(0), t).into_iter().map(|t| t.kind).collect() };
        assert_eq!(tokens(text), tokens(&once));
    }
}
