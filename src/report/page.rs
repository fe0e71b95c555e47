//! The page itself: the counts over every case of the list ([`Totals`]),
//! the comparison with the previous list ([`Before`]), the rows of the
//! page's data and the askama template's fields ([`Page`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use askama::Template;
use chrono::NaiveDate;
use serde::Serialize;

use super::model::{self, Listed, NoteInfo, RunInfo};
use super::{DayCase, PAGE_ROWS, REPORT_CSS, REPORT_JS, ReportOptions, privacy, script_json, svg};
use crate::sink::Reject;

/// Rejected records listed one by one in the manifest block.
const MAX_REJECT_ROWS: usize = 20;

/// Rows listed one by one under each heading of the changes and of the
/// crisis cases; the heading gives the whole count.
const MAX_LISTED: usize = 200;

/// The tiers in order, with the labels the page uses.
const TIERS: [(&str, &str, &str); 5] = [
    ("红", "红色预警", "t-red"),
    ("橙", "橙色预警", "t-orange"),
    ("黄", "黄色预警", "t-yellow"),
    ("蓝", "蓝色预警", "t-blue"),
    ("无", "未预警", "t-none"),
];

fn tier_index(name: &str) -> usize {
    TIERS.iter().position(|t| t.0 == name).unwrap_or(4)
}

/// A tier's count at the top of the page.
struct TierCount {
    name: &'static str,
    label: &'static str,
    css: &'static str,
    count: u64,
}

/// A crisis case at the top of the page.
struct CrisisRow {
    id: String,
    received: String,
    class: String,
    location: String,
    reason: String,
    route: String,
}

/// A class and its cases per tier.
struct ClassRow {
    name: String,
    total: u64,
    tiers: [u64; 5],
}

/// A class family and its classes.
struct FamilyBlock {
    name: String,
    total: u64,
    tiers: [u64; 5],
    classes: Vec<ClassRow>,
}

/// A case in the changes since the previous run.
struct ChangeRow {
    id: String,
    class: String,
    risk: u32,
    detail: String,
}

/// A cluster that grew.
struct GrownRow {
    id: String,
    kind: String,
    class: String,
    before: u32,
    after: u32,
}

/// What changed since the previous run.
struct Changes {
    compared: bool,
    new_red: Vec<ChangeRow>,
    new_red_total: usize,
    grown: Vec<GrownRow>,
    overdue: Vec<ChangeRow>,
    overdue_total: usize,
}

/// A red or orange case on the printed list.
struct PrintRow {
    id: String,
    tier: &'static str,
    css: &'static str,
    risk: u32,
    received: String,
    class: String,
    location: String,
    title: String,
    crisis: String,
    evidence: Vec<String>,
    supervision: String,
    route: String,
}

/// The page.
#[derive(Template)]
#[template(path = "report.html")]
pub(super) struct Page {
    as_of: String,
    started: String,
    masked: bool,
    css: &'static str,
    js: &'static str,
    patterns: String,
    tiers: Vec<TierCount>,
    total: usize,
    listed: usize,
    warned: u64,
    crisis: Vec<CrisisRow>,
    crisis_total: usize,
    families: Vec<FamilyBlock>,
    changes: Changes,
    preamble: String,
    periods: Vec<(String, usize)>,
    run: RunInfo,
    rejects_total: u64,
    rejects_more: bool,
    rejects: Vec<Reject>,
    notes_total: usize,
    notes: Vec<(String, usize)>,
    texts_missing: Vec<String>,
    tier_chart: String,
    daily_chart: String,
    daily_source: String,
    print_rows: Vec<PrintRow>,
    data: String,
}

