//! `triage stream` through pipes: the real binary, fed line by line.
//!
//! Waits are generous (a loaded machine), and nothing here measures time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const KEY: &str = "stream-test-key-0123456789";
const WAIT: Duration = Duration::from_secs(60);

/// A running `triage stream`.
struct Stream {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_triage"));
    c.arg("stream")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TRIAGE_STATE_KEY", KEY)
        .env_remove("TRIAGE_STATE");
    c
}

impl Stream {
    /// A stream following `input` with the store `state`, as of 2026-12-01.
    fn follow(state: &Path, input: &Path) -> Stream {
        Stream::start(&[
            "--state",
            s(state),
            "--as-of",
            "2026-12-01",
            "--follow",
            s(input),
        ])
    }

    fn start(args: &[&str]) -> Stream {
        let mut child = command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { return };
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        let err = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let keep = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines() {
                let Ok(l) = l else { return };
                let mut s = keep.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Stream {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            seen: Vec::new(),
            stderr,
        }
    }

    fn send(&mut self, line: &str) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(line.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
        w.flush().unwrap();
    }

    fn close(&mut self) {
        self.stdin = None;
    }

    /// Read lines until `done` holds for one of them; returns it.
    fn until(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let end = Instant::now() + WAIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let v: Value = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"));
                    self.seen.push(v.clone());
                    if done(&v) {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {what} within {WAIT:?}; lines: {:?}\nstderr: {}",
                    self.seen,
                    self.stderr.lock().unwrap()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "stream ended before {what}; lines: {:?}\nstderr: {}",
                    self.seen,
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    fn case(&mut self, id: &str) -> Value {
        self.until(&format!("case {id}"), |v| {
            v["type"] == "case" && v["data"]["id"] == id
        })
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Wait for the end; the exit code and every line (read before and now).
    fn wait(mut self) -> (Option<i32>, Vec<Value>, String) {
        let status = self.child.wait().unwrap();
        self.stdin = None;
        let rest: Vec<String> = self.lines.iter().collect();
        for (i, l) in rest.iter().enumerate() {
            match serde_json::from_str(l) {
                Ok(v) => self.seen.push(v),
                // A process killed with -9 may leave its last line unfinished.
                Err(_) if i + 1 == rest.len() && status.code().is_none() => {}
                Err(e) => panic!("{e}: {l}"),
            }
        }
        let err = self.stderr.lock().unwrap().clone();
        (status.code(), self.seen, err)
    }
}

fn case_line(id: &str, received: &str, petitioner: &str, text: &str) -> String {
    serde_json::json!({
        "id": id,
        "received": received,
        "channel": "来信",
        "petitioner_ids": [petitioner],
        "target_level": "县",
        "location": "临江县河西乡",
        "title": "反映问题",
        "text": text,
    })
    .to_string()
}

fn cases_of(lines: &[Value], kind: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|v| v["type"] == kind)
        .map(|v| v["data"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn notices<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|v| v["type"] == "notice" && v["data"]["kind"] == kind)
        .collect()
}

/// Run `triage stream` to the end of `input` (given on stdin, or the
/// file to follow with `--exit-at-end`).
fn stream_all(args: &[&str], stdin: Option<&Path>) -> (Vec<Value>, String) {
    let mut c = command(args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        Some(p) => c.stdin(std::fs::File::open(p).unwrap()),
        None => c.stdin(Stdio::null()),
    };
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, err)
}

/// `triage ARGS` with the test key.
fn triage(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TRIAGE_STATE_KEY", KEY)
        .env_remove("TRIAGE_STATE")
        .output()
        .unwrap()
}

fn store_cases(path: &Path) -> u64 {
    let key = petition_triage::history::StateKey::from_bytes(KEY.as_bytes());
    petition_triage::history::Store::open(path, &key)
        .unwrap()
        .stats()
        .unwrap()
        .cases
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const TEXTS: [&str; 4] = [
    "村里的土地被征收了，补偿款一直没有发到我们手里，请求上级核实处理。",
    "我在工地干了一年活，老板拖欠工资八万元，多次讨要无果，再不给钱我就去堵路。",
    "小区旁边的工厂每天晚上排放刺鼻气体，孩子咳嗽不止，环保部门一直不管。",
    "我是退役军人，安置待遇一直没有落实，找了很多部门都说不归他们管。",
];

fn numbered(n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            case_line(
                &format!("{prefix}{i:04}"),
                "2026-11-20",
                &format!("P{prefix}{}", i % 7),
                TEXTS[i % TEXTS.len()],
            )
        })
        .collect()
}

fn write_lines(path: &Path, lines: &[String], append: bool) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
}

#[test]
fn results_appear_before_the_input_ends() {
    let mut st = Stream::start(&["--no-state", "--as-of", "2026-12-01"]);
    let begin = st.until("begin notice", |v| v["type"] == "notice");
    assert_eq!(begin["data"]["kind"], "begin");
    assert_eq!(begin["data"]["rules_sha256"].as_str().unwrap().len(), 64);
    st.send(&case_line("A1", "2026-11-20", "P1", TEXTS[1]));
    // The first case's line arrives while standard input is still open.
    let first = st.case("A1");
    assert!(first["data"]["risk"].as_u64().unwrap() > 0);
    assert!(first["data"]["tier"].is_string());
    st.send(&case_line("A2", "2026-11-21", "P2", TEXTS[2]));
    st.case("A2");
    st.close();
    let (code, lines, _) = st.wait();
    assert_eq!(code, Some(0));
    let end = notices(&lines, "end");
    assert_eq!(end.len(), 1);
    assert_eq!(end[0]["data"]["reason"], "eof");
    assert_eq!(end[0]["data"]["cases"], 2);
}

#[test]
fn malformed_lines_are_rejected_without_their_values_and_the_stream_goes_on() {
    let dir = tmp();
    let input = dir.path().join("in.jsonl");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(case_line("M1", "2026-11-20", "P1", TEXTS[0]).as_bytes());
    bytes.extend(b"\n{\"id\": \"M2\", \"text\": \"\xe7\xa7\x98\xe5\xaf\x86\n");
    bytes.extend(b"\n");
    bytes.extend(case_line("M3", "秘密日期值", "P3", TEXTS[1]).as_bytes());
    bytes.extend(b"\n[1, 2]\n\xff\xfe\xfd\n");
    bytes.extend(case_line("M4", "2026-11-21", "P4", TEXTS[2]).as_bytes());
    std::fs::write(&input, bytes).unwrap();
    let (lines, _) = stream_all(&["--no-state", "--as-of", "2026-12-01"], Some(&input));
    assert_eq!(cases_of(&lines, "case"), ["M1", "M4"]);
    let rejects: Vec<&Value> = lines.iter().filter(|v| v["type"] == "reject").collect();
    let at: Vec<u64> = rejects
        .iter()
        .map(|r| r["data"]["line"].as_u64().unwrap())
        .collect();
    // Line 3 is blank: counted, not rejected.
    assert_eq!(at, [2, 4, 5, 6]);
    for r in &rejects {
        assert_eq!(r["data"]["source"], "-");
        let reason = r["data"]["reason"].as_str().unwrap();
        assert!(!reason.is_empty());
        assert!(!reason.contains("秘密"), "{reason}");
    }
    assert_eq!(notices(&lines, "end")[0]["data"]["rejects"], 4);
}

const NEW_RULE: &str = r#"
[[rule]]
id = "ZZ-001"
description = "测试用暗号"
target = "威胁他人"
kind = "keywords"
weight = 30
any = ["紫罗兰暗号"]
examples = ["他说了紫罗兰暗号。"]
"#;

#[test]
fn rules_reload_when_valid_and_stay_when_not() {
    let dir = tmp();
    let rules = dir.path().join("rules");
    let o = common::bin::triage(&["rules", "export", s(&rules)]);
    assert!(o.status.success(), "{}", common::bin::stderr(&o));
    let mut st = Stream::start(&["--no-state", "--as-of", "2026-12-01", "--rules", s(&rules)]);
    let begin = st.until("begin", |v| v["type"] == "notice");
    let first_hash = begin["data"]["rules_sha256"].as_str().unwrap().to_string();
    let text = "他们说了紫罗兰暗号，我很害怕，请政府处理。";
    st.send(&case_line("R1", "2026-11-20", "P1", text));
    let before = st.case("R1");
    let has_rule = |v: &Value| {
        v["data"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "ZZ-001")
    };
    assert!(!has_rule(&before));

    // A valid new rule, saved as editors do: a temporary file renamed.
    let tmp_file = rules.join("signals").join(".zz.toml.tmp");
    std::fs::write(&tmp_file, NEW_RULE).unwrap();
    std::fs::rename(&tmp_file, rules.join("signals").join("zz.toml")).unwrap();
    let notice = st.until("rules notice", |v| {
        v["type"] == "notice" && v["data"]["kind"] == "rules"
    });
    let new_hash = notice["data"]["rules_sha256"].as_str().unwrap().to_string();
    assert_ne!(new_hash, first_hash);
    st.send(&case_line("R2", "2026-11-20", "P1", text));
    assert!(has_rule(&st.case("R2")));

    // An invalid change: the old (new) set stays, the errors are printed.
    std::fs::write(
        rules.join("signals").join("zz.toml"),
        format!("{NEW_RULE}\n[[rule]]\nid = \"ZZ-002\"\nkind = \"nonsense\"\n"),
    )
    .unwrap();
    let rejected = st.until("rules_rejected notice", |v| {
        v["type"] == "notice" && v["data"]["kind"] == "rules_rejected"
    });
    assert_eq!(rejected["data"]["rules_sha256"], new_hash.as_str());
    assert!(rejected["data"]["errors"].as_u64().unwrap() >= 1);
    st.send(&case_line("R3", "2026-11-20", "P1", text));
    assert!(has_rule(&st.case("R3")));
    st.close();
    let (code, _, err) = st.wait();
    assert_eq!(code, Some(0));
    assert!(err.contains("错误"), "{err}");
    assert!(err.contains("zz.toml"), "{err}");
}

#[test]
fn sigterm_finishes_commits_and_exits_zero() {
    stop_by("-TERM");
}

#[test]
fn sigint_finishes_commits_and_exits_zero() {
    stop_by("-INT");
}

fn stop_by(signal: &str) {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let mut st = Stream::start(&["--state", s(&state), "--as-of", "2026-12-01"]);
    let lines = numbered(20, "T");
    for l in &lines {
        st.send(l);
    }
    st.case("T0019");
    // Standard input stays open: only the signal ends the stream.
    st.signal(signal);
    let (code, out, _) = st.wait();
    assert_eq!(code, Some(0));
    assert_eq!(notices(&out, "end")[0]["data"]["reason"], "signal");
    assert_eq!(store_cases(&state), 20);
}

#[test]
fn kill_9_then_restart_loses_nothing_and_counts_nothing_twice() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let input = dir.path().join("in.jsonl");
    let all = numbered(1500, "K");
    write_lines(&input, &all, false);
    let mut st = Stream::follow(&state, &input);
    st.case("K0300");
    st.signal("-KILL");
    let (_, first, _) = st.wait();
    let first_ids: BTreeSet<String> = cases_of(&first, "case").into_iter().collect();
    assert!(first_ids.len() < all.len(), "killed before the end");

