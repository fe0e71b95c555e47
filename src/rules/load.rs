//! Parsing and validation of a rule source into a [`RuleSet`]: TOML
//! errors mapped to Chinese messages with hints, and the checks on ids,
//! targets, weights, keywords, regexes and the scoring file. All problems
//! are collected before the set is refused.

use std::collections::HashMap;

use regex::RegexBuilder;
use toml::Spanned;

use super::diag::{Diagnostic, Severity, Source};
use super::model::{RawRule, RawRuleFile, RawScoring};
use super::{
    Boundary, ClassDef, Combo, Example, ExcludeScope, LANGUAGE_FILE, Located, Rule, RuleKind,
    RuleSet, RuleSource, SCORING_FILE, Scoring, SignalDef, Target, Tiers, USER_DICT_FILE, Unit,
};
use crate::case::Level;

/// Largest compiled regex, in bytes.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Largest regex source, in characters.
const REGEX_MAX_CHARS: usize = 2000;
/// Largest keyword, in characters.
const KEYWORD_MAX_CHARS: usize = 50;

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
        if i == scoring_idx
            || rel == LANGUAGE_FILE
            || crate::calendar::is_calendar_file(rel)
            || !rel.ends_with(".toml")
        {
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

    if let Err(e) = crate::segment::Segmenter::check_dict(&user_dict) {
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
) -> Option<crate::modality::Language> {
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
    let lang: crate::modality::Language = parse_toml(&src, diags)?;
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

fn err(
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
    code: &'static str,
    span: std::ops::Range<usize>,
    message: String,
    hint: &str,
) {
    diags.push(src.diag(code, Severity::Error, span, message, Some(hint.to_string())));
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
            .map(|c| ClassDef {
                name: c.name.get_ref().trim().to_string(),
                route: c.route.clone(),
                risk: *c.risk.get_ref(),
            })
            .collect(),
        signals,
        target_level,
        combos,
        tiers,
    })
}

fn terms(
    src: &Source<'_>,
    list: Option<Vec<Spanned<String>>>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in list.unwrap_or_default() {
        let s = t.get_ref();
        if s.trim().is_empty() {
            err(
                src,
                diags,
                "E006",
                t.span(),
                format!("{what} 里有空关键词"),
                "删掉这个空字符串 \"\"，空关键词会匹配任何文本",
            );
        } else if s.trim() != s {
            err(
                src,
                diags,
                "E006",
                t.span(),
                format!("关键词“{s}”首尾有空格"),
                "去掉引号内的空格；关键词按原样匹配",
            );
        } else if s.chars().count() > KEYWORD_MAX_CHARS {
            err(
                src,
                diags,
                "E006",
                t.span(),
                format!("关键词过长（超过 {KEYWORD_MAX_CHARS} 个字）"),
                "关键词应是词或短语；长句请改用正则或拆成几个词",
            );
        } else if out.contains(s) {
            diags.push(src.diag(
                "W002",
                Severity::Warning,
                t.span(),
                format!("关键词“{s}”在 {what} 里重复"),
                Some("删掉重复的一项".into()),
            ));
        } else {
            out.push(s.clone());
        }
    }
    out
}

fn choice<T: Copy>(
    src: &Source<'_>,
    v: Option<Spanned<String>>,
    default: T,
    options: &[(&str, T)],
    diags: &mut Vec<Diagnostic>,
) -> T {
    let Some(v) = v else { return default };
    match options
        .iter()
        .find(|(name, _)| *name == v.get_ref().as_str())
    {
        Some((_, t)) => *t,
        None => {
            let allowed: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            err(
                src,
                diags,
                "E010",
                v.span(),
                format!("无效的取值“{}”", v.get_ref()),
                &format!("可选：{}", allowed.join("、")),
            );
            default
        }
    }
}

