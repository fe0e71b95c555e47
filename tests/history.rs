//! The history store, repeat rules and clusters: idempotent re-runs,
//! import then run, each repeat rule at its edges, 老户, level climbing,
//! near-duplicate clusters, a run killed mid-way, the migration from
//! schema version 1, and what the store file holds.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use petition_triage::cluster::{self, Hasher, Item};
use petition_triage::history::rules::Event;
use petition_triage::history::{HistoryRules, StateKey, Store, store};
use petition_triage::input::case::Level;
use petition_triage::{RuleSet, RuleSource};

const KEY: &str = "test-key-0123456789abcdef";

fn triage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .env("TRIAGE_STATE_KEY", KEY)
        .env_remove("TRIAGE_STATE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn case(id: &str, date: &str, who: &str, level: &str, text: &str) -> String {
    serde_json::json!({
        "id": id, "received": date, "petitioner_ids": [who], "target_level": level,
        "location": "城东区幸福路", "title": "反映问题", "text": text,
    })
    .to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn run(input: &Path, out: &Path, state: &Path) -> Output {
    let o = triage(&[
        "run",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "-q",
    ]);
    ok(&o);
    o
}

fn verdicts(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("warnings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn find<'a>(vs: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    vs.iter().find(|v| v["id"] == id).unwrap()
}

fn rules_fired(v: &serde_json::Value) -> Vec<String> {
    v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap().to_string())
        .collect()
}

const CHAI: &str = "我家房子去年被强拆，补偿款到现在还没有到位，要求按政策补偿。";

#[test]
fn rerunning_the_same_input_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        &[
            case("A1", "2026-03-01", "P1", "县", CHAI),
            case("A2", "2026-03-02", "P1", "县", CHAI),
            case("A3", "2026-03-03", "P2", "市", "厂里拖欠工资半年了。"),
        ],
    );
    let state = dir.path().join("h.sqlite");
    let (o1, o2) = (dir.path().join("o1"), dir.path().join("o2"));
    run(&input, &o1, &state);
    let second = run(&input, &o2, &state);
    assert!(String::from_utf8_lossy(&second.stderr).contains("新增 0，更新 0，未变 3"));
    assert_eq!(
        std::fs::read(o1.join("warnings.jsonl")).unwrap(),
        std::fs::read(o2.join("warnings.jsonl")).unwrap()
    );
    let vs = verdicts(&o2);
    // A2 sees A1 once; A1 is nobody's repeat of itself.
    assert!(rules_fired(find(&vs, "A2")).contains(&"HX-001".to_string()));
    assert!(rules_fired(find(&vs, "A1")).contains(&"HX-004".to_string()));
    let key = StateKey::from_bytes(KEY.as_bytes());
    let s = Store::open(&state, &key).unwrap();
    assert_eq!(s.stats().unwrap().cases, 3);
    assert_eq!(s.stats().unwrap().petitioners, 2);

    // A changed letter under a known id updates its record.
    let changed = write(
        dir.path(),
        "in2.jsonl",
        &[case(
            "A3",
            "2026-03-03",
            "P2",
            "市",
            "厂里拖欠工资一年了，还打人。",
        )],
    );
    let third = run(&changed, &dir.path().join("o3"), &state);
    assert!(String::from_utf8_lossy(&third.stderr).contains("新增 0，更新 1"));
}

