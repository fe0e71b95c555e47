//! The history store and the clusters for a stream: incremental memory
//! that gives each case, as it arrives, what a run gives it at the end,
//! and says which earlier cases changed.
//!
//! A run ([`super::HistoryContext`]) holds every case until the end,
//! because a cluster's size is known only then. A stream cannot wait:
//! [`Live`] scores each case at once with what is known so far and, when
//! a later case changes what an earlier one gets (a cluster grows past a
//! step of points, a place cluster forms, a late letter of the same
//! petitioner becomes part of its history), scores that earlier case
//! again and reports it as an update. When the stream has seen every case
//! of a run's input, each case's last verdict is the run's.
//!
//! Writes go to a thread of their own with its own connection to the
//! store ([`Live::commit`] hands it a batch and returns), so a case never
//! waits behind a commit; reads (petitioner histories) see what has been
//! committed, and the cases of a batch in flight stay in memory until a
//! later commit.
//!
//! Memory: the cases received within the last `memory_days` days (by
//! received date, counted back from the latest date seen) are kept with
//! their findings, shingles and signatures; older ones leave memory at
//! the next commit, so memory is bounded by the window, not by the length
//! of the stream. The petitioner histories are read from the store,
//! which the stream commits as it goes ([`Live::commit`]).
//!
//! Clusters follow the run's rules (`cluster/`): the same LSH bands, the
//! same comparisons in arrival order, exact Jaccard between cases in
//! memory and the signature estimate against cases loaded from the store;
//! place clusters are the same greedy partition by class, place and
//! window. A stream's cluster id is `ND-` or `PL-` and the case id of the
//! cluster's first case, which stays the same as the cluster grows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;

use super::rules::{ClusterSettings, Fired};
use super::store::{Position, Record, Store};
use super::{HistoryRules, Infer, Info, Mode, Recorded, StateKey, apply_repeat};
use crate::cluster::{self, Hasher, PERMUTATIONS};
use crate::input::Case;
use crate::matcher::{Engine, Findings};
use crate::rules::Target;
use crate::verdict::{ClusterRef, Tier, Verdict};

/// A rule set as the stream's memory uses it: the compiled engine (its
/// scoring and rules) and the repeat and cluster rules of the same
/// folder. Every case remembers the set it was triaged with, so a case
/// scored again after a reload is scored with the whole of its own set.
pub struct RuleGen {
    /// The compiled rules.
    pub engine: Arc<Engine>,
    /// The repeat rules and cluster settings.
    pub history: HistoryRules,
    targets: Vec<Target>,
}

impl RuleGen {
    /// The generation of `engine` with its `history` rules.
    pub fn new(engine: Arc<Engine>, history: HistoryRules) -> RuleGen {
        let targets = engine.rules().rules.iter().map(|r| r.target).collect();
        RuleGen {
            engine,
            history,
            targets,
        }
    }
}

/// A line the stream writes: a case triaged now, or an earlier case whose
/// verdict changed.
#[derive(Debug)]
pub struct Out {
    /// An earlier case scored again (otherwise the case just read).
    pub update: bool,
    /// The verdict.
    pub verdict: Verdict,
}

/// A cluster as a case carries it, with its points.
#[derive(Debug, Clone, PartialEq)]
struct Assigned {
    cluster: ClusterRef,
    points: f64,
}

/// What a case in memory was last scored and shown with.
struct Triaged {
    generation: Arc<RuleGen>,
    /// Findings of the text and the calendar, before history and clusters.
    base: Findings,
    fired: Vec<Fired>,
    assigned: Option<Assigned>,
    /// Risk, tier, class and cluster id of the last line written.
    shown: (u32, Tier, String, Option<String>),
}

struct Slot {
    info: Info,
    /// `None` for a case loaded from the store's window (no findings).
    triaged: Option<Box<Triaged>>,
    dead: bool,
}

/// The cases of one LSH bucket, in arrival order. Most buckets hold one
/// case, which then needs no allocation of its own.
#[derive(Debug, Clone)]
enum Bucket {
    One(u32),
    Many(Vec<u32>),
}

