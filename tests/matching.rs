//! Table-style tests of each rule kind and of scoring, on small rule sets
//! written inline next to the default `scoring.toml` and dictionary.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::NaiveDate;
use petition_triage::input::case::Level;
mod common;

use common::engine_with;
use petition_triage::{Case, Engine, RuleSet, RuleSource, Tier};

/// Whether the rule set fires any rule on `text`.
macro_rules! case_matches {
    ($engine:expr, $text:expr) => {
        !$engine.match_text(None, $text).hits.is_empty()
    };
}

fn rule(kind_body: &str) -> String {
    format!(
        "[[rule]]\nid = \"T-1\"\ndescription = \"测试\"\ntarget = \"城建拆迁\"\nweight = 3\n{kind_body}\n"
    )
}

#[test]
fn keywords_any_of() {
    let e = engine_with(&rule("kind = \"keywords\"\nany = [\"强拆\", \"逼迁\"]"));
    assert!(case_matches!(e, "房子被强拆了"));
    assert!(case_matches!(e, "他们断水断电逼迁"));
    assert!(!case_matches!(e, "房子漏雨了"));
}

#[test]
fn keywords_all_of() {
    let e = engine_with(&rule("kind = \"keywords\"\nall = [\"补偿\", \"房屋\"]"));
    assert!(case_matches!(e, "房屋征收的补偿太低"));
    assert!(!case_matches!(e, "补偿太低"));
    let e = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"安置\"]\nall = [\"移民\"]",
    ));
    assert!(case_matches!(e, "移民安置没落实"));
    assert!(!case_matches!(e, "退役士兵安置没落实"));
}

#[test]
fn token_boundaries_versus_characters() {
    // jieba keeps 共产党 as one word, so 共产 does not stand on token boundaries there.
    let chars = engine_with(&rule("kind = \"keywords\"\nany = [\"共产\"]"));
    let tokens = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"共产\"]\nboundary = \"tokens\"",
    ));
    assert!(case_matches!(chars, "我是共产党员"));
    assert!(!case_matches!(tokens, "我是共产党员"));
    assert!(case_matches!(tokens, "财产被共产了"));
}

#[test]
fn regex_rules() {
    let e = engine_with(&rule("kind = \"regex\"\npattern = '每平方?[0-9]+元'"));
    assert!(case_matches!(e, "评估价每平1500元"));
    assert!(!case_matches!(e, "每平方很贵"));
}

#[test]
fn proximity_in_characters_within_a_clause() {
    let e = engine_with(&rule(
        "kind = \"proximity\"\nany = [\"拆\"]\nnear = [\"房\"]\nwithin = 3",
    ));
    assert!(case_matches!(e, "把房子拆了"));
    assert!(case_matches!(e, "拆了我的房"));
    assert!(!case_matches!(e, "拆了我们全家人住了很多年的房"));
    // Different clauses never count.
    assert!(!case_matches!(e, "快递拆了，房"));
}

#[test]
fn proximity_in_tokens() {
    let e = engine_with(&rule(
        "kind = \"proximity\"\nany = [\"移民\"]\nnear = [\"补助\"]\nwithin = 2\nunit = \"tokens\"",
    ));
    assert!(case_matches!(e, "移民的补助没发"));
    assert!(!case_matches!(e, "移民说今年县里给的那些补助没发"));
}

#[test]
fn exclusions_by_scope() {
    let overlap = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"拆\"]\nexclude = [\"拆快递\"]\nexclude_scope = \"overlap\"",
    ));
    assert!(!case_matches!(overlap, "在家拆快递"));
    assert!(case_matches!(overlap, "拆快递时看到房子被拆"));
    let clause = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"移民\"]\nexclude = [\"出国\"]",
    ));
    assert!(!case_matches!(clause, "想出国办移民"));
    assert!(case_matches!(clause, "儿子出国了。我们是水库移民"));
    let case = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"移民\"]\nexclude = [\"出国\"]\nexclude_scope = \"case\"",
    ));
    assert!(!case_matches!(case, "儿子出国了。我们是水库移民"));
}

