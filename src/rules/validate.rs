//! Checking one rule: its kind, terms, regex, boundary, exclusions and
//! limits, each problem a diagnostic with its place and a hint.

use std::collections::HashMap;

use regex::RegexBuilder;
use toml::Spanned;

use super::diag::{Diagnostic, Severity, Source};
/// Largest compiled regex, in bytes.
pub(super) const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Largest regex source, in characters.
pub(super) const REGEX_MAX_CHARS: usize = 2000;
/// Largest keyword, in characters.
pub(super) const KEYWORD_MAX_CHARS: usize = 50;

pub(super) fn err(
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
    code: &'static str,
    span: std::ops::Range<usize>,
    message: String,
    hint: &str,
) {
    diags.push(src.diag(code, Severity::Error, span, message, Some(hint.to_string())));
}
use super::model::RawRule;
use super::{Boundary, Example, ExcludeScope, Located, Rule, RuleKind, Scoring, Target, Unit};

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

pub(super) fn validate_rule(
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
            names.extend(scoring.sources.iter().map(|s| s.name.as_str()));
            let guess = closest(raw.target.get_ref(), &names);
            let hint = match guess {
                Some(g) => format!("是不是“{g}”？可用的类别、信号和源头：{}", names.join("、")),
                None => format!(
                    "可用的类别、信号和源头：{}（在 scoring.toml 中定义）",
                    names.join("、")
                ),
            };
            err(
                src,
                diags,
                "E007",
                raw.target.span(),
                format!("未知的类别、信号或源头“{}”", raw.target.get_ref()),
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
        None => crate::text::normalize::ALL,
        Some(list) => {
            let mut mask = 0u8;
            for step in list {
                match crate::text::normalize::STEP_NAMES
                    .iter()
                    .find(|(n, _)| *n == step.get_ref().as_str())
                {
                    Some((_, bit)) => mask |= bit,
                    None => {
                        let names: Vec<String> = crate::text::normalize::STEP_NAMES
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
                    ("persons", Some(crate::text::quantity::CountUnit::Persons)),
                    (
                        "households",
                        Some(crate::text::quantity::CountUnit::Households),
                    ),
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
