//! The stream driver: cases triaged one at a time as they arrive, each
//! written as one JSON line the moment it is scored.
//!
//! The pipeline is the run's: the matcher's findings, the calendar
//! ([`super::calendar::CalendarContext`]), then the history store and the
//! clusters, incrementally ([`crate::history::live::Live`]), then
//! scoring. Only the source differs: standard input or a followed file
//! ([`source`], [`follow`]), one line at a time.
//!
//! # Output
//!
//! Every line written is a JSON object, an envelope with two fields:
//! `type`, one of `case`, `update`, `reject` or `notice`, and `data`:
//!
//! - **`case`**: a case just triaged. `data` is its verdict, the same
//!   object as a line of `warnings.jsonl` (`id`, `risk`, `tier`,
//!   `primary_class`, `ledger`, `evidence`, `cluster`, …).
//!
//!   ```json
//!   {"type":"case","data":{"id":"XF202600001","risk":71,"tier":"橙色",…}}
//!   ```
//!
//! - **`update`**: an earlier case whose verdict changed because of a
//!   later one (its cluster grew to a size worth more points, a place
//!   cluster formed, a letter of the same petitioner received earlier
//!   arrived late). `data` is the whole new verdict; it replaces every
//!   earlier line of the same `id`. Updates follow the `case` line that
//!   caused them.
//!
//! - **`reject`**: a line that could not be read as a case. `data` has
//!   `source` (`-` or the followed path), `line` (1-based) and `reason`
//!   (the kind of problem and where; never a value of the line). The
//!   stream goes on.
//!
//!   ```json
//!   {"type":"reject","data":{"source":"-","line":7,"reason":"不是有效的 JSON（第 12 个字符处）"}}
//!   ```
//!
//! - **`notice`**: what happened to the stream. `data.kind` is `begin`
//!   (with `rules_sha256` and `dict_sha256`, the rule set in use, and
//!   `as_of`), `rules` (a new rule set is active from the next case:
//!   `rules_sha256`, `dict_sha256`),
//!   `rules_rejected` (a changed rule set had `errors` errors, printed on
//!   standard error; the set named by `rules_sha256` stays), `resumed`,
//!   `truncated`, `rotated` (a followed file; `source`, `message`), and
//!   `end` (`reason`: `eof` or `signal`; the counts `cases`, `updates`,
//!   `rejects`, `warned`). When the output is closed (a reader that went
//!   away) the stream stops without an `end` line.
//!
//! # Commits
//!
//! Lines are flushed whenever no further line is waiting. The store is
//! committed (the cases' records and, for a followed file, the read
//! position after the last line, in one transaction) at most
//! [`COMMIT_AFTER`] after the first case it records, or after
//! [`COMMIT_EVERY`] lines, whichever comes first, and at the end. Lines
//! are flushed before the commit that records them, so a crash can
//! repeat lines but never lose them. Grouping commits keeps the log of
//! the store small, so a case never waits long behind a commit.

pub mod follow;
pub mod reload;
pub mod source;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;

use crate::history::live::{Live, Out};
use crate::history::store::Position;
use crate::input::MAX_LINE_BYTES;
use crate::input::reader::parse_json_case;
use crate::rules::Diagnostic;
use crate::run::calendar::CalendarContext;
use crate::run::{Context, PassThrough};
use crate::sink::mask_verdict;

use reload::Generation;
use source::Line;

/// Lines between two commits at most.
pub const COMMIT_EVERY: usize = 256;
/// Time between two commits at most while there is something to commit.
pub const COMMIT_AFTER: Duration = Duration::from_millis(50);

/// What the driver hears from the source, the rule watcher and itself.
pub enum Event {
    /// A line of input.
    Line(Line),
    /// A followed file's position moved without a case (a blank line).
    Position(Position),
    /// Something to tell the reader of the stream.
    Notice(serde_json::Value),
    /// The source has no more lines.
    End,
    /// The source failed.
    Failed(String),
    /// A changed rule set: checked and compiled, or its errors.
    Rules(Result<Box<Generation>, Vec<Diagnostic>>),
}

/// Where the lines come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Standard input, to its end.
    Stdin,
    /// A file another system appends to, recorded in the store as `source`.
    Follow {
        /// The path to read.
        path: PathBuf,
        /// The name its position is recorded under.
        source: String,
    },
}

/// Options of a stream.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// The source.
    pub input: Input,
    /// Stop at the end of a followed file instead of waiting for more.
    pub exit_at_end: bool,
    /// Mask identity-card and phone numbers in the verdicts.
    pub mask: bool,
    /// The date the calendar judges at; `None`: the day each case is
    /// triaged.
    pub as_of: Option<NaiveDate>,
    /// A rule folder to watch and reload.
    pub watch: Option<PathBuf>,
    /// Show a status line on standard error.
    pub progress: bool,
}

