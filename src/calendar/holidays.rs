//! Official holidays (法定节假日) and 调休 working days, for counting
//! deadlines and for `triage calendar`.
//!
//! The built-in table is the one `tyme4rs` ships (国务院办公厅的放假安排,
//! 2002–2026), read once from its data string without its regex-per-call
//! lookup. `rules/holidays.toml` adds later years (the 放假安排 is published
//! each November or December) or corrects a day: a date written there
//! replaces the built-in entry for that date.
//!
//! A rest day is an official holiday, or a Saturday or Sunday that is not a
//! 调休 working day; every other day is a working day. A year counts as
//! known when one of the two sources has a holiday in it; in other years
//! only weekends are rest days.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use toml::Spanned;
use tyme4rs::tyme::holiday::{LEGAL_HOLIDAY_DATA, LEGAL_HOLIDAY_NAMES};

use super::date::parse_ymd;
use crate::rules::diag::{Diagnostic, Severity, Source};

/// Longest run of days one entry of `rest` may cover.
const MAX_RUN_DAYS: i64 = 31;

/// Where a holiday entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidaySource {
    /// The table built into `tyme4rs`.
    Builtin,
    /// `rules/holidays.toml`.
    File,
}

/// One day of the official arrangement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDay {
    /// The holiday it belongs to (春节, 国庆节 …).
    pub name: String,
    /// `true` for a 调休 working day (a weekend day worked), `false` for a
    /// day off.
    pub work: bool,
    /// Where it comes from.
    pub source: HolidaySource,
}

/// The holiday table.
#[derive(Debug, Clone, Default)]
pub struct Holidays {
    days: BTreeMap<NaiveDate, HolidayDay>,
}

/// One holiday of a year, for display: its days off (as runs) and its
/// 调休 working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayGroup {
    /// 元旦, 春节 …
    pub name: String,
    /// Runs of days off, first and last day inclusive.
    pub rest: Vec<(NaiveDate, NaiveDate)>,
    /// 调休 working days.
    pub work: Vec<NaiveDate>,
}

impl Holidays {
    /// The table shipped with `tyme4rs`.
    pub fn builtin() -> Holidays {
        // Records of 13 ASCII characters: YYYYMMDD, 0 = 调休上班 / 1 = 放假,
        // the index of the holiday's name, then an offset we do not need.
        let mut days = BTreeMap::new();
        for rec in LEGAL_HOLIDAY_DATA.as_bytes().chunks(13) {
            let Some(date) = std::str::from_utf8(rec.get(..8).unwrap_or_default())
                .ok()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
            else {
                continue;
            };
            let (Some(flag), Some(idx)) = (rec.get(8), rec.get(9)) else {
                continue;
            };
            let Some(name) = LEGAL_HOLIDAY_NAMES.get(usize::from(idx.wrapping_sub(b'0'))) else {
                continue;
            };
            days.insert(
                date,
                HolidayDay {
                    name: (*name).to_string(),
                    work: *flag == b'0',
                    source: HolidaySource::Builtin,
                },
            );
        }
        Holidays { days }
    }

    /// The entry for a date, if it is a holiday or a 调休 working day.
    pub fn day(&self, date: NaiveDate) -> Option<&HolidayDay> {
        self.days.get(&date)
    }

