//! The result of triaging one case: classes, signals, risk score, tier,
//! the score ledger and the evidence behind every point.
//!
//! JSON keys are stable ASCII names; values that staff read (class names,
//! signal names, tiers) are the Chinese names used in the rules.

use chrono::NaiveDate;
use serde::Serialize;

use crate::input::case::{Case, Level};

pub use crate::rules::Tier;

/// Which field of the case a match is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The title.
    Title,
    /// The text.
    Text,
}

/// One matched span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Field the span is in.
    pub field: Field,
    /// The matched words.
    pub text: String,
    /// Start, in characters from the start of the field.
    pub start: usize,
    /// End (exclusive), in characters.
    pub end: usize,
    /// Normalisation steps that made the match (empty when the words
    /// match as written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub normalization: Vec<&'static str>,
    /// How the words are stated: fact, conditional (threat) or hearsay.
    pub modality: crate::text::modality::Modality,
}

/// A candidate hit cancelled by a negation cue (shown in explanations).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegatedEvidence {
    /// Rule id.
    pub rule: String,
    /// Class or signal.
    pub target: String,
    /// The words that would have matched.
    pub span: Span,
    /// The negation cue.
    pub cue: String,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Rule id.
    pub rule: String,
    /// Class or signal it contributes to.
    pub target: String,
    /// Points it contributed (weight × distinct terms, capped by max_terms).
    pub points: f64,
    /// Distinct terms matched.
    pub distinct_terms: u32,
    /// The spans (at most a few per rule).
    pub matches: Vec<Span>,
    /// Explanation where there is no span (a head count from the record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a ledger line's points come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerSource {
    /// The primary class.
    Class,
    /// A signal rule.
    Rule,
    /// A record field (persons, target_level).
    Field,
    /// A signal's cap.
    Cap,
    /// Signals occurring together.
    Combo,
    /// The 0–100 bounds of the total.
    Bound,
    /// The crisis flag raising the case to its tier.
    Crisis,
    /// A tier floor raising the case to the lowest score of its tier.
    Floor,
    /// Other cases: the history store or a cluster.
    Context,
}

/// A cluster as the summary lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSummary {
    /// Cluster id.
    pub id: String,
    /// `near_duplicate` or `place`.
    pub kind: String,
    /// Members, tonight's and the store's.
    pub size: u32,
    /// Tonight's members, by case id (sorted).
    pub tonight: Vec<String>,
    /// The members' most common primary class.
    pub class: String,
    /// Highest tier of tonight's members.
    pub tier: Tier,
    /// Earliest and latest received date of the members.
    pub from: NaiveDate,
    /// Latest received date.
    pub to: NaiveDate,
}

/// The cluster a case belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterRef {
    /// Cluster id (the same for every member).
    pub id: String,
    /// Members, tonight's and the store's within the window.
    pub size: u32,
    /// `near_duplicate` (the same letter) or `place` (same class and place).
    pub kind: String,
}

/// One line of the score ledger. The lines add up to the risk score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerLine {
    /// Kind of contribution.
    pub source: LedgerSource,
    /// Rule id, class name, field name or combo description.
    pub item: String,
    /// Signal or class credited.
    pub target: String,
    /// Points (negative for caps).
    pub points: f64,
    /// Explanation in Chinese.
    pub note: String,
}

/// Class score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScore {
    /// Class name.
    pub class: String,
    /// Sum of rule points.
    pub score: f64,
}

/// A source (源头) tag and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceTag {
    /// Source name.
    pub source: String,
    /// Sum of rule points.
    pub score: f64,
}

/// Signal points after its cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalScore {
    /// Signal name.
    pub signal: String,
    /// Points.
    pub points: f64,
}