fn validate_rule(
    src: &Source<'_>,
    file: usize,
    raw: RawRule,
    scoring: &Scoring,
    seen: &mut HashMap<String, Located>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let id = raw.id.get_ref().trim().to_string();
    let at = Located {
        file,
        span: raw.id.span(),
    };
    let term_at: Vec<(String, Located)> = [&raw.any, &raw.all, &raw.near]
        .into_iter()
        .flatten()
        .flatten()
        .map(|t| {
            (
                t.get_ref().clone(),
                Located {
                    file,
                    span: t.span(),
                },
            )
        })
        .collect();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        err(
            src,
            diags,
            "E010",
            raw.id.span(),
            format!("规则 id“{id}”不合格"),
            "id 只用英文字母、数字、- 和 _，例如 CJ-001",
        );
    } else if let Some(first) = seen.get(&id) {
        let first_line = src.text[..first.span.start.min(src.text.len())]
            .matches('\n')
            .count()
            + 1;
        let where_first = if first.file == file {
            format!("本文件第 {first_line} 行")
        } else {
            "另一个规则文件".to_string()
        };
        err(
            src,
            diags,
            "E003",
            raw.id.span(),
            format!("规则 id“{id}”重复"),
            &format!("每条规则的 id 必须唯一；它已在{where_first}用过，请换一个编号"),
        );
    } else {
        seen.insert(id.clone(), at.clone());
    }
    if raw.description.get_ref().trim().is_empty() {
        err(
            src,
            diags,
            "E006",
            raw.description.span(),
            "说明为空".into(),
            "用一句话写明这条规则找什么",
        );
    }
    let target = match scoring.target(raw.target.get_ref().trim()) {
        Some(t) => t,
        None => {
            let mut names: Vec<&str> = scoring.classes.iter().map(|c| c.name.as_str()).collect();
            names.extend(scoring.signals.iter().map(|s| s.name.as_str()));
            let guess = closest(raw.target.get_ref(), &names);
            let hint = match guess {
                Some(g) => format!("是不是“{g}”？可用的类别和信号：{}", names.join("、")),
                None => format!(
                    "可用的类别和信号：{}（在 scoring.toml 中定义）",
                    names.join("、")
                ),
            };
            err(
                src,
                diags,
                "E007",
                raw.target.span(),
                format!("未知的类别或信号“{}”", raw.target.get_ref()),
                &hint,
            );
            Target::Class(0)
        }
    };
    let weight = *raw.weight.get_ref();
    if !weight.is_finite() || weight == 0.0 || !(-100.0..=100.0).contains(&weight) {
        err(
            src,
            diags,
            "E008",
            raw.weight.span(),
            format!("权重超出范围：{weight}"),
            "权重应在 -100 到 100 之间且不为 0；类别规则常用 1–5，信号规则是加到风险分上的分数",
        );
    }
    let boundary = choice(
        src,
        raw.boundary,
        Boundary::Chars,
        &[("chars", Boundary::Chars), ("tokens", Boundary::Tokens)],
        diags,
    );
    let exclude_scope = choice(
        src,
        raw.exclude_scope,
        ExcludeScope::Clause,
        &[
            ("overlap", ExcludeScope::Overlap),
            ("clause", ExcludeScope::Clause),
            ("case", ExcludeScope::Case),
        ],
        diags,
    );
    let max_terms = match raw.max_terms {
        None => 1,
        Some(m) => {
            let v = *m.get_ref();
            if !(1..=20).contains(&v) {
                err(
                    src,
                    diags,
                    "E008",
                    m.span(),
                    format!("max_terms 超出范围：{v}"),
                    "应在 1 到 20 之间",
                );
            }
            u32::try_from(v.clamp(1, 20)).unwrap_or(1)
        }
    };
    let exclude = terms(src, raw.exclude, "排除词", diags);
    let normalize = match &raw.normalize {
        None => crate::normalize::ALL,
        Some(list) => {
            let mut mask = 0u8;
            for step in list {
                match crate::normalize::STEP_NAMES
                    .iter()
                    .find(|(n, _)| *n == step.get_ref().as_str())
                {
                    Some((_, bit)) => mask |= bit,
                    None => {
                        let names: Vec<String> = crate::normalize::STEP_NAMES
                            .iter()
                            .map(|(n, _)| format!("\"{n}\""))
                            .collect();
                        err(
                            src,
                            diags,
                            "E010",
                            step.span(),
                            format!("未知的规范化步骤“{}”", step.get_ref()),
                            &format!(
                                "可选：{}；写 normalize = [] 表示不做规范化",
                                names.join("、")
                            ),
                        );
                    }
                }
            }
            mask
        }
    };
    let negation = raw.negation.unwrap_or(true);
    let kind_span = raw.kind.span();
    let kind = match raw.kind.get_ref().as_str() {
        "keywords" => {
            let any = terms(src, raw.any, "any", diags);
            let all = terms(src, raw.all, "all", diags);
            forbid(
                src,
                diags,
                "keywords",
                &[
                    ("pattern", raw.pattern.map(|p| p.span())),
                    ("near", raw.near.map(|_| kind_span.clone())),
                    ("within", raw.within.map(|w| w.span())),
                    ("at_least", raw.at_least.as_ref().map(|w| w.span())),
                ],
            );
            if any.is_empty() && all.is_empty() {
                err(
                    src,
                    diags,
                    "E006",
                    kind_span.clone(),
                    "关键词规则没有关键词".into(),
                    "加上 any = [\"…\"]（任一命中）或 all = [\"…\"]（全部出现）",
                );
            }
            RuleKind::Keywords { any, all }
        }
        "regex" => {
            forbid(
                src,
                diags,
                "regex",
                &[
                    ("any", raw.any.map(|_| kind_span.clone())),
                    ("all", raw.all.map(|_| kind_span.clone())),
                    ("near", raw.near.map(|_| kind_span.clone())),
                ],
            );
            match raw.pattern {
                None => {
                    err(
                        src,
                        diags,
                        "E009",
                        kind_span.clone(),
                        "正则规则缺少 pattern".into(),
                        "加上 pattern = '…'（用单引号，反斜杠不用转义）",
                    );
                    return None;
                }
                Some(p) => compile_regex(src, &p, diags).map(|regex| RuleKind::Regex { regex })?,
            }
        }
        "proximity" => {
            forbid(
                src,
                diags,
                "proximity",
                &[
                    ("pattern", raw.pattern.map(|p| p.span())),
                    ("all", raw.all.map(|_| kind_span.clone())),
                ],
            );
            let a = terms(src, raw.any, "any", diags);
            let b = terms(src, raw.near, "near", diags);
            if a.is_empty() || b.is_empty() {
                err(
                    src,
                    diags,
                    "E009",
                    kind_span.clone(),
                    "邻近规则需要两组词".into(),
                    "写 any = [\"…\"]、near = [\"…\"] 和 within = 字数",
                );
            }
            let within = match raw.within {
                None => {
                    err(
                        src,
                        diags,
                        "E009",
                        kind_span.clone(),
                        "邻近规则缺少 within".into(),
                        "加上 within = 10（两组词之间最多隔几个字或词）",
                    );
                    0
                }
                Some(w) => {
                    let v = *w.get_ref();
                    if !(0..=200).contains(&v) {
                        err(
                            src,
                            diags,
                            "E008",
                            w.span(),
                            format!("within 超出范围：{v}"),
                            "应在 0 到 200 之间",
                        );
                    }
                    u32::try_from(v.clamp(0, 200)).unwrap_or(0)
                }
            };
            let unit = choice(
                src,
                raw.unit,
                Unit::Chars,
                &[("chars", Unit::Chars), ("tokens", Unit::Tokens)],
                diags,
            );
            RuleKind::Proximity { a, b, within, unit }
        }
        "count" => {
            forbid(
                src,
                diags,
                "count",
                &[
                    ("any", raw.any.map(|_| kind_span.clone())),
                    ("all", raw.all.map(|_| kind_span.clone())),
                    ("near", raw.near.map(|_| kind_span.clone())),
                    ("pattern", raw.pattern.map(|p| p.span())),
                ],
            );
            let bound = |v: Option<Spanned<i64>>, what: &str, diags: &mut Vec<Diagnostic>| {
                let v = v?;
                let n = *v.get_ref();
                if !(1..=10_000_000).contains(&n) {
                    err(
                        src,
                        diags,
                        "E008",
                        v.span(),
                        format!("{what} 超出范围：{n}"),
                        "应在 1 到 10000000 之间",
                    );
                }
                u32::try_from(n).ok()
            };
            let at_least = if raw.at_least.is_none() {
                err(
                    src,
                    diags,
                    "E009",
                    kind_span.clone(),
                    "人数规则缺少 at_least".into(),
                    "加上 at_least = 5（至少几人）",
                );
                0
            } else {
                bound(raw.at_least, "at_least", diags).unwrap_or(0)
            };
            let below_span = raw.below.as_ref().map(|b| b.span());
            let below = bound(raw.below, "below", diags);
            if let (Some(b), Some(span)) = (below, below_span)
                && b <= at_least
            {
                err(
                    src,
                    diags,
                    "E008",
                    span,
                    format!("below（{b}）必须大于 at_least（{at_least}）"),
                    "below 是上限（不含），例如 at_least = 5、below = 50",
                );
            }
            let unit = choice(
                src,
                raw.counts,
                None,
                &[
                    ("any", None),
                    ("persons", Some(crate::quantity::CountUnit::Persons)),
                    ("households", Some(crate::quantity::CountUnit::Households)),
                ],
                diags,
            );
            RuleKind::Count {
                at_least,
                below,
                unit,
            }
        }
        other => {
            err(
                src,
                diags,
                "E010",
                kind_span,
                format!("未知的规则类型“{other}”"),
                "kind 可选：\"keywords\"（关键词）、\"regex\"（正则）、\"proximity\"（邻近）、\"count\"（人数）",
            );
            return None;
        }
    };
    let example = |list: Option<Vec<Spanned<String>>>| -> Vec<Example> {
        list.unwrap_or_default()
            .into_iter()
            .map(|e| Example {
                at: Located {
                    file,
                    span: e.span(),
                },
                text: e.into_inner(),
            })
            .collect()
    };
    let examples = example(raw.examples);
    let counter_examples = example(raw.counter_examples);
    let after = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if after > before {
        return None;
    }
    Some(Rule {
        id,
        description: raw.description.into_inner(),
        target,
        weight,
        kind,
        boundary,
        exclude,
        exclude_scope,
        max_terms,
        normalize,
        negation,
        examples,
        counter_examples,
        at,
        term_at,
    })
}

