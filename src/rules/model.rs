//! The TOML shapes of rule files and of `scoring.toml`, as rule editors
//! write them. Every field that can be wrong carries its source span so a
//! problem can be shown at file:line:column.
//!
//! These structs are only parsed here; `load` checks them and turns them
//! into validated [`crate::rules::Rule`]s.

use serde::Deserialize;
use toml::Spanned;

/// A rule file: any number of `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuleFile {
    /// The rules of the file.
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Unique id, e.g. `CJ-001`.
    pub id: Spanned<String>,
    /// What the rule looks for, in plain words.
    pub description: Spanned<String>,
    /// The class (城建拆迁 …) or signal (群体 …) the rule contributes to.
    pub target: Spanned<String>,
    /// Class points, or risk points for a signal; -100 … 100, not 0.
    pub weight: Spanned<f64>,
    /// `keywords`, `regex`, `proximity` or `count`.
    pub kind: Spanned<String>,
    /// keywords: any of these; proximity: the first group of terms.
    pub any: Option<Vec<Spanned<String>>>,
    /// keywords: all of these must occur.
    pub all: Option<Vec<Spanned<String>>>,
    /// proximity: the second group of terms.
    pub near: Option<Vec<Spanned<String>>>,
    /// proximity: largest distance between the two terms.
    pub within: Option<Spanned<i64>>,
    /// proximity: `chars` (default) or `tokens`.
    pub unit: Option<Spanned<String>>,
    /// regex: the pattern.
    pub pattern: Option<Spanned<String>>,
    /// `chars` (default): match anywhere; `tokens`: a match must start and
    /// end on word boundaries of the segmenter.
    pub boundary: Option<Spanned<String>>,
    /// Phrases that cancel a hit.
    pub exclude: Option<Vec<Spanned<String>>>,
    /// Where an exclusion cancels: `overlap`, `clause` (default) or `case`.
    pub exclude_scope: Option<Spanned<String>>,
    /// Normalisations applied before matching: any of `traditional`,
    /// `width`, `case`, `noise`, `repeat` (default: all; `[]` for none).
    pub normalize: Option<Vec<Spanned<String>>>,
    /// Whether a negation cue before a hit cancels it (default true).
    pub negation: Option<bool>,
    /// count: lowest head count (inclusive).
    pub at_least: Option<Spanned<i64>>,
    /// count: head count must be below this.
    pub below: Option<Spanned<i64>>,
    /// count: `persons`, `households` or `any` (default).
    pub counts: Option<Spanned<String>>,
    /// Count up to this many distinct matched terms (default 1).
    pub max_terms: Option<Spanned<i64>>,
    /// Texts the rule must match (checked by `triage check`).
    pub examples: Option<Vec<Spanned<String>>>,
    /// Texts the rule must not match.
    pub counter_examples: Option<Vec<Spanned<String>>>,
}

/// `scoring.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    /// How classes are assigned.
    pub classes: RawClassPolicy,
    /// The classes.
    #[serde(default)]
    pub class: Vec<RawClass>,
    /// The risk signals.
    #[serde(default)]
    pub signal: Vec<RawSignal>,
    /// Points from the `target_level` field.
    #[serde(default)]
    pub target_level: Vec<RawTargetLevel>,
    /// Extra points when several signals occur together.
    #[serde(default)]
    pub combo: Vec<RawCombo>,
    /// Tier thresholds on the 0–100 risk score.
    pub tiers: RawTiers,
    /// How source (源头) tags are assigned.
    pub sources: Option<RawSourcePolicy>,
    /// The sources (源头): a second label dimension, tags with evidence.
    #[serde(default)]
    pub source: Vec<RawSource>,
    /// When a case is a crisis (self-harm language).
    pub crisis: Option<RawCrisis>,
    /// Lowest tiers for cases with given signals.
    #[serde(default)]
    pub floor: Vec<RawFloor>,
}

/// `[[floor]]`: cases with these signals are at least in this tier.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFloor {
    /// Signals that must all be present.
    pub signals: Vec<Spanned<String>>,
    /// Points (after caps) each of them needs.
    pub min_points: Spanned<f64>,
    /// The lowest tier.
    pub tier: Spanned<String>,
    /// Why, in plain words.
    #[serde(default)]
    pub description: String,
}

/// `[sources]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSourcePolicy {
    /// Source score needed to tag a case with a source.
    pub min_score: Spanned<f64>,
}

/// `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    /// Chinese name, used in rules and reports.
    pub name: Spanned<String>,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// Where a case with this source is also routed (e.g. 纪检监察).
    #[serde(default)]
    pub route: String,
}

/// `[crisis]`: self-harm language makes a case a crisis.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrisis {
    /// Signals whose evidence can set the flag (e.g. 自伤风险).
    pub signals: Vec<Spanned<String>>,
    /// Points (before the signal's cap) a signal needs from its rules.
    pub min_points: Spanned<f64>,
    /// Tier a crisis case is put in, at least (红).
    pub tier: Spanned<String>,
    /// Route named first for a crisis case.
    #[serde(default)]
    pub route: String,
}

/// `[classes]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClassPolicy {
    /// Name given to a case that fits no class.
    pub other: Spanned<String>,
    /// Class score needed to assign a class.
    pub min_score: Spanned<f64>,
    /// A further class is secondary when its score reaches this share of the primary's.
    pub secondary_ratio: Spanned<f64>,
}

/// `[[class]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    /// Chinese name, used in rules and reports.
    pub name: Spanned<String>,
    /// Where such cases are usually routed.
    #[serde(default)]
    pub route: String,
    /// `热点` (the six hot classes, default) or `相关` (the related classes).
    pub family: Option<Spanned<String>>,
    /// Risk points when this is the primary class.
    pub risk: Spanned<f64>,
}

/// `[[signal]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignal {
    /// Chinese name, used in rules and reports.
    pub name: Spanned<String>,
    /// What it means.
    #[serde(default)]
    pub description: String,
    /// Cap on the points this signal adds to the risk score.
    pub max: Spanned<f64>,
}

/// `[[target_level]]`: points when the case was brought to this level.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetLevel {
    /// 乡镇/县/市/省/国家.
    pub level: Spanned<String>,
    /// Signal credited.
    pub signal: Spanned<String>,
    /// Points.
    pub points: Spanned<f64>,
}

/// `[[combo]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCombo {
    /// Signals that must all be present.
    pub signals: Vec<Spanned<String>>,
    /// Extra points.
    pub points: Spanned<f64>,
    /// Why the combination matters.
    #[serde(default)]
    pub description: String,
}

/// `[tiers]`: lowest risk score of each tier.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTiers {
    /// 红.
    #[serde(rename = "红")]
    pub red: Spanned<f64>,
    /// 橙.
    #[serde(rename = "橙")]
    pub orange: Spanned<f64>,
    /// 黄.
    #[serde(rename = "黄")]
    pub yellow: Spanned<f64>,
    /// 蓝.
    #[serde(rename = "蓝")]
    pub blue: Spanned<f64>,
}
