//! Evaluation metrics on tiny hand-made corpora with known answers,
//! label mapping, tuning, and the rule-change comparison.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;

mod common;

use petition_triage::eval::{self, LabelMap, Target};
use petition_triage::{Engine, Verdict};

const RULES: &str = r#"
[[rule]]
id = "C-1"
description = "强拆"
target = "城建拆迁"
kind = "keywords"
weight = 3
any = ["强拆"]

[[rule]]
id = "C-2"
description = "偷排"
target = "环境污染"
kind = "keywords"
weight = 3
any = ["偷排"]

[[rule]]
id = "C-3"
description = "从不命中"
target = "库区移民"
kind = "keywords"
weight = 3
any = ["不会出现的词语"]
"#;

fn engine(rules: &str) -> Engine {
    common::engine_with(rules)
}

fn corpus_file(lines: &[String]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f
}

fn line(id: &str, text: &str, class: &str, tier: &str) -> String {
    format!(
        r#"{{"id":"{id}","received":"2026-01-0{}","text":"{text}","gold":{{"primary":"{class}","warn":{},"tier":"{tier}"}}}}"#,
        id.len() % 2 + 1,
        tier != "无"
    )
}

#[test]
fn class_metrics_confusion_and_excluded_classes() {
    let e = engine(RULES);
    let f = corpus_file(&[
        line("a", "我家房子被强拆了", "城建拆迁", "蓝"),
        line("b", "化工厂偷排废水", "环境污染", "蓝"),
        line("c", "化工厂偷排废水", "城建拆迁", "无"),
        line("d", "请问居住证怎么办", "其他", "无"),
        line("e", "我家房子被强拆了", "其他", "无"),
    ]);
    let corpus = eval::read_corpus(f.path(), None).unwrap();
    assert_eq!(corpus.cases.len(), 5);
    let v = eval::predict(&e, &corpus);
    let r = eval::evaluate(&e, &corpus, &v, "t");
    let m = |c: &str| r.classes.iter().find(|x| x.class == c).unwrap();
    assert_eq!(
        (
            m("城建拆迁").support,
            m("城建拆迁").predicted,
            m("城建拆迁").correct
        ),
        (2, 2, 1)
    );
    assert_eq!((m("城建拆迁").precision, m("城建拆迁").recall), (0.5, 0.5));
    assert_eq!((m("环境污染").precision, m("环境污染").recall), (0.5, 1.0));
    assert_eq!((m("其他").precision, m("其他").recall), (1.0, 0.5));
    assert_eq!(
        r.excluded_classes,
        [
            "涉军群体",
            "企业改制",
            "库区移民",
            "历史遗留",
            "涉法涉诉",
            "城乡建设",
            "劳动社保",
            "国土资源",
            "医患纠纷",
            "民政优抚"
        ]
    );
    assert!((r.macro_precision - 2.0 / 3.0).abs() < 1e-9);
    assert!((r.macro_recall - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(r.micro_precision, 0.5);
    assert!((r.micro_recall - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(r.accuracy, 0.6);
    let idx = |c: &str| r.labels.iter().position(|l| l == c).unwrap();
    assert_eq!(r.confusion[idx("城建拆迁")][idx("环境污染")], 1);
    assert_eq!(r.confusion[idx("其他")][idx("城建拆迁")], 1);
    // Warnings at 蓝 and above: gold a, b; predicted a, b, c, e.
    let blue = r.tiers.iter().find(|t| t.tier == "蓝").unwrap();
    assert_eq!((blue.gold, blue.predicted, blue.correct), (2, 4, 2));
    assert_eq!((blue.precision, blue.recall), (0.5, 1.0));
    // Every error is listed with its line.
    let class_errors: Vec<(&str, u64)> = r
        .errors
        .iter()
        .filter(|x| x.kind == "class")
        .map(|x| (x.id.as_str(), x.line))
        .collect();
    assert_eq!(class_errors, [("c", 3), ("e", 5)]);
    assert_eq!(
        r.errors
            .iter()
            .filter(|x| x.kind == "false_warning")
            .count(),
        2
    );
    assert_eq!(r.never_fired, ["C-3"]);
    let c1 = r.rules.iter().find(|x| x.rule == "C-1").unwrap();
    assert_eq!((c1.hits, c1.right_class_share), (2, Some(0.5)));
    let md = eval::markdown(&r, 10);
    assert!(md.contains("不计入平均：涉军群体、企业改制、库区移民、历史遗留"));
    let svg = eval::sweep_svg(&r.sweep);
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
}

#[test]
fn empty_classes_give_zero_not_nan() {
    let e = engine(RULES);
    let f = corpus_file(&[line("a", "请问居住证怎么办", "其他", "无")]);
    let corpus = eval::read_corpus(f.path(), None).unwrap();
    let r = eval::evaluate(&e, &corpus, &eval::predict(&e, &corpus), "t");
    assert!(
        r.classes
            .iter()
            .all(|c| c.precision.is_finite() && c.f1.is_finite())
    );
    assert_eq!(r.micro_precision, 0.0);
    assert_eq!(r.macro_f1, 1.0);
}

#[test]
fn label_mapping_skips_and_reports_missing_counterparts() {
    let e = engine(RULES);
    let f = corpus_file(&[
        r#"{"id":"1","text":"化工厂偷排废水","label":"环境保护"}"#.into(),
        r#"{"id":"2","title":"停车","text":"小区停车难","label":"城乡建设"}"#.into(),
        r#"{"id":"3","text":"公交车太挤","label":"交通运输"}"#.into(),
        r#"{"id":"4","text":"学校收费","label":"未知标签"}"#.into(),
    ]);
    let map: LabelMap = toml::from_str(
        "field = \"label\"\nskip = [\"城乡建设\"]\n[map]\n\"环境保护\" = \"环境污染\"\n\"交通运输\" = \"其他\"\n",
    )
    .unwrap();
    let corpus = eval::read_corpus(f.path(), Some(&map)).unwrap();
    assert_eq!(corpus.cases.len(), 2);
    assert_eq!(corpus.skipped, 1);
    assert_eq!(corpus.rejected.len(), 1);
    assert_eq!(corpus.rejected[0].0, 4);
    assert!(corpus.rejected[0].1.contains("未知标签"));
    let r = eval::evaluate(&e, &corpus, &eval::predict(&e, &corpus), "t");
    assert!(r.excluded_classes.contains(&"城建拆迁".to_string()));
    assert!(!r.excluded_classes.contains(&"环境污染".to_string()));
    assert!(r.tiers.is_empty(), "no warning labels, no warning metrics");
    assert_eq!(r.accuracy, 1.0);
}

fn with_risks(corpus: &eval::Corpus, risks: &[u32]) -> Vec<Verdict> {
    corpus
        .cases
        .iter()
        .zip(risks)
        .map(|(c, &r)| {
            let mut v = Verdict::for_case(&c.case);
            v.risk = r;
            v
        })
        .collect()
}

#[test]
fn tuning_picks_the_threshold_for_precision_and_for_capacity() {
    let e = engine(RULES);
    let risks = [90, 80, 70, 60, 50, 40, 30, 20, 10, 0];
    let tiers = ["红", "红", "红", "橙", "橙", "黄", "黄", "蓝", "无", "无"];
    let lines: Vec<String> = risks
        .iter()
        .zip(tiers)
        .enumerate()
        .map(|(i, (_, t))| line(&"x".repeat(i + 1), "文本", "其他", t))
        .collect();
    let f = corpus_file(&lines);
    let corpus = eval::read_corpus(f.path(), None).unwrap();
    let v = with_risks(&corpus, &risks);
    let p = eval::tune(&e, &corpus, &v, Target::Precision(1.0));
    // 红 must leave out the 橙 case at 60: 61. 橙 and above: 41 (the 黄
    // case at 40 must stay out). 黄: 21 (20 is 蓝). 蓝: 11 (10 is 无).
    assert_eq!(p.tiers, [61, 41, 21, 11]);
    // Capacity scores the corpus again under each candidate (tier floors
    // and the crisis flag move with the thresholds), so the given risks
    // do not matter: here no case has any evidence, every candidate gives
    // 0 a night, and the lowest 橙 is proposed with the capacity unused.
    // tests/reliability.rs applies a proposal to a generated corpus.
    let p = eval::tune(&e, &corpus, &v, Target::Capacity(2.0));
    assert!(p.tiers[0] > p.tiers[1] && p.tiers[1] > p.tiers[2] && p.tiers[2] > p.tiers[3]);
    assert_eq!(p.tiers[1], 3);
    let toml_text = eval::proposal_toml(&p, "test");
    assert!(
        toml_text.contains("\"橙\" = 3") && toml_text.contains("用不完"),
        "{toml_text}"
    );
}

#[test]
fn rule_change_lists_every_changed_case_with_the_rule() {
    let before = engine(RULES);
    let after = engine(&RULES.replace("any = [\"偷排\"]", "any = [\"偷排\", \"冒黑烟\"]"));
    let f = corpus_file(&[
        line("a", "工厂天天冒黑烟", "环境污染", "蓝"),
        line("b", "化工厂偷排废水", "环境污染", "蓝"),
    ]);
    let corpus = eval::read_corpus(f.path(), None).unwrap();
    let (vb, va) = (
        eval::predict(&before, &corpus),
        eval::predict(&after, &corpus),
    );
    let changes = eval::changes(&corpus, &vb, &va);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].id, "a");
    assert_eq!(
        changes[0].class,
        ("其他".to_string(), "环境污染".to_string())
    );
    assert_eq!(changes[0].new_rules, ["C-2(3)"]);
    let (rb, ra) = (
        eval::evaluate(&before, &corpus, &vb, "t"),
        eval::evaluate(&after, &corpus, &va, "t"),
    );
    assert!(ra.macro_f1 > rb.macro_f1);
    let md = eval::compare_markdown(&rb, &ra, &changes);
    assert!(md.contains("其他 → 环境污染") && md.contains("C-2(3)"));
}
