//! Rule sets: the TOML files rule editors write, their validation, and the
//! default set built into the binary.
//!
//! A rule set is a directory with `scoring.toml` (classes, signals,
//! weights, tiers), `dict/user.dict` (the segmenter's user dictionary) and
//! any number of rule files (`*.toml`, each a list of `[[rule]]`).
//! [`RuleSet::load`] either returns a fully validated set or every problem
//! found; a set with errors is never used.

pub mod diag;
pub mod literals;
mod load;
pub mod model;
mod validate;

use std::ops::Range;
use std::path::Path;

use regex::Regex;
use sha2::{Digest, Sha256};

use crate::input::case::Level;
pub use diag::{Diagnostic, Severity};
pub(crate) use load::parse_toml;

/// Name of the scoring file at the root of a rule set.
pub const SCORING_FILE: &str = "scoring.toml";
/// Name of the language-cue file at the root of a rule set.
pub const LANGUAGE_FILE: &str = "language.toml";
/// Name of the repeat-rule file (read by `history`, not as `[[rule]]`s).
pub const HISTORY_FILE: &str = "history.toml";
/// The sensitive-period file of a rule set (read by the calendar).
pub const PERIODS_FILE: &str = "periods.toml";
/// The holiday and 调休 file of a rule set (read by the calendar).
pub const HOLIDAYS_FILE: &str = "holidays.toml";

/// Whether `rel` is a file of the rule set that is not a `[[rule]]` file
/// (scoring, language, calendar and history files are read by their own loaders).
pub fn is_support_file(rel: &str) -> bool {
    rel == SCORING_FILE
        || rel == LANGUAGE_FILE
        || rel == PERIODS_FILE
        || rel == HOLIDAYS_FILE
        || rel == HISTORY_FILE
}
/// Path of the user dictionary inside a rule set.
pub const USER_DICT_FILE: &str = "dict/user.dict";

/// The files of a rule set, read into memory, sorted by name.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Where the set came from, for messages (`rules/`, or `<内置规则>`).
    pub origin: String,
    /// `(relative path with / separators, content)`.
    pub files: Vec<(String, String)>,
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));
}

impl RuleSource {
    /// The default rule set compiled into the binary.
    pub fn builtin() -> RuleSource {
        let mut files: Vec<(String, String)> = embedded::FILES
            .iter()
            .map(|(p, c)| ((*p).to_string(), (*c).to_string()))
            .collect();
        files.sort();
        RuleSource {
            origin: "<内置规则>".into(),
            files,
        }
    }

    /// Read every `.toml` and `.dict` file under `dir`.
    pub fn from_dir(dir: &Path) -> std::io::Result<RuleSource> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if ext != "toml" && ext != "dict" {
                    continue;
                }
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&path)?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{}：规则文件必须是 UTF-8 编码（请在编辑器里另存为 UTF-8）",
                            path.display()
                        ),
                    )
                })?;
                let text = text
                    .strip_prefix('\u{feff}')
                    .map(str::to_string)
                    .unwrap_or(text);
                files.push((rel, text));
            }
        }
        files.sort();
        Ok(RuleSource {
            origin: dir.display().to_string(),
            files,
        })
    }

    /// Display name of a file: the origin joined with the relative path.
    pub fn display_name(&self, rel: &str) -> String {
        if self.origin.starts_with('<') {
            format!("{}/{rel}", self.origin)
        } else {
            Path::new(&self.origin).join(rel).display().to_string()
        }
    }

    /// SHA-256 over the rule files (name and content), excluding the dictionary.
    pub fn rules_hash(&self) -> String {
        self.hash(|name| !name.ends_with(".dict"))
    }

    /// SHA-256 of the user dictionary.
    pub fn dict_hash(&self) -> String {
        self.hash(|name| name.ends_with(".dict"))
    }

    fn hash(&self, keep: impl Fn(&str) -> bool) -> String {
        let mut h = Sha256::new();
        for (name, text) in self.files.iter().filter(|(n, _)| keep(n)) {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Write the files under `dir` (for `triage rules export`).
    pub fn export(&self, dir: &Path) -> std::io::Result<usize> {
        for (rel, text) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            crate::util::write_atomic(&path, text.as_bytes())?;
        }
        Ok(self.files.len())
    }
}

/// What a rule contributes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A class, by index into [`Scoring::classes`].
    Class(usize),
    /// A signal, by index into [`Scoring::signals`].
    Signal(usize),
    /// A source (源头) tag, by index into [`Scoring::sources`].
    Source(usize),
}

/// Where a match must fall to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Anywhere in the text.
    Chars,
    /// Start and end on the segmenter's token boundaries.
    Tokens,
}

