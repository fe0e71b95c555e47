//! `periods.toml`: the sensitive periods and the deadline settings, as
//! staff write them, checked into [`Period`]s with a diagnostic (code,
//! file:line:column, Chinese hint) for every problem, and resolved to the
//! dates of a given year.

use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;
use toml::Spanned;

use super::date::{month_day, parse_ymd};
use super::deadlines::DeadlineRules;
use super::lunar::{self, LunarDate, LunarParseError};
use crate::rules::diag::{Diagnostic, Severity, Source};

/// Largest `window_before` / `window_after`, in days.
pub const MAX_WINDOW_DAYS: u32 = 180;
/// Longest period (first to last day), in days.
pub const MAX_PERIOD_DAYS: i64 = 180;

/// What a period's dates are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    /// The same Gregorian date every year (`date = "10-01"`).
    Fixed,
    /// A lunar date or festival (`date = "春节"`, `"腊月廿三"`).
    Lunar,
    /// A solar term (`date = "清明"`).
    SolarTerm,
    /// Dates of one year (`start = "2026-03-04"`, `end = "2026-03-12"`).
    Event,
}

impl PeriodKind {
    /// The key written in `periods.toml`.
    pub fn key(self) -> &'static str {
        match self {
            PeriodKind::Fixed => "fixed",
            PeriodKind::Lunar => "lunar",
            PeriodKind::SolarTerm => "solar_term",
            PeriodKind::Event => "event",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Fixed => "公历",
            PeriodKind::Lunar => "农历",
            PeriodKind::SolarTerm => "节气",
            PeriodKind::Event => "活动",
        }
    }

    const ALL: [PeriodKind; 4] = [
        PeriodKind::Fixed,
        PeriodKind::Lunar,
        PeriodKind::SolarTerm,
        PeriodKind::Event,
    ];
}

/// When a period falls.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum When {
    /// Month and day, first and last.
    Fixed((u32, u32), (u32, u32)),
    /// Lunar dates, first and last.
    Lunar(LunarDate, LunarDate),
    /// Solar terms, first and last.
    SolarTerm(&'static str, &'static str),
    /// Explicit dates.
    Event(NaiveDate, NaiveDate),
}

/// A checked period.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Name shown to staff.
    pub name: String,
    /// How its dates are written.
    pub kind: PeriodKind,
    pub(super) when: When,
    /// Days before the first day that are already in the window.
    pub window_before: u32,
    /// Days after the last day that are still in the window.
    pub window_after: u32,
    /// Points a case in the window may get.
    pub points: f64,
    /// Why the period matters.
    pub description: String,
}

/// A period placed on the dates of one year.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPeriod {
    /// Name shown to staff.
    pub name: String,
    /// How its dates are written.
    pub kind: PeriodKind,
    /// First day of the period.
    pub start: NaiveDate,
    /// Last day of the period (inclusive; equal to `start` for one day).
    pub end: NaiveDate,
    /// First day of the window: `start - window_before`.
    pub window_start: NaiveDate,
    /// Last day of the window: `end + window_after`.
    pub window_end: NaiveDate,
    /// Points.
    pub points: f64,
    /// Why the period matters.
    pub description: String,
}

