//! Parsing and validation of a rule source into a [`RuleSet`]: TOML
//! errors mapped to Chinese messages with hints, and the checks on ids,
//! targets, weights, keywords, regexes and the scoring file. All problems
//! are collected before the set is refused.

use std::collections::HashMap;

use toml::Spanned;

use super::diag::{Diagnostic, Severity, Source};
use super::model::{RawRuleFile, RawScoring};
use super::validate::{err, validate_rule};
use super::{
    ClassDef, Combo, CrisisPolicy, Family, LANGUAGE_FILE, Located, RuleSet, RuleSource,
    SCORING_FILE, Scoring, SignalDef, SourceDef, Tier, TierFloor, Tiers, USER_DICT_FILE,
};
use crate::input::case::Level;

pub(super) fn load(source: RuleSource) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let names: Vec<String> = source
        .files
        .iter()
        .map(|(rel, _)| source.display_name(rel))
        .collect();

    let scoring_idx = source.files.iter().position(|(r, _)| r == SCORING_FILE);
    let Some(scoring_idx) = scoring_idx else {
        diags.push(Diagnostic::file_level(
            "E014",
            &source.display_name(SCORING_FILE),
            "缺少 scoring.toml",
            Some("规则目录的根上必须有 scoring.toml（类别、信号和分级阈值）；可用 `triage rules export 目录` 导出默认规则作为起点".into()),
        ));
        return Err(diags);
    };
    let user_dict = match source.files.iter().find(|(r, _)| r == USER_DICT_FILE) {
        Some((_, text)) => text.clone(),
        None => {
            diags.push(Diagnostic::file_level(
                "E014",
                &source.display_name(USER_DICT_FILE),
                "缺少用户词典 dict/user.dict",
                Some("新建一个空文件也可以；每行一个词：词语 词频 词性".into()),
            ));
            String::new()
        }
    };

    let scoring = {
        let (_, text) = &source.files[scoring_idx];
        let src = Source {
            name: &names[scoring_idx],
            text,
        };
        match parse_toml::<RawScoring>(&src, &mut diags) {
            Some(raw) => validate_scoring(&src, raw, &mut diags),
            None => None,
        }
    };
    let Some(scoring) = scoring else {
        return Err(diags);
    };
    let language = load_language(&source, &names, &mut diags);

    let mut rules = Vec::new();
    let mut seen: HashMap<String, Located> = HashMap::new();
    for (i, (rel, text)) in source.files.iter().enumerate() {
        if i == scoring_idx || super::is_support_file(rel) || !rel.ends_with(".toml") {
            continue;
        }
        let src = Source {
            name: &names[i],
            text,
        };
        let Some(file) = parse_toml::<RawRuleFile>(&src, &mut diags) else {
            continue;
        };
        if file.rule.is_empty() {
            diags.push(src.diag(
                "W001",
                Severity::Warning,
                0..0,
                "文件里没有规则",
                Some("规则写成 [[rule]] 表；这个文件会被忽略".into()),
            ));
        }
        for raw in file.rule {
            if let Some(rule) = validate_rule(&src, i, raw, &scoring, &mut seen, &mut diags) {
                rules.push(rule);
            }
        }
    }

    if let Err(e) = crate::text::segment::Segmenter::check_dict(&user_dict) {
        let idx = source
            .files
            .iter()
            .position(|(r, _)| r == USER_DICT_FILE)
            .unwrap_or(0);
        let (_, text) = &source.files[idx];
        let start: usize = text
            .split_inclusive('\n')
            .take(e.line.saturating_sub(1))
            .map(str::len)
            .sum();
        let src = Source {
            name: &names[idx],
            text,
        };
        diags.push(src.diag(
            "E015",
            Severity::Error,
            start..start,
            "用户词典有误",
            Some(e.message),
        ));
    }

    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(diags);
    }
    let Some(language) = language else {
        return Err(diags);
    };
    Ok(RuleSet {
        source,
        rules,
        scoring,
        user_dict,
        language,
        warnings: diags,
    })
}

