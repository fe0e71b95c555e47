//! The history store as a context of the pipeline: what earlier nights
//! know about tonight's cases (repeat petitioners, 老户, rising levels,
//! first letters, returns after a closed case) and the clusters that
//! span tonight and the store's window.
//!
//! [`HistoryContext`] implements [`crate::context::Context`]. In a run,
//! each chunk's cases are scored one chunk late: while the matcher reads
//! the next chunk, a second connection reads, on a thread of its own,
//! what the store knows of this chunk's petitioners; the repeat rules
//! then run on that and on every case of tonight's run seen so far, and
//! the verdicts go to the sinks. At the end, knowing every case of the
//! run, the context finds the clusters and looks again at each case
//! whose petitioner came again later in the input; every verdict that
//! changed is scored again and passed on as an amendment (the list
//! replaces its row). A run in date order amends only cluster members.
//! The result does not depend on the input order, and running the same
//! input again gives the same list: a case id already in the store is
//! never counted as its own history, and its record is replaced.
//!
//! The run is recorded in the store in **one transaction per run**, by a
//! third connection on a thread of its own, at a low priority, while the
//! sinks write the lists and the report ([`Context::commit`] waits for
//! it): a run killed before then
//! leaves the store as it was, and one killed during the commit leaves
//! it as it was or with the whole run, never half.
//!
//! `triage history import` uses the same context in import mode: each
//! chunk is recorded as it passes, in one transaction per chunk, and
//! nothing is held.
//!
//! Privacy: see [`store`] and [`key`]. The repeat-rule evidence lists the
//! earlier case ids, never their text.

pub mod key;
pub mod live;
pub mod person;
pub mod rules;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::cluster::{self, Hasher, Item};
use crate::context::{Context, Finish, Passed};
use crate::input::Case;
use crate::input::case::Level;
use crate::matcher::{Engine, Findings, RuleHit, SignalHit};
use crate::rules::{Scoring, Target};
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

/// A case of tonight's run, kept to the end of it: what history and
/// clusters read of it, and what scoring it again needs.
struct Kept {
    file: usize,
    line: u64,
    info: Info,
    /// The text evidence.
    hits: Vec<RuleHit>,
    /// Signal points from the contexts before this one (the calendar).
    extra: Vec<SignalHit>,
    /// Evidence entries of the verdict before the history's.
    evidence: usize,
    /// The repeat rules that fired when the case was first scored.
    fired: Vec<rules::Fired>,
    /// Tonight's cases known when it was first scored.
    known: u32,
    /// The verdict, back from the sinks (or not yet passed on).
    verdict: Option<Verdict>,
}

/// What scoring a case the first time gives its [`Kept`].
struct FirstScore {
    fired: Vec<rules::Fired>,
    extra: Vec<SignalHit>,
    evidence: usize,
    hits: Vec<RuleHit>,
    verdict: Verdict,
}

