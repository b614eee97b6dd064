//! The dataclasses and enums of generated modules: a class head with
//! annotated, documented attributes, its `from_wire`/`to_wire`, and the
//! inline classes its fields need (written after it, depth first).

use super::code::{py_str, Code};
use super::module::Module;
use super::types::{member_names, schema_members, wire_shape, Inline, Member, MemberType};
use rohas_schema::model::EnumDecl;
use std::collections::HashSet;

impl<'s> Module<'s> {
    /// Write a dataclass with `from_wire`/`to_wire`, then every inline class
    /// its fields need.
    pub fn write_record(&mut self, name: &str, doc: Option<&str>, members: Vec<Member<'_>>) {
        let mut pending = Vec::new();
        let wire = self.class_head(name, doc, &members, &mut pending);
        self.body.blank();
        self.wire_methods(name, &wire);
        self.body.dedent();
        self.write_inline(pending);
    }

    /// Inline classes queued while writing `owner`, and theirs, depth first.
    pub fn write_inline(&mut self, pending: Vec<Inline<'_>>) {
        let mut queue: Vec<Inline<'_>> = pending.into_iter().rev().collect();
        while let Some(inline) = queue.pop() {
            self.own.insert(inline.name.clone());
            self.exports.insert(inline.name.clone());
            let mut taken = HashSet::new();
            let members = schema_members(self.schema, &inline.name, inline.fields, &mut taken);
            let mut nested = Vec::new();
            self.body.gap();
            let wire = self.class_head(&inline.name, Some(&inline.doc), &members, &mut nested);
            self.body.blank();
            self.wire_methods(&inline.name, &wire);
            self.body.dedent();
            queue.extend(nested.into_iter().rev());
        }
    }

    /// `@dataclass class Name:` with docstring and annotated attributes. The
    /// body stays open (indented) for methods; returns what the wire methods need.
    pub fn class_head<'a>(
        &mut self,
        name: &str,
        doc: Option<&str>,
        members: &[Member<'a>],
        inline: &mut Vec<Inline<'a>>,
    ) -> Vec<WireField> {
        self.use_plain("dataclasses");
        self.own.insert(name.to_string());
        self.exports.insert(name.to_string());
        self.body.line("@dataclasses.dataclass(kw_only=True)");
        self.body.open(&format!("class {name}:"));
        let doc = doc
            .map(str::to_string)
            .unwrap_or_else(|| format!("`{name}` from the schema."));
        self.body.docstring(&doc);
        let mut wire = Vec::new();
        if !members.is_empty() {
            self.body.blank();
        }
        for member in members {
            let (annotation, default, from, to, skip_none, shape) = match &member.ty {
                MemberType::Schema {
                    ty,
                    optional,
                    default,
                    context,
                } => {
                    let field_doc = format!("The `{}` object of `{name}`.", member.wire);
                    let mut annotation = self.annotation(ty, context, inline, &field_doc);
                    if *optional {
                        annotation.push_str(" | None");
                    }
                    let value = default.and_then(|lit| self.default_value(ty, lit));
                    let key = py_str(&member.wire);
                    let src = format!("data[{key}]");
                    let conv = self.read_expr(ty, &src, context, 0);
                    let from = match (optional, &value) {
                        (false, None) => conv,
                        (false, Some(d)) => format!("{conv} if {key} in data else {}", d.expr),
                        (true, None) if conv == src => format!("data.get({key})"),
                        (true, None) => format!("None if data.get({key}) is None else {conv}"),
                        (true, Some(d)) if conv == src => {
                            format!("{src} if {key} in data else {}", d.expr)
                        }
                        (true, Some(d)) => {
                            format!("{} if {key} not in data else None if {src} is None else {conv}", d.expr)
                        }
                    };
                    let default = match (optional, value) {
                        (_, Some(d)) => Some(d.decl),
                        (true, None) => Some("None".to_string()),
                        (false, None) => None,
                    };
                    let to = self.wire_expr(ty, &format!("self.{}", member.attr), 0);
                    (annotation, default, from, to, *optional, wire_shape(ty))
                }
                MemberType::Raw {
                    annotation,
                    default,
                    from,
                    to,
                } => (
                    annotation.clone(),
                    default.clone(),
                    from.clone(),
                    to.clone(),
                    false,
                    None,
                ),
            };
            match default {
                Some(d) => self.body.line(&format!("{}: {annotation} = {d}", member.attr)),
                None => self.body.line(&format!("{}: {annotation}", member.attr)),
            }
            if let Some(doc) = &member.doc {
                self.body.docstring(doc);
            }
            wire.push(WireField {
                wire: member.wire.clone(),
                attr: member.attr.clone(),
                from,
                to,
                skip_none,
                shape,
            });
        }
        wire
    }

