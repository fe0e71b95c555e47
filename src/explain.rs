//! Human-readable explanations, in Chinese: why a case got its classes,
//! signals and risk score (with the matched words highlighted in context
//! and a ledger that adds up by hand), and what a rule does.

use std::fmt::Write as _;

use crate::input::case::Case;
use crate::matcher::Engine;
use crate::rules::{Boundary, ExcludeScope, Rule, RuleKind, Unit};
use crate::text;
use crate::text::modality::Modality;
use crate::text::normalize;
use crate::verdict::{Field, LedgerSource, Span, Verdict};

/// A weight or a score as staff read it: at most two decimals, no
/// trailing zeros (0.3, not 0.30000000000000004; 12, not 12.0).
pub fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn pts(p: f64) -> String {
    let s = if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    };
    if p >= 0.0 { format!("+{s}") } else { s }
}

/// Explain the verdict of `case` (which must be the case `v` was made from).
pub fn explain_case(engine: &Engine, case: &Case, v: &Verdict) -> String {
    let mut s = String::new();
    let mut facts = vec![v.received.to_string()];
    facts.extend(v.channel.clone());
    if let Some(p) = v.persons {
        facts.push(format!("{p} 人"));
    }
    if let Some(l) = v.target_level {
        facts.push(format!("诉求层级 {}", l.name()));
    }
    let _ = writeln!(s, "案件 {}（{}）", v.id, facts.join("，"));
    let _ = writeln!(
        s,
        "风险分 {} → {}",
        v.risk,
        if v.warned {
            format!("{}色预警", v.tier.name())
        } else {
            "未达预警".into()
        }
    );
    if v.crisis {
        let _ = writeln!(
            s,
            "危机标记：是（先启动心理危机干预和属地关怀；本案列为红色，排在名单最前）"
        );
        if let Some(r) = &v.crisis_reason {
            let _ = writeln!(s, "  依据：{r}");
        }
    }
    let _ = write!(s, "主类别：{}", v.primary_class);
    if let Some(f) = v.family {
        let _ = write!(s, "（{}类）", f.name());
    }
    if !v.secondary_classes.is_empty() {
        let _ = write!(s, "    次类别：{}", v.secondary_classes.join("、"));
    }
    let _ = writeln!(s);
    if !v.sources.is_empty() {
        let tags: Vec<String> = v
            .sources
            .iter()
            .map(|t| format!("{}（{}）", t.source, num(t.score)))
            .collect();
        let _ = writeln!(s, "源头：{}", tags.join("、"));
    }
    if !v.route.is_empty() {
        let _ = writeln!(s, "建议去向：{}", v.route);
    }

    for p in &v.periods {
        let _ = writeln!(
            s,
            "敏感时段：{}（{} 至 {}），敏感期 +{}",
            p.relation,
            p.start,
            p.end,
            num(p.points)
        );
    }
    for f in &v.supervision {
        let _ = writeln!(s, "督办：{}  {}", f.flag, f.note);
    }
    let _ = writeln!(
        s,
        "\n类别分（达到 {} 分才归类）：",
        num(engine.rules().scoring.min_score)
    );
    if v.class_scores.is_empty() {
        let _ = writeln!(s, "  （没有类别证据）");
    }
    for c in &v.class_scores {
        let _ = writeln!(s, "  {} {}", c.class, num(c.score));
    }
    let _ = writeln!(s, "\n风险信号：");
    if v.signals.is_empty() {
        let _ = writeln!(s, "  （无）");
    }
    for sig in &v.signals {
        let _ = writeln!(s, "  {} {}", sig.signal, num(sig.points));
    }

    let _ = writeln!(s, "\n命中规则：");
    if v.evidence.is_empty() {
        let _ = writeln!(s, "  （无）");
    }
    let title = case.title.as_deref().unwrap_or("");
    for e in &v.evidence {
        // A text rule counts its words; a history rule or a cluster says
        // what it counted in its note.
        let counted = match engine.rules().rules.iter().find(|r| r.id == e.rule) {
            Some(r) => format!("（{} 个不同的词）  {}", e.distinct_terms, r.description),
            None => String::new(),
        };
        let _ = writeln!(s, "  {} → {} {}{counted}", e.rule, e.target, pts(e.points));
        let signal = engine
            .rules()
            .scoring
            .signals
            .iter()
            .any(|x| x.name == e.target);
        if let Some(note) = &e.note {
            let _ = writeln!(s, "      {note}");
        }
        for m in &e.matches {
            let mut tags = Vec::new();
            if m.modality != Modality::Fact {
                tags.push(m.modality.name(signal).to_string());
            }
            let steps: Vec<&str> = m
                .normalization
                .iter()
                .filter_map(|n| {
                    normalize::STEP_NAMES
                        .iter()
                        .find(|(name, _)| name == n)
                        .map(|(_, bit)| *bit)
                })
                .flat_map(normalize::describe)
                .collect();
            if !steps.is_empty() {
                tags.push(format!("经{}", steps.join("、")));
            }
            let tags = if tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", tags.join("；"))
            };
            let _ = writeln!(s, "      {}{tags}", place(case, title, m));
        }
    }
    if !v.negated.is_empty() {
        let _ = writeln!(s, "\n因否定而不计：");
        for n in &v.negated {
            let _ = writeln!(
                s,
                "  {} → {}（否定词“{}”）  {}",
                n.rule,
                n.target,
                n.cue,
                place(case, title, &n.span)
            );
        }
    }

    let _ = writeln!(s, "\n风险分账：");
    for l in &v.ledger {
        let what = match l.source {
            LedgerSource::Class => format!("类别 {}", l.item),
            LedgerSource::Rule => format!("规则 {} → {}", l.item, l.target),
            LedgerSource::Field => format!("字段 {} → {}", l.item, l.target),
            LedgerSource::Cap => format!("封顶 {}", l.item),
            LedgerSource::Combo => format!("组合 {}", l.item),
            LedgerSource::Bound => "总分界限".to_string(),
            LedgerSource::Crisis => "危机标记".to_string(),
            LedgerSource::Floor => format!("等级下限 {}", l.item),
            LedgerSource::Context => format!("历史、聚类或日历 {} → {}", l.item, l.target),
        };
        let _ = writeln!(s, "  {:>6}  {what}  {}", pts(l.points), l.note);
    }
    let total: f64 = v.ledger.iter().map(|l| l.points).sum();
    let _ = writeln!(s, "  ──────");
    let _ = writeln!(s, "  = {}（合计 {:.1}，四舍五入）", v.risk, total);
    let t = engine.rules().scoring.tiers;
    let _ = writeln!(
        s,
        "分级阈值：红 ≥ {}，橙 ≥ {}，黄 ≥ {}，蓝 ≥ {}",
        t.red, t.orange, t.yellow, t.blue
    );
    s
}

