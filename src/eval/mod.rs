//! Evaluation against labeled corpora: per-class precision, recall and
//! F1 with macro and micro averages, the confusion matrix, warning
//! precision and recall per tier, a threshold sweep, per-rule statistics,
//! the cases behind every error, threshold tuning, and the comparison of
//! two rule sets.
//!
//! A labeled corpus is JSON Lines: the case fields plus
//! `"gold": {"primary": …, "secondary": […], "warn": bool, "tier": …,
//! "signals": […]}`. Another dataset's labels are mapped to ours with a
//! [`LabelMap`]; classes with no counterpart are then left out of the
//! averages and the report says so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::case::{Case, FieldError, FieldValue};
use crate::matcher::Engine;
use crate::verdict::{Tier, Verdict};

/// Gold labels as read (external data may lack warnings and tiers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldLabel {
    /// Primary class (our name, or 其他).
    pub primary: String,
    /// Secondary classes.
    #[serde(default)]
    pub secondary: Vec<String>,
    /// Whether the case should be warned.
    #[serde(default)]
    pub warn: Option<bool>,
    /// Expected tier (红/橙/黄/蓝/无).
    #[serde(default)]
    pub tier: Option<String>,
    /// Signals present.
    #[serde(default)]
    pub signals: Option<Vec<String>>,
    /// Whether the case is a crisis (credible self-harm language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crisis: Option<bool>,
    /// Source (源头) tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
}

/// How another dataset's labels map to ours (`--labels MAP.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelMap {
    /// Key of the label in each JSON line.
    pub field: String,
    /// Their label → our class name (or 其他).
    pub map: BTreeMap<String, String>,
    /// Their labels that are not evaluable (broader than any of ours).
    #[serde(default)]
    pub skip: Vec<String>,
    /// Key of the title, if the data has one under another name.
    #[serde(default)]
    pub title_field: Option<String>,
}

/// One labeled case.
#[derive(Debug, Clone)]
pub struct LabeledCase {
    /// 1-based line in the corpus file.
    pub line: u64,
    /// The case.
    pub case: Case,
    /// Its labels.
    pub gold: GoldLabel,
}

/// What reading a labeled corpus gave.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Usable cases.
    pub cases: Vec<LabeledCase>,
    /// Lines left out because their label is in the map's `skip` list.
    pub skipped: usize,
    /// Lines that could not be read: (line, reason).
    pub rejected: Vec<(u64, String)>,
}

/// Read a labeled corpus (JSON Lines). Without a map the labels are in
/// `gold`; with one, in `map.field`. A missing `received` date is allowed
/// here (evaluation does not depend on it).
pub fn read_corpus(path: &Path, map: Option<&LabelMap>) -> std::io::Result<Corpus> {
    let file = std::fs::File::open(path)?;
    let mut out = Corpus::default();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match labeled_from_json(&line, map) {
            Ok(Some((case, gold))) => out.cases.push(LabeledCase {
                line: line_no,
                case,
                gold,
            }),
            Ok(None) => out.skipped += 1,
            Err(e) => out.rejected.push((line_no, e.0)),
        }
    }
    Ok(out)
}

fn labeled_from_json(
    line: &str,
    map: Option<&LabelMap>,
) -> Result<Option<(Case, GoldLabel)>, FieldError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| FieldError(format!("不是有效的 JSON：{e}")))?;
    let serde_json::Value::Object(obj) = value else {
        return Err(FieldError("每行应是一个 JSON 对象".into()));
    };
    let gold = match map {
        None => {
            let g = obj
                .get("gold")
                .ok_or_else(|| FieldError("缺少 gold 标注".into()))?;
            serde_json::from_value::<GoldLabel>(g.clone())
                .map_err(|e| FieldError(format!("gold 标注无效：{e}")))?
        }
        Some(m) => {
            let label = obj
                .get(&m.field)
                .and_then(|v| v.as_str())
                .ok_or_else(|| FieldError(format!("缺少标签字段 {}", m.field)))?;
            if m.skip.iter().any(|s| s == label) {
                return Ok(None);
            }
            let ours = m.map.get(label).ok_or_else(|| {
                FieldError(format!(
                    "标签“{label}”没有映射；请在映射文件的 [map] 或 skip 中加上它"
                ))
            })?;
            GoldLabel {
                primary: ours.clone(),
                secondary: Vec::new(),
                warn: None,
                tier: None,
                signals: None,
                crisis: None,
                sources: None,
            }
        }
    };
    let mut fields: Vec<(String, FieldValue)> = Vec::new();
    for (k, v) in &obj {
        let key = match map.and_then(|m| m.title_field.as_deref()) {
            Some(t) if t == k => "title".to_string(),
            _ => k.clone(),
        };
        let value = match v {
            serde_json::Value::String(s) => FieldValue::Scalar(s.clone()),
            serde_json::Value::Number(n) => FieldValue::Scalar(n.to_string()),
            serde_json::Value::Array(items) => FieldValue::List(
                items
                    .iter()
                    .filter_map(|x| match x {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => continue,
        };
        fields.push((key, value));
    }
    if !fields
        .iter()
        .any(|(k, _)| crate::input::case::canonical_field(k) == Some("received"))
    {
        fields.push(("received".into(), FieldValue::Scalar("1970-01-01".into())));
    }
    let case = Case::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.clone())))?;
    Ok(Some((case, gold)))
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Gold cases of the class.
    pub support: usize,
    /// Cases predicted as the class.
    pub predicted: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Warning precision and recall at one tier ("this tier or higher").
