//! Tier thresholds proposed for a target, and two rule sets compared case
//! by case.

use super::report::pct;
use super::*;

/// Thresholds proposed by [`tune`].
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// 红, 橙, 黄, 蓝 thresholds.
    pub tiers: [u32; 4],
    /// Explanation lines.
    pub notes: Vec<String>,
}

/// What to tune for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Lowest thresholds whose warning precision (at each tier and above)
    /// reaches this value.
    Precision(f64),
    /// Set 橙 so that on average at most this many 红+橙 cases come per
    /// night (a night = a distinct registration date in the corpus).
    Capacity(f64),
}

/// Propose tier thresholds.
pub fn tune(engine: &Engine, corpus: &Corpus, verdicts: &[Verdict], target: Target) -> Proposal {
    let t = engine.rules().scoring.tiers;
    let mut tiers = [t.red, t.orange, t.yellow, t.blue].map(|x| x.round() as u32);
    let mut notes = Vec::new();
    match target {
        Target::Precision(p) => {
            let gold_rank: Vec<usize> = corpus
                .cases
                .iter()
                .map(|c| tier_rank(c.gold.tier.as_deref().unwrap_or("无")))
                .collect();
            for (ti, slot) in tiers.iter_mut().enumerate() {
                let name = Tier::ALL[ti].name();
                let found = (0..=100u32).find(|&th| {
                    let pred: Vec<bool> = verdicts.iter().map(|v| v.risk >= th).collect();
                    let n = pred.iter().filter(|&&b| b).count();
                    let ok = pred
                        .iter()
                        .zip(&gold_rank)
                        .filter(|(b, g)| **b && **g <= ti)
                        .count();
                    n > 0 && ratio(ok, n) >= p
                });
                match found {
                    Some(th) => {
                        *slot = th;
                        notes.push(format!(
                            "{name}：风险分 ≥ {th} 时，{name}及以上的精确率达到 {}%",
                            pct(p)
                        ));
                    }
                    None => notes.push(format!(
                        "{name}：任何阈值都达不到 {}% 的精确率，保留原值 {slot}",
                        pct(p)
                    )),
                }
            }
        }
        Target::Capacity(k) => {
            let _ = verdicts;
            let (proposed, note) = capacity(engine, corpus, k);
            tiers = proposed;
            notes.push(note);
            return Proposal { tiers, notes };
        }
    }
    // Keep the order 红 > 橙 > 黄 > 蓝.
    for i in (0..3).rev() {
        if tiers[i] <= tiers[i + 1] {
            tiers[i] = (tiers[i + 1] + 1).min(100);
        }
    }
    for i in 1..4 {
        if tiers[i] >= tiers[i - 1] {
            tiers[i] = tiers[i - 1].saturating_sub(1);
        }
    }
    Proposal { tiers, notes }
}

/// The thresholds of the default set with 橙 at `orange`: 红 at least one
/// above it, 黄 and 蓝 below it, each kept where it was when it can be.
fn with_orange(t: [u32; 4], orange: u32) -> [u32; 4] {
    let orange = orange.clamp(3, 99);
    let red = t[0].max(orange + 1).min(100);
    let yellow = t[2].min(orange - 1).max(2);
    let blue = t[3].min(yellow - 1);
    [red, orange, yellow, blue]
}

/// Tier thresholds for `k` 红+橙 cases a night. The cases are scored again
/// under each candidate (tier floors and the crisis flag lift a case to
/// a tier's threshold, so the risk scores themselves move with the
/// thresholds), and the lowest 橙 threshold whose 红+橙 count per night
/// (a night = a distinct registration date) is at most `k` is chosen. The
/// count falls as 橙 rises, so a binary search finds it.
fn capacity(engine: &Engine, corpus: &Corpus, k: f64) -> ([u32; 4], String) {
    use rayon::prelude::*;
    let rules = engine.rules();
    let t = rules.scoring.tiers;
    let base = [t.red, t.orange, t.yellow, t.blue].map(|x| x.round() as u32);
    // As a run judges them: with the rule set's calendar, at today's date.
    let calendar = crate::calendar::Calendar::from_source(&rules.source).ok();
    let today = chrono::Local::now().date_naive();
    let findings: Vec<crate::matcher::Findings> = corpus
        .cases
        .par_iter()
        .map(|c| crate::run::calendar::dated_findings(engine, calendar.as_ref(), today, &c.case))
        .collect();
    let nights: BTreeSet<_> = corpus.cases.iter().map(|c| c.case.received).collect();
    let nights = nights.len().max(1) as f64;
    let per_night = |orange: u32| -> f64 {
        let tiers = with_orange(base, orange);
        let mut scoring = rules.scoring.clone();
        scoring.tiers = crate::rules::Tiers {
            red: f64::from(tiers[0]),
            orange: f64::from(tiers[1]),
            yellow: f64::from(tiers[2]),
            blue: f64::from(tiers[3]),
        };
        let n = findings
            .par_iter()
            .filter(|f| {
                let v = crate::score::scored(&scoring, &rules.rules, (*f).clone());
                matches!(v.tier, Tier::Red | Tier::Orange)
            })
            .count();
        n as f64 / nights
    };
    // The lowest 橙 in [lo, hi] with per_night(橙) <= k; hi if none.
    let (mut lo, mut hi) = (3u32, 99u32);
    let at_hi = per_night(hi);
    if at_hi > k {
        let tiers = with_orange(base, hi);
        return (
            tiers,
            format!(
                "语料共 {nights} 个登记日；即使橙色阈值取 {hi}，平均每晚仍有 红+橙 {at_hi:.1} 件（危机标记和等级下限决定的案件不随阈值减少），超过容量 {k}"
            ),
        );
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if per_night(mid) <= k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let tiers = with_orange(base, lo);
    let got = per_night(lo);
    let below = if lo > 3 {
        format!("，取 {} 则为 {:.1} 件", lo - 1, per_night(lo - 1))
    } else {
        "；语料里每晚的案件不到这么多，容量用不完".to_string()
    };
    (
        tiers,
        format!(
            "语料共 {nights} 个登记日；橙色阈值 {lo} 时平均每晚 红+橙 {got:.1} 件（容量 {k}{below}）"
        ),
    )
}

/// A proposal as a `scoring.toml` fragment.
pub fn proposal_toml(p: &Proposal, how: &str) -> String {
    let mut s = format!("# {how}\n");
    for n in &p.notes {
        let _ = writeln!(s, "# {n}");
    }
    let _ = writeln!(s, "[tiers]");
    for (name, v) in ["红", "橙", "黄", "蓝"].iter().zip(p.tiers) {
        let _ = writeln!(s, "\"{name}\" = {v}");
    }
    s
}

/// A case whose class or tier differs between two rule sets.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Case id.
    pub id: String,
    /// Line in the corpus.
    pub line: u64,
    /// Gold class.
    pub gold: String,
    /// Class before → after.
    pub class: (String, String),
    /// Tier before → after.
    pub tier: (String, String),
    /// Risk before → after.
    pub risk: (u32, u32),
    /// Rules that fired only before.
    pub lost_rules: Vec<String>,
    /// Rules that fired only after.
    pub new_rules: Vec<String>,
}

