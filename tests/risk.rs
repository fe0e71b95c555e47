//! Risk language as people and staff write it: the self-harm, threat,
//! clash and planned-action rule families on labeled phrases in four
//! registers (letters, web messages, visit summaries, call notes), the
//! crisis flag and the tier floors, and the calibration targets on the
//! tuning part of the development set.
//!
//! `tests/data/risk_phrases.jsonl` was written by someone who had not read
//! the rules: 200 short texts in eight families (action + object,
//! euphemism, conditional intent, events that happened, planned collective
//! action, imminence, negation and hearsay, staff register), each family
//! with positives and confounders, each labeled with what a careful reader
//! sees (self-harm, threat, escalation, group action, crisis).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use petition_triage::case::Case;
use petition_triage::verdict::{Tier, Verdict};
use petition_triage::{Engine, RuleSet, RuleSource};

fn default_engine() -> Engine {
    Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap()
}

fn case(text: &str) -> Case {
    Case {
        id: "t".into(),
        received: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
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

/// Signals stated by the petitioner (some evidence that is not hearsay).
fn own_signal(v: &Verdict, names: &[&str]) -> bool {
    v.evidence.iter().any(|e| {
        names.contains(&e.target.as_str())
            && v.signals.iter().any(|s| s.signal == e.target)
            && (e.matches.is_empty()
                || e.matches
                    .iter()
                    .any(|m| m.modality != petition_triage::modality::Modality::Hearsay))
    })
}

struct Phrase {
    id: String,
    family: String,
    register: String,
    text: String,
    expect: serde_json::Value,
}

fn phrases() -> Vec<Phrase> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/risk_phrases.jsonl"),
    )
    .unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Phrase {
                id: v["id"].as_str().unwrap().into(),
                family: v["family"].as_str().unwrap().into(),
                register: v["register"].as_str().unwrap().into(),
                text: v["text"].as_str().unwrap().into(),
                expect: v["expect"].clone(),
            }
        })
        .collect()
}

