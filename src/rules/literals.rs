//! Required literals of a regex rule: a few strings one of which every
//! match must contain, and whether a match can reach across a clause break.
//!
//! The matcher looks for these strings in its one keyword pass; a regex
//! whose strings do not occur in a text is not run on it, and a regex
//! whose matches stay inside one clause runs only on the clauses where
//! one of its strings occurs. Both give exactly the matches of running
//! the regex over the whole text.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::text;

/// The gate of `pattern` when the regex runs on a view normalised with
/// `mask`: the strings are looked for on the view as they are, so a set
/// that normalising would change is not used.
pub fn gate_on_view(pattern: &str, mask: u8) -> Option<Gate> {
    gate(pattern).filter(|g| {
        g.literals
            .iter()
            .all(|l| crate::text::normalize::normalize_term(l, mask) == *l)
    })
}

/// Sets costlier than this (about twenty single characters) are not
/// worth looking for: the regex then runs on every text.
const MAX_COST: u32 = 2_000;

/// Most strings kept for one regex.
const MAX_LITERALS: usize = 64;

/// What the matcher needs to run a regex only where it can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Every match contains at least one of these.
    pub literals: Vec<String>,
    /// No match can contain a clause break or depend on the text around
    /// it, so every match lies inside one clause.
    pub in_clause: bool,
}

/// The gate of `pattern` (parsed with the same defaults as the rule's
/// regex), or `None` when no small set of strings is required.
pub fn gate(pattern: &str) -> Option<Gate> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if hir.properties().minimum_len().is_none_or(|n| n == 0) {
        return None;
    }
    let mut literals = required(&hir)?;
    if cost(&literals) > MAX_COST || literals.len() > MAX_LITERALS {
        return None;
    }
    // A text that holds a longer string also holds any string inside it.
    literals.sort();
    literals.dedup();
    let all = literals.clone();
    literals.retain(|l| !all.iter().any(|o| o != l && l.contains(o.as_str())));
    Some(Gate {
        literals,
        in_clause: hir.properties().look_set().is_empty() && !can_match_break(&hir),
    })
}

/// How often a set of strings can be expected to occur: single
/// characters are common, pairs much less so.
fn cost(set: &[String]) -> u32 {
    set.iter()
        .map(|l| match l.chars().count() {
            0 | 1 => 100,
            2 => 10,
            _ => 1,
        })
        .sum()
}

/// The cheaper of two candidate sets.
fn cheaper(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    match (a, b) {
        (Some(a), Some(b)) => {
            if (cost(&b), b.len()) < (cost(&a), a.len()) {
                Some(b)
            } else {
                Some(a)
            }
        }
        (a, b) => a.or(b),
    }
}

/// A set of strings one of which every match of `hir` contains.
fn required(hir: &Hir) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => prefixes(hir),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Alternation(alts) => {
            let mut all = Vec::new();
            for a in alts {
                all.extend(required(a)?);
            }
            Some(all)
        }
        HirKind::Concat(parts) => {
            let mut best = None;
            for i in 0..parts.len() {
                // The strings that start at part `i`, extended over the
                // parts after it (年 then 了|来 gives 年了, 年来).
                let rest = Hir::concat(parts[i..].to_vec());
                best = cheaper(best, prefixes(&rest));
                best = cheaper(best, required(&parts[i]));
            }
            best
        }
        _ => None,
    }
}

/// The finite set of prefixes every match of `hir` starts with, cut to
/// whole characters; `None` when the set is infinite or holds the empty string.
fn prefixes(hir: &Hir) -> Option<Vec<String>> {
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let mut out = Vec::new();
    for lit in seq.literals()? {
        let bytes = lit.as_bytes();
        let s = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()?,
        };
        if s.is_empty() {
            return None;
        }
        out.push(s.to_string());
    }
    (!out.is_empty()).then_some(out)
}

/// Whether some match of `hir` can contain a clause break.
fn can_match_break(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(s) => s.chars().any(text::is_clause_break),
            Err(_) => true,
        },
        HirKind::Class(Class::Unicode(c)) => c.ranges().iter().any(|r| {
            text::CLAUSE_BREAKS
                .iter()
                .any(|b| (r.start()..=r.end()).contains(b))
        }),
        HirKind::Class(Class::Bytes(_)) => true,
        HirKind::Capture(c) => can_match_break(&c.sub),
        HirKind::Repetition(r) => can_match_break(&r.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(can_match_break),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(p: &str) -> Vec<String> {
        gate(p).map(|g| g.literals).unwrap_or_default()
    }

    #[test]
    fn strings_across_parts_are_preferred_to_single_characters() {
        let g = gate(r"(?:[0-9]+|[一二两三四五六七八九十几]+)年(?:了|多了|来|之久)").unwrap();
        assert_eq!(g.literals, ["年之久", "年了", "年多了", "年来"]);
        assert!(g.in_clause);
        assert_eq!(
            lits(r"(?:反映|上访)了?[0-9]+(?:次|回)|[0-9]+年来"),
            ["上访", "反映", "年来"]
        );
    }

    #[test]
    fn longer_strings_holding_a_shorter_one_are_dropped() {
        assert_eq!(lits("被拆|被拆了|强拆"), ["强拆", "被拆"]);
    }

    #[test]
    fn patterns_without_a_required_string_have_no_gate() {
        assert_eq!(gate(r"[0-9]+元"), gate_of(&["元"], true));
        assert!(gate(r"\d+").is_none());
        assert!(gate(r"[\p{Han}]{2,}").is_none());
        assert!(gate(r"(?:拆迁)?").is_none());
        assert!(gate(r"a|\d+").is_none());
        assert_eq!(lits("a|[0-9]+").len(), 11);
        assert!(gate("(").is_none());
    }

    fn gate_of(l: &[&str], in_clause: bool) -> Option<Gate> {
        Some(Gate {
            literals: l.iter().map(|s| s.to_string()).collect(),
            in_clause,
        })
    }

    #[test]
    fn matches_that_can_reach_a_break_are_not_kept_to_a_clause() {
        assert!(!gate(r"补偿[^。]{0,8}每平").unwrap().in_clause);
        assert!(!gate(r"补偿.{0,8}每平").unwrap().in_clause);
        assert!(!gate(r"补偿，每平").unwrap().in_clause);
        assert!(!gate(r"\b补偿").unwrap().in_clause);
        assert!(!gate(r"补偿\s每平").unwrap().in_clause);
        assert!(
            gate(r"补偿[^，。！？\s：；、（）“”‘’《》…【】「」『』,!?;:()\x22]{0,8}每平")
                .unwrap()
                .in_clause
        );
    }
}