#[derive(Debug, Clone, Serialize)]
pub struct TierMetrics {
    /// Tier name.
    pub tier: String,
    /// Gold cases at this tier or higher.
    pub gold: usize,
    /// Predicted at this tier or higher.
    pub predicted: usize,
    /// Both.
    pub correct: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
}

/// Crisis-flag precision and recall.
#[derive(Debug, Clone, Serialize)]
pub struct CrisisMetrics {
    /// Gold crisis cases.
    pub gold: usize,
    /// Cases flagged.
    pub predicted: usize,
    /// Both.
    pub correct: usize,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Gold crisis cases that were flagged and put in 红 (the flag's promise).
    pub red: usize,
}

/// One point of the threshold sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// Risk threshold.
    pub threshold: u32,
    /// Cases at or above it.
    pub warned: usize,
    /// Precision against gold warnings.
    pub precision: f64,
    /// Recall against gold warnings.
    pub recall: f64,
}

/// How a rule behaved on the corpus.
#[derive(Debug, Clone, Serialize)]
pub struct RuleStats {
    /// Rule id.
    pub rule: String,
    /// Class or signal.
    pub target: String,
    /// Cases it fired on.
    pub hits: usize,
    /// For class rules: share of its hits on cases whose gold classes
    /// include its class.
    pub right_class_share: Option<f64>,
}

/// A case behind an error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorCase {
    /// Case id.
    pub id: String,
    /// Line in the corpus.
    pub line: u64,
    /// `class`, `missed_warning` or `false_warning`.
    pub kind: String,
    /// Gold class or tier.
    pub gold: String,
    /// Predicted class or tier.
    pub predicted: String,
    /// Risk score.
    pub risk: u32,
    /// Rules that fired.
    pub rules: Vec<String>,
}

/// The evaluation report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Corpus file.
    pub corpus: String,
    /// Cases evaluated.
    pub cases: usize,
    /// Lines skipped by the label map.
    pub skipped: usize,
    /// Lines that could not be read.
    pub rejected: usize,
    /// Per class, in rule-set order (其他 last).
    pub classes: Vec<ClassMetrics>,
    /// Our classes with no gold case: left out of the averages.
    pub excluded_classes: Vec<String>,
    /// Macro averages over the included classes.
    pub macro_precision: f64,
    /// Macro recall.
    pub macro_recall: f64,
    /// Macro F1.
    pub macro_f1: f64,
    /// Micro averages over the included classes except 其他.
    pub micro_precision: f64,
    /// Micro recall.
    pub micro_recall: f64,
    /// Micro F1.
    pub micro_f1: f64,
    /// Accuracy of the primary class.
    pub accuracy: f64,
    /// Labels of the confusion matrix (rows gold, columns predicted).
    pub labels: Vec<String>,
    /// The confusion matrix.
    pub confusion: Vec<Vec<usize>>,
    /// Warning metrics per tier (empty when the corpus has no warning labels).
    pub tiers: Vec<TierMetrics>,
    /// Threshold sweep (empty without warning labels).
    pub sweep: Vec<SweepPoint>,
    /// Cases labeled calm (蓝 or 无) that came out 橙 or 红 (`None` without
    /// warning labels).
    pub calm_above_yellow: Option<usize>,
    /// The crisis flag (`None` when the corpus has no crisis labels).
    pub crisis: Option<CrisisMetrics>,
    /// Per source tag (empty when the corpus has no source labels).
    pub sources: Vec<ClassMetrics>,
    /// Per-rule statistics.
    pub rules: Vec<RuleStats>,
    /// Rules that never fired.
    pub never_fired: Vec<String>,
    /// Class rules with at least 5 hits, most of them on other classes.
    pub mostly_wrong: Vec<String>,
    /// Every error.
    pub errors: Vec<ErrorCase>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn tier_rank(t: &str) -> usize {
    Tier::ALL.iter().position(|x| x.name() == t).unwrap_or(4)
}

