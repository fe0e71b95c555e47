//! What normalisation and cue reading (negation, hearsay, conditions)
//! cost: triage the same corpus with both on and both off, alternating
//! the two many times, and print the ratio of the median times.
//!
//! `cargo run --release --example overhead [CORPUS.jsonl] [ROUNDS]`
//! (default corpus: corpora/sample/cases.jsonl).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::matcher::EngineOptions;
use petition_triage::{Engine, RuleSet, RuleSource};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpora/sample/cases.jsonl")
    });
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(41);
    let cases: Vec<_> = CaseReader::open(&path, Format::Jsonl, EncodingChoice::Auto)
        .unwrap()
        .filter_map(|r| r.ok().and_then(|r| r.case.ok()))
        .collect();
    let bytes: usize = cases.iter().map(|c| c.text.len()).sum();
    let build = |options| {
        Engine::compile_with(RuleSet::load(RuleSource::builtin()).unwrap(), options).unwrap()
    };
    let full = build(EngineOptions::default());
    let plain = build(EngineOptions {
        normalize: false,
        modality: false,
        reference: false,
    });
    let time = |e: &Engine| {
        let t = Instant::now();
        let n: u32 = cases.iter().map(|c| e.triage(c).risk).sum();
        std::hint::black_box(n);
        t.elapsed().as_secs_f64()
    };
    let norm_only = build(EngineOptions {
        normalize: true,
        modality: false,
        reference: false,
    });
    let cues_only = build(EngineOptions {
        normalize: false,
        modality: true,
        reference: false,
    });
    let (mut a, mut b, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(time(&full));
        b.push(time(&plain));
        c.push(time(&norm_only));
        d.push(time(&cues_only));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ma, mb) = (median(&mut a), median(&mut b));
    let mb_s = |t: f64| bytes as f64 / t / 1e6;
    println!(
        "corpus: {} ({} cases, {:.1} MB of text), {rounds} alternating rounds",
        path.display(),
        cases.len(),
        bytes as f64 / 1e6
    );
    println!(
        "full pipeline:                       {:.2} ms  ({:.1} MB/s)",
        ma * 1e3,
        mb_s(ma)
    );
    println!(
        "without normalisation and negation:  {:.2} ms  ({:.1} MB/s)",
        mb * 1e3,
        mb_s(mb)
    );
    let (mc, md) = (median(&mut c), median(&mut d));
    println!(
        "normalisation only:                  {:.2} ms  ({:+.1} %)",
        mc * 1e3,
        (mc / mb - 1.0) * 100.0
    );
    println!(
        "negation/hearsay/conditions only:    {:.2} ms  ({:+.1} %)",
        md * 1e3,
        (md / mb - 1.0) * 100.0
    );
    println!(
        "overhead of normalisation + negation: {:+.1} %",
        (ma / mb - 1.0) * 100.0
    );
    let mut cc: Vec<f64> = (0..rounds).map(|_| cue_cost(&full, &cases)).collect();
    println!("cue search alone: {:.2} ms", median(&mut cc) * 1e3);
}

fn cue_cost(e: &Engine, cases: &[petition_triage::Case]) -> f64 {
    let t = Instant::now();
    let n: usize = cases.iter().map(|c| e.cues().find(&c.text).len()).sum();
    std::hint::black_box(n);
    t.elapsed().as_secs_f64()
}
