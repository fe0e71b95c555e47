//! Reading Chinese the way petitioners write it: traditional characters,
//! evasion spellings, head counts, negation scope, hearsay and threats,
//! and keywords that do not fit the segmenter. Each on realistic letters.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chrono::NaiveDate;
use petition_triage::text::modality::Modality;
use petition_triage::{Case, Engine, RuleSet, RuleSource, Verdict};

fn default_engine() -> Engine {
    Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap()
}

fn case(text: &str) -> Case {
    Case {
        id: "L".into(),
        received: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        channel: None,
        petitioner_ids: vec![],
        persons: None,
        target_level: None,
        location: None,
        title: None,
        text: text.into(),
        notes: Vec::new(),
        handling: Default::default(),
    }
}

fn signal(v: &Verdict, name: &str) -> f64 {
    v.signals
        .iter()
        .find(|s| s.signal == name)
        .map_or(0.0, |s| s.points)
}

/// The same letters in simplified and traditional characters get the same
/// classes, signals and scores.
#[test]
fn traditional_letters_are_classified_like_their_simplified_twins() {
    let e = default_engine();
    let pairs = [
        (
            "我们村三十多户的房子去年被强拆，补偿款到现在还没到位，大家准备下个月一起去北京上访。",
            "我們村三十多戶的房子去年被強拆，補償款到現在還沒到位，大家準備下個月一起去北京上訪。",
        ),
        (
            "厂子改制时让我们买断工龄，社保一直断缴，两百多名下岗职工联名反映。",
            "廠子改制時讓我們買斷工齡，社保一直斷繳，兩百多名下崗職工聯名反映。",
        ),
        (
            "我是参战老兵，退伍回乡后生活补助太低，战友们商量去省里反映。",
            "我是參戰老兵，退伍回鄉後生活補助太低，戰友們商量去省裡反映。",
        ),
        (
            "水库蓄水以后我们的田被淹了，移民后扶资金每人每年600元一分没见到。",
            "水庫蓄水以後我們的田被淹了，移民後扶資金每人每年600元一分沒見到。",
        ),
        (
            "化工厂晚上偷排废水，河里的鱼都死了，井水有异味。",
            "化工廠晚上偷排廢水，河裡的魚都死了，井水有異味。",
        ),
        (
            "我是1975年下乡的老知青，知青工龄一直没有认定，已经反映过三次了。",
            "我是1975年下鄉的老知青，知青工齡一直沒有認定，已經反映過三次了。",
        ),
    ];
    for (simp, trad) in pairs {
        let a = e.triage(&case(simp));
        let b = e.triage(&case(trad));
        assert_ne!(a.primary_class, "其他", "{simp}");
        assert_eq!(a.primary_class, b.primary_class, "{trad}");
        assert_eq!(a.risk, b.risk, "{trad}");
        assert_eq!(a.signals, b.signals, "{trad}");
        // Spans point into the traditional original and say why they matched.
        let tr_spans: Vec<_> = b.evidence.iter().flat_map(|e| &e.matches).collect();
        for s in &tr_spans {
            let chars: String = trad.chars().skip(s.start).take(s.end - s.start).collect();
            assert_eq!(chars, s.text, "{trad}");
        }
        assert!(
            tr_spans
                .iter()
                .any(|s| s.normalization.contains(&"traditional")),
            "{trad}: no span records the traditional→simplified step"
        );
    }
}

/// Evasion spellings are found, and their spans cover the original text.
#[test]
fn evasion_spellings_are_found_with_spans_on_the_original() {
    let e = default_engine();
    for (text, want, class) in [
        ("他们半夜来强*拆我家，东西都埋在里面", "强*拆", "城建拆迁"),
        ("拆 迁 办的人说补偿款要等明年", "拆 迁 办", "城建拆迁"),
        (
            "厂里逼我们买-断-工-龄，每年只给几百块",
            "买-断-工-龄",
            "企业改制",
        ),
        ("旁边的工厂天天偷·排废水，河水发臭", "偷·排", "环境污染"),
        (
            "我家的房子被ＱＱ群里说的拆迁公司强强强拆了",
            "强强强拆",
            "城建拆迁",
        ),
    ] {
        let v = e.triage(&case(text));
        assert_eq!(v.primary_class, class, "{text}");
        let spans: Vec<_> = v.evidence.iter().flat_map(|e| &e.matches).collect();
        let hit = spans
            .iter()
            .find(|s| s.text == want)
            .unwrap_or_else(|| panic!("{text}: no span {want:?} in {spans:#?}"));
        let chars: String = text
            .chars()
            .skip(hit.start)
            .take(hit.end - hit.start)
            .collect();
        assert_eq!(chars, want);
        assert!(!hit.normalization.is_empty(), "{text}");
    }
}

