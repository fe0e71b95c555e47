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

mod report;
mod tune;

pub use report::{markdown, sweep_svg};
pub use tune::{Change, Proposal, Target, changes, compare_markdown, proposal_toml, tune};

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
    // As a run judges them: with the rule set's calendar, at today's date.
    let calendar = crate::calendar::Calendar::from_source(&engine.rules().source).ok();
    let today = chrono::Local::now().date_naive();
    corpus
        .cases
        .par_iter()
        .map(|c| match &calendar {
            Some(cal) => crate::run::calendar::triage_dated(engine, cal, today, &c.case),
            None => engine.triage(&c.case),
        })
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