/// A chunk registered but not yet scored: the kept index of its first
/// case, and each case's findings.
struct Unscored {
    first: usize,
    findings: Vec<Findings>,
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

/// The stored cases of some of tonight's petitioners.
type Pasts = Vec<([u8; 32], Vec<store::Past>)>;

/// The cluster window from a date on or before the run's own start of it.
type Window = Option<(NaiveDate, Vec<store::WindowCase>)>;

/// Reads the store on a thread of its own while the matcher works: for
/// each chunk, the stored cases of the petitioners not asked for before,
/// answered in the order asked; and the cluster window once the first
/// dates are known. Nothing writes to the store before the end of the
/// run, so these are the rows the end of the run would read.
struct Prefetch {
    tx: Option<std::sync::mpsc::Sender<(Vec<[u8; 32]>, NaiveDate)>>,
    rx: std::sync::mpsc::Receiver<std::io::Result<Pasts>>,
    handle: std::thread::JoinHandle<std::io::Result<Window>>,
}

impl Prefetch {
    /// `window_days`: the cluster window, when clusters are on.
    fn start(store: Store, window_days: Option<u32>) -> Prefetch {
        let (tx, requests) = std::sync::mpsc::channel::<(Vec<[u8; 32]>, NaiveDate)>();
        let (answers, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut window: Window = None;
            let mut asked: FxHashSet<[u8; 32]> = FxHashSet::default();
            for (mut keys, latest) in requests {
                if let (Some(days), None) = (window_days, &window) {
                    // The run's latest date is at least this chunk's.
                    let from = latest - chrono::Duration::days(i64::from(days));
                    window = Some((from, store.window(from)?));
                }
                // In key order: neighbouring pages of the index.
                keys.sort_unstable();
                keys.dedup();
                keys.retain(|k| asked.insert(*k));
                let got = store.petitioners_cases(keys);
                let failed = got.is_err();
                if answers.send(got).is_err() || failed {
                    break;
                }
            }
            Ok(window)
        });
        Prefetch {
            tx: Some(tx),
            rx,
            handle,
        }
    }

    fn send(&self, keys: Vec<[u8; 32]>, latest: NaiveDate) {
        if let Some(tx) = &self.tx {
            // A closed channel means the thread failed: `answer` says why.
            let _ = tx.send((keys, latest));
        }
    }

    /// The answer to the oldest request not yet answered.
    fn answer(&self) -> std::io::Result<Pasts> {
        self.rx
            .recv()
            .map_err(|_| std::io::Error::other("历史库读取线程意外退出"))?
    }

    fn finish(mut self) -> std::io::Result<Window> {
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
    /// Tonight's cases so far, in input order.
    kept: Vec<Kept>,
    /// Tonight's cases of each petitioner key, as indexes into `kept`.
    by_key: FxHashMap<[u8; 32], Vec<u32>>,
    /// Tonight's case ids.
    tonight: FxHashMap<String, u32>,
    /// The stored cases of tonight's petitioners, read so far.
    pasts: FxHashMap<[u8; 32], Vec<store::Past>>,
    /// The chunk waiting for its petitioners' stored cases.
    unscored: Option<Unscored>,
    /// Ranges of `kept` passed on and not yet back from the sinks.
    out: std::collections::VecDeque<std::ops::Range<usize>>,
    waiting: Vec<Waiting>,
    prefetch: Option<Prefetch>,
    /// The run's write, made ready before the store is read.
    run: Option<store::RunWrite>,
    writing: Option<std::thread::JoinHandle<std::io::Result<Vec<store::Upsert>>>>,
    recorded: Recorded,
    /// Cluster work of the last run (compared and confirmed pairs).
    pub work: cluster::Work,
}

impl Drop for HistoryContext {
    /// A run that never reached `commit` (a sink failed) still lets the
    /// store's writer end its transaction before the
    /// connections go.
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
            kept: Vec::new(),
            by_key: FxHashMap::default(),
            tonight: FxHashMap::default(),
            pasts: FxHashMap::default(),
            unscored: None,
            out: std::collections::VecDeque::new(),
            waiting: Vec::new(),
            prefetch: None,
            run: None,
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

    /// The first day of the cluster window that ends on `latest`.
    fn window_start(&self, latest: Option<NaiveDate>) -> Option<NaiveDate> {
        let c = self.rules.cluster.as_ref()?;
        Some(latest? - chrono::Duration::days(i64::from(c.window_days)))
    }

    /// The record of a case, with its sketch unless it was received
    /// before `cut` (outside the cluster window: the store would drop it).
    fn record_of(info: &Info, v: &Verdict, cut: Option<NaiveDate>) -> Record {
        let sketched = !info.signature.is_empty() && cut.is_none_or(|c| info.received >= c);
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
            sketch: sketched.then(|| info.signature.clone()),
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

    /// What the repeat rules read: tonight's cases so far and the store's.
    fn memory(&self) -> Memory<'_> {
        Memory {
            rules: &self.rules,
            kept: &self.kept,
            by_key: &self.by_key,
            tonight: &self.tonight,
            pasts: &self.pasts,
        }
    }