impl Period {
    /// The occurrences of this period that begin in Gregorian year `year`
    /// (usually one; none for an event of another year or 02-29 in a
    /// common year; two for a lunar date in early January and late
    /// December of the same year).
    pub fn resolve(&self, year: i32) -> Vec<ResolvedPeriod> {
        let spans: Vec<(NaiveDate, NaiveDate)> = match &self.when {
            When::Fixed(a, b) => fixed(year, *a)
                .and_then(|s| {
                    let e = fixed(year, *b)
                        .filter(|e| *e >= s)
                        .or_else(|| fixed(year + 1, *b))?;
                    Some((s, e))
                })
                .into_iter()
                .collect(),
            When::Lunar(a, b) => [year - 1, year]
                .into_iter()
                .filter_map(|ly| {
                    let s = lunar::to_solar(ly, *a).filter(|s| s.year() == year)?;
                    let e = lunar::to_solar(ly, *b)
                        .filter(|e| *e >= s)
                        .or_else(|| lunar::to_solar(ly + 1, *b))?;
                    Some((s, e))
                })
                .collect(),
            When::SolarTerm(a, b) => lunar::solar_term(year, a)
                .and_then(|s| {
                    let e = lunar::solar_term(year, b)
                        .filter(|e| *e >= s)
                        .or_else(|| lunar::solar_term(year + 1, b))?;
                    Some((s, e))
                })
                .into_iter()
                .collect(),
            When::Event(s, e) => (s.year() == year).then_some((*s, *e)).into_iter().collect(),
        };
        spans
            .into_iter()
            .map(|(start, end)| ResolvedPeriod {
                name: self.name.clone(),
                kind: self.kind,
                start,
                end,
                window_start: start
                    .checked_sub_days(Days::new(u64::from(self.window_before)))
                    .unwrap_or(NaiveDate::MIN),
                window_end: end
                    .checked_add_days(Days::new(u64::from(self.window_after)))
                    .unwrap_or(NaiveDate::MAX),
                points: self.points,
                description: self.description.clone(),
            })
            .collect()
    }

    /// The year of an event (`None` for a yearly period).
    pub fn event_year(&self) -> Option<i32> {
        match &self.when {
            When::Event(s, _) => Some(s.year()),
            _ => None,
        }
    }
}

/// Month and day in `year`; 02-29 only in leap years.
fn fixed(year: i32, (m, d): (u32, u32)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, m, d)
}

/// `MM-DD` or `M月D日`, or the reason it is not one.
fn parse_md(s: &str) -> Result<(u32, u32), String> {
    let s = s.trim();
    let pair = s
        .split_once('-')
        .or_else(|| s.strip_suffix('日').and_then(|r| r.split_once('月')));
    let Some((m, d)) = pair else {
        return Err(format!("“{s}”不是 MM-DD 格式"));
    };
    let (Ok(m), Ok(d)) = (m.trim().parse::<u32>(), d.trim().parse::<u32>()) else {
        return Err(format!("“{s}”不是 MM-DD 格式"));
    };
    month_day(m, d, None)
}

/// Edit distance in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known names nearest to `s` (all of them on a tie) when they are
/// close enough to be a typo, as 「“中元”或“中秋”」.
pub(super) fn did_you_mean(s: &str, names: &[&str]) -> Option<String> {
    let len = s.chars().count();
    let close: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (edit_distance(s, n), *n))
        .filter(|(d, n)| *d > 0 && *d <= (len.max(n.chars().count()) / 2).max(1))
        .collect();
    let best = close.iter().map(|(d, _)| *d).min()?;
    let picked: Vec<String> = close
        .iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, n)| format!("“{n}”"))
        .collect();
    Some(picked.join("或"))
}

/// `periods.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriodsFile {
    /// The periods.
    #[serde(default)]
    period: Vec<RawPeriod>,
    /// Deadline settings.
    deadlines: RawDeadlines,
}

/// One `[[period]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    name: Spanned<String>,
    kind: Spanned<String>,
    date: Option<Spanned<String>>,
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    window_before: Spanned<i64>,
    window_after: Spanned<i64>,
    points: Spanned<f64>,
    description: Spanned<String>,
}

/// `[deadlines]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    accept_days: Spanned<i64>,
    handling_days: Spanned<i64>,
    extension_days: Spanned<i64>,
    review_request_days: Spanned<i64>,
    review_decision_days: Spanned<i64>,
    rereview_request_days: Spanned<i64>,
    rereview_decision_days: Spanned<i64>,
    due_soon_days: Spanned<i64>,
    roll_to_working_day: bool,
}

struct Check<'s, 'd> {
    src: &'s Source<'s>,
    diags: &'d mut Vec<Diagnostic>,
}

