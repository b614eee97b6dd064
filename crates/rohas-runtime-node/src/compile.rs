//! One TypeScript file → one ES module, with oxc: parse, read what the
//! runtime needs from the typed AST (exported functions' parameter types,
//! the generated schema types), strip the types, point relative imports at
//! the emitted `.js` files, print the JavaScript and its source map.
//!
//! Reading signatures here, before the types are stripped, is what lets the
//! worker pass each handler exactly the parameters it asks for
//! (docs/handlers.md, "Parameters").

use crate::types::{Shape, TypeTable};
use oxc_allocator::Allocator;
use oxc_ast::ast::{
    BindingPattern, Declaration, ExportDefaultDeclarationKind, Expression, FormalParameters, Function,
    ImportExpression, ModuleExportName, Statement, StringLiteral, TSSignature, TSType, TSTypeName, VariableDeclaration,
};
use oxc_ast_visit::{walk_mut, VisitMut};
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use oxc_transformer::{TransformOptions, Transformer};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One parameter of an exported function: its name (when it is a plain
/// identifier) and the last segment of its type annotation, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Param {
    pub name: Option<String>,
    pub type_name: Option<String>,
}

/// What compiling a file produced.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub js: String,
    pub map: Option<String>,
    pub exports: Exports,
    /// Interfaces and type aliases the file declares.
    pub types: TypeTable,
}

/// What a module exports.
#[derive(Debug, Clone, Default)]
pub struct Exports {
    /// Exported functions by exported name, with their parameters.
    pub functions: HashMap<String, Vec<Param>>,
    /// Every exported name (functions included).
    pub values: HashSet<String>,
}

/// A syntax error, already formatted as `file:line:col: message`.
#[derive(Debug, Clone)]
pub struct CompileError(pub String);

