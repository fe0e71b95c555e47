//! The calendar: lunar dates against a reference table, every kind of
//! period and its window (across year boundaries too), deadlines at their
//! edges, diagnostics in `periods.toml` / `holidays.toml`, and user values
//! that must never panic.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use petition_triage::calendar::lunar::{self, LunarDate};
use petition_triage::calendar::{
    Calendar, CaseTimes, ClockKind, ClockState, Hit, PeriodKind, Relation, ResolvedPeriod,
};
use petition_triage::{Diagnostic, RuleSet, RuleSource};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn render(d: &[Diagnostic]) -> String {
    d.iter().map(Diagnostic::render).collect()
}

fn builtin() -> Calendar {
    Calendar::builtin().unwrap_or_else(|d| panic!("{}", render(&d)))
}

/// The `[deadlines]` table of the default file, for fixtures.
const DEADLINES: &str = "
[deadlines]
accept_days = 15
handling_days = 60
extension_days = 30
review_request_days = 30
review_decision_days = 30
rereview_request_days = 30
rereview_decision_days = 30
due_soon_days = 5
roll_to_working_day = true
";

/// A rule directory holding `periods` (+ the deadlines table) and,
/// when given, `holidays.toml`.
fn dir_with(periods: &str, holidays: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("periods.toml"),
        format!("{periods}\n{DEADLINES}"),
    )
    .unwrap();
    if let Some(h) = holidays {
        std::fs::write(dir.path().join("holidays.toml"), h).unwrap();
    }
    dir
}

fn calendar_with(periods: &str) -> Calendar {
    let dir = dir_with(periods, None);
    Calendar::load(dir.path()).unwrap_or_else(|d| panic!("{}", render(&d)))
}

fn errors_for(periods_toml: &str) -> (String, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("periods.toml");
    std::fs::write(&path, periods_toml).unwrap();
    let diags = Calendar::load(dir.path()).expect_err("the file has errors");
    (path.display().to_string(), diags)
}

fn find<'a>(periods: &'a [ResolvedPeriod], name: &str) -> &'a ResolvedPeriod {
    periods
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name} in {periods:#?}"))
}

fn hit<'a>(hits: &'a [Hit], name: &str) -> Option<&'a Hit> {
    hits.iter().find(|h| h.period.name == name)
}

// ---- lunar dates -------------------------------------------------------

struct Row {
    year: i32,
    spring: NaiveDate,
    dragon_boat: NaiveDate,
    mid_autumn: NaiveDate,
    leap: u8,
}

