//! Negation, hearsay and conditions around a hit, from the cue lists in
//! `rules/language.toml`.
//!
//! Negation is local: a cue negates a hit only when it comes before the
//! hit in the same clause, within a few characters, with no scope breaker
//! (就, 被, a new subject …) in between. So 我不是来反映拆迁的事 is not a
//! demolition complaint, while 拆迁补偿不到位 and 没有补偿就被强拆了 are.
//! Hearsay (听说) and conditions (如果, 再不) reach over the whole
//! sentence before the hit; a threat conditional on inaction is kept as a
//! signal and labelled as a threat.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;

/// How a hit is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Stated as fact.
    Fact,
    /// Under a condition or a question (如果, 再不 … 就): for signals, a threat.
    Conditional,
    /// Reported from others (听说).
    Hearsay,
}

impl Modality {
    /// Chinese label.
    pub fn name(self, signal: bool) -> &'static str {
        match self {
            Modality::Fact => "陈述",
            Modality::Conditional if signal => "威胁（以不解决为条件）",
            Modality::Conditional => "假设",
            Modality::Hearsay => "传闻",
        }
    }
}

/// `language.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// Cues that negate a class (topic) hit.
    pub topic_negation: Vec<String>,
    /// Cues that negate a signal (action) hit.
    pub action_negation: Vec<String>,
    /// Words that start with a cue but are not negations.
    pub not_negation: Vec<String>,
    /// Words that end a negation's scope.
    pub scope_breakers: Vec<String>,
    /// Hearsay cues.
    pub hearsay: Vec<String>,
    /// Conditional and question cues.
    pub conditional: Vec<String>,
    /// Largest gap between a negation cue and the hit, in characters.
    pub window: usize,
    /// Points factor of hearsay hits.
    pub hearsay_factor: f64,
    /// Points factor of conditional hits.
    pub conditional_factor: f64,
}

/// One cue found in a text.
#[derive(Debug, Clone, Copy)]
pub struct CueHit {
    kind: u8,
    start: usize,
    end: usize,
}

const TOPIC: u8 = 1;
const ACTION: u8 = 2;
const NOT: u8 = 4;
const BREAKER: u8 = 8;
const HEARSAY: u8 = 16;
const CONDITIONAL: u8 = 32;

/// The compiled cue lists.
#[derive(Debug, Clone)]
pub struct Cues {
    ac: Option<AhoCorasick>,
    kinds: Vec<u8>,
    /// The settings.
    pub language: Language,
}

/// A hit and the starts of its clause and sentence (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Start of the hit.
    pub start: usize,
    /// End of the hit.
    pub end: usize,
    /// Start of its clause.
    pub clause_start: usize,
    /// Start of its sentence.
    pub sentence_start: usize,
}

/// What the cues say about one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Counted, with this modality.
    Counted(Modality),
    /// Negated by the cue at this byte span.
    Negated(usize, usize),
}

impl Cues {
    /// Compile the cue lists.
    pub fn new(language: Language) -> Cues {
        let mut words: Vec<String> = Vec::new();
        let mut kinds: Vec<u8> = Vec::new();
        let lists: [(&Vec<String>, u8); 6] = [
            (&language.topic_negation, TOPIC),
            (&language.action_negation, ACTION),
            (&language.not_negation, NOT),
            (&language.scope_breakers, BREAKER),
            (&language.hearsay, HEARSAY),
            (&language.conditional, CONDITIONAL),
        ];
        for (list, bit) in lists {
            for w in list.iter().filter(|w| !w.is_empty()) {
                match words.iter().position(|x| x == w) {
                    Some(i) => kinds[i] |= bit,
                    None => {
                        words.push(w.clone());
                        kinds.push(bit);
                    }
                }
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&words)
            .ok()
            .filter(|_| !words.is_empty());
        Cues {
            ac,
            kinds,
            language,
        }
    }

    /// Every cue occurrence in `text`, in order of start.
    pub fn find(&self, text: &str) -> Vec<CueHit> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        ac.find_overlapping_iter(text)
            .map(|m| CueHit {
                kind: self.kinds[m.pattern().as_usize()],
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }

    /// Read the hit `span` of `text`, whose clause starts at byte
    /// `clause_start` and sentence at `sentence_start`, given the cues of
    /// the text. `signal` selects the action-negation cues instead of the
    /// topic ones.
    pub fn read(
        &self,
        text: &str,
        cues: &[CueHit],
        span: Scope,
        signal: bool,
        negation: bool,
    ) -> Reading {
        let Scope {
            start,
            end,
            clause_start,
            sentence_start,
        } = span;
        let inside_not = |c: &CueHit| {
            cues.iter().any(|n| {
                n.kind & NOT != 0
                    && n.start <= c.start
                    && c.end <= n.end
                    && (n.end - n.start) > (c.end - c.start)
            })
        };
        let inside_conditional = |c: &CueHit| {
            cues.iter().any(|n| {
                n.kind & CONDITIONAL != 0
                    && n.start <= c.start
                    && c.end <= n.end
                    && (n.end - n.start) > (c.end - c.start)
            })
        };
        if negation {
            let bit = if signal { ACTION } else { TOPIC };
            let negator = cues
                .iter()
                .filter(|c| {
                    c.kind & bit != 0
                        && c.start >= clause_start
                        && c.end <= start
                        && text[c.end..start].chars().count() <= self.language.window
                        && !inside_not(c)
                        && !inside_conditional(c)
                        // A negation inside the hit's own words (没人管) is part of it.
                        && !(c.start >= start && c.end <= end)
                })
                .filter(|c| {
                    !cues
                        .iter()
                        .any(|b| b.kind & BREAKER != 0 && b.start >= c.end && b.end <= start)
                })
                .max_by_key(|c| c.end);
            if let Some(c) = negator {
                return Reading::Negated(c.start, c.end);
            }
        }
        let before_in_sentence = |bit: u8| {
            cues.iter()
                .any(|c| c.kind & bit != 0 && c.start >= sentence_start && c.end <= start)
        };
        if before_in_sentence(CONDITIONAL) {
            Reading::Counted(Modality::Conditional)
        } else if before_in_sentence(HEARSAY) {
            Reading::Counted(Modality::Hearsay)
        } else {
            Reading::Counted(Modality::Fact)
        }
    }

    /// Points factor of a modality.
    pub fn factor(&self, m: Modality) -> f64 {
        match m {
            Modality::Fact => 1.0,
            Modality::Conditional => self.language.conditional_factor,
            Modality::Hearsay => self.language.hearsay_factor,
        }
    }
}