    /// Score a registered chunk, once the store's cases of its
    /// petitioners are in: the repeat rules on the store and on
    /// tonight's cases so far. Returns the chunk's range in `kept`, whose
    /// verdicts are then set.
    fn score_chunk(
        &mut self,
        engine: &Engine,
        chunk: Unscored,
    ) -> std::io::Result<std::ops::Range<usize>> {
        if let Some(p) = &self.prefetch {
            self.pasts.extend(p.answer()?);
        }
        let known = self.kept.len();
        let set = engine.rules();
        let (repeat, scoring, rules) = (&self.rules, &self.scoring, &set.rules[..]);
        let memory = self.memory();
        let first = chunk.first;
        let scored: Vec<FirstScore> = chunk
            .findings
            .into_par_iter()
            .enumerate()
            .with_min_len(8)
            .map(|(i, f)| {
                let fired = memory.fired(&memory.kept[first + i].info, known);
                let Findings {
                    mut verdict,
                    hits,
                    mut extra,
                } = f;
                let before = (extra.clone(), verdict.evidence.len());
                apply_repeat(repeat, scoring, &mut extra, &mut verdict, &fired);
                crate::score::score_with(scoring, rules, &hits, &extra, &mut verdict);
                crate::score::crisis_reason(scoring, &mut verdict);
                FirstScore {
                    fired,
                    extra: before.0,
                    evidence: before.1,
                    hits,
                    verdict,
                }
            })
            .collect();
        let end = first + scored.len();
        for (k, f) in self.kept[first..end].iter_mut().zip(scored) {
            k.fired = f.fired;
            k.extra = f.extra;
            k.evidence = f.evidence;
            k.hits = f.hits;
            k.known = known as u32;
            k.verdict = Some(f.verdict);
        }
        Ok(first..end)
    }

    /// Take the verdicts of `range` out of `kept`, grouped by input file,
    /// to pass on.
    fn take(&mut self, range: std::ops::Range<usize>) -> Passed {
        let mut out: Passed = Vec::new();
        for k in &mut self.kept[range] {
            let Some(verdict) = k.verdict.take() else {
                continue;
            };
            let s = Scored {
                line: k.line,
                verdict,
            };
            match out.last_mut() {
                Some((f, v)) if *f == k.file => v.push(s),
                _ => out.push((k.file, vec![s])),
            }
        }
        out
    }

    fn run_finish(&mut self, engine: &Engine) -> std::io::Result<Finish> {
        let fresh = match self.unscored.take() {
            Some(chunk) => self.score_chunk(engine, chunk)?,
            None => 0..0,
        };
        let window = match self.prefetch.take() {
            Some(p) => p.finish()?,
            None => None,
        };
        let n = self.kept.len();

        // The cases to cluster: tonight's (their shingles move out of
        // `kept`) and the store's window.
        let latest = self.kept.iter().map(|k| k.info.received).max();
        let settings = self
            .rules
            .cluster
            .clone()
            .filter(|_| self.hasher.is_some())
            .zip(latest);
        let items: Option<Vec<Item>> = match &settings {
            None => None,
            Some((settings, latest)) => {
                let from = *latest - chrono::Duration::days(i64::from(settings.window_days));
                let mut items: Vec<Item> = self
                    .kept
                    .par_iter_mut()
                    .with_min_len(256)
                    .map(|k| Item {
                        id: k.info.id.clone(),
                        received: k.info.received,
                        class: k.info.class.clone(),
                        place: k.info.place,
                        shingles: std::mem::take(&mut k.info.shingles),
                        signature: k.info.signature.clone(),
                        tonight: true,
                        petitioners: k.info.pkeys.clone(),
                    })
                    .collect();
                let window = match window {
                    Some((start, w)) if start <= from => w,
                    _ => self.store.window(from)?,
                };
                for w in window {
                    if w.received < from || self.tonight.contains_key(&w.case_id) {
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
                        petitioners: w.pkeys,
                    });
                }
                Some(items)
            }
        };

