//! The history store as a context of the pipeline: what earlier nights
//! know about tonight's cases (repeat petitioners, 老户, rising levels,
//! first letters, returns after a closed case) and the clusters that
//! span tonight and the store's window.
//!
//! [`HistoryContext`] implements [`crate::context::Context`]. In a run it
//! keeps every case's findings (the text evidence) and takes the scored
//! verdicts out of the chunks; at the end, knowing every case of the run,
//! it adds the repeat-rule hits and the cluster hits, scores each case
//! again, records the run in the store in **one transaction per run**
//! (a run killed before then leaves the store as it was; a run killed
//! during the commit leaves it as it was or with the whole run, never
//! half), and hands the verdicts back to the sinks. The result does not
//! depend on the input order, and running the same input again gives the
//! same list: a case id already in the store is never counted as its own
//! history, and its record is replaced.
//!
//! While the matcher works, a second connection reads, on a thread of its
//! own, what the store knows of each chunk's petitioners and the cluster
//! window, so that the end of the run only evaluates; and while the sinks
//! write the lists, a third one writes the run into the store
//! ([`Context::commit`] waits for it).
//!
//! `triage history import` uses the same context in import mode: each
//! chunk is recorded as it passes, in one transaction per chunk, and
//! nothing is held.
//!
//! Privacy: see [`store`] and [`key`]. The repeat-rule evidence lists the
//! earlier case ids, never their text.

pub mod key;
pub mod live;
pub mod rules;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::cluster::{self, Hasher, Item};
use crate::context::{Context, Finish};
use crate::input::Case;
use crate::input::case::Level;
use crate::matcher::{Engine, Findings, RuleHit, SignalHit};
use crate::rules::{Rule, Scoring, Target};
use crate::sink::Scored;
use crate::verdict::{ClusterRef, ClusterSummary, Evidence, Tier, Verdict};

pub use key::{KEY_ENV, StateKey};
pub use rules::{HISTORY_FILE, HistoryRules};
pub use store::{Record, Store};

/// The environment variable naming the store file.
pub const STATE_ENV: &str = "TRIAGE_STATE";

/// The default store: `$TRIAGE_STATE`, else
/// `$XDG_STATE_HOME/petition-triage/history.sqlite`, else
/// `~/.local/state/petition-triage/history.sqlite`.
pub fn default_state_path() -> PathBuf {
    if let Some(p) = std::env::var_os(STATE_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("petition-triage").join("history.sqlite")
}

/// How the context uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A run: history and clusters change the verdicts; the run is
    /// recorded at the end.
    Run,
    /// An import: cases are recorded as they pass; verdicts unchanged.
    Import,
}

/// What a case contributes to history and clusters.
#[derive(Debug, Clone)]
struct Info {
    id: String,
    received: NaiveDate,
    pkeys: Vec<[u8; 32]>,
    level: Option<Level>,
    class: String,
    place: Option<[u8; 32]>,
    content: [u8; 32],
    shingles: Vec<u32>,
    signature: Vec<u32>,
}

struct Held {
    file: usize,
    line: u64,
    findings: Findings,
    info: Info,
}

/// A case waiting for its [`Info`], which is computed a chunk at a time
/// in parallel.
struct Waiting {
    case: Case,
    findings: Findings,
}

/// Counts of an import or a run's recording.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// New cases.
    pub added: u64,
    /// Known cases whose record changed.
    pub updated: u64,
    /// Known cases, unchanged.
    pub unchanged: u64,
}

/// What the store says of tonight's petitioners and the cluster window,
/// read while the run goes on.
#[derive(Default)]
struct Fetched {
    pasts: HashMap<[u8; 32], Vec<store::Past>>,
    /// The window from a date on or before the run's own start of it.
    window: Option<(NaiveDate, Vec<store::WindowCase>)>,
}

/// Reads the store on a thread of its own while the matcher works: the
/// stored cases of each petitioner as tonight's keys arrive, a chunk at a
/// time, and the cluster window once the first dates are known. Nothing
/// writes to the store before the end of the run, so these are the rows
/// the end of the run would read.
struct Prefetch {
    tx: Option<std::sync::mpsc::Sender<(Vec<[u8; 32]>, NaiveDate)>>,
    handle: std::thread::JoinHandle<std::io::Result<Fetched>>,
}