    let (second, _) = stream_all(
        &[
            "--state",
            s(&state),
            "--as-of",
            "2026-12-01",
            "--follow",
            s(&input),
            "--exit-at-end",
        ],
        None,
    );
    assert_eq!(notices(&second, "resumed").len(), 1);
    let second_ids = cases_of(&second, "case");
    // At least once: every case is in one run or the other.
    let union: BTreeSet<String> = first_ids
        .iter()
        .cloned()
        .chain(second_ids.clone())
        .collect();
    assert_eq!(union.len(), all.len());
    // The restart did not start over: only what was not committed is read again.
    assert!(second_ids.len() < all.len());
    // Once in the store, whatever was read twice.
    assert_eq!(store_cases(&state), all.len() as u64);

    // And the results are those of one stream over the whole file.
    let (whole, _) = stream_all(
        &[
            "--state",
            s(&dir.path().join("w.sqlite")),
            "--as-of",
            "2026-12-01",
        ],
        Some(&input),
    );
    let last = |lines: &[Value]| -> BTreeMap<String, (Value, Value)> {
        lines
            .iter()
            .filter(|v| v["type"] == "case" || v["type"] == "update")
            .map(|v| {
                let d = &v["data"];
                (
                    d["id"].as_str().unwrap().to_string(),
                    (d["risk"].clone(), d["tier"].clone()),
                )
            })
            .collect()
    };
    let mut resumed = last(&first);
    resumed.extend(last(&second));
    assert_eq!(resumed, last(&whole));
}

