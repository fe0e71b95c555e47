//! Output files: the early-warning list as JSON Lines and as CSV (UTF-8
//! with BOM, for Excel and WPS), the Markdown summary, the rejects file
//! and the run manifest. Every file is written to a temporary file in the
//! same directory and renamed into place, with owner-only permissions.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::rules::Family;
use crate::verdict::{Tier, Verdict};

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory (mode 0600 on Unix), flushed and synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".triage-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A refused input record, as written to the rejects file (no case text).
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    /// Input file.
    pub file: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
}

/// Mask identity-card and mobile numbers: `110101********1234`, `138****5678`.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == 'X' || **c == 'x')
            .count();
        let digits_only = chars[i..i + run].iter().all(char::is_ascii_digit);
        let prev_digit = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        if run == 18 && !prev_digit && chars[i..i + 17].iter().all(char::is_ascii_digit) {
            out.extend(&chars[i..i + 6]);
            out.push_str("********");
            out.extend(&chars[i + 14..i + 18]);
            i += 18;
        } else if run == 11 && digits_only && !prev_digit && chars[i] == '1' {
            out.extend(&chars[i..i + 3]);
            out.push_str("****");
            out.extend(&chars[i + 7..i + 11]);
            i += 11;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Apply [`mask`] to every free-text field of a verdict.
pub fn mask_verdict(v: &mut Verdict) {
    for id in &mut v.petitioner_ids {
        *id = mask(id);
    }
    for s in [&mut v.title, &mut v.location].into_iter().flatten() {
        *s = mask(s);
    }
    for e in &mut v.evidence {
        for m in &mut e.matches {
            m.text = mask(&m.text);
        }
    }
}

/// The early-warning list as JSON Lines, one verdict a line.
pub fn jsonl(verdicts: &[Verdict]) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    for v in verdicts {
        serde_json::to_writer(&mut out, v)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Column headers of the CSV list.
pub const CSV_HEADERS: [&str; 19] = [
    "排名",
    "预警等级",
    "危机",
    "风险分",
    "编号",
    "登记日期",
    "渠道",
    "信访人",
    "人数",
    "诉求层级",
    "地点",
    "标题",
    "主类别",
    "类别族",
    "次类别",
    "源头",
    "风险信号",
    "命中依据",
    "建议去向",
];

/// The CSV header line, after a UTF-8 BOM (so Excel and WPS read UTF-8).
pub fn csv_header() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend_from_slice(CSV_HEADERS.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// One CSV row of the list without its rank column (the rank is known
/// only once the whole list is sorted).
pub fn csv_row(v: &Verdict) -> csv::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    CsvEncoder::new().row_into(v, &mut out)?;
    Ok(out)
}

/// Encodes list rows as CSV, reusing its buffers from row to row.
pub struct CsvEncoder {
    w: csv_core::Writer,
    fields: [String; 8],
}

impl std::fmt::Debug for CsvEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvEncoder").finish_non_exhaustive()
    }
}

impl Default for CsvEncoder {
    fn default() -> Self {
        CsvEncoder::new()
    }
}

impl CsvEncoder {
    /// A new encoder (CRLF line ends, fields quoted where needed).
    pub fn new() -> CsvEncoder {
        CsvEncoder {
            w: csv_core::WriterBuilder::new()
                .terminator(csv_core::Terminator::CRLF)
                .build(),
            fields: Default::default(),
        }
    }

