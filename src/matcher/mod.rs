//! The compiled rule set and the matching of one case.
//!
//! Rules are grouped by the normalisation they ask for; each group has
//! one Aho-Corasick automaton (a character-wise double array, daachorse)
//! over all its literal terms (keywords,
//! proximity terms, exclusions), searched with overlapping matches on the
//! group's normalised [`View`] of the text, so one pass finds every
//! candidate; regex rules run on the same view. A candidate then passes
//! the rule's boundary check (the segmenter is asked only for the clauses
//! where a `tokens` rule has a candidate), its exclusions (longest match
//! wins between an overlapping hit and exclusion), and the negation,
//! hearsay and condition cues of `language.toml`. Spans are reported on
//! the original text. The [`Engine`] is immutable, `Send + Sync`, and
//! shared by all worker threads.

mod check;
mod scan;

use daachorse::CharwiseDoubleArrayAhoCorasick;

use crate::input::case::Case;
use crate::rules::{Boundary, Diagnostic, ExcludeScope, RuleKind, RuleSet, Severity, Target, Unit};
use crate::text;
use crate::text::modality::{CueList, Cues, Modality, Reading, Scope};
use crate::text::normalize::{self, View};
use crate::text::quantity::{self, CountUnit};
use crate::text::segment::Segmenter;
use crate::verdict::{Evidence, Field, NegatedEvidence, Span, Verdict};

/// Most spans kept as evidence per rule.
const MAX_SPANS_PER_RULE: usize = 8;

/// Marks an automaton pattern as a language cue rather than a rule term;
/// the term then holds the cue's kind bits.
const CUE: u32 = u32::MAX;

/// Marks an automaton pattern as a string some regex needs; the term
/// then holds the regex's place in its group.
const GATE: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Any,
    All,
    NearA,
    NearB,
    Exclude,
}

#[derive(Debug, Clone, Copy)]
struct TermUse {
    rule: u32,
    role: Role,
    term: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Occ {
    rule: u32,
    role: Role,
    term: u16,
    start: usize,
    end: usize,
}

/// One matched span of a hit, on the original (joined) document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitSpan {
    /// Start byte in the document.
    pub start: usize,
    /// End byte in the document.
    pub end: usize,
    /// Normalisation steps that changed the matched text.
    pub changes: u8,
    /// How the hit is stated.
    pub modality: Modality,
}

/// A rule that fired on a text, before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// Index into the rule set's rules.
    pub rule: usize,
    /// Distinct terms (or pairs, or regex strings) matched.
    pub distinct: u32,
    /// Points: weight × the modality factors of the best `max_terms` distinct terms.
    pub points: f64,
    /// Matched spans.
    pub spans: Vec<HitSpan>,
    /// Explanation for hits without spans (a head count from a field).
    pub note: Option<String>,
}

/// A candidate hit cancelled by a negation cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegatedHit {
    /// Index into the rule set's rules.
    pub rule: usize,
    /// The hit, document bytes.
    pub span: (usize, usize),
    /// The cue, document bytes.
    pub cue: (usize, usize),
}

/// How often a keyword hit, how often off word boundaries, and inside which words.
type KeywordFit = (u32, u32, std::collections::BTreeMap<String, u32>);

/// Everything matching found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matches {
    /// Rules that fired, in rule order.
    pub hits: Vec<RuleHit>,
    /// Candidates cancelled by negation.
    pub negated: Vec<NegatedHit>,
}

/// The text evidence of one case, before scoring: see [`Engine::findings`].
/// The context stage of a run may add to it before it is scored.
#[derive(Debug, Clone)]
pub struct Findings {
    /// The verdict so far: the case's fields, evidence and negated hits;
    /// classes, signals, risk and tier are still empty.
    pub verdict: Verdict,
    /// The rules that fired, with their points and spans.
    pub hits: Vec<RuleHit>,
    /// Signal points a context adds (history, clusters): scored like rule
    /// points, through the signal's cap, combinations and floors.
    pub extra: Vec<SignalHit>,
}

/// Points for a signal from a context rather than from the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalHit {
    /// Index into the scoring's signals.
    pub signal: usize,
    /// Rule or cluster id, for the ledger.
    pub item: String,
    /// Points.
    pub points: f64,
    /// Explanation in Chinese.
    pub note: String,
}