#[test]
fn import_then_run_finds_the_earlier_cases() {
    let dir = tempfile::tempdir().unwrap();
    let past = write(
        dir.path(),
        "past.jsonl",
        &[
            case("H1", "2024-06-01", "430123198001011234", "省", CHAI),
            case("H2", "2025-05-01", "430123198001011234", "国家", CHAI),
        ],
    );
    let state = dir.path().join("h.sqlite");
    let o = triage(&[
        "history",
        "import",
        past.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "-q",
    ]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("新增 2"));
    let stats = triage(&["history", "stats", "--state", state.to_str().unwrap()]);
    ok(&stats);
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(text.contains("案件 2，信访人 1"), "{text}");
    assert!(text.contains("2024-06-01 至 2025-05-01"), "{text}");

    // Tonight: the same person (id written differently) at the province again.
    let tonight = write(
        dir.path(),
        "t.jsonl",
        &[case("T1", "2026-05-01", "430123198001011234 ", "省", CHAI)],
    );
    let out = dir.path().join("out");
    run(&tonight, &out, &state);
    let vs = verdicts(&out);
    let t1 = find(&vs, "T1");
    let fired = rules_fired(t1);
    assert!(fired.contains(&"HX-001".to_string()), "{fired:?}");
    assert!(fired.contains(&"HX-002".to_string()), "{fired:?}");
    let note = t1["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule"] == "HX-002")
        .unwrap()["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("H1") && note.contains("H2"), "{note}");
    assert!(!note.contains("强拆"), "evidence lists ids, never text");

    // explain --state shows the history and the rules.
    let e = triage(&[
        "explain",
        "--input",
        tonight.to_str().unwrap(),
        "--id",
        "T1",
        "--state",
        state.to_str().unwrap(),
    ]);
    ok(&e);
    let text = String::from_utf8_lossy(&e.stdout);
    assert!(text.contains("2024-06-01  H1  省"), "{text}");
    assert!(text.contains("HX-002 老户"), "{text}");
    // The score explained is the run's, the repeat rules' points in it.
    let explained = text
        .lines()
        .find_map(|l| l.strip_prefix("风险分 "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok());
    assert_eq!(explained, t1["risk"].as_u64(), "{text}");

    // Forgetting the person erases their cases.
    let f = triage(&[
        "history",
        "forget",
        "--petitioner",
        "430123198001011234",
        "--state",
        state.to_str().unwrap(),
    ]);
    ok(&f);
    let key = StateKey::from_bytes(KEY.as_bytes());
    let s = Store::open(&state, &key).unwrap();
    assert_eq!(s.stats().unwrap().cases, 0);
}

/// `triage` with nothing of the store's in the environment but `env`.
fn triage_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_triage"));
    c.args(args)
        .env_remove("TRIAGE_STATE_KEY")
        .env_remove("TRIAGE_STATE")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn the_store_path_and_key_are_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let input = write(
        dir.path(),
        "in.jsonl",
        &[case("K1", "2026-05-01", "P1", "省", CHAI)],
    );

    // A bare --state takes TRIAGE_STATE, wherever it stands; the new
    // store and its key file are announced.
    let first = d("first.sqlite");
    let o = triage_env(
        &["run", &s(&input), "--out", &s(&d("o1")), "-q", "--state"],
        &[("TRIAGE_STATE", &s(&first))],
    );
    ok(&o);
    assert!(first.exists() && d("first.key").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("新建历史库"));

    // A mistyped store is refused by the commands that only read, and
    // nothing is created.
    let typo = d("nope/typo.sqlite");
    for args in [
        vec!["history", "stats", "--state", typo.to_str().unwrap()],
        vec![
            "explain",
            "--input",
            input.to_str().unwrap(),
            "--id",
            "K1",
            "--state",
            typo.to_str().unwrap(),
        ],
    ] {
        let o = triage_env(&args, &[]);
        assert_ne!(o.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&o.stderr).contains("不存在"));
        assert!(
            o.stdout.is_empty(),
            "nothing is explained before the store opens"
        );
    }
    assert!(!d("nope").exists());

    // A copy without its key file is refused, and no new key is made
    // beside it; the key file's text in TRIAGE_STATE_KEY opens it.
    let copy = d("copy.sqlite");
    std::fs::copy(&first, &copy).unwrap();
    let o = triage_env(&["history", "stats", "--state", &s(&copy)], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("密钥文件"));
    assert!(!d("copy.key").exists());
    let key_text = std::fs::read_to_string(d("first.key")).unwrap();
    let o = triage_env(
        &["history", "stats", "--state", &s(&copy)],
        &[("TRIAGE_STATE_KEY", key_text.trim())],
    );
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("案件 1"));

    // A file that is not a database is named as such, and left alone.
    let text = write(dir.path(), "notes.sqlite", &["not a store".to_string()]);
    let o = triage_env(
        &[
            "run",
            &s(&input),
            "--out",
            &s(&d("o2")),
            "-q",
            "--state",
            &s(&text),
        ],
        &[],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("不是历史库"));
    assert!(!d("notes.key").exists());
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "not a store\n");

    // --state before the inputs would take the input as the store.
    let o = triage_env(
        &[
            "run",
            "--out",
            &s(&d("o3")),
            "--state",
            &s(&input),
            &s(&input),
        ],
        &[],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("像是案件文件"));
}