impl Bucket {
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let s: &[u32] = match self {
            Bucket::One(x) => std::slice::from_ref(x),
            Bucket::Many(v) => v,
        };
        s.iter().map(|&x| x as usize)
    }

    fn push(&mut self, x: usize) {
        let x = x as u32;
        match self {
            Bucket::One(a) => *self = Bucket::Many(vec![*a, x]),
            Bucket::Many(v) => v.push(x),
        }
    }

    /// The bucket with the cases renumbered by `map` (dropped when `None`).
    fn remapped(&self, map: &[Option<usize>]) -> Option<Bucket> {
        let v: Vec<u32> = self
            .iter()
            .filter_map(|x| map[x])
            .map(|x| x as u32)
            .collect();
        match v.len() {
            0 => None,
            1 => Some(Bucket::One(v[0])),
            _ => Some(Bucket::Many(v)),
        }
    }
}

/// One commit for the writer thread.
struct Batch {
    records: Vec<Record>,
    position: Option<Position>,
    prune: Option<NaiveDate>,
}

type Done = std::io::Result<Vec<super::store::Upsert>>;

/// The thread that commits, with its own connection to the store.
struct Writer {
    tx: Option<std::sync::mpsc::SyncSender<Batch>>,
    done: std::sync::mpsc::Receiver<Done>,
    thread: Option<std::thread::JoinHandle<()>>,
    in_flight: usize,
}

impl Writer {
    fn start(mut store: Store) -> Writer {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (dtx, done) = std::sync::mpsc::channel::<Done>();
        let thread = std::thread::spawn(move || {
            for b in rx {
                let r = (|| {
                    if let Some(cut) = b.prune {
                        store.prune_sketches(cut)?;
                    }
                    store.upsert_at(&b.records, b.position.as_ref())
                })();
                if dtx.send(r).is_err() {
                    return;
                }
            }
        });
        Writer {
            tx: Some(tx),
            done,
            thread: Some(thread),
            in_flight: 0,
        }
    }
}

