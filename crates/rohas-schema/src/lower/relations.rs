//! `@relation(…)` on fields and `@@index([…])` / `@@unique([…])` on records.
//!
//! Upstream rohas projects describe their storage this way (in Prisma's
//! spelling). Rohas keeps no database, so these are metadata for the user's
//! own storage layer: nothing at run time depends on them, and accepting
//! them changes no behaviour. They are still checked, so a typo in a field
//! name is an error at its place rather than a surprise in whatever reads
//! them: the shape of the arguments while lowering a field, the field names
//! they mention once every record is lowered ([`check`]).

use super::{DeclKind, Names};
use crate::ast::{AttrArg, AttributeExpr, Ident};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::model::{Field, Index, Literal, NameRef, NamedKind, Relation, Schema, TypeRef};
use crate::naming::is_portable_identifier;
use crate::span::Span;
use crate::suggest::did_you_mean;

const RELATION_KEYS: &[&str] = &["name", "fields", "references", "onDelete", "onUpdate", "through"];
const ACTIONS: &[&str] = &["Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"];
const MODEL_ATTRIBUTES: &[&str] = &["index", "unique"];

fn invalid(at: Span, message: impl Into<String>, help: &str) -> Diagnostic {
    let message = message.into();
    Diagnostic::error(Code::E0017, message.clone())
        .with_primary(at, message)
        .with_help(help.to_string())
}

const RELATION_HELP: &str =
    "for example `@relation(name: \"UserPosts\", fields: [userId], references: [id], onDelete: Cascade)`";

/// The record a relation field points at: its type, or the item type of a
/// list, optional or not.
fn related_record(ty: &TypeRef) -> Option<&str> {
    match ty {
        TypeRef::Named {
            name,
            target: NamedKind::Record,
        } => Some(name),
        TypeRef::Array(inner) | TypeRef::Optional(inner) => related_record(inner),
        _ => None,
    }
}