/// Head counts are read as numbers, with the larger of text and field.
#[test]
fn group_rules_work_by_number() {
    let e = default_engine();
    let grp = |v: &Verdict| {
        v.evidence
            .iter()
            .find(|x| ["GRP-001", "GRP-002", "GRP-003"].contains(&x.rule.as_str()))
            .map(|x| x.rule.clone())
    };
    let v = e.triage(&case("联名信（23人签名）反映村里的问题。"));
    assert_eq!(grp(&v).as_deref(), Some("GRP-001"));
    let v = e.triage(&case("近百户村民的承包地被占了。"));
    assert_eq!(grp(&v).as_deref(), Some("GRP-002"));
    let v = e.triage(&case("两百多户业主到现在还没拿到房产证。"));
    assert_eq!(grp(&v).as_deref(), Some("GRP-003"));
    let v = e.triage(&case("几十年前的事了，上百万元的款项至今没有结清。"));
    assert_eq!(grp(&v), None);
    // The record says 60, the text says 三十多: the larger credible one wins.
    let mut c = case("我们三十多个人一起来的。");
    c.persons = Some(60);
    let v = e.triage(&c);
    let ev = v.evidence.iter().find(|x| x.rule == "GRP-002").unwrap();
    assert!(ev.note.as_deref().unwrap().contains("登记人数 60"));
    c.persons = Some(3);
    let v = e.triage(&c);
    let ev = v.evidence.iter().find(|x| x.rule == "GRP-001").unwrap();
    assert_eq!(ev.matches[0].text, "三十多个人");
    assert!(ev.note.as_deref().unwrap().contains("大于登记人数 3"));
}

/// A negation counts inside its clause only: negated and plain mentions
/// in the same letter.
#[test]
fn negation_scope_is_the_clause() {
    let e = default_engine();
    let v = e.triage(&case(
        "我不是来反映拆迁的事，是想问孩子户口迁移要办什么手续。",
    ));
    assert_eq!(v.primary_class, "其他");
    assert!(
        v.negated
            .iter()
            .any(|n| n.span.text == "拆迁" && n.cue == "不是")
    );

    let v = e.triage(&case(
        "我今天不是来反映拆迁的事。但是去年我家房子被强拆，拆迁补偿不到位，到现在没人管。",
    ));
    assert_eq!(v.primary_class, "城建拆迁");
    let counted: Vec<&str> = v
        .evidence
        .iter()
        .flat_map(|e| &e.matches)
        .map(|s| s.text.as_str())
        .collect();
    assert!(
        counted.contains(&"强拆") && counted.contains(&"拆迁补偿"),
        "{counted:?}"
    );
    assert!(
        v.negated.iter().any(|n| n.span.start < 10),
        "the first mention is negated"
    );

    // Signals: 不会去北京 is negated, 进京上访 in the next sentence is not.
    let v = e.triage(&case("我们不会去北京，也不想闹事。"));
    assert_eq!(signal(&v, "越级"), 0.0);
    assert_eq!(signal(&v, "过激行为"), 0.0);
    let v = e.triage(&case(
        "我们本来不想去北京。可是县里一直推，大家决定进京上访。",
    ));
    assert_eq!(signal(&v, "越级"), 20.0);
    // A negation after the hit does not cancel it.
    let v = e.triage(&case("拆迁补偿不到位，安置房也没有着落。"));
    assert_eq!(v.primary_class, "城建拆迁");
    // A scope breaker ends the negation: 没有补偿就被强拆了 is a complaint.
    let v = e.triage(&case("没有任何补偿就被强拆了。"));
    assert_eq!(v.primary_class, "城建拆迁");
}