    /// Append the row of `v` (without its rank column) to `out`.
    pub fn row_into(&mut self, v: &Verdict, out: &mut Vec<u8>) -> csv::Result<()> {
        use std::fmt::Write as _;
        let [
            risk,
            received,
            persons,
            ids,
            secondary,
            sources,
            signals,
            evidence,
        ] = &mut self.fields;
        for f in [
            &mut *risk,
            &mut *received,
            &mut *persons,
            &mut *ids,
            &mut *secondary,
            &mut *sources,
        ] {
            f.clear();
        }
        signals.clear();
        evidence.clear();
        let _ = write!(risk, "{}", v.risk);
        let _ = write!(received, "{}", v.received);
        if let Some(p) = v.persons {
            let _ = write!(persons, "{p}");
        }
        join_into(ids, v.petitioner_ids.iter().map(String::as_str), "、");
        join_into(
            secondary,
            v.secondary_classes.iter().map(String::as_str),
            "、",
        );
        join_into(sources, v.sources.iter().map(|t| t.source.as_str()), "、");
        for (i, s) in v.signals.iter().enumerate() {
            if i > 0 {
                signals.push('；');
            }
            let _ = write!(signals, "{}({})", s.signal, s.points);
        }
        for (i, e) in v.evidence.iter().enumerate() {
            if i > 0 {
                evidence.push('；');
            }
            evidence.push_str(&e.rule);
            evidence.push(':');
            let mut last: Option<&str> = None;
            for m in &e.matches {
                if last == Some(m.text.as_str()) {
                    continue;
                }
                if last.is_some() {
                    evidence.push('/');
                }
                evidence.push_str(&m.text);
                last = Some(&m.text);
            }
        }
        let record = [
            v.tier.name(),
            if v.crisis { "是" } else { "" },
            risk,
            &v.id,
            received,
            v.channel.as_deref().unwrap_or_default(),
            ids,
            persons,
            v.target_level.map(|l| l.name()).unwrap_or_default(),
            v.location.as_deref().unwrap_or_default(),
            v.title.as_deref().unwrap_or_default(),
            &v.primary_class,
            v.family.map(|f| f.name()).unwrap_or_default(),
            secondary,
            sources,
            signals,
            evidence,
            &v.route,
        ];
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                put(&mut self.w, out, |w, o| w.delimiter(o))?;
            }
            let mut input = field.as_bytes();
            loop {
                // Room for the field with every byte quoted, and the quotes.
                let room = 2 * input.len() + 2;
                let at = out.len();
                out.resize(at + room, 0);
                let (res, nin, nout) = self.w.field(input, &mut out[at..]);
                out.truncate(at + nout);
                input = &input[nin..];
                if res == csv_core::WriteResult::InputEmpty {
                    break;
                }
            }
        }
        put(&mut self.w, out, |w, o| w.finish(o))?;
        put(&mut self.w, out, |w, o| w.terminator(o))?;
        Ok(())
    }
}

/// Run one of csv-core's delimiting steps, growing `out` until it fits.
fn put(
    w: &mut csv_core::Writer,
    out: &mut Vec<u8>,
    step: impl Fn(&mut csv_core::Writer, &mut [u8]) -> (csv_core::WriteResult, usize),
) -> csv::Result<()> {
    for room in [8usize, 64, 4096] {
        let at = out.len();
        out.resize(at + room, 0);
        let (res, n) = step(w, &mut out[at..]);
        out.truncate(at + n);
        if res == csv_core::WriteResult::InputEmpty {
            return Ok(());
        }
    }
    Err(csv::Error::from(std::io::Error::other("CSV 行无法编码")))
}

fn join_into<'a>(out: &mut String, parts: impl Iterator<Item = &'a str>, sep: &str) {
    for (i, p) in parts.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
}

/// The early-warning list (already in list order) as CSV with a UTF-8
/// BOM and Chinese headers.
pub fn csv(verdicts: &[Verdict]) -> csv::Result<Vec<u8>> {
    let mut out = csv_header();
    let mut enc = CsvEncoder::new();
    for (i, v) in verdicts.iter().enumerate() {
        out.extend_from_slice(format!("{},", i + 1).as_bytes());
        enc.row_into(v, &mut out)?;
    }
    Ok(out)
}

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    /// Records read (cases + rejects).
    pub read: u64,
    /// Cases triaged.
    pub triaged: u64,
    /// Records rejected.
    pub rejected: u64,
}