/// One case in the page's data (short keys: 20,000 of them go into the
/// page).
#[derive(Serialize)]
struct Row<'a> {
    /// Id.
    i: &'a str,
    /// Received.
    d: String,
    /// Tier index into [`TIERS`].
    t: usize,
    /// Risk.
    r: u32,
    /// Crisis.
    c: bool,
    /// Primary class.
    k: &'a str,
    /// Family.
    f: &'a str,
    /// Secondary classes.
    sc: &'a [String],
    /// Signals.
    s: Vec<&'a str>,
    /// Location.
    l: &'a str,
    /// Title (masked).
    n: String,
    /// Petitioners (masked).
    p: Vec<String>,
    /// Channel.
    ch: &'a str,
    /// Text (masked), when the input could be read.
    x: Option<String>,
    /// Highlights: (0 title / 1 text, start, end) in characters.
    h: Vec<(u8, usize, usize)>,
    /// Evidence: (rule, target, points, words or note).
    e: Vec<(&'a str, &'a str, f64, String)>,
    /// Ledger: (source, item, target, points, note), item and note as
    /// indices into the string table.
    g: Vec<(&'static str, usize, &'a str, f64, usize)>,
    /// Cluster id, size and kind.
    u: &'a str,
    us: u32,
    uk: &'static str,
    /// Sensitive periods.
    pe: Vec<&'a str>,
    /// Handling-deadline flags.
    sv: Vec<String>,
    /// Crisis reason.
    cr: &'a str,
    /// Route (index into the string table).
    ro: usize,
}

/// The page's data block.
#[derive(Serialize)]
struct Data<'a> {
    rows: Vec<Row<'a>>,
    strs: Vec<String>,
    tiers: Vec<&'static str>,
    masked: bool,
    page: usize,
}

/// Strings shared by many rows (ledger notes, routes), stored once.
#[derive(Default)]
struct Strings {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

impl Strings {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

fn ledger_source(s: &str) -> &'static str {
    match s {
        "class" => "主类别",
        "rule" => "规则",
        "field" => "字段",
        "cap" => "封顶",
        "combo" => "组合",
        "bound" => "上下限",
        "crisis" => "危机",
        "floor" => "等级下限",
        "context" => "关联",
        _ => "其他",
    }
}

fn cluster_kind(s: &str) -> &'static str {
    match s {
        "near_duplicate" => "相似来信",
        "place" => "同地同类",
        _ => "聚类",
    }
}

fn supervision_text(s: &model::Supervision) -> String {
    match s.due {
        Some(d) if !s.clock.is_empty() => format!("{}（{} {d}）", s.flag, s.clock),
        _ => s.flag.clone(),
    }
}

/// `s[start..end]` in characters.
fn char_slice(s: &str, start: usize, end: usize) -> Option<String> {
    let n = s.chars().count();
    (start < end && end <= n).then(|| s.chars().skip(start).take(end - start).collect())
}

/// A case's words as the page shows them: taken from the masked field
/// when masking (the masks keep the length), else as matched.
struct Shown<'a> {
    masked: bool,
    names: &'a [String],
    title: Option<&'a str>,
    text: Option<&'a str>,
}

impl Shown<'_> {
    fn span(&self, m: &model::Span) -> String {
        if !self.masked {
            return m.text.clone();
        }
        let field = if m.field == "title" {
            self.title
        } else {
            self.text
        };
        field
            .and_then(|f| char_slice(f, m.start, m.end))
            .unwrap_or_else(|| privacy::mask_text(&m.text, self.names))
    }

    fn evidence(&self, e: &model::Evidence) -> String {
        let mut words: Vec<String> = Vec::new();
        for m in &e.matches {
            let w = self.span(m);
            if !words.contains(&w) {
                words.push(w);
            }
        }
        if words.is_empty() {
            e.note.clone().unwrap_or_default()
        } else {
            words.join("、")
        }
    }
}

/// What the previous list said of each case and cluster.
pub(super) struct Before {
    /// Case id → (tier index, overdue).
    cases: HashMap<String, (usize, bool)>,
    /// Case id → the size of the cluster it was in. Cluster ids are
    /// given afresh each run, so a cluster is known by its members: one
    /// of tonight's is the one of the previous run it shares a case with.
    clustered: HashMap<String, u32>,
}

impl Before {
    pub(super) fn read(path: &Path) -> std::io::Result<Before> {
        let mut b = Before {
            cases: HashMap::new(),
            clustered: HashMap::new(),
        };
        model::for_each_jsonl(path, |v: Listed| {
            b.cases
                .insert(v.id.clone(), (tier_index(&v.tier), is_overdue(&v)));
            if let Some(c) = &v.cluster {
                b.clustered.insert(v.id.clone(), c.size);
            }
            Ok(())
        })?;
        Ok(b)
    }
}

fn is_overdue(v: &Listed) -> bool {
    v.supervision.iter().any(|s| s.flag == "超期")
}