/// How far an exclusion phrase reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExcludeScope {
    /// It must overlap the hit.
    Overlap,
    /// It must be in the same clause.
    Clause,
    /// Anywhere in the case.
    Case,
}

/// Unit of a proximity distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Characters between the two terms.
    Chars,
    /// Tokens between the two terms.
    Tokens,
}

/// The matching part of a rule.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// Keyword sets.
    Keywords {
        /// Any of these.
        any: Vec<String>,
        /// All of these.
        all: Vec<String>,
    },
    /// A regular expression.
    Regex {
        /// The compiled pattern.
        regex: Regex,
    },
    /// A head count: the larger of the `persons` field and the largest
    /// count written in the text, in `at_least..below`.
    Count {
        /// Lowest (inclusive).
        at_least: u32,
        /// Upper bound (exclusive), if any.
        below: Option<u32>,
        /// Only people or only households; `None` for both.
        unit: Option<crate::text::quantity::CountUnit>,
    },
    /// Term A within N units of term B, in the same clause.
    Proximity {
        /// First group.
        a: Vec<String>,
        /// Second group.
        b: Vec<String>,
        /// Largest distance.
        within: u32,
        /// Unit of the distance.
        unit: Unit,
    },
}

/// A place in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Index into [`RuleSource::files`].
    pub file: usize,
    /// Byte span in that file.
    pub span: Range<usize>,
}

/// An inline test text.
#[derive(Debug, Clone)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Where it is written.
    pub at: Located,
}

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Plain-words description.
    pub description: String,
    /// What it contributes to.
    pub target: Target,
    /// Points.
    pub weight: f64,
    /// How it matches.
    pub kind: RuleKind,
    /// Boundary mode of its terms.
    pub boundary: Boundary,
    /// Exclusion phrases.
    pub exclude: Vec<String>,
    /// Reach of the exclusions.
    pub exclude_scope: ExcludeScope,
    /// Distinct terms counted, at most.
    pub max_terms: u32,
    /// Normalisation steps (bits of [`crate::text::normalize`]).
    pub normalize: u8,
    /// Whether negation cues cancel hits.
    pub negation: bool,
    /// Must match.
    pub examples: Vec<Example>,
    /// Must not match.
    pub counter_examples: Vec<Example>,
    /// Where the rule's id is written.
    pub at: Located,
    /// Where each keyword is written.
    pub term_at: Vec<(String, Located)>,
}

/// The family of a class: the six hot classes or the related ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Family {
    /// 热点: the six hot-issue classes.
    #[serde(rename = "热点")]
    Hot,
    /// 相关: the related classes (涉法涉诉, 城乡建设 …).
    #[serde(rename = "相关")]
    Related,
}

impl Family {
    /// The Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Hot => "热点",
            Family::Related => "相关",
        }
    }

    /// Parse the Chinese name.
    pub fn parse(s: &str) -> Option<Family> {
        match s.trim() {
            "热点" => Some(Family::Hot),
            "相关" => Some(Family::Related),
            _ => None,
        }
    }
}

/// A class.
#[derive(Debug, Clone)]
pub struct ClassDef {
    /// Chinese name.
    pub name: String,
    /// Routing hint.
    pub route: String,
    /// 热点 or 相关.
    pub family: Family,
    /// Risk points as primary class.
    pub risk: f64,
}

/// A risk signal.
#[derive(Debug, Clone)]
pub struct SignalDef {
    /// Chinese name.
    pub name: String,
    /// Meaning.
    pub description: String,
    /// Cap on its points.
    pub max: f64,
}

/// A source (源头) tag.
#[derive(Debug, Clone)]
pub struct SourceDef {
    /// Chinese name.
    pub name: String,
    /// Meaning.
    pub description: String,
    /// Further route for cases with this source (may be empty).
    pub route: String,
}

/// When self-harm language makes a case a crisis.
#[derive(Debug, Clone)]
pub struct CrisisPolicy {
    /// Signal indexes whose rule points can set the flag.
    pub signals: Vec<usize>,
    /// Rule points (before caps) a signal needs.
    pub min_points: f64,
    /// Lowest tier of a crisis case.
    pub tier: Tier,
    /// Route named first.
    pub route: String,
}

/// A lowest tier for cases whose signals all reach a number of points.
#[derive(Debug, Clone)]
pub struct TierFloor {
    /// Signal indexes, all required.
    pub signals: Vec<usize>,
    /// Points (after caps) each needs.
    pub min_points: f64,
    /// The lowest tier.
    pub tier: Tier,
    /// Why.
    pub description: String,
}