/// Most crisis cases listed one by one at the top of the summary.
pub const MAX_CRISIS_ROWS: usize = 200;

/// What the summary needs, gathered while the list is built.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Cases per tier, in the order of [`Tier::ALL`].
    pub tiers: [u64; 5],
    /// Crisis cases.
    pub crisis: u64,
    /// The crisis cases (up to [`MAX_CRISIS_ROWS`]), in list order.
    pub crisis_rows: Vec<TopRow>,
    /// Per primary class: (cases, warned cases).
    pub classes: std::collections::BTreeMap<String, (u64, u64)>,
    /// The highest-risk cases, in list order.
    pub top: Vec<TopRow>,
}

/// A line of the summary's top-cases table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopRow {
    /// Tier name.
    pub tier: String,
    /// Risk score.
    pub risk: u64,
    /// Case id.
    pub id: String,
    /// Registration date.
    pub received: String,
    /// Primary class.
    pub class: String,
    /// Signal names.
    pub signals: Vec<String>,
    /// Crisis flag.
    pub crisis: bool,
    /// Why the crisis flag is set.
    pub crisis_reason: String,
    /// Route (the crisis route first for a crisis case).
    pub route: String,
}

impl TopRow {
    /// From a verdict's JSON line.
    pub fn from_json(v: &serde_json::Value) -> TopRow {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        TopRow {
            tier: s("tier"),
            risk: v["risk"].as_u64().unwrap_or(0),
            id: s("id"),
            received: s("received"),
            class: s("primary_class"),
            signals: v["signals"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["signal"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            crisis: v["crisis"].as_bool().unwrap_or(false),
            crisis_reason: s("crisis_reason"),
            route: s("route"),
        }
    }
}

/// The Markdown summary: the crisis cases first, then counts by tier, by
/// class family and class, and the top cases. `classes` are the class
/// names (其他 last) with their family (none for 其他).
pub fn summary(tally: &Tally, counts: Counts, classes: &[(String, Option<Family>)]) -> String {
    let top = &tally.top;
    let cell = |x: &str| x.replace('|', "\\|").replace('\n', " ");
    let mut s = String::new();
    let _ = writeln!(s, "# 信访风险预警摘要\n");
    let _ = writeln!(
        s,
        "读入 {} 条，完成研判 {} 条，拒收 {} 条。\n",
        counts.read, counts.triaged, counts.rejected
    );
    if tally.crisis > 0 {
        let _ = writeln!(
            s,
            "## 危机案件 {} 件：先启动心理危机干预和属地关怀\n",
            tally.crisis
        );
        let _ = writeln!(
            s,
            "| 编号 | 登记日期 | 主类别 | 依据 | 建议去向 |\n|---|---|---|---|---|"
        );
        for v in &tally.crisis_rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&v.id),
                v.received,
                v.class,
                cell(&v.crisis_reason),
                cell(&v.route)
            );
        }
        if tally.crisis as usize > tally.crisis_rows.len() {
            let _ = writeln!(
                s,
                "\n另有 {} 件危机案件，见 warnings.csv（危机 = 是，排在最前）。",
                tally.crisis as usize - tally.crisis_rows.len()
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## 预警等级\n\n| 等级 | 件数 |\n|---|---:|");
    for (i, t) in Tier::ALL.iter().enumerate() {
        let n = tally.tiers[i];
        let label = if *t == Tier::None {
            "无（未预警）"
        } else {
            t.name()
        };
        let _ = writeln!(s, "| {label} | {n} |");
    }
    let mut family_counts: Vec<(&str, u64, u64)> = Vec::new();
    for (c, f) in classes {
        let Some(&(n, warned)) = tally.classes.get(c) else {
            continue;
        };
        let name = f.map_or("其他", |f| f.name());
        match family_counts.iter_mut().find(|x| x.0 == name) {
            Some(x) => {
                x.1 += n;
                x.2 += warned;
            }
            None => family_counts.push((name, n, warned)),
        }
    }
    let _ = writeln!(
        s,
        "\n## 类别族\n\n| 类别族 | 件数 | 其中预警 |\n|---|---:|---:|"
    );
    for (name, n, warned) in &family_counts {
        let _ = writeln!(s, "| {name} | {n} | {warned} |");
    }
    let _ = writeln!(
        s,
        "\n## 类别\n\n| 主类别 | 类别族 | 件数 | 其中预警 |\n|---|---|---:|---:|"
    );
    for (c, f) in classes {
        let Some(&(n, warned)) = tally.classes.get(c) else {
            continue;
        };
        let family = f.map_or("—", |f| f.name());
        let _ = writeln!(s, "| {c} | {family} | {n} | {warned} |");
    }
    let _ = writeln!(
        s,
        "\n## 风险最高的 {} 件\n\n| 排名 | 等级 | 风险分 | 编号 | 登记日期 | 主类别 | 风险信号 |\n|---:|---|---:|---|---|---|---|",
        top.len()
    );
    for (i, v) in top.iter().enumerate() {
        let signals = &v.signals;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            if v.crisis {
                format!("{}（危机）", v.tier)
            } else {
                v.tier.clone()
            },
            v.risk,
            v.id.replace('|', "\\|"),
            v.received,
            v.class,
            signals.join("、")
        );
    }
    s
}

/// The per-rule profile as a Markdown table, most expensive rule first.
pub fn profile_markdown(report: &[crate::engine::RuleProfile], cases: u64) -> String {
    let total: u64 = report.iter().map(|r| r.nanos).sum();
    let mut s = format!(
        "# 规则耗时与命中\n\n共 {cases} 件；规则检查合计 {:.1} 毫秒（不含所有规则共用的关键词扫描）。\n\n| 规则 | 耗时（毫秒） | 占比% | 候选数 | 命中件数 | 命中率% |\n|---|---:|---:|---:|---:|---:|\n",
        total as f64 / 1e6
    );
    for r in report {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.1} | {} | {} | {:.1} |",
            r.rule,
            r.nanos as f64 / 1e6,
            if total == 0 {
                0.0
            } else {
                r.nanos as f64 * 100.0 / total as f64
            },
            r.candidates,
            r.hits,
            if cases == 0 {
                0.0
            } else {
                r.hits as f64 * 100.0 / cases as f64
            }
        );
    }
    s
}