impl Prefetch {
    /// `window_days`: the cluster window, when clusters are on.
    fn start(store: Store, window_days: Option<u32>) -> Prefetch {
        let (tx, rx) = std::sync::mpsc::channel::<(Vec<[u8; 32]>, NaiveDate)>();
        let handle = std::thread::spawn(move || {
            let mut got = Fetched::default();
            for (keys, latest) in rx {
                if let (Some(days), None) = (window_days, &got.window) {
                    // The run's latest date is at least this chunk's.
                    let from = latest - chrono::Duration::days(i64::from(days));
                    got.window = Some((from, store.window(from)?));
                }
                for k in keys {
                    if let std::collections::hash_map::Entry::Vacant(e) = got.pasts.entry(k) {
                        e.insert(store.petitioner_cases(&k)?);
                    }
                }
            }
            Ok(got)
        });
        Prefetch {
            tx: Some(tx),
            handle,
        }
    }

    fn send(&self, keys: Vec<[u8; 32]>, latest: NaiveDate) {
        if let Some(tx) = &self.tx {
            // A closed channel means the thread failed: `finish` says why.
            let _ = tx.send((keys, latest));
        }
    }

    fn finish(mut self) -> std::io::Result<Fetched> {
        drop(self.tx.take());
        self.handle
            .join()
            .map_err(|_| std::io::Error::other("历史库读取线程意外退出"))?
    }
}

/// The history store in the context stage.
pub struct HistoryContext {
    store: Store,
    key: StateKey,
    rules: HistoryRules,
    scoring: Scoring,
    targets: Vec<Target>,
    hasher: Option<Hasher>,
    mode: Mode,
    held: Vec<Held>,
    waiting: Vec<Waiting>,
    prefetch: Option<Prefetch>,
    writing: Option<std::thread::JoinHandle<std::io::Result<Vec<store::Upsert>>>>,
    recorded: Recorded,
    /// Cluster work of the last run (compared and confirmed pairs).
    pub work: cluster::Work,
}

impl Drop for HistoryContext {
    /// A run that never reached `commit` (a sink failed) still lets the
    /// store's writer end its transaction before the connections go.
    fn drop(&mut self) {
        if let Some(w) = self.writing.take() {
            let _ = w.join();
        }
    }
}

/// The primary class of a case from its rule hits, as scoring will find it.
pub fn primary_class(scoring: &Scoring, targets: &[Target], hits: &[RuleHit]) -> String {
    let mut class = vec![0.0f64; scoring.classes.len()];
    for h in hits {
        if let Some(Target::Class(c)) = targets.get(h.rule) {
            class[*c] += h.points;
        }
    }
    let mut best: Option<usize> = None;
    for c in 0..class.len() {
        if class[c] > 0.0 && best.is_none_or(|b| class[c] > class[b]) {
            best = Some(c);
        }
    }
    match best.filter(|&b| class[b] >= scoring.min_score) {
        Some(b) => scoring.classes[b].name.clone(),
        None => scoring.other.clone(),
    }
}

fn content_hash(key: &StateKey, case: &Case) -> [u8; 32] {
    let mut m = Vec::with_capacity(case.text.len() + 128);
    for part in [
        case.id.as_str(),
        &case.received.to_string(),
        case.channel.as_deref().unwrap_or(""),
        &case.petitioner_ids.join("\u{1}"),
        &case.persons.map(|p| p.to_string()).unwrap_or_default(),
        case.target_level.map_or("", |l| l.name()),
        case.location.as_deref().unwrap_or(""),
        case.title.as_deref().unwrap_or(""),
        &case.text,
    ] {
        m.extend_from_slice(part.as_bytes());
        m.push(0);
    }
    key.hash(key::Domain::Content, &m)
}

/// What the store and the clusters need of a case.
struct Infer<'a> {
    key: &'a StateKey,
    scoring: &'a Scoring,
    targets: &'a [Target],
    hasher: Option<&'a Hasher>,
    mode: Mode,
}

