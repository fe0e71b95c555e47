//! End-to-end tests of what a run does with hostile input and a hostile
//! world: bad bytes, broken quotes, bad optional fields, a killed run,
//! values that must not leak, cells that spreadsheets would run, and
//! wrong arguments. Each drives the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::bin::*;

fn jsonl(p: &Path) -> Vec<serde_json::Value> {
    read(p)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `triage run INPUT… EXTRA… --out DIR/out`, checked for `code`.
fn run(dir: &Path, inputs: &[&Path], extra: &[&str], code: i32) -> (PathBuf, Output) {
    let out = dir.join("out");
    let mut args = vec!["run".to_string()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".into(), out.to_str().unwrap().into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = triage(&args);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    (out, o)
}

/// The output folder holds one consistent set: the manifest's files and
/// no others, list and rejects lines matching its counts.
fn assert_consistent_set(out: &Path) {
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    let mut listed: Vec<String> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.push("manifest.json".into());
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    assert_eq!(
        present, listed,
        "files in the folder are not the manifest's set"
    );
    let counts = &m["counts"];
    let lines = |f: &str| read(&out.join(f)).lines().count() as u64;
    assert_eq!(lines("warnings.jsonl"), counts["triaged"].as_u64().unwrap());
    assert_eq!(lines("rejects.jsonl"), counts["rejected"].as_u64().unwrap());
    assert_eq!(
        counts["read"].as_u64().unwrap(),
        counts["triaged"].as_u64().unwrap() + counts["rejected"].as_u64().unwrap()
    );
}

#[test]
fn one_bad_byte_costs_one_line_of_a_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read(root().join("corpora/sample/cases.jsonl")).unwrap();
    let text = String::from_utf8(sample.clone()).unwrap();
    let start: usize = text.split_inclusive('\n').take(5).map(str::len).sum();
    let comma = start + text[start..].find('，').unwrap();
    let mut bytes = sample;
    bytes.splice(comma..comma + '，'.len_utf8(), [0xFF]);
    let input = dir.path().join("cases.jsonl");
    std::fs::write(&input, &bytes).unwrap();
    let (out, o) = run(dir.path(), &[&input], &[], 3);
    let total = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        stderr(&o).contains(&format!("读入 {total}，研判 {}，拒收 1", total - 1)),
        "{}",
        stderr(&o)
    );
    let rejects = jsonl(&out.join("rejects.jsonl"));
    assert_eq!(rejects[0]["line"], 6);
    let col = comma - start + 1;
    let reason = rejects[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("第 6 行第 {col} 字节")),
        "{reason}"
    );
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(m["inputs"][0]["encoding"], "utf-8");
    assert_eq!(m["inputs"][0]["fallback_lines"], 0);

    // The same in a GBK CSV: one damaged row, the rest read as GBK.
    let mut gbk = std::fs::read(root().join("corpora/sample/cases_gbk.csv")).unwrap();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(
            gbk.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let at = line_starts[9]
        + gbk[line_starts[9]..]
            .iter()
            .position(|b| *b >= 0x81)
            .unwrap();
    gbk[at] = 0xFF;
    let input = dir.path().join("cases_gbk.csv");
    std::fs::write(&input, &gbk).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let (out, _) = run(dir2.path(), &[&input], &[], 3);
    let rejects = jsonl(&out.join("rejects.jsonl"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["line"], 10);
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert_eq!(m["inputs"][0]["encoding"], "gb18030");
}

#[test]
fn an_unclosed_quote_is_one_reject_and_reading_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = "编号,登记日期,内容\n".to_string();
    for i in 1..=100 {
        if i == 10 {
            text += "R10,2026-01-01,\"他说不给钱就不走\n";
        } else {
            text += &format!("R{i},2026-01-01,拖欠工资三个月\n");
        }
    }
    let input = dir.path().join("q.csv");
    std::fs::write(&input, text).unwrap();
    let (out, o) = run(dir.path(), &[&input], &[], 3);
    assert!(
        stderr(&o).contains("读入 100，研判 99，拒收 1"),
        "{}",
        stderr(&o)
    );
    let rejects = jsonl(&out.join("rejects.jsonl"));
    assert_eq!(rejects[0]["line"], 11);
    assert!(rejects[0]["reason"].as_str().unwrap().contains("引号"));
    assert!(!read(&out.join("rejects.jsonl")).contains("不给钱"));
}