/// Switches for measuring what normalisation and cue reading cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Match on normalised views (otherwise on the raw text).
    pub normalize: bool,
    /// Read negation, hearsay and condition cues.
    pub modality: bool,
    /// The reference path: segment every clause up front instead of only
    /// the clauses where a `tokens` rule has a candidate, and run every
    /// regex over the whole text instead of only where its required
    /// strings occur. Results must be identical.
    pub reference: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            normalize: true,
            modality: true,
            reference: false,
        }
    }
}

/// The patterns of a group's automaton and who uses each.
#[derive(Default)]
struct Patterns {
    patterns: Vec<String>,
    index: std::collections::HashMap<String, usize>,
    uses: Vec<Vec<TermUse>>,
}

impl Patterns {
    /// Add one use of `term` (a new pattern the first time it is seen).
    fn add(&mut self, term: String, u: TermUse) {
        let id = match self.index.get(&term) {
            Some(&id) => id,
            None => {
                self.index.insert(term.clone(), self.patterns.len());
                self.patterns.push(term);
                self.uses.push(Vec::new());
                self.patterns.len() - 1
            }
        };
        self.uses[id].push(u);
    }
}

/// The rules that share one normalisation.
struct Group {
    mask: u8,
    ac: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    uses: Vec<Vec<TermUse>>,
    regex_rules: Vec<u32>,
    /// Per regex rule: `Some(in_clause)` when it runs only where one of
    /// its required strings occurs (see [`crate::rules::literals`]).
    gates: Vec<Option<bool>>,
    /// Whether the automaton finds the language cues.
    cues: bool,
    count_rules: Vec<u32>,
}

/// A compiled, immutable rule set ready to triage cases.
pub struct Engine {
    rules: RuleSet,
    segmenter: Segmenter,
    groups: Vec<Group>,
    cues: Cues,
    options: EngineOptions,
    profile: Option<Profile>,
}

/// Per-rule counters kept when profiling is on (shared by all threads).
#[derive(Debug)]
struct Profile {
    nanos: Vec<std::sync::atomic::AtomicU64>,
    candidates: Vec<std::sync::atomic::AtomicU64>,
    hits: Vec<std::sync::atomic::AtomicU64>,
}

/// What one rule cost and matched over a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleProfile {
    /// Rule id.
    pub rule: String,
    /// Time spent in the rule (regex search, counting, or checking its
    /// candidates), in nanoseconds; the shared keyword pass is not split.
    pub nanos: u64,
    /// Candidate occurrences the rule looked at.
    pub candidates: u64,
    /// Cases it fired on.
    pub hits: u64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.rules.len())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

/// The text a case is matched on: the title (if any), a line break, the text.
#[derive(Debug)]
pub struct Document<'a> {
    /// Title and text joined by `\n`.
    pub joined: std::borrow::Cow<'a, str>,
    /// Byte where the text starts in `joined`.
    pub text_start: usize,
}

impl<'a> Document<'a> {
    /// Build from optional title and text.
    pub fn new(title: Option<&str>, text: &'a str) -> Document<'a> {
        match title.map(str::trim).filter(|t| !t.is_empty()) {
            None => Document {
                joined: std::borrow::Cow::Borrowed(text),
                text_start: 0,
            },
            Some(t) => Document {
                joined: std::borrow::Cow::Owned(format!("{t}\n{text}")),
                text_start: t.len() + 1,
            },
        }
    }

    /// Turn a byte span of `joined` into a reported span.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let j = &*self.joined;
        let (field, base) = if start < self.text_start {
            (Field::Title, 0)
        } else {
            (Field::Text, self.text_start)
        };
        let body = &j[base..];
        Span {
            field,
            text: j[start..end].to_string(),
            start: text::char_offset(body, start - base),
            end: text::char_offset(body, end - base),
            normalization: Vec::new(),
            modality: Modality::Fact,
        }
    }
}

/// Per view lazily computed structure: clauses, cues, tokens.
struct Layout<'t> {
    text: &'t str,
    clauses: Option<Vec<(usize, usize)>>,
    cues: Option<CueList>,
    tokens: Vec<Option<Vec<(usize, usize)>>>,
}

impl<'t> Layout<'t> {
    fn new(text: &'t str) -> Self {
        Layout {
            text,
            clauses: None,
            cues: None,
            tokens: Vec::new(),
        }
    }