/// Compile `source` (the text of `file`, shown as `display` in errors) into
/// an ES module. `resolve` maps a relative import specifier to the one Node
/// must load (`./util` → `./util.js`). `map_source` is how the source map
/// names the original file, relative to the emitted one.
pub fn compile(
    source: &str,
    file: &Path,
    display: &str,
    map_source: Option<&Path>,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<Compiled, CompileError> {
    let allocator = Allocator::default();
    let source_type = SourceType::from_path(file).unwrap_or_else(|_| SourceType::ts());
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if parsed.panicked || !parsed.diagnostics.is_empty() {
        let messages: Vec<String> = parsed
            .diagnostics
            .iter()
            .map(|d| {
                let offset = d.labels.first().map_or(0, |l| l.offset());
                let (line, col) = line_col(source, offset);
                let text = source.lines().nth(line - 1).unwrap_or("").trim_end();
                format!("{display}:{line}:{col}: syntax error: {}\n    {text}", d.message)
            })
            .collect();
        return Err(CompileError(messages.join("\n")));
    }
    let mut program = parsed.program;
    let exports = exported_functions(&program.body);
    let types = declared_types(&program.body);

    let semantic = SemanticBuilder::new().with_enum_eval(true).build(&program);
    let scoping = semantic.semantic.into_scoping();
    let options = TransformOptions::from_target("node20").unwrap_or_default();
    let transformed = Transformer::new(&allocator, file, &options).build_with_scoping(scoping, &mut program);
    if let Some(d) = transformed
        .diagnostics
        .iter()
        .find(|d| d.severity == oxc_diagnostics::Severity::Error)
    {
        let offset = d.labels.first().map_or(0, |l| l.offset());
        let (line, col) = line_col(source, offset);
        return Err(CompileError(format!("{display}:{line}:{col}: {}", d.message)));
    }

    rewrite_specifiers(&allocator, &mut program.body, resolve);

    let printed = Codegen::new()
        .with_options(CodegenOptions {
            source_map_path: map_source.map(Path::to_path_buf),
            ..CodegenOptions::default()
        })
        .build(&program);
    Ok(Compiled {
        js: printed.code,
        map: printed.map.map(|m| m.to_json_string()),
        exports,
        types,
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(source: &str, offset: u32) -> (usize, usize) {
    let offset = (offset as usize).min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn params(list: &FormalParameters<'_>) -> Vec<Param> {
    list.items
        .iter()
        .filter(|p| p.initializer.is_none() && !p.optional)
        .map(|p| Param {
            name: match &p.pattern {
                BindingPattern::BindingIdentifier(id) => Some(id.name.to_string()),
                _ => None,
            },
            type_name: p.type_annotation.as_ref().and_then(|t| type_name(&t.type_annotation)),
        })
        .collect()
}

/// `State` from `State`, `gen.State`, `State | undefined`, `Readonly<State>` is not unwrapped.
fn type_name(ty: &TSType<'_>) -> Option<String> {
    match ty {
        TSType::TSTypeReference(r) => Some(last_segment(&r.type_name)),
        TSType::TSUnionType(u) => u.types.iter().find_map(type_name),
        TSType::TSParenthesizedType(p) => type_name(&p.type_annotation),
        _ => None,
    }
}

fn last_segment(name: &TSTypeName<'_>) -> String {
    match name {
        TSTypeName::IdentifierReference(id) => id.name.to_string(),
        TSTypeName::QualifiedName(q) => q.right.name.to_string(),
        TSTypeName::ThisExpression(_) => "this".into(),
    }
}

fn function_params(expr: &Expression<'_>) -> Option<Vec<Param>> {
    match expr {
        Expression::ArrowFunctionExpression(f) => Some(params(&f.params)),
        Expression::FunctionExpression(f) => Some(params(&f.params)),
        Expression::ParenthesizedExpression(p) => function_params(&p.expression),
        _ => None,
    }
}

fn add_function(f: &Function<'_>, into: &mut HashMap<String, Vec<Param>>) {
    if let Some(id) = &f.id {
        into.insert(id.name.to_string(), params(&f.params));
    }
}

fn add_variables(v: &VariableDeclaration<'_>, into: &mut HashMap<String, Vec<Param>>) {
    for d in &v.declarations {
        if let (BindingPattern::BindingIdentifier(id), Some(init)) = (&d.id, &d.init) {
            if let Some(p) = function_params(init) {
                into.insert(id.name.to_string(), p);
            }
        }
    }
}

/// Exported functions: `export function f`, `export const f = (…) => …`,
/// `export { f as g }` of a top-level function, `export default function`.
fn exported_functions(body: &[Statement<'_>]) -> Exports {
    let mut local: HashMap<String, Vec<Param>> = HashMap::new();
    let mut out = Exports::default();
    for statement in body {
        match statement {
            Statement::FunctionDeclaration(f) => add_function(f, &mut local),
            Statement::VariableDeclaration(v) => add_variables(v, &mut local),
            Statement::ExportDeclaration(e) => match &e.declaration {
                Declaration::FunctionDeclaration(f) => {
                    add_function(f, &mut out.functions);
                    if let Some(id) = &f.id {
                        out.values.insert(id.name.to_string());
                    }
                }
                Declaration::VariableDeclaration(v) => {
                    add_variables(v, &mut out.functions);
                    for d in &v.declarations {
                        if let BindingPattern::BindingIdentifier(id) = &d.id {
                            out.values.insert(id.name.to_string());
                        }
                    }
                }
                _ => {}
            },
            Statement::ExportDefaultDeclaration(e) => {
                out.values.insert("default".into());
                match &e.declaration {
                    ExportDefaultDeclarationKind::FunctionDeclaration(f) => {
                        out.functions.insert("default".into(), params(&f.params));
                    }
                    ExportDefaultDeclarationKind::ArrowFunctionExpression(f) => {
                        out.functions.insert("default".into(), params(&f.params));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for statement in body {
        if let Statement::ExportFromDeclaration(e) = statement {
            for s in &e.specifiers {
                out.values.insert(s.exported.name().to_string());
            }
        }
        if let Statement::ExportNamedDeclaration(e) = statement {
            for s in &e.specifiers {
                let exported = s.exported.name().to_string();
                out.values.insert(exported.clone());
                let ModuleExportName::IdentifierReference(l) = &s.local else {
                    continue;
                };
                if let Some(p) = local.get(l.name.as_str()) {
                    out.functions.insert(exported, p.clone());
                }
            }
        }
    }
    out
}

fn property_fields(members: &[TSSignature<'_>]) -> Vec<(String, Shape)> {
    members
        .iter()
        .filter_map(|s| match s {
            TSSignature::TSPropertySignature(p) => Some((
                p.key.static_name()?.to_string(),
                p.type_annotation
                    .as_ref()
                    .map_or(Shape::Other, |t| shape(&t.type_annotation)),
            )),
            _ => None,
        })
        .collect()
}

/// Interfaces and type aliases, exported or not.
fn declared_types(body: &[Statement<'_>]) -> TypeTable {
    let mut table = TypeTable::default();
    for statement in body {
        let decl = match statement {
            Statement::ExportDeclaration(e) => Some(&e.declaration),
            other => other.as_declaration(),
        };
        match decl {
            Some(Declaration::TSInterfaceDeclaration(i)) => {
                table.insert(i.id.name.to_string(), Shape::Object(property_fields(&i.body.body)));
            }
            Some(Declaration::TSTypeAliasDeclaration(a)) => {
                table.insert(a.id.name.to_string(), shape(&a.type_annotation));
            }
            _ => {}
        }
    }
    table
}

fn shape(ty: &TSType<'_>) -> Shape {
    match ty {
        TSType::TSTypeReference(r) => {
            let name = last_segment(&r.type_name);
            match name.as_str() {
                "Date" => Shape::Date,
                "Array" | "ReadonlyArray" => r
                    .type_arguments
                    .as_ref()
                    .and_then(|a| a.params.first())
                    .map_or(Shape::Other, |t| Shape::Array(Box::new(shape(t)))),
                _ => Shape::Ref(name),
            }
        }
        TSType::TSArrayType(a) => Shape::Array(Box::new(shape(&a.element_type))),
        TSType::TSParenthesizedType(p) => shape(&p.type_annotation),
        TSType::TSUnionType(u) => {
            let members: Vec<Shape> = u
                .types
                .iter()
                .filter(|t| !matches!(t, TSType::TSNullKeyword(_) | TSType::TSUndefinedKeyword(_)))
                .map(shape)
                .collect();
            if members.len() == 1 {
                members.into_iter().next().unwrap_or(Shape::Other)
            } else {
                Shape::Union(members)
            }
        }
        TSType::TSTypeLiteral(l) => Shape::Object(property_fields(&l.members)),
        TSType::TSVoidKeyword(_) => Shape::Void,
        _ => Shape::Other,
    }
}

/// Point relative import/export specifiers at what Node must load.
fn rewrite_specifiers<'a>(
    allocator: &'a Allocator,
    body: &mut oxc_allocator::Vec<'a, Statement<'a>>,
    resolve: &dyn Fn(&str) -> Option<String>,
) {
    for statement in body.iter_mut() {
        let source = match statement {
            Statement::ImportDeclaration(d) => Some(&mut d.source),
            Statement::ExportAllDeclaration(d) => Some(&mut d.source),
            Statement::ExportFromDeclaration(d) => Some(&mut d.source),
            _ => None,
        };
        if let Some(source) = source {
            rewrite(allocator, source, resolve);
        }
    }
    // `import("./util")` anywhere in the module, with a literal specifier.
    let mut dynamic = DynamicImports { allocator, resolve };
    for statement in body.iter_mut() {
        dynamic.visit_statement(statement);
    }
}

/// One relative specifier pointed at what Node must load.
fn rewrite<'a>(allocator: &'a Allocator, source: &mut StringLiteral<'a>, resolve: &dyn Fn(&str) -> Option<String>) {
    let current = source.value.as_str();
    if !(current.starts_with("./") || current.starts_with("../")) {
        return;
    }
    if let Some(new) = resolve(current) {
        source.value = oxc_str::Str::from(allocator.alloc_str(&new));
        source.raw = None;
    }
}

/// Rewrites the literal specifiers of `import(...)` expressions.
struct DynamicImports<'a, 'r> {
    allocator: &'a Allocator,
    resolve: &'r dyn Fn(&str) -> Option<String>,
}

impl<'a> VisitMut<'a> for DynamicImports<'a, '_> {
    fn visit_import_expression(&mut self, it: &mut ImportExpression<'a>) {
        if let Expression::StringLiteral(source) = &mut it.source {
            rewrite(self.allocator, source, self.resolve);
        }
        walk_mut::walk_import_expression(self, it);
    }
}

/// The specifier Node must load for relative `specifier` written in
/// `from_dir` (a folder under `src/`): the `.ts` file becomes `.js`, a folder
/// its `index.js`; anything that already exists is kept.
pub fn resolve_specifier(from_dir: &Path, specifier: &str) -> Option<String> {
    let target: PathBuf = from_dir.join(specifier);
    let has = |p: &Path| p.is_file();
    for ext in ["ts", "mts", "tsx"] {
        if specifier.ends_with(&format!(".{ext}")) {
            let stem = &specifier[..specifier.len() - ext.len() - 1];
            return Some(format!("{stem}.{}", if ext == "mts" { "mjs" } else { "js" }));
        }
    }
    if let Some(stem) = specifier.strip_suffix(".js") {
        // `import "./util.js"` for `util.ts`, as tsc's NodeNext style writes it.
        if !has(&target) && has(&from_dir.join(format!("{stem}.ts"))) {
            return None;
        }
    }
    if has(&target) {
        return None;
    }
    if has(&PathBuf::from(format!("{}.ts", target.display())))
        || has(&PathBuf::from(format!("{}.js", target.display())))
    {
        return Some(format!("{specifier}.js"));
    }
    if has(&PathBuf::from(format!("{}.mts", target.display())))
        || has(&PathBuf::from(format!("{}.mjs", target.display())))
    {
        return Some(format!("{specifier}.mjs"));
    }
    if has(&PathBuf::from(format!("{}.json", target.display()))) {
        return None;
    }
    if has(&target.join("index.ts")) || has(&target.join("index.js")) {
        return Some(format!("{}/index.js", specifier.trim_end_matches('/')));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"import { CreateUserInput, User } from "../../generated/api/CreateUser";
import { HttpError } from "../../generated/runtime";
import { State } from "../../generated/state";
import { helper } from "./util";

export async function later() {
  const { helper: again } = await import("./util");
  return again;
}

enum Color { Red, Green }

export async function handler(input: CreateUserInput, state: State): Promise<User> {
  if (!input.name) throw new HttpError(400, "name");
  return { id: Color.Green, name: helper(input.name), email: input.email, createdAt: new Date() };
}

export const other = (ctx: gen.HandlerContext) => ctx;
function hidden(a, b) {}
export { hidden as renamed };
"#;

    #[test]
    fn strips_types_rewrites_imports_and_reads_signatures() {
        let resolve = |s: &str| Some(format!("{s}.js"));
        let out = compile(
            SOURCE,
            Path::new("create_user.ts"),
            "src/create_user.ts",
            None,
            &resolve,
        )
        .unwrap();
        assert!(!out.js.contains("CreateUser\""), "type-only import kept:\n{}", out.js);
        assert!(
            !out.js.contains("generated/state"),
            "type-only import kept:\n{}",
            out.js
        );
        assert!(out.js.contains("\"../../generated/runtime.js\""), "{}", out.js);
        assert!(out.js.contains("\"./util.js\""), "{}", out.js);
        assert!(
            out.js.contains("import(\"./util.js\")"),
            "dynamic import kept its specifier:\n{}",
            out.js
        );
        assert!(out.js.contains("Color"), "{}", out.js);
        let params = &out.exports.functions["handler"];
        assert_eq!(params[0].type_name.as_deref(), Some("CreateUserInput"));
        assert_eq!(params[1].name.as_deref(), Some("state"));
        assert_eq!(
            out.exports.functions["other"][0].type_name.as_deref(),
            Some("HandlerContext")
        );
        assert_eq!(out.exports.functions["renamed"].len(), 2);
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let err = compile(
            "export function handler( {\n",
            Path::new("x.ts"),
            "src/x.ts",
            None,
            &|_| None,
        )
        .unwrap_err();
        assert!(err.0.starts_with("src/x.ts:"), "{}", err.0);
        let bad = compile(
            "const a = 1;\nconst = 2;\n",
            Path::new("x.ts"),
            "src/x.ts",
            None,
            &|_| None,
        )
        .unwrap_err();
        assert!(bad.0.starts_with("src/x.ts:2:"), "{}", bad.0);
    }
}
