//! The compiled rule set and the matching of one case.
//!
//! All literal terms of all rules (keywords, proximity terms, exclusions)
//! go into one Aho-Corasick automaton searched with overlapping matches,
//! so one pass over the text finds every candidate; regex rules run after
//! it. A candidate then passes the rule's boundary check (the segmenter is
//! asked only for the clauses where a `tokens` rule has a candidate), its
//! exclusions and its combination logic. The [`Engine`] is immutable,
//! `Send + Sync`, and shared by all worker threads.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::case::Case;
use crate::rules::{Boundary, Diagnostic, ExcludeScope, RuleKind, RuleSet, Severity, Unit};
use crate::segment::Segmenter;
use crate::text;
use crate::verdict::{Evidence, Field, Span, Verdict};

/// Most spans kept as evidence per rule.
const MAX_SPANS_PER_RULE: usize = 8;

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

/// A rule that fired on a text, before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// Index into the rule set's rules.
    pub rule: usize,
    /// Distinct terms (or pairs, or regex strings) matched.
    pub distinct: u32,
    /// Points: weight × min(distinct, max_terms).
    pub points: f64,
    /// Byte spans in the matched document.
    pub spans: Vec<(usize, usize)>,
}

/// A compiled, immutable rule set ready to triage cases.
pub struct Engine {
    rules: RuleSet,
    segmenter: Segmenter,
    ac: Option<AhoCorasick>,
    uses: Vec<Vec<TermUse>>,
    regex_rules: Vec<u32>,
    tokens_needed: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.rules.len())
            .field("patterns", &self.uses.len())
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
        if start < self.text_start {
            Span {
                field: Field::Title,
                text: j[start..end].to_string(),
                start: text::char_offset(j, start),
                end: text::char_offset(j, end),
            }
        } else {
            let body = &j[self.text_start..];
            Span {
                field: Field::Text,
                text: j[start..end].to_string(),
                start: text::char_offset(body, start - self.text_start),
                end: text::char_offset(body, end - self.text_start),
            }
        }
    }
}

/// Per-case lazily computed structure: clauses and token boundaries.
struct Layout<'t> {
    text: &'t str,
    clauses: Option<Vec<(usize, usize)>>,
    tokens: Vec<Option<Vec<(usize, usize)>>>,
}

