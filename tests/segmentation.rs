//! Lazy segmentation (only the clauses where a `tokens` rule has a
//! candidate) and regexes run only where their required strings occur
//! give exactly the results of segmenting every clause and running every
//! regex over the whole text.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use petition_triage::input::{CaseReader, EncodingChoice, Format};
use petition_triage::matcher::EngineOptions;
use petition_triage::{Engine, RuleSet, RuleSource, corpus};

/// The default rules plus rules that need token boundaries.
fn rules() -> RuleSet {
    let mut source = RuleSource::builtin();
    source.files.push((
        "zz_tokens.toml".into(),
        r#"
[[rule]]
id = "TOK-001"
description = "拆迁类词，按分词边界"
target = "城建拆迁"
kind = "keywords"
weight = 1
boundary = "tokens"
any = ["拆迁", "补偿", "房子", "安置", "征收", "老兵", "工龄", "移民", "污染", "厂"]

[[rule]]
id = "TOK-002"
description = "移民与补助相隔不超过三个词"
target = "库区移民"
kind = "proximity"
weight = 1
unit = "tokens"
any = ["移民", "水库"]
near = ["补助", "扶持", "安置", "淹"]
within = 3

[[rule]]
id = "TOK-003"
description = "污染与工厂相隔不超过四个词"
target = "环境污染"
kind = "proximity"
weight = 1
unit = "tokens"
boundary = "tokens"
any = ["厂", "工地", "猪场"]
near = ["污染", "臭", "烟", "排"]
within = 4

[[rule]]
id = "TOK-004"
description = "人数后跟诉求动词（正则，限于分句内）"
target = "群体"
kind = "regex"
weight = 1
pattern = '(?:[0-9]+|[一二两三四五六七八九十百千几]+)(?:多|余)?(?:户|名|人)[^，。！？、；：\s]{0,6}(?:上访|到|去|来)'

[[rule]]
id = "TOK-005"
description = "补偿与金额（正则，可跨分句）"
target = "城建拆迁"
kind = "regex"
weight = 1
pattern = '(?:补偿|安置)[^。]{0,12}(?:元|万)'
"#
        .into(),
    ));
    source.files.sort();
    RuleSet::load(source).unwrap()
}

#[test]
fn lazy_and_reference_paths_give_identical_results() {
    let lazy = Engine::compile(rules()).unwrap();
    let full = Engine::compile_with(
        rules(),
        EngineOptions {
            reference: true,
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let mut buf = Vec::new();
    corpus::write_labeled(&mut buf, 11, 3000).unwrap();
    std::fs::write(&path, buf).unwrap();
    let cases: Vec<_> = CaseReader::open(&path, Format::Jsonl, EncodingChoice::Auto)
        .unwrap()
        .map(|r| r.unwrap().case.unwrap())
        .collect();
    assert_eq!(cases.len(), 3000);
    let mut token_hits = 0;
    let mut regex_hits = 0;
    for c in &cases {
        let a = lazy.triage(c);
        let b = full.triage(c);
        assert_eq!(a, b, "case {}", c.id);
        token_hits += a
            .evidence
            .iter()
            .filter(|e| e.rule.starts_with("TOK-"))
            .count();
        regex_hits += a
            .evidence
            .iter()
            .filter(|e| ["TOK-004", "TOK-005", "REP-002", "CJ-005"].contains(&e.rule.as_str()))
            .count();
    }
    // The token rules do fire, so the comparison means something.
    assert!(token_hits > 1000, "only {token_hits} token-rule hits");
    assert!(regex_hits > 300, "only {regex_hits} regex-rule hits");
}