/// What the top of the page counts over every case of the list.
pub(super) struct Totals {
    masked: bool,
    as_of: Option<NaiveDate>,
    latest: Option<NaiveDate>,
    cases: usize,
    tiers: [u64; 5],
    families: BTreeMap<(usize, String), BTreeMap<String, [u64; 5]>>,
    periods: BTreeMap<String, usize>,
    /// The cases in the chart's days (all cases while the date judged
    /// at is unknown).
    days: Vec<DayCase>,
    crisis: Vec<CrisisRow>,
    crisis_total: usize,
    before: Option<Before>,
    changes: Changes,
    /// Cluster id → (size, kind, class of its first member, the largest
    /// size of the previous run's clusters its members were in).
    clusters: BTreeMap<String, (u32, String, String, u32)>,
}

impl Totals {
    pub(super) fn new(as_of: Option<NaiveDate>, masked: bool, before: Option<Before>) -> Totals {
        Totals {
            masked,
            as_of,
            latest: None,
            cases: 0,
            tiers: [0; 5],
            families: BTreeMap::new(),
            periods: BTreeMap::new(),
            days: Vec::new(),
            crisis: Vec::new(),
            crisis_total: 0,
            changes: Changes {
                compared: before.is_some(),
                new_red: Vec::new(),
                new_red_total: 0,
                grown: Vec::new(),
                overdue: Vec::new(),
                overdue_total: 0,
            },
            before,
            clusters: BTreeMap::new(),
        }
    }

    fn mask(&self, s: &str, names: &[String]) -> String {
        if self.masked {
            privacy::mask_text(s, names)
        } else {
            s.to_string()
        }
    }

    pub(super) fn add(&mut self, v: &Listed) {
        self.cases += 1;
        let t = tier_index(&v.tier);
        self.tiers[t] += 1;
        let family = v.family.clone().unwrap_or_else(|| "未归类".to_string());
        let order = match family.as_str() {
            "热点" => 0,
            "相关" => 1,
            _ => 2,
        };
        self.families
            .entry((order, family))
            .or_default()
            .entry(v.primary_class.clone())
            .or_insert([0; 5])[t] += 1;
        for p in &v.periods {
            *self.periods.entry(p.name.clone()).or_default() += 1;
        }
        self.latest = self.latest.max(Some(v.received));
        let in_window = self
            .as_of
            .is_none_or(|d| v.received <= d && v.received > d - chrono::Duration::days(svg::DAYS));
        if in_window {
            self.days
                .push((v.id.clone(), v.received, v.primary_class.clone()));
        }
        if v.crisis {
            self.crisis_total += 1;
            if self.crisis.len() < MAX_LISTED {
                let reason = self.mask(
                    v.crisis_reason.as_deref().unwrap_or_default(),
                    &v.petitioner_ids,
                );
                self.crisis.push(CrisisRow {
                    id: v.id.clone(),
                    received: v.received.to_string(),
                    class: v.primary_class.clone(),
                    location: v.location.clone().unwrap_or_default(),
                    reason,
                    // The crisis route comes first and the heading names
                    // it; the rest is where the case goes next.
                    route: v
                        .route
                        .split_once('；')
                        .map_or(v.route.as_str(), |(_, rest)| rest)
                        .to_string(),
                });
            }
        }
        let was = self
            .before
            .as_ref()
            .and_then(|b| b.cases.get(&v.id).copied());
        let compared = self.before.is_some();
        let c = &mut self.changes;
        if t == 0 && (!compared || was.is_none_or(|(wt, _)| wt != 0)) {
            c.new_red_total += 1;
            if c.new_red.len() < MAX_LISTED {
                c.new_red.push(ChangeRow {
                    id: v.id.clone(),
                    class: v.primary_class.clone(),
                    risk: v.risk,
                    detail: match was {
                        Some((wt, _)) => format!("原为{}", TIERS[wt].0),
                        None if compared => "新案件".to_string(),
                        None => String::new(),
                    },
                });
            }
        }
        if is_overdue(v) && was.is_none_or(|(_, wo)| !wo) {
            c.overdue_total += 1;
            if c.overdue.len() < MAX_LISTED {
                c.overdue.push(ChangeRow {
                    id: v.id.clone(),
                    class: v.primary_class.clone(),
                    risk: v.risk,
                    detail: v
                        .supervision
                        .iter()
                        .filter(|s| s.flag == "超期")
                        .map(supervision_text)
                        .collect::<Vec<_>>()
                        .join("；"),
                });
            }
        }
        if let Some(cl) = &v.cluster {
            let was = self
                .before
                .as_ref()
                .and_then(|b| b.clustered.get(&v.id).copied())
                .unwrap_or(0);
            let e = self.clusters.entry(cl.id.clone()).or_insert((
                cl.size,
                cluster_kind(&cl.kind).to_string(),
                v.primary_class.clone(),
                0,
            ));
            e.0 = e.0.max(cl.size);
            e.3 = e.3.max(was);
        }
    }

