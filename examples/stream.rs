//! `triage stream` measured through its pipes, on generated cases: the
//! latency per case at an offered load, the sustained throughput against
//! `triage run` on the same cases on one thread, and the memory of a long
//! stream.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example stream                 # latency and throughput
//! cargo run --release --example stream -- memory 1000000
//! ```
//!
//! - **Latency**: cases are written to the stream's standard input at
//!   `RATE` cases per second (default 1000) and each case's time from the
//!   write of its line to the read of its `case` line is recorded; the
//!   first 200 are left out as warm-up. With and without a history store.
//! - **Throughput**: `triage stream < corpus` against
//!   `triage run corpus --threads 1` (the fastest of `ROUNDS`, default 3),
//!   with and without a store; the ratio is the stream's cases per second
//!   over the run's.
//! - **Memory**: `memory N` streams N generated cases (received dates
//!   advancing 1,000 cases a day, as a stream's would) into a stream with
//!   a new store, and prints the resident memory every tenth of the way
//!   and the peak (`VmHWM` of `/proc/PID/status`). `STREAM_ARGS` adds
//!   options to the stream (`STREAM_ARGS="--memory-days 7"`).
//!
//! The binary is `target/release/triage` (or `$TRIAGE_BIN`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use petition_triage::corpus;

const KEY: &str = "stream-benchmark-key-0123456789";

fn bin() -> PathBuf {
    let p = std::env::var_os("TRIAGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/triage"));
    assert!(
        p.exists(),
        "{} is missing: cargo build --release first",
        p.display()
    );
    p
}

fn triage(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env("TRIAGE_STATE_KEY", KEY).env_remove("TRIAGE_STATE");
    c
}

/// Generated cases, one JSON line each.
fn lines(count: usize) -> Vec<String> {
    let mut out = Vec::new();
    corpus::write_labeled(&mut out, 1, count).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Latency per case at `rate` cases per second: (p50, p99, max) in ms.
fn latency(bin: &Path, cases: &[String], rate: f64, state: Option<&Path>) -> (f64, f64, f64) {
    let mut c = triage(bin);
    c.args(["stream", "--as-of", "2026-12-01", "-q"]);
    match state {
        Some(s) => c.arg("--state").arg(s),
        None => c.arg("--no-state"),
    };
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut got: HashMap<String, Instant> = HashMap::new();
        for l in BufReader::new(out).lines() {
            let l = l.unwrap();
            if l.starts_with("{\"type\":\"case\"") {
                let v: serde_json::Value = serde_json::from_str(&l).unwrap();
                got.insert(
                    v["data"]["id"].as_str().unwrap().to_string(),
                    Instant::now(),
                );
            }
        }
        got
    });
    let mut stdin = child.stdin.take().unwrap();
    // Let the stream load its rules before the clock starts.
    std::thread::sleep(Duration::from_secs(2));
    let mut sent: Vec<(String, Instant)> = Vec::with_capacity(cases.len());
    let t0 = Instant::now();
    for (i, line) in cases.iter().enumerate() {
        let due = t0 + Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let id = line
            .split("\"id\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        sent.push((id, Instant::now()));
    }
    drop(stdin);
    let got = reader.join().unwrap();
    child.wait().unwrap();
    let mut ms: Vec<f64> = sent
        .iter()
        .skip(200)
        .map(|(id, at)| got[id].duration_since(*at).as_secs_f64() * 1e3)
        .collect();
    ms.sort_by(f64::total_cmp);
    (
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        *ms.last().unwrap(),
    )
}

fn timed(mut c: Command) -> f64 {
    let t = Instant::now();
    let s = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(s.code().is_some_and(|c| c == 0 || c == 3), "{c:?}: {s}");
    t.elapsed().as_secs_f64()
}