impl Infer<'_> {
    fn info(&self, case: &Case, hits: &[RuleHit]) -> Info {
        let mut pkeys: Vec<[u8; 32]> = case
            .petitioner_ids
            .iter()
            .filter_map(|p| self.key.petitioner(p))
            .collect();
        pkeys.sort();
        pkeys.dedup();
        let (shingles, signature) = match self.hasher {
            Some(h) => {
                let mut text = case.title.clone().unwrap_or_default();
                text.push('\n');
                text.push_str(&case.text);
                let s = h.shingles(&text);
                let sig = h.signature(&s);
                (s, sig)
            }
            None => (Vec::new(), Vec::new()),
        };
        Info {
            id: case.id.clone(),
            received: case.received,
            pkeys,
            level: case.target_level,
            class: primary_class(self.scoring, self.targets, hits),
            place: case.location.as_deref().and_then(|l| self.key.place(l)),
            content: content_hash(self.key, case),
            shingles: if self.mode == Mode::Run {
                shingles
            } else {
                Vec::new()
            },
            signature,
        }
    }
}

impl HistoryContext {
    /// A context over `store`, with the repeat rules and cluster settings
    /// of `rules`; `clusters` switches clustering on (when configured).
    pub fn new(
        store: Store,
        key: StateKey,
        engine: &Engine,
        rules: HistoryRules,
        mode: Mode,
        clusters: bool,
    ) -> HistoryContext {
        let set = engine.rules();
        let hasher = rules
            .cluster
            .as_ref()
            .filter(|_| clusters)
            .map(|c| Hasher::new(key.sketch_seed(), c.shingle));
        HistoryContext {
            store,
            key,
            scoring: set.scoring.clone(),
            targets: set.rules.iter().map(|r| r.target).collect(),
            rules,
            hasher,
            mode,
            held: Vec::new(),
            waiting: Vec::new(),
            prefetch: None,
            writing: None,
            recorded: Recorded::default(),
            work: cluster::Work::default(),
        }
    }

