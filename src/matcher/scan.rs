//! Matching one document: the automaton pass over each group's view, the
//! candidates of every rule, their boundary, exclusion and cue checks,
//! head counts, and the findings of a case.

use super::*;

impl Engine {
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

    /// What the text of one case shows: its verdict with the case's
    /// fields, the evidence and the negated hits filled in, and the rule
    /// hits that [`crate::score`] turns into classes, signals and a tier.
    /// Pure: the same case always gives the same findings.
    pub fn findings(&self, case: &Case) -> Findings {
        let doc = Document::new(case.title.as_deref(), &case.text);
        let m = self.match_document(&doc, case.persons);
        let mut v = Verdict::for_case(case);
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
        Findings {
            verdict: v,
            hits: m.hits,
            extra: Vec::new(),
        }
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