/// The triage of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Case id.
    pub id: String,
    /// Registration date.
    pub received: NaiveDate,
    /// Channel.
    pub channel: Option<String>,
    /// Petitioner ids (masked when asked).
    pub petitioner_ids: Vec<String>,
    /// Head count from the record.
    pub persons: Option<u32>,
    /// Level the case was brought to.
    pub target_level: Option<Level>,
    /// Location.
    pub location: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Risk score 0–100.
    pub risk: u32,
    /// Tier.
    pub tier: Tier,
    /// Whether the case is on the warning list.
    pub warned: bool,
    /// Whether credible self-harm language makes this a crisis: the case is
    /// put in 红 and sorted first, and the welfare route is named first.
    pub crisis: bool,
    /// Why the crisis flag is set (rules and words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crisis_reason: Option<String>,
    /// Primary class (or the no-class name, 其他).
    pub primary_class: String,
    /// Family of the primary class (热点 / 相关; none for 其他).
    pub family: Option<crate::rules::Family>,
    /// Secondary classes.
    pub secondary_classes: Vec<String>,
    /// Source (源头) tags, highest score first.
    pub sources: Vec<SourceTag>,
    /// Routing hint: the crisis route first when flagged, then the primary
    /// class's route, then the routes of the sources that have one.
    pub route: String,
    /// Scores of every class with any evidence, highest first.
    pub class_scores: Vec<ClassScore>,
    /// Signals with points, in the order of scoring.toml.
    pub signals: Vec<SignalScore>,
    /// How the risk score was built.
    pub ledger: Vec<LedgerLine>,
    /// Rules that fired.
    pub evidence: Vec<Evidence>,
    /// Candidate hits cancelled by negation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub negated: Vec<NegatedEvidence>,
    /// Optional fields of the record read leniently or as unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::input::case::FieldNote>,
    /// The cluster of near-duplicate letters or of cases about one place
    /// the case belongs to (runs with a history store only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRef>,
    /// Sensitive periods whose window holds the received date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<PeriodHit>,
    /// Handling-deadline flags (临期, 超期, 办结后再访): a service signal for
    /// 督办, kept apart from the citizen-risk signals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supervision: Vec<SupervisionFlag>,
}

impl Verdict {
    /// Copy the record fields (never the text) into an empty verdict.
    pub fn for_case(case: &Case) -> Verdict {
        Verdict {
            id: case.id.clone(),
            received: case.received,
            channel: case.channel.clone(),
            petitioner_ids: case.petitioner_ids.clone(),
            persons: case.persons,
            target_level: case.target_level,
            location: case.location.clone(),
            title: case.title.clone(),
            risk: 0,
            tier: Tier::None,
            warned: false,
            crisis: false,
            crisis_reason: None,
            primary_class: String::new(),
            family: None,
            secondary_classes: Vec::new(),
            sources: Vec::new(),
            route: String::new(),
            class_scores: Vec::new(),
            signals: Vec::new(),
            ledger: Vec::new(),
            evidence: Vec::new(),
            negated: Vec::new(),
            notes: case.notes.clone(),
            cluster: None,
            periods: Vec::new(),
            supervision: Vec::new(),
        }
    }

    /// Order of the warning list: crisis cases first, then risk
    /// descending, then older cases first, then id.
    pub fn list_order(a: &Verdict, b: &Verdict) -> std::cmp::Ordering {
        b.crisis
            .cmp(&a.crisis)
            .then(b.risk.cmp(&a.risk))
            .then(a.received.cmp(&b.received))
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// A sensitive period whose window holds the case's received date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodHit {
    /// Period name (国庆, 春节 …).
    pub name: String,
    /// First and last day of the period.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Where the received date stands: 国庆前 3 天（2026-10-01）.
    pub relation: String,
    /// Points given to the 敏感期 signal.
    pub points: f64,
}

/// A handling-deadline flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupervisionFlag {
    /// 临期, 超期 or 办结后再访.
    pub flag: String,
    /// The clock (受理期限, 办理期限 …), empty for 办结后再访.
    pub clock: String,
    /// Its last day, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// How it was counted, in Chinese.
    pub note: String,
}