#[test]
fn distinct_terms_are_capped_and_nested_matches_count_once() {
    let e = engine_with(&rule(
        "kind = \"keywords\"\nany = [\"北京上访\", \"去北京上访\", \"强拆\", \"逼迁\"]\nmax_terms = 2",
    ));
    let hits = e
        .match_text(None, "房子被强拆，还逼迁，我要去北京上访")
        .hits;
    assert_eq!(hits.len(), 1);
    // 北京上访 inside 去北京上访 is the same evidence: 3 distinct, capped at 2.
    assert_eq!(hits[0].distinct, 3);
    assert_eq!(hits[0].points, 6.0);
    assert_eq!(hits[0].spans.len(), 3);
}

fn case(text: &str, persons: Option<u32>, level: Option<Level>) -> Case {
    Case {
        id: "T".into(),
        received: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        channel: None,
        petitioner_ids: vec![],
        persons,
        target_level: level,
        location: None,
        title: None,
        text: text.into(),
        notes: Vec::new(),
        handling: Default::default(),
    }
}

const SCORING_RULES: &str = r#"
[[rule]]
id = "C-1"
description = "拆迁"
target = "城建拆迁"
kind = "keywords"
weight = 3
any = ["拆迁"]

[[rule]]
id = "C-2"
description = "污染"
target = "环境污染"
kind = "keywords"
weight = 2
any = ["污染"]

[[rule]]
id = "S-1"
description = "进京"
target = "越级"
kind = "keywords"
weight = 20
any = ["进京"]

[[rule]]
id = "S-2"
description = "联名"
target = "群体"
kind = "keywords"
weight = 25
any = ["联名"]

[[rule]]
id = "S-3"
description = "五十人以上"
target = "群体"
kind = "count"
weight = 22
at_least = 50
"#;

#[test]
fn scoring_classes_signals_fields_caps_combos_and_tiers() {
    let e = engine_with(SCORING_RULES);
    // No class evidence at or above min_score → 其他, no warning.
    let v = e.triage(&case("路灯坏了", None, None));
    assert_eq!(v.primary_class, "其他");
    assert_eq!((v.risk, v.tier), (0, Tier::None));

    // A weak class alone (2 < 3) is not assigned.
    let v = e.triage(&case("有点污染", None, None));
    assert_eq!(v.primary_class, "其他");
    assert_eq!(v.class_scores[0].score, 2.0);

    // Class risk 10 → 蓝.
    let v = e.triage(&case("拆迁问题", None, None));
    assert_eq!(v.primary_class, "城建拆迁");
    assert_eq!((v.risk, v.tier), (10, Tier::Blue));

    // 10 (class) + 20 (进京) + 15 (province level) capped at 25 (-10)
    // + 25 (联名) + 22 (S-3: persons ≥ 50) capped at 30 (-17) + 10 (combo) = 75 → 红.
    let v = e.triage(&case(
        "拆迁的事大家联名，准备进京",
        Some(60),
        Some(Level::Province),
    ));
    assert_eq!(v.risk, 75, "{:#?}", v.ledger);
    assert_eq!(v.tier, Tier::Red);
    let total: f64 = v.ledger.iter().map(|l| l.points).sum();
    assert_eq!(total.round() as u32, v.risk);
    // The persons field (60) is larger than any count in the text.
    assert!(
        v.ledger
            .iter()
            .any(|l| l.item == "S-3" && l.points == 22.0 && l.note.contains("登记人数 60"))
    );
    assert!(
        v.ledger
            .iter()
            .any(|l| l.item == "群体+越级" && l.points == 10.0)
    );
    assert_eq!(
        v.signals
            .iter()
            .map(|s| (s.signal.as_str(), s.points))
            .collect::<Vec<_>>(),
        [("群体", 30.0), ("越级", 25.0)]
    );
}

#[test]
fn secondary_classes_need_min_score_and_ratio() {
    let e = engine_with(
        r#"
[[rule]]
id = "C-1"
description = "拆迁"
target = "城建拆迁"
kind = "keywords"
weight = 3
max_terms = 3
any = ["拆迁", "强拆", "回迁"]

[[rule]]
id = "C-2"
description = "污染"
target = "环境污染"
kind = "keywords"
weight = 3
max_terms = 3
any = ["污染", "偷排"]
"#,
    );
    let v = e.triage(&case(
        "强拆、拆迁、回迁都有问题，工厂还偷排污染",
        None,
        None,
    ));
    assert_eq!(v.primary_class, "城建拆迁");
    assert_eq!(v.secondary_classes, ["环境污染"]);
    let v = e.triage(&case("强拆、拆迁、回迁都有问题，还有污染", None, None));
    // 3 is below half of 9: not secondary.
    assert!(v.secondary_classes.is_empty());
}

