//! The checks `triage check` runs on a compiled rule set: every rule's
//! examples and counter-examples, keywords the segmenter splits (W003),
//! and character-mode keywords that land inside other words (W004).

use super::*;

impl Engine {
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
}
