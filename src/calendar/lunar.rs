//! Lunar dates and solar terms, turned into Gregorian dates.
//!
//! Crate choice: `tyme4rs` 1.5 (6tail, MIT; astronomy from 寿星天文历).
//! Of the crates compared (`chinese-lunisolar-calendar`, `lunar-lite`,
//! `icu_calendar`; see DOMAIN.md §4.4) it is the only one that gives all
//! three things this module and `holidays.rs` need: lunar dates, the 24
//! solar terms (清明 is a solar term, not a lunar date) and the official
//! holiday and 调休 table. Its `from_*` constructors unwrap and panic on bad
//! input, so only the `new(..) -> Result` constructors are called here, and
//! only after our own range checks.
//!
//! A lunar date is a month (1–12, never a leap month: festivals fall in
//! the ordinary month) and a day (1–30). Day 30 of a month that has only 29
//! days means its last day, so 腊月三十 and 除夕 are the same date whether
//! 腊月 has 29 or 30 days.

use chrono::{Datelike, NaiveDate};
use tyme4rs::tyme::lunar::{LunarDay, LunarMonth, LunarYear};
use tyme4rs::tyme::solar::{SOLAR_TERM_NAMES, SolarDay, SolarTerm};

/// First year the calendar resolves.
pub const MIN_YEAR: i32 = 1900;
/// Last year the calendar resolves.
pub const MAX_YEAR: i32 = 2200;

/// A day of the lunar year (ordinary month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LunarDate {
    /// 1 = 正月 … 12 = 腊月.
    pub month: u8,
    /// 1–30; 30 means the last day of the month when it has 29.
    pub day: u8,
}

/// Traditional festivals by name, with their lunar dates.
pub const FESTIVALS: &[(&str, LunarDate)] = &[
    ("春节", LunarDate { month: 1, day: 1 }),
    ("元宵", LunarDate { month: 1, day: 15 }),
    ("龙抬头", LunarDate { month: 2, day: 2 }),
    ("端午", LunarDate { month: 5, day: 5 }),
    ("七夕", LunarDate { month: 7, day: 7 }),
    ("中元", LunarDate { month: 7, day: 15 }),
    ("中秋", LunarDate { month: 8, day: 15 }),
    ("重阳", LunarDate { month: 9, day: 9 }),
    ("寒衣节", LunarDate { month: 10, day: 1 }),
    ("下元", LunarDate { month: 10, day: 15 }),
    ("腊八", LunarDate { month: 12, day: 8 }),
    ("小年", LunarDate { month: 12, day: 23 }),
    ("除夕", LunarDate { month: 12, day: 30 }),
];

/// The 24 solar terms, in the crate's order (冬至 first).
pub fn solar_term_names() -> &'static [&'static str] {
    &SOLAR_TERM_NAMES
}

/// Why a lunar date could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LunarParseError {
    /// Not a date nor a known festival name.
    Unknown,
    /// Looks like a date but is not a valid one (the reason, in Chinese).
    Invalid(String),
}

const MONTH_NAMES: [&str; 12] = [
    "正月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "冬月", "腊月",
];

/// Read a lunar date: a festival name (`除夕`), `MM-DD` (`12-23`) or the
/// Chinese form (`正月初一`, `腊月廿三`, `八月十五`, `十二月三十`).
pub fn parse_lunar(s: &str) -> Result<LunarDate, LunarParseError> {
    let s = s.trim();
    let s = s
        .strip_suffix("节")
        .filter(|r| lookup(r).is_some())
        .unwrap_or(s);
    if let Some(d) = lookup(s) {
        return Ok(d);
    }
    let (m, d) = if let Some((m, d)) = s.split_once('-') {
        let (Ok(m), Ok(d)) = (m.trim().parse::<u32>(), d.trim().parse::<u32>()) else {
            return Err(LunarParseError::Invalid(
                "农历日期写成 \"MM-DD\"，例如 \"12-23\"".into(),
            ));
        };
        (m, d)
    } else if let Some((m, d)) = s.split_once('月') {
        let m = match m.trim_start_matches("农历").trim_start_matches('闰') {
            "正" => Some(1),
            "冬" => Some(11),
            "腊" => Some(12),
            other => zh_number(other),
        };
        let d = d.trim_end_matches('日');
        let d = if let Some(rest) = d.strip_prefix('初') {
            zh_number(rest).filter(|n| *n <= 10)
        } else if let Some(rest) = d.strip_prefix('廿') {
            zh_number(rest).filter(|n| *n < 10).map(|n| 20 + n)
        } else {
            zh_number(d)
        };
        match (m, d) {
            (Some(m), Some(d)) => (m, d),
            _ => return Err(LunarParseError::Unknown),
        }
    } else {
        return Err(LunarParseError::Unknown);
    };
    if !(1..=12).contains(&m) {
        return Err(LunarParseError::Invalid(format!(
            "农历月份应在 1 到 12 之间，这里是 {m}"
        )));
    }
    if !(1..=30).contains(&d) {
        return Err(LunarParseError::Invalid(format!(
            "农历日应在 1 到 30 之间，这里是 {d}"
        )));
    }
    Ok(LunarDate {
        month: m as u8,
        day: d as u8,
    })
}