/// `@relation(…)` → a [`Relation`], or `None` with the problem reported.
pub(super) fn lower_relation(
    attr: &AttributeExpr,
    ty: &TypeRef,
    names: &Names,
    diags: &mut Vec<Diagnostic>,
) -> Option<Relation> {
    if related_record(ty).is_none() {
        diags.push(invalid(
            attr.span,
            "`@relation` applies to fields whose type is a model (or a list of one)",
            "declare the field with the related model's type, e.g. `author User @relation(…)`",
        ));
        return None;
    }
    // `@relation("Name")`, `@relation(key: value, …)` and `@relation({ key: value, … })`.
    let mut pairs: Vec<(&Ident, &AttrArg)> = Vec::new();
    let mut relation = Relation {
        name: None,
        fields: Vec::new(),
        references: Vec::new(),
        on_delete: None,
        on_update: None,
        through: None,
        span: attr.span,
    };
    let mut ok = true;
    for (i, arg) in attr.args.iter().enumerate() {
        match arg {
            AttrArg::Value(Literal::String(name), _) if i == 0 => relation.name = Some(name.clone()),
            AttrArg::Named(key, value) => pairs.push((key, value)),
            AttrArg::Object(items, _) if attr.args.len() == 1 => {
                for item in items {
                    if let AttrArg::Named(key, value) = item {
                        pairs.push((key, value));
                    }
                }
            }
            other => {
                diags.push(invalid(
                    other.span(),
                    format!("`@relation` does not take {} here", other.describe()),
                    RELATION_HELP,
                ));
                ok = false;
            }
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in pairs {
        let k = key.name.as_str();
        if !RELATION_KEYS.contains(&k) {
            let help = match did_you_mean(k, RELATION_KEYS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("`@relation` takes {}", RELATION_KEYS.join(", ")),
            };
            diags.push(invalid(key.span, format!("`@relation` has no argument `{k}`"), &help));
            ok = false;
            continue;
        }
        if seen.contains(&k) {
            diags.push(invalid(key.span, format!("`{k}` is given twice"), "keep one of them"));
            ok = false;
            continue;
        }
        seen.push(k);
        match k {
            "name" => match value {
                AttrArg::Value(Literal::String(s), _) => relation.name = Some(s.clone()),
                other => {
                    diags.push(invalid(
                        other.span(),
                        format!("`name` must be a string, found {}", other.describe()),
                        "for example `name: \"UserPosts\"`",
                    ));
                    ok = false;
                }
            },
            "fields" | "references" => match name_list(k, value, diags) {
                Some(list) if k == "fields" => relation.fields = list,
                Some(list) => relation.references = list,
                None => ok = false,
            },
            "onDelete" | "onUpdate" => match value {
                AttrArg::Value(Literal::Ident(action), _) if ACTIONS.contains(&action.as_str()) => {
                    let action = Some(action.clone());
                    if k == "onDelete" {
                        relation.on_delete = action;
                    } else {
                        relation.on_update = action;
                    }
                }
                other => {
                    let help = match other {
                        AttrArg::Value(Literal::Ident(word) | Literal::String(word), _) => {
                            did_you_mean(word, ACTIONS.iter().copied()).map(|s| format!("did you mean `{s}`?"))
                        }
                        _ => None,
                    };
                    diags.push(invalid(
                        other.span(),
                        format!("`{k}` must be one of {}", ACTIONS.join(", ")),
                        &help.unwrap_or_else(|| format!("for example `{k}: Cascade`")),
                    ));
                    ok = false;
                }
            },
            _ => match value {
                // "through"
                AttrArg::Value(Literal::Ident(model), span) if names.kind(model) == Some(DeclKind::Record) => {
                    relation.through = Some(NameRef {
                        name: model.clone(),
                        span: *span,
                    });
                }
                other => {
                    diags.push(invalid(
                        other.span(),
                        "`through` must name a model (the join model of a many-to-many relation)",
                        "for example `through: PostTag`",
                    ));
                    ok = false;
                }
            },
        }
    }
    if ok && relation.fields.len() != relation.references.len() {
        diags.push(invalid(
            attr.span,
            format!(
                "`fields` lists {} field(s) but `references` lists {}",
                relation.fields.len(),
                relation.references.len()
            ),
            "each field in `fields` pairs with the field at the same place in `references`",
        ));
        ok = false;
    }
    ok.then_some(relation)
}

/// `[a, b]`: field names (a quoted name is read as the name).
fn name_list(key: &str, value: &AttrArg, diags: &mut Vec<Diagnostic>) -> Option<Vec<NameRef>> {
    let help = format!("for example `{key}: [userId]`");
    let AttrArg::List(items, span) = value else {
        diags.push(invalid(
            value.span(),
            format!("`{key}` must be a list of field names, found {}", value.describe()),
            &help,
        ));
        return None;
    };
    if items.is_empty() {
        diags.push(invalid(*span, format!("`{key}` lists no field"), &help));
        return None;
    }
    let mut out: Vec<NameRef> = Vec::new();
    for item in items {
        match item {
            AttrArg::Value(Literal::Ident(name) | Literal::String(name), at) if is_portable_identifier(name) => {
                if out.iter().any(|r| r.name == *name) {
                    diags.push(
                        Diagnostic::error(Code::E0010, format!("field `{name}` is listed twice in `{key}`"))
                            .with_primary(*at, "listed again here"),
                    );
                    return None;
                }
                out.push(NameRef {
                    name: name.clone(),
                    span: *at,
                });
            }
            other => {
                diags.push(invalid(
                    other.span(),
                    format!("`{key}` lists field names, found {}", other.describe()),
                    &help,
                ));
                return None;
            }
        }
    }
    Some(out)
}

/// `@@index([a, b])` or `@@unique([a, b])` → an [`Index`] (fields checked later).
pub(super) fn lower_index(attr: &AttributeExpr, diags: &mut Vec<Diagnostic>) -> Option<Index> {
    let name = attr.name.name.as_str();
    if !MODEL_ATTRIBUTES.contains(&name) {
        let help = match did_you_mean(name, MODEL_ATTRIBUTES.iter().copied()) {
            Some(s) => format!("did you mean `@@{s}`?"),
            None => "model attributes are @@index([fields…]) and @@unique([fields…])".to_string(),
        };
        diags.push(
            Diagnostic::error(Code::E0017, format!("unknown model attribute `@@{name}`"))
                .with_primary(attr.name.span, "unknown model attribute")
                .with_help(help),
        );
        return None;
    }
    let list = match attr.args.as_slice() {
        [list @ AttrArg::List(..)] => list,
        [AttrArg::Named(key, list)] if key.name == "fields" => list,
        _ => {
            diags.push(invalid(
                attr.span,
                format!("`@@{name}` takes one list of field names"),
                &format!("for example `@@{name}([email])` or `@@{name}([postId, tagId])`"),
            ));
            return None;
        }
    };
    Some(Index {
        fields: name_list("fields", list, diags)?,
        unique: name == "unique",
        span: attr.span,
    })
}

/// Every field a relation or index names exists: `fields` and index fields
/// in the declaring record, `references` in the related one.
pub(super) fn check(schema: &Schema, diags: &mut Vec<Diagnostic>) {
    for decl in &schema.types {
        for index in &decl.indexes {
            let what = if index.unique { "@@unique" } else { "@@index" };
            for r in &index.fields {
                known_field(r, &decl.name, &decl.fields, what, diags);
            }
        }
        check_fields(schema, &decl.name, &decl.fields, diags);
    }
}

fn check_fields(schema: &Schema, owner: &str, fields: &[Field], diags: &mut Vec<Diagnostic>) {
    for field in fields {
        if let TypeRef::Object(inner) = &field.ty {
            check_fields(schema, &format!("{owner}.{}", field.name), inner, diags);
        }
        let Some(relation) = &field.relation else { continue };
        for r in &relation.fields {
            known_field(r, owner, fields, "`fields`", diags);
        }
        let Some(target) = related_record(&field.ty).and_then(|t| schema.type_decl(t)) else {
            continue;
        };
        for r in &relation.references {
            known_field(r, &target.name, &target.fields, "`references`", diags);
        }
    }
}

fn known_field(r: &NameRef, owner: &str, fields: &[Field], what: &str, diags: &mut Vec<Diagnostic>) {
    if fields.iter().any(|f| f.name == r.name) {
        return;
    }
    let mut diag = Diagnostic::error(Code::E0017, format!("`{owner}` has no field `{}`", r.name))
        .with_primary(r.span, format!("{what} names a field of `{owner}` that does not exist"));
    diag = match did_you_mean(&r.name, fields.iter().map(|f| f.name.as_str())) {
        Some(s) => diag.with_help(format!("did you mean `{s}`?")),
        None => diag.with_help(format!("declare the field in `{owner}`, or remove it from the list")),
    };
    diags.push(diag);
}
