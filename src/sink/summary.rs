//! The Markdown summary: crisis cases, counts by tier, family and class,
//! and the top cases.

use std::fmt::Write as _;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Begin, End, Sink};

use crate::rules::Family;
use crate::verdict::Tier;

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    /// Records read (cases + rejects).
    pub read: u64,
    /// Cases triaged.
    pub triaged: u64,
    /// Records rejected.
    pub rejected: u64,
}

/// Most crisis cases listed one by one at the top of the summary.
pub const MAX_CRISIS_ROWS: usize = 200;

/// What the summary needs, gathered while the list is built.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Cases per tier, in the order of [`Tier::ALL`].
    pub tiers: [u64; 5],
    /// Crisis cases.
    pub crisis: u64,
    /// The crisis cases (up to [`MAX_CRISIS_ROWS`]), in list order.
    pub crisis_rows: Vec<TopRow>,
    /// Cases with a handling-deadline flag (督办).
    pub supervised: u64,
    /// Those cases (up to [`MAX_CRISIS_ROWS`]), in list order.
    pub supervised_rows: Vec<TopRow>,
    /// Per primary class: (cases, warned cases).
    pub classes: std::collections::BTreeMap<String, (u64, u64)>,
    /// The highest-risk cases, in list order.
    pub top: Vec<TopRow>,
}

/// A line of the summary's top-cases table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopRow {
    /// Tier name.
    pub tier: String,
    /// Risk score.
    pub risk: u64,
    /// Case id.
    pub id: String,
    /// Registration date.
    pub received: String,
    /// Primary class.
    pub class: String,
    /// Signal names.
    pub signals: Vec<String>,
    /// Crisis flag.
    pub crisis: bool,
    /// Why the crisis flag is set.
    pub crisis_reason: String,
    /// Route (the crisis route first for a crisis case).
    pub route: String,
    /// Handling-deadline flags with their clocks (临期（办理期限 2026-08-03）).
    pub supervision: Vec<String>,
}

