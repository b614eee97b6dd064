//! The fuzz target's function (`fuzz_one`, run by libFuzzer in `fuzz/`) on
//! every fixture and every input the fuzzer once crashed on
//! (`fixtures/fuzz/`), so each test run checks what a fuzz run would start
//! from and no old crash comes back.

use std::path::Path;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures folder") {
        let path = entry.expect("fixture entry").path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_and_past_crash_goes_through_fuzz_one() {
    let mut all = Vec::new();
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), &mut all);
    all.retain(|p| p.extension().is_some_and(|e| e == "ro") || p.parent().is_some_and(|d| d.ends_with("fuzz")));
    assert!(all.len() > 30, "fixtures not found: {all:?}");
    for path in all {
        let bytes = std::fs::read(&path).expect("read fixture");
        let outcome = std::panic::catch_unwind(|| rohas_schema::fuzz_one(&bytes));
        assert!(outcome.is_ok(), "fuzz_one panicked on {}", path.display());
    }
}
