//! Repeat rules (`rules/history.toml`): what a petitioner's earlier cases
//! say about tonight's case, in the spirit of Sigma's correlation rules.
//!
//! Each `[[repeat]]` rule has a kind, a window, a count, levels, points
//! and the signal it credits, and inline examples written as small
//! histories that `triage check` runs. Windows are **inclusive**: an
//! earlier case counts when it was received at most `window_days` days
//! before tonight's case (730 days: a case exactly 730 days earlier
//! counts, one 731 days earlier does not). "Earlier" means received
//! before tonight's case, or on the same day with a smaller case id, so a
//! run's result does not depend on the order of its input.
//!
//! Kinds:
//! - `event_count`: at least `count` cases in the window (`levels`: only
//!   cases at these levels; `same_class`: only cases of tonight's class;
//!   `include_current`: tonight's case counts when it qualifies too).
//! - `level_climb` (temporal order): within the window the petitioner's
//!   levels rise step by step through at least `count` levels, ending
//!   with tonight's case above every earlier one (乡镇 → 县 → 市 → 省 → 国家).
//! - `first`: no earlier case at all (初信初访): a tag, normally 0 points.
//! - `returns_after_close`: an earlier case (of the same class when
//!   `same_class`) received more than `closed_after_days` days before,
//!   so its handling period has passed and it is taken as closed, and
//!   within the window (ASSUMPTION: the input has no case status; the
//!   60 days are the handling period of 2022 条例 第三十四条).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::input::case::Level;
use crate::rules::diag::{Diagnostic, Severity, Source};
use crate::rules::{RuleSource, Scoring};

use super::store::Past;

pub use crate::rules::HISTORY_FILE;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    cluster: Option<RawCluster>,
    #[serde(default)]
    repeat: Vec<toml::Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    name: String,
    kind: String,
    description: String,
    #[serde(default)]
    window_days: Option<u32>,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    levels: Vec<String>,
    #[serde(default)]
    same_class: bool,
    #[serde(default)]
    include_current: bool,
    #[serde(default)]
    closed_after_days: Option<u32>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    points: f64,
    #[serde(default)]
    example: Vec<RawExample>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(default)]
    history: Vec<RawEvent>,
    case: RawEvent,
    fires: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(default)]
    days_before: i64,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    window_days: u32,
    #[serde(default = "default_shingle")]
    shingle: usize,
    #[serde(default = "default_threshold")]
    jaccard: f64,
    target: String,
    near_duplicate: Vec<SizePoints>,
    place: Vec<SizePoints>,
    #[serde(default = "default_place_min")]
    place_min_size: u32,
}

fn default_shingle() -> usize {
    5
}
fn default_threshold() -> f64 {
    0.8
}
fn default_place_min() -> u32 {
    3
}

/// Points by cluster size: the last step whose `at_least` the size reaches.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SizePoints {
    /// Smallest cluster size of this step.
    pub at_least: u32,
    /// Points to the target signal.
    pub points: f64,
}

/// The kind of a repeat rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatKind {
    /// Enough cases in the window.
    EventCount,
    /// Rising levels.
    LevelClimb,
    /// No earlier case.
    First,
    /// Back after a closed case.
    ReturnsAfterClose,
}

/// A validated repeat rule.
#[derive(Debug, Clone)]
pub struct RepeatRule {
    /// Rule id.
    pub id: String,
    /// Short name (重复访, 老户 …).
    pub name: String,
    /// Kind.
    pub kind: RepeatKind,
    /// What it means, in Chinese.
    pub description: String,
    /// Inclusive window in days (`None`: no limit).
    pub window_days: Option<u32>,
    /// Cases (or levels, for a climb) needed.
    pub count: u32,
    /// Levels that count (empty: any).
    pub levels: Vec<Level>,
    /// Only cases of tonight's class count.
    pub same_class: bool,
    /// Tonight's case counts too.
    pub include_current: bool,
    /// Days after which an earlier case is taken as closed.
    pub closed_after_days: u32,
    /// Signal index credited (`None` for a tag).
    pub signal: Option<usize>,
    /// Points.
    pub points: f64,
    examples: Vec<Example>,
    at: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
struct Example {
    history: Vec<(i64, String, Option<Level>)>,
    case: (String, Option<Level>),
    fires: bool,
}

/// Cluster settings (`[cluster]` of `history.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSettings {
    /// Days of the store's cases that clusters span (inclusive).
    pub window_days: u32,
    /// Shingle length in characters.
    pub shingle: usize,
    /// Jaccard similarity needed for near-duplicates.
    pub jaccard: f64,
    /// Signal credited.
    pub signal: usize,
    /// Points by size, near-duplicates.
    pub near_duplicate: Vec<SizePoints>,
    /// Points by size, same class and place.
    pub place: Vec<SizePoints>,
    /// Smallest place cluster.
    pub place_min_size: u32,
}