#[derive(Default, Debug)]
struct Confusion {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Confusion {
    fn add(&mut self, gold: bool, got: bool) {
        match (gold, got) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            _ => {}
        }
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
}

/// Every family and every register is covered, with positives and
/// confounders; the flags reach recall and precision floors over the
/// whole set, and a confounder is never a crisis.
#[test]
fn rule_families_on_phrases_in_four_registers() {
    let e = default_engine();
    let all = phrases();
    assert_eq!(all.len(), 200);
    let mut families: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut registers: std::collections::BTreeSet<&str> = Default::default();
    let flags: [(&str, &[&str]); 4] = [
        ("self_harm", &["自伤风险"]),
        ("threat", &["威胁他人"]),
        ("escalation", &["过激行为", "冲突伤人"]),
        ("group_action", &["群体"]),
    ];
    let mut by_flag: Vec<Confusion> = (0..5).map(|_| Confusion::default()).collect();
    let mut crisis_on_calm = Vec::new();
    for p in &all {
        let v = e.triage(&case(&p.text));
        let any_gold = flags.iter().any(|(k, _)| p.expect[k].as_bool().unwrap());
        let f = families.entry(p.family.as_str()).or_default();
        if any_gold {
            f.0 += 1;
        } else {
            f.1 += 1;
        }
        registers.insert(p.register.as_str());
        for (i, (k, names)) in flags.iter().enumerate() {
            by_flag[i].add(p.expect[k].as_bool().unwrap(), own_signal(&v, names));
        }
        let crisis = p.expect["crisis"].as_bool().unwrap();
        by_flag[4].add(crisis, v.crisis);
        if v.crisis {
            assert_eq!(v.tier, Tier::Red, "{}: a crisis is always 红", p.id);
        }
        if !any_gold && v.crisis {
            crisis_on_calm.push(format!("{} {}", p.id, p.text));
        }
    }
    assert_eq!(families.len(), 8, "{families:?}");
    for (name, (pos, neg)) in &families {
        assert!(*pos > 0 && *neg > 0, "{name}: positives and confounders");
    }
    assert_eq!(registers.len(), 4, "{registers:?}");
    assert!(crisis_on_calm.is_empty(), "{crisis_on_calm:#?}");
    // Floors a little below what the rules reach today (see the closing
    // figures in corpora/dev/README.md): a change that loses a family shows here.
    let floors = [
        ("self_harm", 0.80, 0.90),
        ("threat", 0.80, 0.85),
        ("escalation", 0.70, 0.80),
        ("group_action", 0.60, 0.80),
        ("crisis", 0.78, 0.90),
    ];
    for (i, (name, recall, precision)) in floors.iter().enumerate() {
        let c = &by_flag[i];
        assert!(
            c.recall() >= *recall && c.precision() >= *precision,
            "{name}: recall {:.2} precision {:.2} ({c:?})",
            c.recall(),
            c.precision()
        );
    }
}

/// Confounders of each family stay calm: everyday uses of 跳, 农药, 堵,
/// 横幅, 组织 and hearsay or negated versions of risky statements.
#[test]
fn confounders_stay_calm() {
    let e = default_engine();
    for text in [
        "小区晚上有人跳广场舞，音响太吵。",
        "他跳槽以后，社保关系一直没转过去。",
        "菜市场卖的韭菜农药残留超标。",
        "来电人称在农资店买的农药治不了虫，怀疑是假药。",
        "早高峰这段路堵车堵得厉害。",
        "商场门口挂着横幅广告，写着跳楼价清仓。",
        "社区组织大家免费体检，通知太晚了。",
        "听说邻村有人去北京上访了，我们只想问问低保政策。",
        "来访人表示不会去堵路，也不会做过激的事，只想讨个说法。",
        "气死我了，物业费又涨了。",
        "我父亲死在医院，病历被改过，要求鉴定。",
        "该户2019年曾赴省上访，2020年签订补偿协议后已息诉，此次反映水压不足。",
    ] {
        let v = e.triage(&case(text));
        assert!(!v.crisis, "{text}: not a crisis");
        assert!(
            v.tier > Tier::Orange,
            "{text}: calm, got {:?} {}",
            v.tier,
            v.risk
        );
    }
}

/// Self-harm written as action + means, euphemism, conditional intent and
/// imminence, in each register, is a crisis and 红, with the welfare route
/// first and a reason naming the rule and the words.
#[test]
fn self_harm_in_every_register_is_a_crisis() {
    let e = default_engine();
    for text in [
        // letters
        "补偿款再不到位，我就去县政府楼顶跳下去。",
        "我把家里的事都交代好了，这封信就当是我最后的话。",
        // web messages
        "工资拖了一年，敌敌畏我都买回来了，就放在床头。",
        "真的撑不住了，活着没意思，不想再拖累孩子。",
        // visit summaries
        "来访人情绪激动，扬言若征地款不落实，就在镇政府门口往身上浇汽油。",
        "接待人员察觉其言语异常，反复提到死，已联系其家属到场。",
        // call notes
        "来电人称其丈夫此刻站在小区楼顶边上，不肯下来。",
        "来电人哭着说低保被取消后没法活了，想去找死去的老伴。",
    ] {
        let v = e.triage(&case(text));
        assert!(
            v.crisis,
            "{text}: crisis expected; evidence {:?}",
            v.evidence
        );
        assert_eq!(v.tier, Tier::Red, "{text}");
        assert!(v.route.starts_with("心理危机干预"), "{text}: {}", v.route);
        let reason = v.crisis_reason.as_deref().unwrap();
        assert!(
            reason.contains("自伤风险") && reason.contains("「"),
            "{reason}"
        );
    }
}

/// Hearsay of someone else's self-harm is not a crisis; the petitioner's
/// own conditional threat is.
#[test]
fn crisis_reads_the_petitioners_own_words() {
    let e = default_engine();
    let v = e.triage(&case(
        "来电人称听说隔壁楼有人跳楼了，询问物业是否该装防护栏。",
    ));
    assert!(!v.crisis);
    let v = e.triage(&case("来访人称如果再不解决，他就从桥上跳下去。"));
    assert!(v.crisis);
    let v = e.triage(&case("我们没有想过寻短见，只想要回工钱。"));
    assert!(!v.crisis);
}

/// Tier floors follow how duty staff rank: a group, a provincial visit, a
/// sit-in or danger now is at least 橙; a threat against others or a clash
/// that happened is 红; a repeat petition is at least 黄.
#[test]
fn tier_floors() {
    let e = default_engine();
    let tier = |t: &str| e.triage(&case(t)).tier;
    assert_eq!(tier("工友们约好了下周一起去市里讨工钱。"), Tier::Orange);
    assert_eq!(tier("材料都备好了，下周我就去省卫健委反映。"), Tier::Orange);
    assert_eq!(
        tier("明天我就带个板凳去管委会门口坐着，什么时候解决什么时候走。"),
        Tier::Orange
    );
    assert_eq!(
        tier("楼道里煤气味很重，燃气公司电话一直占线。"),
        Tier::Orange
    );
    assert_eq!(
        tier("他说法院再不执行，就提着刀去那个老板家里。"),
        Tier::Red
    );
    assert_eq!(tier("村民和施工队起了冲突，两人被打伤住院。"), Tier::Red);
    assert_eq!(
        tier("我的养老金问题反映过五次了，至今没有答复。"),
        Tier::Yellow
    );
    // The floor is explained in the ledger, and the ledger adds up.
    let v = e.triage(&case("工友们约好了下周一起去市里讨工钱。"));
    let floor = v
        .ledger
        .iter()
        .find(|l| l.source == petition_triage::verdict::LedgerSource::Floor)
        .unwrap();
    assert!(floor.note.contains("橙"), "{}", floor.note);
    let sum: f64 = v.ledger.iter().map(|l| l.points).sum();
    assert_eq!(sum.round() as u32, v.risk);
}

/// The crisis flag is never suppressed: with the 红 threshold at 100 and no
/// other points, a self-harm statement is still a crisis and 红.
#[test]
fn no_threshold_suppresses_the_crisis_flag() {
    let mut source = RuleSource::builtin();
    for (name, text) in source.files.iter_mut() {
        if name == "scoring.toml" {
            *text = text.replace("\"红\" = 65", "\"红\" = 100");
            assert!(text.contains("\"红\" = 100"));
        }
    }
    let e = Engine::new(RuleSet::load(source).unwrap()).unwrap();
    let v = e.triage(&case("我不想活了。"));
    assert!(v.crisis);
    assert_eq!((v.tier, v.risk), (Tier::Red, 100));
}

/// The related classes route cases that used to be 其他, with their family,
/// and sources are a separate list of tags with their own routes.
#[test]
fn related_classes_and_sources() {
    let e = default_engine();
    let check = |text: &str, class: &str, family: &str| {
        let v = e.triage(&case(text));
        assert_eq!(v.primary_class, class, "{text}");
        assert_eq!(v.family.map(|f| f.name()), Some(family), "{text}");
        assert!(!v.route.is_empty());
        v
    };
    check(
        "修高速占了我家三亩承包地，征地补偿款至今没发。",
        "国土资源",
        "相关",
    );
    check("包工头拖欠我们农民工工资八个月了。", "劳动社保", "相关");
    check(
        "开发商逾期交房一年多，房产证也办不下来。",
        "城乡建设",
        "相关",
    );
    check(
        "法院判决生效三年了，执行局一直说对方没有财产。",
        "涉法涉诉",
        "相关",
    );
    check(
        "母亲在医院做完手术当晚就没了，院方不给病历。",
        "医患纠纷",
        "相关",
    );
    check("我家老伴瘫痪在床，低保却被取消了。", "民政优抚", "相关");
    check("我们村的房子被强拆了，补偿款一分没给。", "城建拆迁", "热点");
    let v = e.triage(&case("村干部截留了我们的退耕还林补助款，账目从不公开。"));
    assert!(
        v.sources.iter().any(|t| t.source == "干部违纪"),
        "{:?}",
        v.sources
    );
    assert!(v.route.contains("纪检监察"), "{}", v.route);
    // A plain related-class grievance is routed but not warned.
    let v = e.triage(&case("开发商逾期交房一年多，房产证也办不下来。"));
    assert_eq!(v.tier, Tier::None);
}

/// The calibration targets on the tuning part of the development set
/// (`corpora/dev/tune.jsonl`): 红+橙 recall ≥ 0.95 at precision ≥ 0.85,
/// crisis recall 1.0, no case labeled calm above 黄. The held-aside quarter
/// (`holdout.jsonl`) is reported in corpora/dev/README.md, not tested here,
/// so that no rule change is made to pass it.
#[test]
fn calibration_targets_on_the_tuning_part() {
    let e = default_engine();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/dev/tune.jsonl");
    let corpus = petition_triage::eval::read_corpus(&path, None).unwrap();
    assert!(corpus.cases.len() >= 300);
    let v = petition_triage::eval::predict(&e, &corpus);
    let r = petition_triage::eval::evaluate(&e, &corpus, &v, "tune");
    let orange = r.tiers.iter().find(|t| t.tier == "橙").unwrap();
    assert!(
        orange.recall >= 0.95 && orange.precision >= 0.85,
        "红+橙 recall {:.3} precision {:.3}",
        orange.recall,
        orange.precision
    );
    let crisis = r.crisis.as_ref().unwrap();
    assert_eq!(crisis.correct, crisis.gold, "crisis recall must be 1.0");
    assert_eq!(crisis.red, crisis.gold);
    assert_eq!(r.calm_above_yellow, Some(0));
}