    /// The clusters that grew since the previous list (every cluster
    /// without one), into the changes.
    fn finish(&mut self) {
        for (id, (size, kind, class, before)) in &self.clusters {
            let before = *before;
            if *size > before {
                self.changes.grown.push(GrownRow {
                    id: id.clone(),
                    kind: kind.clone(),
                    class: class.clone(),
                    before,
                    after: *size,
                });
            }
        }
    }
}

impl Page {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build(
        run: &RunInfo,
        opts: &ReportOptions,
        mut totals: Totals,
        kept: &[Listed],
        rejects: &[Reject],
        notes: &[NoteInfo],
        texts: &HashMap<String, String>,
        texts_missing: Vec<String>,
        preamble: String,
    ) -> Page {
        totals.finish();
        let masked = !opts.unmasked;
        let mut strs = Strings::default();
        let mut rows = Vec::with_capacity(kept.len());
        let mut print_rows = Vec::new();
        for v in kept {
            let t = tier_index(&v.tier);
            let names: &[String] = &v.petitioner_ids;
            let mask = |s: &str| totals.mask(s, names);
            let title = v.title.as_deref().map(mask);
            let text = texts.get(&v.id).map(|t| mask(t));
            let shown = Shown {
                masked,
                names,
                title: title.as_deref(),
                text: text.as_deref(),
            };
            let petitioners: Vec<String> = if masked {
                v.petitioner_ids
                    .iter()
                    .map(|p| privacy::mask_petitioner(p))
                    .collect()
            } else {
                v.petitioner_ids.clone()
            };
            let evidence: Vec<(&str, &str, f64, String)> = v
                .evidence
                .iter()
                .map(|e| {
                    (
                        e.rule.as_str(),
                        e.target.as_str(),
                        e.points,
                        shown.evidence(e),
                    )
                })
                .collect();
            if t <= 1 {
                print_rows.push(PrintRow {
                    id: v.id.clone(),
                    tier: TIERS[t].0,
                    css: TIERS[t].2,
                    risk: v.risk,
                    received: v.received.to_string(),
                    class: v.primary_class.clone(),
                    location: v.location.clone().unwrap_or_default(),
                    title: title.clone().unwrap_or_default(),
                    crisis: if v.crisis {
                        v.crisis_reason.as_deref().map(mask).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    evidence: evidence
                        .iter()
                        .map(|(rule, target, points, words)| {
                            format!("{rule} {target} +{points}：{words}")
                        })
                        .collect(),
                    supervision: v
                        .supervision
                        .iter()
                        .map(supervision_text)
                        .collect::<Vec<_>>()
                        .join("；"),
                    route: v.route.clone(),
                });
            }
            let highlights = v
                .evidence
                .iter()
                .flat_map(|e| &e.matches)
                .map(|m| (u8::from(m.field != "title"), m.start, m.end))
                .collect();
            rows.push(Row {
                i: &v.id,
                d: v.received.to_string(),
                t,
                r: v.risk,
                c: v.crisis,
                k: &v.primary_class,
                f: v.family.as_deref().unwrap_or(""),
                sc: &v.secondary_classes,
                s: v.signals.iter().map(|s| s.signal.as_str()).collect(),
                l: v.location.as_deref().unwrap_or(""),
                n: title.unwrap_or_default(),
                p: petitioners,
                ch: v.channel.as_deref().unwrap_or(""),
                x: text,
                h: highlights,
                e: evidence,
                g: v.ledger
                    .iter()
                    .map(|l| {
                        (
                            ledger_source(&l.source),
                            strs.id(&l.item),
                            l.target.as_str(),
                            l.points,
                            strs.id(&l.note),
                        )
                    })
                    .collect(),
                u: v.cluster.as_ref().map_or("", |c| c.id.as_str()),
                us: v.cluster.as_ref().map_or(0, |c| c.size),
                uk: v.cluster.as_ref().map_or("", |c| cluster_kind(&c.kind)),
                pe: v.periods.iter().map(|p| p.relation.as_str()).collect(),
                sv: v.supervision.iter().map(supervision_text).collect(),
                cr: v.crisis_reason.as_deref().unwrap_or(""),
                ro: strs.id(&v.route),
            });
        }
        let tiers = totals.tiers;
        let families = std::mem::take(&mut totals.families)
            .into_iter()
            .map(|((_, name), classes)| {
                let mut classes: Vec<ClassRow> = classes
                    .into_iter()
                    .map(|(name, tiers)| ClassRow {
                        name,
                        total: tiers.iter().sum(),
                        tiers,
                    })
                    .collect();
                classes.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
                let mut tiers = [0u64; 5];
                for c in &classes {
                    for (t, n) in tiers.iter_mut().zip(c.tiers) {
                        *t += n;
                    }
                }
                FamilyBlock {
                    name,
                    total: tiers.iter().sum(),
                    tiers,
                    classes,
                }
            })
            .collect();

        let as_of = totals.as_of.or(totals.latest).unwrap_or_default();
        let days = std::mem::take(&mut totals.days);
        let mut day_cases: Vec<(NaiveDate, String)> = Vec::new();
        let daily_source = match &opts.history {
            Some(h) => {
                let tonight: HashSet<&str> = days.iter().map(|(id, _, _)| id.as_str()).collect();
                day_cases.extend(
                    h.iter()
                        .filter(|(id, _, _)| !tonight.contains(id.as_str()))
                        .map(|(_, d, c)| (*d, c.clone())),
                );
                "历史库中的案件与本次案件，按登记日期"
            }
            None => "本次输入的案件，按登记日期（未使用历史库）",
        };
        day_cases.extend(days.into_iter().map(|(_, d, c)| (d, c)));
        let tier_counts: Vec<(String, String, u64)> = TIERS
            .iter()
            .zip(tiers)
            .map(|(t, n)| (t.0.to_string(), t.1.to_string(), n))
            .collect();
        let mut note_counts: BTreeMap<String, usize> = BTreeMap::new();
        for n in notes {
            *note_counts
                .entry(format!("{}（{}）", n.field, n.action))
                .or_default() += 1;
        }
        let data = Data {
            rows,
            strs: strs.list,
            tiers: TIERS.iter().map(|t| t.0).collect(),
            masked,
            page: PAGE_ROWS,
        };
        let data = script_json(&serde_json::to_string(&data).unwrap_or_else(|_| "{}".into()));
        Page {
            as_of: run.as_of.clone(),
            started: run.started.clone(),
            masked,
            css: REPORT_CSS,
            js: REPORT_JS,
            patterns: svg::tier_patterns(),
            tiers: TIERS
                .iter()
                .zip(tiers)
                .map(|(t, count)| TierCount {
                    name: t.0,
                    label: t.1,
                    css: t.2,
                    count,
                })
                .collect(),
            total: totals.cases,
            listed: kept.len(),
            warned: tiers[..4].iter().sum(),
            crisis: totals.crisis,
            crisis_total: totals.crisis_total,
            families,
            changes: totals.changes,
            preamble,
            periods: totals.periods.into_iter().collect(),
            run: run.clone(),
            rejects_total: run.counts.rejected.max(rejects.len() as u64),
            rejects_more: rejects.len() > MAX_REJECT_ROWS,
            rejects: rejects
                .iter()
                .take(MAX_REJECT_ROWS)
                .map(|r| Reject {
                    file: r.file.clone(),
                    line: r.line,
                    reason: if masked {
                        privacy::mask_text(&r.reason, &[])
                    } else {
                        r.reason.clone()
                    },
                })
                .collect(),
            notes_total: notes.len(),
            notes: note_counts.into_iter().collect(),
            texts_missing,
            tier_chart: svg::tier_chart(&tier_counts),
            daily_chart: svg::daily_chart(&day_cases, as_of),
            daily_source: format!(
                "{} 至 {}；{daily_source}",
                as_of - chrono::Duration::days(svg::DAYS - 1),
                as_of
            ),
            print_rows,
            data,
        }
    }
}