fn place(case: &Case, title: &str, m: &Span) -> String {
    let (field, body) = match m.field {
        Field::Title => ("标题", title),
        Field::Text => ("正文", case.text.as_str()),
    };
    let byte = |c: usize| body.char_indices().nth(c).map_or(body.len(), |(b, _)| b);
    let (bs, be) = (byte(m.start), byte(m.end));
    let at = if m.end == m.start + 1 {
        format!("第 {} 字", m.end)
    } else {
        format!("第 {}–{} 字", m.start + 1, m.end)
    };
    format!("{field}{at}：{}", text::highlight(body, bs, be, 12))
}

/// Describe one rule: what it looks for and its inline tests.
pub fn explain_rule(engine: &Engine, rule: &Rule) -> String {
    let rs = engine.rules();
    let mut s = String::new();
    let loc = rs.diag(&rule.at, "", crate::rules::Severity::Warning, "", None);
    let _ = writeln!(s, "{}：{}", rule.id, rule.description);
    let _ = writeln!(s, "位置：{}", loc.location());
    let _ = writeln!(
        s,
        "目标：{}    权重：{}    最多计 {} 个不同的词",
        rs.scoring.target_name(rule.target),
        num(rule.weight),
        rule.max_terms
    );
    let boundary = match rule.boundary {
        Boundary::Chars => "按字符匹配",
        Boundary::Tokens => "按分词边界匹配",
    };
    match &rule.kind {
        RuleKind::Keywords { any, all } => {
            let _ = writeln!(s, "类型：关键词（{boundary}）");
            if !any.is_empty() {
                let _ = writeln!(s, "任一命中：{}", any.join("、"));
            }
            if !all.is_empty() {
                let _ = writeln!(s, "全部出现：{}", all.join("、"));
            }
        }
        RuleKind::Regex { regex } => {
            let _ = writeln!(s, "类型：正则（{boundary}）\n模式：{}", regex.as_str());
            let _ = match crate::rules::literals::gate_on_view(regex.as_str(), rule.normalize) {
                Some(g) if g.in_clause => writeln!(
                    s,
                    "运行范围：只在含有 {} 之一的分句中运行",
                    g.literals.join("、")
                ),
                Some(g) => writeln!(
                    s,
                    "运行范围：只在含有 {} 之一的案件中运行",
                    g.literals.join("、")
                ),
                None => writeln!(
                    s,
                    "运行范围：每个案件全文运行（找不到每次命中都必含的字词；写出固定的字词能让它更快）"
                ),
            };
        }
        RuleKind::Count {
            at_least,
            below,
            unit,
        } => {
            let what = unit.map_or("人或户", |u| u.name());
            let upper = below.map_or(String::new(), |b| format!("、少于 {b}"));
            let _ = writeln!(
                s,
                "类型：人数（登记人数与文中人数取较大者，不少于 {at_least}{upper}；单位：{what}）"
            );
        }
        RuleKind::Proximity { a, b, within, unit } => {
            let unit = match unit {
                Unit::Chars => "个字",
                Unit::Tokens => "个词",
            };
            let _ = writeln!(
                s,
                "类型：邻近（同一分句内，相隔不超过 {within} {unit}；{boundary}）"
            );
            let _ = writeln!(s, "甲组：{}\n乙组：{}", a.join("、"), b.join("、"));
        }
    }
    if rule.normalize != normalize::ALL {
        let steps = normalize::describe(rule.normalize);
        let _ = writeln!(
            s,
            "规范化：{}",
            if steps.is_empty() {
                "无（按原文匹配）".to_string()
            } else {
                steps.join("、")
            }
        );
    }
    if !rule.negation {
        let _ = writeln!(s, "否定：不考虑（命中前有否定词也计）");
    }
    if !rule.exclude.is_empty() {
        let scope = match rule.exclude_scope {
            ExcludeScope::Overlap => "与命中重叠时",
            ExcludeScope::Clause => "在同一分句时",
            ExcludeScope::Case => "出现在案件任何位置时",
        };
        let _ = writeln!(s, "排除词（{scope}取消命中）：{}", rule.exclude.join("、"));
    }
    for e in &rule.examples {
        let _ = writeln!(s, "示例（应命中）：{}", e.text);
    }
    for e in &rule.counter_examples {
        let _ = writeln!(s, "反例（不应命中）：{}", e.text);
    }
    s
}

#[cfg(test)]
mod num_tests {
    use super::num;

    #[test]
    fn weights_read_as_staff_write_them() {
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.001), "0");
    }
}