fn table() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lunar_festivals.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Row {
                year: f[0].parse().unwrap(),
                spring: date(f[1]),
                dragon_boat: date(f[2]),
                mid_autumn: date(f[3]),
                leap: f[4].trim_start_matches("leap=").parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn lunar_festivals_2000_to_2050_match_the_reference_table() {
    let rows = table();
    assert_eq!(rows.len(), 51);
    assert_eq!((rows[0].year, rows[50].year), (2000, 2050));
    let ld = |month, day| LunarDate { month, day };
    for r in &rows {
        let y = r.year;
        assert_eq!(lunar::to_solar(y, ld(1, 1)), Some(r.spring), "春节 {y}");
        assert_eq!(
            lunar::to_solar(y, ld(5, 5)),
            Some(r.dragon_boat),
            "端午 {y}"
        );
        assert_eq!(
            lunar::to_solar(y, ld(8, 15)),
            Some(r.mid_autumn),
            "中秋 {y}"
        );
        assert_eq!(lunar::leap_month(y).unwrap_or(0), r.leap, "闰月 {y}");
    }
    // The cases people get wrong.
    let r2030 = rows.iter().find(|r| r.year == 2030).unwrap();
    assert_eq!(r2030.spring, ymd(2030, 2, 3));
    assert_eq!(lunar::to_solar(2030, ld(1, 1)), Some(ymd(2030, 2, 3)));
    assert_eq!(lunar::leap_month(2033), Some(11));
    assert_eq!(lunar::lunar_of(ymd(2034, 1, 1)), Some((2033, 11, true, 11)));
    assert_eq!(
        lunar::lunar_of(ymd(2033, 12, 21)),
        Some((2033, 11, false, 30))
    );
}

#[test]
fn builtin_periods_place_the_festivals_of_every_year() {
    let cal = builtin();
    for r in table() {
        let periods = cal.resolve(r.year);
        assert_eq!(find(&periods, "春节").start, r.spring, "{}", r.year);
        assert_eq!(find(&periods, "端午").start, r.dragon_boat, "{}", r.year);
        assert_eq!(find(&periods, "中秋").start, r.mid_autumn, "{}", r.year);
    }
}

#[test]
fn new_years_eve_is_the_day_before_spring_festival_whether_the_month_has_29_or_30_days() {
    let cal = builtin();
    let rows = table();
    let mut lengths = std::collections::BTreeSet::new();
    for pair in rows.windows(2) {
        // 除夕 of lunar year Y falls in Gregorian Y + 1, the day before its 春节.
        let next = &pair[1];
        let eve = find(&cal.resolve(next.year), "除夕").start;
        assert_eq!(eve, next.spring.pred_opt().unwrap(), "{}", next.year);
        let (ly, month, leap, day) = lunar::lunar_of(eve).unwrap();
        assert_eq!((ly, month, leap), (pair[0].year, 12, false));
        lengths.insert(day);
    }
    assert_eq!(
        lengths,
        [29, 30].into_iter().collect(),
        "both lengths occur"
    );
    // 2026-02-16 is 腊月廿九 (no 三十 that year); 2023-01-21 was 腊月三十.
    assert_eq!(lunar::lunar_of(ymd(2026, 2, 16)).map(|l| l.3), Some(29));
    assert_eq!(find(&cal.resolve(2023), "除夕").start, ymd(2023, 1, 21));
    assert_eq!(lunar::lunar_of(ymd(2023, 1, 21)).map(|l| l.3), Some(30));
}

// ---- periods and windows -----------------------------------------------

#[test]
fn every_kind_of_period_resolves_with_its_window() {
    let cal = builtin();
    let p = cal.resolve(2026);
    let new_year = find(&p, "元旦");
    assert_eq!(new_year.kind, PeriodKind::Fixed);
    assert_eq!(
        (new_year.start, new_year.end),
        (ymd(2026, 1, 1), ymd(2026, 1, 1))
    );
    assert_eq!(
        (new_year.window_start, new_year.window_end),
        (ymd(2025, 12, 29), ymd(2026, 1, 3))
    );
    let national = find(&p, "国庆");
    assert_eq!(
        (national.start, national.end),
        (ymd(2026, 10, 1), ymd(2026, 10, 7))
    );
    let spring = find(&p, "春节");
    assert_eq!(spring.kind, PeriodKind::Lunar);
    assert_eq!(
        (spring.start, spring.end),
        (ymd(2026, 2, 17), ymd(2026, 2, 23))
    );
    assert_eq!(spring.window_start, ymd(2026, 2, 10));
    let nianguan = find(&p, "年关");
    assert_eq!(
        (nianguan.start, nianguan.end),
        (ymd(2026, 1, 19), ymd(2026, 2, 16))
    );
    let qingming = find(&p, "清明");
    assert_eq!(qingming.kind, PeriodKind::SolarTerm);
    assert_eq!(qingming.start, ymd(2026, 4, 5));
    assert_eq!(find(&cal.resolve(2025), "清明").start, ymd(2025, 4, 4));
    let lianghui = find(&p, "全国两会2026");
    assert_eq!(lianghui.kind, PeriodKind::Event);
    assert_eq!(
        (lianghui.start, lianghui.end),
        (ymd(2026, 3, 4), ymd(2026, 3, 12))
    );
    assert_eq!(
        (lianghui.window_start, lianghui.window_end),
        (ymd(2026, 2, 25), ymd(2026, 3, 14))
    );
    assert!(cal.resolve(2027).iter().all(|p| p.name != "全国两会2026"));
    // Sorted by first day.
    assert!(p.windows(2).all(|w| w[0].start <= w[1].start));
    // Nothing outside the supported years, and no panic.
    assert!(cal.resolve(i32::MIN).is_empty() && cal.resolve(i32::MAX).is_empty());
}

#[test]
fn windows_are_inclusive_at_both_ends() {
    let cal = builtin();
    let inside = |d| hit(&cal.in_force(d), "国庆").map(|h| h.relation);
    assert_eq!(inside(ymd(2026, 9, 24)), None);
    assert_eq!(inside(ymd(2026, 9, 25)), Some(Relation::Before { days: 6 }));
    assert_eq!(inside(ymd(2026, 10, 1)), Some(Relation::During { day: 1 }));
    assert_eq!(inside(ymd(2026, 10, 7)), Some(Relation::During { day: 7 }));
    assert_eq!(inside(ymd(2026, 10, 8)), Some(Relation::After { days: 1 }));
    assert_eq!(inside(ymd(2026, 10, 9)), None);
    let h = cal.in_force(ymd(2026, 10, 8));
    assert_eq!(
        hit(&h, "国庆").unwrap().explain(),
        "国庆后 1 天（2026-10-07）"
    );
    let h = cal.in_force(ymd(2026, 3, 1));
    assert_eq!(
        hit(&h, "全国两会2026").unwrap().explain(),
        "全国两会2026前 3 天（2026-03-04）"
    );
}

#[test]
fn overlapping_periods_all_hit() {
    let cal = builtin();
    // 2026-03-03: 元宵 itself, the tail of the 春节 window, two days before 两会.
    let hits = cal.in_force(ymd(2026, 3, 3));
    let names: Vec<&str> = hits.iter().map(|h| h.period.name.as_str()).collect();
    assert_eq!(names, ["春节", "元宵", "全国两会2026"]);
    assert_eq!(hit(&hits, "春节").unwrap().days_after(), Some(8));
    assert_eq!(hit(&hits, "全国两会2026").unwrap().days_before(), Some(1));
    // 2026-02-16 (除夕) is in 年关, 除夕 and the 春节 window.
    let hits = cal.in_force(ymd(2026, 2, 16));
    assert!(
        ["年关", "除夕", "春节"]
            .iter()
            .all(|n| hit(&hits, n).is_some())
    );
}

#[test]
fn windows_reach_across_the_year_boundary() {
    let cal = calendar_with(
        r#"
[[period]]
name = "元旦"
kind = "fixed"
date = "01-01"
window_before = 5
window_after = 2
points = 3
description = "元旦"

[[period]]
name = "春节"
kind = "lunar"
date = "春节"
window_before = 45
window_after = 3
points = 5
description = "春节"

[[period]]
name = "岁末"
kind = "fixed"
date = "12-20"
end = "01-10"
window_before = 0
window_after = 0
points = 1
description = "跨年的公历时段"

[[period]]
name = "年终"
kind = "fixed"
date = "12-31"
window_before = 0
window_after = 3
points = 1
description = "年底"

[[period]]
name = "冬至"
kind = "solar_term"
date = "冬至"
end = "小寒"
window_before = 0
window_after = 1
points = 1
description = "跨年的节气时段"

[[period]]
name = "年初活动"
kind = "event"
start = "2027-01-02"
end = "2027-01-03"
window_before = 7
window_after = 0
points = 1
description = "下一年年初的活动"
"#,
    );
    let day = ymd(2026, 12, 28);
    let hits = cal.in_force(day);
    let new_year = hit(&hits, "元旦").expect("2027 元旦 window");
    assert_eq!(new_year.period.start, ymd(2027, 1, 1));
    assert_eq!(new_year.days_before(), Some(4));
    let spring = hit(&hits, "春节").expect("2027 春节 window");
    assert_eq!(spring.period.start, ymd(2027, 2, 6));
    assert_eq!(spring.days_before(), Some(40));
    assert_eq!(
        hit(&hits, "年初活动").map(|h| h.relation),
        Some(Relation::Before { days: 5 })
    );
    assert_eq!(
        hit(&hits, "岁末").map(|h| h.relation),
        Some(Relation::During { day: 9 })
    );
    assert_eq!(
        hit(&hits, "冬至").map(|h| (h.period.start, h.period.end)),
        Some((ymd(2026, 12, 22), ymd(2027, 1, 5)))
    );
    // The other way: early 2027 still inside periods of 2026.
    let hits = cal.in_force(ymd(2027, 1, 2));
    assert_eq!(
        hit(&hits, "年终").map(|h| h.relation),
        Some(Relation::After { days: 2 })
    );
    let cross = hit(&hits, "岁末").unwrap();
    assert_eq!(cross.period.start, ymd(2026, 12, 20));
    assert_eq!(cross.relation, Relation::During { day: 14 });
    assert_eq!(
        hit(&hits, "元旦").unwrap().relation,
        Relation::After { days: 1 }
    );
    assert_eq!(
        hit(&hits, "年初活动").map(|h| h.relation),
        Some(Relation::During { day: 1 })
    );
}

#[test]
fn a_lunar_date_can_occur_twice_in_one_gregorian_year() {
    let cal = calendar_with(
        r#"
[[period]]
name = "腊月"
kind = "lunar"
date = "腊月初一"
window_before = 0
window_after = 0
points = 1
description = "腊月初一"
"#,
    );
    // 腊月初一 of lunar 2023 and of lunar 2024 both fall in 2024.
    let starts: Vec<NaiveDate> = cal.resolve(2024).iter().map(|p| p.start).collect();
    assert_eq!(starts, [ymd(2024, 1, 11), ymd(2024, 12, 31)]);
}

#[test]
fn the_default_calendar_leaves_out_unrelated_political_anniversaries() {
    let cal = builtin();
    let names: Vec<&str> = cal.periods().iter().map(|p| p.name.as_str()).collect();
    assert!(!names.contains(&"七一"), "{names:?}");
    assert!(names.contains(&"年关") && names.contains(&"八一"));
    assert!(cal.periods().iter().all(|p| !p.description.is_empty()));
}

// ---- deadlines -----------------------------------------------------------

fn accepted_on(d: NaiveDate) -> CaseTimes {
    let mut c = CaseTimes::new(d);
    c.accepted = Some(d);
    c.status = Some("办理中".into());
    c
}

#[test]
fn handling_is_due_on_day_60_and_overdue_on_day_61() {
    let cal = builtin();
    // 2026-06-01 + 60 days = 2026-07-31, a Friday.
    let case = accepted_on(ymd(2026, 6, 1));
    let on_60 = cal.deadlines(&case, ymd(2026, 7, 31));
    let h = on_60.clock(ClockKind::Handling).unwrap();
    assert_eq!((h.nominal_due, h.due), (ymd(2026, 7, 31), ymd(2026, 7, 31)));
    assert_eq!((h.state, h.days_left), (ClockState::DueSoon, 0));
    assert!(on_60.due_soon && !on_60.overdue);
    assert!(
        h.explanation.contains("办理期限至 2026-07-31"),
        "{}",
        h.explanation
    );
    assert!(h.explanation.contains("今天到期"), "{}", h.explanation);

    let on_61 = cal.deadlines(&case, ymd(2026, 8, 1));
    let h = on_61.clock(ClockKind::Handling).unwrap();
    assert_eq!((h.state, h.days_left), (ClockState::Overdue, -1));
    assert!(on_61.overdue && !on_61.due_soon);
    assert!(h.explanation.contains("已超期 1 天"), "{}", h.explanation);

    // Six days left is not yet 临期 (due_soon_days = 5); five is.
    let h = cal.deadlines(&case, ymd(2026, 7, 25));
    assert_eq!(
        h.clock(ClockKind::Handling).unwrap().state,
        ClockState::Running
    );
    let h = cal.deadlines(&case, ymd(2026, 7, 26));
    assert_eq!(
        h.clock(ClockKind::Handling).unwrap().state,
        ClockState::DueSoon
    );

    // Closed on day 60 is in time, on day 61 late.
    let mut closed = case.clone();
    closed.status = Some("已办结".into());
    closed.closed = Some(ymd(2026, 7, 31));
    let d = cal.deadlines(&closed, ymd(2026, 9, 1));
    assert_eq!(
        d.clock(ClockKind::Handling).unwrap().state,
        ClockState::Done
    );
    assert!(!d.overdue);
    closed.closed = Some(ymd(2026, 8, 1));
    let d = cal.deadlines(&closed, ymd(2026, 9, 1));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.state, ClockState::DoneLate);
    assert!(h.explanation.contains("逾期 1 天"), "{}", h.explanation);
}

