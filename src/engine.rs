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

use daachorse::CharwiseDoubleArrayAhoCorasick;

use crate::case::Case;
use crate::modality::{CueList, Cues, Modality, Reading, Scope};
use crate::normalize::{self, View};
use crate::quantity::{self, CountUnit};
use crate::rules::{Boundary, Diagnostic, ExcludeScope, RuleKind, RuleSet, Severity, Target, Unit};
use crate::segment::Segmenter;
use crate::text;
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
    /// its required strings occurs (see [`crate::literals`]).
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
                        crate::literals::gate_on_view(regex.as_str(), mask)
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

    /// Run every rule's examples and counter-examples. Returns E011/E012
    /// diagnostics pointing at the failing example.
    pub fn run_inline_tests(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (ri, rule) in self.rules.rules.iter().enumerate() {
            for ex in &rule.examples {
                if !self
                    .match_text(None, &ex.text)
                    .hits
                    .iter()
                    .any(|h| h.rule == ri)
                {
                    out.push(self.rules.diag(
                        &ex.at,
                        "E011",
                        Severity::Error,
                        format!("规则 {} 的示例没有命中", rule.id),
                        Some("示例应能被这条规则命中：检查关键词、排除词、否定线索和边界设置（boundary），或修改示例".into()),
                    ));
                }
            }
            for ex in &rule.counter_examples {
                if self
                    .match_text(None, &ex.text)
                    .hits
                    .iter()
                    .any(|h| h.rule == ri)
                {
                    out.push(self.rules.diag(
                        &ex.at,
                        "E012",
                        Severity::Error,
                        format!("规则 {} 命中了反例", rule.id),
                        Some("反例不应被命中：加排除词（exclude）、改用 boundary = \"tokens\"，或修改反例".into()),
                    ));
                }
            }
        }
        out
    }

    /// Warn about every keyword of a `boundary = "tokens"` rule that the
    /// segmenter does not keep as one word: in context its pieces can join
    /// the neighbouring characters and the keyword is missed. The hint
    /// gives the user-dictionary line that keeps it whole.
    pub fn segmenter_fit(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for rule in &self.rules.rules {
            if rule.boundary != Boundary::Tokens {
                continue;
            }
            for (term, at) in &rule.term_at {
                let norm = normalize::normalize_term(term, rule.normalize);
                let words = self.segmenter.words(&norm);
                if words.len() <= 1 {
                    continue;
                }
                let freq = self.segmenter.suggest_freq(&norm);
                out.push(self.rules.diag(
                    at,
                    "W003",
                    Severity::Warning,
                    format!(
                        "关键词“{term}”要求落在分词边界上，但分词器把它切成“{}”；前后的字和它连成词时就会漏掉",
                        words.join(" / ")
                    ),
                    Some(format!(
                        "在 dict/user.dict 加一行：{norm} {freq} n；或改用 boundary = \"chars\""
                    )),
                ));
            }
        }
        out
    }

    /// Warn (W004) about keywords matched on raw characters that, in the
    /// given cases, mostly fall inside longer words or across word
    /// boundaries (共产 inside 共产党, 口交 across 路口/交通): the hint names
    /// the words they were found in and suggests `boundary = "tokens"`.
    pub fn boundary_report<'c>(
        &self,
        cases: impl IntoIterator<Item = &'c Case>,
    ) -> Vec<Diagnostic> {
        use std::collections::BTreeMap;
        // (rule, keyword) → (hits, misaligned, words they were inside)
        let mut stats: BTreeMap<(usize, String), KeywordFit> = BTreeMap::new();
        for case in cases {
            let doc = Document::new(case.title.as_deref(), &case.text);
            let text: &str = &doc.joined;
            let clauses = text::clauses(text);
            for h in self.match_document(&doc, case.persons).hits {
                let rule = &self.rules.rules[h.rule];
                let RuleKind::Keywords { any, all } = &rule.kind else {
                    continue;
                };
                if rule.boundary != Boundary::Chars {
                    continue;
                }
                for sp in &h.spans {
                    let seen = normalize::normalize_term(&text[sp.start..sp.end], rule.normalize);
                    let Some(kw) = any
                        .iter()
                        .chain(all)
                        .find(|k| normalize::normalize_term(k, rule.normalize) == seen)
                    else {
                        continue;
                    };
                    let Some(c) = text::clause_of(&clauses, sp.start) else {
                        continue;
                    };
                    let (cs, ce) = clauses[c];
                    let toks: Vec<(usize, usize)> = self
                        .segmenter
                        .tokens(&text[cs..ce])
                        .into_iter()
                        .map(|(a, b)| (a + cs, b + cs))
                        .collect();
                    let aligned =
                        toks.iter().any(|t| t.0 == sp.start) && toks.iter().any(|t| t.1 == sp.end);
                    let entry = stats.entry((h.rule, kw.clone())).or_default();
                    entry.0 += 1;
                    if !aligned {
                        entry.1 += 1;
                        let words: Vec<&str> = toks
                            .iter()
                            .filter(|t| t.0 < sp.end && sp.start < t.1)
                            .map(|t| &text[t.0..t.1])
                            .collect();
                        *entry.2.entry(words.join("/")).or_default() += 1;
                    }
                }
            }
        }
        let mut out = Vec::new();
        for ((ri, kw), (hits, bad, words)) in stats {
            if hits < 3 || bad * 2 < hits {
                continue;
            }
            let rule = &self.rules.rules[ri];
            let Some((_, at)) = rule.term_at.iter().find(|(t, _)| *t == kw) else {
                continue;
            };
            let mut common: Vec<(String, u32)> = words.into_iter().collect();
            common.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let shown: Vec<String> = common
                .iter()
                .take(3)
                .map(|(w, n)| format!("{w}×{n}"))
                .collect();
            out.push(self.rules.diag(
                at,
                "W004",
                Severity::Warning,
                format!("关键词“{kw}”在语料中命中 {hits} 次，其中 {bad} 次落在别的词里或跨越词边界（{}）", shown.join("、")),
                Some("如果这些不是想找的意思，给这条规则加 boundary = \"tokens\"，或把这些词加进 exclude".into()),
            ));
        }
        out
    }

    /// Match all rules on a title and text (no record fields).
    pub fn match_text(&self, title: Option<&str>, body: &str) -> Matches {
        let doc = Document::new(title, body);
        self.match_document(&doc, None)
    }

    /// Match all rules on a prepared document; `persons` is the record's
    /// head count, if any (for count rules).
    pub fn match_document(&self, doc: &Document<'_>, persons: Option<u32>) -> Matches {
        let mut out = Matches::default();
        for g in &self.groups {
            let seen = match View::build(&doc.joined, g.mask) {
                Some(v) if g.mask != 0 => Seen::Normalized(v),
                _ => Seen::Raw(&doc.joined),
            };
            self.match_group(g, &seen, persons, &mut out);
        }
        out.hits.sort_by_key(|h| h.rule);
        out
    }

    fn match_group(&self, g: &Group, seen: &Seen<'_>, persons: Option<u32>, out: &mut Matches) {
        let text = seen.text();
        let mut occs: Vec<Occ> = Vec::new();
        let mut cue_hits: Vec<(u8, usize, usize)> = Vec::new();
        // (regex slot, start) of the strings the regexes need.
        let mut gate_hits: Vec<(u16, usize)> = Vec::new();
        if let Some(ac) = &g.ac {
            for m in ac.find_overlapping_iter(text) {
                for u in &g.uses[m.value() as usize] {
                    match u.rule {
                        CUE => {
                            cue_hits.push((u8::try_from(u.term).unwrap_or(0), m.start(), m.end()));
                        }
                        GATE => gate_hits.push((u.term, m.start())),
                        _ => occs.push(Occ {
                            rule: u.rule,
                            role: u.role,
                            term: u.term,
                            start: m.start(),
                            end: m.end(),
                        }),
                    }
                }
            }
        }
        let mut layout = Layout::new(text);
        for (slot, &ri) in g.regex_rules.iter().enumerate() {
            if let RuleKind::Regex { regex } = &self.rules.rules[ri as usize].kind {
                let t = self.clock();
                let mut k = 0usize;
                let mut scan = |from: usize, to: usize| {
                    for m in regex.find_iter(&text[from..to]) {
                        k += 1;
                        if m.start() == m.end() {
                            continue;
                        }
                        occs.push(Occ {
                            rule: ri,
                            role: Role::Any,
                            term: u16::try_from(k - 1).unwrap_or(u16::MAX),
                            start: from + m.start(),
                            end: from + m.end(),
                        });
                    }
                };
                let needed = || {
                    gate_hits
                        .iter()
                        .filter(move |h| usize::from(h.0) == slot)
                        .map(|h| h.1)
                };
                let gate = g.gates.get(slot).copied().flatten();
                match gate.filter(|_| !self.options.reference) {
                    None => scan(0, text.len()),
                    Some(_) if needed().next().is_none() => {}
                    Some(false) => scan(0, text.len()),
                    Some(true) => {
                        // Every match lies inside one clause: run on the
                        // clauses that hold a required string.
                        let mut at: Vec<usize> = needed().collect();
                        at.sort_unstable();
                        let mut done = 0;
                        for p in at {
                            if p < done {
                                continue;
                            }
                            if let Some((a, b)) = text::clause_around(text, p) {
                                scan(a, b);
                                done = b;
                            }
                        }
                    }
                }
                // Candidates are counted when the rule checks them below.
                self.charge(ri as usize, t, 0, false);
            }
        }
        if self.options.reference {
            for c in 0..layout.clauses().len() {
                layout.tokens(&self.segmenter, c);
            }
        }
        if g.cues {
            layout.cues = Some(Cues::from_matches(cue_hits));
        }
        if !g.count_rules.is_empty() {
            let t = self.clock();
            let before = out.hits.len();
            self.eval_counts(g, seen, &mut layout, persons, &mut occs, out);
            // The shared head-count pass is charged to the first count rule.
            let fired: Vec<usize> = out.hits[before..].iter().map(|h| h.rule).collect();
            for (n, &ri) in g.count_rules.iter().enumerate() {
                let fired = fired.contains(&(ri as usize));
                self.charge(ri as usize, if n == 0 { t } else { self.clock() }, 0, fired);
            }
        }
        occs.sort_unstable();
        let mut i = 0;
        while i < occs.len() {
            let r = occs[i].rule;
            let j = i + occs[i..].iter().take_while(|o| o.rule == r).count();
            let t = self.clock();
            let hit = self.eval_rule(r as usize, &occs[i..j], &mut layout, seen, out);
            self.charge(r as usize, t, j - i, hit.is_some());
            if let Some(h) = hit {
                out.hits.push(h);
            }
            i = j;
        }
    }

    fn read(
        &self,
        layout: &mut Layout<'_>,
        start: usize,
        end: usize,
        signal: bool,
        negation: bool,
    ) -> Reading {
        if !self.options.modality {
            return Reading::Counted(Modality::Fact);
        }
        let text = layout.text;
        let cues = layout.cues.get_or_insert_with(|| self.cues.find(text));
        self.cues
            .read(text, cues, Scope { start, end }, signal, negation)
    }

    /// Head counts: the largest credible count in the text is reconciled
    /// with the record's `persons` field, then each count rule checks its range.
    fn eval_counts(
        &self,
        g: &Group,
        seen: &Seen<'_>,
        layout: &mut Layout<'_>,
        persons: Option<u32>,
        occs: &mut Vec<Occ>,
        out: &mut Matches,
    ) {
        let counts = quantity::find_counts(layout.text);
        for &ri in &g.count_rules {
            let rule = &self.rules.rules[ri as usize];
            let RuleKind::Count {
                at_least,
                below,
                unit,
            } = rule.kind
            else {
                continue;
            };
            let signal = matches!(rule.target, Target::Signal(_));
            let mut best: Option<(quantity::Count, Modality)> = None;
            let credible = |c: &&quantity::Count| c.lo <= self.rules.language.count_max;
            // A registered head count says who came; households written in
            // the text then describe who is affected, and do not override it.
            let households_count = persons.is_none();
            for c in counts
                .iter()
                .filter(|c| unit.is_none_or(|u| u == c.unit))
                .filter(|c| households_count || c.unit != CountUnit::Households)
                .filter(credible)
            {
                match self.read(layout, c.start, c.end, signal, rule.negation) {
                    Reading::Negated(a, b) => {
                        let (s, e, _) = seen.original(c.start, c.end);
                        let (cs, ce, _) = seen.original(a, b);
                        out.negated.push(NegatedHit {
                            rule: ri as usize,
                            span: (s, e),
                            cue: (cs, ce),
                        });
                    }
                    Reading::Counted(m) => {
                        if best.is_none_or(|(b, _)| (c.lo, c.hi) > (b.lo, b.hi)) {
                            best = Some((*c, m));
                        }
                    }
                }
            }
            let field = persons.filter(|_| unit != Some(CountUnit::Households));
            let text_n = best.map(|(c, _)| c.lo);
            let (size, from_text) = match (field, text_n) {
                (Some(f), Some(t)) if t > f => (t, true),
                (Some(f), _) => (f, false),
                (None, Some(t)) => (t, true),
                (None, None) => continue,
            };
            if size < at_least || below.is_some_and(|b| size >= b) {
                continue;
            }
            let factor = if from_text {
                best.map_or(1.0, |(_, m)| self.cues.factor(m))
            } else {
                1.0
            };
            let (spans, note) = match (best, from_text) {
                (Some((c, m)), true) => {
                    let (s, e, changes) = seen.original(c.start, c.end);
                    let note = format!(
                        "文中人数 {}–{}{}{}",
                        c.lo,
                        c.hi,
                        c.unit.name(),
                        field.map_or(String::new(), |f| format!("，大于登记人数 {f}"))
                    );
                    (
                        vec![HitSpan {
                            start: s,
                            end: e,
                            changes,
                            modality: m,
                        }],
                        note,
                    )
                }
                _ => (
                    Vec::new(),
                    format!(
                        "登记人数 {size}{}",
                        text_n.map_or(String::new(), |t| format!("（文中最多约 {t}）"))
                    ),
                ),
            };
            out.hits.push(RuleHit {
                rule: ri as usize,
                distinct: 1,
                points: rule.weight * factor,
                spans,
                note: Some(note),
            });
        }
        // Count rules take no part in term matching.
        occs.retain(|o| !g.count_rules.contains(&o.rule));
    }

    fn eval_rule(
        &self,
        ri: usize,
        occs: &[Occ],
        layout: &mut Layout<'_>,
        seen: &Seen<'_>,
        out: &mut Matches,
    ) -> Option<RuleHit> {
        let rule = &self.rules.rules[ri];
        let signal = matches!(rule.target, Target::Signal(_));
        let excl: Vec<&Occ> = occs.iter().filter(|o| o.role == Role::Exclude).collect();
        let mut candidates: Vec<Occ> = Vec::new();
        for o in occs.iter().filter(|o| o.role != Role::Exclude) {
            if rule.boundary == Boundary::Tokens
                && !layout.on_token_boundaries(&self.segmenter, o.start, o.end)
            {
                continue;
            }
            if excluded(rule.exclude_scope, o, &excl, layout) {
                continue;
            }
            candidates.push(*o);
        }
        // Cheap structural checks before the cues are read.
        match &rule.kind {
            RuleKind::Keywords { any, all } => {
                let has = |role: Role, t: usize| {
                    candidates
                        .iter()
                        .any(|o| o.role == role && usize::from(o.term) == t)
                };
                if (0..all.len()).any(|t| !has(Role::All, t))
                    || (!any.is_empty() && !candidates.iter().any(|o| o.role == Role::Any))
                {
                    return None;
                }
            }
            RuleKind::Proximity {
                within,
                unit: Unit::Chars,
                ..
            } => {
                // Keep only terms with a partner close enough in the same clause.
                let near = |x: &Occ, y: &Occ, layout: &mut Layout<'_>| {
                    if x.role == y.role || (x.start < y.end && y.start < x.end) {
                        return false;
                    }
                    let (f, g) = if x.start < y.start { (x, y) } else { (y, x) };
                    g.start - f.end <= *within as usize * 4
                        && layout.text[f.end..g.start].chars().count() <= *within as usize
                        && layout.clause_of(x.start) == layout.clause_of(y.start)
                };
                let snapshot = candidates.clone();
                candidates.retain(|x| snapshot.iter().any(|y| near(x, y, layout)));
                if candidates.is_empty() {
                    return None;
                }
            }
            _ => {}
        }
        let mut valid: Vec<Valid> = Vec::new();
        for o in &candidates {
            match self.read(layout, o.start, o.end, signal, rule.negation) {
                Reading::Negated(a, b) => {
                    let (s, e, _) = seen.original(o.start, o.end);
                    let (cs, ce, _) = seen.original(a, b);
                    out.negated.push(NegatedHit {
                        rule: ri,
                        span: (s, e),
                        cue: (cs, ce),
                    });
                }
                Reading::Counted(modality) => valid.push(Valid { occ: *o, modality }),
            }
        }
        // Longest match wins: an occurrence inside a longer one of the
        // same role (北京上访 inside 去北京上访) is the same evidence.
        let snapshot = valid.clone();
        valid.retain(|v| {
            let o = v.occ;
            !snapshot.iter().any(|p| {
                p.occ.role == o.role
                    && p.occ.start <= o.start
                    && o.end <= p.occ.end
                    && (p.occ.end - p.occ.start) > (o.end - o.start)
            })
        });
        if valid.is_empty() {
            return None;
        }
        // (distinct key, factor) per counted unit, and the spans.
        let mut units: Vec<(u32, f64)> = Vec::new();
        let mut spans: Vec<Valid> = Vec::new();
        let mut credit = |key: u32, f: f64| match units.iter_mut().find(|(k, _)| *k == key) {
            Some(u) => u.1 = u.1.max(f),
            None => units.push((key, f)),
        };
        match &rule.kind {
            RuleKind::Keywords { any, all } => {
                for t in 0..all.len() {
                    if !valid
                        .iter()
                        .any(|v| v.occ.role == Role::All && usize::from(v.occ.term) == t)
                    {
                        return None;
                    }
                }
                for v in valid.iter().filter(|v| v.occ.role == Role::Any) {
                    credit(u32::from(v.occ.term), self.cues.factor(v.modality));
                }
                if any.is_empty() {
                    let f = valid
                        .iter()
                        .map(|v| self.cues.factor(v.modality))
                        .fold(0.0, f64::max);
                    credit(0, f);
                } else if units.is_empty() {
                    return None;
                }
                spans = valid.clone();
            }
            RuleKind::Regex { .. } => {
                let mut strings: Vec<&str> = Vec::new();
                for v in &valid {
                    let s = &layout.text[v.occ.start..v.occ.end];
                    let key = match strings.iter().position(|x| *x == s) {
                        Some(k) => k,
                        None => {
                            strings.push(s);
                            strings.len() - 1
                        }
                    };
                    credit(
                        u32::try_from(key).unwrap_or(u32::MAX),
                        self.cues.factor(v.modality),
                    );
                }
                spans = valid.clone();
            }
            RuleKind::Proximity { within, unit, .. } => {
                let a: Vec<Valid> = valid
                    .iter()
                    .filter(|v| v.occ.role == Role::NearA)
                    .copied()
                    .collect();
                let b: Vec<Valid> = valid
                    .iter()
                    .filter(|v| v.occ.role == Role::NearB)
                    .copied()
                    .collect();
                for x in &a {
                    for y in &b {
                        let (xo, yo) = (x.occ, y.occ);
                        if xo.start < yo.end && yo.start < xo.end {
                            continue;
                        }
                        let Some(c) = layout.clause_of(xo.start) else {
                            continue;
                        };
                        if layout.clause_of(yo.start) != Some(c) {
                            continue;
                        }
                        let (first, second) = if xo.start < yo.start {
                            (xo, yo)
                        } else {
                            (yo, xo)
                        };
                        let dist = match unit {
                            Unit::Chars => layout.text[first.end..second.start].chars().count(),
                            Unit::Tokens => {
                                let i1 = layout.token_index(
                                    &self.segmenter,
                                    c,
                                    first.end.saturating_sub(1),
                                );
                                let i2 = layout.token_index(&self.segmenter, c, second.start);
                                i2.saturating_sub(i1 + 1)
                            }
                        };
                        if dist <= *within as usize {
                            let f = self
                                .cues
                                .factor(x.modality)
                                .min(self.cues.factor(y.modality));
                            credit((u32::from(xo.term) << 16) | u32::from(yo.term), f);
                            spans.push(*x);
                            spans.push(*y);
                        }
                    }
                }
                if units.is_empty() {
                    return None;
                }
            }
            RuleKind::Count { .. } => return None,
        }
        let mut factors: Vec<f64> = units.iter().map(|u| u.1).collect();
        factors.sort_by(|a, b| b.total_cmp(a));
        let counted: f64 = factors.iter().take(rule.max_terms as usize).sum();
        if counted <= 0.0 {
            return None;
        }
        let mut hit_spans: Vec<HitSpan> = spans
            .iter()
            .map(|v| {
                let (s, e, changes) = seen.original(v.occ.start, v.occ.end);
                HitSpan {
                    start: s,
                    end: e,
                    changes,
                    modality: v.modality,
                }
            })
            .collect();
        hit_spans.sort_unstable_by_key(|h| (h.start, h.end));
        hit_spans.dedup_by_key(|h| (h.start, h.end));
        hit_spans.truncate(MAX_SPANS_PER_RULE);
        Some(RuleHit {
            rule: ri,
            distinct: u32::try_from(units.len()).unwrap_or(u32::MAX),
            points: rule.weight * counted,
            spans: hit_spans,
            note: None,
        })
    }

    /// Triage one case: match, then score.
    pub fn triage(&self, case: &Case) -> Verdict {
        let doc = Document::new(case.title.as_deref(), &case.text);
        let m = self.match_document(&doc, case.persons);
        let mut v = Verdict::for_case(case);
        crate::score::score(&self.rules.scoring, &self.rules.rules, &m.hits, &mut v);
        let name = |r: usize| {
            self.rules
                .scoring
                .target_name(self.rules.rules[r].target)
                .to_string()
        };
        v.evidence = m
            .hits
            .iter()
            .map(|h| {
                let rule = &self.rules.rules[h.rule];
                Evidence {
                    rule: rule.id.clone(),
                    target: name(h.rule),
                    points: h.points,
                    distinct_terms: h.distinct,
                    matches: h
                        .spans
                        .iter()
                        .map(|s| {
                            let mut span = doc.span(s.start, s.end);
                            span.normalization = step_names(s.changes);
                            span.modality = s.modality;
                            span
                        })
                        .collect(),
                    note: h.note.clone(),
                }
            })
            .collect();
        crate::score::crisis_reason(&self.rules.scoring, &mut v);
        v.negated = m
            .negated
            .iter()
            .map(|n| NegatedEvidence {
                rule: self.rules.rules[n.rule].id.clone(),
                target: name(n.rule),
                span: doc.span(n.span.0, n.span.1),
                cue: doc.joined[n.cue.0..n.cue.1].to_string(),
            })
            .collect();
        v
    }
}

fn step_names(mask: u8) -> Vec<&'static str> {
    normalize::STEP_NAMES
        .iter()
        .filter(|(_, b)| mask & b != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// Whether an exclusion cancels the candidate `o`. Between an overlapping
/// exclusion and hit, the longer wins (a tie goes to the exclusion).
fn excluded(scope: ExcludeScope, o: &Occ, excl: &[&Occ], layout: &mut Layout<'_>) -> bool {
    if excl.is_empty() {
        return false;
    }
    let overlaps = |e: &Occ| e.start < o.end && o.start < e.end;
    let beats = |e: &Occ| overlaps(e) && (e.end - e.start) >= (o.end - o.start);
    match scope {
        ExcludeScope::Case => true,
        ExcludeScope::Overlap => excl.iter().any(|e| beats(e)),
        ExcludeScope::Clause => {
            let c = layout.clause_of(o.start);
            excl.iter().any(|e| {
                beats(e) || (!overlaps(e) && c.is_some() && layout.clause_of(e.start) == c)
            })
        }
    }
}