        // Side by side: the repeat rules again on each case whose
        // petitioners came again later in the input (or whose stored
        // case was triaged again later tonight), keeping the ones whose
        // hits changed; and the clusters (whose search is mostly one
        // thread's work).
        let memory = self.memory();
        let other = &self.scoring.other;
        let (again, clustered) = rayon::join(
            || -> Vec<Option<Vec<rules::Fired>>> {
                memory
                    .kept
                    .par_iter()
                    .with_min_len(64)
                    .map(|k| {
                        let known = k.known as usize;
                        if known >= n || !memory.later(&k.info, known) {
                            return None;
                        }
                        let fired = memory.fired(&k.info, n);
                        (fired != k.fired).then_some(fired)
                    })
                    .collect()
            },
            || {
                let (settings, _) = settings.as_ref()?;
                Some(cluster::clusters(
                    items.as_deref()?,
                    settings.jaccard,
                    other,
                    settings.place_min_size,
                    settings.window_days,
                ))
            },
        );

        let mut summaries = Vec::new();
        // Each summary's members among tonight's cases, as indexes into
        // `kept` (tonight's items come first, in the order of `kept`).
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut cluster_of: Vec<Option<(ClusterRef, f64)>> = vec![None; n];
        if let (Some((settings, latest)), Some(items), Some((found, work))) =
            (settings, items, clustered)
        {
            self.work = work;
            for c in &found {
                let size = c.members.len() as u32;
                let steps = match c.kind {
                    cluster::Kind::NearDuplicate => &settings.near_duplicate,
                    cluster::Kind::Place => &settings.place,
                };
                let points = rules::ClusterSettings::points(steps, size);
                let mut tonight_ids = Vec::new();
                let mut at = Vec::new();
                let mut classes: HashMap<&str, u32> = HashMap::new();
                let (mut lo, mut hi) = (latest, NaiveDate::MIN);
                for &m in &c.members {
                    let it = &items[m];
                    lo = lo.min(it.received);
                    hi = hi.max(it.received);
                    *classes.entry(it.class.as_str()).or_default() += 1;
                    if it.tonight {
                        tonight_ids.push(it.id.clone());
                        at.push(m);
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
                members.push(at);
                summaries.push(ClusterSummary {
                    id: c.id.clone(),
                    kind: c.kind.name().to_string(),
                    size,
                    tonight: tonight_ids,
                    class,
                    tier: Tier::None,
                    from: lo,
                    to: hi,
                });
            }
        }

        // Score again every case whose history or cluster changed.
        let cluster_signal = self.rules.cluster.as_ref().map(|c| c.signal);
        let set = engine.rules();
        let (repeat, scoring, rules) = (&self.rules, &self.scoring, &set.rules[..]);
        let changed: Vec<bool> = self
            .kept
            .par_iter_mut()
            .zip(again.into_par_iter())
            .zip(cluster_of.into_par_iter())
            .with_min_len(64)
            .map(|((k, again), cl)| {
                if again.is_none() && cl.is_none() {
                    return false;
                }
                if let Some(f) = again {
                    k.fired = f;
                }
                let Some(v) = k.verdict.as_mut() else {
                    return false;
                };
                v.evidence.truncate(k.evidence);
                v.cluster = None;
                let mut extra = k.extra.clone();
                apply_repeat(repeat, scoring, &mut extra, v, &k.fired);
                if let (Some((c, points)), Some(s)) = (cl, cluster_signal) {
                    apply_cluster(scoring, &mut extra, v, c, points, s);
                }
                crate::score::score_with(scoring, rules, &k.hits, &extra, v);
                crate::score::crisis_reason(scoring, v);
                true
            })
            .collect();

        // Tiers of the clusters, now that members are scored.
        for (c, at) in summaries.iter_mut().zip(&members) {
            c.tier = at
                .iter()
                .filter_map(|&m| Some(self.kept.get(m)?.verdict.as_ref()?.tier))
                .min_by_key(|t| Tier::ALL.iter().position(|x| x == t))
                .unwrap_or(Tier::None);
        }

        let cut = self.window_start(latest);
        let records: Vec<Record> = self
            .kept
            .par_iter()
            .with_min_len(256)
            .filter_map(|k| Some(HistoryContext::record_of(&k.info, k.verdict.as_ref()?, cut)))
            .collect();
        let verdicts = self.take(fresh.clone());
        let mut amended: Passed = Vec::new();
        for (i, _) in changed
            .iter()
            .enumerate()
            .filter(|(i, c)| **c && !fresh.contains(i))
        {
            for group in self.take(i..i + 1) {
                match amended.last_mut() {
                    Some((f, v)) if *f == group.0 => v.extend(group.1),
                    _ => amended.push(group),
                }
            }
        }
        let kept = std::mem::take(&mut self.kept);
        self.by_key = FxHashMap::default();
        self.tonight = FxHashMap::default();
        let pasts = std::mem::take(&mut self.pasts);
        if let (Some(_), Some(run)) = (latest, self.run.take()) {
            // The store is written by a connection on a thread of its own
            // while the sinks write the lists; `commit` waits for it.
            // It runs at a low priority: the sinks' work comes first, and
            // the store's fills the processors they leave idle. What the
            // run kept is freed beside it, at the usual priority, so that
            // the memory is back before the report needs its own.
            self.writing = Some(std::thread::spawn(move || {
                let free = std::thread::spawn(move || drop(kept));
                crate::util::priority::background();
                let what = run.commit(&records, cut, pasts);
                let _ = free.join();
                what
            }));
        }
        Ok(Finish {
            verdicts,
            amended,
            clusters: summaries,
        })
    }
}

/// Tonight's cases so far and the store's cases of their petitioners, as
/// the repeat rules read them (shared by the worker threads).
struct Memory<'a> {
    rules: &'a HistoryRules,
    kept: &'a [Kept],
    by_key: &'a FxHashMap<[u8; 32], Vec<u32>>,
    /// Tonight's case ids, each with its first index in `kept`.
    tonight: &'a FxHashMap<String, u32>,
    pasts: &'a FxHashMap<[u8; 32], Vec<store::Past>>,
}

impl Memory<'_> {
    /// The repeat rules that fire on `info` given the first `known` of
    /// tonight's cases and the store (a stored case that is among those
    /// of tonight is read as tonight's).
    fn fired(&self, info: &Info, known: usize) -> Vec<rules::Fired> {
        if info.pkeys.is_empty() {
            // No petitioner id: nothing is known either way.
            return Vec::new();
        }
        let now = rules::Event {
            id: &info.id,
            received: info.received,
            level: info.level,
            class: &info.class,
        };
        // A case counts once: tonight's first record of it (the list
        // refuses a repeated id), else its stored record. Only a case of
        // several petitioners can be met twice, so only then is a set of
        // the ids seen kept.
        let several = info.pkeys.len() > 1;
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let mut events = Vec::with_capacity(16);
        for k in &info.pkeys {
            for &j in self.by_key.get(k).into_iter().flatten() {
                if j as usize >= known {
                    break;
                }
                let o = &self.kept[j as usize].info;
                let first = self.tonight.get(o.id.as_str()) == Some(&j);
                if first && (!several || seen.insert(&o.id)) {
                    events.push(rules::Event {
                        id: &o.id,
                        received: o.received,
                        level: o.level,
                        class: &o.class,
                    });
                }
            }
            for p in self.pasts.get(k).into_iter().flatten() {
                let replaced = self
                    .tonight
                    .get(p.case_id.as_str())
                    .is_some_and(|&j| (j as usize) < known);
                if !replaced && (!several || seen.insert(&p.case_id)) {
                    events.push(rules::Event::of(p));
                }
            }
        }
        self.rules.evaluate(&now, &events)
    }