#[test]
fn evidence_offsets_are_characters_in_the_original_field() {
    let e = engine_with(SCORING_RULES);
    let mut c = case("我们要进京", None, None);
    c.title = Some("拆迁问题".into());
    let v = e.triage(&c);
    let title_hit = &v.evidence.iter().find(|e| e.rule == "C-1").unwrap().matches[0];
    assert_eq!(title_hit.field, petition_triage::verdict::Field::Title);
    assert_eq!((title_hit.start, title_hit.end), (0, 2));
    let text_hit = &v.evidence.iter().find(|e| e.rule == "S-1").unwrap().matches[0];
    assert_eq!(text_hit.field, petition_triage::verdict::Field::Text);
    assert_eq!(
        (text_hit.start, text_hit.end, text_hit.text.as_str()),
        (3, 5, "进京")
    );
}

/// The default rules on the sentences of the domain notes (§3.7).
#[test]
fn default_rules_on_reference_sentences() {
    let rules = RuleSet::load(RuleSource::builtin()).unwrap();
    let e = Engine::new(rules).unwrap();
    let t = |text: &str| e.triage(&case(text, None, None));
    let sig = |v: &petition_triage::Verdict, s: &str| v.signals.iter().any(|x| x.signal == s);

    let v =
        t("我们村三十多户的房子去年被强拆，补偿款到现在还没到位，大家准备下个月一起去北京上访。");
    assert_eq!(v.primary_class, "城建拆迁");
    assert!(sig(&v, "群体") && sig(&v, "越级") && sig(&v, "重复信访"));

    let v = t("厂子改制时让我们买断工龄，社保一直断缴，两百多名下岗职工联名反映。");
    assert_eq!(v.primary_class, "企业改制");
    assert!(sig(&v, "群体"));

    let v = t("参战老兵生活补助太低，战友们商量八一前去省里反映。");
    assert_eq!(v.primary_class, "涉军群体");
    assert!(sig(&v, "越级"));

    let v = t("移民后扶资金被村干部截留，每人每年600元一分没见到。");
    assert_eq!(v.primary_class, "库区移民");

    let v = t("化工厂晚上偷排废水，河里的鱼都死了，井水有异味，孩子喝了拉肚子。");
    assert_eq!(v.primary_class, "环境污染");
    assert!(!sig(&v, "群体") && !sig(&v, "越级"));

    let v = t("再不解决，我就去市政府门口浇汽油自焚。");
    assert!(sig(&v, "自伤风险"));
    assert!(!sig(&v, "越级"));
    assert!(v.crisis && v.tier == Tier::Red);
    assert!(v.route.starts_with("心理危机干预"), "{}", v.route);

    let v = t("几十年前的知青工龄到现在还没认定，我已经反映过三次了。");
    assert_eq!(v.primary_class, "历史遗留");
    assert!(sig(&v, "重复信访"));
    assert!(!sig(&v, "群体"), "几十年 is not a group size");

    let v = t("上百万元的工程款拖欠至今，包工头跑路，四十多个农民工过年回不了家。");
    assert!(sig(&v, "群体"));
    assert_eq!(v.primary_class, "劳动社保");
    assert!(v.sources.iter().any(|t| t.source == "劳资纠纷"));

    let v = t("法院判决生效两年了一直执行不了，对方有关系。");
    assert_eq!(v.primary_class, "涉法涉诉");
    assert!(v.sources.iter().any(|t| t.source == "执法不公"));
    assert!(sig(&v, "重复信访"));

    let v = t("移民后扶资金被村干部截留，每人每年600元一分没见到。");
    assert!(v.sources.iter().any(|t| t.source == "干部违纪"));
    assert!(v.route.contains("纪检监察"), "{}", v.route);

    let v = t("请问办理居住证需要哪些材料？");
    assert_eq!((v.primary_class.as_str(), v.tier), ("其他", Tier::None));
}
