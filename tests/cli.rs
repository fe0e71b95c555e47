//! End-to-end tests of the `triage` binary: outputs, rejects and their
//! accounting, encodings, determinism across thread counts, explain,
//! check, rules export and the golden list of a small fixed input.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::process::Output;

use common::bin::*;

/// `triage run ARGS --out DIR` into a new temporary directory, checked
/// for the exit code `code`.
fn run_into(args: &[&str], code: i32) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap().to_string();
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend(["--out", dir.as_str()]);
    let o = triage(&all);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    (out, o)
}

#[test]
fn run_on_the_bundled_sample_writes_every_output() {
    let (out, _) = run_into(
        &["corpora/sample/cases.jsonl", "corpora/sample/cases_gbk.csv"],
        0,
    );
    for f in [
        "warnings.jsonl",
        "warnings.csv",
        "summary.md",
        "rejects.jsonl",
        "manifest.json",
    ] {
        let p = out.path().join(f);
        assert!(p.exists(), "{f} missing");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f} is readable by others");
        }
    }
    let csv = std::fs::read(out.path().join("warnings.csv")).unwrap();
    assert!(
        csv.starts_with(b"\xEF\xBB\xBF"),
        "CSV must start with a UTF-8 BOM"
    );
    let csv = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(csv.starts_with("排名,预警等级,危机,风险分,编号"));
    assert_eq!(csv.lines().count(), 361);

    // Crisis cases first, then by risk.
    let risks: Vec<(bool, u64)> = read(&out.path().join("warnings.jsonl"))
        .lines()
        .map(|l| {
            let v = serde_json::from_str::<serde_json::Value>(l).unwrap();
            (v["crisis"].as_bool().unwrap(), v["risk"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(risks.len(), 360);
    assert!(
        risks.windows(2).all(|w| w[0] >= w[1]),
        "list not sorted crisis first, then by risk"
    );
    assert!(risks.iter().any(|r| r.0), "the sample has crisis cases");

    let m: serde_json::Value =
        serde_json::from_str(&read(&out.path().join("manifest.json"))).unwrap();
    assert_eq!(m["counts"]["read"], 360);
    assert_eq!(m["inputs"][1]["encoding"], "gb18030");
    assert_eq!(m["rules_sha256"].as_str().unwrap().len(), 64);
    let summary = read(&out.path().join("summary.md"));
    assert!(summary.contains("读入 360 条，完成研判 360 条，拒收 0 条"));
    // The sample covers every class, 其他, and every tier.
    for c in [
        "城建拆迁",
        "涉军群体",
        "企业改制",
        "库区移民",
        "历史遗留",
        "环境污染",
        "其他",
    ] {
        assert!(
            summary.contains(&format!("| {c} |")),
            "no {c} in the sample"
        );
    }
    // No case text in the manifest.
    assert!(!read(&out.path().join("manifest.json")).contains("强拆"));
}

#[test]
fn malformed_records_are_rejected_with_line_numbers_and_accounted_for() {
    let (out, o) = run_into(&["tests/data/mixed.jsonl"], 3);
    let err = stderr(&o);
    assert!(err.contains("读入 9，研判 5，拒收 4；字段备注 2"), "{err}");
    let rejects: Vec<serde_json::Value> = read(&out.path().join("rejects.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lines: Vec<u64> = rejects
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 9]);
    let reasons: Vec<&str> = rejects
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("JSON"));
    assert!(reasons[1].contains("登记日期"));
    assert!(reasons[2].contains("text"));
    assert!(reasons[3].contains("重复") && reasons[3].contains("第 2 行"));
    // A bad optional field keeps the case, with a note.
    let notes: Vec<serde_json::Value> = read(&out.path().join("notes.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let noted: Vec<(u64, &str)> = notes
        .iter()
        .map(|n| (n["line"].as_u64().unwrap(), n["field"].as_str().unwrap()))
        .collect();
    assert_eq!(noted, [(7, "persons"), (8, "target_level")]);
    // Rejects carry no case text.
    assert!(!read(&out.path().join("rejects.jsonl")).contains("人数写错了"));
    let summary = read(&out.path().join("summary.md"));
    assert!(summary.contains("读入 9 条，完成研判 5 条，拒收 4 条"));
    assert!(summary.contains("字段备注 2 条"));
}

#[test]
fn gbk_csv_with_chinese_headers_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let text = "编号,登记日期,信访形式,信访人,人数,信访层级,标题,信访内容\r\n\
                C-1,2026年3月2日,来访,张某、李某,40,省,拆迁,\"我们四十多户被强拆，准备进京\"\r\n\
                C-2,2026/3/3,来信,王某,1,县,污染,化工厂偷排废水\r\n\
                C-3,坏日期,来信,王某,1,县,污染,化工厂偷排废水\r\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let input = dir.path().join("导出.csv");
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("out");
    let o = triage(&[
        "run",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let list = read(&out.join("warnings.jsonl"));
    let first: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "C-1");
    assert_eq!(first["primary_class"], "城建拆迁");
    assert_eq!(first["persons"], 40);
    assert_eq!(first["target_level"], "省");
    assert_eq!(first["petitioner_ids"], serde_json::json!(["张某", "李某"]));
    let rejects = read(&out.join("rejects.jsonl"));
    assert!(rejects.contains("\"line\":4"), "{rejects}");
    // Forcing the wrong encoding refuses the rows instead of garbling them.
    let out2 = dir.path().join("out2");
    let o = triage(&[
        "run",
        input.to_str().unwrap(),
        "--encoding",
        "utf8",
        "--out",
        out2.to_str().unwrap(),
    ]);
    // The header cannot be read: a usage error, and nothing is written.
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("UTF-8") && stderr(&o).contains("--encoding gbk"));
    assert!(!out2.exists());
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let o = triage(&[
            "run",
            "corpora/sample/cases.jsonl",
            "corpora/sample/cases_gbk.csv",
            "--threads",
            threads,
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    for f in ["warnings.jsonl", "warnings.csv", "summary.md"] {
        assert!(
            read(&a.path().join(f)) == read(&b.path().join(f)),
            "{f} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn masking_hides_id_and_phone_numbers() {
    let (out, _) = run_into(&["tests/golden/triage/input.jsonl", "--mask"], 0);
    let list = read(&out.path().join("warnings.jsonl")) + &read(&out.path().join("warnings.csv"));
    assert!(!list.contains("110101199001011234"));
    assert!(list.contains("110101********1234"));
}

#[test]
fn golden_list_for_a_small_fixed_input() {
    // Pinned to a date so the summary's first line (the date and the
    // sensitive period in force) does not change from day to day.
    let (out, _) = run_into(
        &["tests/golden/triage/input.jsonl", "--as-of", "2026-03-10"],
        0,
    );
    let golden = root().join("tests/golden/triage");
    let update = std::env::var_os("UPDATE_GOLDENFILES").is_some();
    for f in ["warnings.jsonl", "warnings.csv", "summary.md"] {
        let got = read(&out.path().join(f));
        let want_path = golden.join(f);
        if update {
            std::fs::write(&want_path, &got).unwrap();
        } else {
            let want = read(&want_path);
            assert!(
                got == want,
                "{f} differs from the golden file; rerun with UPDATE_GOLDENFILES=1 if the change is intended\n--- got\n{got}"
            );
        }
    }
}

#[test]
fn explain_shows_scores_highlights_and_a_ledger_that_adds_up() {
    let o = triage(&[
        "explain",
        "--text",
        "我们村三十多户的房子去年被强拆，补偿款到现在还没到位，大家准备下个月一起去北京上访。",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("主类别：城建拆迁"), "{s}");
    assert!(s.contains("【强拆】"), "{s}");
    assert!(s.contains("【三十多户】"), "{s}");
    assert!(s.contains("风险分账"), "{s}");
    // The ledger lines add up to the total printed.
    let mut total = 0.0;
    let mut risk = None;
    let mut in_ledger = false;
    for line in s.lines() {
        if line.starts_with("风险分账") {
            in_ledger = true;
            continue;
        }
        if in_ledger {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("= ") {
                risk = rest.split('（').next().map(|n| n.parse::<f64>().unwrap());
                break;
            }
            if let Some(n) = t
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
            {
                total += n;
            }
        }
    }
    assert_eq!(Some(total.round()), risk, "{s}");

    let o = triage(&[
        "explain",
        "--input",
        "tests/golden/triage/input.jsonl",
        "--id",
        "G-07",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("库区移民"));

    let o = triage(&["explain", "--rule", "SKP-001"]);
    assert!(stdout(&o).contains("进京"), "{}", stdout(&o));
    assert!(stdout(&o).contains("skip_level.toml"));

    // A regex rule says where it runs.
    let o = triage(&["explain", "--rule", "KQ-003"]);
    assert!(
        stdout(&o).contains("运行范围：只在含有 每人每年 之一的分句中运行"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_passes_on_default_rules_and_fails_with_locations() {
    let o = triage(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("规则检查通过"));

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let o = triage(&["rules", "export", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = triage(&["check", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    std::fs::write(rules.join("classes/extra.toml"), "[[rule]]\nid = \"CJ-001\"\ndescription = \"重复\"\ntarget = \"城建拆迁\"\nkind = \"keywords\"\nweight = 3\nany = [\"拆\"]\n").unwrap();
    let o = triage(&["check", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("E003") && err.contains("extra.toml:2:6"),
        "{err}"
    );
    // A broken set is refused by run too.
    let o = triage(&[
        "run",
        "tests/golden/triage/input.jsonl",
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("o").exists());

    let o = triage(&["check", rules.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["errors"], 1);
    assert_eq!(v["diagnostics"][0]["line"], 2);
}

/// A rule editor adds a keyword to an exported rule file and sees the effect.
#[test]
fn editing_a_keyword_file_changes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    assert_eq!(
        triage(&["rules", "export", rules.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let text = "村口那条水渠里长满青苔";
    let before = stdout(&triage(&[
        "explain",
        "--rules",
        rules.to_str().unwrap(),
        "--text",
        text,
    ]));
    assert!(before.contains("主类别：其他"), "{before}");
    let path = rules.join("classes/huanjing_wuran.toml");
    let edited = read(&path).replacen(
        "\"环境污染\", \"污染环境\",",
        "\"环境污染\", \"污染环境\", \"长满青苔\",",
        1,
    );
    assert_ne!(edited, read(&path));
    std::fs::write(&path, edited).unwrap();
    let after = stdout(&triage(&[
        "explain",
        "--rules",
        rules.to_str().unwrap(),
        "--text",
        text,
    ]));
    assert!(after.contains("主类别：环境污染"), "{after}");
    assert!(after.contains("【长满青苔】"), "{after}");
}

/// The analyst's loop: generate a labeled corpus, evaluate, compare a
/// changed rule set, tune the thresholds.
#[test]
fn generate_evaluate_compare_and_tune() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("bench.jsonl");
    let o = triage(&[
        "corpus",
        "generate",
        "--seed",
        "3",
        "--count",
        "400",
        "--out",
        corpus.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let again = dir.path().join("again.jsonl");
    triage(&[
        "corpus",
        "generate",
        "--seed",
        "3",
        "--count",
        "400",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(&corpus).unwrap(),
        std::fs::read(&again).unwrap()
    );

    let out = dir.path().join("eval");
    let o = triage(&[
        "eval",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("eval.json"))).unwrap();
    assert_eq!(report["cases"], 400);
    assert!(report["macro_f1"].as_f64().unwrap() > 0.3);
    assert!(read(&out.join("eval.md")).contains("混淆矩阵"));
    assert!(read(&out.join("sweep.svg")).starts_with("<svg"));

    let rules = dir.path().join("rules");
    triage(&["rules", "export", rules.to_str().unwrap()]);
    let path = rules.join("classes/huanjing_wuran.toml");
    std::fs::write(
        &path,
        read(&path).replacen(
            "\"环境污染\", \"污染环境\",",
            "\"环境污染\", \"污染环境\", \"放黑水\",",
            1,
        ),
    )
    .unwrap();
    let cmp = dir.path().join("cmp");
    let o = triage(&[
        "eval",
        "--corpus",
        corpus.to_str().unwrap(),
        "--baseline",
        "default",
        "--candidate",
        rules.to_str().unwrap(),
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = read(&cmp.join("compare.md"));
    assert!(md.contains("其他 → 环境污染"), "{md}");

    let o = triage(&[
        "tune",
        "--corpus",
        corpus.to_str().unwrap(),
        "--capacity",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fragment = stdout(&o);
    assert!(
        fragment.contains("[tiers]") && fragment.contains("\"橙\" = "),
        "{fragment}"
    );
    let parsed: toml::Value = toml::from_str(&fragment).unwrap();
    assert!(
        parsed["tiers"]["红"].as_integer().unwrap() > parsed["tiers"]["橙"].as_integer().unwrap()
    );
}

/// `--profile` lists the rules that cost most time and match most.
#[test]
fn profiles_rules_in_run_and_check() {
    let (out, _) = run_into(&["corpora/sample/cases.jsonl", "--profile"], 0);
    let md = read(&out.path().join("profile.md"));
    assert!(md.contains("| 规则 | 耗时（毫秒）"), "{md}");
    assert!(
        md.contains("| CJ-001 |") && md.contains("| GRP-001 |"),
        "{md}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&read(&out.path().join("manifest.json"))).unwrap();
    assert!(
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "profile.md")
    );
    let o = triage(&[
        "check",
        "--profile",
        "--corpus",
        "corpora/sample/cases.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("共 300 件"), "{}", stdout(&o));
}
