//! Statutory clocks of a case (《信访工作条例》2022; DOMAIN.md §1.4):
//! 受理 (forward or decide within 15 days), 办理 (60 days, 30 more when
//! extended), and the 复查 / 复核 windows and decisions (30 days each).
//!
//! Counting rule (民法典 第二百零一条、第二百零三条; neither 条例 defines
//! one): the start day is not counted, so an N-day period from day S ends
//! on S + N; when that last day is a rest day (an official holiday, or a
//! weekend day that is not a 调休 working day) the period ends on the next
//! working day (`roll_to_working_day = false` turns this off). An extended
//! handling period is counted as 60 + 30 days from the same start.
//!
//! A clock the office must meet is 临期 when 0 to `due_soon_days` days are
//! left, 超期 when the as-of date is past its last day and it is not done.
//! The petitioner's windows (复查申请, 复核申请) are reported but never make
//! a case overdue.

use chrono::{Datelike, Days, NaiveDate};

use super::holidays::Holidays;

/// The day counts of `[deadlines]` in `periods.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRules {
    /// 受理（登记、转送交办或告知是否受理）: 15.
    pub accept_days: u32,
    /// 办理: 60.
    pub handling_days: u32,
    /// 延期: up to 30.
    pub extension_days: u32,
    /// 信访人申请复查: 30 days from the written reply.
    pub review_request_days: u32,
    /// 复查机关出具复查意见: 30.
    pub review_decision_days: u32,
    /// 信访人申请复核: 30 days from the 复查意见.
    pub rereview_request_days: u32,
    /// 复核机关出具复核意见: 30.
    pub rereview_decision_days: u32,
    /// 临期: this many days or fewer left.
    pub due_soon_days: u32,
    /// Move a last day that is a rest day to the next working day.
    pub roll_to_working_day: bool,
}

/// 办理状态, read leniently by [`Status::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 待受理.
    Pending,
    /// 已受理.
    Accepted,
    /// 办理中.
    Handling,
    /// 已延期.
    Extended,
    /// 已办结.
    Closed,
    /// 已答复.
    Replied,
    /// 不予受理.
    NotAccepted,
}

impl Status {
    /// Read a status as staff write it: 已受理, 受理, 办理中, 在办, 延期办理,
    /// 已办结, 办结, 结案, 已答复, 已回复 … (spaces and punctuation ignored,
    /// traditional characters accepted). `None` when it is none of them.
    pub fn parse(s: &str) -> Option<Status> {
        let t: String = s
            .chars()
            .filter(|c| {
                !c.is_whitespace() && !c.is_ascii_punctuation() && !"，。、（）【】：".contains(*c)
            })
            .map(|c| match c {
                '辦' => '办',
                '結' => '结',
                '覆' | '複' | '復' => '复',
                '處' => '处',
                '狀' => '状',
                '態' => '态',
                '記' => '记',
                '轉' => '转',
                '長' => '长',
                '見' => '见',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let t = t.trim_start_matches("办理状态").trim_start_matches("状态");
        let st = match t {
            "待受理" | "未受理" | "待处理" | "未处理" | "待办" | "登记" | "已登记" | "新件"
            | "pending" | "received" => Status::Pending,
            "不予受理" | "不受理" | "不予受理告知" | "rejected" => Status::NotAccepted,
            "已受理" | "受理" | "受理中" | "已转送" | "已交办" | "转送" | "交办" | "accepted" => {
                Status::Accepted
            }
            "办理中" | "在办" | "正在办理" | "处理中" | "办理" | "调查中" | "inprogress"
            | "handling" => Status::Handling,
            "已延期" | "延期" | "延期办理" | "已延长" | "延长办理期限" | "extended" => {
                Status::Extended
            }
            "已办结" | "办结" | "已结案" | "结案" | "已完结" | "完结" | "已处理" | "closed" => {
                Status::Closed
            }
            "已答复"
            | "答复"
            | "已回复"
            | "已反馈"
            | "已出具意见"
            | "已出具处理意见"
            | "replied" => Status::Replied,
            _ => return None,
        };
        Some(st)
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "待受理",
            Status::Accepted => "已受理",
            Status::Handling => "办理中",
            Status::Extended => "已延期",
            Status::Closed => "已办结",
            Status::Replied => "已答复",
            Status::NotAccepted => "不予受理",
        }
    }

    fn past_acceptance(self) -> bool {
        !matches!(self, Status::Pending)
    }

    fn handled(self) -> bool {
        matches!(self, Status::Closed | Status::Replied)
    }
}

/// The dates of a case that the clocks run on. Build with
/// [`CaseTimes::new`] and set what is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTimes {
    /// 登记日期.
    pub received: NaiveDate,
    /// 受理日期.
    pub accepted: Option<NaiveDate>,
    /// 办理状态 as written (read with [`Status::parse`]).
    pub status: Option<String>,
    /// Whether the handling period was extended (also implied by 已延期).
    pub extended: bool,
    /// 办结日期.
    pub closed: Option<NaiveDate>,
    /// 答复日期 (the written 处理意见).
    pub replied: Option<NaiveDate>,
    /// 复查申请日期.
    pub review_requested: Option<NaiveDate>,
    /// 复查意见日期.
    pub review_replied: Option<NaiveDate>,
    /// 复核申请日期.
    pub rereview_requested: Option<NaiveDate>,
    /// 复核意见日期.
    pub rereview_replied: Option<NaiveDate>,
}

