//! `cargo bench -p rohas-bench-schema`: parse and validate 1,000
//! declarations (goal: under 20 ms).

use criterion::{criterion_group, criterion_main, Criterion};
use rohas_bench_schema::generated_schema;
use rohas_schema::{check_sources, SourceMap};

fn parse_and_validate(c: &mut Criterion) {
    let files = generated_schema(1000, 20);
    // The benchmark must measure a valid schema, not an early error.
    let mut sources = SourceMap::new();
    for (path, text) in &files {
        sources.add(path, text.as_str());
    }
    let checked = check_sources(sources);
    assert!(checked.diagnostics.is_empty(), "{}", checked.render(false));

    c.bench_function("parse+validate 1000 declarations", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            for (path, text) in &files {
                sources.add(path, text.as_str());
            }
            check_sources(sources)
        })
    });
}

criterion_group!(benches, parse_and_validate);
criterion_main!(benches);