impl ClusterSettings {
    /// Points for a cluster of `size` from `steps`.
    pub fn points(steps: &[SizePoints], size: u32) -> f64 {
        steps
            .iter()
            .rev()
            .find(|s| size >= s.at_least)
            .map(|s| s.points)
            .unwrap_or(0.0)
    }
}

/// The repeat rules and cluster settings of a rule set.
#[derive(Debug, Clone)]
pub struct HistoryRules {
    /// Rules, in file order.
    pub rules: Vec<RepeatRule>,
    /// Cluster settings (`None`: no clusters).
    pub cluster: Option<ClusterSettings>,
    file: Option<(String, String)>,
}

/// One earlier case as a rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Case id.
    pub id: &'a str,
    /// Received date.
    pub received: NaiveDate,
    /// Level.
    pub level: Option<Level>,
    /// Class.
    pub class: &'a str,
}

/// A rule that fired, with the earlier cases that made it fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// Index into [`HistoryRules::rules`].
    pub rule: usize,
    /// The earlier cases (ids), oldest first.
    pub earlier: Vec<String>,
}

impl HistoryRules {
    /// No rules and no clusters (a rule set without `history.toml`).
    pub fn empty() -> HistoryRules {
        HistoryRules {
            rules: Vec::new(),
            cluster: None,
            file: None,
        }
    }