impl CaseTimes {
    /// A case received on `received`, nothing else known.
    pub fn new(received: NaiveDate) -> CaseTimes {
        CaseTimes {
            received,
            accepted: None,
            status: None,
            extended: false,
            closed: None,
            replied: None,
            review_requested: None,
            review_replied: None,
            rereview_requested: None,
            rereview_replied: None,
        }
    }
}

/// Which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockKind {
    /// 受理期限 (from 登记).
    Accept,
    /// 办理期限 (from 受理).
    Handling,
    /// 复查申请期 (the petitioner's, from the reply).
    ReviewRequest,
    /// 复查期限 (from the 复查 request).
    ReviewDecision,
    /// 复核申请期 (the petitioner's, from the 复查意见).
    RereviewRequest,
    /// 复核期限 (from the 复核 request).
    RereviewDecision,
}

impl ClockKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ClockKind::Accept => "受理期限",
            ClockKind::Handling => "办理期限",
            ClockKind::ReviewRequest => "复查申请期",
            ClockKind::ReviewDecision => "复查期限",
            ClockKind::RereviewRequest => "复核申请期",
            ClockKind::RereviewDecision => "复核期限",
        }
    }

    /// Whether the office must meet it (else it is the petitioner's window).
    pub fn is_office(self) -> bool {
        !matches!(self, ClockKind::ReviewRequest | ClockKind::RereviewRequest)
    }
}

/// Where a clock stands on the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// More than `due_soon_days` left.
    Running,
    /// 临期: 0 to `due_soon_days` days left.
    DueSoon,
    /// 超期: past the last day, not done.
    Overdue,
    /// Done on or before the last day (or done, date unknown).
    Done,
    /// Done after the last day.
    DoneLate,
    /// A petitioner's window that has passed unused.
    Lapsed,
}

impl ClockState {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ClockState::Running => "进行中",
            ClockState::DueSoon => "临期",
            ClockState::Overdue => "超期",
            ClockState::Done => "已完成",
            ClockState::DoneLate => "逾期完成",
            ClockState::Lapsed => "已过期",
        }
    }
}