    fn clauses(&mut self) -> &[(usize, usize)] {
        if self.clauses.is_none() {
            let c = text::clauses(self.text);
            self.tokens = vec![None; c.len()];
            self.clauses = Some(c);
        }
        self.clauses.as_deref().unwrap_or(&[])
    }

    fn clause_of(&mut self, pos: usize) -> Option<usize> {
        text::clause_of(self.clauses(), pos)
    }

    /// Tokens (absolute byte ranges) of clause `c`.
    fn tokens(&mut self, seg: &Segmenter, c: usize) -> &[(usize, usize)] {
        let (s, e) = self.clauses()[c];
        let text = self.text;
        self.tokens[c].get_or_insert_with(|| {
            seg.tokens(&text[s..e])
                .into_iter()
                .map(|(a, b)| (a + s, b + s))
                .collect()
        })
    }

    fn on_token_boundaries(&mut self, seg: &Segmenter, start: usize, end: usize) -> bool {
        let Some(c) = self.clause_of(start) else {
            return false;
        };
        if self.clause_of(end.saturating_sub(1)) != Some(c) {
            return false;
        }
        let toks = self.tokens(seg, c);
        toks.iter().any(|t| t.0 == start) && toks.iter().any(|t| t.1 == end)
    }

    fn token_index(&mut self, seg: &Segmenter, c: usize, pos: usize) -> usize {
        let toks = self.tokens(seg, c);
        toks.partition_point(|t| t.1 <= pos)
    }
}

/// The view a group matches on: the raw text or a normalised copy.
enum Seen<'a> {
    Raw(&'a str),
    Normalized(View),
}

impl Seen<'_> {
    fn text(&self) -> &str {
        match self {
            Seen::Raw(t) => t,
            Seen::Normalized(v) => &v.text,
        }
    }

    fn original(&self, s: usize, e: usize) -> (usize, usize, u8) {
        match self {
            Seen::Raw(_) => (s, e, 0),
            Seen::Normalized(v) => {
                let (a, b) = v.original_span(s, e);
                (a, b, v.changes(s, e))
            }
        }
    }
}

/// A candidate that survived boundary, exclusion and negation checks.
#[derive(Debug, Clone, Copy)]
struct Valid {
    occ: Occ,
    modality: Modality,
}

impl Engine {
    /// Compile a validated rule set: build the segmenter and the automata,
    /// then run every rule's inline tests. Failing tests are errors.
    pub fn new(rules: RuleSet) -> Result<Engine, Vec<Diagnostic>> {
        let engine = Engine::compile(rules)?;
        let problems = engine.run_inline_tests();
        if problems.iter().any(|d| d.severity == Severity::Error) {
            let mut all = engine.rules.warnings.clone();
            all.extend(problems);
            return Err(all);
        }
        Ok(engine)
    }

    /// Compile without running inline tests.
    pub fn compile(rules: RuleSet) -> Result<Engine, Vec<Diagnostic>> {
        Engine::compile_with(rules, EngineOptions::default())
    }