fn load_language(
    source: &RuleSource,
    names: &[String],
    diags: &mut Vec<Diagnostic>,
) -> Option<crate::text::modality::Language> {
    let Some(idx) = source.files.iter().position(|(r, _)| r == LANGUAGE_FILE) else {
        diags.push(Diagnostic::file_level(
            "E014",
            &source.display_name(LANGUAGE_FILE),
            "缺少 language.toml（否定、传闻、假设的线索词）",
            Some("从默认规则导出一份（triage rules export 目录）再复制过来".into()),
        ));
        return None;
    };
    let (_, text) = &source.files[idx];
    let src = Source {
        name: &names[idx],
        text,
    };
    let lang: crate::text::modality::Language = parse_toml(&src, diags)?;
    let before = diags.len();
    if !(1..=50).contains(&lang.window) {
        diags.push(Diagnostic::file_level(
            "E008",
            &names[idx],
            format!("window 超出范围：{}", lang.window),
            Some("应在 1 到 50 之间（字数）".into()),
        ));
    }
    if !(10..=1_000_000).contains(&lang.count_max) {
        diags.push(Diagnostic::file_level(
            "E008",
            &names[idx],
            format!("count_max 超出范围：{}", lang.count_max),
            Some("应在 10 到 1000000 之间".into()),
        ));
    }
    for (name, f) in [
        ("hearsay_factor", lang.hearsay_factor),
        ("conditional_factor", lang.conditional_factor),
    ] {
        if !(0.0..=1.0).contains(&f) {
            diags.push(Diagnostic::file_level(
                "E008",
                &names[idx],
                format!("{name} 超出范围：{f}"),
                Some("系数应在 0 到 1 之间".into()),
            ));
        }
    }
    let all = [
        &lang.topic_negation,
        &lang.action_negation,
        &lang.not_negation,
        &lang.scope_breakers,
        &lang.hearsay,
        &lang.conditional,
    ];
    if all.iter().any(|l| l.iter().any(|w| w.trim().is_empty())) {
        diags.push(Diagnostic::file_level(
            "E006",
            &names[idx],
            "线索词列表里有空字符串",
            Some("删掉 \"\"".into()),
        ));
    }
    (diags.len() == before).then_some(lang)
}

pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    match toml::from_str::<T>(src.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            let (code, message, hint) = explain_toml_error(&msg);
            diags.push(src.diag(code, Severity::Error, span, message, Some(hint)));
            None
        }
    }
}

/// Turn a toml/serde message into a code, a Chinese message and a hint.
fn explain_toml_error(msg: &str) -> (&'static str, String, String) {
    let ticked: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    if msg.starts_with("unknown field") {
        let key = ticked.first().copied().unwrap_or("?");
        let allowed = ticked.get(1..).map(|v| v.join("、")).unwrap_or_default();
        return (
            "E002",
            format!("未知的键“{key}”"),
            format!("检查拼写；这里可用的键有：{allowed}"),
        );
    }
    if msg.starts_with("missing field") {
        let key = ticked.first().copied().unwrap_or("?");
        return (
            "E009",
            format!("缺少必填的键“{key}”"),
            format!("在这张表里加上 {key} = …；可参照默认规则（triage rules export）"),
        );
    }
    if msg.starts_with("invalid type") {
        return (
            "E009",
            "值的类型不对".into(),
            format!(
                "{}；文字要加双引号，数字不加，列表写成 [\"甲\", \"乙\"]（原信息：{msg}）",
                type_hint(msg)
            ),
        );
    }
    if msg.starts_with("duplicate key") {
        return (
            "E001",
            "同一张表里的键重复".into(),
            format!("删掉重复的一行（原信息：{msg}）"),
        );
    }
    if msg.contains("invalid unquoted key") {
        return (
            "E001",
            "键名写法不对".into(),
            format!(
                "键名只能用英文字母、数字、- 和 _；中文键名要加双引号，例如 \"红\" = 60（原信息：{msg}）"
            ),
        );
    }
    (
        "E001",
        "TOML 语法错误".into(),
        format!(
            "常见原因：引号或括号没配对、用了中文引号“”或中文逗号，、数组末尾缺 ]（原信息：{msg}）"
        ),
    )
}

fn type_hint(msg: &str) -> &'static str {
    if msg.contains("expected f64") || msg.contains("expected i64") {
        "这里应是数字"
    } else if msg.contains("expected a string") {
        "这里应是文字"
    } else if msg.contains("expected a sequence") {
        "这里应是列表"
    } else {
        "这里的值类型不对"
    }
}

