//! Tokens → syntax tree, for one file.
//!
//! A hand-written recursive-descent parser: the grammar is small, and this
//! way every error says exactly what was expected where. After an error the
//! parser skips to the next top-level keyword and goes on, so one typo does
//! not hide the rest of the file's problems. Nesting is bounded
//! ([`MAX_DEPTH`]) so hostile input cannot overflow the stack.

use crate::ast::*;
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::lexer::{lex, Token, TokenKind};
use crate::model::{Literal, TypeKind};
use crate::span::{FileId, Span};
use crate::suggest::did_you_mean;

/// Deepest nesting of inline object types and lists the parser accepts.
pub const MAX_DEPTH: usize = 32;

/// More syntax errors than this in one file are summarised in one line.
const MAX_ERRORS_PER_FILE: usize = 50;

pub const DECLARATION_KEYWORDS: &[&str] = &["model", "input", "type", "enum", "api", "event", "cron", "ws"];

type PResult<T> = Result<T, Diagnostic>;

/// Parse one file. Declarations that parsed are returned even when others
/// had errors.
pub fn parse_file(file: FileId, text: &str) -> (Vec<Decl>, Vec<Diagnostic>) {
    let mut parser = Parser {
        tokens: lex(file, text),
        pos: 0,
        depth: 0,
    };
    let mut decls = Vec::new();
    let mut errors: Vec<Diagnostic> = Vec::new();
    while !parser.at_eof() {
        match parser.declaration() {
            Ok(decl) => decls.push(decl),
            Err(diag) => {
                errors.push(diag);
                if errors.len() == MAX_ERRORS_PER_FILE {
                    let at = parser.peek().span;
                    errors.push(
                        Diagnostic::error(
                            Code::E0001,
                            format!("too many syntax errors; stopped after {MAX_ERRORS_PER_FILE}"),
                        )
                        .with_primary(at, "the rest of this file was not checked"),
                    );
                    break;
                }
                parser.recover();
            }
        }
    }
    (decls, errors)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `lex` always ends with Eof and `bump` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &TokenKind {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].kind
    }

    fn at_eof(&self) -> bool {
        self.peek().kind == TokenKind::Eof
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        (self.peek().kind == *kind).then(|| self.bump().span)
    }

    fn error_here(&self, expected: &str) -> Diagnostic {
        let token = self.peek();
        if let TokenKind::Error(message) = &token.kind {
            return Diagnostic::error(Code::E0001, message.clone()).with_primary(token.span, "cannot read this");
        }
        let diagnostic = Diagnostic::error(
            Code::E0001,
            format!("expected {expected}, found {}", token.kind.describe()),
        )
        .with_primary(token.span, format!("expected {expected}"));
        // `1st` lexes as a number (or `5s` as a duration) where a name was
        // wanted: the fix is in where a name may start.
        let numeric = matches!(
            token.kind,
            TokenKind::Int(_) | TokenKind::Float(_) | TokenKind::Duration { .. }
        );
        if numeric && expected.contains("name") {
            diagnostic.with_help("a name starts with an ASCII letter or `_`, like `first` or `_1st`")
        } else {
            diagnostic
        }
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> PResult<Span> {
        self.eat(&kind).ok_or_else(|| self.error_here(expected))
    }

    fn ident(&mut self, expected: &str) -> PResult<Ident> {
        match &self.peek().kind {
            TokenKind::Ident(name) => {
                let name = name.clone();
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_here(expected)),
        }
    }

    /// Consecutive `///` lines joined into one doc string.
    fn docs(&mut self) -> Option<String> {
        let mut lines = Vec::new();
        while let TokenKind::Doc(line) = &self.peek().kind {
            lines.push(line.clone());
            self.bump();
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// Skip to the next declaration keyword at brace depth zero.
    fn recover(&mut self) {
        let mut depth = 0usize;
        // Always make progress, even when the error was on a keyword.
        self.bump();
        loop {
            match &self.peek().kind {
                TokenKind::Eof => return,
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => depth = depth.saturating_sub(1),
                // `type String` inside a broken record is a field; `type Name {` starts a declaration.
                TokenKind::Ident(word)
                    if depth == 0
                        && DECLARATION_KEYWORDS.contains(&word.as_str())
                        && matches!(self.peek_at(1), TokenKind::Ident(_))
                        && *self.peek_at(2) == TokenKind::LBrace =>
                {
                    return
                }
                TokenKind::Doc(_) if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    fn nested<T>(&mut self, at: Span, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(
                Diagnostic::error(Code::E0016, format!("nested more than {MAX_DEPTH} levels deep"))
                    .with_primary(at, "too deep")
                    .with_help("declare the inner object as its own `type` and refer to it by name"),
            );
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn declaration(&mut self) -> PResult<Decl> {
        let doc = self.docs();
        if self.at_eof() {
            return Err(
                Diagnostic::error(Code::E0001, "a `///` doc comment must be followed by a declaration")
                    .with_primary(self.peek().span, "nothing documented here"),
            );
        }
        let keyword = match &self.peek().kind {
            TokenKind::Ident(word) => word.clone(),
            _ => return Err(self.error_here("a declaration (model, input, type, enum, api, event, cron or ws)")),
        };
        let start = self.peek().span;
        let block = |kind| Some(kind);
        let (record, block_kind) = match keyword.as_str() {
            "model" => (Some(TypeKind::Model), None),
            "input" => (Some(TypeKind::Input), None),
            "type" => (Some(TypeKind::Type), None),
            "enum" => (None, None),
            "api" => (None, block(BlockKind::Api)),
            "event" => (None, block(BlockKind::Event)),
            "cron" => (None, block(BlockKind::Cron)),
            "ws" => (None, block(BlockKind::Ws)),
            other => {
                let mut diag = Diagnostic::error(Code::E0001, format!("expected a declaration, found `{other}`"))
                    .with_primary(start, "not a declaration keyword");
                diag = match did_you_mean(other, DECLARATION_KEYWORDS.iter().copied()) {
                    Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                    None => diag.with_help("declarations start with model, input, type, enum, api, event, cron or ws"),
                };
                return Err(diag);
            }
        };
        self.bump();
        let name = self.ident(&format!("a name after `{keyword}`"))?;
        self.expect(TokenKind::LBrace, &format!("`{{` after `{keyword} {}`", name.name))?;
        if let Some(kind) = record {
            let mut attributes = Vec::new();
            let fields = self.fields(TokenKind::RBrace, Some(&mut attributes))?;
            let end = self.expect(TokenKind::RBrace, "`}`")?;
            return Ok(Decl::Record(RecordDecl {
                kind,
                name,
                fields,
                attributes,
                doc,
                span: start.to(end),
            }));
        }
        if let Some(kind) = block_kind {
            let properties = self.properties()?;
            let end = self.expect(TokenKind::RBrace, "`}`")?;
            return Ok(Decl::Block(BlockDecl {
                kind,
                name,
                properties,
                doc,
                span: start.to(end),
            }));
        }
        let variants = self.variants()?;
        let end = self.expect(TokenKind::RBrace, "`}`")?;
        Ok(Decl::Enum(EnumDecl {
            name,
            variants,
            doc,
            span: start.to(end),
        }))
    }

    /// Fields until `close` (not consumed); separated by newlines or commas.
    /// `block` collects `@@name(…)` lines, which only a record body (not an
    /// inline object type) may hold.
    fn fields(&mut self, close: TokenKind, mut block: Option<&mut Vec<AttributeExpr>>) -> PResult<Vec<FieldDecl>> {
        let mut fields = Vec::new();
        loop {
            let doc = self.docs();
            if self.peek().kind == close {
                return Ok(fields);
            }
            if self.at_block_attribute() {
                let at = self.peek().span;
                let attribute = self.attribute(true)?;
                match block.as_deref_mut() {
                    Some(list) => list.push(attribute),
                    None => {
                        return Err(Diagnostic::error(
                            Code::E0017,
                            format!(
                                "`@@{}` belongs in a model body, not in an inline type",
                                attribute.name.name
                            ),
                        )
                        .with_primary(at.to(attribute.span), "not allowed here")
                        .with_help("move it into the `model` that declares these fields"))
                    }
                }
                self.eat(&TokenKind::Comma);
                continue;
            }
            let name = self.ident("a field name")?;
            self.eat(&TokenKind::Colon);
            let ty = self.type_expr()?;
            let mut attributes = Vec::new();
            while self.peek().kind == TokenKind::At && !self.at_block_attribute() {
                attributes.push(self.attribute(false)?);
            }
            let end = attributes.last().map_or(ty.span(), |a| a.span);
            fields.push(FieldDecl {
                span: name.span.to(end),
                name,
                ty,
                attributes,
                doc,
            });
            self.eat(&TokenKind::Comma);
        }
    }

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        let mut ty = match &self.peek().kind {
            TokenKind::Ident(_) => TypeExpr::Name(self.ident("a type")?),
            TokenKind::LBrace => {
                let open = self.bump().span;
                let fields = self.nested(open, |p| p.fields(TokenKind::RBrace, None))?;
                let close = self.expect(TokenKind::RBrace, "`}` closing the inline type")?;
                TypeExpr::Object(fields, open.to(close))
            }
            _ => return Err(self.error_here("a type (a name such as `String` or `User`, or `{ field: Type }`)")),
        };
        loop {
            if self.peek().kind == TokenKind::LBracket && *self.peek_at(1) == TokenKind::RBracket {
                self.bump();
                let close = self.bump().span;
                let span = ty.span().to(close);
                ty = TypeExpr::Array(Box::new(ty), span);
            } else if let Some(q) = self.eat(&TokenKind::Question) {
                let span = ty.span().to(q);
                ty = TypeExpr::Optional(Box::new(ty), span);
            } else {
                return Ok(ty);
            }
        }
    }

    /// `@@` at the cursor: a model-level attribute such as `@@index([a])`.
    fn at_block_attribute(&self) -> bool {
        self.peek().kind == TokenKind::At && *self.peek_at(1) == TokenKind::At
    }

    /// `@name(args…)`, or `@@name(args…)` when `block`.
    fn attribute(&mut self, block: bool) -> PResult<AttributeExpr> {
        let at = self.expect(TokenKind::At, "`@`")?;
        if block {
            self.expect(TokenKind::At, "`@@`")?;
        }
        let name = self.ident("an attribute name after `@`")?;
        let mut args = Vec::new();
        let mut end = name.span;
        if let Some(open) = self.eat(&TokenKind::LParen) {
            self.nested(open, |p| {
                while p.peek().kind != TokenKind::RParen {
                    args.push(p.attr_arg(true)?);
                    if p.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
                Ok(())
            })?;
            end = self.expect(TokenKind::RParen, "`)` closing the attribute's arguments")?;
        }
        Ok(AttributeExpr {
            name,
            args,
            span: at.to(end),
        })
    }

    /// One attribute argument: a value, `[values]`, `{ key: value, … }`, or
    /// (when `named` is allowed) `key: value`.
    fn attr_arg(&mut self, named: bool) -> PResult<AttrArg> {
        if named && matches!(self.peek().kind, TokenKind::Ident(_)) && *self.peek_at(1) == TokenKind::Colon {
            let key = self.ident("an argument name")?;
            self.bump();
            let value = self.attr_arg(false)?;
            return Ok(AttrArg::Named(key, Box::new(value)));
        }
        match self.peek().kind {
            TokenKind::LBracket => {
                let open = self.bump().span;
                self.nested(open, |p| {
                    let mut items = Vec::new();
                    while p.peek().kind != TokenKind::RBracket {
                        items.push(p.attr_arg(false)?);
                        if p.eat(&TokenKind::Comma).is_none() {
                            break;
                        }
                    }
                    let close = p.expect(TokenKind::RBracket, "`]` closing the list")?;
                    Ok(AttrArg::List(items, open.to(close)))
                })
            }
            TokenKind::LBrace => {
                let open = self.bump().span;
                self.nested(open, |p| {
                    let mut items = Vec::new();
                    while p.peek().kind != TokenKind::RBrace {
                        let key = p.ident("an argument name such as `fields:`")?;
                        p.expect(TokenKind::Colon, &format!("`:` after `{}`", key.name))?;
                        let value = p.attr_arg(false)?;
                        items.push(AttrArg::Named(key, Box::new(value)));
                        if p.eat(&TokenKind::Comma).is_none() {
                            break;
                        }
                    }
                    let close = p.expect(TokenKind::RBrace, "`}` closing the arguments")?;
                    Ok(AttrArg::Object(items, open.to(close)))
                })
            }
            _ => {
                let (literal, span) = self.literal()?;
                Ok(AttrArg::Value(literal, span))
            }
        }
    }

    fn literal(&mut self) -> PResult<(Literal, Span)> {
        let token = self.peek().clone();
        let literal = match token.kind {
            TokenKind::Str(s) => Literal::String(s),
            TokenKind::Int(i) => Literal::Int(i),
            TokenKind::Float(f) => Literal::Float(f),
            TokenKind::Ident(word) if word == "true" => Literal::Bool(true),
            TokenKind::Ident(word) if word == "false" => Literal::Bool(false),
            TokenKind::Ident(word) => Literal::Ident(word),
            _ => return Err(self.error_here("a value (a string, a number, true, false or a name)")),
        };
        self.bump();
        Ok((literal, token.span))
    }

    fn variants(&mut self) -> PResult<Vec<(Ident, Option<String>)>> {
        let mut variants = Vec::new();
        loop {
            let doc = self.docs();
            if self.peek().kind == TokenKind::RBrace {
                return Ok(variants);
            }
            variants.push((self.ident("an enum variant name")?, doc));
            self.eat(&TokenKind::Comma);
        }
    }

    fn properties(&mut self) -> PResult<Vec<Property>> {
        let mut properties = Vec::new();
        loop {
            // Docs on properties are allowed and ignored.
            self.docs();
            if self.peek().kind == TokenKind::RBrace {
                return Ok(properties);
            }
            let key = self.ident("a property name such as `path:`")?;
            self.expect(TokenKind::Colon, &format!("`:` after `{}`", key.name))?;
            let value = self.value()?;
            properties.push(Property {
                span: key.span.to(value.span()),
                key,
                value,
            });
            self.eat(&TokenKind::Comma);
        }
    }

    fn value(&mut self) -> PResult<Value> {
        let token = self.peek().clone();
        let value = match token.kind {
            TokenKind::Str(s) => Value::Str(s, token.span),
            TokenKind::Int(i) => Value::Int(i, token.span),
            TokenKind::Float(f) => Value::Float(f, token.span),
            TokenKind::Duration { value, unit } => Value::Duration {
                value,
                unit,
                span: token.span,
            },
            TokenKind::LBracket => {
                let open = self.bump().span;
                return self.nested(open, |p| {
                    let mut items = Vec::new();
                    while p.peek().kind != TokenKind::RBracket {
                        items.push(p.value()?);
                        if p.eat(&TokenKind::Comma).is_none() {
                            break;
                        }
                    }
                    let close = p.expect(TokenKind::RBracket, "`]` closing the list")?;
                    Ok(Value::List(items, open.to(close)))
                });
            }
            TokenKind::Ident(_) | TokenKind::LBrace => return Ok(Value::Type(self.type_expr()?)),
            _ => return Err(self.error_here("a value")),
        };
        self.bump();
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Decl>, Vec<Diagnostic>) {
        parse_file(FileId(0), text)
    }

    #[test]
    fn parses_both_field_syntaxes_and_suffixes() {
        let (decls, errors) = parse("model User { id Int @id @auto\n tags: String[]? \n nick String? }");
        assert!(errors.is_empty(), "{errors:?}");
        let Decl::Record(user) = &decls[0] else {
            panic!("not a record")
        };
        assert_eq!(user.fields.len(), 3);
        assert_eq!(user.fields[0].attributes.len(), 2);
        assert!(matches!(&user.fields[1].ty, TypeExpr::Optional(inner, _) if matches!(**inner, TypeExpr::Array(..))));
    }

    #[test]
    fn recovers_after_an_error() {
        let (decls, errors) = parse("model A { x: }\nmodel B { y Int }");
        assert_eq!(errors.len(), 1);
        assert_eq!(decls.len(), 1);
        assert_eq!(decls[0].name().name, "B");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("type T {{ a: {} Int {} }}", "{ a: ".repeat(10_000), "}".repeat(10_000));
        let (_, errors) = parse(&text);
        assert!(errors.iter().any(|e| e.code == Code::E0016));
    }

    #[test]
    fn attribute_arguments_keep_their_shape() {
        let (decls, errors) = parse(
            "model Post {\n  author User @relation(\"X\", fields: [userId], references: [id])\n  \
             tag Tag @relation({ name: \"T\", onDelete: Cascade })\n  @@index([a, b])\n  @@unique(fields: [c])\n}",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Decl::Record(post) = &decls[0] else {
            panic!("not a record")
        };
        assert_eq!(post.fields.len(), 2);
        let relation = &post.fields[0].attributes[0];
        assert!(matches!(&relation.args[0], AttrArg::Value(Literal::String(s), _) if s == "X"));
        assert!(
            matches!(&relation.args[1], AttrArg::Named(k, v) if k.name == "fields" && matches!(**v, AttrArg::List(ref items, _) if items.len() == 1))
        );
        let object = &post.fields[1].attributes[0].args[0];
        assert!(matches!(object, AttrArg::Object(items, _) if items.len() == 2));
        let names: Vec<&str> = post.attributes.iter().map(|a| a.name.name.as_str()).collect();
        assert_eq!(names, ["index", "unique"]);
        assert!(matches!(&post.attributes[1].args[0], AttrArg::Named(k, _) if k.name == "fields"));
    }

    #[test]
    fn model_attributes_are_not_field_attributes() {
        // `@@index` on the line after a field's attributes starts a new item.
        let (decls, errors) = parse("model A {\n  a Int @id\n  @@index([a])\n  b Int\n}");
        assert!(errors.is_empty(), "{errors:?}");
        let Decl::Record(a) = &decls[0] else {
            panic!("not a record")
        };
        assert_eq!(a.fields.len(), 2);
        assert_eq!(a.fields[0].attributes.len(), 1);
        assert_eq!(a.attributes.len(), 1);
    }

    #[test]
    fn misspelled_keyword_gets_a_suggestion() {
        let (_, errors) = parse("modle User { id Int }");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `model`?"));
    }
}