/// One statutory clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// Which.
    pub kind: ClockKind,
    /// The day it starts from (not counted).
    pub start: NaiveDate,
    /// Its length in days.
    pub days: u32,
    /// `start + days`.
    pub nominal_due: NaiveDate,
    /// The last day after the rest-day rule.
    pub due: NaiveDate,
    /// When it was met, if known.
    pub finished: Option<NaiveDate>,
    /// Where it stands.
    pub state: ClockState,
    /// Days from the as-of date to `due` (negative when past).
    pub days_left: i64,
    /// One line in Chinese: the due date, how it was counted, where it
    /// stands.
    pub explanation: String,
}

/// The clocks of a case on an as-of date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    /// The clocks that apply, in procedural order.
    pub clocks: Vec<Clock>,
    /// 临期: an office clock is due soon.
    pub due_soon: bool,
    /// 超期: an office clock is overdue.
    pub overdue: bool,
    /// Remarks on the input (unknown status, a date assumed …).
    pub notes: Vec<String>,
}

impl Deadlines {
    /// The clock of a kind, if it applies.
    pub fn clock(&self, kind: ClockKind) -> Option<&Clock> {
        self.clocks.iter().find(|c| c.kind == kind)
    }
}

fn add_days(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MAX)
}

struct Counter<'a> {
    rules: &'a DeadlineRules,
    holidays: &'a Holidays,
    as_of: NaiveDate,
}

impl Counter<'_> {
    fn clock(
        &self,
        kind: ClockKind,
        start: NaiveDate,
        days: u32,
        finished: Option<NaiveDate>,
        done_no_date: bool,
        from: &str,
    ) -> Clock {
        let nominal_due = add_days(start, days);
        let due = if self.rules.roll_to_working_day {
            self.holidays.working_day_on_or_after(nominal_due)
        } else {
            nominal_due
        };
        let days_left = (due - self.as_of).num_days();
        let state = match finished {
            Some(f) if f > due => ClockState::DoneLate,
            Some(_) => ClockState::Done,
            None if done_no_date => ClockState::Done,
            None if days_left < 0 && kind.is_office() => ClockState::Overdue,
            None if days_left < 0 => ClockState::Lapsed,
            None if days_left <= i64::from(self.rules.due_soon_days) => ClockState::DueSoon,
            None => ClockState::Running,
        };
        let mut text = format!(
            "{}至 {due}（{from} {start} 次日起算 {days} 日",
            kind.label()
        );
        if due != nominal_due {
            let why = match self.holidays.day(nominal_due) {
                Some(h) if !h.work => format!("{}假期", h.name),
                _ => "周末".to_string(),
            };
            text.push_str(&format!("，{nominal_due} 逢{why}，顺延至第一个工作日"));
        }
        if !self.holidays.covers(due.year()) {
            text.push_str(&format!("；{} 年放假安排未录入，只按周末计", due.year()));
        }
        text.push('）');
        let tail = match state {
            ClockState::Running => format!("，尚余 {days_left} 天"),
            ClockState::DueSoon if days_left == 0 => "，今天到期（临期）".to_string(),
            ClockState::DueSoon => format!("，尚余 {days_left} 天（临期）"),
            ClockState::Overdue => format!("，已超期 {} 天", -days_left),
            ClockState::Lapsed => "，已过期".to_string(),
            ClockState::Done => match finished {
                Some(f) => format!("，已于 {f} 完成"),
                None => "，已完成（未填完成日期）".to_string(),
            },
            ClockState::DoneLate => match finished {
                Some(f) => format!("，{f} 才完成，逾期 {} 天", (f - due).num_days()),
                None => String::new(),
            },
        };
        text.push_str(&tail);
        Clock {
            kind,
            start,
            days,
            nominal_due,
            due,
            finished,
            state,
            days_left,
            explanation: text,
        }
    }
}