/// What a stream did.
#[derive(Debug, Default, Clone)]
pub struct StreamResult {
    /// Cases triaged (`case` lines).
    pub cases: u64,
    /// `update` lines.
    pub updates: u64,
    /// `reject` lines.
    pub rejects: u64,
    /// Cases whose first verdict was a warning.
    pub warned: u64,
    /// Why the stream ended: `eof`, `signal` or `closed`.
    pub reason: &'static str,
    /// Rule sets swapped in while running.
    pub reloads: u64,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a T,
}

#[derive(Serialize)]
struct RejectData<'a> {
    source: &'a str,
    line: u64,
    reason: String,
}

/// The fingerprint hash for a followed file: keyed by the store's key
/// when there is a store (the hash is recorded there), else plain.
pub fn fingerprint_hash(live: Option<&Live>) -> follow::Hash {
    match live {
        Some(l) => {
            let key = l.key().clone();
            Arc::new(move |b: &[u8]| {
                let mut m = b"follow\0".to_vec();
                m.extend_from_slice(b);
                key.hash(crate::history::key::Domain::Content, &m)
            })
        }
        None => Arc::new(|b: &[u8]| {
            use sha2::Digest;
            sha2::Sha256::digest(b).into()
        }),
    }
}

enum Next {
    Reload(Box<Generation>),
    NewDay,
    Done(&'static str),
}

struct Driver<'a> {
    live: Option<Live>,
    opts: &'a StreamOptions,
    out: &'a mut dyn Write,
    rx: Receiver<Event>,
    stop: Arc<AtomicBool>,
    name: String,
    result: StreamResult,
    position: Option<Position>,
    /// Lines written or positions moved since the last commit.
    dirty: usize,
    /// Lines written since the last flush.
    unflushed: bool,
    last_commit: Instant,
    carry: Option<Event>,
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    shown: Instant,
}

/// Run the stream: spawn the source (and the rule watcher), triage every
/// line through `generation` (or a newer set) and `live`, write the
/// envelopes to `out`, and return at the end of the input, on `stop`, or
/// when `out` is closed. The store is committed before returning.
pub fn run(
    generation: Generation,
    live: Option<Live>,
    opts: &StreamOptions,
    out: &mut dyn Write,
    stop: Arc<AtomicBool>,
) -> std::io::Result<StreamResult> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Event>(4096);
    let name = match &opts.input {
        Input::Stdin => "-".to_string(),
        Input::Follow { path, .. } => path.display().to_string(),
    };
    spawn_source(opts, live.as_ref(), &stop, &tx)?;
    if let Some(dir) = &opts.watch {
        reload::watch(
            dir.clone(),
            generation.identity(),
            Arc::clone(&stop),
            tx.clone(),
        )
        .map_err(|e| std::io::Error::other(format!("无法监视规则目录 {}：{e}", dir.display())))?;
    }
    drop(tx);
    let bar = opts.progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut d = Driver {
        live,
        opts,
        out,
        rx,
        stop,
        name,
        result: StreamResult::default(),
        position: None,
        dirty: 0,
        unflushed: false,
        last_commit: Instant::now(),
        carry: None,
        bar,
        started: Instant::now(),
        shown: Instant::now(),
    };
    let mut current = Arc::new(generation);
    let first_day = day(opts);
    d.notice(&serde_json::json!({
        "kind": "begin",
        "source": d.name,
        "rules": current.origin,
        "rules_sha256": current.hash,
        "dict_sha256": current.dict_hash,
        "as_of": first_day.to_string(),
        "state": d.live.is_some(),
    }))?;
    let reason = loop {
        let as_of = day(opts);
        let g = Arc::clone(&current);
        let mut pass = PassThrough;
        let mut calendar = CalendarContext::new(&g.rules.engine, &g.calendar, as_of, &mut pass);
        match d.serve(&g, &mut calendar, as_of) {
            Ok(Next::Reload(new)) => {
                d.result.reloads += 1;
                d.notice(&serde_json::json!({
                    "kind": "rules",
                    "rules": new.origin,
                    "rules_sha256": new.hash,
                    "dict_sha256": new.dict_hash,
                    "message": "规则已重新加载，下一件起使用新规则",
                }))?;
                current = Arc::from(new);
            }
            Ok(Next::NewDay) => {}
            Ok(Next::Done(r)) => break r,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break "closed",
            Err(e) => {
                // Keep what was triaged before failing.
                let _ = d.commit();
                if let Some(l) = &mut d.live {
                    let _ = l.sync();
                }
                return Err(e);
            }
        }
    };
    d.result.reason = reason;
    let end = serde_json::json!({
        "kind": "end",
        "reason": reason,
        "cases": d.result.cases,
        "updates": d.result.updates,
        "rejects": d.result.rejects,
        "warned": d.result.warned,
    });
    if reason != "closed" {
        let _ = d.notice(&end);
    }
    match d.commit() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
        _ => {}
    }
    if let Some(l) = &mut d.live {
        l.sync()?;
    }
    if let Some(b) = &d.bar {
        b.finish_and_clear();
    }
    Ok(d.result)
}