impl Drop for Writer {
    /// Let the thread commit what it was given, then end it.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The stream's memory over the store.
pub struct Live {
    store: Store,
    writer: Writer,
    /// Ids of each batch handed to the writer and not yet committed,
    /// oldest first: those cases stay in memory until it is.
    in_flight: std::collections::VecDeque<HashSet<String>>,
    key: StateKey,
    hasher: Option<Hasher>,
    memory_days: u32,
    /// Days of sketches the store keeps (the cluster window, as a run keeps).
    sketch_days: u32,
    slots: Vec<Slot>,
    parent: Vec<usize>,
    members: HashMap<usize, Vec<usize>>,
    buckets: HashMap<u64, Bucket>,
    by_id: HashMap<String, usize>,
    by_pkey: HashMap<[u8; 32], Vec<usize>>,
    places: HashMap<(String, [u8; 32]), Vec<usize>>,
    by_date: BTreeMap<NaiveDate, Vec<usize>>,
    latest: Option<NaiveDate>,
    pruned: Option<NaiveDate>,
    dead: usize,
    pending: Vec<Record>,
    recorded: Recorded,
}

impl Live {
    /// Memory over `store`, clustering when `clusters` and the rule set
    /// has cluster settings, keeping `memory_days` days of cases (by
    /// default the cluster window). The store's cases of that window are
    /// loaded as cluster members.
    pub fn new(
        store: Store,
        key: StateKey,
        generation: &RuleGen,
        clusters: bool,
        memory_days: Option<u32>,
    ) -> std::io::Result<Live> {
        let settings = generation.history.cluster.as_ref();
        let hasher = settings
            .filter(|_| clusters)
            .map(|c| Hasher::new(key.sketch_seed(), c.shingle));
        let memory_days = memory_days
            .or_else(|| settings.map(|c| c.window_days))
            .unwrap_or(30);
        // Memory stays with the window: the file is read, not mapped.
        store.limit_mmap(0)?;
        let out = store.reopen()?;
        out.limit_mmap(0)?;
        let writer = Writer::start(out);
        let mut live = Live {
            store,
            writer,
            in_flight: std::collections::VecDeque::new(),
            key,
            hasher,
            memory_days,
            sketch_days: settings.map_or(memory_days, |c| c.window_days),
            slots: Vec::new(),
            parent: Vec::new(),
            members: HashMap::new(),
            buckets: HashMap::new(),
            by_id: HashMap::new(),
            by_pkey: HashMap::new(),
            places: HashMap::new(),
            by_date: BTreeMap::new(),
            latest: None,
            pruned: None,
            dead: 0,
            pending: Vec::new(),
            recorded: Recorded::default(),
        };
        if live.hasher.is_some()
            && let Some(settings) = settings
            && let Some((_, last)) = live.store.stats()?.range
        {
            let from = last - chrono::Duration::days(i64::from(live.memory_days));
            for w in live.store.window(from)? {
                let info = Info {
                    id: w.case_id,
                    received: w.received,
                    // Not a petitioner's case in memory (no repeat rules
                    // read it); the keys tell clusters who wrote it.
                    pkeys: w.pkeys,
                    level: None,
                    class: w.class,
                    place: w.place,
                    content: [0; 32],
                    shingles: Vec::new(),
                    signature: w.sketch.unwrap_or_default(),
                };
                let s = live.add(info, None);
                live.near_duplicates(s, settings.jaccard);
            }
            live.latest = Some(last);
        }
        Ok(live)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What was recorded so far.
    pub fn recorded(&self) -> Recorded {
        self.recorded
    }

    /// Cases in memory (for the status line and the memory test).
    pub fn in_memory(&self) -> usize {
        self.slots.len() - self.dead
    }

    /// Records written at the next commit.
    pub fn uncommitted(&self) -> usize {
        self.pending.len()
    }

    /// The read position recorded for a followed file.
    pub fn position(&self, source: &str) -> std::io::Result<Option<Position>> {
        self.store.position(source)
    }

    /// The keyed hash the store uses, for fingerprints of followed files.
    pub fn key(&self) -> &StateKey {
        &self.key
    }

    /// Triage the next case: `base` holds its findings from the text and
    /// the calendar. Returns the case's verdict and the updates of earlier
    /// cases, in that order.
    pub fn case(
        &mut self,
        generation: &Arc<RuleGen>,
        case: &Case,
        base: Findings,
    ) -> std::io::Result<Vec<Out>> {
        let info = Infer {
            key: &self.key,
            scoring: &generation.engine.rules().scoring,
            targets: &generation.targets,
            hasher: self.hasher.as_ref(),
            mode: Mode::Run,
        }
        .info(case, &base.hits);
        // The same case again (a restart re-reads what it had not
        // committed, or a correction): its new record replaces the old.
        let mut touched: Vec<usize> = Vec::new();
        if let Some(&old) = self.by_id.get(&info.id) {
            touched.extend(self.cluster_peers(old));
            self.kill(old);
        }
        let fired = self.repeat_hits(generation, &info)?;
        let later = self.later_of_petitioner(&info);
        let s = self.add(
            info,
            Some(Box::new(Triaged {
                generation: Arc::clone(generation),
                base,
                fired,
                assigned: None,
                shown: (0, Tier::None, String::new(), None),
            })),
        );
        if let Some(settings) = generation.history.cluster.clone()
            && self.hasher.is_some()
        {
            self.near_duplicates(s, settings.jaccard);
            touched.extend(self.cluster_peers(s));
        }
        touched.retain(|&t| t != s && !self.slots[t].dead);
        touched.sort_unstable();
        touched.dedup();

        let mut out = Vec::new();
        let mut groups = Groups::default();
        let assigned = self.assignment(generation, s, &mut groups);
        if let Some(verdict) = self.rescore(s, None, assigned) {
            out.push(Out {
                update: false,
                verdict,
            });
        }
        // The signature is in the buckets and in the record just queued
        // (the store's sketch); later comparisons with this case use its
        // shingles, and its later records leave the sketch as it is.
        let info = &mut self.slots[s].info;
        info.signature = Vec::new();
        info.shingles.shrink_to_fit();
        for t in later {
            let Some(tr) = self.slots[t].triaged.as_ref() else {
                continue;
            };
            let g = Arc::clone(&tr.generation);
            let fired = self.repeat_hits(&g, &self.slots[t].info)?;
            if self.slots[t]
                .triaged
                .as_ref()
                .is_some_and(|x| x.fired != fired)
            {
                let assigned = self.assignment(generation, t, &mut groups);
                if let Some(v) = self.rescore_if_changed(t, Some(fired), assigned) {
                    out.push(Out {
                        update: true,
                        verdict: v,
                    });
                }
            }
        }
        for t in touched {
            if self.slots[t].triaged.is_none() {
                continue;
            }
            let assigned = self.assignment(generation, t, &mut groups);
            let same = self.slots[t]
                .triaged
                .as_ref()
                .is_some_and(|x| same_assignment(&x.assigned, &assigned));
            if !same && let Some(v) = self.rescore_if_changed(t, None, assigned) {
                out.push(Out {
                    update: true,
                    verdict: v,
                });
            }
        }
        Ok(out)
    }

    /// Commit the records of the cases triaged (and changed) since the
    /// last commit, with the read position of a followed file, in one
    /// transaction (on the writer thread); then let the cases outside the
    /// window leave memory. An error of an earlier commit is returned here.
    pub fn commit(&mut self, position: Option<&Position>) -> std::io::Result<()> {
        self.collect(false)?;
        if self.pending.is_empty() && position.is_none() {
            return Ok(());
        }
        // The last record of each case, with the sketch of its first
        // (later records of a case carry none).
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut records: Vec<Record> = Vec::with_capacity(self.pending.len());
        for mut r in std::mem::take(&mut self.pending) {
            match at.get(&r.case_id) {
                Some(&i) => {
                    if r.sketch.is_none() {
                        r.sketch = records[i].sketch.take();
                    }
                    records[i] = r;
                }
                None => {
                    at.insert(r.case_id.clone(), records.len());
                    records.push(r);
                }
            }
        }
        let prune = self.prune_cut();
        let sent_ids: HashSet<String> = records.iter().map(|r| r.case_id.clone()).collect();
        let batch = Batch {
            records,
            position: position.cloned(),
            prune,
        };
        let Some(tx) = &self.writer.tx else {
            return Err(std::io::Error::other("历史库写入线程已停止"));
        };
        if tx.send(batch).is_err() {
            return self
                .collect(true)
                .and(Err(std::io::Error::other("历史库写入线程已停止")));
        }
        self.writer.in_flight += 1;
        self.in_flight.push_back(sent_ids);
        self.expire()
    }

    /// Wait until every batch is committed.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.collect(true)
    }