/// Points for a signal when several signals co-occur.
#[derive(Debug, Clone)]
pub struct Combo {
    /// Signal indexes, all required.
    pub signals: Vec<usize>,
    /// Points.
    pub points: f64,
    /// Why.
    pub description: String,
}

/// Early-warning tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Tier {
    /// Highest.
    #[serde(rename = "红")]
    Red,
    /// Second.
    #[serde(rename = "橙")]
    Orange,
    /// Third.
    #[serde(rename = "黄")]
    Yellow,
    /// Lowest warned tier.
    #[serde(rename = "蓝")]
    Blue,
    /// Below every threshold: not warned.
    #[serde(rename = "无")]
    None,
}

impl Tier {
    /// All tiers, highest first.
    pub const ALL: [Tier; 5] = [
        Tier::Red,
        Tier::Orange,
        Tier::Yellow,
        Tier::Blue,
        Tier::None,
    ];

    /// The Chinese name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Red => "红",
            Tier::Orange => "橙",
            Tier::Yellow => "黄",
            Tier::Blue => "蓝",
            Tier::None => "无",
        }
    }

    /// Whether the tier is a warning.
    pub fn warned(self) -> bool {
        self != Tier::None
    }
}

/// Tier thresholds (lowest score of each tier).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tiers {
    /// 红.
    pub red: f64,
    /// 橙.
    pub orange: f64,
    /// 黄.
    pub yellow: f64,
    /// 蓝.
    pub blue: f64,
}

/// The validated content of `scoring.toml`.
#[derive(Debug, Clone)]
pub struct Scoring {
    /// Name of the no-class class.
    pub other: String,
    /// Class score needed for a class.
    pub min_score: f64,
    /// Share of the primary score needed for a secondary class.
    pub secondary_ratio: f64,
    /// Classes.
    pub classes: Vec<ClassDef>,
    /// Signals.
    pub signals: Vec<SignalDef>,
    /// `(level, signal, points)`.
    pub target_level: Vec<(Level, usize, f64)>,
    /// Co-occurrence bonuses.
    pub combos: Vec<Combo>,
    /// Tier thresholds.
    pub tiers: Tiers,
    /// Source tags.
    pub sources: Vec<SourceDef>,
    /// Source score needed for a tag.
    pub source_min_score: f64,
    /// The crisis flag, if configured.
    pub crisis: Option<CrisisPolicy>,
    /// Lowest tiers by signal.
    pub floors: Vec<TierFloor>,
}

impl Tiers {
    /// The lowest risk score of `tier` (0 for 无).
    pub fn threshold(&self, tier: Tier) -> f64 {
        match tier {
            Tier::Red => self.red,
            Tier::Orange => self.orange,
            Tier::Yellow => self.yellow,
            Tier::Blue => self.blue,
            Tier::None => 0.0,
        }
    }
}

impl Scoring {
    /// Resolve a class or signal name.
    pub fn target(&self, name: &str) -> Option<Target> {
        if let Some(i) = self.classes.iter().position(|c| c.name == name) {
            return Some(Target::Class(i));
        }
        if let Some(i) = self.signals.iter().position(|s| s.name == name) {
            return Some(Target::Signal(i));
        }
        self.sources
            .iter()
            .position(|s| s.name == name)
            .map(Target::Source)
    }

    /// The family of a class name (`None` for 其他 and unknown names).
    pub fn family_of(&self, class: &str) -> Option<Family> {
        self.classes
            .iter()
            .find(|c| c.name == class)
            .map(|c| c.family)
    }

    /// Display name of a target.
    pub fn target_name(&self, t: Target) -> &str {
        match t {
            Target::Class(i) => &self.classes[i].name,
            Target::Signal(i) => &self.signals[i].name,
            Target::Source(i) => &self.sources[i].name,
        }
    }
}

/// A validated rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The files it was read from.
    pub source: RuleSource,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// Scoring configuration.
    pub scoring: Scoring,
    /// Text of the user dictionary.
    pub user_dict: String,
    /// Negation, hearsay and condition cues.
    pub language: crate::text::modality::Language,
    /// Warnings found while loading.
    pub warnings: Vec<Diagnostic>,
}

impl RuleSet {
    /// Parse and validate a rule source. Returns every error found (and
    /// the warnings) when the set cannot be used.
    pub fn load(source: RuleSource) -> Result<RuleSet, Vec<Diagnostic>> {
        load::load(source)
    }

    /// A diagnostic pointing at `at`.
    pub fn diag(
        &self,
        at: &Located,
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let (rel, text) = &self.source.files[at.file];
        let name = self.source.display_name(rel);
        diag::Source { name: &name, text }.diag(code, severity, at.span.clone(), message, hint)
    }
}
