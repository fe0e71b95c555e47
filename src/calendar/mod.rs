//! Time: sensitive periods (敏感时段) and statutory deadlines (办理时限).
//!
//! This module reads `periods.toml` and `holidays.toml` from a rule set,
//! places each period on the dates of a year (fixed Gregorian dates, lunar
//! dates and festivals, solar terms, dated events), says which periods'
//! windows a date falls in, counts the statutory clocks of a case with the
//! official holidays and 调休 working days, and prints a year's table for
//! `triage calendar --year`. It may use chrono, `tyme4rs` (lunar calendar,
//! solar terms, holiday table), serde/toml, and from this crate only
//! [`crate::rules::RuleSource`] (the files), [`crate::rules::diag`] (the
//! diagnostics) and the rules' TOML error reader; nothing of matching or
//! scoring, which call into it. It keeps to periods that bear on
//! grievances (holidays, 年关 wage arrears, 八一 for veterans, 两会 for
//! visits to Beijing); political anniversaries unrelated to grievances are
//! left out on purpose (DOMAIN.md, design caution).
//!
//! **Window rule.** A period runs from its first day `start` to its last
//! day `end` (inclusive). Its window runs from `start - window_before` to
//! `end + window_after`, both ends inclusive. [`Calendar::in_force`] gives
//! every period whose window holds a date, with how many days before or
//! after the period it is, looking at the neighbouring years too (a 2027
//! 元旦 window holds 2026-12-29).
//!
//! ```
//! use chrono::NaiveDate;
//! use petition_triage::calendar::Calendar;
//!
//! let cal = Calendar::builtin().map_err(|d| d.len())?;
//! let day = NaiveDate::from_ymd_opt(2026, 12, 30).ok_or(0usize)?;
//! let hits = cal.in_force(day);
//! assert!(hits.iter().any(|h| h.period.name == "元旦" && h.days_before() == Some(2)));
//! # Ok::<(), usize>(())
//! ```

mod date;
pub mod deadlines;
pub mod holidays;
pub mod lunar;
pub mod periods;
mod render;

use std::path::Path;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

pub use deadlines::{CaseTimes, Clock, ClockKind, ClockState, DeadlineRules, Deadlines, Status};
pub use holidays::{HolidayDay, HolidayGroup, HolidaySource, Holidays};
pub use periods::{Period, PeriodKind, ResolvedPeriod};

use crate::rules::RuleSource;
use crate::rules::diag::{Diagnostic, Source};

/// Holidays and 调休 days added to the built-in table (optional).
pub use crate::rules::HOLIDAYS_FILE;
/// The sensitive periods and deadline settings, at the root of a rule set.
pub use crate::rules::PERIODS_FILE;

/// Whether a rule-set file belongs to the calendar (the rule loader
/// leaves these files to [`Calendar`]).
pub fn is_calendar_file(rel: &str) -> bool {
    rel == PERIODS_FILE || rel == HOLIDAYS_FILE
}

/// Where a date stands relative to a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// In the window, this many days before the first day.
    Before {
        /// Days to the first day.
        days: u32,
    },
    /// On a day of the period itself.
    During {
        /// 1 on the first day.
        day: u32,
    },
    /// In the window, this many days after the last day.
    After {
        /// Days since the last day.
        days: u32,
    },
}

/// A period whose window holds a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The period, on the dates of the occurrence that was hit.
    pub period: ResolvedPeriod,
    /// Before, during or after it.
    pub relation: Relation,
}

impl Hit {
    /// Days before the period's first day, when the date is before it.
    pub fn days_before(&self) -> Option<u32> {
        match self.relation {
            Relation::Before { days } => Some(days),
            _ => None,
        }
    }

    /// Days after the period's last day, when the date is after it.
    pub fn days_after(&self) -> Option<u32> {
        match self.relation {
            Relation::After { days } => Some(days),
            _ => None,
        }
    }

    /// One line in Chinese: 「春节前 3 天（2027-02-06）」.
    pub fn explain(&self) -> String {
        let p = &self.period;
        match self.relation {
            Relation::Before { days } => format!("{}前 {days} 天（{}）", p.name, p.start),
            Relation::During { .. } if p.start == p.end => format!("{}当天（{}）", p.name, p.start),
            Relation::During { day } => {
                format!("{}期间第 {day} 天（{} 至 {}）", p.name, p.start, p.end)
            }
            Relation::After { days } => format!("{}后 {days} 天（{}）", p.name, p.end),
        }
    }
}

/// The calendar of a rule set: checked periods, deadline rules and the
/// holiday table. Cheap to share between threads; the dates of a year are
/// worked out once, on first use.
#[derive(Debug, Clone)]
pub struct Calendar {
    periods: Vec<Period>,
    rules: DeadlineRules,
    holidays: Holidays,
    periods_file: String,
    holidays_file: Option<String>,
    years: Box<[OnceLock<Vec<ResolvedPeriod>>]>,
}

impl Calendar {
    /// Read `periods.toml` and (if present) `holidays.toml` from a rule
    /// directory. Every problem is returned, with file:line:column.
    pub fn load(dir: &Path) -> Result<Calendar, Vec<Diagnostic>> {
        let mut files = Vec::new();
        let mut diags = Vec::new();
        for name in [PERIODS_FILE, HOLIDAYS_FILE] {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        let text = match text.strip_prefix('\u{feff}') {
                            Some(t) => t.to_string(),
                            None => text,
                        };
                        files.push((name.to_string(), text));
                    }
                    Err(_) => diags.push(Diagnostic::file_level(
                        "E014",
                        &path.display().to_string(),
                        "文件不是 UTF-8 编码",
                        Some("请在编辑器里另存为 UTF-8".into()),
                    )),
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => diags.push(Diagnostic::file_level(
                    "E014",
                    &path.display().to_string(),
                    format!("读不了文件：{e}"),
                    None,
                )),
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        Calendar::from_source(&RuleSource {
            origin: dir.display().to_string(),
            files,
        })
    }