/// Seconds of (stream, run) over `corpus`, the fastest of `rounds`.
fn throughput(bin: &Path, corpus: &Path, state: bool, rounds: usize, dir: &Path) -> (f64, f64) {
    let (mut s, mut r) = (f64::MAX, f64::MAX);
    for round in 0..rounds {
        let store = |name: &str| dir.join(format!("{name}-{state}-{round}.sqlite"));
        let mut c = triage(bin);
        c.args(["stream", "--as-of", "2026-12-01", "-q"])
            .stdin(std::fs::File::open(corpus).unwrap());
        if state {
            c.arg("--state").arg(store("stream"));
        } else {
            c.arg("--no-state");
        }
        s = s.min(timed(c));
        let mut c = triage(bin);
        c.arg("run")
            .arg(corpus)
            .arg("--out")
            .arg(dir.join(format!("out-{round}")))
            .args(["--threads", "1", "--as-of", "2026-12-01", "-q"]);
        if state {
            c.arg("--state").arg(store("run"));
        } else {
            c.arg("--no-state");
        }
        r = r.min(timed(c));
    }
    (s, r)
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Stream `n` generated cases with advancing dates; print the memory.
fn memory(bin: &Path, n: usize, dir: &Path) {
    let extra: Vec<String> = std::env::var("STREAM_ARGS")
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let mut child = triage(bin)
        .args(["stream", "--as-of", "2026-12-01", "-q", "--state"])
        .arg(dir.join("memory.sqlite"))
        .args(&extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut rng = petition_triage::util::Rng::new(1);
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let t = Instant::now();
    let mut peak = 0;
    println!("cases\tRSS MiB\tof it anonymous\tseconds");
    for i in 1..=n {
        let mut c = corpus::labeled_case(&mut rng, i);
        c.received = (start + chrono::Duration::days((i / 1000) as i64)).to_string();
        serde_json::to_writer(&mut stdin, &c).unwrap();
        stdin.write_all(b"\n").unwrap();
        if i % (n / 10).max(1) == 0 {
            stdin.flush().unwrap();
            let rss = status_kb(pid, "VmRSS:");
            let anon = status_kb(pid, "RssAnon:");
            peak = peak.max(status_kb(pid, "VmHWM:"));
            println!(
                "{i}\t{:.0}\t{:.0}\t{:.0}",
                rss as f64 / 1024.0,
                anon as f64 / 1024.0,
                t.elapsed().as_secs_f64()
            );
        }
    }
    stdin.flush().unwrap();
    // Wait for the stream to finish the lines in its pipe, then read the
    // peak before it exits.
    std::thread::sleep(Duration::from_secs(2));
    peak = peak.max(status_kb(pid, "VmHWM:"));
    drop(stdin);
    child.wait().unwrap();
    println!(
        "peak RSS {:.0} MiB over {n} cases ({:.0} s)",
        peak as f64 / 1024.0,
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bin = bin();
    let dir = tempfile::tempdir().unwrap();
    if args.first().map(String::as_str) == Some("memory") {
        let n = args
            .get(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        memory(&bin, n, dir.path());
        return;
    }
    let count: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rate: f64 = std::env::var("RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1000.0);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let cases = lines(count);
    let corpus = dir.path().join("cases.jsonl");
    std::fs::write(&corpus, cases.join("\n") + "\n").unwrap();
    let lat = cases.len().min(5000);
    for state in [false, true] {
        let store = dir.path().join("latency.sqlite");
        let (p50, p99, max) = latency(&bin, &cases[..lat], rate, state.then_some(store.as_path()));
        println!(
            "latency at {rate:.0} cases/s, {lat} cases, {}: median {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
            if state { "with store" } else { "without store" }
        );
    }
    for state in [false, true] {
        let (s, r) = throughput(&bin, &corpus, state, rounds, dir.path());
        println!(
            "throughput, {count} cases, one thread, {}: stream {:.0} cases/s, run {:.0} cases/s, stream/run {:.2}",
            if state { "with store" } else { "without store" },
            count as f64 / s,
            count as f64 / r,
            r / s
        );
    }
}