impl Check<'_, '_> {
    fn err(&mut self, code: &'static str, span: std::ops::Range<usize>, msg: String, hint: String) {
        self.diags
            .push(self.src.diag(code, Severity::Error, span, msg, Some(hint)));
    }

    fn days(&mut self, v: &Spanned<i64>, lo: i64, hi: i64, what: &str) -> u32 {
        let x = *v.get_ref();
        if (lo..=hi).contains(&x) {
            u32::try_from(x).unwrap_or(0)
        } else {
            self.err(
                "E008",
                v.span(),
                format!("{what}超出范围：{x}"),
                format!("应在 {lo} 到 {hi} 天之间"),
            );
            0
        }
    }
}

/// Parse and check `periods.toml`: the periods and the deadline rules, or
/// nothing when the file has errors (all of them in `diags`).
pub(super) fn load(
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<Period>, DeadlineRules)> {
    let raw = crate::rules::parse_toml::<RawPeriodsFile>(src, diags)?;
    let before = diags.len();
    let mut c = Check { src, diags };
    let mut periods = Vec::new();
    let mut names: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    for p in &raw.period {
        if let Some(period) = check_period(&mut c, p) {
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == period.name) {
                let line = src
                    .diag("E003", Severity::Error, first.clone(), "", None)
                    .line;
                c.err(
                    "E003",
                    p.name.span(),
                    format!("时段名称“{}”重复", period.name),
                    format!("第 {line} 行已有同名时段；不同年份的活动请写成不同的名称，例如“全国两会2027”"),
                );
                continue;
            }
            names.push((period.name.clone(), p.name.span()));
            periods.push(period);
        }
    }
    let d = &raw.deadlines;
    let rules = DeadlineRules {
        accept_days: c.days(&d.accept_days, 1, 365, "受理期限"),
        handling_days: c.days(&d.handling_days, 1, 365, "办理期限"),
        extension_days: c.days(&d.extension_days, 0, 365, "延期天数"),
        review_request_days: c.days(&d.review_request_days, 1, 365, "复查申请期限"),
        review_decision_days: c.days(&d.review_decision_days, 1, 365, "复查期限"),
        rereview_request_days: c.days(&d.rereview_request_days, 1, 365, "复核申请期限"),
        rereview_decision_days: c.days(&d.rereview_decision_days, 1, 365, "复核期限"),
        due_soon_days: c.days(&d.due_soon_days, 0, 60, "临期提醒天数"),
        roll_to_working_day: d.roll_to_working_day,
    };
    (diags.len() == before).then_some((periods, rules))
}

fn check_period(c: &mut Check<'_, '_>, p: &RawPeriod) -> Option<Period> {
    let before = c.diags.len();
    let name = p.name.get_ref().trim().to_string();
    if name.is_empty() {
        c.err(
            "E006",
            p.name.span(),
            "时段名称为空".into(),
            "给时段起一个名称，例如 name = \"春节\"".into(),
        );
    }
    let description = p.description.get_ref().trim().to_string();
    if description.is_empty() {
        c.err(
            "E006",
            p.description.span(),
            "说明为空".into(),
            "用一句话写明这个时段为什么要提前关注".into(),
        );
    }
    let window_before = c.days(
        &p.window_before,
        0,
        MAX_WINDOW_DAYS.into(),
        "window_before ",
    );
    let window_after = c.days(&p.window_after, 0, MAX_WINDOW_DAYS.into(), "window_after ");
    let points = *p.points.get_ref();
    if !(points.is_finite() && (0.0..=100.0).contains(&points)) {
        c.err(
            "E008",
            p.points.span(),
            format!("加分超出范围：{points}"),
            "应在 0 到 100 之间".into(),
        );
    }
    let kind_text = p.kind.get_ref().trim();
    let Some(kind) = PeriodKind::ALL.into_iter().find(|k| k.key() == kind_text) else {
        let keys: Vec<&str> = PeriodKind::ALL.iter().map(|k| k.key()).collect();
        let hint = match did_you_mean(kind_text, &keys) {
            Some(g) => format!("是不是{g}？可用的类型：{}", keys.join("、")),
            None => "可用的类型：fixed（公历日期）、lunar（农历日期或节日）、solar_term（节气）、event（具体年份的日期）".to_string(),
        };
        c.err(
            "E010",
            p.kind.span(),
            format!("未知的时段类型“{kind_text}”"),
            hint,
        );
        return None;
    };
    let when = check_dates(c, p, kind)?;
    if let When::Event(s, e) = &when
        && (*e - *s).num_days() >= MAX_PERIOD_DAYS
    {
        let span = p.end.as_ref().map_or(p.name.span(), Spanned::span);
        c.err(
            "E008",
            span,
            format!("时段太长：{s} 至 {e}"),
            format!("一个时段最长 {MAX_PERIOD_DAYS} 天；更长的关注期请拆开写"),
        );
    }
    (c.diags.len() == before).then_some(Period {
        name,
        kind,
        when,
        window_before,
        window_after,
        points,
        description,
    })
}

