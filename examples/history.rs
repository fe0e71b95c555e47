//! What the history store and clusters cost a run: `triage run` on
//! CASES generated cases without a store, against the same run with a
//! store that already holds STORE records (ten records each for 100,000
//! petitioners at 1,000,000 records) and clusters on. Each configuration
//! runs once per round, alternating, and the fastest round of each
//! counts. The filled store is kept in `target/history-bench/` and copied
//! before each round (outside the timing), since a run adds its cases.
//!
//! Both the wall-clock time and the CPU time (user and system, all
//! threads) of each run are reported, the fastest round of each.
//! The time with a store includes closing it (its last checkpoint).
//!
//! `cargo run --release --example history [CASES] [STORE] [ROUNDS]`
//! times the pipeline in this process (`run_into` with the list, summary,
//! notes and rejects, no report). Settings:
//! - `HISTORY_BENCH_PROCESS=1`: time the whole `triage run` instead, as
//!   a child process, report and all (`target/release/triage`, built
//!   first with `cargo build --release`; `TRIAGE_BIN` names another);
//! - `HISTORY_BENCH_KNOWN=SHARE`: the share of tonight's petitioners that
//!   the store knows (default 1: every case a repeat petitioner's, the
//!   worst case; 0.3: three in ten). The store holds STORE records either
//!   way; the others belong to people who write no letter tonight;
//! - `HISTORY_BENCH_NO_CLUSTERS=1`: the store without clusters.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use petition_triage::history::{HistoryContext, HistoryRules, Mode, Record, StateKey, Store};
use petition_triage::run::PassThrough;
use petition_triage::run::batch::{self, BatchOptions};
use petition_triage::sink::Sink;
use petition_triage::util::Rng;
use petition_triage::{Engine, RuleSet, RuleSource, Tier};

const KEY: &[u8] = b"history bench key 0123456789";

/// Fill a store with `records` records of 100,000 petitioners, of whom
/// the first `known` (in thousandths) are tonight's cases' petitioners.
fn fill(path: &Path, records: usize, latest: NaiveDate, known: usize) {
    let key = StateKey::from_bytes(KEY);
    let mut store = Store::open(path, &key).unwrap();
    let mut rng = Rng::new(7);
    let classes = [
        "城建拆迁",
        "企业改制",
        "劳动社保",
        "环境污染",
        "其他",
        "涉法涉诉",
    ];
    let levels = [
        None,
        Some(petition_triage::input::case::Level::County),
        Some(petition_triage::input::case::Level::City),
        Some(petition_triage::input::case::Level::Province),
    ];
    let span = 3 * 365;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..records {
        let back = rng.below(span) as i64;
        let received = latest - chrono::Duration::days(back);
        let sketch = (back <= 30).then(|| (0..128).map(|_| rng.below(1 << 16) as u32).collect());
        batch.push(Record {
            case_id: format!("OLD{i:07}"),
            received,
            petitioners: vec![key.petitioner(&person(i % 100_000, known)).unwrap()],
            level: levels[rng.below(levels.len())],
            class: classes[rng.below(classes.len())].to_string(),
            place: None,
            tier: Tier::Blue,
            risk: 12,
            content: key.hash(
                petition_triage::history::key::Domain::Content,
                &i.to_le_bytes(),
            ),
            sketch,
        });
        if batch.len() == 10_000 {
            store.upsert(&batch).unwrap();
            batch.clear();
        }
    }
    store.upsert(&batch).unwrap();
}

/// The id of petitioner `j`: tonight's corpus draws its petitioners from
/// `Q00000`–`Q99999`; one beyond the known share gets an id no case of
/// tonight's has.
fn person(j: usize, known: usize) -> String {
    if j * 1000 < known * 100_000 {
        format!("Q{j:05}")
    } else {
        format!("R{j:05}")
    }
}

/// CPU seconds (user and system) so far of this process
/// (`libc::RUSAGE_SELF`) or of its waited-for children
/// (`libc::RUSAGE_CHILDREN`).
fn cpu_of(who: libc::c_int) -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let u = unsafe {
        libc::getrusage(who, u.as_mut_ptr());
        u.assume_init()
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn children_cpu() -> f64 {
    cpu_of(libc::RUSAGE_CHILDREN)
}

/// One `triage run` of `corpus` into a new folder in `dir`, with `state`
/// (or `--no-state`): wall and CPU seconds.
fn process(dir: &Path, corpus: &Path, state: Option<&Path>, clusters: bool) -> (f64, f64) {
    let bin = std::env::var_os("TRIAGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/triage"));
    let out = tempfile::tempdir_in(dir).unwrap();
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["run", "-q", "--as-of", "2026-12-26", "-o"])
        .arg(out.path().join("out"))
        .arg(corpus)
        .env("TRIAGE_STATE_KEY", std::str::from_utf8(KEY).unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match state {
        Some(s) => {
            cmd.arg("--state").arg(s);
            if !clusters {
                cmd.arg("--no-clusters");
            }
        }
        None => {
            cmd.arg("--no-state");
        }
    }
    let (t, c) = (Instant::now(), children_cpu());
    let status = cmd.status().unwrap_or_else(|e| {
        panic!(
            "{} cannot run ({e}): build it with cargo build --release",
            bin.display()
        )
    });
    let took = (t.elapsed().as_secs_f64(), children_cpu() - c);
    assert!(status.success(), "{} failed: {status}", bin.display());
    took
}