    /// Read and validate `history.toml` of `source` against `scoring`.
    pub fn load(source: &RuleSource, scoring: &Scoring) -> Result<HistoryRules, Vec<Diagnostic>> {
        let Some((rel, text)) = source.files.iter().find(|(r, _)| r == HISTORY_FILE) else {
            return Ok(HistoryRules::empty());
        };
        let name = source.display_name(rel);
        let src = Source { name: &name, text };
        let mut diags = Vec::new();
        let raw: RawFile = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                return Err(vec![src.diag(
                    "E101",
                    Severity::Error,
                    span,
                    format!("信访史规则文件格式错误：{}", e.message().trim()),
                    None,
                )]);
            }
        };
        let signal = |name: &str| scoring.signals.iter().position(|s| s.name == name);
        let class_ok = |c: &str| c == scoring.other || scoring.classes.iter().any(|k| k.name == c);
        let mut rules = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for spanned in raw.repeat {
            let at = spanned.span();
            let r = spanned.into_inner();
            let err = |code, msg: String, hint: Option<String>| {
                src.diag(code, Severity::Error, at.clone(), msg, hint)
            };
            if !seen.insert(r.id.clone()) {
                diags.push(err("E102", format!("信访史规则编号 {} 重复", r.id), None));
            }
            let kind = match r.kind.as_str() {
                "event_count" => RepeatKind::EventCount,
                "level_climb" => RepeatKind::LevelClimb,
                "first" => RepeatKind::First,
                "returns_after_close" => RepeatKind::ReturnsAfterClose,
                other => {
                    diags.push(err(
                        "E103",
                        format!("{}：未知的 kind “{other}”", r.id),
                        Some("可用：event_count、level_climb、first、returns_after_close".into()),
                    ));
                    continue;
                }
            };
            let mut levels = Vec::new();
            for l in &r.levels {
                match Level::parse(l) {
                    Some(l) => levels.push(l),
                    None => diags.push(err(
                        "E104",
                        format!("{}：未知的层级 “{l}”", r.id),
                        Some("可用：乡镇、县、市、省、国家".into()),
                    )),
                }
            }
            let sig = match r.target.as_deref() {
                None => None,
                Some(t) => match signal(t) {
                    Some(s) => Some(s),
                    None => {
                        diags.push(err(
                            "E105",
                            format!("{}：未知的信号 “{t}”", r.id),
                            Some(format!(
                                "可用的信号：{}",
                                scoring
                                    .signals
                                    .iter()
                                    .map(|s| s.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join("、")
                            )),
                        ));
                        None
                    }
                },
            };
            if r.points != 0.0 && r.target.is_none() {
                diags.push(err(
                    "E106",
                    format!("{}：有分数但没有 target 信号", r.id),
                    None,
                ));
            }
            if !(0.0..=100.0).contains(&r.points) {
                diags.push(err("E107", format!("{}：points 应在 0–100", r.id), None));
            }
            if r.window_days == Some(0) || r.count == 0 {
                diags.push(err(
                    "E108",
                    format!("{}：window_days 和 count 至少为 1", r.id),
                    None,
                ));
            }
            if kind == RepeatKind::ReturnsAfterClose && r.closed_after_days.is_none() {
                diags.push(err(
                    "E109",
                    format!("{}：returns_after_close 需要 closed_after_days", r.id),
                    None,
                ));
            }
            if r.example.is_empty() {
                diags.push(err(
                    "E110",
                    format!("{}：至少写一个示例（[[repeat.example]]）", r.id),
                    None,
                ));
            }
            let mut examples = Vec::new();
            for ex in &r.example {
                let mut bad = false;
                let mut ev = |e: &RawEvent| -> (String, Option<Level>) {
                    let class = e.class.clone().unwrap_or_else(|| scoring.other.clone());
                    if !class_ok(&class) {
                        bad = true;
                    }
                    let level = e.level.as_deref().and_then(|l| {
                        let p = Level::parse(l);
                        if p.is_none() {
                            bad = true;
                        }
                        p
                    });
                    (class, level)
                };
                let history = ex
                    .history
                    .iter()
                    .map(|e| {
                        let (c, l) = ev(e);
                        (e.days_before, c, l)
                    })
                    .collect();
                let case = ev(&ex.case);
                if bad {
                    diags.push(err(
                        "E111",
                        format!("{}：示例里有未知的类别或层级", r.id),
                        None,
                    ));
                }
                examples.push(Example {
                    history,
                    case,
                    fires: ex.fires,
                });
            }
            rules.push(RepeatRule {
                id: r.id,
                name: r.name,
                kind,
                description: r.description,
                window_days: r.window_days,
                count: r.count,
                levels,
                same_class: r.same_class,
                include_current: r.include_current,
                closed_after_days: r.closed_after_days.unwrap_or(0),
                signal: sig,
                points: r.points,
                examples,
                at,
            });
        }
        let cluster = raw.cluster.and_then(|c| {
            let Some(s) = signal(&c.target) else {
                diags.push(src.diag(
                    "E112",
                    Severity::Error,
                    0..0,
                    format!("[cluster]：未知的信号 “{}”", c.target),
                    None,
                ));
                return None;
            };
            if c.shingle == 0 || !(0.0..=1.0).contains(&c.jaccard) || c.window_days == 0 {
                diags.push(src.diag(
                    "E113",
                    Severity::Error,
                    0..0,
                    "[cluster]：shingle、window_days 至少为 1，jaccard 在 0–1".to_string(),
                    None,
                ));
                return None;
            }
            Some(ClusterSettings {
                window_days: c.window_days,
                shingle: c.shingle,
                jaccard: c.jaccard,
                signal: s,
                near_duplicate: c.near_duplicate,
                place: c.place,
                place_min_size: c.place_min_size.max(2),
            })
        });
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(HistoryRules {
            rules,
            cluster,
            file: Some((name, text.clone())),
        })
    }

    /// Number of inline examples.
    pub fn example_count(&self) -> usize {
        self.rules.iter().map(|r| r.examples.len()).sum()
    }

    /// Run every rule's examples; a failing example is an error.
    pub fn run_examples(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let Some((name, text)) = &self.file else {
            return out;
        };
        let src = Source { name, text };
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        for (i, r) in self.rules.iter().enumerate() {
            for (n, ex) in r.examples.iter().enumerate() {
                let ids: Vec<String> = (0..ex.history.len()).map(|k| format!("H{k}")).collect();
                let history: Vec<Event<'_>> = ex
                    .history
                    .iter()
                    .zip(&ids)
                    .map(|((days, class, level), id)| Event {
                        id,
                        received: day - chrono::Duration::days(*days),
                        level: *level,
                        class,
                    })
                    .collect();
                let now = Event {
                    id: "Z",
                    received: day,
                    level: ex.case.1,
                    class: &ex.case.0,
                };
                let fired = fires(r, &now, &earlier_than(&now, &history)).is_some();
                if fired != ex.fires {
                    let _ = i;
                    out.push(src.diag(
                        "E120",
                        Severity::Error,
                        r.at.clone(),
                        format!(
                            "{} 的第 {} 个示例{}",
                            r.id,
                            n + 1,
                            if ex.fires {
                                "应当触发，却没有触发"
                            } else {
                                "不应触发，却触发了"
                            }
                        ),
                        Some("检查 window_days（含边界）、count、levels 和 same_class".into()),
                    ));
                }
            }
        }
        out
    }

    /// Every rule that fires on `now` given the petitioner's `history`
    /// (any order; cases not earlier than `now` are ignored).
    pub fn evaluate(&self, now: &Event<'_>, history: &[Event<'_>]) -> Vec<Fired> {
        let earlier = earlier_than(now, history);
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| fires(r, now, &earlier).map(|earlier| Fired { rule: i, earlier }))
            .collect()
    }
}