    /// Compile with options (normalisation and cue reading can be turned
    /// off to measure their cost).
    pub fn compile_with(rules: RuleSet, options: EngineOptions) -> Result<Engine, Vec<Diagnostic>> {
        let segmenter = Segmenter::new(&rules.user_dict).map_err(|e| {
            vec![Diagnostic::file_level(
                "E015",
                &rules.source.display_name(crate::rules::USER_DICT_FILE),
                format!("用户词典有误（第 {} 行）", e.line),
                Some(e.message),
            )]
        })?;
        let mut masks: Vec<u8> = rules
            .rules
            .iter()
            .map(|r| if options.normalize { r.normalize } else { 0 })
            .collect();
        let cue_words = Cues::new(rules.language.clone());
        let mut distinct = masks.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut groups = Vec::new();
        for mask in distinct {
            let mut pats = Patterns::default();
            let mut regex_rules = Vec::new();
            let mut count_rules = Vec::new();
            for (ri, rule) in rules.rules.iter().enumerate() {
                if masks[ri] != mask {
                    continue;
                }
                let rule_id = u32::try_from(ri).unwrap_or(u32::MAX);
                let mut add_all = |terms: &[String], role: Role| {
                    for (ti, t) in terms.iter().enumerate() {
                        let term = u16::try_from(ti).unwrap_or(u16::MAX);
                        let u = TermUse {
                            rule: rule_id,
                            role,
                            term,
                        };
                        pats.add(normalize::normalize_term(t, mask), u);
                    }
                };
                match &rule.kind {
                    RuleKind::Keywords { any, all } => {
                        add_all(any, Role::Any);
                        add_all(all, Role::All);
                    }
                    RuleKind::Regex { .. } => regex_rules.push(rule_id),
                    RuleKind::Proximity { a, b, .. } => {
                        add_all(a, Role::NearA);
                        add_all(b, Role::NearB);
                    }
                    RuleKind::Count { .. } => count_rules.push(rule_id),
                }
                add_all(&rule.exclude, Role::Exclude);
            }
            // The language cues ride in the same automaton: one pass over
            // the text finds both.
            if options.modality && !pats.patterns.is_empty() {
                for (word, kind) in cue_words.words() {
                    let u = TermUse {
                        rule: CUE,
                        role: Role::Any,
                        term: u16::from(kind),
                    };
                    pats.add(normalize::normalize_term(word, mask), u);
                }
            }
            let cues = options.modality && !pats.patterns.is_empty();
            let mut gates = Vec::with_capacity(regex_rules.len());
            for (slot, &ri) in regex_rules.iter().enumerate() {
                let gate = match &rules.rules[ri as usize].kind {
                    RuleKind::Regex { regex } => {
                        crate::rules::literals::gate_on_view(regex.as_str(), mask)
                    }
                    _ => None,
                };
                if let Some(g) = &gate {
                    let u = TermUse {
                        rule: GATE,
                        role: Role::Any,
                        term: u16::try_from(slot).unwrap_or(u16::MAX),
                    };
                    for l in &g.literals {
                        pats.add(l.clone(), u);
                    }
                }
                gates.push(gate.map(|g| g.in_clause));
            }
            let ac = if pats.patterns.is_empty() {
                None
            } else {
                Some(
                    CharwiseDoubleArrayAhoCorasick::<u32>::new(&pats.patterns).map_err(|e| {
                        vec![Diagnostic::file_level(
                            "E005",
                            &rules.source.origin,
                            format!("关键词自动机无法构建：{e}"),
                            Some("关键词总量过大；请精简规则".into()),
                        )]
                    })?,
                )
            };
            groups.push(Group {
                mask,
                ac,
                uses: pats.uses,
                regex_rules,
                gates,
                cues,
                count_rules,
            });
        }
        masks.clear();
        let cues = cue_words;
        normalize::warm();
        Ok(Engine {
            rules,
            segmenter,
            groups,
            cues,
            options,
            profile: None,
        })
    }

    /// Turn on per-rule profiling (time, candidates, hits).
    pub fn enable_profile(&mut self) {
        let n = self.rules.rules.len();
        let zeros = || {
            (0..n)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect()
        };
        self.profile = Some(Profile {
            nanos: zeros(),
            candidates: zeros(),
            hits: zeros(),
        });
    }

    /// The profile so far, most expensive rule first (empty when
    /// profiling is off).
    pub fn profile_report(&self) -> Vec<RuleProfile> {
        use std::sync::atomic::Ordering::Relaxed;
        let Some(p) = &self.profile else {
            return Vec::new();
        };
        let mut out: Vec<RuleProfile> = self
            .rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleProfile {
                rule: r.id.clone(),
                nanos: p.nanos[i].load(Relaxed),
                candidates: p.candidates[i].load(Relaxed),
                hits: p.hits[i].load(Relaxed),
            })
            .collect();
        out.sort_by(|a, b| b.nanos.cmp(&a.nanos).then_with(|| a.rule.cmp(&b.rule)));
        out
    }

    fn charge(&self, rule: usize, since: Option<std::time::Instant>, candidates: usize, hit: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if let (Some(p), Some(t)) = (&self.profile, since) {
            let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
            p.nanos[rule].fetch_add(ns, Relaxed);
            p.candidates[rule].fetch_add(candidates as u64, Relaxed);
            p.hits[rule].fetch_add(u64::from(hit), Relaxed);
        }
    }

    fn clock(&self) -> Option<std::time::Instant> {
        self.profile.as_ref().map(|_| std::time::Instant::now())
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The segmenter.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// The cue reader.
    pub fn cues(&self) -> &Cues {
        &self.cues
    }
}
