//! Property tests over arbitrary and mutated bytes: the JSONL and CSV
//! readers in each encoding, the pipeline's evidence spans, the rule
//! loader and the normalised-view builder. The properties: no panic;
//! every record accounted for (N = M + K, each line at most once, in
//! order); every evidence span inside the original text.
//!
//! `cargo test --test fuzz` runs a short round (64 cases a property).
//! A longer run: `FUZZ_CASES=20000 cargo test --release --test fuzz`;
//! see tests/fuzz_seeds/README.md for the figures of the runs so far.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::text::normalize::{ALL, View};
use petition_triage::verdict::Field;
use petition_triage::{Engine, RuleSet, RuleSource};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap())
}

const JSONL_SEED: &[u8] = include_bytes!("fuzz_seeds/cases.jsonl");
const CSV_SEED: &[u8] = include_bytes!("fuzz_seeds/cases_gbk.csv");

/// Bytes that break readers: quotes, separators, line ends, invalid
/// UTF-8 and GB18030 lead bytes, a BOM piece, braces.
const NASTY: &[u8] = b"\"\",\t\r\n\xFF\xFE\x80\x81\xEF\xBB\xBF{}[]:\\";

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![any::<u8>(), proptest::sample::select(NASTY.to_vec())];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for e in edits {
        let at = |i: usize, v: &Vec<u8>| if v.is_empty() { 0 } else { i % (v.len() + 1) };
        match *e {
            Edit::Flip(i, b) if !v.is_empty() => {
                let i = i % v.len();
                v[i] = b;
            }
            Edit::Flip(..) => {}
            Edit::Insert(i, b) => {
                let i = at(i, &v);
                v.insert(i, b);
            }
            Edit::Delete(i, n) => {
                let i = at(i, &v);
                let end = (i + n).min(v.len());
                v.drain(i..end);
            }
            Edit::Duplicate(i, n) => {
                let i = at(i, &v);
                let end = (i + n).min(v.len());
                let piece = v[i..end].to_vec();
                v.splice(i..i, piece);
            }
        }
    }
    v
}

/// Input bytes: a seed (UTF-8 JSONL, GBK CSV, or the JSONL re-encoded
/// in GBK) with edits, or bytes from nothing.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let gbk_jsonl = {
        let (b, _, _) = encoding_rs::GBK.encode(std::str::from_utf8(JSONL_SEED).unwrap());
        b.into_owned()
    };
    let seeds = vec![JSONL_SEED.to_vec(), CSV_SEED.to_vec(), gbk_jsonl];
    prop_oneof![
        4 => (proptest::sample::select(seeds), proptest::collection::vec(edit(), 0..12))
            .prop_map(|(s, e)| mutate(&s, &e)),
        1 => proptest::collection::vec(
            prop_oneof![any::<u8>(), proptest::sample::select(NASTY.to_vec())],
            0..600
        ),
    ]
}

fn encoding() -> impl Strategy<Value = EncodingChoice> {
    proptest::sample::select(vec![
        EncodingChoice::Auto,
        EncodingChoice::Utf8,
        EncodingChoice::Gb18030,
    ])
}