    /// What was recorded so far.
    pub fn recorded(&self) -> Recorded {
        self.recorded
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn record_of(info: &Info, v: &Verdict) -> Record {
        Record {
            case_id: info.id.clone(),
            received: info.received,
            petitioners: info.pkeys.clone(),
            level: info.level,
            class: v.primary_class.clone(),
            place: info.place,
            tier: v.tier,
            risk: v.risk,
            content: info.content,
            sketch: (!info.signature.is_empty()).then(|| info.signature.clone()),
        }
    }

    fn count(&mut self, what: &[store::Upsert]) {
        for w in what {
            match w {
                store::Upsert::Added => self.recorded.added += 1,
                store::Upsert::Updated => self.recorded.updated += 1,
                store::Upsert::Unchanged => self.recorded.unchanged += 1,
            }
        }
    }

    /// The repeat rules that fire on each held case.
    fn repeat_hits(
        &self,
        stored: &HashMap<[u8; 32], Vec<store::Past>>,
    ) -> std::io::Result<Vec<Vec<rules::Fired>>> {
        let mut by_key: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
        for (i, h) in self.held.iter().enumerate() {
            for k in &h.info.pkeys {
                by_key.entry(*k).or_default().push(i);
            }
        }
        let tonight: HashSet<&str> = self.held.iter().map(|h| h.info.id.as_str()).collect();
        let (held, rules) = (&self.held, &self.rules);
        Ok(held
            .par_iter()
            .map(|h| {
                let now = rules::Event {
                    id: &h.info.id,
                    received: h.info.received,
                    level: h.info.level,
                    class: &h.info.class,
                };
                let mut seen: HashSet<&str> = HashSet::new();
                let mut events = Vec::new();
                for k in &h.info.pkeys {
                    for &j in by_key.get(k).into_iter().flatten() {
                        let o = &held[j].info;
                        if seen.insert(&o.id) {
                            events.push(rules::Event {
                                id: &o.id,
                                received: o.received,
                                level: o.level,
                                class: &o.class,
                            });
                        }
                    }
                    for p in stored.get(k).into_iter().flatten() {
                        // Tonight's record of a case replaces the stored one.
                        if !tonight.contains(p.case_id.as_str()) && seen.insert(&p.case_id) {
                            events.push(rules::Event::of(p));
                        }
                    }
                }
                if h.info.pkeys.is_empty() {
                    // No petitioner id: nothing is known either way.
                    return Vec::new();
                }
                rules.evaluate(&now, &events)
            })
            .collect())
    }

    fn run_finish(&mut self, engine: &Engine) -> std::io::Result<Finish> {
        let mut fetched = match self.prefetch.take() {
            Some(p) => p.finish()?,
            None => Fetched::default(),
        };
        let fired = self.repeat_hits(&fetched.pasts)?;
        drop(std::mem::take(&mut fetched.pasts));
        let mut summaries = Vec::new();
        let mut cluster_of: Vec<Option<(ClusterRef, f64)>> = vec![None; self.held.len()];
        let latest = self.held.iter().map(|h| h.info.received).max();
        if let (Some(settings), Some(latest)) = (self.rules.cluster.clone(), latest)
            && self.hasher.is_some()
        {
            let from = latest - chrono::Duration::days(i64::from(settings.window_days));
            let tonight: HashSet<String> = self.held.iter().map(|h| h.info.id.clone()).collect();
            let mut items: Vec<Item> = Vec::with_capacity(self.held.len());
            for h in &mut self.held {
                items.push(Item {
                    id: h.info.id.clone(),
                    received: h.info.received,
                    class: h.info.class.clone(),
                    place: h.info.place,
                    shingles: std::mem::take(&mut h.info.shingles),
                    signature: h.info.signature.clone(),
                    tonight: true,
                });
            }
            let window = match fetched.window.take() {
                Some((start, w)) if start <= from => w,
                _ => self.store.window(from)?,
            };
            for w in window {
                if w.received < from || tonight.contains(&w.case_id) {
                    continue;
                }
                items.push(Item {
                    id: w.case_id,
                    received: w.received,
                    class: w.class,
                    place: w.place,
                    shingles: Vec::new(),
                    signature: w.sketch.unwrap_or_default(),
                    tonight: false,
                });
            }
            let (found, work) = cluster::clusters(
                &items,
                settings.jaccard,
                &self.scoring.other,
                settings.place_min_size,
                settings.window_days,
            );
            self.work = work;
            for c in &found {
                let size = c.members.len() as u32;
                let steps = match c.kind {
                    cluster::Kind::NearDuplicate => &settings.near_duplicate,
                    cluster::Kind::Place => &settings.place,
                };
                let points = rules::ClusterSettings::points(steps, size);
                let mut tonight_ids = Vec::new();
                let mut classes: HashMap<&str, u32> = HashMap::new();
                let tier = Tier::None;
                let (mut lo, mut hi) = (latest, NaiveDate::MIN);
                for &m in &c.members {
                    let it = &items[m];
                    lo = lo.min(it.received);
                    hi = hi.max(it.received);
                    *classes.entry(it.class.as_str()).or_default() += 1;
                    if it.tonight {
                        tonight_ids.push(it.id.clone());
                        if cluster_of[m].is_none() {
                            cluster_of[m] = Some((
                                ClusterRef {
                                    id: c.id.clone(),
                                    size,
                                    kind: c.kind.name().to_string(),
                                },
                                points,
                            ));
                        }
                    }
                }
                let class = classes
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(c, _)| (*c).to_string())
                    .unwrap_or_default();
                summaries.push(ClusterSummary {
                    id: c.id.clone(),
                    kind: c.kind.name().to_string(),
                    size,
                    tonight: tonight_ids,
                    class,
                    tier,
                    from: lo,
                    to: hi,
                });
            }
        }

        let cluster_signal = self.rules.cluster.as_ref().map(|c| c.signal);
        let held = std::mem::take(&mut self.held);
        let set = engine.rules();
        let rules: &[Rule] = &set.rules;
        let (repeat, scoring) = (&self.rules, &self.scoring);
        // The evidence of history and clusters, and the score, case by
        // case in parallel.
        let scored: Vec<(usize, Scored, Info)> = held
            .into_par_iter()
            .zip(fired.par_iter())
            .zip(cluster_of.into_par_iter())
            .map(|((mut h, fired), cl)| {
                apply_repeat(repeat, scoring, &mut h.findings, fired);
                if let (Some((c, points)), Some(s)) = (cl, cluster_signal) {
                    apply_cluster(scoring, &mut h.findings, c, points, s);
                }
                let verdict = crate::score::scored(scoring, rules, h.findings);
                (
                    h.file,
                    Scored {
                        line: h.line,
                        verdict,
                    },
                    h.info,
                )
            })
            .collect();

        // Tiers of the clusters, now that members are scored.
        let tier_of: HashMap<&str, Tier> = scored
            .iter()
            .map(|(_, s, _)| (s.verdict.id.as_str(), s.verdict.tier))
            .collect();
        for c in &mut summaries {
            c.tier = c
                .tonight
                .iter()
                .filter_map(|id| tier_of.get(id.as_str()))
                .copied()
                .min_by_key(|t| Tier::ALL.iter().position(|x| x == t))
                .unwrap_or(Tier::None);
        }

        let records: Vec<Record> = scored
            .iter()
            .map(|(_, s, info)| HistoryContext::record_of(info, &s.verdict))
            .collect();
        if let Some(latest) = latest {
            // The store is written by a connection on a thread of its own
            // while the sinks write the lists; `commit` waits for it.
            let cut = self
                .rules
                .cluster
                .as_ref()
                .map(|c| latest - chrono::Duration::days(i64::from(c.window_days)));
            let mut writer = self.store.reopen()?;
            self.writing = Some(std::thread::spawn(move || {
                if let Some(cut) = cut {
                    writer.prune_sketches(cut)?;
                }
                writer.upsert(&records)
            }));
        }

        let mut out: Vec<(usize, Vec<Scored>)> = Vec::new();
        for (file, s, _) in scored {
            match out.last_mut() {
                Some((f, v)) if *f == file => v.push(s),
                _ => out.push((file, vec![s])),
            }
        }
        Ok(Finish {
            verdicts: out,
            clusters: summaries,
        })
    }
}

