//! Scoring: class scores, primary and secondary classes, signal points
//! with caps, field points (persons, target level), combinations, the
//! 0–100 risk score and its tier. Every point goes through the ledger, so
//! the ledger lines always add up to the risk score.
//!
//! The rules are documented for analysts in `rules/scoring.toml`.

use crate::input::Case;
use crate::matcher::{Engine, Findings, RuleHit, SignalHit};
use crate::rules::{Rule, RuleKind, Scoring, Target, Tiers};
use crate::text::modality::Modality;
use crate::verdict::{ClassScore, LedgerLine, LedgerSource, SignalScore, SourceTag, Tier, Verdict};

/// Map a risk score to a tier.
pub fn tier_of(tiers: &Tiers, risk: f64) -> Tier {
    if risk >= tiers.red {
        Tier::Red
    } else if risk >= tiers.orange {
        Tier::Orange
    } else if risk >= tiers.yellow {
        Tier::Yellow
    } else if risk >= tiers.blue {
        Tier::Blue
    } else {
        Tier::None
    }
}

fn fmt_points(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

/// Fill the class, signal, ledger, risk and tier fields of `v`.
pub fn score(scoring: &Scoring, rules: &[Rule], hits: &[RuleHit], v: &mut Verdict) {
    score_with(scoring, rules, hits, &[], v);
}

/// [`score`] with signal points from a context (history, clusters), which
/// count as what is happening now for the tier floors. Every field it
/// fills is set afresh, so scoring a scored verdict again (with more
/// context points) gives what scoring it once with them gives.
pub fn score_with(
    scoring: &Scoring,
    rules: &[Rule],
    hits: &[RuleHit],
    extra: &[SignalHit],
    v: &mut Verdict,
) {
    v.class_scores.clear();
    v.primary_class.clear();
    v.family = None;
    v.route.clear();
    v.secondary_classes.clear();
    v.sources.clear();
    v.crisis = false;
    v.crisis_reason = None;
    v.signals.clear();
    v.ledger.clear();
    let mut class = vec![0.0f64; scoring.classes.len()];
    let mut signal = vec![0.0f64; scoring.signals.len()];
    let mut signal_lines: Vec<Vec<LedgerLine>> = vec![Vec::new(); scoring.signals.len()];
    let mut source = vec![0.0f64; scoring.sources.len()];
    // Points each signal got from rules stated by the petitioner (not
    // hearsay only) and not from fields, before caps: what the crisis flag reads.
    let mut from_rules = vec![0.0f64; scoring.signals.len()];
    let mut from_fields = vec![0.0f64; scoring.signals.len()];
    // Floors read what is happening now (not an earlier episode).
    let mut current = vec![0.0f64; scoring.signals.len()];

    for h in hits {
        let rule = &rules[h.rule];
        match rule.target {
            Target::Class(c) => class[c] += h.points,
            Target::Source(s) => source[s] += h.points,
            Target::Signal(s) => {
                signal[s] += h.points;
                let own =
                    h.spans.is_empty() || h.spans.iter().any(|x| x.modality != Modality::Hearsay);
                if own {
                    from_rules[s] += h.points;
                }
                let now = h.spans.is_empty()
                    || h.spans
                        .iter()
                        .any(|x| !matches!(x.modality, Modality::Hearsay | Modality::Past));
                // A head count read from the text says how many are
                // affected; only the registered count or words of acting
                // together (联名, 一起去, 组织) say that a group is acting.
                let affected = matches!(rule.kind, RuleKind::Count { .. }) && !h.spans.is_empty();
                if now && !affected {
                    current[s] += h.points;
                }
                signal_lines[s].push(LedgerLine {
                    source: LedgerSource::Rule,
                    item: rule.id.clone(),
                    target: scoring.signals[s].name.clone(),
                    points: h.points,
                    note: match &h.note {
                        Some(n) => format!("{}：{n}", rule.description),
                        None => rule.description.clone(),
                    },
                });
            }
        }
    }
    for x in extra.iter().filter(|x| x.signal < scoring.signals.len()) {
        let s = x.signal;
        signal[s] += x.points;
        current[s] += x.points;
        signal_lines[s].push(LedgerLine {
            source: LedgerSource::Context,
            item: x.item.clone(),
            target: scoring.signals[s].name.clone(),
            points: x.points,
            note: x.note.clone(),
        });
    }
    if let Some(level) = v.target_level {
        for &(l, s, points) in &scoring.target_level {
            if l == level {
                signal[s] += points;
                from_fields[s] += points;
                signal_lines[s].push(LedgerLine {
                    source: LedgerSource::Field,
                    item: "target_level".into(),
                    target: scoring.signals[s].name.clone(),
                    points,
                    note: format!("诉求层级：{}", level.name()),
                });
            }
        }
    }

    // Classes.
    let mut order: Vec<usize> = (0..class.len()).filter(|&c| class[c] > 0.0).collect();
    order.sort_by(|&a, &b| class[b].total_cmp(&class[a]).then(a.cmp(&b)));
    v.class_scores = order
        .iter()
        .map(|&c| ClassScore {
            class: scoring.classes[c].name.clone(),
            score: class[c],
        })
        .collect();
    let primary = order
        .first()
        .copied()
        .filter(|&c| class[c] >= scoring.min_score);
    let mut ledger = Vec::new();
    match primary {
        Some(p) => {
            v.primary_class = scoring.classes[p].name.clone();
            v.family = Some(scoring.classes[p].family);
            v.route = scoring.classes[p].route.clone();
            v.secondary_classes = order[1..]
                .iter()
                .filter(|&&c| {
                    class[c] >= scoring.min_score && class[c] >= scoring.secondary_ratio * class[p]
                })
                .map(|&c| scoring.classes[c].name.clone())
                .collect();
            let risk = scoring.classes[p].risk;
            if risk > 0.0 {
                ledger.push(LedgerLine {
                    source: LedgerSource::Class,
                    item: scoring.classes[p].name.clone(),
                    target: scoring.classes[p].name.clone(),
                    points: risk,
                    note: format!(
                        "主类别 {}（类别分 {}）",
                        scoring.classes[p].name,
                        fmt_points(class[p])
                    ),
                });
            }
        }
        None => v.primary_class = scoring.other.clone(),
    }

    // Source tags, highest first; their routes follow the class's.
    let mut tagged: Vec<usize> = (0..source.len())
        .filter(|&s| source[s] >= scoring.source_min_score && source[s] > 0.0)
        .collect();
    tagged.sort_by(|&a, &b| source[b].total_cmp(&source[a]).then(a.cmp(&b)));
    for &s in &tagged {
        let def = &scoring.sources[s];
        v.sources.push(SourceTag {
            source: def.name.clone(),
            score: source[s],
        });
        if !def.route.is_empty() {
            if !v.route.is_empty() {
                v.route.push('；');
            }
            v.route.push_str(&format!("{}：{}", def.name, def.route));
        }
    }

    // The crisis flag: enough points from the rules of a crisis signal.
    if let Some(c) = &scoring.crisis {
        v.crisis = c.signals.iter().any(|&s| from_rules[s] >= c.min_points);
        if v.crisis && !c.route.is_empty() {
            v.route = if v.route.is_empty() {
                c.route.clone()
            } else {
                format!("{}；{}", c.route, v.route)
            };
        }
    }

    // Signals, each capped to [0, max].
    let mut present = vec![false; signal.len()];
    for (s, lines) in signal_lines.into_iter().enumerate() {
        if lines.is_empty() {
            continue;
        }
        ledger.extend(lines);
        let def = &scoring.signals[s];
        let raw = signal[s];
        let capped = raw.clamp(0.0, def.max);
        if capped != raw {
            ledger.push(LedgerLine {
                source: LedgerSource::Cap,
                item: def.name.clone(),
                target: def.name.clone(),
                points: capped - raw,
                note: if raw > def.max {
                    format!("信号“{}”封顶 {}", def.name, fmt_points(def.max))
                } else {
                    format!("信号“{}”不低于 0", def.name)
                },
            });
        }
        if capped > 0.0 {
            present[s] = true;
            v.signals.push(SignalScore {
                signal: def.name.clone(),
                points: capped,
            });
        }
    }
    for combo in &scoring.combos {
        if combo.signals.iter().all(|&s| present[s]) {
            let names: Vec<&str> = combo
                .signals
                .iter()
                .map(|&s| scoring.signals[s].name.as_str())
                .collect();
            ledger.push(LedgerLine {
                source: LedgerSource::Combo,
                item: names.join("+"),
                target: names.join("+"),
                points: combo.points,
                note: combo.description.clone(),
            });
        }
    }
    let total: f64 = ledger.iter().map(|l| l.points).sum();
    let bounded = total.clamp(0.0, 100.0);
    if bounded != total {
        ledger.push(LedgerLine {
            source: LedgerSource::Bound,
            item: "risk".into(),
            target: String::new(),
            points: bounded - total,
            note: "风险分限定在 0–100".into(),
        });
    }
    let mut risk = bounded.round();
    // Tier floors: the highest floor whose signals are all present with
    // enough points lifts the score to the lowest score of its tier.
    // Floors read what the petitioner states is happening (no hearsay-only
    // or earlier-episode hits), plus
    // the record's fields, within each signal's cap.
    let points_of = |s: usize| (current[s] + from_fields[s]).clamp(0.0, scoring.signals[s].max);
    let floor = scoring
        .floors
        .iter()
        .filter(|f| f.signals.iter().all(|&s| points_of(s) >= f.min_points))
        .min_by_key(|f| f.tier);
    if let Some(f) = floor {
        let to = scoring.tiers.threshold(f.tier).ceil();
        if risk < to {
            let names: Vec<&str> = f
                .signals
                .iter()
                .map(|&s| scoring.signals[s].name.as_str())
                .collect();
            ledger.push(LedgerLine {
                source: LedgerSource::Floor,
                item: names.join("+"),
                target: String::new(),
                points: to - risk,
                note: if f.description.is_empty() {
                    format!("有{}：至少列为{}色", names.join("、"), f.tier.name())
                } else {
                    f.description.clone()
                },
            });
            risk = to;
        }
    }
    if let Some(c) = scoring.crisis.as_ref().filter(|_| v.crisis) {
        let floor = scoring.tiers.threshold(c.tier).ceil();
        if risk < floor {
            ledger.push(LedgerLine {
                source: LedgerSource::Crisis,
                item: "crisis".into(),
                target: String::new(),
                points: floor - risk,
                note: format!("危机标记：自伤风险言语，至少列为{}色", c.tier.name()),
            });
            risk = floor;
        }
    }
    v.risk = risk as u32;
    v.tier = tier_of(&scoring.tiers, risk);
    v.warned = v.tier.warned();
    v.ledger = ledger;
}

/// Say why `v` is a crisis: the rules of the crisis signals that fired
/// and their words. Called once the evidence is filled in.
pub fn crisis_reason(scoring: &Scoring, v: &mut Verdict) {
    let Some(c) = scoring.crisis.as_ref().filter(|_| v.crisis) else {
        return;
    };
    let names: Vec<&str> = c
        .signals
        .iter()
        .map(|&s| scoring.signals[s].name.as_str())
        .collect();
    let mut parts = Vec::new();
    for e in v
        .evidence
        .iter()
        .filter(|e| names.contains(&e.target.as_str()))
    {
        let mut words: Vec<&str> = e.matches.iter().map(|m| m.text.as_str()).collect();
        words.dedup();
        parts.push(format!("{}「{}」", e.rule, words.join("、")));
    }
    v.crisis_reason = Some(format!(
        "{}：{}（规则分达到 {}）",
        names.join("、"),
        parts.join("；"),
        fmt_points(c.min_points)
    ));
}

/// Score the findings of one case: classes, signals, ledger, risk, tier
/// and the crisis reason.
pub fn scored(scoring: &Scoring, rules: &[Rule], findings: Findings) -> Verdict {
    let Findings {
        mut verdict,
        hits,
        extra,
    } = findings;
    score_with(scoring, rules, &hits, &extra, &mut verdict);
    crisis_reason(scoring, &mut verdict);
    verdict
}

impl Engine {
    /// Triage one case: its findings, scored (no context stage).
    pub fn triage(&self, case: &Case) -> Verdict {
        let rules = self.rules();
        scored(&rules.scoring, &rules.rules, self.findings(case))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_use_inclusive_lower_bounds() {
        let t = Tiers {
            red: 70.0,
            orange: 50.0,
            yellow: 30.0,
            blue: 15.0,
        };
        assert_eq!(tier_of(&t, 70.0), Tier::Red);
        assert_eq!(tier_of(&t, 69.0), Tier::Orange);
        assert_eq!(tier_of(&t, 50.0), Tier::Orange);
        assert_eq!(tier_of(&t, 30.0), Tier::Yellow);
        assert_eq!(tier_of(&t, 15.0), Tier::Blue);
        assert_eq!(tier_of(&t, 14.0), Tier::None);
    }

    #[test]
    fn scoring_again_with_more_points_is_scoring_once_with_them() {
        use crate::input::Case;
        use crate::rules::{RuleSet, RuleSource};
        let engine =
            Engine::new(RuleSet::load(RuleSource::builtin()).expect("rules")).expect("engine");
        let rules = engine.rules();
        let case = Case {
            id: "S1".into(),
            received: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            channel: None,
            petitioner_ids: vec!["P1".into()],
            persons: Some(30),
            target_level: Some(crate::input::case::Level::Province),
            location: None,
            title: None,
            text: "我家房子被强拆，三十多户村民准备一起去省里上访，再不解决我就不活了。".into(),
            notes: Vec::new(),
            handling: Default::default(),
        };
        let f = engine.findings(&case);
        let extra = vec![SignalHit {
            signal: 0,
            item: "HX-001".into(),
            points: 12.0,
            note: "重复访".into(),
        }];
        let mut once = f.verdict.clone();
        score_with(&rules.scoring, &rules.rules, &f.hits, &extra, &mut once);
        crisis_reason(&rules.scoring, &mut once);
        let mut twice = f.verdict.clone();
        score_with(&rules.scoring, &rules.rules, &f.hits, &[], &mut twice);
        crisis_reason(&rules.scoring, &mut twice);
        assert_ne!(twice.ledger, once.ledger);
        score_with(&rules.scoring, &rules.rules, &f.hits, &extra, &mut twice);
        crisis_reason(&rules.scoring, &mut twice);
        assert_eq!(
            serde_json::to_string(&twice).unwrap_or_default(),
            serde_json::to_string(&once).unwrap_or_default()
        );
        assert!(once.crisis);
    }
}