#[test]
fn bad_optional_fields_never_drop_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let text = "编号,登记日期,人数,信访层级,内容\n\
                R1,2026-01-01,约30,,再不解决我就喝农药死给你们看\n\
                R2,2026-01-01,三十,縣,拖欠工资\n\
                R3,2026-01-01,３０,火星,拖欠工资\n\
                R4,2026-01-01,3.7,省,拖欠工资\n\
                R5,昨天,3,省,拖欠工资\n";
    let input = dir.path().join("f.csv");
    std::fs::write(&input, text).unwrap();
    let (out, o) = run(dir.path(), &[&input], &[], 3);
    assert!(
        stderr(&o).contains("读入 5，研判 4，拒收 1；字段备注 6"),
        "{}",
        stderr(&o)
    );
    let list = jsonl(&out.join("warnings.jsonl"));
    let r1 = list.iter().find(|v| v["id"] == "R1").unwrap();
    assert_eq!(r1["tier"], "红");
    assert_eq!(r1["persons"], 30);
    let r2 = list.iter().find(|v| v["id"] == "R2").unwrap();
    assert_eq!(
        (r2["persons"].clone(), r2["target_level"].clone()),
        (30.into(), "县".into())
    );
    let r4 = list.iter().find(|v| v["id"] == "R4").unwrap();
    assert!(r4["persons"].is_null());
    let notes = jsonl(&out.join("notes.jsonl"));
    let got: Vec<(u64, &str, &str)> = notes
        .iter()
        .map(|n| {
            (
                n["line"].as_u64().unwrap(),
                n["field"].as_str().unwrap(),
                n["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (2, "persons", "lenient"),
            (3, "persons", "lenient"),
            (3, "target_level", "lenient"),
            (4, "persons", "lenient"),
            (4, "target_level", "unknown"),
            (5, "persons", "unknown"),
        ]
    );
    // Notes name the field and the reason, never the value.
    assert!(!read(&out.join("notes.jsonl")).contains("火星"));
    assert!(read(&out.join("summary.md")).contains(&format!("字段备注 {} 条", notes.len())));
    // Only the unreadable date is a reject.
    assert_eq!(jsonl(&out.join("rejects.jsonl")).len(), 1);
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".triage-"))
        .collect()
}

#[test]
fn a_run_killed_late_leaves_the_previous_set_whole() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("big.jsonl");
    let o = triage(&[
        "corpus",
        "generate",
        "--count",
        "20000",
        "--out",
        corpus.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sample = root().join("corpora/sample/cases.jsonl");
    let (out, _) = run(dir.path(), &[&sample], &["--profile"], 0);
    assert!(out.join("profile.md").exists());
    let before = snapshot(&out);

    // Kill -9 as late as we can see: once the new list is being written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["run", corpus.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut killed = false;
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let late = std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let p = e.unwrap().path();
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".out.triage-new-"))
                && p.join("warnings.jsonl").exists()
        });
        if late || started.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let status = child.wait().unwrap();
    eprintln!("killed late: {killed}, status {status:?}");
    if killed && !status.success() {
        // The folder is exactly the previous set; the staging folder with
        // its case data is beside it until the next start.
        assert_eq!(
            snapshot(&out),
            before,
            "the killed run changed the output folder"
        );
        assert_consistent_set(&out);
    } else {
        assert_consistent_set(&out);
    }

    // The next run clears the leftovers, and a file it does not write
    // (profile.md, written only with --profile) is gone.
    let (out, _) = run(dir.path(), &[&sample], &[], 0);
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(
        !out.join("profile.md").exists(),
        "a stale profile.md survived"
    );
    assert!(
        std::fs::read_dir(&out).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')),
        "temporaries inside the output folder"
    );
    assert_consistent_set(&out);
}