fn forbid(
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
    kind: &str,
    keys: &[(&str, Option<std::ops::Range<usize>>)],
) {
    for (key, span) in keys {
        if let Some(span) = span {
            err(
                src,
                diags,
                "E010",
                span.clone(),
                format!("{kind} 类型的规则不用 {key}"),
                "删掉这个键，或改 kind",
            );
        }
    }
}

fn compile_regex(
    src: &Source<'_>,
    p: &Spanned<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<regex::Regex> {
    let pattern = p.get_ref();
    if pattern.is_empty() {
        err(
            src,
            diags,
            "E006",
            p.span(),
            "正则为空".into(),
            "空正则会匹配任何文本",
        );
        return None;
    }
    if pattern.chars().count() > REGEX_MAX_CHARS {
        err(
            src,
            diags,
            "E005",
            p.span(),
            format!("正则过长（超过 {REGEX_MAX_CHARS} 个字符）"),
            "把它拆成几条规则，或改用关键词列表",
        );
        return None;
    }
    match RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(r) => {
            if r.is_match("") {
                err(
                    src,
                    diags,
                    "E006",
                    p.span(),
                    "正则能匹配空文本".into(),
                    "检查是否整条都是可选的（如 a*、(x)?），那样会命中每个案件",
                );
                return None;
            }
            Some(r)
        }
        Err(regex::Error::CompiledTooBig(limit)) => {
            err(
                src,
                diags,
                "E005",
                p.span(),
                format!("正则编译后过大（超过 {limit} 字节）"),
                "减少 {m,n} 重复次数或拆成几条规则",
            );
            None
        }
        Err(e) => {
            let detail = e.to_string();
            let last = detail
                .lines()
                .rfind(|l| l.starts_with("error:"))
                .unwrap_or("")
                .trim_start_matches("error:")
                .trim()
                .to_string();
            err(
                src,
                diags,
                "E004",
                p.span(),
                format!("正则无效：{last}"),
                "检查括号是否配对、特殊字符 ( ) [ ] . * + ? 是否需要用 \\ 转义；TOML 中用单引号 '…' 写正则",
            );
            None
        }
    }
}

/// The candidate sharing the most characters with `s`, if any shares one.
fn closest<'a>(s: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (n.chars().filter(|c| s.contains(*c)).count(), *n))
        .filter(|(k, _)| *k > 0)
        .max_by_key(|(k, _)| *k)
        .map(|(_, n)| n)
}