/// Triage every case of the corpus.
pub fn predict(engine: &Engine, corpus: &Corpus) -> Vec<Verdict> {
    use rayon::prelude::*;
    corpus
        .cases
        .par_iter()
        .map(|c| engine.triage(&c.case))
        .collect()
}

/// Compute the report from gold labels and verdicts (in the same order).
pub fn evaluate(engine: &Engine, corpus: &Corpus, verdicts: &[Verdict], name: &str) -> Report {
    let scoring = &engine.rules().scoring;
    let mut labels: Vec<String> = scoring.classes.iter().map(|c| c.name.clone()).collect();
    labels.push(scoring.other.clone());
    let index = |name: &str| labels.iter().position(|l| l == name);
    let n = labels.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut errors = Vec::new();
    for (c, v) in corpus.cases.iter().zip(verdicts) {
        let g = index(&c.gold.primary).unwrap_or(n - 1);
        let p = index(&v.primary_class).unwrap_or(n - 1);
        confusion[g][p] += 1;
        if g != p {
            errors.push(error(c, v, "class", &c.gold.primary, &v.primary_class));
        }
    }
    let mut classes = Vec::new();
    let mut excluded = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let support: usize = confusion[i].iter().sum();
        let predicted: usize = confusion.iter().map(|row| row[i]).sum();
        let correct = confusion[i][i];
        if support == 0 {
            excluded.push(label.clone());
        }
        let (p, r) = (ratio(correct, predicted), ratio(correct, support));
        classes.push(ClassMetrics {
            class: label.clone(),
            support,
            predicted,
            correct,
            precision: p,
            recall: r,
            f1: f1(p, r),
        });
    }
    let included: Vec<&ClassMetrics> = classes.iter().filter(|c| c.support > 0).collect();
    let k = included.len().max(1) as f64;
    let macro_p = included.iter().map(|c| c.precision).sum::<f64>() / k;
    let macro_r = included.iter().map(|c| c.recall).sum::<f64>() / k;
    let hot: Vec<&ClassMetrics> = included
        .iter()
        .copied()
        .filter(|c| c.class != scoring.other)
        .collect();
    let (tp, pred, sup) = hot.iter().fold((0, 0, 0), |(a, b, c), m| {
        (a + m.correct, b + m.predicted, c + m.support)
    });
    // Predictions of an excluded class are false positives of the detector too.
    let pred_excluded: usize = classes
        .iter()
        .filter(|c| c.support == 0 && c.class != scoring.other)
        .map(|c| c.predicted)
        .sum();
    let (mp, mr) = (ratio(tp, pred + pred_excluded), ratio(tp, sup));
    let total: usize = confusion.iter().flatten().sum();
    let diag: usize = (0..n).map(|i| confusion[i][i]).sum();

    let has_warn = !corpus.cases.is_empty() && corpus.cases.iter().all(|c| c.gold.tier.is_some());
    let mut tiers = Vec::new();
    let mut sweep = Vec::new();
    let mut calm_above_yellow = None;
    if has_warn {
        let gold_rank: Vec<usize> = corpus
            .cases
            .iter()
            .map(|c| tier_rank(c.gold.tier.as_deref().unwrap_or("无")))
            .collect();
        for (ti, t) in Tier::ALL[..4].iter().enumerate() {
            let gold = gold_rank.iter().filter(|&&r| r <= ti).count();
            let predicted = verdicts
                .iter()
                .filter(|v| tier_rank(v.tier.name()) <= ti)
                .count();
            let correct = gold_rank
                .iter()
                .zip(verdicts)
                .filter(|(g, v)| **g <= ti && tier_rank(v.tier.name()) <= ti)
                .count();
            tiers.push(TierMetrics {
                tier: t.name().to_string(),
                gold,
                predicted,
                correct,
                precision: ratio(correct, predicted),
                recall: ratio(correct, gold),
            });
        }
        for (c, v) in corpus.cases.iter().zip(verdicts) {
            let g = c.gold.tier.as_deref().unwrap_or("无");
            match (g != "无", v.warned) {
                (true, false) => errors.push(error(c, v, "missed_warning", g, v.tier.name())),
                (false, true) => errors.push(error(c, v, "false_warning", g, v.tier.name())),
                _ => {}
            }
        }
        calm_above_yellow = Some(
            gold_rank
                .iter()
                .zip(verdicts)
                .filter(|(g, v)| **g >= 3 && tier_rank(v.tier.name()) <= 1)
                .count(),
        );
        let gold_warn: Vec<bool> = gold_rank.iter().map(|&r| r < 4).collect();
        let all_gold = gold_warn.iter().filter(|&&w| w).count();
        for t in (0..=100).step_by(5) {
            let warned = verdicts.iter().filter(|v| v.risk >= t).count();
            let correct = verdicts
                .iter()
                .zip(&gold_warn)
                .filter(|(v, g)| **g && v.risk >= t)
                .count();
            sweep.push(SweepPoint {
                threshold: t,
                warned,
                precision: ratio(correct, warned),
                recall: ratio(correct, all_gold),
            });
        }
    }

    let has_crisis =
        !corpus.cases.is_empty() && corpus.cases.iter().all(|c| c.gold.crisis.is_some());
    let crisis = has_crisis.then(|| {
        let (mut gold, mut predicted, mut correct, mut red) = (0, 0, 0, 0);
        for (c, v) in corpus.cases.iter().zip(verdicts) {
            let g = c.gold.crisis == Some(true);
            gold += usize::from(g);
            predicted += usize::from(v.crisis);
            correct += usize::from(g && v.crisis);
            red += usize::from(g && v.crisis && v.tier == Tier::Red);
            match (g, v.crisis) {
                (true, false) => errors.push(error(c, v, "missed_crisis", "危机", v.tier.name())),
                (false, true) => errors.push(error(c, v, "false_crisis", "非危机", "危机")),
                _ => {}
            }
        }
        CrisisMetrics {
            gold,
            predicted,
            correct,
            precision: ratio(correct, predicted),
            recall: ratio(correct, gold),
            red,
        }
    });
    let mut sources = Vec::new();
    if !corpus.cases.is_empty() && corpus.cases.iter().all(|c| c.gold.sources.is_some()) {
        for def in &scoring.sources {
            let (mut support, mut predicted, mut correct) = (0, 0, 0);
            for (c, v) in corpus.cases.iter().zip(verdicts) {
                let g = c
                    .gold
                    .sources
                    .as_ref()
                    .is_some_and(|s| s.contains(&def.name));
                let p = v.sources.iter().any(|t| t.source == def.name);
                support += usize::from(g);
                predicted += usize::from(p);
                correct += usize::from(g && p);
            }
            let (p, r) = (ratio(correct, predicted), ratio(correct, support));
            sources.push(ClassMetrics {
                class: def.name.clone(),
                support,
                predicted,
                correct,
                precision: p,
                recall: r,
                f1: f1(p, r),
            });
        }
    }

    // Per-rule statistics.
    let mut hits: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (c, v) in corpus.cases.iter().zip(verdicts) {
        let gold: BTreeSet<&str> = std::iter::once(c.gold.primary.as_str())
            .chain(c.gold.secondary.iter().map(String::as_str))
            .collect();
        for e in &v.evidence {
            let entry = hits.entry(e.rule.as_str()).or_default();
            entry.0 += 1;
            if gold.contains(e.target.as_str()) {
                entry.1 += 1;
            }
        }
    }
    let mut rules = Vec::new();
    let mut never_fired = Vec::new();
    let mut mostly_wrong = Vec::new();
    for r in &engine.rules().rules {
        let target = scoring.target_name(r.target).to_string();
        let is_class = matches!(r.target, crate::rules::Target::Class(_));
        let (h, right) = hits.get(r.id.as_str()).copied().unwrap_or((0, 0));
        let share = (is_class && h > 0).then(|| ratio(right, h));
        if h == 0 {
            never_fired.push(r.id.clone());
        }
        if is_class && h >= 5 && share.is_some_and(|s| s < 0.5) && !excluded.contains(&target) {
            mostly_wrong.push(r.id.clone());
        }
        rules.push(RuleStats {
            rule: r.id.clone(),
            target,
            hits: h,
            right_class_share: share,
        });
    }
    Report {
        corpus: name.to_string(),
        cases: corpus.cases.len(),
        skipped: corpus.skipped,
        rejected: corpus.rejected.len(),
        classes,
        excluded_classes: excluded,
        macro_precision: macro_p,
        macro_recall: macro_r,
        macro_f1: f1(macro_p, macro_r),
        micro_precision: mp,
        micro_recall: mr,
        micro_f1: f1(mp, mr),
        accuracy: ratio(diag, total),
        labels,
        confusion,
        tiers,
        sweep,
        calm_above_yellow,
        crisis,
        sources,
        rules,
        never_fired,
        mostly_wrong,
        errors,
    }
}