#[test]
fn a_last_day_in_the_national_day_holiday_moves_to_the_first_working_day_after() {
    let cal = builtin();
    // 2026-08-04 + 60 = 2026-10-03, inside 国庆 (10-01 … 10-07).
    let case = accepted_on(ymd(2026, 8, 4));
    let d = cal.deadlines(&case, ymd(2026, 10, 8));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!((h.nominal_due, h.due), (ymd(2026, 10, 3), ymd(2026, 10, 8)));
    assert_eq!(h.state, ClockState::DueSoon);
    assert!(
        h.explanation
            .contains("2026-10-03 逢国庆节假期，顺延至第一个工作日"),
        "{}",
        h.explanation
    );
    let d = cal.deadlines(&case, ymd(2026, 10, 9));
    assert!(d.overdue);

    // The 15-day acceptance clock too: 2026-09-16 + 15 = 10-01.
    let mut pending = CaseTimes::new(ymd(2026, 9, 16));
    pending.status = Some("待受理".into());
    let d = cal.deadlines(&pending, ymd(2026, 10, 5));
    let a = d.clock(ClockKind::Accept).unwrap();
    assert_eq!(a.due, ymd(2026, 10, 8));
    assert_eq!((a.state, a.days_left), (ClockState::DueSoon, 3));
    assert!(d.clock(ClockKind::Handling).is_none(), "not accepted yet");
}