fn check_dates(c: &mut Check<'_, '_>, p: &RawPeriod, kind: PeriodKind) -> Option<When> {
    if kind == PeriodKind::Event {
        if let Some(date) = &p.date {
            c.err(
                "E010",
                date.span(),
                "event 类型不用 date".into(),
                "写开始和结束日期：start = \"2026-03-04\"，end = \"2026-03-12\"".into(),
            );
            return None;
        }
        let Some(start) = &p.start else {
            c.err(
                "E009",
                p.kind.span(),
                "缺少必填的键“start”".into(),
                "event 类型要写开始日期 start = \"YYYY-MM-DD\"（结束日期 end 可选）".into(),
            );
            return None;
        };
        let s = ymd(c, start)?;
        let e = match &p.end {
            Some(end) => ymd(c, end)?,
            None => s,
        };
        if e < s {
            let span = p.end.as_ref().map_or(start.span(), Spanned::span);
            c.err(
                "E030",
                span,
                format!("结束日 {e} 早于开始日 {s}"),
                "检查 start 和 end 是否写反".into(),
            );
            return None;
        }
        return Some(When::Event(s, e));
    }
    if let Some(start) = &p.start {
        c.err(
            "E010",
            start.span(),
            format!("{} 类型不用 start", kind.key()),
            "每年都有的时段写 date（和可选的 end）；只有 event 写带年份的 start".into(),
        );
        return None;
    }
    let Some(date) = &p.date else {
        c.err(
            "E009",
            p.kind.span(),
            "缺少必填的键“date”".into(),
            match kind {
                PeriodKind::Fixed => "公历日期写成 date = \"10-01\"",
                PeriodKind::Lunar => "农历写成 date = \"春节\" 或 date = \"腊月廿三\"",
                _ => "节气写成 date = \"清明\"",
            }
            .into(),
        );
        return None;
    };
    let end = p.end.as_ref().unwrap_or(date);
    match kind {
        PeriodKind::Fixed => Some(When::Fixed(md(c, date)?, md(c, end)?)),
        PeriodKind::Lunar => Some(When::Lunar(lunar_date(c, date)?, lunar_date(c, end)?)),
        _ => Some(When::SolarTerm(term(c, date)?, term(c, end)?)),
    }
}

fn ymd(c: &mut Check<'_, '_>, v: &Spanned<String>) -> Option<NaiveDate> {
    match parse_ymd(v.get_ref()) {
        Ok(d) => Some(d),
        Err(reason) => {
            c.err(
                "E030",
                v.span(),
                format!("日期无效：{reason}"),
                "event 的日期写成 \"2026-03-04\"（年-月-日）".into(),
            );
            None
        }
    }
}