/// The cases of `history` before `now`, oldest first.
fn earlier_than<'h, 'a>(now: &Event<'_>, history: &'h [Event<'a>]) -> Vec<&'h Event<'a>> {
    let mut earlier: Vec<&Event<'_>> = history
        .iter()
        .filter(|e| e.id != now.id && is_earlier(e, now))
        .collect();
    earlier.sort_by(|a, b| (a.received, a.id).cmp(&(b.received, b.id)));
    earlier
}

/// Whether `e` comes before `now`: an earlier date, or the same date and
/// a smaller case id.
pub fn is_earlier(e: &Event<'_>, now: &Event<'_>) -> bool {
    (e.received, e.id) < (now.received, now.id)
}

impl Event<'_> {
    /// An event of a stored case.
    pub fn of(p: &Past) -> Event<'_> {
        Event {
            id: &p.case_id,
            received: p.received,
            level: p.level,
            class: &p.class,
        }
    }
}

/// The earlier cases that make `r` fire on `now`, or `None`; `earlier`
/// are the petitioner's cases before `now`, oldest first.
fn fires(r: &RepeatRule, now: &Event<'_>, earlier: &[&Event<'_>]) -> Option<Vec<String>> {
    let in_window = |e: &Event<'_>| {
        r.window_days
            .is_none_or(|w| (now.received - e.received).num_days() <= i64::from(w))
    };
    let level_ok =
        |l: Option<Level>| r.levels.is_empty() || l.is_some_and(|l| r.levels.contains(&l));
    let class_ok = |e: &Event<'_>| !r.same_class || e.class == now.class;
    let ids = |v: &[&Event<'_>]| v.iter().map(|e| e.id.to_string()).collect::<Vec<_>>();
    match r.kind {
        RepeatKind::First => earlier.is_empty().then(Vec::new),
        RepeatKind::EventCount => {
            let hits: Vec<&Event<'_>> = earlier
                .iter()
                .copied()
                .filter(|e| in_window(e) && level_ok(e.level) && class_ok(e))
                .collect();
            let current = u32::from(r.include_current && level_ok(now.level));
            (hits.len() as u32 + current >= r.count && !hits.is_empty()).then(|| ids(&hits))
        }
        RepeatKind::ReturnsAfterClose => {
            let hits: Vec<&Event<'_>> = earlier
                .iter()
                .copied()
                .filter(|e| {
                    in_window(e)
                        && class_ok(e)
                        && (now.received - e.received).num_days() > i64::from(r.closed_after_days)
                })
                .collect();
            (hits.len() as u32 >= r.count).then(|| ids(&hits))
        }
        RepeatKind::LevelClimb => {
            let top = now.level?;
            let window: Vec<&Event<'_>> = earlier
                .iter()
                .copied()
                .filter(|e| in_window(e) && e.level.is_some() && class_ok(e))
                .collect();
            if window.iter().any(|e| e.level >= Some(top)) {
                return None;
            }
            // The longest chain of rising levels, in time order, ending
            // with tonight's case.
            let mut best: Vec<(usize, Option<usize>)> = Vec::with_capacity(window.len());
            for (i, e) in window.iter().enumerate() {
                let mut b = (1usize, None);
                for (j, p) in window[..i].iter().enumerate() {
                    if p.level < e.level && best[j].0 + 1 > b.0 {
                        b = (best[j].0 + 1, Some(j));
                    }
                }
                best.push(b);
            }
            let (len, mut at) = best
                .iter()
                .enumerate()
                .max_by_key(|(i, b)| (b.0, std::cmp::Reverse(*i)))
                .map_or((0, None), |(i, b)| (b.0, Some(i)));
            if len as u32 + 1 < r.count {
                return None;
            }
            let mut chain = Vec::new();
            while let Some(i) = at {
                chain.push(window[i].id.to_string());
                at = best[i].1;
            }
            chain.reverse();
            Some(chain)
        }
    }
}