fn lookup(name: &str) -> Option<LunarDate> {
    FESTIVALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .or(match name {
            "元宵节" | "上元" => Some(LunarDate { month: 1, day: 15 }),
            "端午节" => Some(LunarDate { month: 5, day: 5 }),
            "中秋节" => Some(LunarDate { month: 8, day: 15 }),
            "重阳节" => Some(LunarDate { month: 9, day: 9 }),
            "大年三十" | "年三十" => Some(LunarDate { month: 12, day: 30 }),
            _ => None,
        })
}

/// A Chinese number from 1 to 30 (一 … 十, 十一, 二十, 二十一, 三十, 卅).
fn zh_number(s: &str) -> Option<u32> {
    let digit = |c: char| "一二三四五六七八九".find(c).map(|i| i as u32 / 3 + 1);
    let chars: Vec<char> = s.chars().collect();
    let n = match chars.as_slice() {
        ['十'] => 10,
        ['卅'] => 30,
        [c] => digit(*c)?,
        ['十', c] => 10 + digit(*c)?,
        [a, '十'] => digit(*a)? * 10,
        [a, '十', b] => digit(*a)? * 10 + digit(*b)?,
        _ => return None,
    };
    (1..=30).contains(&n).then_some(n)
}

/// The Chinese name of a lunar date: 正月初一, 腊月廿三, 八月十五.
pub fn lunar_name(d: LunarDate) -> String {
    let month = MONTH_NAMES
        .get(usize::from(d.month).wrapping_sub(1))
        .copied()
        .unwrap_or("?月");
    format!("{month}{}", day_name(d.day))
}

fn day_name(day: u8) -> String {
    const N: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let d = usize::from(day);
    match d {
        1..=9 => format!("初{}", N[d]),
        10 => "初十".into(),
        11..=19 => format!("十{}", N[d - 10]),
        20 => "二十".into(),
        21..=29 => format!("廿{}", N[d - 20]),
        30 => "三十".into(),
        _ => format!("{d}日"),
    }
}

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

fn to_naive(d: SolarDay) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::try_from(d.get_year()).ok()?,
        u32::try_from(d.get_month()).ok()?,
        u32::try_from(d.get_day()).ok()?,
    )
}

/// The Gregorian date of `d` in lunar year `lunar_year` (the lunar year
/// that begins with that year's 春节). `None` outside
/// [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn to_solar(lunar_year: i32, d: LunarDate) -> Option<NaiveDate> {
    if !in_range(lunar_year) || !(1..=12).contains(&d.month) || d.day == 0 {
        return None;
    }
    let year = isize::try_from(lunar_year).ok()?;
    let month = LunarMonth::new(year, isize::from(d.month)).ok()?;
    let day = usize::from(d.day).min(month.get_day_count());
    let lunar = LunarDay::new(year, isize::from(d.month), day).ok()?;
    to_naive(lunar.get_solar_day())
}

/// The date of solar term `name` (清明 …) in Gregorian year `year`.
pub fn solar_term(year: i32, name: &str) -> Option<NaiveDate> {
    if !in_range(year) || !SOLAR_TERM_NAMES.contains(&name) {
        return None;
    }
    // The crate counts a year's terms from the 冬至 before it, so 冬至 of
    // Gregorian year Y is the first term of the crate's year Y + 1.
    [year, year + 1].into_iter().find_map(|y| {
        let term = SolarTerm::new(isize::try_from(y).ok()?, name).ok()?;
        to_naive(term.get_solar_day()).filter(|d| d.year() == year)
    })
}