#[test]
fn weekends_roll_forward_but_a_tiaoxiu_working_saturday_does_not() {
    let cal = builtin();
    // 2026-03-10 + 60 = 2026-05-09, a Saturday worked (劳动节调休).
    let d = cal.deadlines(&accepted_on(ymd(2026, 3, 10)), ymd(2026, 3, 11));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.due, ymd(2026, 5, 9));
    // 2026-03-17 + 60 = 2026-05-16, an ordinary Saturday → Monday 05-18.
    let d = cal.deadlines(&accepted_on(ymd(2026, 3, 17)), ymd(2026, 3, 18));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.due, ymd(2026, 5, 18));
    assert!(h.explanation.contains("逢周末"), "{}", h.explanation);
}

#[test]
fn an_extension_adds_30_days() {
    let cal = builtin();
    let mut case = accepted_on(ymd(2026, 6, 1));
    case.status = Some("已延期".into());
    // 2026-06-01 + 90 = 2026-08-30, a Sunday → 08-31.
    let d = cal.deadlines(&case, ymd(2026, 8, 1));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(
        (h.days, h.nominal_due, h.due),
        (90, ymd(2026, 8, 30), ymd(2026, 8, 31))
    );
    assert_eq!(h.state, ClockState::Running);
    assert!(!d.overdue, "day 61 is in time once extended");
    assert!(
        h.explanation.contains("已延期：60 + 30 日"),
        "{}",
        h.explanation
    );
    // The flag works without the status too.
    let mut flagged = accepted_on(ymd(2026, 6, 1));
    flagged.extended = true;
    let d = cal.deadlines(&flagged, ymd(2026, 8, 1));
    assert_eq!(d.clock(ClockKind::Handling).unwrap().due, ymd(2026, 8, 31));
}

#[test]
fn review_windows_follow_the_reply_and_never_make_a_case_overdue() {
    let cal = builtin();
    // 2026-04-20 + 60 = 06-19 (端午) → 06-22.
    let mut case = accepted_on(ymd(2026, 4, 20));
    case.status = Some("已答复".into());
    case.replied = Some(ymd(2026, 6, 10));
    let d = cal.deadlines(&case, ymd(2026, 7, 20));
    assert_eq!(
        d.clock(ClockKind::Handling).unwrap().state,
        ClockState::Done
    );
    let r = d.clock(ClockKind::ReviewRequest).unwrap();
    assert_eq!(r.due, ymd(2026, 7, 10));
    assert_eq!(r.state, ClockState::Lapsed);
    assert!(!d.overdue && !d.due_soon);

    case.review_requested = Some(ymd(2026, 7, 1));
    let d = cal.deadlines(&case, ymd(2026, 8, 3));
    let r = d.clock(ClockKind::ReviewDecision).unwrap();
    // 2026-07-01 + 30 = 07-31 (Friday).
    assert_eq!((r.due, r.state), (ymd(2026, 7, 31), ClockState::Overdue));
    assert!(d.overdue);
    assert_eq!(
        d.clock(ClockKind::ReviewRequest).unwrap().state,
        ClockState::Done
    );

    case.review_replied = Some(ymd(2026, 7, 30));
    case.rereview_requested = Some(ymd(2026, 8, 10));
    let d = cal.deadlines(&case, ymd(2026, 9, 7));
    assert_eq!(
        d.clock(ClockKind::RereviewRequest).unwrap().state,
        ClockState::Done
    );
    let rr = d.clock(ClockKind::RereviewDecision).unwrap();
    // 2026-08-10 + 30 = 09-09.
    assert_eq!(
        (rr.due, rr.state, rr.days_left),
        (ymd(2026, 9, 9), ClockState::DueSoon, 2)
    );
}