#[test]
fn an_import_names_the_records_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = vec![case("I1", "2025-01-01", "P1", "县", CHAI)];
    lines.push("{\"id\": broken".to_string());
    lines.push(case("I2", "2025-02-01", "P1", "市", CHAI));
    let input = write(dir.path(), "past.jsonl", &lines);
    let state = dir.path().join("h.sqlite");
    let o = triage(&[
        "history",
        "import",
        input.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "refused records: exit 3, as a run"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("读入 3，拒收 1；新增 2"), "{err}");
    assert!(
        err.contains("past.jsonl:2："),
        "the refused line is named: {err}"
    );

    // A name whose format is unknown needs --format, and then imports.
    let txt = dir.path().join("export.txt");
    std::fs::copy(&input, &txt).unwrap();
    let o = triage(&[
        "history",
        "import",
        txt.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format"));
    let o = triage(&[
        "history",
        "import",
        txt.to_str().unwrap(),
        "--format",
        "jsonl",
        "--state",
        state.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("未变 2"));
}

#[test]
fn forget_before_erases_the_older_cases_and_asks_before_erasing_all() {
    let dir = tempfile::tempdir().unwrap();
    let past = write(
        dir.path(),
        "past.jsonl",
        &[
            case("F1", "2024-01-01", "P1", "县", CHAI),
            case("F2", "2025-06-01", "P2", "市", CHAI),
        ],
    );
    let state = dir.path().join("h.sqlite");
    let st = state.to_str().unwrap();
    ok(&triage(&[
        "history",
        "import",
        past.to_str().unwrap(),
        "--state",
        st,
        "-q",
    ]));
    let cases = || {
        let key = StateKey::from_bytes(KEY.as_bytes());
        Store::open(&state, &key).unwrap().stats().unwrap().cases
    };
    // Exclusive: the day itself stays.
    let o = triage(&["history", "forget", "--before", "2025-06-01", "--state", st]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 件"));
    assert_eq!(cases(), 1);
    // A date after today would erase everything: refused without --yes.
    let o = triage(&["history", "forget", "--before", "2999-01-01", "--state", st]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yes"));
    assert_eq!(cases(), 1);
    // Someone the store never saw: said so, nothing erased.
    let o = triage(&["history", "forget", "--petitioner", "NOBODY", "--state", st]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("没有这位信访人的记录"));
    assert_eq!(cases(), 1);
    ok(&triage(&[
        "history",
        "forget",
        "--before",
        "2999-01-01",
        "--yes",
        "--state",
        st,
    ]));
    assert_eq!(cases(), 0);
}

fn history_rules() -> HistoryRules {
    let set = RuleSet::load(RuleSource::builtin()).unwrap();
    let h = HistoryRules::load(&set.source, &set.scoring).unwrap();
    assert!(h.run_examples().is_empty());
    h
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() - chrono::Duration::days(n)
}

/// The ids of the rules that fire on a case at `level` of `class` today,
/// after `past` = (days before, class, level).
fn fired(h: &HistoryRules, class: &str, level: Level, past: &[(i64, &str, Level)]) -> Vec<String> {
    let ids: Vec<String> = (0..past.len()).map(|i| format!("E{i}")).collect();
    let events: Vec<Event<'_>> = past
        .iter()
        .zip(&ids)
        .map(|((d, c, l), id)| Event {
            id,
            received: day(*d),
            level: Some(*l),
            class: c,
        })
        .collect();
    let now = Event {
        id: "NOW",
        received: day(0),
        level: Some(level),
        class,
    };
    h.evaluate(&now, &events)
        .into_iter()
        .map(|f| h.rules[f.rule].id.clone())
        .collect()
}

use Level::{City, County, National, Province, Township};

#[test]
fn repeat_visit_window_is_inclusive() {
    let h = history_rules();
    let c = "城建拆迁";
    assert!(fired(&h, c, County, &[(365, c, County)]).contains(&"HX-001".into()));
    assert!(!fired(&h, c, County, &[(366, c, County)]).contains(&"HX-001".into()));
    assert!(
        fired(&h, c, County, &[(0, c, County)]).is_empty() || {
            // Same day: counts only when its id sorts first (E0 < NOW).
            fired(&h, c, County, &[(0, c, County)]).contains(&"HX-001".into())
        }
    );
    assert!(!fired(&h, c, County, &[(10, "环境污染", County)]).contains(&"HX-001".into()));
    // A case later than tonight's is not history.
    assert!(!fired(&h, c, County, &[(-5, c, County)]).contains(&"HX-001".into()));
}

#[test]
fn laohu_is_three_provincial_or_national_visits_in_730_days() {
    let h = history_rules();
    let c = "企业改制";
    let l = |v: Vec<String>| v.contains(&"HX-002".to_string());
    // Exactly 3 with tonight's, the oldest exactly 730 days before.
    assert!(l(fired(
        &h,
        c,
        Province,
        &[(730, c, Province), (100, c, National)]
    )));
    // The oldest 731 days before: only 2 in the window.
    assert!(!l(fired(
        &h,
        c,
        Province,
        &[(731, c, Province), (100, c, National)]
    )));
    // Three visits, but one only to the city.
    assert!(!l(fired(
        &h,
        c,
        National,
        &[(300, c, Province), (200, c, City)]
    )));
    // Tonight's case at the county does not count, three earlier ones do.
    assert!(!l(fired(
        &h,
        c,
        County,
        &[(300, c, Province), (200, c, National)]
    )));
    assert!(l(fired(
        &h,
        c,
        County,
        &[(300, c, Province), (200, c, Province), (100, c, National)]
    )));
    // Classes do not matter for 老户.
    assert!(l(fired(
        &h,
        c,
        Province,
        &[(300, "城建拆迁", Province), (100, c, National)]
    )));
}

#[test]
fn levels_climbing_to_the_top() {
    let h = history_rules();
    let c = "库区移民";
    let climb = |v: Vec<String>| v.contains(&"HX-003".to_string());
    assert!(climb(fired(
        &h,
        c,
        National,
        &[
            (300, c, Township),
            (250, c, County),
            (200, c, City),
            (100, c, Province)
        ]
    )));
    assert!(climb(fired(
        &h,
        c,
        City,
        &[(200, c, Township), (100, c, County)]
    )));
    // Two levels only.
    assert!(!climb(fired(&h, c, City, &[(100, c, County)])));
    // Tonight's is not above every earlier one.
    assert!(!climb(fired(
        &h,
        c,
        City,
        &[(200, c, Township), (100, c, Province)]
    )));
    // Out of order: 市 before 县 does not make a climb to 省 of three steps… it does via 县 → 省? no:
    // 市(200) → 县(100) → 省: the longest rising chain is 市 → 省 or 县 → 省 (two levels).
    assert!(!climb(fired(
        &h,
        c,
        Province,
        &[(200, c, City), (100, c, County)]
    )));
    // The climb must fit the 365-day window.
    assert!(!climb(fired(
        &h,
        c,
        City,
        &[(366, c, Township), (100, c, County)]
    )));
}

#[test]
fn first_letter_and_return_after_close() {
    let h = history_rules();
    let c = "劳动社保";
    assert_eq!(fired(&h, c, County, &[]), vec!["HX-004".to_string()]);
    assert!(fired(&h, c, County, &[(61, c, County)]).contains(&"HX-005".into()));
    assert!(!fired(&h, c, County, &[(60, c, County)]).contains(&"HX-005".into()));
    assert!(!fired(&h, c, County, &[(731, c, County)]).contains(&"HX-005".into()));
    assert!(!fired(&h, c, County, &[(61, "环境污染", County)]).contains(&"HX-005".into()));
}

const LETTER: &str = "尊敬的领导：我叫{N}，是城东区幸福路棚户区改造项目的被征收户，身份证号{ID}，\
联系电话{PHONE}。{D}开发商强行拆除了我家房屋，至今没有签订安置协议，承诺的过渡费每月{M}元一分没发，\
我们一家老小只能租房居住。街道办说钱已经拨给开发商，开发商说要等审计，互相推诿。\
请求上级督促有关部门尽快落实安置房源，补发过渡费，依法给予补偿。";

fn copy(n: usize) -> String {
    let names = [
        "张三",
        "李小四",
        "王五",
        "赵六六",
        "钱七",
        "孙八",
        "周九九",
        "吴十",
    ];
    LETTER
        .replace("{N}", names[n % names.len()])
        .replace(
            "{ID}",
            &format!("43012319{:02}0101{:04}", 60 + n, 1000 + n * 7),
        )
        .replace("{PHONE}", &format!("139{:08}", 10_000_000 + n * 12_345))
        .replace("{D}", &format!("2025年{}月{}日", 1 + n % 12, 1 + n % 28))
        .replace("{M}", &format!("{}", 800 + n * 50))
}

fn item(h: &Hasher, id: String, text: &str) -> Item {
    let shingles = h.shingles(text);
    Item {
        id,
        received: day(0),
        class: "城建拆迁".into(),
        place: None,
        signature: h.signature(&shingles),
        shingles,
        tonight: true,
        petitioners: Vec::new(),
    }
}

#[test]
fn copies_with_other_names_dates_and_numbers_cluster_and_topics_do_not() {
    let h = Hasher::new(42, 5);
    let mut items: Vec<Item> = (0..12)
        .map(|n| item(&h, format!("C{n:02}"), &copy(n)))
        .collect();
    // Letters about the same topic, in their own words.
    let topic = [
        "我家在幸福路，房子被开发商拆了，安置房一直没有着落，过渡费也不给，希望政府管一管。",
        "棚户区改造拆迁后，开发商拖欠我们的过渡费，安置协议迟迟不签，街道和开发商互相推诿。",
        "城东区征收项目强拆民房，被征收户至今没有拿到补偿，请求依法处理。",
        "幸福路改造项目的安置房什么时候能交付？我们租房好几年了，过渡费每月只有几百元。",
    ];
    for (n, t) in topic.iter().enumerate() {
        items.push(item(&h, format!("T{n}"), t));
    }
    let (groups, work) = cluster::near_duplicates(&items, 0.8);
    assert_eq!(groups.len(), 1, "{groups:?}");
    let mut ids: Vec<&str> = groups[0].iter().map(|&i| items[i].id.as_str()).collect();
    ids.sort();
    assert_eq!(ids.len(), 12);
    assert!(ids.iter().all(|id| id.starts_with('C')));
    // Never every pair: 16 cases have 120 pairs.
    assert!(work.compared < 120, "{work:?}");
    for t in &items[12..] {
        for c in &items[..12] {
            assert!(cluster::jaccard(&t.shingles, &c.shingles) < 0.5);
        }
    }
}

#[test]
fn a_run_marks_cluster_members_and_the_summary_lists_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..6)
        .map(|n| {
            case(
                &format!("L{n}"),
                "2026-03-01",
                &format!("Q{n}"),
                "县",
                &copy(n),
            )
        })
        .collect();
    lines.push(case(
        "L9",
        "2026-03-01",
        "Q9",
        "县",
        "厂里拖欠工资半年了，老板跑了。",
    ));
    let input = write(dir.path(), "in.jsonl", &lines);
    let out = dir.path().join("out");
    run(&input, &out, &dir.path().join("h.sqlite"));
    let vs = verdicts(&out);
    let l0 = find(&vs, "L0");
    assert_eq!(l0["cluster"]["size"], 6);
    assert_eq!(l0["cluster"]["kind"], "near_duplicate");
    assert!(find(&vs, "L9").get("cluster").is_none());
    assert!(
        l0["ledger"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["source"] == "context" && l["target"] == "群体")
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("| ND-0001 | 近似相同的信 | 6 |"),
        "{summary}"
    );
    let csv = std::fs::read_to_string(out.join("warnings.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains(",聚类,"), "{csv}");
    let l0 = csv.lines().find(|l| l.contains(",L0,")).unwrap();
    assert!(l0.contains("ND-0001（近似相同的信 6 件）"), "{l0}");
    let manifest = |dir: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
    };
    let m = manifest(&out);
    // The copies, and the seven cases of one class about one place.
    assert_eq!(m["history"]["clusters_found"], 2, "{m}");
    assert!(
        m["history"]["store"]
            .as_str()
            .unwrap()
            .ends_with("h.sqlite")
    );
    // The same run without a store: no cluster, no history evidence.
    let plain = dir.path().join("plain");
    let o = triage(&[
        "run",
        input.to_str().unwrap(),
        "--out",
        plain.to_str().unwrap(),
        "--no-state",
        "-q",
    ]);
    ok(&o);
    let vs = verdicts(&plain);
    assert!(find(&vs, "L0").get("cluster").is_none());
    assert!(manifest(&plain).get("history").is_none());
    assert!(
        !std::fs::read_to_string(plain.join("summary.md"))
            .unwrap()
            .contains("聚类")
    );
}

#[test]
fn one_persons_copies_are_a_repeat_not_a_joint_letter() {
    let dir = tempfile::tempdir().unwrap();
    let night = |who: &dyn Fn(usize) -> String| -> Vec<String> {
        (0..4)
            .map(|n| case(&format!("M{n}"), "2026-03-01", &who(n), "县", &copy(n)))
            .collect()
    };
    // Four copies from one person: no cluster, whatever the kind.
    let one = write(dir.path(), "one.jsonl", &night(&|_| "Q7".to_string()));
    let out = dir.path().join("one");
    run(&one, &out, &dir.path().join("one.sqlite"));
    let vs = verdicts(&out);
    assert!(vs.iter().all(|v| v.get("cluster").is_none()), "{vs:?}");
    // The same four from two people: one cluster of four.
    let two = write(dir.path(), "two.jsonl", &night(&|n| format!("Q{}", n % 2)));
    let out = dir.path().join("two");
    run(&two, &out, &dir.path().join("two.sqlite"));
    let vs = verdicts(&out);
    assert_eq!(find(&vs, "M0")["cluster"]["size"], 4, "{vs:?}");

    // In the store's window, one person's earlier copy does not make
    // tonight's single copy a cluster either.
    let state = dir.path().join("later.sqlite");
    let first = write(
        dir.path(),
        "first.jsonl",
        &[case("E1", "2026-03-01", "Q8", "县", &copy(1))],
    );
    run(&first, &dir.path().join("e1"), &state);
    let second = write(
        dir.path(),
        "second.jsonl",
        &[case("E2", "2026-03-05", "Q8", "县", &copy(2))],
    );
    let out = dir.path().join("e2");
    run(&second, &out, &state);
    assert!(find(&verdicts(&out), "E2").get("cluster").is_none());
    let third = write(
        dir.path(),
        "third.jsonl",
        &[case("E3", "2026-03-06", "Q9", "县", &copy(3))],
    );
    let out = dir.path().join("e3");
    run(&third, &out, &state);
    assert_eq!(find(&verdicts(&out), "E3")["cluster"]["size"], 3);
}

#[test]
fn the_report_knows_a_cluster_by_its_members_not_by_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let wages = "我们是城东区幸福路电子厂的工人，厂里拖欠我们工资已经半年了，老板跑了，\
                 劳动监察大队说要等调查，我们一家老小没有生活来源，请求上级督促尽快解决欠薪问题，\
                 依法追回拖欠的工资和社保。联系人{N}，电话{P}。";
    let copies = |prefix: &str, text: &dyn Fn(usize) -> String| -> Vec<String> {
        (0..3)
            .map(|n| {
                let who = format!("{prefix}{n}");
                case(&format!("{prefix}{n}"), "2026-03-01", &who, "县", &text(n))
            })
            .collect()
    };
    let housing = copies("H", &copy);
    let wage = copies("A", &|n| {
        wages
            .replace("{N}", ["王五", "赵六", "孙七"][n])
            .replace("{P}", &format!("1391234{:04}", 5000 + n))
    });
    let out = dir.path().join("out");
    let state = dir.path().join("h.sqlite");
    // First night: the housing letters only; the second: both groups.
    // The wage letters' ids sort first, so their cluster takes the number
    // the housing cluster had.
    run(&write(dir.path(), "one.jsonl", &housing), &out, &state);
    let both: Vec<String> = wage.iter().chain(&housing).cloned().collect();
    run(&write(dir.path(), "two.jsonl", &both), &out, &state);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = html
        .split("增大的聚类")
        .nth(1)
        .and_then(|s| s.split("</div>").next())
        .unwrap()
        .to_string();
    assert!(section.contains("劳动社保：新出现，3 件"), "{section}");
    assert!(
        !section.contains("城建拆迁"),
        "unchanged, so not listed: {section}"
    );
}

#[test]
fn a_run_killed_midway_leaves_the_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("big.jsonl");
    ok(&triage(&[
        "corpus",
        "generate",
        "--count",
        "4000",
        "--out",
        corpus.to_str().unwrap(),
    ]));
    let state = dir.path().join("h.sqlite");
    // Import half first, so the store has something to lose.
    let key = StateKey::from_bytes(KEY.as_bytes());
    for delay in [50u64, 400, 1500] {
        let out = dir.path().join(format!("o{delay}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args([
                "run",
                corpus.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .args(["--state", state.to_str().unwrap(), "-q"])
            .env("TRIAGE_STATE_KEY", KEY)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        // SIGKILL.
        let _ = child.kill();
        let _ = child.wait();
        let s = Store::open(&state, &key).unwrap();
        assert!(s.integrity_ok().unwrap());
        let n = s.stats().unwrap().cases;
        assert!(n == 0 || n == 4000, "one transaction per run: {n}");
    }
    let out = dir.path().join("done");
    run(&corpus, &out, &state);
    let s = Store::open(&state, &key).unwrap();
    assert_eq!(s.stats().unwrap().cases, 4000);
}

#[test]
fn a_version_1_store_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let key = StateKey::from_bytes(KEY.as_bytes());
    let pkey = key.petitioner("P1").unwrap();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(store::SCHEMA_V1).unwrap();
        c.execute(
            "INSERT INTO meta(name, value) VALUES ('key_check', ?1)",
            [key.check_value().to_vec()],
        )
        .unwrap();
        for (id, d, lvl) in [("V1", "2025-01-01", 3), ("V2", "2025-06-01", 4)] {
            c.execute(
                "INSERT INTO cases VALUES (?1, ?2, ?3, '企业改制', '橙', 50, x'00')",
                rusqlite::params![id, d, lvl],
            )
            .unwrap();
            c.execute(
                "INSERT INTO petitioners VALUES (?1, ?2)",
                rusqlite::params![pkey.to_vec(), id],
            )
            .unwrap();
        }
        // Version 1 allowed a repeated link.
        c.execute(
            "INSERT INTO petitioners VALUES (?1, 'V1')",
            rusqlite::params![pkey.to_vec()],
        )
        .unwrap();
    }
    let s = Store::open(&path, &key).unwrap();
    assert_eq!(s.version().unwrap(), store::SCHEMA_VERSION);
    let past = s.petitioner_cases(&pkey).unwrap();
    assert_eq!(past.len(), 2);
    assert!(
        past.iter()
            .any(|p| p.case_id == "V2" && p.level == Some(National))
    );
    assert!(s.integrity_ok().unwrap());
    drop(s);
    // And a run uses it: tonight's provincial visit makes a 老户.
    let input = write(
        dir.path(),
        "t.jsonl",
        &[case("T1", "2026-05-01", "P1", "省", CHAI)],
    );
    let out = dir.path().join("out");
    run(&input, &out, &path);
    assert!(rules_fired(find(&verdicts(&out), "T1")).contains(&"HX-002".to_string()));
    // A store made with another key is refused.
    let other = StateKey::from_bytes(b"another key 0123456789");
    assert!(Store::open(&path, &other).is_err());
}

#[test]
fn a_version_2_store_is_migrated_with_its_sketches_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    let key = StateKey::from_bytes(KEY.as_bytes());
    let (p1, p2) = (key.petitioner("P1").unwrap(), key.petitioner("P2").unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(store::SCHEMA_V2).unwrap();
        c.execute(
            "INSERT INTO meta(name, value) VALUES ('key_check', ?1)",
            [key.check_value().to_vec()],
        )
        .unwrap();
        for (id, d) in [("W1", "2026-04-20"), ("W2", "2026-04-25")] {
            c.execute(
                "INSERT INTO cases VALUES (?1, ?2, 3, '企业改制', '橙', 50, x'00', NULL)",
                rusqlite::params![id, d],
            )
            .unwrap();
            for k in [p1, p2] {
                c.execute(
                    "INSERT INTO petitioners VALUES (?1, ?2, ?3, 3, '企业改制', '橙')",
                    rusqlite::params![k.to_vec(), id, d],
                )
                .unwrap();
            }
        }
        let sketch: Vec<u8> = (0u32..128).flat_map(|x| x.to_le_bytes()).collect();
        c.execute(
            "INSERT INTO sketches VALUES ('W2', '2026-04-25', ?1)",
            [sketch],
        )
        .unwrap();
    }
    let mut s = Store::open(&path, &key).unwrap();
    assert_eq!(s.version().unwrap(), store::SCHEMA_VERSION);
    assert!(s.integrity_ok().unwrap());
    // The links by person (now one row per person), the keys by case,
    // and the sketch survive.
    let mut past = s.petitioner_cases(&p2).unwrap();
    past.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    assert_eq!(past.len(), 2);
    assert_eq!(past[1].case_id, "W2");
    assert_eq!(
        past[1].received,
        chrono::NaiveDate::from_ymd_opt(2026, 4, 25).unwrap()
    );
    assert_eq!(past[1].level, Some(Level::Province));
    assert_eq!(past[1].class, "企业改制");
    assert_eq!(s.stats().unwrap().petitioners, 2);
    let mut keys = vec![p1, p2];
    keys.sort();
    assert_eq!(s.case_petitioners("W1").unwrap(), keys);
    let window = s
        .window(chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())
        .unwrap();
    let w2 = window.iter().find(|w| w.case_id == "W2").unwrap();
    assert_eq!(w2.sketch.as_ref().map(Vec::len), Some(128));
    assert!(
        window
            .iter()
            .find(|w| w.case_id == "W1")
            .unwrap()
            .sketch
            .is_none()
    );
    // Forgetting one person keeps the cases the other one shares.
    assert_eq!(s.forget_petitioner(&p1).unwrap(), (2, 0));
    assert_eq!(s.case_petitioners("W1").unwrap(), vec![p2]);
    assert_eq!(s.forget_petitioner(&p2).unwrap(), (2, 2));
    assert_eq!(s.stats().unwrap().cases, 0);
}

#[test]
fn the_store_holds_no_ids_names_phones_or_text() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = [
        (
            "430123198001011234",
            "张卫国",
            "13812345678",
            "村里的水库移民补助被村干部截留了好几年",
        ),
        (
            "43012319900202567X",
            "李秀英",
            "13987654321",
            "化工厂晚上偷排废水河里的鱼都死了",
        ),
    ];
    let lines: Vec<String> = secrets
        .iter()
        .enumerate()
        .map(|(i, (id, name, phone, text))| {
            serde_json::json!({
                "id": format!("S{i}"), "received": "2026-03-01", "petitioner_ids": [id, name],
                "location": "青山镇红星村", "title": format!("{name}的来信"),
                "text": format!("我叫{name}，电话{phone}。{text}。"),
            })
            .to_string()
        })
        .collect();
    let input = write(dir.path(), "in.jsonl", &lines);
    let state = dir.path().join("h.sqlite");
    run(&input, &dir.path().join("out"), &state);
    let mut bytes = Vec::new();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let p = f.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("h.sqlite")
        {
            bytes.extend(std::fs::read(&p).unwrap());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
        }
    }
    assert!(!bytes.is_empty());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (id, name, phone, text) in secrets {
        for needle in [id, name, phone, &text[..12], "青山镇", "来信"] {
            assert!(!contains(needle), "the store holds {needle:?}");
        }
    }
    // The key is not in the database either.
    assert!(!contains(KEY));
}