/// The lunar date of a Gregorian date: (lunar year, month, leap, day).
pub fn lunar_of(date: NaiveDate) -> Option<(i32, u8, bool, u8)> {
    if !in_range(date.year()) {
        return None;
    }
    let solar = SolarDay::new(
        isize::try_from(date.year()).ok()?,
        usize::try_from(date.month()).ok()?,
        usize::try_from(date.day()).ok()?,
    )
    .ok()?;
    let lunar = solar.get_lunar_day();
    let month = lunar.get_lunar_month();
    Some((
        i32::try_from(lunar.get_year()).ok()?,
        u8::try_from(month.get_month()).ok()?,
        month.is_leap(),
        u8::try_from(lunar.get_day()).ok()?,
    ))
}

/// The leap month of a lunar year (`Some(11)` for 2033), or `None`.
pub fn leap_month(lunar_year: i32) -> Option<u8> {
    if !in_range(lunar_year) {
        return None;
    }
    let y = LunarYear::new(isize::try_from(lunar_year).ok()?).ok()?;
    u8::try_from(y.get_leap_month()).ok().filter(|m| *m > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn festivals_and_chinese_dates_parse() {
        let ld = |m, d| LunarDate { month: m, day: d };
        assert_eq!(parse_lunar("春节"), Ok(ld(1, 1)));
        assert_eq!(parse_lunar("中秋节"), Ok(ld(8, 15)));
        assert_eq!(parse_lunar("正月初一"), Ok(ld(1, 1)));
        assert_eq!(parse_lunar("腊月廿三"), Ok(ld(12, 23)));
        assert_eq!(parse_lunar("十二月三十"), Ok(ld(12, 30)));
        assert_eq!(parse_lunar("冬月二十"), Ok(ld(11, 20)));
        assert_eq!(parse_lunar("05-05"), Ok(ld(5, 5)));
        assert_eq!(parse_lunar("中球"), Err(LunarParseError::Unknown));
        assert!(matches!(
            parse_lunar("13-01"),
            Err(LunarParseError::Invalid(_))
        ));
        assert!(matches!(
            parse_lunar("01-31"),
            Err(LunarParseError::Invalid(_))
        ));
        assert_eq!(lunar_name(ld(12, 23)), "腊月廿三");
        assert_eq!(lunar_name(ld(1, 10)), "正月初十");
        assert_eq!(lunar_name(ld(8, 15)), "八月十五");
    }

    #[test]
    fn new_year_eve_is_the_last_day_of_the_twelfth_month() {
        // 腊月 of lunar 2026 has 29 days: 除夕 2027-02-05, 春节 2027-02-06.
        let eve = LunarDate { month: 12, day: 30 };
        assert_eq!(to_solar(2026, eve), Some(ymd(2027, 2, 5)));
        assert_eq!(
            to_solar(2027, LunarDate { month: 1, day: 1 }),
            Some(ymd(2027, 2, 6))
        );
        // 腊月 of lunar 2024 has 29 days too; 春节 2025-01-29.
        assert_eq!(to_solar(2024, eve), Some(ymd(2025, 1, 28)));
    }

    #[test]
    fn solar_terms_fall_in_the_asked_year() {
        assert_eq!(solar_term(2026, "清明"), Some(ymd(2026, 4, 5)));
        assert_eq!(solar_term(2025, "清明"), Some(ymd(2025, 4, 4)));
        assert_eq!(solar_term(2026, "冬至"), Some(ymd(2026, 12, 22)));
        assert_eq!(solar_term(2026, "小寒"), Some(ymd(2026, 1, 5)));
        assert_eq!(solar_term(2026, "清明节"), None);
        assert_eq!(solar_term(99_999, "清明"), None);
    }

    #[test]
    fn out_of_range_years_give_none_not_a_panic() {
        let d = LunarDate { month: 1, day: 1 };
        assert_eq!(to_solar(i32::MAX, d), None);
        assert_eq!(to_solar(i32::MIN, d), None);
        assert_eq!(to_solar(2026, LunarDate { month: 13, day: 1 }), None);
        assert_eq!(leap_month(-5), None);
        assert_eq!(lunar_of(NaiveDate::MAX), None);
    }
}