impl TopRow {
    /// From a verdict's JSON line.
    pub fn from_json(v: &serde_json::Value) -> TopRow {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        TopRow {
            tier: s("tier"),
            risk: v["risk"].as_u64().unwrap_or(0),
            id: s("id"),
            received: s("received"),
            class: s("primary_class"),
            signals: v["signals"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["signal"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            crisis: v["crisis"].as_bool().unwrap_or(false),
            crisis_reason: s("crisis_reason"),
            route: s("route"),
            supervision: v["supervision"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let flag = x["flag"].as_str().unwrap_or_default();
                            match x["due"].as_str() {
                                Some(d) => format!(
                                    "{flag}（{} {d}）",
                                    x["clock"].as_str().unwrap_or_default()
                                ),
                                None => flag.to_string(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The Markdown summary: the crisis cases first, then counts by tier, by
/// class family and class, and the top cases. `classes` are the class
/// names (其他 last) with their family (none for 其他).
pub fn summary(tally: &Tally, counts: Counts, classes: &[(String, Option<Family>)]) -> String {
    summary_with_notes(tally, counts, 0, classes)
}

/// [`summary`] with the number of field notes (said only when there are
/// any): optional fields read leniently or as unknown, see `notes.jsonl`.
pub fn summary_with_notes(
    tally: &Tally,
    counts: Counts,
    notes: u64,
    classes: &[(String, Option<Family>)],
) -> String {
    let top = &tally.top;
    let cell = |x: &str| x.replace('|', "\\|").replace('\n', " ");
    let mut s = String::new();
    let _ = writeln!(s, "# 信访风险预警摘要\n");
    let _ = writeln!(
        s,
        "读入 {} 条，完成研判 {} 条，拒收 {} 条。\n",
        counts.read, counts.triaged, counts.rejected
    );
    if notes > 0 {
        let _ = writeln!(
            s,
            "字段备注 {notes} 条：可选字段（人数、信访层级等）写法不标准或无法识别，已宽松读入或按未知处理，案件照常研判；见 notes.jsonl。\n"
        );
    }
    if tally.crisis > 0 {
        let _ = writeln!(
            s,
            "## 危机案件 {} 件：先启动心理危机干预和属地关怀\n",
            tally.crisis
        );
        let _ = writeln!(
            s,
            "| 编号 | 登记日期 | 主类别 | 依据 | 建议去向 |\n|---|---|---|---|---|"
        );
        for v in &tally.crisis_rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&v.id),
                v.received,
                v.class,
                cell(&v.crisis_reason),
                cell(&v.route)
            );
        }
        if tally.crisis as usize > tally.crisis_rows.len() {
            let _ = writeln!(
                s,
                "\n另有 {} 件危机案件，见 warnings.csv（危机 = 是，排在最前）。",
                tally.crisis as usize - tally.crisis_rows.len()
            );
        }
        let _ = writeln!(s);
    }
    if tally.supervised > 0 {
        let _ = writeln!(
            s,
            "## 督办：办理期限 {} 件（临期、超期、办结后再访；不计入风险分）\n",
            tally.supervised
        );
        let _ = writeln!(
            s,
            "| 编号 | 登记日期 | 主类别 | 等级 | 期限 |\n|---|---|---|---|---|"
        );
        for v in &tally.supervised_rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&v.id),
                v.received,
                v.class,
                v.tier,
                cell(&v.supervision.join("；"))
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## 预警等级\n\n| 等级 | 件数 |\n|---|---:|");
    for (i, t) in Tier::ALL.iter().enumerate() {
        let n = tally.tiers[i];
        let label = if *t == Tier::None {
            "无（未预警）"
        } else {
            t.name()
        };
        let _ = writeln!(s, "| {label} | {n} |");
    }
    let mut family_counts: Vec<(&str, u64, u64)> = Vec::new();
    for (c, f) in classes {
        let Some(&(n, warned)) = tally.classes.get(c) else {
            continue;
        };
        let name = f.map_or("其他", |f| f.name());
        match family_counts.iter_mut().find(|x| x.0 == name) {
            Some(x) => {
                x.1 += n;
                x.2 += warned;
            }
            None => family_counts.push((name, n, warned)),
        }
    }
    let _ = writeln!(
        s,
        "\n## 类别族\n\n| 类别族 | 件数 | 其中预警 |\n|---|---:|---:|"
    );
    for (name, n, warned) in &family_counts {
        let _ = writeln!(s, "| {name} | {n} | {warned} |");
    }
    let _ = writeln!(
        s,
        "\n## 类别\n\n| 主类别 | 类别族 | 件数 | 其中预警 |\n|---|---|---:|---:|"
    );
    for (c, f) in classes {
        let Some(&(n, warned)) = tally.classes.get(c) else {
            continue;
        };
        let family = f.map_or("—", |f| f.name());
        let _ = writeln!(s, "| {c} | {family} | {n} | {warned} |");
    }
    let _ = writeln!(
        s,
        "\n## 风险最高的 {} 件\n\n| 排名 | 等级 | 风险分 | 编号 | 登记日期 | 主类别 | 风险信号 |\n|---:|---|---:|---|---|---|---|",
        top.len()
    );
    for (i, v) in top.iter().enumerate() {
        let signals = &v.signals;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            if v.crisis {
                format!("{}（危机）", v.tier)
            } else {
                v.tier.clone()
            },
            v.risk,
            v.id.replace('|', "\\|"),
            v.received,
            v.class,
            signals.join("、")
        );
    }
    s
}

/// `summary.md` as a [`Sink`]: written at the end from the list's tally
/// and the run's counts.
pub struct SummarySink {
    path: PathBuf,
    classes: Vec<(String, Option<Family>)>,
    preamble: String,
}

impl SummarySink {
    /// `summary.md` in `dir`.
    pub fn new(dir: &Path) -> SummarySink {
        SummarySink {
            path: dir.join("summary.md"),
            classes: Vec::new(),
            preamble: String::new(),
        }
    }

    /// Lines shown right under the title (the date the run is judged at
    /// and the sensitive period in force).
    pub fn with_preamble(dir: &Path, preamble: String) -> SummarySink {
        SummarySink {
            preamble,
            ..SummarySink::new(dir)
        }
    }
}

impl Sink for SummarySink {
    fn begin(&mut self, run: &Begin<'_>) -> std::io::Result<()> {
        let scoring = &run.rules.scoring;
        self.classes = scoring
            .classes
            .iter()
            .map(|c| c.name.clone())
            .chain([scoring.other.clone()])
            .map(|c| {
                let family = scoring.family_of(&c);
                (c, family)
            })
            .collect();
        Ok(())
    }

    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        let mut text = summary_with_notes(&end.tally, end.counts, end.notes, &self.classes);
        if !self.preamble.is_empty() {
            let title_end = text.find("\n\n").map_or(0, |i| i + 2);
            text.insert_str(title_end, &format!("{}\n\n", self.preamble.trim_end()));
        }
        text.push_str(&clusters_markdown(&end.clusters));
        crate::util::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| super::write_error(&self.path, e))?;
        end.outputs.push("summary.md".to_string());
        Ok(())
    }
}

/// The clusters section of the summary, one line per cluster (empty
/// without clusters, so runs without a history store are unchanged).
pub fn clusters_markdown(clusters: &[crate::verdict::ClusterSummary]) -> String {
    if clusters.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n## 聚类 {} 个：可能联名/串联（每个成员的「群体」信号已加分；同在两个聚类的案件按近似相同的信计分）\n",
        clusters.len()
    );
    let _ = writeln!(
        s,
        "| 聚类 | 种类 | 件数 | 今晚的成员 | 主类别 | 最高等级 | 登记日期 |\n|---|---|---|---|---|---|---|"
    );
    for c in clusters {
        let kind = if c.kind == "near_duplicate" {
            "近似相同的信"
        } else {
            "同类别同地点"
        };
        let mut members: Vec<&str> = c.tonight.iter().take(8).map(String::as_str).collect();
        if c.tonight.len() > 8 {
            members.push("…");
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} 至 {} |",
            c.id,
            kind,
            c.size,
            members.join("、"),
            c.class,
            c.tier.name(),
            c.from,
            c.to
        );
    }
    s
}
