//! The calendar in the context stage: sensitive-period points by received
//! date, the resolved dates of a period named in the text, and the
//! statutory handling clocks (临期, 超期) judged at the run's `--as-of`
//! date. It wraps the next context (the history store, or the
//! pass-through) and hands every case on to it.

use chrono::NaiveDate;

use super::{Context, Finish, Passed};
use crate::calendar::{Calendar, CaseTimes};
use crate::input::Case;
use crate::matcher::{Engine, Findings, SignalHit};
use crate::rules::Target;
use crate::sink::Scored;
use crate::verdict::{PeriodHit, SupervisionFlag};

/// Name of the signal the calendar scores (declared in `scoring.toml`).
pub const SIGNAL: &str = "敏感期";

/// Words of the text rules and the period they name.
const NAMED: &[(&str, &str)] = &[
    ("国庆", "国庆"),
    ("十一", "国庆"),
    ("两会", "两会"),
    ("人代会", "两会"),
    ("春节", "春节"),
    ("过年", "春节"),
    ("年前", "春节"),
    ("年底", "年关"),
    ("年关", "年关"),
    ("元旦", "元旦"),
    ("五一", "五一"),
    ("八一", "八一"),
    ("建军节", "八一"),
    ("中秋", "中秋"),
    ("端午", "端午"),
    ("清明", "清明"),
];

/// The calendar stage.
pub struct CalendarContext<'a> {
    calendar: &'a Calendar,
    as_of: NaiveDate,
    signal: Option<usize>,
    /// Ids of the text rules that score the signal.
    signal_rules: Vec<String>,
    /// Periods in force by received date (a night's cases share a few dates).
    in_force: std::collections::HashMap<NaiveDate, Vec<crate::calendar::Hit>>,
    inner: &'a mut dyn Context,
}

impl<'a> CalendarContext<'a> {
    /// The calendar judged at `as_of`, before `inner`.
    pub fn new(
        engine: &Engine,
        calendar: &'a Calendar,
        as_of: NaiveDate,
        inner: &'a mut dyn Context,
    ) -> CalendarContext<'a> {
        let signal = engine
            .rules()
            .scoring
            .signals
            .iter()
            .position(|s| s.name == SIGNAL);
        let signal_rules = engine
            .rules()
            .rules
            .iter()
            .filter(|r| signal.is_some_and(|s| r.target == Target::Signal(s)))
            .map(|r| r.id.clone())
            .collect();
        CalendarContext {
            calendar,
            as_of,
            signal,
            signal_rules,
            in_force: std::collections::HashMap::new(),
            inner,
        }
    }

    /// The next occurrence (ending on or after `from`) of the period whose
    /// name contains `word`'s period.
    fn next_named(&self, word: &str, from: NaiveDate) -> Option<String> {
        let (_, period) = NAMED.iter().find(|(w, _)| word.contains(w))?;
        let year = chrono::Datelike::year(&from);
        let p = (year..=year + 1)
            .flat_map(|y| self.calendar.resolve(y))
            .filter(|p| p.name.contains(period) && p.end >= from)
            .min_by_key(|p| p.start)?;
        Some(if p.start == p.end {
            format!("{}：{}", p.name, p.start)
        } else {
            format!("{}：{} 至 {}", p.name, p.start, p.end)
        })
    }
}