/// The clocks of `case` on `as_of`.
pub(super) fn compute(
    rules: &DeadlineRules,
    holidays: &Holidays,
    case: &CaseTimes,
    as_of: NaiveDate,
) -> Deadlines {
    let counter = Counter {
        rules,
        holidays,
        as_of,
    };
    let mut notes = Vec::new();
    let status = match case.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => {
            let st = Status::parse(s);
            if st.is_none() {
                notes.push(format!("无法识别的办理状态“{s}”，只按日期推算"));
            }
            st
        }
    };
    let mut clocks = Vec::new();

    // 受理: from 登记.
    let accepted_known = case.accepted.is_some() || status.is_some_and(Status::past_acceptance);
    clocks.push(counter.clock(
        ClockKind::Accept,
        case.received,
        rules.accept_days,
        case.accepted,
        accepted_known,
        "登记",
    ));

    // 办理: from 受理 (or 登记 when the date is missing).
    let handled_on = match (case.closed, case.replied) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let in_handling = case.accepted.is_some()
        || handled_on.is_some()
        || status.is_some_and(|s| s.past_acceptance() && s != Status::NotAccepted);
    if in_handling && status != Some(Status::NotAccepted) {
        let (start, from) = match case.accepted {
            Some(a) => (a, "受理"),
            None => {
                notes.push("未填受理日期，办理期限按登记日期起算".to_string());
                (case.received, "登记")
            }
        };
        let extended = case.extended || status == Some(Status::Extended);
        let days = if extended {
            rules.handling_days.saturating_add(rules.extension_days)
        } else {
            rules.handling_days
        };
        let mut clock = counter.clock(
            ClockKind::Handling,
            start,
            days,
            handled_on,
            status.is_some_and(Status::handled),
            from,
        );
        if extended {
            clock.explanation = format!(
                "{}（已延期：{} + {} 日）",
                clock.explanation, rules.handling_days, rules.extension_days
            );
        }
        clocks.push(clock);
    }

    // 复查 and 复核.
    if let Some(replied) = case.replied {
        clocks.push(counter.clock(
            ClockKind::ReviewRequest,
            replied,
            rules.review_request_days,
            case.review_requested,
            false,
            "答复",
        ));
    }
    if let Some(requested) = case.review_requested {
        clocks.push(counter.clock(
            ClockKind::ReviewDecision,
            requested,
            rules.review_decision_days,
            case.review_replied,
            false,
            "申请复查",
        ));
    }
    if let Some(reviewed) = case.review_replied {
        clocks.push(counter.clock(
            ClockKind::RereviewRequest,
            reviewed,
            rules.rereview_request_days,
            case.rereview_requested,
            false,
            "复查意见",
        ));
    }
    if let Some(requested) = case.rereview_requested {
        clocks.push(counter.clock(
            ClockKind::RereviewDecision,
            requested,
            rules.rereview_decision_days,
            case.rereview_replied,
            false,
            "申请复核",
        ));
    }

    let office = clocks.iter().filter(|c| c.kind.is_office());
    let due_soon = office.clone().any(|c| c.state == ClockState::DueSoon);
    let overdue = office.clone().any(|c| c.state == ClockState::Overdue);
    Deadlines {
        clocks,
        due_soon,
        overdue,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_leniently() {
        assert_eq!(Status::parse("已受理"), Some(Status::Accepted));
        assert_eq!(Status::parse(" 办理中 "), Some(Status::Handling));
        assert_eq!(Status::parse("在办"), Some(Status::Handling));
        assert_eq!(Status::parse("延期办理"), Some(Status::Extended));
        assert_eq!(Status::parse("已辦結"), Some(Status::Closed));
        assert_eq!(Status::parse("已答覆"), Some(Status::Replied));
        assert_eq!(Status::parse("【已答复】"), Some(Status::Replied));
        assert_eq!(Status::parse("状态：待受理"), Some(Status::Pending));
        assert_eq!(Status::parse("Closed"), Some(Status::Closed));
        assert_eq!(Status::parse("不予受理"), Some(Status::NotAccepted));
        assert_eq!(Status::parse("差不多了"), None);
        assert_eq!(Status::parse(""), None);
    }
}
