//! Where the time of a `triage run` goes, stage by stage, on one thread:
//! reading and parsing records, matching, scoring and building verdicts,
//! encoding list rows, and writing the list.
//!
//! `cargo run --release --example stages CORPUS.jsonl [ROUNDS]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use petition_triage::input::{CaseReader, EncodingChoice, Format, Pending};
use petition_triage::matcher::Document;
use petition_triage::sink::list::{Block, ListBuilder};
use petition_triage::{Engine, RuleSet, RuleSource};

/// The fastest of the rounds: on a shared machine, the least disturbed.
fn best(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::MAX, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("CORPUS.jsonl"));
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let engine = Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap();
    let mut t_read = Vec::new();
    let mut t_parse = Vec::new();
    let mut t_match = Vec::new();
    let mut t_triage = Vec::new();
    let mut t_encode = Vec::new();
    let mut t_list = Vec::new();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut reader = CaseReader::open(&path, Format::Jsonl, EncodingChoice::Auto).unwrap();
        let mut pending: Vec<Pending> = Vec::new();
        while let Some(p) = reader.next_pending() {
            pending.push(p.unwrap());
        }
        t_read.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let cases: Vec<_> = pending
            .into_iter()
            .map(Pending::parse)
            .filter_map(|r| r.case.ok().map(|c| (r.line, c)))
            .collect();
        t_parse.push(t.elapsed().as_secs_f64());
        bytes = cases.iter().map(|(_, c)| c.text.len()).sum();
        let t = Instant::now();
        let n: usize = cases
            .iter()
            .map(|(_, c)| {
                let doc = Document::new(c.title.as_deref(), &c.text);
                engine.match_document(&doc, c.persons).hits.len()
            })
            .sum();
        std::hint::black_box(n);
        t_match.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let verdicts: Vec<_> = cases.iter().map(|(_, c)| engine.triage(c)).collect();
        t_triage.push(t.elapsed().as_secs_f64());
        let classes: Vec<String> = engine
            .rules()
            .scoring
            .classes
            .iter()
            .map(|c| c.name.clone())
            .chain([engine.rules().scoring.other.clone()])
            .collect();
        let t = Instant::now();
        let blocks: Vec<Block> = verdicts
            .chunks(64)
            .zip(cases.chunks(64))
            .map(|(vs, cs)| {
                let mut b = Block::new();
                for (v, (line, _)) in vs.iter().zip(cs) {
                    b.add(v, *line, &classes).unwrap();
                }
                b
            })
            .collect();
        t_encode.push(t.elapsed().as_secs_f64());
        let out = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let mut list = ListBuilder::new(out.path(), classes).unwrap();
        for b in blocks {
            list.push(b, 0).unwrap();
        }
        list.finish(out.path(), &[path.display().to_string()], 20)
            .unwrap();
        t_list.push(t.elapsed().as_secs_f64());
    }
    let mb = bytes as f64 / 1e6;
    let show = |name: &str, v: Vec<f64>| {
        let s = best(v);
        println!("{name:<28} {:8.1} ms  {:8.1} MB/s of text", s * 1e3, mb / s);
    };
    println!("{mb:.1} MB of text");
    show("read lines", t_read);
    show("parse records", t_parse);
    show("match (no verdicts)", t_match);
    show("triage (match+verdict)", t_triage);
    show("encode rows", t_encode);
    show("list push+finish", t_list);
}
