//! One input through everything the crate promises never panics on, for the
//! libFuzzer target in `fuzz/` and for the tests that replay its corpus, so
//! both check the same thing.

use crate::{check_sources, format_source, FileId, FormatError, SourceMap};

/// Checks one arbitrary input: decoded lossily as UTF-8, it is parsed,
/// validated and rendered; when it parses, the formatter must keep its
/// meaning and its output must format to itself.
///
/// # Panics
///
/// When one of those promises breaks: that panic is what the fuzzer reports.
pub fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match format_source(FileId(0), &text) {
        Ok(once) => match format_source(FileId(0), &once) {
            Ok(twice) => assert_eq!(twice, once, "formatting is not idempotent"),
            Err(e) => panic!("the formatter's output does not format again: {e}\n{once}"),
        },
        Err(FormatError::Syntax(_)) => {}
        Err(e @ FormatError::NotPreserved(_)) => panic!("{e}"),
    }
    let mut sources = SourceMap::new();
    sources.add("fuzz.ro", text.into_owned());
    let checked = check_sources(sources);
    // Rendering walks every span of every diagnostic: it must not panic either.
    let _ = checked.render(false);
}