#[test]
fn statuses_and_missing_dates_are_read_leniently_with_notes() {
    let cal = builtin();
    let mut case = CaseTimes::new(ymd(2026, 6, 1));
    case.status = Some(" 已辦結 ".into());
    let d = cal.deadlines(&case, ymd(2026, 12, 1));
    assert_eq!(d.clock(ClockKind::Accept).unwrap().state, ClockState::Done);
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.state, ClockState::Done);
    assert!(h.explanation.contains("未填完成日期"), "{}", h.explanation);
    assert!(
        d.notes.iter().any(|n| n.contains("按登记日期起算")),
        "{:?}",
        d.notes
    );

    case.status = Some("研究研究".into());
    let d = cal.deadlines(&case, ymd(2026, 6, 20));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("无法识别的办理状态“研究研究”"))
    );
    // Not accepted, and the 15 days (06-16) are past.
    assert_eq!(
        d.clock(ClockKind::Accept).unwrap().state,
        ClockState::Overdue
    );
    assert!(d.overdue);

    case.status = Some("不予受理".into());
    let d = cal.deadlines(&case, ymd(2026, 6, 20));
    assert!(d.clock(ClockKind::Handling).is_none() && !d.overdue);
}

#[test]
fn years_without_an_arrangement_say_so_and_holidays_toml_fills_them() {
    let cal = builtin();
    // 2027-08-02 + 60 = 2027-10-01, a Friday: no 2027 table, weekends only.
    let case = accepted_on(ymd(2027, 8, 2));
    let d = cal.deadlines(&case, ymd(2027, 8, 3));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.due, ymd(2027, 10, 1));
    assert!(
        h.explanation.contains("2027 年放假安排未录入"),
        "{}",
        h.explanation
    );

    // A test arrangement for 2027 (not the official one).
    let dir = dir_with(
        "",
        Some(
            "[[holiday]]\nname = \"国庆节\"\nrest = [\"2027-10-01..2027-10-07\"]\nwork = [\"2027-09-26\", \"2027-10-09\"]\n",
        ),
    );
    let cal = Calendar::load(dir.path()).unwrap_or_else(|d| panic!("{}", render(&d)));
    let d = cal.deadlines(&case, ymd(2027, 8, 3));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.due, ymd(2027, 10, 8));
    assert!(!h.explanation.contains("未录入"), "{}", h.explanation);
    assert!(cal.holidays().is_working_day(ymd(2027, 9, 26)));
    let table = cal.render_year(2027);
    assert!(
        table.contains("| 国庆节 | 10-01 至 10-07（7 天） | 09-26，10-09 |"),
        "{table}"
    );
}

#[test]
fn rolling_to_a_working_day_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("periods.toml"),
        DEADLINES.replace("roll_to_working_day = true", "roll_to_working_day = false"),
    )
    .unwrap();
    let cal = Calendar::load(dir.path()).unwrap_or_else(|d| panic!("{}", render(&d)));
    let d = cal.deadlines(&accepted_on(ymd(2026, 8, 4)), ymd(2026, 10, 5));
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(h.due, ymd(2026, 10, 3));
    assert_eq!(h.state, ClockState::Overdue);
}

// ---- diagnostics ---------------------------------------------------------

const GOOD_PERIOD: &str = r#"[[period]]
name = "中秋"
kind = "lunar"
date = "中秋"
window_before = 2
window_after = 2
points = 2
description = "中秋"
"#;

#[test]
fn a_bad_date_is_reported_at_its_place() {
    let text = format!(
        "{GOOD_PERIOD}\n[[period]]\nname = \"国庆\"\nkind = \"fixed\"\ndate = \"02-30\"\nwindow_before = 1\nwindow_after = 1\npoints = 2\ndescription = \"国庆\"\n{DEADLINES}"
    );
    let (path, diags) = errors_for(&text);
    assert_eq!(diags.len(), 1, "{}", render(&diags));
    let d = &diags[0];
    assert_eq!((d.code, d.line, d.column), ("E030", 13, 8));
    let r = d.render();
    assert!(r.contains(&format!("--> {path}:13:8")), "{r}");
    assert!(r.contains("日期无效：2 月没有 30 日"), "{r}");
    assert!(r.contains("提示：fixed 的日期写成 \"10-01\""), "{r}");
    assert!(
        r.contains("13 | date = \"02-30\"\n   |        ^^^^^^^"),
        "{r}"
    );
}