    /// Read the writer's answers (all of them, waiting, when `wait`).
    fn collect(&mut self, wait: bool) -> std::io::Result<()> {
        let mut first_err = None;
        while self.writer.in_flight > 0 {
            let r = if wait {
                match self.writer.done.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                }
            } else {
                match self.writer.done.try_recv() {
                    Ok(r) => r,
                    Err(_) => break,
                }
            };
            self.writer.in_flight -= 1;
            self.in_flight.pop_front();
            match r {
                Ok(what) => {
                    for w in what {
                        match w {
                            super::store::Upsert::Added => self.recorded.added += 1,
                            super::store::Upsert::Updated => self.recorded.updated += 1,
                            super::store::Upsert::Unchanged => self.recorded.unchanged += 1,
                        }
                    }
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The date before which sketches leave the store (the cluster
    /// window, as a run prunes them), once per new date.
    fn prune_cut(&mut self) -> Option<NaiveDate> {
        self.hasher.as_ref()?;
        let cut = self.latest? - chrono::Duration::days(i64::from(self.sketch_days));
        if self.pruned == Some(cut) {
            return None;
        }
        self.pruned = Some(cut);
        Some(cut)
    }

    /// Drop the cases received before the window from memory.
    fn expire(&mut self) -> std::io::Result<()> {
        let Some(latest) = self.latest else {
            return Ok(());
        };
        let cut = latest - chrono::Duration::days(i64::from(self.memory_days));
        let old: Vec<usize> = {
            let keep = self.by_date.split_off(&cut);
            let old = std::mem::replace(&mut self.by_date, keep);
            old.into_values().flatten().collect()
        };
        for s in old {
            if self.slots[s].dead {
                continue;
            }
            let id = &self.slots[s].info.id;
            if self.in_flight.iter().any(|b| b.contains(id)) {
                // Not committed yet: it stays until the next commit.
                let d = self.slots[s].info.received;
                self.by_date.entry(d).or_default().push(s);
                continue;
            }
            self.kill(s);
        }
        if self.dead > 4096 && self.dead > self.slots.len() / 3 {
            self.compact();
        }
        Ok(())
    }

    fn add(&mut self, info: Info, triaged: Option<Box<Triaged>>) -> usize {
        let s = self.slots.len();
        self.by_id.insert(info.id.clone(), s);
        if triaged.is_some() {
            for k in &info.pkeys {
                self.by_pkey.entry(*k).or_default().push(s);
            }
        }
        self.by_date.entry(info.received).or_default().push(s);
        if let Some(p) = info.place {
            self.places
                .entry((info.class.clone(), p))
                .or_default()
                .push(s);
        }
        // A date after tomorrow (a typing error) does not move the
        // window, or one such case would empty memory and the sketches.
        let tomorrow = chrono::Local::now().date_naive() + chrono::Duration::days(1);
        self.latest = self.latest.max(Some(info.received.min(tomorrow)));
        self.parent.push(s);
        self.members.insert(s, vec![s]);
        self.slots.push(Slot {
            info,
            triaged,
            dead: false,
        });
        s
    }

    /// Take a case out of memory (replaced or expired).
    fn kill(&mut self, s: usize) {
        let slot = &mut self.slots[s];
        slot.dead = true;
        self.dead += 1;
        let info = &slot.info;
        if self.by_id.get(&info.id) == Some(&s) {
            self.by_id.remove(&info.id);
        }
        for k in &info.pkeys {
            if let Some(v) = self.by_pkey.get_mut(k) {
                v.retain(|&x| x != s);
                if v.is_empty() {
                    self.by_pkey.remove(k);
                }
            }
        }
        if let Some(p) = info.place {
            let key = (info.class.clone(), p);
            if let Some(v) = self.places.get_mut(&key) {
                v.retain(|&x| x != s);
                if v.is_empty() {
                    self.places.remove(&key);
                }
            }
        }
        if let Some(v) = self.by_date.get_mut(&info.received) {
            v.retain(|&x| x != s);
        }
        let r = self.find(s);
        if let Some(m) = self.members.get_mut(&r) {
            m.retain(|&x| x != s);
        }
        // Shingles and findings are no longer needed.
        let slot = &mut self.slots[s];
        slot.triaged = None;
        slot.info.shingles = Vec::new();
        slot.info.signature = Vec::new();
        slot.info.pkeys = Vec::new();
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            self.parent[hi] = lo;
            let moved = self.members.remove(&hi).unwrap_or_default();
            self.members.entry(lo).or_default().extend(moved);
        }
    }

    /// The LSH step of [`cluster::near_duplicates`] for one new case:
    /// compare it with at most a few earlier members of each of its
    /// buckets that are not yet in its cluster.
    fn near_duplicates(&mut self, i: usize, threshold: f64) {
        if self.slots[i].info.signature.len() != PERMUTATIONS {
            return;
        }
        for key in cluster::bands(&self.slots[i].info.signature) {
            let bucket = self.buckets.remove(&key);
            let mut tries = 0;
            for j in bucket.iter().flat_map(Bucket::iter) {
                if tries >= MAX_TRIES {
                    break;
                }
                if self.slots[j].dead || self.find(i) == self.find(j) {
                    continue;
                }
                tries += 1;
                let (a, b) = (&self.slots[i], &self.slots[j]);
                let sim = if a.triaged.is_some() && b.triaged.is_some() {
                    cluster::jaccard(&a.info.shingles, &b.info.shingles)
                } else {
                    cluster::estimate(&a.info.signature, &b.info.signature)
                };
                if sim >= threshold {
                    self.join(i, j);
                }
            }
            let bucket = match bucket {
                Some(mut b) => {
                    b.push(i);
                    b
                }
                None => Bucket::One(i as u32),
            };
            self.buckets.insert(key, bucket);
        }
    }

    /// Every case that shares a cluster or a place group with `s`.
    fn cluster_peers(&mut self, s: usize) -> Vec<usize> {
        let r = self.find(s);
        let mut out: Vec<usize> = self.members.get(&r).cloned().unwrap_or_default();
        let info = &self.slots[s].info;
        if let Some(p) = info.place
            && let Some(g) = self.places.get(&(info.class.clone(), p))
        {
            out.extend(g.iter().copied());
        }
        out
    }

    /// The cluster case `s` belongs to now: its near-duplicate cluster
    /// when it has one, else its place cluster; the points from the
    /// settings of the case's own rule set. `groups` keeps the sizes and
    /// partitions worked out for the other cases of the same step.
    fn assignment(&mut self, current: &RuleGen, s: usize, groups: &mut Groups) -> Option<Assigned> {
        let settings = current.history.cluster.as_ref()?;
        self.hasher.as_ref()?;
        let own = self.slots[s]
            .triaged
            .as_ref()
            .map(|t| Arc::clone(&t.generation))?;
        let r = self.find(s);
        let (size, first, several) = match groups.near.get(&r) {
            Some(&x) => x,
            None => {
                let m = self.members.get(&r).map(Vec::as_slice).unwrap_or(&[]);
                let people = m.iter().map(|&x| self.slots[x].info.pkeys.as_slice());
                let x = (
                    m.len() as u32,
                    m.iter().copied().min().unwrap_or(s),
                    cluster::several_people(people),
                );
                groups.near.insert(r, x);
                x
            }
        };
        if size >= 2 && several {
            return Some(Assigned {
                cluster: ClusterRef {
                    id: format!("ND-{}", self.slots[first].info.id),
                    size,
                    kind: cluster::Kind::NearDuplicate.name().to_string(),
                },
                points: points_of(&own, settings, cluster::Kind::NearDuplicate, size),
            });
        }
        let info = &self.slots[s].info;
        let other = &current.engine.rules().scoring.other;
        let place = info.place?;
        if &info.class == other {
            return None;
        }
        let key = (info.class.clone(), place);
        if !groups.partitioned.contains(&key) {
            self.partition(&key, settings.window_days, groups);
            groups.partitioned.insert(key);
        }
        let &(size, first) = groups.place.get(&s)?;
        if size < settings.place_min_size || !groups.several.contains(&first) {
            return None;
        }
        Some(Assigned {
            cluster: ClusterRef {
                id: format!("PL-{}", self.slots[first].info.id),
                size,
                kind: cluster::Kind::Place.name().to_string(),
            },
            points: points_of(&own, settings, cluster::Kind::Place, size),
        })
    }

    /// The greedy partition of one place group, as `cluster::places`
    /// makes it: in order of (received, id), a case more than
    /// `window_days` after its part's first case starts a new part.
    fn partition(&self, key: &(String, [u8; 32]), window_days: u32, groups: &mut Groups) {
        let Some(group) = self.places.get(key) else {
            return;
        };
        let mut g: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&x| !self.slots[x].dead)
            .collect();
        g.sort_by(|&a, &b| {
            let (a, b) = (&self.slots[a].info, &self.slots[b].info);
            (a.received, &a.id).cmp(&(b.received, &b.id))
        });
        let mut parts: Vec<Vec<usize>> = Vec::new();
        for x in g {
            match parts.last_mut() {
                Some(part)
                    if (self.slots[x].info.received - self.slots[part[0]].info.received)
                        .num_days()
                        <= i64::from(window_days) =>
                {
                    part.push(x)
                }
                _ => parts.push(vec![x]),
            }
        }
        for part in parts {
            if cluster::several_people(part.iter().map(|&x| self.slots[x].info.pkeys.as_slice())) {
                groups.several.insert(part[0]);
            }
            for &x in &part {
                groups.place.insert(x, (part.len() as u32, part[0]));
            }
        }
    }

    /// Score case `s` again (with new repeat hits when given) and return
    /// its verdict when what a reader sees of it changed.
    fn rescore_if_changed(
        &mut self,
        s: usize,
        fired: Option<Vec<Fired>>,
        assigned: Option<Assigned>,
    ) -> Option<Verdict> {
        let before = self.slots[s].triaged.as_ref()?.shown.clone();
        let v = self.rescore(s, fired, assigned)?;
        let after = self.slots[s].triaged.as_ref()?.shown.clone();
        (before != after).then_some(v)
    }

    /// Score case `s` with its findings, repeat hits and cluster, and
    /// queue its record for the next commit.
    fn rescore(
        &mut self,
        s: usize,
        fired: Option<Vec<Fired>>,
        assigned: Option<Assigned>,
    ) -> Option<Verdict> {
        let slot = &mut self.slots[s];
        let t = slot.triaged.as_mut()?;
        if let Some(f) = fired {
            t.fired = f;
        }
        t.assigned = assigned;
        let g = Arc::clone(&t.generation);
        let rules = g.engine.rules();
        let mut f = t.base.clone();
        apply_repeat(
            &g.history,
            &rules.scoring,
            &mut f.extra,
            &mut f.verdict,
            &t.fired,
        );
        if let (Some(a), Some(c)) = (&t.assigned, g.history.cluster.as_ref()) {
            apply_cluster(&mut f, a, c, &rules.scoring);
        }
        let v = crate::score::scored(&rules.scoring, &rules.rules, f);
        t.shown = (
            v.risk,
            v.tier,
            v.primary_class.clone(),
            v.cluster.as_ref().map(|c| c.id.clone()),
        );
        self.pending
            .push(super::HistoryContext::record_of(&slot.info, &v, None));
        Some(v)
    }

    /// The repeat rules that fire on `info`: its petitioners' cases in
    /// memory and in the store (memory first, each case once).
    fn repeat_hits(&self, generation: &RuleGen, info: &Info) -> std::io::Result<Vec<Fired>> {
        if info.pkeys.is_empty() {
            return Ok(Vec::new());
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut events: Vec<(String, NaiveDate, Option<crate::input::case::Level>, String)> =
            Vec::new();
        for k in &info.pkeys {
            for &j in self.by_pkey.get(k).into_iter().flatten() {
                let o = &self.slots[j].info;
                if !self.slots[j].dead && seen.insert(o.id.clone()) {
                    events.push((o.id.clone(), o.received, o.level, o.class.clone()));
                }
            }
        }
        for k in &info.pkeys {
            for p in self.store.petitioner_cases(k)? {
                if seen.insert(p.case_id.clone()) {
                    events.push((p.case_id, p.received, p.level, p.class));
                }
            }
        }
        let now = super::rules::Event {
            id: &info.id,
            received: info.received,
            level: info.level,
            class: &info.class,
        };
        let events: Vec<super::rules::Event<'_>> = events
            .iter()
            .map(|(id, received, level, class)| super::rules::Event {
                id,
                received: *received,
                level: *level,
                class,
            })
            .collect();
        Ok(generation.history.evaluate(&now, &events))
    }

    /// The cases in memory of the same petitioner that come after `info`
    /// (a later date, or the same date and a larger id): a late letter is
    /// part of their history.
    fn later_of_petitioner(&self, info: &Info) -> Vec<usize> {
        let mut out: Vec<usize> = info
            .pkeys
            .iter()
            .flat_map(|k| self.by_pkey.get(k).into_iter().flatten().copied())
            .filter(|&j| {
                let o = &self.slots[j].info;
                !self.slots[j].dead
                    && o.id != info.id
                    && (o.received, &o.id) > (info.received, &info.id)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Renumber the cases in memory without the dead ones, keeping every
    /// cluster as it is.
    fn compact(&mut self) {
        let mut map: Vec<Option<usize>> = vec![None; self.slots.len()];
        let mut n = 0;
        for (i, s) in self.slots.iter().enumerate() {
            if !s.dead {
                map[i] = Some(n);
                n += 1;
            }
        }
        let roots: Vec<usize> = (0..self.slots.len()).map(|i| self.find(i)).collect();
        let mut new_root: HashMap<usize, usize> = HashMap::new();
        for (i, &r) in roots.iter().enumerate() {
            if let Some(ni) = map[i] {
                new_root.entry(r).or_insert(ni);
            }
        }
        let old = std::mem::take(&mut self.slots);
        let mut parent = Vec::with_capacity(n);
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, s) in old.into_iter().enumerate() {
            if let Some(ni) = map[i] {
                let r = new_root.get(&roots[i]).copied().unwrap_or(ni);
                parent.push(r);
                members.entry(r).or_default().push(ni);
                self.slots.push(s);
            }
        }
        self.parent = parent;
        self.members = members;
        let remap = |v: &mut Vec<usize>| {
            *v = v.iter().filter_map(|&x| map[x]).collect();
        };
        self.buckets = std::mem::take(&mut self.buckets)
            .into_iter()
            .filter_map(|(k, b)| b.remapped(&map).map(|b| (k, b)))
            .collect();
        self.by_pkey.values_mut().for_each(remap);
        self.places.values_mut().for_each(remap);
        self.by_date.values_mut().for_each(remap);
        self.by_date.retain(|_, v| !v.is_empty());
        for v in self.by_id.values_mut() {
            if let Some(x) = map[*v] {
                *v = x;
            }
        }
        self.by_id.retain(|_, v| *v < n);
        self.dead = 0;
    }
}

/// Cluster sizes and place partitions worked out during one new case.
#[derive(Default)]
struct Groups {
    /// Root → (size, first member, from several people) of a
    /// near-duplicate cluster.
    near: HashMap<usize, (u32, usize, bool)>,
    /// Case → (size, first case) of its place part.
    place: HashMap<usize, (u32, usize)>,
    /// The first cases of the place parts from several people.
    several: HashSet<usize>,
    /// Place groups already partitioned.
    partitioned: HashSet<(String, [u8; 32])>,
}

/// Comparisons a new bucket member makes at most, as in `cluster/`.
const MAX_TRIES: usize = 8;

fn points_of(own: &RuleGen, current: &ClusterSettings, kind: cluster::Kind, size: u32) -> f64 {
    let c = own.history.cluster.as_ref().unwrap_or(current);
    let steps = match kind {
        cluster::Kind::NearDuplicate => &c.near_duplicate,
        cluster::Kind::Place => &c.place,
    };
    ClusterSettings::points(steps, size)
}

/// Whether a case's cluster changed in a way that changes its score: its
/// id or its points (a larger cluster within the same step scores the
/// same, so the members are not scored again).
fn same_assignment(a: &Option<Assigned>, b: &Option<Assigned>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.cluster.id == b.cluster.id && a.points == b.points,
        _ => false,
    }
}

/// The cluster evidence and points, as a run adds them.
fn apply_cluster(
    f: &mut Findings,
    a: &Assigned,
    settings: &ClusterSettings,
    scoring: &crate::rules::Scoring,
) {
    super::apply_cluster(
        scoring,
        &mut f.extra,
        &mut f.verdict,
        a.cluster.clone(),
        a.points,
        settings.signal,
    );
}
