//! Gregorian dates as rule editors write them: `YYYY-MM-DD` within the
//! calendar's year range, and month-day checks. Shared by the period and
//! holiday files; uses only the lunar module's year range.

use chrono::NaiveDate;

use super::lunar;

/// `YYYY-MM-DD` (years 1900–2200), or the reason it is not one.
pub(super) fn parse_ymd(s: &str) -> Result<NaiveDate, String> {
    let parts: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("“{s}”不是 YYYY-MM-DD 格式"));
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(format!("“{s}”不是 YYYY-MM-DD 格式"));
    };
    if !(lunar::MIN_YEAR..=lunar::MAX_YEAR).contains(&y) {
        return Err(format!(
            "年份 {y} 超出范围（{}–{}）",
            lunar::MIN_YEAR,
            lunar::MAX_YEAR
        ));
    }
    month_day(m, d, Some(y))?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("{y} 年 {m} 月没有 {d} 日"))
}

/// Check a month and day (with its year when known).
pub(super) fn month_day(m: u32, d: u32, year: Option<i32>) -> Result<(u32, u32), String> {
    if !(1..=12).contains(&m) {
        return Err(format!("月份应在 1 到 12 之间，这里是 {m}"));
    }
    let last = match m {
        2 => match year {
            Some(y) if NaiveDate::from_ymd_opt(y, 2, 29).is_none() => 28,
            _ => 29,
        },
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d == 0 || d > last {
        return Err(format!("{m} 月没有 {d} 日"));
    }
    Ok((m, d))
}