    /// Whether tonight's cases after the first `known` hold one of
    /// `info`'s petitioners, or a stored case of theirs.
    fn later(&self, info: &Info, known: usize) -> bool {
        info.pkeys.iter().any(|k| {
            self.by_key
                .get(k)
                .and_then(|v| v.last())
                .is_some_and(|&j| j as usize >= known)
                || self.pasts.get(k).into_iter().flatten().any(|p| {
                    self.tonight
                        .get(p.case_id.as_str())
                        .is_some_and(|&j| j as usize >= known)
                })
        })
    }
}

/// Add the evidence and points of the fired rules to a case's signal
/// points and verdict.
fn apply_repeat(
    repeat: &HistoryRules,
    scoring: &Scoring,
    extra: &mut Vec<SignalHit>,
    v: &mut Verdict,
    fired: &[rules::Fired],
) {
    for x in fired {
        let r = &repeat.rules[x.rule];
        let target = r
            .signal
            .map_or_else(|| r.name.clone(), |s| scoring.signals[s].name.clone());
        let note = describe_earlier(r, &x.earlier);
        if let Some(s) = r.signal.filter(|_| r.points > 0.0) {
            extra.push(SignalHit {
                signal: s,
                item: r.id.clone(),
                points: r.points,
                note: format!("{}：{}", r.name, note),
            });
        }
        v.evidence.push(Evidence {
            rule: r.id.clone(),
            target,
            points: if r.signal.is_some() { r.points } else { 0.0 },
            distinct_terms: x.earlier.len() as u32,
            matches: Vec::new(),
            note: Some(format!("{}（{}）：{}", r.name, r.description, note)),
        });
    }
}