#[test]
fn an_unknown_festival_gets_a_did_you_mean() {
    let text = format!(
        "[[period]]\nname = \"中秋\"\nkind = \"lunar\"\ndate = \"中球\"\nwindow_before = 2\nwindow_after = 2\npoints = 2\ndescription = \"中秋\"\n{DEADLINES}"
    );
    let (path, diags) = errors_for(&text);
    assert_eq!(diags.len(), 1, "{}", render(&diags));
    let d = &diags[0];
    assert_eq!((d.code, d.line, d.column), ("E031", 4, 8));
    assert_eq!(d.message, "未知的节日“中球”");
    let hint = d.hint.as_deref().unwrap();
    assert!(
        hint.starts_with("是不是“中元”或“中秋”？可用的节日：春节、元宵"),
        "{hint}"
    );
    assert!(d.render().contains(&format!("--> {path}:4:8")));

    // A solar term under kind = "lunar", a typo in a solar term, a bad kind.
    let text = format!(
        "[[period]]\nname = \"清明\"\nkind = \"lunar\"\ndate = \"清明\"\nwindow_before = 2\nwindow_after = 2\npoints = 2\ndescription = \"清明\"\n\n[[period]]\nname = \"清明2\"\nkind = \"solar_term\"\ndate = \"情明\"\nwindow_before = 2\nwindow_after = 2\npoints = 2\ndescription = \"清明\"\n\n[[period]]\nname = \"端午\"\nkind = \"luner\"\ndate = \"端午\"\nwindow_before = 2\nwindow_after = 2\npoints = 2\ndescription = \"端午\"\n{DEADLINES}"
    );
    let (_, diags) = errors_for(&text);
    let got: Vec<(&str, usize, usize, &str)> = diags
        .iter()
        .map(|d| (d.code, d.line, d.column, d.hint.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(got.len(), 3, "{}", render(&diags));
    assert_eq!((got[0].0, got[0].1, got[0].2), ("E031", 4, 8));
    assert!(
        got[0].3.contains("是节气") && got[0].3.contains("solar_term"),
        "{}",
        got[0].3
    );
    assert_eq!((got[1].0, got[1].1, got[1].2), ("E031", 13, 8));
    assert!(got[1].3.starts_with("是不是“清明”？"), "{}", got[1].3);
    assert_eq!((got[2].0, got[2].1, got[2].2), ("E010", 21, 8));
    assert!(got[2].3.starts_with("是不是“lunar”？"), "{}", got[2].3);
}

#[test]
fn a_missing_field_is_reported_with_its_table() {
    let text = format!(
        "{GOOD_PERIOD}\n[[period]]\nname = \"国庆\"\nkind = \"fixed\"\ndate = \"10-01\"\nwindow_before = 1\nwindow_after = 1\ndescription = \"国庆\"\n{DEADLINES}"
    );
    let (path, diags) = errors_for(&text);
    assert_eq!(diags.len(), 1, "{}", render(&diags));
    let d = &diags[0];
    assert_eq!(d.code, "E009");
    assert_eq!(d.message, "缺少必填的键“points”");
    assert!(d.line >= 10 && d.line <= 17, "{}", d.render());
    assert!(d.render().contains(&format!("--> {path}:{}:", d.line)));

    // An event without start; an unknown key.
    let text = format!(
        "[[period]]\nname = \"两会\"\nkind = \"event\"\nwindow_before = 1\nwindow_after = 1\npoints = 2\ndescription = \"两会\"\n{DEADLINES}"
    );
    let (_, diags) = errors_for(&text);
    assert_eq!(
        (diags[0].code, diags[0].line, diags[0].column),
        ("E009", 3, 8)
    );
    assert!(diags[0].message.contains("start"));
    let text = format!("{GOOD_PERIOD}weight = 3\n{DEADLINES}");
    let (_, diags) = errors_for(&text);
    assert_eq!((diags[0].code, diags[0].line), ("E002", 9));
    // No [deadlines] at all.
    let (_, diags) = errors_for(GOOD_PERIOD);
    assert!(diags[0].message.contains("deadlines"), "{}", render(&diags));
}

#[test]
fn other_checks_collect_every_error() {
    let text = format!(
        r#"[[period]]
name = "两会"
kind = "event"
start = "2026-03-12"
end = "2026-03-04"
window_before = 200
window_after = -1
points = 500
description = ""

[[period]]
name = "中秋"
kind = "lunar"
date = "中秋"
window_before = 2
window_after = 2
points = 2
description = "中秋"

[[period]]
name = "中秋"
kind = "solar_term"
date = "白露"
window_before = 2
window_after = 2
points = 2
description = "重名"

[[period]]
name = "长"
kind = "event"
start = "2026-01-01"
end = "2026-12-31"
window_before = 2
window_after = 2
points = 2
description = "太长"
{}"#,
        DEADLINES.replace("due_soon_days = 5", "due_soon_days = 99")
    );
    let (_, diags) = errors_for(&text);
    let got: Vec<(&str, usize)> = diags.iter().map(|d| (d.code, d.line)).collect();
    assert_eq!(
        got,
        [
            ("E006", 9),
            ("E008", 6),
            ("E008", 7),
            ("E008", 8),
            ("E030", 5),
            ("E003", 21),
            ("E008", 33),
            ("E008", 47),
        ],
        "{}",
        render(&diags)
    );
}

#[test]
fn holidays_toml_errors_are_reported_too() {
    let dir = dir_with(
        GOOD_PERIOD,
        Some("[[holiday]]\nname = \"春节\"\nrest = [\"2027-02-06..2027-2-31\"]\n"),
    );
    let diags = Calendar::load(dir.path()).expect_err("bad holidays.toml");
    assert_eq!(
        (diags[0].code, diags[0].line, diags[0].column),
        ("E030", 3, 9)
    );
    assert!(diags[0].file.ends_with("holidays.toml"));
}

#[test]
fn user_values_never_panic() {
    let weird = [
        "",
        " ",
        "-",
        "--",
        "1-",
        "-1",
        "0-0",
        "99-99",
        "1-1-1-1",
        "月",
        "正月",
        "月初一",
        "十十十月初一",
        "廿",
        "初",
        "正月初十一",
        "腊月卅",
        "闰",
        "闰四月十五",
        "13月1日",
        "2月30日",
        "١٢-٠١",
        "🎉",
        "中秋节节",
        "..",
        "2026-03-04..",
        "99999-01-01",
        "-2026-01-01",
        "2026-00-10",
        "+2026-01-01",
        "\u{0}",
    ];
    for kind in ["fixed", "lunar", "solar_term", "event", "？"] {
        for w in weird {
            let key = if kind == "event" { "start" } else { "date" };
            let text = format!(
                "[[period]]\nname = \"x\"\nkind = \"{kind}\"\n{key} = {w:?}\nend = {w:?}\nwindow_before = 0\nwindow_after = 0\npoints = 0\ndescription = \"x\"\n{DEADLINES}"
            );
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("periods.toml"), text).unwrap();
            std::fs::write(
                dir.path().join("holidays.toml"),
                format!("[[holiday]]\nname = \"x\"\nrest = [{w:?}]\nwork = [{w:?}]\n"),
            )
            .unwrap();
            if let Ok(cal) = Calendar::load(dir.path()) {
                let _ = cal.resolve(2026);
                let _ = cal.in_force(ymd(2026, 1, 1));
            }
        }
    }
    let cal = builtin();
    for d in [
        NaiveDate::MIN,
        NaiveDate::MAX,
        ymd(1900, 1, 1),
        ymd(2200, 12, 31),
    ] {
        let _ = cal.in_force(d);
        let mut c = CaseTimes::new(d);
        c.accepted = Some(d);
        c.replied = Some(d);
        c.review_requested = Some(d);
        c.review_replied = Some(d);
        c.rereview_requested = Some(d);
        c.status = Some("已延期".into());
        let _ = cal.deadlines(&c, d);
        let _ = cal.deadlines(&c, NaiveDate::MIN);
    }
    let _ = cal.render_year(i32::MAX);
    // Non-UTF-8 file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("periods.toml"), [0xff, 0xfe, 0x00]).unwrap();
    let diags = Calendar::load(dir.path()).expect_err("not UTF-8");
    assert_eq!(diags[0].code, "E014");
    // No periods.toml at all.
    let empty = tempfile::tempdir().unwrap();
    let diags = Calendar::load(empty.path()).expect_err("missing");
    assert!(diags[0].message.contains("缺少 periods.toml"));
}

// ---- the rule set and the command ---------------------------------------

#[test]
fn calendar_files_live_in_the_rule_set_without_disturbing_it() {
    let source = RuleSource::builtin();
    assert!(source.files.iter().any(|(p, _)| p == "periods.toml"));
    assert!(source.files.iter().any(|(p, _)| p == "holidays.toml"));
    RuleSet::load(source.clone()).unwrap_or_else(|d| panic!("{}", render(&d)));
    let cal = Calendar::from_source(&source).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(cal.deadline_rules().handling_days, 60);
    // An exported copy loads from its directory.
    let dir = tempfile::tempdir().unwrap();
    source.export(dir.path()).unwrap();
    let from_dir = Calendar::load(dir.path()).unwrap_or_else(|d| panic!("{}", render(&d)));
    assert_eq!(from_dir.resolve(2026), cal.resolve(2026));
}

#[test]
fn calendar_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Calendar>();
    // Shared between threads, the years are worked out once.
    let cal = std::sync::Arc::new(builtin());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let cal = cal.clone();
            std::thread::spawn(move || cal.in_force(ymd(2026, 10, 1 + i)).len())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap() >= 1);
    }
}