/// Add the evidence and points of the fired rules to `f`.
fn apply_repeat(
    repeat: &HistoryRules,
    scoring: &Scoring,
    f: &mut Findings,
    fired: &[rules::Fired],
) {
    for x in fired {
        let r = &repeat.rules[x.rule];
        let target = r
            .signal
            .map_or_else(|| r.name.clone(), |s| scoring.signals[s].name.clone());
        let note = describe_earlier(r, &x.earlier);
        if let Some(s) = r.signal.filter(|_| r.points > 0.0) {
            f.extra.push(SignalHit {
                signal: s,
                item: r.id.clone(),
                points: r.points,
                note: format!("{}：{}", r.name, note),
            });
        }
        f.verdict.evidence.push(Evidence {
            rule: r.id.clone(),
            target,
            points: if r.signal.is_some() { r.points } else { 0.0 },
            distinct_terms: x.earlier.len() as u32,
            matches: Vec::new(),
            note: Some(format!("{}（{}）：{}", r.name, r.description, note)),
        });
    }
}

/// Add a cluster's evidence and points (signal `s`) to `f`.
fn apply_cluster(scoring: &Scoring, f: &mut Findings, c: ClusterRef, points: f64, s: usize) {
    let what = match c.kind.as_str() {
        "near_duplicate" => "近似相同的信",
        _ => "同类别同地点的案件",
    };
    let note = format!("聚类 {}：{} 件{}（可能联名/串联）", c.id, c.size, what);
    if points > 0.0 {
        f.extra.push(SignalHit {
            signal: s,
            item: c.id.clone(),
            points,
            note: note.clone(),
        });
    }
    f.verdict.evidence.push(Evidence {
        rule: c.id.clone(),
        target: scoring.signals[s].name.clone(),
        points,
        distinct_terms: c.size,
        matches: Vec::new(),
        note: Some(note),
    });
    f.verdict.cluster = Some(c);
}

/// The earlier cases of a fired rule, as the evidence states them: ids
/// only, at most ten.
fn describe_earlier(r: &rules::RepeatRule, earlier: &[String]) -> String {
    if earlier.is_empty() {
        return "此前没有记录".to_string();
    }
    let shown: Vec<&str> = earlier.iter().take(10).map(String::as_str).collect();
    let more = if earlier.len() > 10 {
        format!(" 等 {} 件", earlier.len())
    } else {
        String::new()
    };
    let window = r.window_days.map_or(String::new(), |w| format!("{w} 天内"));
    format!(
        "{window}此前 {} 件：{}{more}",
        earlier.len(),
        shown.join("、")
    )
}

impl Context for HistoryContext {
    fn case(&mut self, case: &Case, findings: &mut Findings) {
        match self.mode {
            Mode::Import => self.waiting.push(Waiting {
                case: case.clone(),
                findings: Findings {
                    verdict: Verdict::for_case(case),
                    hits: findings.hits.clone(),
                    extra: Vec::new(),
                },
            }),
            Mode::Run => {
                // The findings wait for the end of the run; the chunk
                // scores an empty stand-in, which `scored` drops.
                let stand_in = Findings {
                    verdict: Verdict::for_case(&Case {
                        id: case.id.clone(),
                        received: case.received,
                        channel: None,
                        petitioner_ids: Vec::new(),
                        persons: None,
                        target_level: None,
                        location: None,
                        title: None,
                        text: String::new(),
                        notes: Vec::new(),
                        handling: Default::default(),
                    }),
                    hits: Vec::new(),
                    extra: Vec::new(),
                };
                let findings = std::mem::replace(findings, stand_in);
                self.waiting.push(Waiting {
                    case: case.clone(),
                    findings,
                });
            }
        }
    }