/// Physical lines of `bytes` (a last line without `\n` counts).
fn physical_lines(bytes: &[u8]) -> u64 {
    let n = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    n + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

fn check_spans(v: &petition_triage::Verdict, title: Option<&str>, text: &str) {
    for e in &v.evidence {
        for m in &e.matches {
            let field = match m.field {
                Field::Title => title.unwrap_or_default(),
                Field::Text => text,
            };
            let len = field.chars().count();
            assert!(
                m.start <= m.end && m.end <= len,
                "span {}..{} outside a field of {len} characters ({})",
                m.start,
                m.end,
                e.rule
            );
        }
    }
}

/// The reader property: no panic, lines in order and inside the file,
/// spans inside their fields, and for JSONL one record per non-blank line.
fn reader_accounts_for_every_record(
    bytes: Vec<u8>,
    fmt: Format,
    enc: EncodingChoice,
) -> Result<(), TestCaseError> {
    let src: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(bytes.clone()));
    let Ok(reader) = CaseReader::from_reader(src, Path::new("fuzz"), fmt, enc) else {
        // A file refused whole (no header, a workbook, UTF-16) is fine.
        return Ok(());
    };
    let lines = physical_lines(&bytes);
    let mut last = 0;
    let (mut ok, mut refused) = (0u64, 0u64);
    for rec in reader {
        let rec = rec.unwrap();
        prop_assert!(rec.line > last, "line {} after {last}", rec.line);
        prop_assert!(rec.line <= lines, "line {} of {lines}", rec.line);
        last = rec.line;
        match rec.case {
            Ok(case) => {
                ok += 1;
                let v = engine().triage(&case);
                check_spans(&v, case.title.as_deref(), &case.text);
                prop_assert_eq!(
                    v.ledger.iter().map(|l| l.points).sum::<f64>().round() as i64 >= 0,
                    true
                );
            }
            Err(e) => {
                refused += 1;
                prop_assert!(!e.0.is_empty());
            }
        }
    }
    if fmt == Format::Jsonl {
        // N = M + K: one record per non-blank line.
        let body = if bytes.starts_with(b"\xEF\xBB\xBF") && enc != EncodingChoice::Gb18030 {
            &bytes[3..]
        } else {
            &bytes[..]
        };
        let nonblank = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count() as u64;
        prop_assert_eq!(ok + refused, nonblank);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn jsonl_reader_accounts_for_every_record(bytes in input(), enc in encoding()) {
        reader_accounts_for_every_record(bytes, Format::Jsonl, enc)?;
    }

    #[test]
    fn csv_reader_accounts_for_every_record(bytes in input(), tsv in any::<bool>(), enc in encoding()) {
        let fmt = if tsv { Format::Tsv } else { Format::Csv };
        reader_accounts_for_every_record(bytes, fmt, enc)?;
    }

}

proptest! {
    // Loading and compiling a rule set (with its examples) is slower than
    // reading a record: an eighth of the cases.
    #![proptest_config(ProptestConfig {
        cases: (cases() / 8).max(8),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn rule_loader_never_panics(edits in proptest::collection::vec(edit(), 0..16), pick in 0usize..64) {
        let source = RuleSource::builtin();
        let rule_files: Vec<&(String, String)> = source
            .files
            .iter()
            .filter(|(p, _)| p.ends_with(".toml") && p != "scoring.toml")
            .collect();
        let (path, text) = rule_files[pick % rule_files.len()];
        let mutated = String::from_utf8_lossy(&mutate(text.as_bytes(), &edits)).into_owned();
        let files: Vec<(String, String)> = source
            .files
            .iter()
            .map(|(p, t)| if p == path { (p.clone(), mutated.clone()) } else { (p.clone(), t.clone()) })
            .collect();
        let source = RuleSource { origin: "fuzz".into(), files };
        if let Ok(rules) = RuleSet::load(source) {
            let _ = Engine::new(rules);
        }
    }

    #[test]
    fn views_map_back_inside_the_original(s in "[\\PC 臺灣強拆遷補償ＡＢ１２，。！*_ -]{0,80}", cuts in proptest::collection::vec((0usize..400, 0usize..400), 0..8)) {
        let view = View::new(&s, ALL);
        let n = view.text.len();
        for (a, b) in cuts {
            if n == 0 {
                break;
            }
            let (mut a, mut b) = (a % n, b % (n + 1));
            while !view.text.is_char_boundary(a) { a -= 1; }
            while !view.text.is_char_boundary(b) { b -= 1; }
            if b <= a {
                continue;
            }
            let (os, oe) = view.original_span(a, b);
            prop_assert!(os <= oe && oe <= s.len(), "{a}..{b} → {os}..{oe} of {}", s.len());
            prop_assert!(s.is_char_boundary(os) && s.is_char_boundary(oe));
        }
    }
}