    /// The calendar of the rule set built into the binary.
    pub fn builtin() -> Result<Calendar, Vec<Diagnostic>> {
        Calendar::from_source(&RuleSource::builtin())
    }

    /// The calendar of a rule source already read (the one a
    /// [`crate::RuleSet`] was loaded from: `&rules.source`).
    pub fn from_source(source: &RuleSource) -> Result<Calendar, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let file = |rel: &str| source.files.iter().find(|(r, _)| r == rel);
        let periods_file = source.display_name(PERIODS_FILE);
        let Some((_, text)) = file(PERIODS_FILE) else {
            diags.push(Diagnostic::file_level(
                "E014",
                &periods_file,
                "缺少 periods.toml（敏感时段和办理时限）",
                Some("从默认规则导出一份（triage rules export 目录）再复制过来".into()),
            ));
            return Err(diags);
        };
        let src = Source {
            name: &periods_file,
            text,
        };
        let loaded = periods::load(&src, &mut diags);
        let mut holidays = Holidays::builtin();
        let holidays_file = file(HOLIDAYS_FILE).map(|(rel, text)| {
            let name = source.display_name(rel);
            holidays.apply_file(&Source { name: &name, text }, &mut diags);
            name
        });
        match loaded {
            Some((periods, rules)) if diags.is_empty() => Ok(Calendar {
                periods,
                rules,
                holidays,
                periods_file,
                holidays_file,
                years: (lunar::MIN_YEAR..=lunar::MAX_YEAR)
                    .map(|_| OnceLock::new())
                    .collect(),
            }),
            _ => Err(diags),
        }
    }

    /// The checked periods, in file order.
    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    /// The holiday table (built in, plus `holidays.toml`).
    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// The deadline settings of `periods.toml`.
    pub fn deadline_rules(&self) -> &DeadlineRules {
        &self.rules
    }

    fn resolved(&self, year: i32) -> &[ResolvedPeriod] {
        let Some(cell) = year
            .checked_sub(lunar::MIN_YEAR)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.years.get(i))
        else {
            return &[];
        };
        cell.get_or_init(|| {
            let mut v: Vec<ResolvedPeriod> =
                self.periods.iter().flat_map(|p| p.resolve(year)).collect();
            v.sort_by(|a, b| a.start.cmp(&b.start).then(a.end.cmp(&b.end)));
            v
        })
    }

    /// The periods whose first day falls in Gregorian `year`, by date
    /// (empty outside 1900–2200).
    pub fn resolve(&self, year: i32) -> Vec<ResolvedPeriod> {
        self.resolved(year).to_vec()
    }

    /// The periods whose window holds `date` (see the window rule above),
    /// by first day.
    pub fn in_force(&self, date: NaiveDate) -> Vec<Hit> {
        let y = date.year();
        // A window reaches at most MAX_PERIOD_DAYS + MAX_WINDOW_DAYS from
        // its start, so periods starting two years before can still reach.
        let mut hits: Vec<Hit> = (y.saturating_sub(2)..=y.saturating_add(1))
            .flat_map(|year| self.resolved(year))
            .filter(|p| p.window_start <= date && date <= p.window_end)
            .map(|p| {
                let relation = if date < p.start {
                    Relation::Before {
                        days: days_between(date, p.start),
                    }
                } else if date > p.end {
                    Relation::After {
                        days: days_between(p.end, date),
                    }
                } else {
                    Relation::During {
                        day: days_between(p.start, date) + 1,
                    }
                };
                Hit {
                    period: p.clone(),
                    relation,
                }
            })
            .collect();
        hits.sort_by_key(|h| h.period.start);
        hits
    }

    /// The statutory clocks of a case on `as_of` (see [`deadlines`]).
    pub fn deadlines(&self, case: &CaseTimes, as_of: NaiveDate) -> Deadlines {
        deadlines::compute(&self.rules, &self.holidays, case, as_of)
    }

    /// A table in Chinese of the periods and holidays of `year`.
    pub fn render_year(&self, year: i32) -> String {
        render::year(self, year)
    }
}

fn days_between(a: NaiveDate, b: NaiveDate) -> u32 {
    u32::try_from((b - a).num_days()).unwrap_or(0)
}

/// `triage calendar [--year Y] [--rules DIR]`: print the table of a year;
/// returns the exit code (1 when the calendar files have errors).
pub fn run_command(year: Option<i32>, rules: Option<&Path>) -> u8 {
    let year = year.unwrap_or_else(|| chrono::Local::now().year());
    if !(lunar::MIN_YEAR..=lunar::MAX_YEAR).contains(&year) {
        eprintln!(
            "错误：年份 {year} 超出范围（{}–{}）",
            lunar::MIN_YEAR,
            lunar::MAX_YEAR
        );
        return 2;
    }
    let loaded = match rules {
        Some(dir) => Calendar::load(dir),
        None => Calendar::builtin(),
    };
    match loaded {
        Ok(cal) => {
            print!("{}", cal.render_year(year));
            0
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{}", d.render());
            }
            eprintln!("日历文件有 {} 处错误，请改正后再试", diags.len());
            1
        }
    }
}