#[test]
fn a_followed_file_that_is_not_there_yet_is_waited_for_and_said_so() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let input = dir.path().join("later.jsonl");
    let mut st = Stream::follow(&state, &input);
    // The file is written only once the stream has said it waits.
    st.until("waiting notice", |v| {
        v["type"] == "notice" && v["data"]["kind"] == "waiting"
    });
    write_lines(&input, &numbered(2, "W"), false);
    st.case("W0001");
    st.signal("-TERM");
    let (code, lines, _) = st.wait();
    assert_eq!(code, Some(0));
    let waiting = notices(&lines, "waiting");
    assert_eq!(waiting.len(), 1, "said once");
    assert!(
        waiting[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("还不存在")
    );
    assert_eq!(cases_of(&lines, "case"), ["W0000", "W0001"]);
}

#[test]
fn a_followed_file_is_read_through_rotation() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let input = dir.path().join("in.jsonl");
    write_lines(&input, &numbered(10, "A"), false);
    let mut st = Stream::follow(&state, &input);
    st.case("A0009");
    // The writer moves the file away, writes its last lines to the old
    // file, and starts a new one.
    let old = dir.path().join("in.jsonl.1");
    std::fs::rename(&input, &old).unwrap();
    write_lines(&old, &numbered(3, "B"), true);
    write_lines(&input, &numbered(4, "C"), false);
    st.case("C0003");
    st.signal("-TERM");
    let (code, lines, _) = st.wait();
    assert_eq!(code, Some(0));
    let ids = cases_of(&lines, "case");
    let expect: Vec<String> = ["A", "B", "C"]
        .iter()
        .zip([10, 3, 4])
        .flat_map(|(p, n)| (0..n).map(move |i| format!("{p}{i:04}")))
        .collect();
    assert_eq!(ids, expect);
    assert_eq!(notices(&lines, "rotated").len(), 1);

    // Rotated while stopped: the old file (found beside it by its
    // fingerprint) is finished first, then the new one is read.
    std::fs::rename(&input, dir.path().join("in.jsonl.2")).unwrap();
    write_lines(&dir.path().join("in.jsonl.2"), &numbered(2, "D"), true);
    write_lines(&input, &numbered(2, "E"), false);
    let (lines, _) = stream_all(
        &[
            "--state",
            s(&state),
            "--as-of",
            "2026-12-01",
            "--follow",
            s(&input),
            "--exit-at-end",
        ],
        None,
    );
    assert_eq!(
        cases_of(&lines, "case"),
        ["D0000", "D0001", "E0000", "E0001"]
    );
    assert_eq!(store_cases(&state), 10 + 3 + 4 + 2 + 2);
}