    fn scored(&mut self, file: usize, chunk: &mut Vec<Scored>) -> std::io::Result<()> {
        let waiting = std::mem::take(&mut self.waiting);
        let this = Infer {
            key: &self.key,
            scoring: &self.scoring,
            targets: &self.targets,
            hasher: self.hasher.as_ref(),
            mode: self.mode,
        };
        let infos: Vec<(Info, Findings)> = waiting
            .into_par_iter()
            .map(|w| (this.info(&w.case, &w.findings.hits), w.findings))
            .collect();
        match self.mode {
            Mode::Run => {
                if let Some(latest) = infos.iter().map(|(i, _)| i.received).max() {
                    if self.prefetch.is_none() {
                        let days = self
                            .rules
                            .cluster
                            .as_ref()
                            .filter(|_| self.hasher.is_some());
                        self.prefetch = Some(Prefetch::start(
                            self.store.reopen()?,
                            days.map(|c| c.window_days),
                        ));
                    }
                    let keys = infos.iter().flat_map(|(i, _)| i.pkeys.iter().copied());
                    if let Some(p) = &self.prefetch {
                        p.send(keys.collect(), latest);
                    }
                }
                for ((info, findings), s) in infos.into_iter().zip(chunk.iter()) {
                    self.held.push(Held {
                        file,
                        line: s.line,
                        findings,
                        info,
                    });
                }
                chunk.clear();
            }
            Mode::Import => {
                let records: Vec<Record> = infos
                    .iter()
                    .map(|(info, _)| info)
                    .zip(chunk.iter())
                    .map(|(info, s)| HistoryContext::record_of(info, &s.verdict))
                    .collect();
                let what = self.store.upsert(&records)?;
                self.count(&what);
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> std::io::Result<()> {
        if let Some(w) = self.writing.take() {
            let what = w
                .join()
                .map_err(|_| std::io::Error::other("历史库写入线程意外退出"))??;
            self.count(&what);
        }
        Ok(())
    }

    fn finish(&mut self, engine: &Engine) -> std::io::Result<Finish> {
        match self.mode {
            Mode::Run => self.run_finish(engine),
            Mode::Import => {
                if let (Some(c), Some(latest)) = (&self.rules.cluster, self.store.stats()?.range) {
                    let cut = latest.1 - chrono::Duration::days(i64::from(c.window_days));
                    self.store.prune_sketches(cut)?;
                }
                Ok(Finish::default())
            }
        }
    }
}

/// A case's history as `explain --state` shows it: the petitioner's
/// stored cases (other than this one), oldest first, and the rules that
/// fire on it.
pub fn explain_history(
    store: &Store,
    key: &StateKey,
    rules: &HistoryRules,
    case: &Case,
    class: &str,
) -> std::io::Result<(Vec<store::Past>, Vec<rules::Fired>)> {
    let mut seen = HashSet::new();
    let mut past = Vec::new();
    for id in &case.petitioner_ids {
        if let Some(k) = key.petitioner(id) {
            for p in store.petitioner_cases(&k)? {
                if p.case_id != case.id && seen.insert(p.case_id.clone()) {
                    past.push(p);
                }
            }
        }
    }
    past.sort_by(|a, b| (a.received, &a.case_id).cmp(&(b.received, &b.case_id)));
    let now = rules::Event {
        id: &case.id,
        received: case.received,
        level: case.target_level,
        class,
    };
    let events: Vec<rules::Event<'_>> = past.iter().map(rules::Event::of).collect();
    let fired = if case.petitioner_ids.is_empty() {
        Vec::new()
    } else {
        rules.evaluate(&now, &events)
    };
    Ok((past, fired))
}

/// The description of a fired rule for explanations.
pub fn describe(rules: &HistoryRules, fired: &rules::Fired) -> String {
    let r = &rules.rules[fired.rule];
    format!(
        "{} {}（{}，{} 分）：{}",
        r.id,
        r.name,
        r.description,
        r.points,
        describe_earlier(r, &fired.earlier)
    )
}