fn cpu() -> f64 {
    cpu_of(libc::RUSAGE_SELF)
}

fn sinks(out: &Path) -> Vec<Box<dyn Sink>> {
    batch::default_sinks(out, 20).unwrap()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let records: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = PathBuf::from("target/history-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = dir.join(format!("cases-{cases}.jsonl"));
    if !corpus.exists() {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&corpus).unwrap());
        petition_triage::corpus::write_labeled(&mut f, 1, cases).unwrap();
    }
    let latest = NaiveDate::from_ymd_opt(2026, 12, 26).unwrap();
    let known: usize = std::env::var("HISTORY_BENCH_KNOWN")
        .ok()
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(1000, |k| (k.clamp(0.0, 1.0) * 1000.0).round() as usize);
    let filled = if known == 1000 {
        dir.join(format!("store-{records}.sqlite"))
    } else {
        dir.join(format!("store-{records}-known{known}.sqlite"))
    };
    if !filled.exists() {
        let t = Instant::now();
        fill(&filled, records, latest, known);
        eprintln!(
            "store of {records} records filled in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let engine = Engine::new(RuleSet::load(RuleSource::builtin()).unwrap()).unwrap();
    let opts = BatchOptions {
        top: 20,
        ..BatchOptions::default()
    };
    let inputs = vec![corpus.clone()];
    let (mut plain, mut with) = (Vec::new(), Vec::new());
    let (mut plain_cpu, mut with_cpu) = (Vec::new(), Vec::new());
    let mut last = None;
    let whole = std::env::var_os("HISTORY_BENCH_PROCESS").is_some();
    let clusters = std::env::var_os("HISTORY_BENCH_NO_CLUSTERS").is_none();
    let state = dir.join("run.sqlite");
    // A fresh copy of the filled store for each run with one (a run adds
    // its cases), made outside the timing.
    let fresh = || {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", state.display()));
        }
        std::fs::copy(&filled, &state).unwrap();
    };
    for round in 0..rounds {
        if whole {
            let (t, c) = process(&dir, &corpus, None, clusters);
            plain.push(t);
            plain_cpu.push(c);
            fresh();
            let (t, c) = process(&dir, &corpus, Some(&state), clusters);
            with.push(t);
            with_cpu.push(c);
        } else {
            let out = tempfile::tempdir_in(&dir).unwrap();
            let mut s = sinks(out.path());
            let mut s: Vec<&mut dyn Sink> =
                s.iter_mut().map(|b| &mut **b as &mut dyn Sink).collect();
            let (t, c) = (Instant::now(), cpu());
            batch::run_into(&engine, &inputs, &opts, &mut PassThrough, &mut s, |_| {}).unwrap();
            plain.push(t.elapsed().as_secs_f64());
            plain_cpu.push(cpu() - c);

            fresh();
            let out = tempfile::tempdir_in(&dir).unwrap();
            let mut s = sinks(out.path());
            let mut s: Vec<&mut dyn Sink> =
                s.iter_mut().map(|b| &mut **b as &mut dyn Sink).collect();
            let (t, c) = (Instant::now(), cpu());
            let key = StateKey::from_bytes(KEY);
            let store = Store::open(&state, &key).unwrap();
            let set = engine.rules();
            let rules = HistoryRules::load(&set.source, &set.scoring).unwrap();
            let mut ctx = HistoryContext::new(store, key, &engine, rules, Mode::Run, clusters);
            let r = batch::run_into(&engine, &inputs, &opts, &mut ctx, &mut s, |_| {}).unwrap();
            let seen = (r.clusters, ctx.work, ctx.recorded());
            drop(ctx);
            with.push(t.elapsed().as_secs_f64());
            with_cpu.push(cpu() - c);
            last = Some(seen);
        }
        eprintln!(
            "round {}: without {:.2} s ({:.2} s CPU), with {:.2} s ({:.2} s CPU)",
            round + 1,
            plain[round],
            plain_cpu[round],
            with[round],
            with_cpu[round]
        );
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    // The median of the rounds' own ratios: each pair ran side by side,
    // so a slower moment of a shared machine touches both.
    let paired = |a: &[f64], b: &[f64]| {
        let mut r: Vec<f64> = a.iter().zip(b).map(|(a, b)| b / a).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let (a, b) = (best(&plain), best(&with));
    let (ac, bc) = (best(&plain_cpu), best(&with_cpu));
    let what = if whole { "triage run" } else { "run_into" };
    println!(
        "{what}, {cases} cases, {records} records in the store ({:.0}% of tonight's petitioners known): \
         without state {a:.2} s, with state{} {b:.2} s, ratio {:.2} (median of rounds {:.2}); \
         CPU {ac:.2} s and {bc:.2} s, ratio {:.2}",
        known as f64 / 10.0,
        if clusters { " and clusters" } else { "" },
        b / a,
        paired(&plain, &with),
        bc / ac
    );
    if let Some((clusters, work, rec)) = last {
        println!(
            "clusters {clusters}; pairs compared {}, confirmed {}; recorded: {} new, {} updated",
            work.compared, work.confirmed, rec.added, rec.updated
        );
    }
}