fn error(c: &LabeledCase, v: &Verdict, kind: &str, gold: &str, predicted: &str) -> ErrorCase {
    ErrorCase {
        id: c.case.id.clone(),
        line: c.line,
        kind: kind.to_string(),
        gold: gold.to_string(),
        predicted: predicted.to_string(),
        risk: v.risk,
        rules: v.evidence.iter().map(|e| e.rule.clone()).collect(),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

/// The report as Markdown, in Chinese. At most `max_errors` errors of each
/// kind are listed (all are in the JSON report).
pub fn markdown(r: &Report, max_errors: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# 评估报告：{}\n", r.corpus);
    let _ = writeln!(
        s,
        "评估 {} 件；按标签映射跳过 {} 件；无法读取 {} 件。\n",
        r.cases, r.skipped, r.rejected
    );
    let _ = writeln!(
        s,
        "## 类别\n\n| 类别 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% | F1% |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for c in &r.classes {
        let mark = if c.support == 0 {
            "（无标注，不计入平均）"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "| {}{mark} | {} | {} | {} | {} | {} | {} |",
            c.class,
            c.support,
            c.predicted,
            c.correct,
            pct(c.precision),
            pct(c.recall),
            pct(c.f1)
        );
    }
    let _ = writeln!(
        s,
        "\n宏平均：精确率 {}%，召回率 {}%，F1 {}%。微平均（六类，不含其他）：精确率 {}%，召回率 {}%，F1 {}%。主类别准确率 {}%。",
        pct(r.macro_precision),
        pct(r.macro_recall),
        pct(r.macro_f1),
        pct(r.micro_precision),
        pct(r.micro_recall),
        pct(r.micro_f1),
        pct(r.accuracy)
    );
    if !r.excluded_classes.is_empty() {
        let _ = writeln!(
            s,
            "\n这些类别在语料中没有标注，不计入平均：{}。",
            r.excluded_classes.join("、")
        );
    }
    if let Some(c) = &r.crisis {
        let _ = writeln!(
            s,
            "\n## 危机标记\n\n标注为危机 {} 件，标记 {} 件，其中正确 {} 件：精确率 {}%，召回率 {}%；标注为危机且被标记并列为红色的 {} 件。",
            c.gold,
            c.predicted,
            c.correct,
            pct(c.precision),
            pct(c.recall),
            c.red
        );
    }
    if let Some(n) = r.calm_above_yellow {
        let _ = writeln!(s, "\n标注为蓝或无、却列为橙或红的案件：{n} 件。");
    }
    if !r.sources.is_empty() {
        let _ = writeln!(
            s,
            "\n## 源头\n\n| 源头 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% | F1% |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for c in &r.sources {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.class,
                c.support,
                c.predicted,
                c.correct,
                pct(c.precision),
                pct(c.recall),
                pct(c.f1)
            );
        }
    }
    let _ = writeln!(s, "\n## 混淆矩阵（行：标注，列：预测）\n");
    let _ = writeln!(s, "| 标注＼预测 | {} |", r.labels.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(r.labels.len()));
    for (i, row) in r.confusion.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "| {} | {} |", r.labels[i], cells.join(" | "));
    }
    if r.tiers.is_empty() {
        let _ = writeln!(s, "\n语料没有预警标注，不计算预警指标和阈值扫描。");
    } else {
        let _ = writeln!(
            s,
            "\n## 预警（该等级及以上）\n\n| 等级 | 标注数 | 预测数 | 正确 | 精确率% | 召回率% |\n|---|---:|---:|---:|---:|---:|"
        );
        for t in &r.tiers {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                t.tier,
                t.gold,
                t.predicted,
                t.correct,
                pct(t.precision),
                pct(t.recall)
            );
        }
        let _ = writeln!(
            s,
            "\n## 阈值扫描（风险分 ≥ 阈值即预警）\n\n| 阈值 | 预警数 | 精确率% | 召回率% |\n|---:|---:|---:|---:|"
        );
        for p in &r.sweep {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                p.threshold,
                p.warned,
                pct(p.precision),
                pct(p.recall)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## 规则\n\n| 规则 | 目标 | 命中件数 | 命中在正确类别的比例% |\n|---|---|---:|---:|"
    );
    for rule in &r.rules {
        let share = rule.right_class_share.map_or("—".to_string(), pct);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            rule.rule, rule.target, rule.hits, share
        );
    }
    if !r.never_fired.is_empty() {
        let _ = writeln!(s, "\n从未命中的规则：{}。", r.never_fired.join("、"));
    }
    if !r.mostly_wrong.is_empty() {
        let _ = writeln!(
            s,
            "\n多数命中在其他类别的规则：{}。",
            r.mostly_wrong.join("、")
        );
    }
    let _ = writeln!(s, "\n## 错误案例\n");
    for (kind, title) in [
        ("class", "类别错误"),
        ("missed_warning", "漏报（应预警未预警）"),
        ("false_warning", "误报（不应预警却预警）"),
        ("missed_crisis", "漏标危机"),
        ("false_crisis", "误标危机"),
    ] {
        let of: Vec<&ErrorCase> = r.errors.iter().filter(|e| e.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "### {title}：{} 件\n\n| 编号 | 行 | 标注 | 预测 | 风险分 | 命中规则 |\n|---|---:|---|---|---:|---|",
            of.len()
        );
        for e in of.iter().take(max_errors) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                e.id,
                e.line,
                e.gold,
                e.predicted,
                e.risk,
                e.rules.join(" ")
            );
        }
        if of.len() > max_errors {
            let _ = writeln!(s, "\n……另有 {} 件，见 JSON 报告。", of.len() - max_errors);
        }
        let _ = writeln!(s);
    }
    s
}