/// A night of 1,500 cases over many chunks: 250 petitioners with six
/// letters each on scattered dates and levels, copies of one letter,
/// and the same store behind every run.
fn scattered_night() -> Vec<String> {
    let levels = ["乡镇", "县", "市", "省", "国家"];
    let texts = [
        CHAI,
        "厂里拖欠工资半年了，老板跑了，我们几十个工人讨薪无门。",
        "小区旁边的化工厂天天排放废气，孩子咳嗽不止，要求停产整治。",
        "退休后社保待遇一直没有落实，多次到社保局反映没有结果。",
    ];
    let mut x: u64 = 12_345;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    let mut lines = Vec::new();
    for n in 0..1_500usize {
        let day = 1 + next(300);
        let date =
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(day as i64);
        // Some petitioners are known by their ID number (masked with --mask).
        let who = if n % 250 < 50 {
            format!("43012319800101{:04}", n % 250)
        } else {
            format!("R{:03}", n % 250)
        };
        let level = levels[next(5) as usize];
        let text = if n % 100 < 3 {
            copy(n)
        } else {
            texts[next(4) as usize].to_string()
        };
        lines.push(case(
            &format!("N{n:04}"),
            &date.format("%Y-%m-%d").to_string(),
            &who,
            level,
            &text,
        ));
    }
    lines
}