/// Add a cluster's evidence and points (signal `s`) to a case's signal
/// points and verdict.
fn apply_cluster(
    scoring: &Scoring,
    extra: &mut Vec<SignalHit>,
    v: &mut Verdict,
    c: ClusterRef,
    points: f64,
    s: usize,
) {
    let what = match c.kind.as_str() {
        "near_duplicate" => "近似相同的信",
        _ => "同类别同地点的案件",
    };
    let note = format!("聚类 {}：{} 件{}（可能联名/串联）", c.id, c.size, what);
    if points > 0.0 {
        extra.push(SignalHit {
            signal: s,
            item: c.id.clone(),
            points,
            note: note.clone(),
        });
    }
    v.evidence.push(Evidence {
        rule: c.id.clone(),
        target: scoring.signals[s].name.clone(),
        points,
        distinct_terms: c.size,
        matches: Vec::new(),
        note: Some(note),
    });
    v.cluster = Some(c);
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
        self.take_case(case.clone(), findings);
    }

    fn take_case(&mut self, case: Case, findings: &mut Findings) {
        match self.mode {
            Mode::Import => {
                let findings = Findings {
                    verdict: Verdict::for_case(&case),
                    hits: findings.hits.clone(),
                    extra: Vec::new(),
                };
                self.waiting.push(Waiting { case, findings });
            }
            Mode::Run => {
                // The findings wait for the store's cases of the
                // petitioners; the chunk scores an empty stand-in, which
                // `scored` drops.
                let stand_in = Findings {
                    verdict: Verdict::for_case(&Case {
                        id: String::new(),
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
                self.waiting.push(Waiting { case, findings });
            }
        }
    }

    fn scored(
        &mut self,
        engine: &Engine,
        file: usize,
        chunk: Vec<Scored>,
    ) -> std::io::Result<Passed> {
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
                // The chunk's stand-ins give the lines; the cases are
                // registered now and scored one chunk later.
                let first = self.kept.len();
                let mut keys = Vec::new();
                let mut findings = Vec::with_capacity(infos.len());
                let mut latest = None;
                for ((info, f), s) in infos.into_iter().zip(&chunk) {
                    let at = u32::try_from(self.kept.len())
                        .map_err(|_| std::io::Error::other("一次运行的案件过多"))?;
                    for k in &info.pkeys {
                        self.by_key.entry(*k).or_default().push(at);
                        keys.push(*k);
                    }
                    self.tonight.entry(info.id.clone()).or_insert(at);
                    latest = latest.max(Some(info.received));
                    self.kept.push(Kept {
                        file,
                        line: s.line,
                        info,
                        hits: Vec::new(),
                        extra: Vec::new(),
                        evidence: 0,
                        fired: Vec::new(),
                        known: 0,
                        verdict: None,
                    });
                    findings.push(f);
                }
                let Some(latest) = latest else {
                    return Ok(Vec::new());
                };
                if self.prefetch.is_none() {
                    // The run's write is made ready before anything is
                    // read, so that it can tell whether what is read is
                    // still what the store holds when it commits.
                    self.run = Some(self.store.reopen()?.begin_run()?);
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
                if let Some(p) = &self.prefetch {
                    p.send(keys, latest);
                }
                let previous = self.unscored.replace(Unscored { first, findings });
                match previous {
                    Some(chunk) => {
                        let range = self.score_chunk(engine, chunk)?;
                        self.out.push_back(range.clone());
                        Ok(self.take(range))
                    }
                    None => Ok(Vec::new()),
                }
            }
            Mode::Import => {
                let records: Vec<Record> = infos
                    .iter()
                    .map(|(info, _)| info)
                    .zip(chunk.iter())
                    .map(|(info, s)| HistoryContext::record_of(info, &s.verdict, None))
                    .collect();
                let what = self.store.upsert(&records)?;
                self.count(&what);
                Ok(vec![(file, chunk)])
            }
        }
    }

    fn passed(&mut self, verdicts: Passed) {
        if self.mode != Mode::Run {
            return;
        }
        let Some(range) = self.out.pop_front() else {
            return;
        };
        let back = verdicts.into_iter().flat_map(|(_, v)| v);
        for (k, s) in self.kept[range].iter_mut().zip(back) {
            // What scoring fills in is made again by an amendment, so it
            // need not be kept (the tier and risk stay, for the store).
            let mut v = s.verdict;
            v.ledger = Vec::new();
            v.signals = Vec::new();
            v.class_scores = Vec::new();
            v.secondary_classes = Vec::new();
            v.sources = Vec::new();
            v.route = String::new();
            v.crisis_reason = None;
            k.verdict = Some(v);
        }
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

/// A case's verdict with what the store knows of its petitioners, as a
/// run scores it: `findings` (with the calendar's points) and the repeat
/// rules that fire on the stored cases. Clusters need the whole night
/// and are not in it. Also the stored cases and the fired rules.
pub fn explain_scored(
    store: &Store,
    key: &StateKey,
    rules: &HistoryRules,
    engine: &Engine,
    findings: Findings,
    case: &Case,
) -> std::io::Result<(Verdict, Vec<store::Past>, Vec<rules::Fired>)> {
    let set = engine.rules();
    let targets: Vec<Target> = set.rules.iter().map(|r| r.target).collect();
    let class = primary_class(&set.scoring, &targets, &findings.hits);
    let (past, fired) = explain_history(store, key, rules, case, &class)?;
    let Findings {
        mut verdict,
        hits,
        mut extra,
    } = findings;
    apply_repeat(rules, &set.scoring, &mut extra, &mut verdict, &fired);
    crate::score::score_with(&set.scoring, &set.rules, &hits, &extra, &mut verdict);
    crate::score::crisis_reason(&set.scoring, &mut verdict);
    Ok((verdict, past, fired))
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
