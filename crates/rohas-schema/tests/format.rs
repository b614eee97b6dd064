//! `rohas fmt`'s promises, checked on every `.ro` file of the repository:
//! formatting is idempotent, keeps the lowered model and every diagnostic,
//! keeps comments, and refuses a file with a syntax error. A messy fixture
//! shows the layout as a snapshot.

use rohas_schema::{check_sources, format_source, FileId, FormatError, SourceMap};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.ro` file under the repository, outside build output,
/// dependencies and what the fuzzer writes (`fuzz/corpus`, copies of these
/// files and inputs it made up), sorted.
fn repository_schemas() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let fuzzed = name == "corpus" || name == "artifacts";
                if !name.starts_with('.') && name != "target" && name != "node_modules" && !fuzzed {
                    walk(&path, out);
                }
            } else if name.ends_with(".ro") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repository_root(), &mut out);
    out.sort();
    assert!(
        out.len() > 50,
        "expected the repository's fixtures, found {}",
        out.len()
    );
    out
}

fn format(text: &str) -> Result<String, FormatError> {
    format_source(FileId(0), text)
}

#[test]
fn formatting_twice_changes_nothing_on_every_schema_in_the_repository() {
    let mut formatted = 0;
    for path in repository_schemas() {
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else {
            continue; // the not-UTF-8 fixture; `rohas fmt` reports it unread
        };
        match format(&text) {
            Ok(once) => {
                let twice = format(&once).unwrap_or_else(|e| panic!("{}: formatted text fails: {e}", path.display()));
                assert_eq!(once, twice, "{}: not idempotent", path.display());
                formatted += 1;
            }
            Err(FormatError::Syntax(_)) => {
                let name = path.file_name().unwrap().to_string_lossy();
                assert!(
                    name.starts_with("E0001") || name.starts_with("E0016"),
                    "{}",
                    path.display()
                );
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    assert!(formatted > 50, "only {formatted} files formatted");
}

/// The schema folder a file belongs to (so cross-file references resolve),
/// or the file alone.
fn schema_unit(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "schema"))
        .map_or_else(|| path.to_path_buf(), Path::to_path_buf)
}

/// The model and diagnostics as text, spans left out (formatting moves them).
fn meaning(sources: SourceMap) -> String {
    let checked = check_sources(sources);
    let diagnostics: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| format!("{:?} {} {} {:?}", d.severity, d.code, d.message, d.help))
        .collect();
    let model = checked.schema.map(|s| {
        without_spans(&format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            s.types, s.enums, s.apis, s.events, s.crons, s.websockets
        ))
    });
    format!("{diagnostics:#?}\n{model:?}")
}

fn without_spans(debug: &str) -> String {
    let mut out = String::new();
    let mut rest = debug;
    while let Some(at) = rest.find("Span { file: ") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        let close = after.find(" }").expect("a Span's Debug ends with ` }`");
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[test]
fn formatted_schemas_lower_to_the_same_model_and_diagnostics() {
    let mut units: BTreeMap<PathBuf, Vec<(PathBuf, String)>> = BTreeMap::new();
    for path in repository_schemas() {
        if let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) {
            units.entry(schema_unit(&path)).or_default().push((path, text));
        }
    }
    let mut models = 0;
    for (unit, files) in units {
        let mut original = SourceMap::new();
        let mut formatted = SourceMap::new();
        for (path, text) in &files {
            original.add(path, text.as_str());
            formatted.add(path, format(text).unwrap_or_else(|_| text.clone()));
        }
        let before = meaning(original);
        models += usize::from(!before.ends_with("None"));
        assert_eq!(before, meaning(formatted), "{}", unit.display());
    }
    assert!(models > 20, "only {models} schemas had a model to compare");
}

const MESSY: &str = include_str!("fixtures/format/messy.ro");

#[test]
fn a_messy_schema_gets_the_house_layout() {
    let formatted = format(MESSY).expect("the fixture parses");
    insta::assert_snapshot!("messy", formatted);
    assert_eq!(format(&formatted).unwrap(), formatted);
}

#[test]
fn every_comment_survives() {
    let formatted = format(MESSY).unwrap();
    for comment in [
        "// A schema written in a hurry",
        "// the key",
        "/* why */",
        "// request DTO: the colon is allowed",
        "/* A block comment\n   over several lines. */",
        "/// Read only.",
        "// first",
        "// nothing yet",
    ] {
        assert!(formatted.contains(comment), "lost {comment:?}:\n{formatted}");
    }
}

#[test]
fn a_syntax_error_is_refused_with_its_diagnostic() {
    let Err(FormatError::Syntax(diagnostics)) = format("model User {\n  id Int\n  name: \n}\n") else {
        panic!("a broken file must not be formatted")
    };
    assert_eq!(diagnostics[0].code, "E0001");
}

#[test]
fn small_cases() {
    let cases = [
        ("", ""),
        ("// only a comment", "// only a comment\n"),
        ("model A {}", "model A {}\n"),
        ("enum E { A, B }", "enum E {\n  A\n  B\n}\n"),
        (
            "model A { x Int }\r\nmodel B { y Int }",
            "model A {\n  x Int\n}\n\nmodel B {\n  y Int\n}\n",
        ),
        (
            "api A { method: GET path: \"/a\" }",
            "api A {\n  method: GET\n  path: \"/a\"\n}\n",
        ),
        (
            "type T { a: { b: Int, c: String? }[] }",
            "type T {\n  a: { b: Int, c: String? }[]\n}\n",
        ),
        (
            "type T { a String ?[ ] @max( 3 ) }",
            "type T {\n  a String?[] @max(3)\n}\n",
        ),
        ("///doc\nmodel A { x Int }", "/// doc\nmodel A {\n  x Int\n}\n"),
    ];
    for (input, expected) in cases {
        assert_eq!(format(input).unwrap(), expected, "input: {input:?}");
    }
}

/// Upstream rohas constructs (docs/schema.md, "Coming from upstream
/// rohas"): each gets the house layout, keeps its meaning (the formatter
/// checks the result parses to the same tokens) and formats idempotently.
mod upstream {
    use super::format;

    fn formats(input: &str, expected: &str) {
        let once = format(input).unwrap_or_else(|e| panic!("{e}:\n{input}"));
        assert_eq!(once, expected, "input: {input:?}");
        assert_eq!(format(&once).unwrap(), once, "not idempotent: {once:?}");
    }

    #[test]
    fn model_attributes_get_lines_of_their_own() {
        formats(
            "model T { a Int\n b Int @@index( [ a , b ] )\n@@unique([a]) }",
            "model T {\n  a Int\n  b Int\n  @@index([a, b])\n  @@unique([a])\n}\n",
        );
        formats(
            "model T { a Int @id @@unique([a]) }",
            "model T {\n  a Int @id\n  @@unique([a])\n}\n",
        );
    }

    #[test]
    fn named_arguments_are_spaced_like_a_call() {
        formats(
            "model P { author User @relation( fields : [a] , references:[id] ) }",
            "model P {\n  author User @relation(fields: [a], references: [id])\n}\n",
        );
    }

    #[test]
    fn a_one_line_argument_object_keeps_its_commas() {
        formats(
            "model P { author User @relation({fields: [a], references: [id]}) }",
            "model P {\n  author User @relation({ fields: [a], references: [id] })\n}\n",
        );
    }

    /// The parser needs commas between an argument object's items, where a
    /// declaration body needs none: dropping them broke the upstream files.
    #[test]
    fn a_multi_line_argument_object_keeps_its_commas() {
        formats(
            "model P {\n  author User? @relation({\n      fields: [a], // mine\n    references: [id],\n  })\n  a Int\n}\n",
            "model P {\n  author User? @relation({\n    fields: [a], // mine\n    references: [id],\n  })\n  a      Int\n}\n",
        );
        formats(
            "model P { a Int @x([{\nb: 1,\nc: [2, 3] }]) }",
            "model P {\n  a Int @x([{\n    b: 1,\n    c: [2, 3]\n  }])\n}\n",
        );
    }

    #[test]
    fn multi_line_arguments_keep_one_per_line() {
        formats(
            "model P {\n  author User @relation(\n\"Authored\",\n  fields: [a],\n references: [id]\n  )\n}",
            "model P {\n  author User @relation(\n    \"Authored\",\n    fields: [a],\n    references: [id]\n  )\n}\n",
        );
    }

    #[test]
    fn braced_paths_and_quoted_names_are_kept_as_written() {
        formats(
            "api A { method: GET path: \"/orders/{id}\" middlewares: [ \"auth\" , \"log\" ] }",
            "api A {\n  method: GET\n  path: \"/orders/{id}\"\n  middlewares: [\"auth\", \"log\"]\n}\n",
        );
    }

    #[test]
    fn a_seven_field_cron_with_one_handler() {
        formats(
            "cron C { schedule: \"0 0 12 1 1 * 2027\" handler: run }",
            "cron C {\n  schedule: \"0 0 12 1 1 * 2027\"\n  handler: run\n}\n",
        );
    }

    #[test]
    fn an_event_with_a_broker_type() {
        formats(
            "event E { payload: Json handler: [h] type: sqs }",
            "event E {\n  payload: Json\n  handler: [h]\n  type: sqs\n}\n",
        );
    }

    #[test]
    fn the_upstream_fixture_gets_the_house_layout() {
        let formatted = format(include_str!("fixtures/valid/upstream_style.ro")).expect("the fixture parses");
        insta::assert_snapshot!("upstream_style", formatted);
        assert_eq!(format(&formatted).unwrap(), formatted);
    }
}

mod relaid {
    //! The fixtures with their tokens laid out anew (random line breaks,
    //! blank lines and comments between any two tokens): whatever the layout,
    //! formatting keeps the meaning (checked by the formatter itself) and is
    //! idempotent.

    use super::format;
    use proptest::prelude::*;
    use rohas_schema::lexer::{lex, TokenKind};
    use rohas_schema::FileId;

    const VALID: &[&str] = &[
        include_str!("fixtures/valid/model.ro"),
        include_str!("fixtures/valid/api.ro"),
        include_str!("fixtures/valid/enum.ro"),
        include_str!("fixtures/valid/nested_inline.ro"),
        include_str!("fixtures/format/messy.ro"),
        include_str!("fixtures/valid/upstream_style.ro"),
    ];
    const GAPS: &[&str] = &[
        " ",
        "  ",
        "\n",
        "\n\n\n",
        "\t",
        " // note\n",
        " /* note */ ",
        "\n/* a\n b */\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn any_layout_formats_idempotently(which in 0..VALID.len(), gaps in proptest::collection::vec(0..GAPS.len(), 400)) {
            let source = VALID[which];
            let mut text = String::new();
            let mut after_doc = false;
            for (i, token) in lex(FileId(0), source).iter().enumerate() {
                if token.kind == TokenKind::Eof {
                    break;
                }
                if after_doc {
                    text.push('\n'); // a `///` comment runs to the end of its line
                }
                after_doc = matches!(token.kind, TokenKind::Doc(_));
                text.push_str(GAPS[gaps[i % gaps.len()]]);
                text.push_str(&source[token.span.range()]);
            }
            let once = format(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
            prop_assert_eq!(format(&once).unwrap(), once);
        }
    }
}

/// What users copy (the examples and the `rohas init` templates) is in the
/// layout `rohas fmt` gives, so a new project passes `rohas fmt --check`.
#[test]
fn examples_and_templates_are_formatted() {
    let root = repository_root().canonicalize().unwrap();
    let shown: Vec<PathBuf> = repository_schemas()
        .into_iter()
        .filter(|p| {
            let rel = p.canonicalize().unwrap();
            let rel = rel.strip_prefix(&root).unwrap();
            rel.starts_with("examples") || rel.starts_with("crates/rohas-codegen/templates")
        })
        .collect();
    assert!(shown.len() >= 18, "{shown:?}");
    for path in shown {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            format(&text).unwrap(),
            text,
            "{} is not formatted: run `rohas fmt`",
            path.display()
        );
    }
}