#[test]
fn the_list_does_not_depend_on_the_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let night = scattered_night();
    // Earlier nights: a store that already knows some of the petitioners.
    let past: Vec<String> = (0..300)
        .map(|n| {
            case(
                &format!("P{n:04}"),
                &format!("2025-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
                &format!("R{:03}", (n * 7) % 250),
                ["县", "省", "国家"][n % 3],
                CHAI,
            )
        })
        .collect();
    let past = write(dir.path(), "past.jsonl", &past);
    let filled = dir.path().join("filled.sqlite");
    ok(&triage(&[
        "history",
        "import",
        past.to_str().unwrap(),
        "--state",
        filled.to_str().unwrap(),
        "-q",
    ]));

    let mut reversed = night.clone();
    reversed.reverse();
    // Date order, as a night's export usually comes.
    let mut dated = night.clone();
    dated.sort_by_key(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["received"].as_str().unwrap().to_string()
    });
    let mut lists = Vec::new();
    for (name, lines) in [
        ("as-is", &night),
        ("reversed", &reversed),
        ("dated", &dated),
    ] {
        let input = write(dir.path(), &format!("{name}.jsonl"), lines);
        let state = dir.path().join(format!("{name}.sqlite"));
        std::fs::copy(&filled, &state).unwrap();
        let out = dir.path().join(name);
        run(&input, &out, &state);
        lists.push((
            name,
            std::fs::read_to_string(out.join("warnings.jsonl")).unwrap(),
        ));
    }
    let vs: Vec<serde_json::Value> = lists[0]
        .1
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(vs.len(), 1_500);
    // The store and tonight's earlier cases both count.
    let repeats = vs
        .iter()
        .filter(|v| {
            rules_fired(v)
                .iter()
                .any(|r| r.starts_with("HX-") && r != "HX-004")
        })
        .count();
    assert!(repeats > 1_000, "{repeats} cases with repeat evidence");
    assert!(vs.iter().any(|v| v.get("cluster").is_some()));
    for (name, list) in &lists[1..] {
        assert!(
            *list == lists[0].1,
            "the list of the {name} input differs from that of the input as it is"
        );
    }
    // Masked lists too: the amendments are masked like the rest.
    let mut masked = Vec::new();
    for name in ["reversed", "dated"] {
        let state = dir.path().join(format!("{name}-masked.sqlite"));
        std::fs::copy(&filled, &state).unwrap();
        let out = dir.path().join(format!("{name}-masked"));
        ok(&triage(&[
            "run",
            dir.path().join(format!("{name}.jsonl")).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--mask",
            "-q",
        ]));
        masked.push(std::fs::read_to_string(out.join("warnings.jsonl")).unwrap());
    }
    assert!(
        masked[0] == masked[1],
        "the masked lists differ with the input order"
    );
    assert!(lists[0].1.contains("430123198001010007"));
    let raw_id = regex::Regex::new(r"\d{17}[\dXx]").unwrap();
    assert!(
        !raw_id.is_match(&masked[0]),
        "an ID number is left unmasked"
    );
}

#[test]
fn a_run_does_not_trust_what_it_read_when_another_process_wrote_since() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    let key = StateKey::from_bytes(KEY.as_bytes());
    let p = key.petitioner("P1").unwrap();
    let record = |id: &str| store::Record {
        case_id: id.into(),
        received: day(0),
        petitioners: vec![p],
        level: Some(Level::County),
        class: "城建拆迁".into(),
        place: None,
        tier: petition_triage::Tier::Blue,
        risk: 20,
        content: [1; 32],
        sketch: None,
    };
    let store = Store::open(&path, &key).unwrap();
    let run = store.reopen().unwrap().begin_run().unwrap();
    // What the run read of P1: nothing yet.
    let read: rustc_hash::FxHashMap<[u8; 32], Vec<store::Past>> =
        [(p, Vec::new())].into_iter().collect();
    // Meanwhile another process records a case of P1.
    let mut other = store.reopen().unwrap();
    other.upsert(&[record("OTHER")]).unwrap();
    run.commit(&[record("MINE")], None, read).unwrap();
    let mut ids: Vec<String> = store
        .petitioner_cases(&p)
        .unwrap()
        .into_iter()
        .map(|c| c.case_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["MINE", "OTHER"]);
}