#[test]
fn a_folder_with_other_files_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("我的笔记.docx"), b"x").unwrap();
    let sample = root().join("corpora/sample/cases.jsonl");
    let o = triage(&[
        "run",
        sample.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("我的笔记.docx"), "{}", stderr(&o));
    assert!(out.join("我的笔记.docx").exists());
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn rejects_and_stderr_echo_no_values() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"P1\",\"received\":\"110101199001011234\",\"text\":\"身份证110101199001011234，电话13812345678\"}\n\
         {\"id\":\"P2\",\"received\":\"2026-01-01\",\"text\":\"x\",\"channel\":\"电话13812345678\"}\n\
         {\"id\":\"P3\",\"received\":\"2026-01-01\",\"text\":\"要求赔偿13812345678\",\"title\":{\"a\":1},\"persons\":true}\n\
         {\"id\":\"13812345678\",\"received\":\"2026-01-01\",\"text\":\"a\"}\n\
         {\"id\":\"13812345678\",\"received\":\"2026-01-02\",\"text\":\"b\"}\n\
         {\"id\":\"P4\" \"received\":\"13812345678\"}\n",
    )
    .unwrap();
    let (out, o) = run(dir.path(), &[&input], &["--mask"], 3);
    let all = read(&out.join("rejects.jsonl")) + &stderr(&o) + &read(&out.join("notes.jsonl"));
    for secret in ["110101199001011234", "13812345678", "19900101", "要求赔偿"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    // --mask covers the channel too (case ids stay: they are the key).
    let list = jsonl(&out.join("warnings.jsonl"));
    let p2 = list.iter().find(|v| v["id"] == "P2").unwrap();
    assert_eq!(p2["channel"], "电话138****5678");

    // A CSV without a header row: the first case is not printed.
    let csv = dir.path().join("noheader.csv");
    std::fs::write(
        &csv,
        "XF1,2026-01-01,李四 身份证110101199001011234 要求补偿\n",
    )
    .unwrap();
    let o = triage(&[
        "run",
        csv.to_str().unwrap(),
        "--out",
        dir.path().join("o2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains("李四") && !err.contains("1990"), "{err}");
    assert!(err.contains("表头"), "{err}");
}

#[test]
fn the_csv_list_is_safe_in_spreadsheets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    std::fs::write(
        &input,
        "编号,登记日期,信访人,标题,地点,内容\n\
         007,2026-01-01,110101199001011234,\"=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",+1+2,我们几十户被强拆了\n\
         R2,2026-01-01,13812345678,@SUM(A1),-3,拆迁补偿不到位\n",
    )
    .unwrap();
    let (out, _) = run(dir.path(), &[&input], &[], 0);
    let bytes = std::fs::read(out.join("warnings.csv")).unwrap();
    let mut rdr = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\r')),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
    let r1 = rows
        .iter()
        .find(|r| r[col("编号")].trim() == "007")
        .unwrap();
    assert_eq!(&r1[col("编号")], "\t007");
    assert_eq!(&r1[col("信访人")], "\t110101199001011234");
    assert_eq!(&r1[col("标题")], "'=HYPERLINK(\"http://x\",\"点我\")");
    assert_eq!(&r1[col("地点")], "'+1+2");
    // Stripping the guard gives the value back.
    assert_eq!(
        r1[col("标题")].strip_prefix('\'').unwrap(),
        "=HYPERLINK(\"http://x\",\"点我\")"
    );
}

#[test]
fn wrong_arguments_are_usage_errors_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let sample = root().join("corpora/sample/cases.jsonl");
    let s = sample.to_str().unwrap();
    let out = dir.path().join("out");
    let o_ = out.to_str().unwrap();
    let code_and_err = |args: &[&str]| {
        let o = triage(args);
        (o.status.code(), stderr(&o))
    };
    // Threads: capped with a message, and the run finishes.
    let (code, err) = code_and_err(&["run", s, "--threads", "99999999999", "--out", o_]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("超过上限"), "{err}");
    let (code, _) = code_and_err(&["run", s, "--threads", "0", "--out", o_]);
    assert_eq!(code, Some(0));
    // The same file twice, also under another name.
    let other = format!(
        "{}/../sample/cases.jsonl",
        root().join("corpora/sample").display()
    );
    let (code, err) = code_and_err(&["run", s, &other, "--out", o_]);
    assert_eq!(code, Some(2));
    assert!(err.contains("输入文件重复"), "{err}");
    // Workbooks, by name and by content.
    let xlsx = dir.path().join("导出.xlsx");
    std::fs::write(&xlsx, b"PK\x03\x04....").unwrap();
    let fake = dir.path().join("导出.csv");
    std::fs::write(&fake, b"PK\x03\x04....").unwrap();
    for p in [&xlsx, &fake] {
        let (code, err) = code_and_err(&["run", p.to_str().unwrap(), "--out", o_]);
        assert_eq!(code, Some(2));
        assert_eq!(err.matches("请另存为 CSV（UTF-8）").count(), 1, "{err}");
    }
    // An unknown extension needs --format.
    let txt = dir.path().join("cases.txt");
    std::fs::copy(&sample, &txt).unwrap();
    let (code, err) = code_and_err(&["run", txt.to_str().unwrap(), "--out", o_]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--format"), "{err}");
    let (code, _) = code_and_err(&[
        "run",
        txt.to_str().unwrap(),
        "--format",
        "jsonl",
        "--out",
        o_,
    ]);
    assert_eq!(code, Some(0));
    // A missing required column lists the accepted headers.
    let nocol = dir.path().join("nocol.csv");
    std::fs::write(&nocol, "编号,登记日期,标题\nA,2026-01-01,x\n").unwrap();
    let (code, err) = code_and_err(&["run", nocol.to_str().unwrap(), "--out", o_]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("内容（text）") && err.contains("信访内容、反映内容"),
        "{err}"
    );
    // A missing input: a Chinese message naming it, and no output folder.
    let fresh = dir.path().join("fresh");
    let (code, err) = code_and_err(&[
        "run",
        "没有这个文件.jsonl",
        "--out",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("没有这个文件.jsonl") && err.contains("不存在"),
        "{err}"
    );
    assert!(!fresh.exists(), "an empty output folder was left behind");
}

#[test]
fn tune_capacity_gives_k_a_night_once_applied() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let c = corpus.to_str().unwrap();
    assert!(
        triage(&["corpus", "generate", "--count", "3000", "--out", c])
            .status
            .success()
    );
    let rules = dir.path().join("rules");
    assert!(
        triage(&["rules", "export", rules.to_str().unwrap()])
            .status
            .success()
    );
    let scoring_path = rules.join("scoring.toml");
    let scoring = read(&scoring_path);
    let nights = {
        let mut d: Vec<String> = jsonl(&corpus)
            .iter()
            .map(|v| v["received"].as_str().unwrap().to_string())
            .collect();
        d.sort();
        d.dedup();
        d.len() as f64
    };
    let mut proposed = Vec::new();
    for k in [3.0, 5.0] {
        let frag = dir.path().join(format!("tiers-{k}.toml"));
        let o = triage(&[
            "tune",
            "--corpus",
            c,
            "--capacity",
            &k.to_string(),
            "--out",
            frag.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let frag = read(&frag);
        // Apply the fragment: its [tiers] replaces the one in scoring.toml.
        let start = scoring.find("\n[tiers]\n").unwrap() + 1;
        let rest = &scoring[start..];
        let end = start + rest.find("\n\n").unwrap_or(rest.len());
        let tiers = &frag[frag.find("[tiers]").unwrap()..];
        std::fs::write(
            &scoring_path,
            format!(
                "{}{}{}",
                &scoring[..start],
                tiers.trim_end(),
                &scoring[end..]
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("out-{k}"));
        let o = triage(&[
            "run",
            c,
            "--rules",
            rules.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let red_orange = jsonl(&out.join("warnings.jsonl"))
            .iter()
            .filter(|v| v["tier"] == "红" || v["tier"] == "橙")
            .count() as f64;
        let per_night = red_orange / nights;
        assert!(per_night <= k, "capacity {k}: {per_night:.2} a night");
        assert!(
            per_night > k * 0.6,
            "capacity {k}: only {per_night:.2} a night"
        );
        assert!(frag.contains(&format!("{per_night:.1} 件")), "{frag}");
        proposed.push(tiers.to_string());
    }
    assert_ne!(
        proposed[0], proposed[1],
        "different capacities, same thresholds"
    );
}

#[cfg(unix)]
#[test]
fn corpus_stream_writes_owner_only_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.jsonl");
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = triage(&[
        "corpus",
        "stream",
        "--size",
        "10KB",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn rejects_are_in_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("r.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"A\",\"received\":\"2026-01-01\",\"text\":\"a\"}\n\
         {\"id\":\"A\",\"received\":\"2026-01-02\",\"text\":\"b\"}\n\
         not json\n",
    )
    .unwrap();
    let (out, o) = run(dir.path(), &[&input], &[], 3);
    let lines: Vec<u64> = jsonl(&out.join("rejects.jsonl"))
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
    let err = stderr(&o);
    assert!(
        err.find(":2：").unwrap() < err.find(":3：").unwrap(),
        "{err}"
    );
}
