//! The list's encodings: a verdict as a JSON line and as a CSV row (UTF-8
//! with BOM and Chinese headers, for Excel and WPS), and the masking of
//! identity-card and mobile numbers.

use crate::verdict::Verdict;

pub use crate::util::mask;

/// Apply [`mask`] to every free-text field of a verdict.
pub fn mask_verdict(v: &mut Verdict) {
    for id in &mut v.petitioner_ids {
        *id = mask(id);
    }
    for s in [&mut v.title, &mut v.location, &mut v.channel]
        .into_iter()
        .flatten()
    {
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
pub const CSV_HEADERS: [&str; 22] = [
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
    "敏感期",
    "督办",
    "聚类",
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
    fields: [String; 11],
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
            periods,
            supervision,
            cluster,
        ] = &mut self.fields;
        for f in [
            &mut *risk,
            &mut *received,
            &mut *persons,
            &mut *ids,
            &mut *secondary,
            &mut *sources,
            &mut *periods,
            &mut *supervision,
            &mut *cluster,
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
        for (i, p) in v.periods.iter().enumerate() {
            if i > 0 {
                periods.push('；');
            }
            periods.push_str(&p.relation);
        }
        for (i, f) in v.supervision.iter().enumerate() {
            if i > 0 {
                supervision.push('；');
            }
            supervision.push_str(&f.flag);
            if let Some(d) = f.due {
                let _ = write!(supervision, "（{} {d}）", f.clock);
            }
        }
        if let Some(c) = &v.cluster {
            let kind = match c.kind.as_str() {
                "near_duplicate" => "近似相同的信",
                _ => "同类同地",
            };
            let _ = write!(cluster, "{}（{kind} {} 件）", c.id, c.size);
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
            periods,
            supervision,
            cluster,
            &v.route,
        ];
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                put(&mut self.w, out, |w, o| w.delimiter(o))?;
            }
            // Columns 2 and 7 (风险分, 人数) are numbers we write; every
            // other cell may hold text from the record.
            let cell = if i == 2 || i == 7 {
                std::borrow::Cow::Borrowed(*field)
            } else {
                spreadsheet_safe(field)
            };
            let mut input = cell.as_bytes();
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

/// A text cell as Excel and WPS should show it, not run it: a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return (a formula,
/// or a formula behind whitespace) gets a leading `'`, as the OWASP advice
/// on CSV injection says; a cell of digits that a spreadsheet would turn
/// into a number and damage (11 or more digits, such as identity-card and
/// phone numbers, which become 1.1E+17, or a leading zero) gets a leading
/// tab, which keeps it text. Reading the cell back, strip a leading `'`
/// before `= + - @ tab CR` and trim the tab.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let bytes = cell.as_bytes();
    match bytes.first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            return std::borrow::Cow::Owned(format!("'{cell}"));
        }
        None => return std::borrow::Cow::Borrowed(cell),
        Some(_) => {}
    }
    let (body, last) = bytes.split_at(bytes.len() - 1);
    let digits = body.iter().all(u8::is_ascii_digit)
        && (last[0].is_ascii_digit() || (bytes.len() >= 15 && matches!(last[0], b'X' | b'x')));
    if digits && (bytes.len() >= 11 || (bytes.len() > 1 && bytes[0] == b'0')) {
        return std::borrow::Cow::Owned(format!("\t{cell}"));
    }
    std::borrow::Cow::Borrowed(cell)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_spreadsheets_would_run_or_damage_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for c in ["+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(spreadsheet_safe(c).starts_with('\''), "{c:?}");
        }
        assert_eq!(
            spreadsheet_safe("110101199001011234"),
            "\t110101199001011234"
        );
        assert_eq!(
            spreadsheet_safe("11010119900101123X"),
            "\t11010119900101123X"
        );
        assert_eq!(spreadsheet_safe("13812345678"), "\t13812345678");
        assert_eq!(spreadsheet_safe("007"), "\t007");
        assert_eq!(spreadsheet_safe("XF2026001"), "XF2026001");
        assert_eq!(spreadsheet_safe("2024001"), "2024001");
        assert_eq!(spreadsheet_safe("拆迁-补偿"), "拆迁-补偿");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