/// Every case whose class or tier changed, with the rules that made the difference.
pub fn changes(corpus: &Corpus, before: &[Verdict], after: &[Verdict]) -> Vec<Change> {
    let mut out = Vec::new();
    for ((c, a), b) in corpus.cases.iter().zip(before).zip(after) {
        if a.primary_class == b.primary_class && a.tier == b.tier {
            continue;
        }
        let fired = |v: &Verdict| -> BTreeSet<String> {
            v.evidence
                .iter()
                .map(|e| format!("{}({})", e.rule, e.points))
                .collect()
        };
        let (fa, fb) = (fired(a), fired(b));
        out.push(Change {
            id: c.case.id.clone(),
            line: c.line,
            gold: c.gold.primary.clone(),
            class: (a.primary_class.clone(), b.primary_class.clone()),
            tier: (a.tier.name().into(), b.tier.name().into()),
            risk: (a.risk, b.risk),
            lost_rules: fa.difference(&fb).cloned().collect(),
            new_rules: fb.difference(&fa).cloned().collect(),
        });
    }
    out
}

/// The rule-change report in Markdown.
pub fn compare_markdown(before: &Report, after: &Report, changes: &[Change]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# 规则变更报告：{}\n", after.corpus);
    let _ = writeln!(
        s,
        "| 指标 | 变更前% | 变更后% | 变化 |\n|---|---:|---:|---:|"
    );
    let row = |s: &mut String, name: &str, a: f64, b: f64| {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {:+.1} |",
            pct(a),
            pct(b),
            (b - a) * 100.0
        );
    };
    row(&mut s, "宏平均 F1", before.macro_f1, after.macro_f1);
    row(&mut s, "微平均 F1（六类）", before.micro_f1, after.micro_f1);
    row(&mut s, "主类别准确率", before.accuracy, after.accuracy);
    for (a, b) in before.tiers.iter().zip(&after.tiers) {
        row(
            &mut s,
            &format!("{}及以上 精确率", a.tier),
            a.precision,
            b.precision,
        );
        row(
            &mut s,
            &format!("{}及以上 召回率", a.tier),
            a.recall,
            b.recall,
        );
    }
    for (a, b) in before.classes.iter().zip(&after.classes) {
        if a.support > 0 {
            row(&mut s, &format!("{} F1", a.class), a.f1, b.f1);
        }
    }
    let _ = writeln!(s, "\n## 类别或等级变化的案件：{} 件\n", changes.len());
    if !changes.is_empty() {
        let _ = writeln!(
            s,
            "| 编号 | 行 | 标注 | 类别 | 等级 | 风险分 | 不再命中 | 新命中 |\n|---|---:|---|---|---|---|---|---|"
        );
        for c in changes {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} → {} | {} → {} | {} → {} | {} | {} |",
                c.id,
                c.line,
                c.gold,
                c.class.0,
                c.class.1,
                c.tier.0,
                c.tier.1,
                c.risk.0,
                c.risk.1,
                c.lost_rules.join(" "),
                c.new_rules.join(" ")
            );
        }
    }
    let before_ids: BTreeSet<&str> = before.rules.iter().map(|r| r.rule.as_str()).collect();
    let after_ids: BTreeSet<&str> = after.rules.iter().map(|r| r.rule.as_str()).collect();
    let added: Vec<&str> = after_ids.difference(&before_ids).copied().collect();
    let removed: Vec<&str> = before_ids.difference(&after_ids).copied().collect();
    if !added.is_empty() || !removed.is_empty() {
        let _ = writeln!(
            s,
            "\n新增规则：{}；删除规则：{}。",
            added.join("、"),
            removed.join("、")
        );
    }
    let _ = writeln!(
        s,
        "\n## 规则命中变化\n\n| 规则 | 变更前 | 变更后 |\n|---|---:|---:|"
    );
    for r in &after.rules {
        let b = before
            .rules
            .iter()
            .find(|x| x.rule == r.rule)
            .map_or(0, |x| x.hits);
        if b != r.hits {
            let _ = writeln!(s, "| {} | {b} | {} |", r.rule, r.hits);
        }
    }
    s
}