#[test]
fn render_year_lists_periods_and_holidays() {
    let cal = builtin();
    let t = cal.render_year(2026);
    assert!(t.starts_with("# 2026 年敏感时段和法定节假日"), "{t}");
    assert!(t.contains("| 春节 | 农历 | 2026-02-17（正月初一） 至 2026-02-23（正月初七） | 2026-02-10 至 2026-03-03 | 5 |"), "{t}");
    assert!(
        t.contains("| 除夕 | 农历 | 2026-02-16（腊月廿九） |"),
        "{t}"
    );
    assert!(t.contains("| 清明 | 节气 | 2026-04-05（清明） |"), "{t}");
    assert!(
        t.contains("| 春节 | 02-15 至 02-23（9 天） | 02-14，02-28 |"),
        "{t}"
    );
    assert!(
        t.contains("| 国庆节 | 10-01 至 10-07（7 天） | 09-20，10-10 |"),
        "{t}"
    );
    let t = cal.render_year(2027);
    assert!(t.contains("2027-02-06（正月初一）"), "{t}");
    assert!(t.contains("2027 年的放假安排尚未录入"), "{t}");
    assert!(
        t.contains("只录入了别的年份的日期") && t.contains("全国两会2026"),
        "{t}"
    );
}

#[test]
fn triage_calendar_prints_a_year_and_refuses_bad_files() {
    let bin = env!("CARGO_BIN_EXE_triage");
    let out = std::process::Command::new(bin)
        .args(["calendar", "--year", "2027"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("| 春节 | 农历 | 2027-02-06（正月初一）"),
        "{text}"
    );

    let dir = dir_with(
        "[[period]]\nname = \"x\"\nkind = \"lunar\"\ndate = \"端五\"\nwindow_before = 0\nwindow_after = 0\npoints = 1\ndescription = \"x\"\n",
        None,
    );
    let out = std::process::Command::new(bin)
        .args(["calendar", "--year", "2026", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("错误[E031]: 未知的节日“端五”"), "{err}");
    assert!(err.contains("periods.toml:4:8"), "{err}");
    assert!(err.contains("是不是“端午”？"), "{err}");

    let out = std::process::Command::new(bin)
        .args(["calendar", "--year", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dates_far_apart_are_still_counted_in_days() {
    // A sanity check on the counting rule itself: start day not counted.
    let cal = builtin();
    let start = ymd(2026, 6, 1);
    let d = cal.deadlines(&accepted_on(start), start);
    let h = d.clock(ClockKind::Handling).unwrap();
    assert_eq!(
        h.nominal_due,
        start.checked_add_days(Days::new(60)).unwrap()
    );
    assert_eq!(h.nominal_due.ordinal() - start.ordinal(), 60);
}

/// `triage check` checks the calendar files with the rules: an unknown
/// festival in periods.toml is refused with file:line:column and a hint.
#[test]
fn triage_check_refuses_a_bad_periods_file() {
    let bin = env!("CARGO_BIN_EXE_triage");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let out = std::process::Command::new(bin)
        .args(["rules", "export"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = rules.join("periods.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("date = \"中秋\"", "date = \"中球\"", 1),
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .arg("check")
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("E031") && text.contains("periods.toml:"),
        "{text}"
    );
    assert!(text.contains("中秋"), "did-you-mean: {text}");
}

/// Text that names a coming period as the time of an action is the
/// 敏感期 signal, whatever the received date; negation and hearsay apply.
#[test]
fn text_naming_a_period_as_the_time_of_an_action() {
    use petition_triage::{Engine, RuleSet, RuleSource};
    let e = Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap();
    let case = |text: &str| petition_triage::case::Case {
        id: "p".into(),
        received: chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
        channel: None,
        petitioner_ids: vec![],
        persons: None,
        target_level: None,
        location: None,
        title: None,
        text: text.into(),
        notes: Vec::new(),
        handling: Default::default(),
    };
    let points = |text: &str| {
        let v = e.triage(&case(text));
        v.signals
            .iter()
            .find(|s| s.signal == "敏感期")
            .map_or(0.0, |s| s.points)
    };
    assert_eq!(points("国庆期间我们就去北京上访。"), 15.0);
    assert_eq!(points("两会的时候大家一起去省里讨个说法。"), 15.0);
    assert_eq!(points("春节前不给钱，我们就去市政府。"), 15.0);
    // Negated: no points; hearsay: a quarter.
    assert_eq!(points("我们不会在国庆期间去北京。"), 0.0);
    assert_eq!(points("听说有人两会时要去上访。"), 3.75);
    // A greeting is not an action.
    assert_eq!(points("祝领导国庆节快乐，感谢你们解决了我家的问题。"), 0.0);
}

/// A run pinned with `--as-of`: the handling clock at its edges (day 60 is
/// still in time, day 61 overdue), a last day on a rest day moved to the
/// next working day, a sensitive-period window by received date, the same
/// outputs when run twice with the same date, and the date in the manifest.
#[test]
fn run_with_as_of_reads_deadlines_and_periods() {
    let bin = env!("CARGO_BIN_EXE_triage");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("c.jsonl");
    std::fs::write(
        &input,
        concat!(
            // Accepted 2026-06-02: 60 days end 2026-08-01, a Saturday → 2026-08-03.
            "{\"id\":\"D1\",\"received\":\"2026-06-01\",\"text\":\"工资拖欠半年。\",\"受理日期\":\"2026-06-02\",\"办理状态\":\"办理中\"}\n",
            // Accepted 2026-05-01: due 2026-06-30 (a Tuesday).
            "{\"id\":\"D2\",\"received\":\"2026-04-30\",\"text\":\"工资拖欠半年。\",\"受理日期\":\"2026-05-01\",\"办理状态\":\"办理中\"}\n",
            // Received three days before 国庆.
            "{\"id\":\"P1\",\"received\":\"2026-09-28\",\"text\":\"村里的房子被强拆了，补偿款一分没给。\"}\n",
            // Came back after the case was closed.
            "{\"id\":\"R1\",\"received\":\"2026-11-20\",\"text\":\"上次反映的事又来了。\",\"办结日期\":\"2026-09-01\",\"办理状态\":\"已办结\"}\n",
        ),
    )
    .unwrap();
    let run = |as_of: &str, out: &str| {
        let out = dir.path().join(out);
        let o = std::process::Command::new(bin)
            .arg("run")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args(["--as-of", as_of])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let verdicts = |out: &std::path::Path| -> std::collections::HashMap<String, serde_json::Value> {
        std::fs::read_to_string(out.join("warnings.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].as_str().unwrap().to_string(), v)
            })
            .collect()
    };
    let flags = |v: &serde_json::Value| -> Vec<String> {
        v["supervision"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["flag"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Day 60 of D2 (2026-06-30): still in time, due today → 临期.
    let a = verdicts(&run("2026-06-30", "a"));
    assert_eq!(flags(&a["D2"]), ["临期"], "{}", a["D2"]);
    // Day 61: overdue.
    let b = verdicts(&run("2026-07-01", "b"));
    assert_eq!(flags(&b["D2"]), ["超期"]);
    assert_eq!(b["D2"]["supervision"][0]["due"], "2026-06-30");
    // D1's last day falls on a Saturday: due the next Monday.
    let c = verdicts(&run("2026-08-01", "c"));
    assert_eq!(c["D1"]["supervision"][0]["due"], "2026-08-03");
    assert_eq!(flags(&c["D1"]), ["临期"]);
    // The received date in 国庆's window gives 敏感期 points with the dates.
    let p = &c["P1"];
    assert_eq!(p["periods"][0]["name"], "国庆");
    assert_eq!(p["periods"][0]["start"], "2026-10-01");
    assert!(
        p["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["signal"] == "敏感期"),
        "{p}"
    );
    assert!(flags(&c["R1"]).contains(&"办结后再访".to_string()));
    // The same date gives the same outputs; the manifest records it.
    let c2 = run("2026-08-01", "c2");
    for f in ["warnings.jsonl", "warnings.csv", "summary.md"] {
        assert_eq!(
            std::fs::read(dir.path().join("c").join(f)).unwrap(),
            std::fs::read(c2.join(f)).unwrap(),
            "{f}"
        );
    }
    let manifest = std::fs::read_to_string(c2.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"as_of\": \"2026-08-01\""), "{manifest}");
    let summary = std::fs::read_to_string(c2.join("summary.md")).unwrap();
    assert!(
        summary.contains("研判日期 2026-08-01") && summary.contains("八一"),
        "{summary}"
    );
    assert!(summary.contains("## 督办"), "{summary}");
}