impl<'t> Layout<'t> {
    fn new(text: &'t str) -> Self {
        Layout {
            text,
            clauses: None,
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

impl Engine {
    /// Compile a validated rule set: build the segmenter and the automaton,
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
        let segmenter = Segmenter::new(&rules.user_dict).map_err(|e| {
            vec![Diagnostic::file_level(
                "E015",
                &rules.source.display_name(crate::rules::USER_DICT_FILE),
                format!("用户词典有误（第 {} 行）", e.line),
                Some(e.message),
            )]
        })?;
        let mut patterns: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut uses: Vec<Vec<TermUse>> = Vec::new();
        let mut regex_rules = Vec::new();
        let mut tokens_needed = false;
        let mut add = |term: &str, use_: TermUse| {
            let id = *index.entry(term.to_string()).or_insert_with(|| {
                patterns.push(term.to_string());
                uses.push(Vec::new());
                patterns.len() - 1
            });
            uses[id].push(use_);
        };
        for (ri, rule) in rules.rules.iter().enumerate() {
            let rule_id = u32::try_from(ri).unwrap_or(u32::MAX);
            let mut add_all = |terms: &[String], role: Role| {
                for (ti, t) in terms.iter().enumerate() {
                    add(
                        t,
                        TermUse {
                            rule: rule_id,
                            role,
                            term: u16::try_from(ti).unwrap_or(u16::MAX),
                        },
                    );
                }
            };
            match &rule.kind {
                RuleKind::Keywords { any, all } => {
                    add_all(any, Role::Any);
                    add_all(all, Role::All);
                }
                RuleKind::Regex { .. } => regex_rules.push(rule_id),
                RuleKind::Proximity { a, b, unit, .. } => {
                    add_all(a, Role::NearA);
                    add_all(b, Role::NearB);
                    tokens_needed |= *unit == Unit::Tokens;
                }
            }
            add_all(&rule.exclude, Role::Exclude);
            tokens_needed |= rule.boundary == Boundary::Tokens;
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .map_err(|e| {
                        vec![Diagnostic::file_level(
                            "E005",
                            &rules.source.origin,
                            format!("关键词自动机无法构建：{e}"),
                            Some("关键词总量过大；请精简规则".into()),
                        )]
                    })?,
            )
        };
        Ok(Engine {
            rules,
            segmenter,
            ac,
            uses,
            regex_rules,
            tokens_needed,
        })
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The segmenter.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Whether any rule needs token boundaries.
    pub fn uses_tokens(&self) -> bool {
        self.tokens_needed
    }

    /// Run every rule's examples and counter-examples. Returns E011/E012
    /// diagnostics pointing at the failing example.
    pub fn run_inline_tests(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (ri, rule) in self.rules.rules.iter().enumerate() {
            for ex in &rule.examples {
                if !self.match_text(None, &ex.text).iter().any(|h| h.rule == ri) {
                    out.push(self.rules.diag(
                        &ex.at,
                        "E011",
                        Severity::Error,
                        format!("规则 {} 的示例没有命中", rule.id),
                        Some("示例应能被这条规则命中：检查关键词、排除词和边界设置（boundary），或修改示例".into()),
                    ));
                }
            }
            for ex in &rule.counter_examples {
                if self.match_text(None, &ex.text).iter().any(|h| h.rule == ri) {
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

    /// Match all rules on a title and text; returns the rules that fired,
    /// in rule order.
    pub fn match_text(&self, title: Option<&str>, body: &str) -> Vec<RuleHit> {
        let doc = Document::new(title, body);
        self.match_document(&doc)
    }

    /// Match all rules on a prepared document.
    pub fn match_document(&self, doc: &Document<'_>) -> Vec<RuleHit> {
        let text: &str = &doc.joined;
        let mut occs: Vec<Occ> = Vec::new();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(text) {
                for u in &self.uses[m.pattern().as_usize()] {
                    occs.push(Occ {
                        rule: u.rule,
                        role: u.role,
                        term: u.term,
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
        for &ri in &self.regex_rules {
            if let RuleKind::Regex { regex } = &self.rules.rules[ri as usize].kind {
                for (k, m) in regex.find_iter(text).enumerate() {
                    if m.start() == m.end() {
                        continue;
                    }
                    occs.push(Occ {
                        rule: ri,
                        role: Role::Any,
                        term: u16::try_from(k).unwrap_or(u16::MAX),
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
        occs.sort_unstable();
        let mut layout = Layout::new(text);
        let mut hits = Vec::new();
        let mut i = 0;
        while i < occs.len() {
            let r = occs[i].rule;
            let j = i + occs[i..].iter().take_while(|o| o.rule == r).count();
            if let Some(h) = self.eval_rule(r as usize, &occs[i..j], &mut layout) {
                hits.push(h);
            }
            i = j;
        }
        hits
    }

    fn eval_rule(&self, ri: usize, occs: &[Occ], layout: &mut Layout<'_>) -> Option<RuleHit> {
        let rule = &self.rules.rules[ri];
        let excl: Vec<&Occ> = occs.iter().filter(|o| o.role == Role::Exclude).collect();
        let mut valid: Vec<Occ> = Vec::new();
        for o in occs.iter().filter(|o| o.role != Role::Exclude) {
            if rule.boundary == Boundary::Tokens
                && !layout.on_token_boundaries(&self.segmenter, o.start, o.end)
            {
                continue;
            }
            if self.excluded(rule.exclude_scope, o, &excl, layout) {
                continue;
            }
            valid.push(*o);
        }
        // Longest match wins: an occurrence inside a longer one of the
        // same rule (北京上访 inside 去北京上访) is the same evidence.
        let longer = |o: &Occ| {
            valid.iter().any(|p| {
                p.role == o.role
                    && p.start <= o.start
                    && o.end <= p.end
                    && (p.end - p.start) > (o.end - o.start)
            })
        };
        let keep: Vec<bool> = valid.iter().map(|o| !longer(o)).collect();
        let mut k = keep.iter();
        valid.retain(|_| *k.next().unwrap_or(&true));
        if valid.is_empty() {
            return None;
        }
        let (distinct, spans) = match &rule.kind {
            RuleKind::Keywords { any, all } => {
                for t in 0..all.len() {
                    if !valid
                        .iter()
                        .any(|o| o.role == Role::All && usize::from(o.term) == t)
                    {
                        return None;
                    }
                }
                let mut terms: Vec<u16> = valid
                    .iter()
                    .filter(|o| o.role == Role::Any)
                    .map(|o| o.term)
                    .collect();
                terms.sort_unstable();
                terms.dedup();
                if !any.is_empty() && terms.is_empty() {
                    return None;
                }
                let distinct = if any.is_empty() { 1 } else { terms.len() };
                (
                    distinct,
                    valid.iter().map(|o| (o.start, o.end)).collect::<Vec<_>>(),
                )
            }
            RuleKind::Regex { .. } => {
                let mut strings: Vec<&str> =
                    valid.iter().map(|o| &layout.text[o.start..o.end]).collect();
                strings.sort_unstable();
                strings.dedup();
                (
                    strings.len(),
                    valid.iter().map(|o| (o.start, o.end)).collect(),
                )
            }
            RuleKind::Proximity { within, unit, .. } => {
                let a: Vec<Occ> = valid
                    .iter()
                    .filter(|o| o.role == Role::NearA)
                    .copied()
                    .collect();
                let b: Vec<Occ> = valid
                    .iter()
                    .filter(|o| o.role == Role::NearB)
                    .copied()
                    .collect();
                let mut pairs: Vec<(u16, u16)> = Vec::new();
                let mut spans = Vec::new();
                for x in &a {
                    for y in &b {
                        if x.start < y.end && y.start < x.end {
                            continue;
                        }
                        let Some(c) = layout.clause_of(x.start) else {
                            continue;
                        };
                        if layout.clause_of(y.start) != Some(c) {
                            continue;
                        }
                        let (first, second) = if x.start < y.start { (x, y) } else { (y, x) };
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
                            if !pairs.contains(&(x.term, y.term)) {
                                pairs.push((x.term, y.term));
                            }
                            spans.push((x.start, x.end));
                            spans.push((y.start, y.end));
                        }
                    }
                }
                if pairs.is_empty() {
                    return None;
                }
                (pairs.len(), spans)
            }
        };
        let mut spans = spans;
        spans.sort_unstable();
        spans.dedup();
        spans.truncate(MAX_SPANS_PER_RULE);
        let distinct = u32::try_from(distinct).unwrap_or(u32::MAX);
        Some(RuleHit {
            rule: ri,
            distinct,
            points: rule.weight * f64::from(distinct.min(rule.max_terms)),
            spans,
        })
    }

    fn excluded(
        &self,
        scope: ExcludeScope,
        o: &Occ,
        excl: &[&Occ],
        layout: &mut Layout<'_>,
    ) -> bool {
        if excl.is_empty() {
            return false;
        }
        match scope {
            ExcludeScope::Case => true,
            ExcludeScope::Overlap => excl.iter().any(|e| e.start < o.end && o.start < e.end),
            ExcludeScope::Clause => {
                let c = layout.clause_of(o.start);
                excl.iter().any(|e| {
                    (e.start < o.end && o.start < e.end)
                        || (c.is_some() && layout.clause_of(e.start) == c)
                })
            }
        }
    }

    /// Triage one case: match, then score.
    pub fn triage(&self, case: &Case) -> Verdict {
        let doc = Document::new(case.title.as_deref(), &case.text);
        let hits = self.match_document(&doc);
        let mut v = Verdict::for_case(case);
        crate::score::score(&self.rules.scoring, &self.rules.rules, case, &hits, &mut v);
        v.evidence = hits
            .iter()
            .map(|h| {
                let rule = &self.rules.rules[h.rule];
                Evidence {
                    rule: rule.id.clone(),
                    target: self.rules.scoring.target_name(rule.target).to_string(),
                    points: h.points,
                    distinct_terms: h.distinct,
                    matches: h.spans.iter().map(|&(s, e)| doc.span(s, e)).collect(),
                }
            })
            .collect();
        v
    }
}