/// An SVG line chart of warning precision and recall against the risk
/// threshold (no fonts or libraries needed to view it).
pub fn sweep_svg(sweep: &[SweepPoint]) -> String {
    let (w, h, left, top, pw, ph) = (640.0, 400.0, 60.0, 30.0, 540.0, 300.0);
    let x = |t: f64| left + t / 100.0 * pw;
    let y = |v: f64| top + (1.0 - v) * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/><text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}%</text>",
            y(v),
            left + pw,
            left - 6.0,
            y(v) + 4.0,
            i * 10
        );
        let t = f64::from(i) * 10.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(t),
            top + ph + 18.0,
            i * 10
        );
    }
    for (name, color, get) in [
        (
            "精确率",
            "#c0392b",
            (|p: &SweepPoint| p.precision) as fn(&SweepPoint) -> f64,
        ),
        ("召回率", "#2471a3", |p: &SweepPoint| p.recall),
    ] {
        let pts: Vec<String> = sweep
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(f64::from(p.threshold)), y(get(p))))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{name}</title></polyline>",
            pts.join(" ")
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">风险分阈值</text>\n<text x=\"{:.1}\" y=\"20\" fill=\"#c0392b\">— 精确率</text><text x=\"{:.1}\" y=\"20\" fill=\"#2471a3\">— 召回率</text>\n</svg>",
        left + pw / 2.0,
        h - 8.0,
        left + pw - 150.0,
        left + pw - 70.0
    );
    s
}

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
            let nights: BTreeSet<_> = corpus.cases.iter().map(|c| c.case.received).collect();
            let nights = nights.len().max(1) as f64;
            let per_night =
                |th: u32| verdicts.iter().filter(|v| v.risk >= th).count() as f64 / nights;
            let th = (0..=101u32).find(|&th| per_night(th) <= k).unwrap_or(101);
            tiers[1] = th.min(100);
            notes.push(format!(
                "语料共 {} 个登记日；橙色阈值 {} 时平均每晚 红+橙 {:.1} 件（容量 {k}）",
                nights,
                tiers[1],
                per_night(tiers[1])
            ));
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