fn day(opts: &StreamOptions) -> NaiveDate {
    opts.as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

fn spawn_source(
    opts: &StreamOptions,
    live: Option<&Live>,
    stop: &Arc<AtomicBool>,
    tx: &SyncSender<Event>,
) -> std::io::Result<()> {
    let tx = tx.clone();
    match &opts.input {
        Input::Stdin => {
            std::thread::spawn(move || source::stdin(tx));
        }
        Input::Follow { path, source } => {
            let saved = match live {
                Some(l) => l.position(source)?,
                None => None,
            };
            let f = follow::Follower::new(
                source.clone(),
                path.clone(),
                fingerprint_hash(live),
                opts.exit_at_end,
                Arc::clone(stop),
                tx,
            );
            std::thread::spawn(move || f.run(saved));
        }
    }
    Ok(())
}

impl Driver<'_> {
    fn write<T: Serialize>(&mut self, kind: &str, data: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut *self.out, &Envelope { kind, data })?;
        self.out.write_all(b"\n")?;
        self.mark();
        Ok(())
    }

    /// Something to flush and commit.
    fn mark(&mut self) {
        if self.dirty == 0 {
            self.last_commit = Instant::now();
        }
        self.dirty += 1;
        self.unflushed = true;
    }

    fn notice(&mut self, data: &serde_json::Value) -> std::io::Result<()> {
        self.write("notice", data)?;
        self.out.flush()
    }

    /// Flush the lines, then commit the store with the read position.
    fn commit(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.unflushed = false;
        if let Some(l) = &mut self.live {
            l.commit(self.position.as_ref())?;
        }
        self.dirty = 0;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Commit when the oldest uncommitted line has waited long enough.
    fn commit_due(&mut self) -> std::io::Result<()> {
        if self.dirty >= COMMIT_EVERY
            || (self.dirty > 0 && self.last_commit.elapsed() >= COMMIT_AFTER)
        {
            self.commit()?;
        }
        Ok(())
    }

    fn next_event(&mut self) -> std::io::Result<Option<Event>> {
        if let Some(e) = self.carry.take() {
            return Ok(Some(e));
        }
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if self.unflushed {
                match self.rx.try_recv() {
                    Ok(e) => return Ok(Some(e)),
                    Err(TryRecvError::Empty) => {
                        self.out.flush()?;
                        self.unflushed = false;
                        self.status(true);
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => return Ok(None),
                }
            }
            let wait = if self.dirty > 0 {
                COMMIT_AFTER.saturating_sub(self.last_commit.elapsed())
            } else {
                Duration::from_millis(100)
            };
            match self.rx.recv_timeout(wait) {
                Ok(e) => return Ok(Some(e)),
                Err(RecvTimeoutError::Timeout) => {
                    self.commit_due()?;
                    self.status(true);
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    fn status(&mut self, force: bool) {
        let Some(b) = &self.bar else { return };
        if !force && self.shown.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.shown = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        b.set_message(format!(
            "已研判 {} 件  预警 {} 件  更新 {}  拒收 {}  {:.0} 件/秒",
            self.result.cases,
            self.result.warned,
            self.result.updates,
            self.result.rejects,
            self.result.cases as f64 / secs
        ));
        b.tick();
    }

    /// Triage lines with one rule set and one judging date until the set
    /// changes, the day changes or the stream ends.
    fn serve(
        &mut self,
        g: &Arc<Generation>,
        calendar: &mut CalendarContext<'_>,
        as_of: NaiveDate,
    ) -> std::io::Result<Next> {
        loop {
            let Some(ev) = self.next_event()? else {
                return Ok(Next::Done(if self.stop.load(Ordering::Relaxed) {
                    "signal"
                } else {
                    "eof"
                }));
            };
            match ev {
                Event::Line(l) => {
                    if self.opts.as_of.is_none() && day(self.opts) != as_of {
                        self.carry = Some(Event::Line(l));
                        return Ok(Next::NewDay);
                    }
                    self.line(g, calendar, l)?;
                }
                Event::Position(p) => {
                    self.position = Some(p);
                    self.mark();
                }
                Event::Notice(n) => self.notice(&n)?,
                Event::End => return Ok(Next::Done("eof")),
                Event::Failed(m) => return Err(std::io::Error::other(m)),
                Event::Rules(Ok(new)) => return Ok(Next::Reload(new)),
                Event::Rules(Err(diags)) => {
                    let errors = diags
                        .iter()
                        .filter(|d| d.severity == crate::rules::Severity::Error)
                        .count();
                    let print = || {
                        for d in &diags {
                            eprintln!("{}", d.render());
                        }
                        eprintln!("新规则有 {errors} 个错误，未加载；仍使用原规则 {}", g.hash);
                    };
                    match &self.bar {
                        Some(b) => b.suspend(print),
                        None => print(),
                    }
                    self.notice(&serde_json::json!({
                        "kind": "rules_rejected",
                        "errors": errors,
                        "rules_sha256": g.hash,
                        "message": "新规则有错误，未加载；仍使用原规则",
                    }))?;
                }
            }
            self.commit_due()?;
            self.status(false);
        }
    }

    fn reject(&mut self, line: u64, reason: String) -> std::io::Result<()> {
        self.result.rejects += 1;
        let name = self.name.clone();
        self.write(
            "reject",
            &RejectData {
                source: &name,
                line,
                reason: without_values(&reason),
            },
        )
    }

    /// One line through the pipeline.
    fn line(
        &mut self,
        g: &Arc<Generation>,
        calendar: &mut CalendarContext<'_>,
        l: Line,
    ) -> std::io::Result<()> {
        if let Some(p) = l.position {
            self.position = Some(p);
        }
        let bytes = match l.bytes {
            Ok(b) => b,
            Err(n) => {
                return self.reject(
                    l.line,
                    format!("这一行过长（{n} 字节，上限 {MAX_LINE_BYTES} 字节），已跳过"),
                );
            }
        };
        let text = match decode(bytes) {
            Some(t) => t,
            None => {
                return self.reject(
                    l.line,
                    "这一行既不是有效的 UTF-8 文本，也不是有效的 GB18030 文本；已跳过".to_string(),
                );
            }
        };
        // A byte-order mark at the start of a file is not part of its first case.
        let text = match text.strip_prefix('\u{feff}') {
            Some(t) => t.to_string(),
            None => text,
        };
        let case = match parse_json_case(&text) {
            Ok(c) => c,
            Err(e) => return self.reject(l.line, e.0),
        };
        drop(text);
        let engine = &g.rules.engine;
        let mut findings = engine.findings(&case);
        calendar.case(&case, &mut findings);
        let outs = match &mut self.live {
            Some(live) => live.case(&g.rules, &case, findings)?,
            None => {
                let rules = engine.rules();
                vec![Out {
                    update: false,
                    verdict: crate::score::scored(&rules.scoring, &rules.rules, findings),
                }]
            }
        };
        for mut o in outs {
            if self.opts.mask {
                mask_verdict(&mut o.verdict);
            }
            if o.update {
                self.result.updates += 1;
                self.write("update", &o.verdict)?;
            } else {
                self.result.cases += 1;
                if o.verdict.warned {
                    self.result.warned += 1;
                }
                self.write("case", &o.verdict)?;
            }
        }
        Ok(())
    }
}

/// A line's text: UTF-8, or GB18030 when it is valid there (a GBK
/// export); `None` when it is neither.
fn decode(bytes: Vec<u8>) -> Option<String> {
    match String::from_utf8(bytes) {
        Ok(s) => Some(s),
        Err(e) => {
            let bytes = e.into_bytes();
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            (!had_errors).then(|| text.into_owned())
        }
    }
}

/// A reason without the values it quotes: what stands between “ and ” is
/// left out.
fn without_values(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        match c {
            '“' => {
                quoted = true;
                out.push_str("“…");
            }
            '”' => {
                quoted = false;
                out.push(c);
            }
            _ if !quoted => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_their_quoted_values() {
        assert_eq!(
            without_values("登记日期无法识别（“张三 2026”），应为 2024-03-05"),
            "登记日期无法识别（“…”），应为 2024-03-05"
        );
    }

    #[test]
    fn gbk_lines_are_read() {
        let (bytes, _, _) = encoding_rs::GBK.encode("{\"text\":\"强拆\"}");
        assert_eq!(
            decode(bytes.into_owned()).as_deref(),
            Some("{\"text\":\"强拆\"}")
        );
        assert_eq!(decode(vec![0xff, 0xff, 0xff]), None);
    }
}