    /// `from_wire` and `to_wire` of a plain record.
    pub fn wire_methods(&mut self, name: &str, fields: &[WireField]) {
        self.use_std("typing", "Any");
        let code = &mut self.body;
        code.line("@classmethod");
        code.open(&format!("def from_wire(cls, data: dict[str, Any]) -> {name}:"));
        code.docstring(&format!(
            "The `{name}` that JSON `data` describes (the schema's field names)."
        ));
        if fields.is_empty() {
            code.line("return cls()");
        } else {
            code.open("return cls(");
            for f in fields {
                code.line(&format!("{}={},", f.attr, f.from));
            }
            code.close(")");
        }
        code.dedent();
        code.blank();
        code.open("def to_wire(self) -> dict[str, Any]:");
        code.docstring("The JSON form: the schema's field names; `None` optionals are left out.");
        let (always, optional): (Vec<&WireField>, Vec<&WireField>) = fields.iter().partition(|f| !f.skip_none);
        if optional.is_empty() {
            write_dict(code, "return ", &always);
        } else {
            write_dict(code, "data: dict[str, Any] = ", &always);
            for f in &optional {
                code.open(&format!("if self.{} is not None:", f.attr));
                code.line(&format!("data[{}] = {}", py_str(&f.wire), f.to));
                code.dedent();
            }
            code.line("return data");
        }
        code.dedent();
        let order: Vec<&WireField> = always.into_iter().chain(optional).collect();
        write_description(code, &order);
    }

    /// `class Role(str, Enum)` with the schema's names as values.
    pub fn write_enum(&mut self, decl: &EnumDecl) {
        self.use_std("enum", "Enum");
        self.own.insert(decl.name.clone());
        self.exports.insert(decl.name.clone());
        let code = &mut self.body;
        code.open(&format!("class {}(str, Enum):", decl.name));
        let doc = decl
            .doc
            .clone()
            .unwrap_or_else(|| format!("`enum {}` from the schema.", decl.name));
        code.docstring(&doc);
        if !decl.variants.is_empty() {
            code.blank();
        }
        for (variant, member) in decl.variants.iter().zip(member_names(decl)) {
            code.line(&format!("{member} = {}", py_str(&variant.name)));
            if let Some(doc) = &variant.doc {
                code.docstring(doc);
            }
        }
        code.dedent();
    }
}

/// What `from_wire`/`to_wire` need of one attribute.
pub struct WireField {
    pub wire: String,
    pub attr: String,
    /// Expression reading it from `data`.
    pub from: String,
    /// Expression turning `self.<attr>` (not None) into JSON.
    pub to: String,
    /// Left out of the JSON when None (optional schema fields).
    pub skip_none: bool,
    /// What `to` does, for the runtime (see [`wire_shape`]); `None` when
    /// only `to` can say.
    pub shape: Option<String>,
}

/// `__rohas_wire__ = (to_wire, ((attr, wire, drop_if_none, shape), …))`
/// after `to_wire`, in its key order: the runtime writes a record's JSON
/// from it without running `to_wire` (a Python call per object, which was
/// about half of a list reply's time). `to_wire` is in it so that the
/// runtime uses it only while the object's `to_wire` is this one, not a
/// subclass's or a patched one. Left out when a field has no shape (`Json`,
/// or a hand-written conversion) or two fields share a wire name.
fn write_description(code: &mut Code, fields: &[&WireField]) {
    let mut wires = HashSet::new();
    if !fields
        .iter()
        .all(|f| f.shape.is_some() && wires.insert(f.wire.as_str()))
    {
        return;
    }
    code.blank();
    code.line("# What the runtime writes as JSON instead of calling `to_wire`.");
    if fields.is_empty() {
        code.line("__rohas_wire__ = (to_wire, ())");
        return;
    }
    code.open("__rohas_wire__ = (");
    code.line("to_wire,");
    code.open("(");
    for f in fields {
        let drop = if f.skip_none { "True" } else { "False" };
        let shape = f.shape.as_deref().unwrap_or_default();
        code.line(&format!(
            "({}, {}, {drop}, {}),",
            py_str(&f.attr),
            py_str(&f.wire),
            py_str(shape)
        ));
    }
    code.close("),");
    code.close(")");
}

fn write_dict(code: &mut Code, prefix: &str, fields: &[&WireField]) {
    if fields.is_empty() {
        code.line(&format!("{prefix}{{}}"));
        return;
    }
    code.open(&format!("{prefix}{{"));
    for f in fields {
        code.line(&format!("{}: {},", py_str(&f.wire), f.to));
    }
    code.close("}");
}
