//! One petitioner's cases as the store keeps them: a single packed value
//! per petitioner key (table `persons`), so that what a run needs of a
//! petitioner is one row, read with one lookup and written with one
//! write, however many cases they brought.
//!
//! The format is written by hand because it is tiny and must stay
//! stable: a version byte (1), then per case the received date (days
//! from 1 January of year 1, i32 little-endian), the target level (one
//! byte, 255 for none), the tier (one byte, its place in [`Tier::ALL`]),
//! the primary class and the case id (each a u16 little-endian length
//! and UTF-8 bytes).

use chrono::{Datelike, NaiveDate};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::input::case::Level;
use crate::rules::Tier;

const VERSION: u8 = 1;

/// An earlier case of a petitioner, as the repeat rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Past {
    /// Case id.
    pub case_id: String,
    /// Received date.
    pub received: NaiveDate,
    /// Target level.
    pub level: Option<Level>,
    /// Primary class.
    pub class: String,
    /// Tier.
    pub tier: Tier,
}

/// The packed value of `cases`. A class or id longer than 65,535 bytes
/// is cut (no case id or class name comes near that).
pub fn encode(cases: &[Past]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + cases.len() * 32);
    out.push(VERSION);
    for p in cases {
        out.extend_from_slice(&p.received.num_days_from_ce().to_le_bytes());
        out.push(p.level.map_or(255, |l| l as u8));
        out.push(Tier::ALL.iter().position(|t| *t == p.tier).unwrap_or(4) as u8);
        for s in [&p.class, &p.case_id] {
            let mut n = s.len().min(usize::from(u16::MAX));
            while !s.is_char_boundary(n) {
                n -= 1;
            }
            out.extend_from_slice(&(n as u16).to_le_bytes());
            out.extend_from_slice(&s.as_bytes()[..n]);
        }
    }
    out
}

/// The cases of a packed value; `None` when it is not one.
pub fn decode(b: &[u8]) -> Option<Vec<Past>> {
    let (&version, mut rest) = b.split_first()?;
    if version != VERSION {
        return None;
    }
    // A case takes about 30 bytes (10 at least): room for most rows
    // without growing.
    let mut out = Vec::with_capacity(rest.len() / 24);
    let text = |rest: &mut &[u8]| -> Option<String> {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_le_bytes(*len));
        let (s, tail) = (tail.get(..n)?, tail.get(n..)?);
        *rest = tail;
        String::from_utf8(s.to_vec()).ok()
    };
    while !rest.is_empty() {
        let (days, tail) = rest.split_first_chunk::<4>()?;
        let (&level, tail) = tail.split_first()?;
        let (&tier, tail) = tail.split_first()?;
        rest = tail;
        let class = text(&mut rest)?;
        let case_id = text(&mut rest)?;
        out.push(Past {
            case_id,
            received: NaiveDate::from_num_days_from_ce_opt(i32::from_le_bytes(*days))?,
            level: level_of(level),
            class,
            tier: *Tier::ALL.get(usize::from(tier))?,
        });
    }
    Some(out)
}

/// The level of its code (the order of [`Level`], from 乡镇 up).
pub fn level_of(code: u8) -> Option<Level> {
    Some(match code {
        0 => Level::Township,
        1 => Level::County,
        2 => Level::City,
        3 => Level::Province,
        4 => Level::National,
        _ => return None,
    })
}

/// Changes to petitioners' cases, gathered and then applied a petitioner
/// at a time: cases to drop from a petitioner, and cases to add (or
/// replace: the last one given for a case id counts).
#[derive(Debug, Default)]
pub struct Edits {
    edits: FxHashMap<[u8; 32], Edit>,
}

#[derive(Debug, Default)]
struct Edit {
    remove: FxHashSet<String>,
    add: Vec<Past>,
}

impl Edits {
    /// Drop case `case_id` from petitioner `pkey`.
    pub fn remove(&mut self, pkey: [u8; 32], case_id: &str) {
        let e = self.edits.entry(pkey).or_default();
        e.add.retain(|p| p.case_id != case_id);
        e.remove.insert(case_id.to_string());
    }

    /// Add (or replace) `case` for petitioner `pkey`.
    pub fn add(&mut self, pkey: [u8; 32], case: Past) {
        let e = self.edits.entry(pkey).or_default();
        e.remove.remove(&case.case_id);
        e.add.push(case);
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edits in key order (neighbouring pages of the table), each
    /// applied to the cases a petitioner had: what they have after.
    pub fn apply(
        self,
        mut had: impl FnMut(&[u8; 32]) -> std::io::Result<Vec<Past>>,
        mut put: impl FnMut(&[u8; 32], &[Past]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut edits: Vec<([u8; 32], Edit)> = self.edits.into_iter().collect();
        edits.sort_unstable_by_key(|e| e.0);
        for (pkey, e) in edits {
            let mut cases = had(&pkey)?;
            // The last case given for an id replaces the earlier ones.
            let mut add: Vec<Past> = Vec::with_capacity(e.add.len());
            for p in e.add.into_iter().rev() {
                if !add.iter().any(|q| q.case_id == p.case_id) {
                    add.push(p);
                }
            }
            add.reverse();
            cases.retain(|p| {
                !e.remove.contains(&p.case_id) && !add.iter().any(|q| q.case_id == p.case_id)
            });
            cases.extend(add);
            put(&pkey, &cases)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn past(id: &str, day: u32, level: Option<Level>, tier: Tier) -> Past {
        Past {
            case_id: id.to_string(),
            received: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            level,
            class: "城建拆迁".to_string(),
            tier,
        }
    }

    #[test]
    fn cases_survive_packing() {
        let cases = vec![
            past("A-1", 1, Some(Level::Province), Tier::Red),
            past("长编号-测试", 2, None, Tier::None),
            past("", 3, Some(Level::Township), Tier::Blue),
        ];
        assert_eq!(decode(&encode(&cases)).unwrap(), cases);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
        // Not a packed value: refused, never a panic.
        let good = encode(&cases);
        for cut in 0..good.len() {
            let _ = decode(&good[..cut]);
        }
        assert!(decode(&[]).is_none());
        assert!(decode(&[2, 0, 0]).is_none());
    }

    #[test]
    fn the_last_edit_of_a_case_counts() {
        let k = [7u8; 32];
        let mut e = Edits::default();
        e.add(k, past("A", 1, None, Tier::Blue));
        e.add(k, past("A", 1, None, Tier::Red));
        e.remove(k, "B");
        let mut out = Vec::new();
        e.apply(
            |_| {
                Ok(vec![
                    past("B", 2, None, Tier::Blue),
                    past("C", 3, None, Tier::Blue),
                ])
            },
            |_, cases| {
                out = cases.to_vec();
                Ok(())
            },
        )
        .unwrap();
        let ids: Vec<(&str, Tier)> = out.iter().map(|p| (p.case_id.as_str(), p.tier)).collect();
        assert_eq!(ids, vec![("C", Tier::Blue), ("A", Tier::Red)]);
    }
}