/// The run manifest: enough to reproduce and audit a list.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Program name and version.
    pub program: String,
    /// Where the rules came from.
    pub rules_origin: String,
    /// SHA-256 of the rule files.
    pub rules_sha256: String,
    /// SHA-256 of the user dictionary.
    pub dict_sha256: String,
    /// Inputs and their counts.
    pub inputs: Vec<InputManifest>,
    /// Totals.
    pub counts: Counts,
    /// Worker threads.
    pub threads: usize,
    /// Whether ids and phone numbers were masked.
    pub masked: bool,
    /// Start time (local, RFC 3339).
    pub started: String,
    /// End time.
    pub finished: String,
    /// Files written.
    pub outputs: Vec<String>,
}

/// One input file in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct InputManifest {
    /// Path as given.
    pub path: String,
    /// Format used.
    pub format: crate::input::Format,
    /// Encoding used.
    pub encoding: String,
    /// Records read.
    pub read: u64,
    /// Records rejected.
    pub rejected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_id_and_phone_numbers_only() {
        assert_eq!(
            mask("身份证110101199001011234号"),
            "身份证110101********1234号"
        );
        assert_eq!(mask("11010119900101123X"), "110101********123X");
        assert_eq!(mask("电话13812345678"), "电话138****5678");
        assert_eq!(mask("编号2024001"), "编号2024001");
        assert_eq!(mask("138123456789"), "138123456789");
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