#[test]
fn a_followed_file_is_read_again_after_truncation() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let input = dir.path().join("in.jsonl");
    write_lines(&input, &numbered(10, "F"), false);
    let mut st = Stream::follow(&state, &input);
    st.case("F0009");
    // Truncated in place (copytruncate), then written again.
    write_lines(&input, &numbered(3, "G"), false);
    st.case("G0002");
    let truncated = notices(&st.seen, "truncated").len();
    assert_eq!(truncated, 1);
    st.signal("-TERM");
    let (code, _, _) = st.wait();
    assert_eq!(code, Some(0));

    // Shorter than the recorded position while stopped: read from 0.
    write_lines(&input, &numbered(1, "H"), false);
    let (lines, _) = stream_all(
        &[
            "--state",
            s(&state),
            "--as-of",
            "2026-12-01",
            "--follow",
            s(&input),
            "--exit-at-end",
        ],
        None,
    );
    assert_eq!(cases_of(&lines, "case"), ["H0000"]);
    assert_eq!(notices(&lines, "truncated").len(), 1);
    assert_eq!(store_cases(&state), 10 + 3 + 1);
}

/// Class, risk and tier per case id: a run's list, or a stream's last
/// line per id.
type Results = BTreeMap<String, (String, u64, String)>;

fn results_of(verdicts: impl Iterator<Item = Value>) -> Results {
    verdicts
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                (
                    d["primary_class"].as_str().unwrap().to_string(),
                    d["risk"].as_u64().unwrap(),
                    d["tier"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// Feed `corpus` through `run` and through `stream`, each with a new
/// store, and compare.
fn stream_agrees_with_run(corpus: &Path) {
    let dir = tmp();
    let out = dir.path().join("out");
    let o = triage(&[
        "run",
        s(corpus),
        "--out",
        s(&out),
        "--state",
        s(&dir.path().join("run.sqlite")),
        "--as-of",
        "2026-12-01",
        "-q",
    ]);
    assert!(o.status.code() == Some(0), "{}", common::bin::stderr(&o));
    let run = results_of(
        common::bin::read(&out.join("warnings.jsonl"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap()),
    );
    // Every way in: standard input, and the same file followed.
    let state = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let common = ["--as-of", "2026-12-01", "--memory-days", "400", "--state"];
    let stdin_state = state("stdin.sqlite");
    let follow_state = state("follow.sqlite");
    let ways: [(Vec<&str>, Option<&Path>); 2] = [
        (
            common
                .iter()
                .copied()
                .chain([stdin_state.as_str()])
                .collect(),
            Some(corpus),
        ),
        (
            common
                .iter()
                .copied()
                .chain([
                    follow_state.as_str(),
                    "--follow",
                    s(corpus),
                    "--exit-at-end",
                ])
                .collect(),
            None,
        ),
    ];
    for (args, stdin) in ways {
        let (lines, _) = stream_all(&args, stdin);
        let streamed = results_of(
            lines
                .into_iter()
                .filter(|v| v["type"] == "case" || v["type"] == "update")
                .map(|v| v["data"].clone()),
        );
        assert_eq!(run.len(), streamed.len(), "{args:?}");
        let differ: Vec<_> = run
            .iter()
            .filter(|(id, r)| streamed.get(*id) != Some(r))
            .map(|(id, r)| (id, r, streamed.get(id)))
            .collect();
        assert!(
            differ.is_empty(),
            "{args:?}: {} differ: {differ:?}",
            differ.len()
        );
    }
}

#[test]
fn stream_and_run_agree_on_the_sample() {
    stream_agrees_with_run(&common::bin::root().join("corpora/sample/cases.jsonl"));
}

#[test]
fn stream_and_run_agree_on_a_generated_corpus() {
    let dir = tmp();
    let corpus = dir.path().join("g.jsonl");
    let o = common::bin::triage(&[
        "corpus",
        "generate",
        "--seed",
        "1",
        "--count",
        "2000",
        "--out",
        s(&corpus),
    ]);
    assert!(o.status.success(), "{}", common::bin::stderr(&o));
    stream_agrees_with_run(&corpus);
}

#[test]
fn stream_and_run_on_one_store_count_each_case_once() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let corpus = common::bin::root().join("corpora/sample/cases.jsonl");
    stream_all(
        &["--state", s(&state), "--as-of", "2026-12-01"],
        Some(&corpus),
    );
    let o = triage(&[
        "run",
        s(&corpus),
        "--out",
        s(&dir.path().join("out")),
        "--state",
        s(&state),
        "--as-of",
        "2026-12-01",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        common::bin::stderr(&o).contains("新增 0"),
        "{}",
        common::bin::stderr(&o)
    );
    assert_eq!(store_cases(&state), 300);
}

#[test]
fn a_version_2_store_is_migrated() {
    use petition_triage::history::store::{self, Position};
    let dir = tmp();
    let path: PathBuf = dir.path().join("v2.sqlite");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(store::SCHEMA_V2).unwrap();
    }
    let key = petition_triage::history::StateKey::from_bytes(KEY.as_bytes());
    let mut st = store::Store::open(&path, &key).unwrap();
    assert_eq!(st.version().unwrap(), 5);
    assert_eq!(st.version().unwrap(), store::SCHEMA_VERSION);
    assert_eq!(st.position("f").unwrap(), None);
    let p = Position {
        source: "f".into(),
        fingerprint: [7; 32],
        fingerprint_len: 100,
        offset: 12345,
        line: 17,
    };
    st.upsert_at(&[], Some(&p)).unwrap();
    drop(st);
    let st = store::Store::open(&path, &key).unwrap();
    assert_eq!(st.position("f").unwrap(), Some(p));
    assert!(st.integrity_ok().unwrap());
}

#[test]
fn out_file_is_appended_to_after_an_unfinished_line_is_cut() {
    let dir = tmp();
    let out = dir.path().join("live.jsonl");
    let input = dir.path().join("in.jsonl");
    write_lines(&input, &numbered(2, "O"), false);
    // What a stream killed while writing leaves behind.
    std::fs::write(
        &out,
        "{\"type\":\"notice\",\"data\":{\"kind\":\"begin\"}}\n{\"type\":\"ca",
    )
    .unwrap();
    let (stdout, _) = stream_all(
        &["--no-state", "--as-of", "2026-12-01", "--out", s(&out)],
        Some(&input),
    );
    assert!(stdout.is_empty());
    let text = common::bin::read(&out);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases_of(&lines, "case"), ["O0000", "O0001"]);
    assert_eq!(notices(&lines, "begin").len(), 2);
}

#[test]
fn clusters_span_stream_run_and_restarted_stream_through_the_store() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let letter = "我们是清水镇的村民，我叫张三，去年村里的土地被征收，每亩补偿款被村干部扣了一半，\
                  我们多次找镇政府反映都没有结果，请求上级派人调查，把补偿款足额发放到户。";
    let copy =
        |id: &str, who: &str| case_line(id, "2026-11-20", who, &letter.replace("张三", "李四"));
    let first = dir.path().join("a.jsonl");
    write_lines(&first, &[copy("N1", "P1"), copy("N2", "P2")], false);
    let (lines, _) = stream_all(
        &["--state", s(&state), "--as-of", "2026-12-01"],
        Some(&first),
    );
    let n2 = lines.iter().find(|v| v["data"]["id"] == "N2").unwrap();
    assert_eq!(n2["data"]["cluster"]["size"], 2);
    // The first copy learns of its cluster from an update after N2's line.
    assert_eq!(cases_of(&lines, "update"), ["N1"]);
    let n1 = lines.iter().rfind(|v| v["data"]["id"] == "N1").unwrap();
    assert_eq!(n1["data"]["cluster"]["size"], 2);
    let first_n1 = lines.iter().find(|v| v["data"]["id"] == "N1").unwrap();
    assert!(n1["data"]["risk"].as_u64() > first_n1["data"]["risk"].as_u64());

    // Tonight's run finds the streamed copies in the store.
    let tonight = dir.path().join("b.jsonl");
    write_lines(&tonight, &[copy("N3", "P3")], false);
    let out = dir.path().join("out");
    let o = triage(&[
        "run",
        s(&tonight),
        "--out",
        s(&out),
        "--state",
        s(&state),
        "--as-of",
        "2026-12-01",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::bin::stderr(&o));
    let v: Value =
        serde_json::from_str(common::bin::read(&out.join("warnings.jsonl")).trim()).unwrap();
    assert_eq!(v["cluster"]["size"], 3);

    // A new stream starts with the store's window as cluster members.
    let later = dir.path().join("c.jsonl");
    write_lines(&later, &[copy("N4", "P4")], false);
    let (lines, _) = stream_all(
        &["--state", s(&state), "--as-of", "2026-12-01"],
        Some(&later),
    );
    let n4 = lines.iter().find(|v| v["data"]["id"] == "N4").unwrap();
    assert_eq!(n4["data"]["cluster"]["size"], 4);
    assert_eq!(store_cases(&state), 4);
}

#[test]
fn a_late_letter_updates_the_history_of_a_later_one() {
    let dir = tmp();
    let state = dir.path().join("s.sqlite");
    let input = dir.path().join("in.jsonl");
    // The letter of 20 November arrives before the one of 1 November
    // from the same petitioner about the same matter.
    write_lines(
        &input,
        &[
            case_line("L2", "2026-11-20", "P9", TEXTS[0]),
            case_line("L1", "2026-11-01", "P9", TEXTS[0]),
        ],
        false,
    );
    let (lines, _) = stream_all(
        &["--state", s(&state), "--as-of", "2026-12-01"],
        Some(&input),
    );
    let rules = |v: &Value| -> Vec<String> {
        v["data"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let first = lines.iter().find(|v| v["data"]["id"] == "L2").unwrap();
    assert!(!rules(first).contains(&"HX-001".to_string()));
    assert_eq!(cases_of(&lines, "update"), ["L2"]);
    let update = lines.iter().find(|v| v["type"] == "update").unwrap();
    assert!(rules(update).contains(&"HX-001".to_string()), "{update}");
    // The update follows the line of the case that caused it.
    let at = |kind: &str, id: &str| {
        lines
            .iter()
            .position(|v| v["type"] == kind && v["data"]["id"] == id)
            .unwrap()
    };
    assert!(at("update", "L2") > at("case", "L1"));
}

#[test]
fn a_followed_stream_leaves_no_case_text_or_id_number_in_the_store() {
    let dir = tmp();
    let state = dir.path().join("h.sqlite");
    let input = dir.path().join("in.jsonl");
    let secrets = [
        (
            "430102198001011234",
            "王秀英",
            "13912345678",
            "我家的承包地被强行占用三年了",
        ),
        (
            "430102199002025678",
            "赵建国",
            "13887654321",
            "厂里拖欠我们工资两年多了",
        ),
    ];
    let lines: Vec<String> = secrets
        .iter()
        .enumerate()
        .map(|(i, (id, name, phone, text))| {
            serde_json::json!({
                "id": format!("S{i}"), "received": "2026-11-01", "petitioner_ids": [id, name],
                "location": "青山镇红星村", "title": format!("{name}的来信"),
                "text": format!("我叫{name}，电话{phone}。{text}。"),
            })
            .to_string()
        })
        .collect();
    write_lines(&input, &lines, false);
    let (out, _) = stream_all(
        &[
            "--state",
            s(&state),
            "--as-of",
            "2026-12-01",
            "--follow",
            s(&input),
            "--exit-at-end",
        ],
        None,
    );
    assert_eq!(cases_of(&out, "case"), ["S0", "S1"]);
    let mut bytes = Vec::new();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let p = f.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("h.sqlite")
        {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    assert!(!bytes.is_empty());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (id, name, phone, text) in secrets {
        for needle in [id, name, phone, &text[..12], "青山镇", "来信"] {
            assert!(!contains(needle), "the store holds {needle:?}");
        }
    }
    assert!(!contains(KEY));
}