fn md(c: &mut Check<'_, '_>, v: &Spanned<String>) -> Option<(u32, u32)> {
    match parse_md(v.get_ref()) {
        Ok(d) => Some(d),
        Err(reason) => {
            c.err(
                "E030",
                v.span(),
                format!("日期无效：{reason}"),
                "fixed 的日期写成 \"10-01\"（月-日，不写年份）".into(),
            );
            None
        }
    }
}

fn lunar_date(c: &mut Check<'_, '_>, v: &Spanned<String>) -> Option<LunarDate> {
    let text = v.get_ref().trim();
    match lunar::parse_lunar(text) {
        Ok(d) => Some(d),
        Err(LunarParseError::Invalid(reason)) => {
            c.err(
                "E030",
                v.span(),
                format!("农历日期无效：{reason}"),
                "农历日期写成 \"腊月廿三\"、\"12-23\"，或写节日名（春节、除夕……）".into(),
            );
            None
        }
        Err(LunarParseError::Unknown) => {
            let names: Vec<&str> = lunar::FESTIVALS.iter().map(|(n, _)| *n).collect();
            let hint = if lunar::solar_term_names().contains(&text) {
                format!("“{text}”是节气，不是农历日期：写 kind = \"solar_term\"")
            } else {
                let list = names.join("、");
                match did_you_mean(text, &names) {
                    Some(g) => {
                        format!("是不是{g}？可用的节日：{list}；也可以写农历日期，如 \"腊月廿三\"")
                    }
                    None => format!("可用的节日：{list}；也可以写农历日期，如 \"腊月廿三\""),
                }
            };
            c.err("E031", v.span(), format!("未知的节日“{text}”"), hint);
            None
        }
    }
}

fn term(c: &mut Check<'_, '_>, v: &Spanned<String>) -> Option<&'static str> {
    let text = v.get_ref().trim();
    let text = text
        .strip_suffix("节")
        .filter(|t| lunar::solar_term_names().contains(t))
        .unwrap_or(text);
    if let Some(t) = lunar::solar_term_names().iter().find(|t| **t == text) {
        return Some(t);
    }
    let names = lunar::solar_term_names();
    let hint = if lunar::parse_lunar(text).is_ok() {
        format!("“{text}”是农历节日或日期，不是节气：写 kind = \"lunar\"")
    } else {
        let list = names.join("、");
        match did_you_mean(text, names) {
            Some(g) => format!("是不是{g}？二十四节气：{list}"),
            None => format!("二十四节气：{list}"),
        }
    };
    c.err("E031", v.span(), format!("未知的节气“{text}”"), hint);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("中球", "中秋"), 1);
        assert_eq!(edit_distance("春节", "春节"), 0);
        assert_eq!(edit_distance("", "除夕"), 2);
        assert_eq!(edit_distance("luner", "lunar"), 1);
        let names = ["端午", "中元", "中秋"];
        assert_eq!(did_you_mean("端五", &names).as_deref(), Some("“端午”"));
        assert_eq!(
            did_you_mean("中球", &names).as_deref(),
            Some("“中元”或“中秋”")
        );
        assert_eq!(did_you_mean("国庆", &names), None);
        assert_eq!(
            did_you_mean("soler_term", &["lunar", "solar_term"]).as_deref(),
            Some("“solar_term”")
        );
    }

    #[test]
    fn dates_are_checked() {
        assert!(parse_ymd("2026-02-29").is_err());
        assert!(parse_ymd("2024-02-29").is_ok());
        assert!(parse_ymd("2026-3-4").is_ok());
        assert!(parse_ymd("20260304").is_err());
        assert!(parse_ymd("9999-01-01").is_err());
        assert_eq!(parse_md("10-01"), Ok((10, 1)));
        assert_eq!(parse_md("8月1日"), Ok((8, 1)));
        assert_eq!(parse_md("02-29"), Ok((2, 29)));
        assert!(parse_md("02-30").is_err());
        assert!(parse_md("13-01").is_err());
        assert!(parse_md("国庆").is_err());
    }
}