/// Hearsay is kept apart from fact; a threat conditional on inaction
/// still counts and is labelled as a threat.
#[test]
fn hearsay_and_conditional_threats() {
    let e = default_engine();
    let fact = e.triage(&case("我们下个月要去北京上访。"));
    let hearsay = e.triage(&case("听说有人下个月要去北京上访。"));
    // 去北京上访 is read by the keyword rule (20) and by the travel-verb
    // rule (15): 35, capped at 25. Hearsay counts a quarter: 8.75.
    assert_eq!(signal(&fact, "越级"), 25.0);
    assert_eq!(signal(&hearsay, "越级"), 8.75);
    let m = &hearsay
        .evidence
        .iter()
        .find(|x| x.target == "越级")
        .unwrap()
        .matches[0];
    assert_eq!(m.modality, Modality::Hearsay);

    let v = e.triage(&case("如果月底前再不解决，我就去市政府门口浇汽油自焚。"));
    let ev = v.evidence.iter().find(|x| x.target == "自伤风险").unwrap();
    assert_eq!(ev.matches[0].modality, Modality::Conditional);
    assert_eq!(signal(&v, "自伤风险"), 45.0); // two rules, capped at 45
    assert!(v.crisis, "a conditional self-harm threat is a crisis");
    let explained = petition_triage::explain::explain_case(
        &e,
        &case("如果月底前再不解决，我就去市政府门口浇汽油自焚。"),
        &v,
    );
    assert!(explained.contains("威胁（以不解决为条件）"), "{explained}");
}

/// `check` warns about a tokens-mode keyword the segmenter splits, and
/// suggests the user-dictionary line; adding it removes the warning.
#[test]
fn segmenter_fit_warning_suggests_a_dictionary_entry() {
    let rule = "[[rule]]\nid = \"T-1\"\ndescription = \"测试\"\ntarget = \"城建拆迁\"\nkind = \"keywords\"\nweight = 3\nboundary = \"tokens\"\nany = [\"拆迁\", \"补偿款没到位\"]\n";
    let build = |extra_dict: &str| {
        let dict = RuleSource::builtin()
            .files
            .into_iter()
            .find(|(p, _)| p.ends_with(".dict"))
            .map(|(_, t)| t + extra_dict)
            .unwrap();
        let source = common::source_with("r", &[("t.toml", rule), ("dict/user.dict", &dict)]);
        Engine::compile(RuleSet::load(source).unwrap()).unwrap()
    };
    let e = build("");
    let w = e.segmenter_fit();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].code, "W003");
    assert_eq!(w[0].location(), "r/t.toml:8:14");
    let hint = w[0].hint.clone().unwrap();
    assert!(
        hint.contains("dict/user.dict 加一行：补偿款没到位 "),
        "{hint}"
    );
    let line = hint
        .split("加一行：")
        .nth(1)
        .unwrap()
        .split('；')
        .next()
        .unwrap()
        .to_string();
    let fixed = build(&format!("{line}\n"));
    assert!(fixed.segmenter_fit().is_empty());
    assert_eq!(fixed.segmenter().words("补偿款没到位"), ["补偿款没到位"]);
    // Kept whole, it still matches in context.
    assert!(!fixed.match_text(None, "拆迁补偿款没到位").hits.is_empty());
}

/// `check --corpus` warns about a chars-mode keyword that mostly matches
/// inside longer words, and names those words.
#[test]
fn keywords_found_inside_other_words_are_reported() {
    let rule = "[[rule]]\nid = \"T-2\"\ndescription = \"测试\"\ntarget = \"城建拆迁\"\nkind = \"keywords\"\nweight = 3\nany = [\"共产\", \"强拆\"]\n";
    let e = Engine::compile(RuleSet::load(common::source_with("r", &[("t.toml", rule)])).unwrap())
        .unwrap();
    let cases: Vec<Case> = [
        "我是共产党员，请组织上关心。",
        "村里的共产党员带头捐款。",
        "他们说共产党会为我们做主。",
        "房子被强拆了。",
        "昨晚又来强拆。",
        "强拆的时候没有出示任何文件。",
    ]
    .iter()
    .map(|t| case(t))
    .collect();
    let w = e.boundary_report(&cases);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].code, "W004");
    assert!(
        w[0].message.contains("“共产”") && w[0].message.contains("共产党"),
        "{}",
        w[0].message
    );
    assert_eq!(w[0].location(), "r/t.toml:7:8");
    assert!(
        w[0].hint
            .as_deref()
            .unwrap()
            .contains("boundary = \"tokens\"")
    );
}
