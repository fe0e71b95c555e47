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

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::text::{is_clause_break, is_sentence_break};
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
    /// An earlier episode (曾赴省上访): evidence of history, not of what
    /// the petitioner is doing now.
    Past,
}

impl Modality {
    /// Chinese label.
    pub fn name(self, signal: bool) -> &'static str {
        match self {
            Modality::Fact => "陈述",
            Modality::Conditional if signal => "威胁（以不解决为条件）",
            Modality::Conditional => "假设",
            Modality::Hearsay => "传闻",
            Modality::Past => "过去的事",
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
    /// Cues of an earlier episode (曾, 此前曾).
    #[serde(default)]
    pub past: Vec<String>,
    /// Largest gap between a negation cue and the hit, in characters.
    pub window: usize,
    /// Head counts written in text above this describe a population, not
    /// the people who petition; count rules ignore them.
    pub count_max: u32,
    /// Points factor of hearsay hits.
    pub hearsay_factor: f64,
    /// Points factor of conditional hits.
    pub conditional_factor: f64,
    /// Points factor of signal hits about an earlier episode.
    #[serde(default = "half")]
    pub past_factor: f64,
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
const HEARSAY: u8 = 16;
const CONDITIONAL: u8 = 32;
const PAST: u8 = 64;

fn half() -> f64 {
    0.5
}

/// The compiled cue lists.
#[derive(Debug, Clone)]
pub struct Cues {
    ac: Option<AhoCorasick>,
    words: Vec<String>,
    kinds: Vec<u8>,
    /// The settings.
    pub language: Language,
}

/// The cues of one text, in order of end.
#[derive(Debug, Clone, Default)]
pub struct CueList {
    hits: Vec<CueHit>,
    /// End of the first hearsay or condition cue, if any: hits before it
    /// are stated as fact without looking further.
    first_modal_end: Option<usize>,
}

impl CueList {
    /// Number of cues.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }
}

/// A hit (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Start of the hit.
    pub start: usize,
    /// End of the hit.
    pub end: usize,
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
        // Scope breakers are looked for only in the few characters between
        // a negation cue and its hit, not in the whole text.
        let lists: [(&Vec<String>, u8); 6] = [
            (&language.topic_negation, TOPIC),
            (&language.action_negation, ACTION),
            (&language.not_negation, NOT),
            (&language.hearsay, HEARSAY),
            (&language.conditional, CONDITIONAL),
            (&language.past, PAST),
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
        // The cue list is small: a full DFA is fastest for it.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .ok()
            .filter(|_| !words.is_empty());
        Cues {
            ac,
            words,
            kinds,
            language,
        }
    }

    /// The cue words and their kind bits, to be searched together with
    /// the rule keywords (see [`Cues::from_matches`]).
    pub fn words(&self) -> impl Iterator<Item = (&str, u8)> {
        self.words
            .iter()
            .map(String::as_str)
            .zip(self.kinds.iter().copied())
    }

    /// Every cue occurrence in `text`.
    pub fn find(&self, text: &str) -> CueList {
        let Some(ac) = &self.ac else {
            return CueList::default();
        };
        Cues::from_matches(
            ac.find_overlapping_iter(text)
                .map(|m| (self.kinds[m.pattern().as_usize()], m.start(), m.end()))
                .collect(),
        )
    }

    /// Cue hits from `(kind bits, start, end)` matches found elsewhere. A
    /// negation cue inside a longer non-negation (不断, 不满) or a condition
    /// (再不) is not a negation.
    pub fn from_matches(raw: Vec<(u8, usize, usize)>) -> CueList {
        let mut hits: Vec<CueHit> = raw
            .into_iter()
            .map(|(kind, start, end)| CueHit { kind, start, end })
            .collect();
        let shields: Vec<(usize, usize)> = hits
            .iter()
            .filter(|h| h.kind & (NOT | CONDITIONAL) != 0)
            .map(|h| (h.start, h.end))
            .collect();
        for h in hits.iter_mut().filter(|h| h.kind & (TOPIC | ACTION) != 0) {
            if shields
                .iter()
                .any(|&(s, e)| s <= h.start && h.end <= e && e - s > h.end - h.start)
            {
                h.kind &= !(TOPIC | ACTION);
            }
        }
        hits.retain(|h| h.kind != 0);
        hits.sort_by_key(|h| (h.end, h.start));
        let first_modal_end = hits
            .iter()
            .filter(|h| h.kind & (CONDITIONAL | HEARSAY | PAST) != 0)
            .map(|h| h.end)
            .min();
        CueList {
            hits,
            first_modal_end,
        }
    }

    /// Read the hit `span` of `text` given the cues of the text (from
    /// [`Cues::find`], in order of end). `signal` selects the
    /// action-negation cues instead of the topic ones. A negation must be
    /// in the hit's clause, hearsay and conditions in its sentence.
    pub fn read(
        &self,
        text: &str,
        list: &CueList,
        span: Scope,
        signal: bool,
        negation: bool,
    ) -> Reading {
        let cues = &list.hits[..];
        let start = span.start;
        let between = |c: &CueHit| &text[c.end..start];
        if negation {
            let bit = if signal { ACTION } else { TOPIC };
            // Cues are in order of end; look back from the hit only as far
            // as the window reaches.
            let upto = cues.partition_point(|c| c.end <= start);
            let max_bytes = self.language.window * 4;
            for c in cues[..upto].iter().rev() {
                if start - c.end > max_bytes {
                    break;
                }
                if c.kind & bit == 0 {
                    continue;
                }
                let gap = between(c);
                if gap.chars().count() > self.language.window || gap.chars().any(is_clause_break) {
                    continue;
                }
                let broken = self
                    .language
                    .scope_breakers
                    .iter()
                    .any(|b| gap.contains(b.as_str()));
                if !broken {
                    return Reading::Negated(c.start, c.end);
                }
            }
        }
        if list.first_modal_end.is_none_or(|e| e > start) {
            return Reading::Counted(Modality::Fact);
        }
        let upto = cues.partition_point(|c| c.end <= start);
        let sentence_start = text[..start]
            .char_indices()
            .rev()
            .find(|&(_, c)| is_sentence_break(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let in_sentence: Vec<&CueHit> = cues[..upto]
            .iter()
            .rev()
            .take_while(|c| c.end >= sentence_start)
            .filter(|c| c.start >= sentence_start)
            .collect();
        let before_in_sentence = |bit: u8| in_sentence.iter().any(|c| c.kind & bit != 0);
        if before_in_sentence(CONDITIONAL) {
            Reading::Counted(Modality::Conditional)
        } else if before_in_sentence(HEARSAY) {
            Reading::Counted(Modality::Hearsay)
        } else if signal && before_in_sentence(PAST) {
            Reading::Counted(Modality::Past)
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
            Modality::Past => self.language.past_factor,
        }
    }
}
