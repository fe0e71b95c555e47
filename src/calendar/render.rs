//! The table of one year for `triage calendar --year`: the resolved
//! periods with their windows, then the official holidays and 调休
//! working days (Markdown, readable as plain text).

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use super::holidays::HolidaySource;
use super::lunar::{self, LunarDate};
use super::{Calendar, PeriodKind, ResolvedPeriod};

pub(super) fn year(cal: &Calendar, year: i32) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {year} 年敏感时段和法定节假日\n");
    let _ = writeln!(
        out,
        "## 敏感时段（{}）\n\n预警窗口：时段开始前 window_before 天起，到结束后 window_after 天止，两端都算在内；时段可以重叠。\n",
        cal.periods_file
    );
    let periods = cal.resolve(year);
    if periods.is_empty() {
        let _ = writeln!(out, "本年没有时段。\n");
    } else {
        let _ = writeln!(out, "| 时段 | 类型 | 日期 | 预警窗口 | 加分 | 说明 |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for p in &periods {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} 至 {} | {} | {} |",
                p.name,
                p.kind.label(),
                dates(p),
                p.window_start,
                p.window_end,
                p.points,
                p.description.replace('|', "｜")
            );
        }
        out.push('\n');
    }
    let mut missing: Vec<String> = Vec::new();
    for p in cal.periods() {
        if let Some(y) = p.event_year()
            && y != year
            && !periods.iter().any(|r| r.name == p.name)
        {
            missing.push(format!("{}（{y} 年）", p.name));
        }
    }
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "注意：以下活动只录入了别的年份的日期，{year} 年的日期公布后请在 periods.toml 里添加：{}\n",
            missing.join("、")
        );
    }

    match cal.holidays.source_of(year) {
        None => {
            let file = match cal.holidays_file.as_deref() {
                Some(f) if !f.starts_with('<') => f.to_string(),
                _ => "规则目录的 holidays.toml（先用 triage rules export 目录 导出规则，再用 --rules 目录）"
                    .to_string(),
            };
            let _ = writeln!(
                out,
                "## 法定节假日和调休\n\n{year} 年的放假安排尚未录入：国务院办公厅公布后（通常在上一年 11—12 月），写进 {file}，文件里有示例。在此之前，计算期限时只按周末顺延。"
            );
        }
        Some(source) => {
            let from = match source {
                HolidaySource::Builtin => "程序内置的国务院办公厅放假安排".to_string(),
                HolidaySource::File => cal
                    .holidays_file
                    .clone()
                    .unwrap_or_else(|| "holidays.toml".into()),
            };
            let _ = writeln!(out, "## 法定节假日和调休（来源：{from}）\n");
            let _ = writeln!(out, "| 节日 | 放假 | 调休上班 |");
            let _ = writeln!(out, "|---|---|---|");
            for g in cal.holidays.groups(year) {
                let rest: Vec<String> = g
                    .rest
                    .iter()
                    .map(|(a, b)| {
                        let n = (*b - *a).num_days() + 1;
                        if a == b {
                            format!("{}（1 天）", md(*a))
                        } else {
                            format!("{} 至 {}（{n} 天）", md(*a), md(*b))
                        }
                    })
                    .collect();
                let work: Vec<String> = g.work.iter().map(|d| md(*d)).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    g.name,
                    if rest.is_empty() {
                        "—".into()
                    } else {
                        rest.join("，")
                    },
                    if work.is_empty() {
                        "—".into()
                    } else {
                        work.join("，")
                    }
                );
            }
        }
    }
    out
}

fn md(d: NaiveDate) -> String {
    d.format("%m-%d").to_string()
}

fn lunar_label(d: NaiveDate) -> Option<String> {
    let (_, month, leap, day) = lunar::lunar_of(d)?;
    let name = lunar::lunar_name(LunarDate { month, day });
    Some(if leap { format!("闰{name}") } else { name })
}

fn dates(p: &ResolvedPeriod) -> String {
    let label = |d: NaiveDate| match p.kind {
        PeriodKind::Lunar => lunar_label(d),
        PeriodKind::SolarTerm => lunar::solar_term_names()
            .iter()
            .find(|t| lunar::solar_term(d.year(), t) == Some(d))
            .map(|t| (*t).to_string()),
        _ => None,
    };
    let one = |d: NaiveDate| match label(d) {
        Some(l) => format!("{d}（{l}）"),
        None => d.to_string(),
    };
    if p.start == p.end {
        one(p.start)
    } else {
        format!("{} 至 {}", one(p.start), one(p.end))
    }
}
