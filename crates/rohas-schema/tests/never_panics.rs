//! The parser and validator return diagnostics, never panic, whatever they
//! are given: arbitrary bytes, and valid schemas with random edits. The
//! formatter neither: it refuses what does not parse, and whatever parses
//! it formats keeping the meaning (its own check) and idempotently.

use proptest::prelude::*;
use rohas_schema::{check_sources, format_source, FileId, FormatError, SourceMap};

const VALID: &[&str] = &[
    include_str!("fixtures/valid/model.ro"),
    include_str!("fixtures/valid/api.ro"),
    include_str!("fixtures/valid/event.ro"),
    include_str!("fixtures/valid/ws.ro"),
    include_str!("fixtures/valid/nested_inline.ro"),
];

fn check(text: String) {
    match format_source(FileId(0), &text) {
        Ok(once) => assert_eq!(
            format_source(FileId(0), &once).ok().as_ref(),
            Some(&once),
            "not idempotent on {text:?}"
        ),
        Err(FormatError::Syntax(_)) => {}
        Err(e) => panic!("{e} on {text:?}"),
    }
    let mut sources = SourceMap::new();
    sources.add("fuzz.ro", text);
    let checked = check_sources(sources);
    // Rendering walks every span: it must not panic either.
    let _ = checked.render(false);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in ".{0,400}") {
        check(text);
    }

    #[test]
    fn arbitrary_bytes_decoded_lossily(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn mutated_valid_schemas(
        which in 0..VALID.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..4u8, "[{}\\[\\]():,?@\"/a-zA-Z0-9 \n*]{0,3}"), 1..8),
    ) {
        let mut text: Vec<char> = VALID[which].chars().collect();
        for (at, op, insert) in edits {
            if text.is_empty() { break; }
            let i = at.index(text.len());
            match op {
                0 => { text.remove(i); }
                1 => { for (k, c) in insert.chars().enumerate() { text.insert(i + k, c); } }
                2 => { text.truncate(i); }
                _ => { let c = text[i]; text.insert(i, c); }
            }
        }
        check(text.into_iter().collect());
    }
}
