//! Benchmarks on the bundled sample corpus, stage by stage: rule loading,
//! segmentation (jieba alone, the baseline), matching, scoring, triage
//! with the output encoders, and the whole `triage run` pipeline with the
//! list files written.
//!
//! Run: `cargo bench --bench pipeline`. The ratios of the speed targets,
//! measured in one run on a larger corpus, come from
//! `cargo run --release --example ratios` (see README).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::matcher::{Document, EngineOptions};
use petition_triage::run::batch::{self, BatchOptions};
use petition_triage::verdict::Verdict;
use petition_triage::{Case, Engine, RuleSet, RuleSource, sink};

fn sample_cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/sample/cases.jsonl");
    let reader = match CaseReader::open(&path, Format::Jsonl, EncodingChoice::Auto) {
        Ok(r) => r,
        Err(e) => panic!("cannot open {}: {e}", path.display()),
    };
    reader
        .filter_map(|r| r.ok().and_then(|r| r.case.ok()))
        .collect()
}

fn build_engine() -> Engine {
    let rules = match RuleSet::load(RuleSource::builtin()) {
        Ok(r) => r,
        Err(d) => panic!("default rules invalid: {d:?}"),
    };
    match Engine::new(rules) {
        Ok(e) => e,
        Err(d) => panic!("default rules fail their examples: {d:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let cases = sample_cases();
    assert!(cases.len() >= 100, "sample corpus too small");
    let bytes: usize = cases.iter().map(|c| c.text.len()).sum();
    let engine = build_engine();

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("load+compile default rules", |b| b.iter(build_engine));
    g.finish();

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("triage sample (1 thread)", |b| {
        b.iter(|| cases.iter().map(|c| engine.triage(c)).collect::<Vec<_>>())
    });
    g.bench_function("triage + jsonl + csv (1 thread)", |b| {
        b.iter(|| {
            let v: Vec<_> = cases.iter().map(|c| engine.triage(c)).collect();
            let j = sink::jsonl(&v).map(|b| b.len()).unwrap_or(0);
            let c = sink::csv(&v).map(|b| b.len()).unwrap_or(0);
            j + c
        })
    });
    let plain = Engine::compile_with(
        RuleSet::load(RuleSource::builtin()).unwrap(),
        EngineOptions {
            normalize: false,
            modality: false,
            reference: false,
        },
    )
    .unwrap();
    g.bench_function(
        "triage sample, no normalisation or negation (1 thread)",
        |b| b.iter(|| cases.iter().map(|c| plain.triage(c)).collect::<Vec<_>>()),
    );
    g.bench_function("matching only (1 thread)", |b| {
        b.iter(|| {
            cases
                .iter()
                .map(|c| {
                    let doc = Document::new(c.title.as_deref(), &c.text);
                    engine.match_document(&doc, c.persons).hits.len()
                })
                .sum::<usize>()
        })
    });
    let matched: Vec<_> = cases
        .iter()
        .map(|c| {
            let doc = Document::new(c.title.as_deref(), &c.text);
            engine.match_document(&doc, c.persons)
        })
        .collect();
    let rules = engine.rules();
    g.bench_function("scoring only (1 thread)", |b| {
        b.iter(|| {
            cases
                .iter()
                .zip(&matched)
                .map(|(c, m)| {
                    let mut v = Verdict::for_case(c);
                    petition_triage::score::score(&rules.scoring, &rules.rules, &m.hits, &mut v);
                    v.risk
                })
                .sum::<u32>()
        })
    });
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/sample/cases.jsonl");
    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("triage run: read, triage, write the list (1 thread)", |b| {
        b.iter(|| {
            let out = tempfile::tempdir().unwrap();
            single.install(|| {
                batch::run(
                    &engine,
                    std::slice::from_ref(&input),
                    &BatchOptions::default(),
                    out.path(),
                    |_| {},
                )
                .unwrap()
                .counts
                .triaged
            })
        })
    });
    g.bench_function("jieba cut only (baseline)", |b| {
        b.iter(|| {
            cases
                .iter()
                .map(|c| engine.segmenter().tokens(&c.text).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