fn validate_scoring(
    src: &Source<'_>,
    raw: RawScoring,
    diags: &mut Vec<Diagnostic>,
) -> Option<Scoring> {
    let before = diags.len();
    let mut names: HashMap<String, std::ops::Range<usize>> = HashMap::new();
    let mut check_name = |n: &Spanned<String>, diags: &mut Vec<Diagnostic>| {
        let name = n.get_ref().trim();
        if name.is_empty() {
            err(
                src,
                diags,
                "E006",
                n.span(),
                "名称为空".into(),
                "给类别或信号起一个中文名",
            );
        } else if names.insert(name.to_string(), n.span()).is_some() {
            err(
                src,
                diags,
                "E003",
                n.span(),
                format!("名称“{name}”重复"),
                "类别和信号的名称必须互不相同",
            );
        }
    };
    check_name(&raw.classes.other, diags);
    for c in &raw.class {
        check_name(&c.name, diags);
    }
    for s in &raw.signal {
        check_name(&s.name, diags);
    }
    for s in &raw.source {
        check_name(&s.name, diags);
    }
    let check_points =
        |v: &Spanned<f64>, lo: f64, hi: f64, what: &str, diags: &mut Vec<Diagnostic>| {
            let x = *v.get_ref();
            if !(x.is_finite() && (lo..=hi).contains(&x)) {
                err(
                    src,
                    diags,
                    "E008",
                    v.span(),
                    format!("{what}超出范围：{x}"),
                    &format!("应在 {lo} 到 {hi} 之间"),
                );
            }
        };
    check_points(&raw.classes.min_score, 0.0, 1000.0, "最低类别分", diags);
    check_points(&raw.classes.secondary_ratio, 0.0, 1.0, "次类别比例", diags);
    for c in &raw.class {
        check_points(&c.risk, 0.0, 100.0, "类别风险分", diags);
    }
    for s in &raw.signal {
        check_points(&s.max, 0.0, 100.0, "信号封顶分", diags);
    }
    let mut families = Vec::new();
    for c in &raw.class {
        let family = match &c.family {
            None => Family::Hot,
            Some(f) => Family::parse(f.get_ref()).unwrap_or_else(|| {
                err(
                    src,
                    diags,
                    "E010",
                    f.span(),
                    format!("未知的类别族“{}”", f.get_ref()),
                    "family 应为 热点（六类突出问题）或 相关（相关类别）",
                );
                Family::Hot
            }),
        };
        families.push(family);
    }
    let source_min_score = match &raw.sources {
        Some(p) => {
            check_points(&p.min_score, 0.0, 1000.0, "最低源头分", diags);
            *p.min_score.get_ref()
        }
        None => 3.0,
    };
    let signals: Vec<SignalDef> = raw
        .signal
        .iter()
        .map(|s| SignalDef {
            name: s.name.get_ref().trim().to_string(),
            description: s.description.clone(),
            max: *s.max.get_ref(),
        })
        .collect();
    let signal_names: Vec<&str> = signals.iter().map(|s| s.name.as_str()).collect();
    let find_signal = |n: &Spanned<String>, diags: &mut Vec<Diagnostic>| -> usize {
        match signal_names.iter().position(|s| *s == n.get_ref().trim()) {
            Some(i) => i,
            None => {
                err(
                    src,
                    diags,
                    "E007",
                    n.span(),
                    format!("未知的信号“{}”", n.get_ref()),
                    &format!("可用的信号：{}", signal_names.join("、")),
                );
                0
            }
        }
    };
    let mut target_level = Vec::new();
    for t in &raw.target_level {
        let level = Level::parse(t.level.get_ref());
        if level.is_none() {
            err(
                src,
                diags,
                "E010",
                t.level.span(),
                format!("未知的层级“{}”", t.level.get_ref()),
                "应为 乡镇、县、市、省、国家 之一",
            );
        }
        check_points(&t.points, 0.0, 100.0, "分值", diags);
        let s = find_signal(&t.signal, diags);
        if let Some(l) = level {
            target_level.push((l, s, *t.points.get_ref()));
        }
    }
    let mut combos = Vec::new();
    for c in &raw.combo {
        check_points(&c.points, 0.0, 100.0, "分值", diags);
        if c.signals.len() < 2 {
            err(
                src,
                diags,
                "E010",
                c.points.span(),
                "组合至少要有两个信号".into(),
                "signals = [\"群体\", \"越级\"]",
            );
        }
        let signals = c.signals.iter().map(|s| find_signal(s, diags)).collect();
        combos.push(Combo {
            signals,
            points: *c.points.get_ref(),
            description: c.description.clone(),
        });
    }
    let crisis = raw.crisis.as_ref().map(|c| {
        check_points(&c.min_points, 0.0, 100.0, "危机标记分", diags);
        if c.signals.is_empty() {
            err(
                src,
                diags,
                "E010",
                c.min_points.span(),
                "危机标记至少要有一个信号".into(),
                "signals = [\"自伤风险\"]",
            );
        }
        let tier = parse_tier(src, &c.tier, diags);
        CrisisPolicy {
            signals: c.signals.iter().map(|s| find_signal(s, diags)).collect(),
            min_points: *c.min_points.get_ref(),
            tier,
            route: c.route.clone(),
        }
    });
    let floors = raw
        .floor
        .iter()
        .map(|f| {
            check_points(&f.min_points, 0.0, 100.0, "等级下限分", diags);
            if f.signals.is_empty() {
                err(
                    src,
                    diags,
                    "E010",
                    f.min_points.span(),
                    "等级下限至少要有一个信号".into(),
                    "signals = [\"群体\"]",
                );
            }
            TierFloor {
                signals: f.signals.iter().map(|s| find_signal(s, diags)).collect(),
                min_points: *f.min_points.get_ref(),
                tier: parse_tier(src, &f.tier, diags),
                description: f.description.clone(),
            }
        })
        .collect();
    let t = &raw.tiers;
    for v in [&t.red, &t.orange, &t.yellow, &t.blue] {
        check_points(v, 0.0, 100.0, "分级阈值", diags);
    }
    let tiers = Tiers {
        red: *t.red.get_ref(),
        orange: *t.orange.get_ref(),
        yellow: *t.yellow.get_ref(),
        blue: *t.blue.get_ref(),
    };
    if !(tiers.red > tiers.orange && tiers.orange > tiers.yellow && tiers.yellow > tiers.blue) {
        err(
            src,
            diags,
            "E013",
            t.red.span(),
            format!(
                "分级阈值必须从红到蓝递减：红 {} > 橙 {} > 黄 {} > 蓝 {}",
                tiers.red, tiers.orange, tiers.yellow, tiers.blue
            ),
            "调整 [tiers] 里的数字",
        );
    }
    if diags.len() > before {
        return None;
    }
    Some(Scoring {
        other: raw.classes.other.get_ref().trim().to_string(),
        min_score: *raw.classes.min_score.get_ref(),
        secondary_ratio: *raw.classes.secondary_ratio.get_ref(),
        classes: raw
            .class
            .iter()
            .zip(families)
            .map(|(c, family)| ClassDef {
                name: c.name.get_ref().trim().to_string(),
                route: c.route.clone(),
                family,
                risk: *c.risk.get_ref(),
            })
            .collect(),
        signals,
        target_level,
        combos,
        tiers,
        sources: raw
            .source
            .iter()
            .map(|s| SourceDef {
                name: s.name.get_ref().trim().to_string(),
                description: s.description.clone(),
                route: s.route.clone(),
            })
            .collect(),
        source_min_score,
        crisis,
        floors,
    })
}
/// A tier name (红/橙/黄/蓝) in `scoring.toml`.
fn parse_tier(src: &Source<'_>, t: &Spanned<String>, diags: &mut Vec<Diagnostic>) -> Tier {
    match t.get_ref().trim() {
        "红" => Tier::Red,
        "橙" => Tier::Orange,
        "黄" => Tier::Yellow,
        "蓝" => Tier::Blue,
        other => {
            err(
                src,
                diags,
                "E010",
                t.span(),
                format!("未知的预警等级“{other}”"),
                "tier 应为 红、橙、黄、蓝 之一",
            );
            Tier::Red
        }
    }
}