    /// Whether `date` is a day off (holiday, or an ordinary weekend day).
    pub fn is_rest_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(d) => !d.work,
            None => matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.is_rest_day(date)
    }

    /// `date` if it is a working day, else the first working day after it.
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        // No official arrangement has more than a few weeks off in a row.
        for _ in 0..366 {
            if self.is_working_day(d) {
                return d;
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
        }
        date
    }

    /// Whether the official arrangement of `year` is known (built in or
    /// in `holidays.toml`).
    pub fn covers(&self, year: i32) -> bool {
        self.in_year(year).any(|(_, d)| !d.work)
    }

    /// Where the arrangement of `year` comes from: the file when it has any
    /// day of that year, else the built-in table when it covers the year.
    pub fn source_of(&self, year: i32) -> Option<HolidaySource> {
        if self
            .in_year(year)
            .any(|(_, d)| d.source == HolidaySource::File)
        {
            Some(HolidaySource::File)
        } else if self.covers(year) {
            Some(HolidaySource::Builtin)
        } else {
            None
        }
    }

    fn in_year(&self, year: i32) -> impl Iterator<Item = (&NaiveDate, &HolidayDay)> {
        let from = NaiveDate::from_ymd_opt(year, 1, 1);
        let to = NaiveDate::from_ymd_opt(year, 12, 31);
        let range = match (from, to) {
            (Some(a), Some(b)) => Some(self.days.range(a..=b)),
            _ => None,
        };
        range.into_iter().flatten()
    }

    /// The holidays of `year`, in order of their first day.
    pub fn groups(&self, year: i32) -> Vec<HolidayGroup> {
        let mut groups: Vec<HolidayGroup> = Vec::new();
        for (date, day) in self.in_year(year) {
            let i = match groups.iter().position(|g| g.name == day.name) {
                Some(i) => i,
                None => {
                    groups.push(HolidayGroup {
                        name: day.name.clone(),
                        rest: Vec::new(),
                        work: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            let g = &mut groups[i];
            if day.work {
                g.work.push(*date);
            } else if let Some(last) = g.rest.last_mut().filter(|r| r.1.succ_opt() == Some(*date)) {
                last.1 = *date;
            } else {
                g.rest.push((*date, *date));
            }
        }
        groups.sort_by_key(|g| g.rest.first().map(|r| r.0).or(g.work.first().copied()));
        groups
    }

    /// Add the days of a `holidays.toml`; every problem becomes a
    /// diagnostic and the entry is left out.
    pub(super) fn apply_file(&mut self, src: &Source<'_>, diags: &mut Vec<Diagnostic>) {
        let Some(file) = crate::rules::parse_toml::<RawHolidaysFile>(src, diags) else {
            return;
        };
        let mut from_file: BTreeMap<NaiveDate, (HolidayDay, std::ops::Range<usize>)> =
            BTreeMap::new();
        for h in &file.holiday {
            let name = h.name.get_ref().trim();
            if name.is_empty() {
                diags.push(src.diag(
                    "E006",
                    Severity::Error,
                    h.name.span(),
                    "节日名称为空",
                    Some("写上节日名称，例如 name = \"春节\"".into()),
                ));
                continue;
            }
            for (list, work) in [(&h.rest, false), (&h.work, true)] {
                for entry in list {
                    let Some((a, b)) = parse_run(src, entry, diags) else {
                        continue;
                    };
                    let mut d = a;
                    while d <= b {
                        let day = HolidayDay {
                            name: name.to_string(),
                            work,
                            source: HolidaySource::File,
                        };
                        if let Some((prev, _)) = from_file.insert(d, (day, entry.span())) {
                            diags.push(src.diag(
                                "E003",
                                Severity::Error,
                                entry.span(),
                                format!("日期 {d} 重复（已写在“{}”里）", prev.name),
                                Some("每一天只能写一次：要么放假，要么调休上班".into()),
                            ));
                        }
                        match d.succ_opt() {
                            Some(n) => d = n,
                            None => break,
                        }
                    }
                }
            }
        }
        for (date, (day, _)) in from_file {
            self.days.insert(date, day);
        }
    }
}

fn parse_run(
    src: &Source<'_>,
    entry: &Spanned<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(NaiveDate, NaiveDate)> {
    let text = entry.get_ref().trim();
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (text, text),
    };
    let parsed = parse_ymd(a).and_then(|a| parse_ymd(b).map(|b| (a, b)));
    let bad = |diags: &mut Vec<Diagnostic>, message: String, hint: &str| {
        diags.push(src.diag(
            "E030",
            Severity::Error,
            entry.span(),
            message,
            Some(hint.to_string()),
        ));
    };
    match parsed {
        Err(reason) => {
            bad(
                diags,
                format!("日期无效：{reason}"),
                "写成 \"2027-02-06\"，连续几天写成 \"2027-02-06..2027-02-13\"",
            );
            None
        }
        Ok((a, b)) if b < a => {
            bad(
                diags,
                format!("结束日 {b} 早于开始日 {a}"),
                "写成 \"开始..结束\"",
            );
            None
        }
        Ok((a, b)) if (b - a).num_days() >= MAX_RUN_DAYS => {
            bad(
                diags,
                format!("一段放假超过 {MAX_RUN_DAYS} 天：{a}..{b}"),
                "检查年份和月份是否写错",
            );
            None
        }
        Ok(run) => Some(run),
    }
}

/// `holidays.toml`: any number of `[[holiday]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolidaysFile {
    /// The holidays.
    #[serde(default)]
    holiday: Vec<RawHoliday>,
}

/// One `[[holiday]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    /// 元旦, 春节 …
    name: Spanned<String>,
    /// Days off: `"2027-01-01"` or a run `"2027-02-06..2027-02-13"`.
    #[serde(default)]
    rest: Vec<Spanned<String>>,
    /// 调休 working days, written the same way.
    #[serde(default)]
    work: Vec<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn builtin_table_has_the_published_arrangements() {
        let h = Holidays::builtin();
        // DOMAIN.md §4.4: days checked against LegalHoliday.
        let spring_work = h.day(ymd(2026, 2, 14)).unwrap();
        assert!(spring_work.work && spring_work.name == "春节");
        assert!(h.is_working_day(ymd(2026, 2, 14)), "a Saturday worked");
        assert!(h.is_rest_day(ymd(2026, 2, 15)));
        assert!(h.is_working_day(ymd(2026, 2, 28)));
        assert!(h.is_working_day(ymd(2026, 9, 20)));
        assert!(h.is_rest_day(ymd(2026, 10, 1)));
        assert!(h.is_working_day(ymd(2025, 1, 26)));
        // An ordinary weekend and weekday.
        assert!(h.is_rest_day(ymd(2026, 3, 7)));
        assert!(h.is_working_day(ymd(2026, 3, 9)));
        assert!(h.covers(2002) && h.covers(2026));
        assert!(!h.covers(2001) && !h.covers(2027));
        assert_eq!(h.source_of(2026), Some(HolidaySource::Builtin));
    }

    #[test]
    fn national_day_runs_to_the_seventh_and_work_resumes() {
        let h = Holidays::builtin();
        assert_eq!(
            h.working_day_on_or_after(ymd(2026, 10, 3)),
            ymd(2026, 10, 8)
        );
        assert_eq!(
            h.working_day_on_or_after(ymd(2026, 10, 8)),
            ymd(2026, 10, 8)
        );
        let groups = h.groups(2026);
        let national = groups.iter().find(|g| g.name == "国庆节").unwrap();
        assert_eq!(national.rest, vec![(ymd(2026, 10, 1), ymd(2026, 10, 7))]);
        assert_eq!(national.work, vec![ymd(2026, 9, 20), ymd(2026, 10, 10)]);
        assert_eq!(groups.first().map(|g| g.name.as_str()), Some("元旦"));
    }

    #[test]
    fn file_adds_a_year_and_reports_bad_entries() {
        let text = "[[holiday]]\nname = \"元旦\"\nrest = [\"2027-01-01..2027-01-03\"]\nwork = [\"2027-02-30\"]\n\n[[holiday]]\nname = \"春节\"\nrest = [\"2027-02-10..2027-02-05\", \"2027-01-02\"]\n";
        let src = Source {
            name: "holidays.toml",
            text,
        };
        let mut h = Holidays::builtin();
        let mut diags = Vec::new();
        h.apply_file(&src, &mut diags);
        let codes: Vec<(&str, usize, usize)> =
            diags.iter().map(|d| (d.code, d.line, d.column)).collect();
        assert_eq!(
            codes,
            vec![("E030", 4, 9), ("E030", 8, 9), ("E003", 8, 35)],
            "{diags:#?}"
        );
        assert!(h.covers(2027));
        assert_eq!(h.source_of(2027), Some(HolidaySource::File));
        assert!(h.is_rest_day(ymd(2027, 1, 1)));
    }
}