/// Apply the calendar to one case's findings: `signal_rules` are the
/// text rules of the signal, `named` resolves a period named in the text.
#[allow(clippy::too_many_arguments)]
fn apply(
    calendar: &Calendar,
    in_force: &[crate::calendar::Hit],
    as_of: NaiveDate,
    signal: Option<usize>,
    signal_rules: &[String],
    named: impl Fn(&str, NaiveDate) -> Option<String>,
    case: &Case,
    findings: &mut Findings,
) {
    if let Some(s) = signal {
        for hit in in_force {
            let p = &hit.period;
            let relation = hit.explain();
            findings.extra.push(SignalHit {
                signal: s,
                item: p.name.clone(),
                points: p.points,
                note: format!(
                    "登记日期 {} 在敏感时段预警窗口内：{relation}；时段 {} 至 {}，窗口 {} 至 {}",
                    case.received, p.start, p.end, p.window_start, p.window_end
                ),
            });
            findings.verdict.periods.push(PeriodHit {
                name: p.name.clone(),
                start: p.start,
                end: p.end,
                relation,
                points: p.points,
            });
        }
        // A period named in the text: its resolved dates in the evidence.
        for e in findings.verdict.evidence.iter_mut() {
            if !signal_rules.contains(&e.rule) {
                continue;
            }
            let dates = e.matches.iter().find_map(|m| named(&m.text, case.received));
            if let Some(d) = dates {
                e.note = Some(format!("说到的时段 {d}"));
            }
        }
    }
    let h = &case.handling;
    if h.is_empty() {
        return;
    }
    let mut times = CaseTimes::new(case.received);
    times.accepted = h.accepted;
    times.status = h.status.clone();
    times.closed = h.closed;
    times.replied = h.replied;
    let d = calendar.deadlines(&times, as_of);
    for c in &d.clocks {
        let flag = match c.state {
            crate::calendar::deadlines::ClockState::Overdue => "超期",
            crate::calendar::deadlines::ClockState::DueSoon => "临期",
            _ => continue,
        };
        findings.verdict.supervision.push(SupervisionFlag {
            flag: flag.into(),
            clock: c.kind.label().into(),
            due: Some(c.due),
            note: c.explanation.clone(),
        });
    }
    if let Some(closed) = h.closed
        && case.received > closed
    {
        findings.verdict.supervision.push(SupervisionFlag {
            flag: "办结后再访".into(),
            clock: String::new(),
            due: None,
            note: format!("{closed} 已办结，{} 又来反映", case.received),
        });
    }
}

impl CalendarContext<'_> {
    /// The calendar's points and flags for `case`.
    fn dated(&mut self, case: &Case, findings: &mut Findings) {
        let calendar = self.calendar;
        self.in_force
            .entry(case.received)
            .or_insert_with(|| calendar.in_force(case.received));
        let this = &*self;
        let named = |w: &str, from: NaiveDate| this.next_named(w, from);
        apply(
            this.calendar,
            &this.in_force[&case.received],
            this.as_of,
            this.signal,
            &this.signal_rules,
            named,
            case,
            findings,
        );
    }
}

impl Context for CalendarContext<'_> {
    fn case(&mut self, case: &Case, findings: &mut Findings) {
        self.dated(case, findings);
        self.inner.case(case, findings);
    }

    fn take_case(&mut self, case: Case, findings: &mut Findings) {
        self.dated(&case, findings);
        self.inner.take_case(case, findings);
    }

    fn scored(
        &mut self,
        engine: &Engine,
        file: usize,
        chunk: Vec<Scored>,
    ) -> std::io::Result<Passed> {
        self.inner.scored(engine, file, chunk)
    }

    fn passed(&mut self, verdicts: Passed) {
        self.inner.passed(verdicts)
    }

    fn finish(&mut self, engine: &Engine) -> std::io::Result<Finish> {
        self.inner.finish(engine)
    }

    fn commit(&mut self) -> std::io::Result<()> {
        self.inner.commit()
    }
}

/// One case through the findings, the calendar and scoring: what a run
/// gives it, without history (for evaluation and `explain`).
pub fn triage_dated(
    engine: &Engine,
    calendar: &Calendar,
    as_of: NaiveDate,
    case: &Case,
) -> crate::verdict::Verdict {
    let findings = dated_findings(engine, Some(calendar), as_of, case);
    let rules = engine.rules();
    crate::score::scored(&rules.scoring, &rules.rules, findings)
}

/// The findings of one case with the calendar's points and flags added
/// (the findings alone without a calendar).
pub fn dated_findings(
    engine: &Engine,
    calendar: Option<&Calendar>,
    as_of: NaiveDate,
    case: &Case,
) -> Findings {
    let mut findings = engine.findings(case);
    if let Some(calendar) = calendar {
        let mut pass = super::PassThrough;
        let mut ctx = CalendarContext::new(engine, calendar, as_of, &mut pass);
        ctx.case(case, &mut findings);
    }
    findings
}
