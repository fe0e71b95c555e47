//! The morning report: `report.html`, one self-contained page that duty
//! staff open from a USB stick, filter and print.
//!
//! The page is built from a run's folder (the list, the manifest, rejects
//! and field notes), so `triage run` ([`ReportSink`], before the manifest)
//! and `triage report OUT_DIR` ([`rebuild`]) make the same file. The case
//! text is not in the list: it is read again from the inputs the manifest
//! names, when they are still there. The layout is an askama template
//! (`templates/report.html`) with the style sheet and script inlined; the
//! data goes in a `<script type="application/json">` block with `<`, `>`,
//! `&`, `/` and `@` escaped, so no text of a case can close the block or
//! read as a reference to another file. The page loads nothing: no fonts,
//! no scripts, no images from elsewhere.
//!
//! Identity numbers, phone numbers and names are masked on the page by
//! default ([`privacy`]); the list files are never changed.

pub mod model;
mod page;
pub mod privacy;
pub mod svg;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use askama::Template;
use chrono::NaiveDate;

use crate::sink::{End, Manifest, Reject, Sink};
use model::{InputInfo, Listed, NoteInfo, RunInfo};
use page::{Before, Page, Totals};

/// The report's file name in the output folder.
pub const REPORT_FILE: &str = "report.html";

/// The style sheet, inlined into the page.
pub const REPORT_CSS: &str = include_str!("templates/report.css");
/// The script, inlined into the page.
pub const REPORT_JS: &str = include_str!("templates/report.js");

/// Cases a page of the list shows at a time.
pub const PAGE_ROWS: usize = 100;

/// How to build the report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Show identity numbers, phone numbers and names as written
    /// (masked by default).
    pub unmasked: bool,
    /// The folder of the previous run to compare with (new red cases,
    /// clusters that grew, cases now overdue).
    pub previous: Option<PathBuf>,
    /// Cases of the history store received in the chart's window:
    /// (case id, received, primary class). `None` without a store.
    pub history: Option<Vec<DayCase>>,
    /// The summary's first line (date judged at, period in force); read
    /// from `summary.md` when not given.
    pub preamble: Option<String>,
}

/// A case of the history store for the daily chart: (case id, received,
/// primary class).
pub type DayCase = (String, NaiveDate, String);

/// The cases of `store` received in the chart's days ending at `as_of`.
pub fn store_window(
    store: &crate::history::store::Store,
    as_of: NaiveDate,
) -> std::io::Result<Vec<DayCase>> {
    let from = as_of - chrono::Duration::days(svg::DAYS - 1);
    Ok(store
        .window(from)?
        .into_iter()
        .filter(|c| c.received <= as_of)
        .map(|c| (c.case_id, c.received, c.class))
        .collect())
}

impl RunInfo {
    /// The manifest's fields as the report shows them.
    pub fn from_manifest(m: &Manifest) -> RunInfo {
        RunInfo {
            program: m.program.clone(),
            rules_origin: m.rules_origin.clone(),
            rules_sha256: m.rules_sha256.clone(),
            dict_sha256: m.dict_sha256.clone(),
            inputs: m.inputs.iter().map(input_info).collect(),
            counts: model::CountsInfo {
                read: m.counts.read,
                triaged: m.counts.triaged,
                rejected: m.counts.rejected,
            },
            masked: m.masked,
            as_of: m.as_of.clone(),
            started: m.started.clone(),
            history: m.history.as_ref().map(|h| model::HistoryInfo {
                store: h.store.clone(),
                clusters: h.clusters,
            }),
        }
    }
}

fn input_info(i: &crate::sink::InputManifest) -> InputInfo {
    use crate::input::Format;
    InputInfo {
        path: i.path.clone(),
        absolute: i.absolute.clone(),
        format: match i.format {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
        }
        .to_string(),
        encoding: i.encoding.clone(),
        fallback_lines: i.fallback_lines,
        read: i.read,
        rejected: i.rejected,
    }
}

/// `report.html` as a [`Sink`]: at the end of the run it reads the files
/// the sinks before it wrote into the staging folder (so it goes after the
/// list, the notes, the summary and the rejects, and before the manifest,
/// which then lists it) and writes the page beside them.
pub struct ReportSink {
    dir: PathBuf,
    run: RunInfo,
    opts: ReportOptions,
}

impl ReportSink {
    /// The report of the run writing into `dir`; `manifest` holds what is
    /// known before the run, the inputs and counts come at the end.
    pub fn new(dir: &Path, manifest: &Manifest, opts: ReportOptions) -> ReportSink {
        ReportSink {
            dir: dir.to_path_buf(),
            run: RunInfo::from_manifest(manifest),
            opts,
        }
    }
}

impl Sink for ReportSink {
    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        self.run.inputs = end.inputs.iter().map(input_info).collect();
        self.run.counts = model::CountsInfo {
            read: end.counts.read,
            triaged: end.counts.triaged,
            rejected: end.counts.rejected,
        };
        write(&self.dir, &self.run, &self.opts)?;
        end.outputs.push(REPORT_FILE.to_string());
        Ok(())
    }
}

/// Build `report.html` again from the run in `dir` (its manifest, list,
/// rejects and notes) and write it there. Returns the inputs no longer
/// where the run read them (the page then has no texts of their cases).
pub fn rebuild(dir: &Path, opts: &ReportOptions) -> std::io::Result<Vec<String>> {
    let path = dir.join("manifest.json");
    let bytes =
        std::fs::read(&path).map_err(|e| crate::util::ioerr::with_path("读取", &path, e))?;
    let run: RunInfo = serde_json::from_slice(&bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} 无法读取：{e}", path.display()),
        )
    })?;
    write(dir, &run, opts)?;
    Ok(run
        .inputs
        .iter()
        .filter(|i| i.found().is_none())
        .map(|i| i.path.clone())
        .collect())
}

/// Render the page for the run in `dir` and write it as `dir/report.html`.
pub fn write(dir: &Path, run: &RunInfo, opts: &ReportOptions) -> std::io::Result<()> {
    let html = render(dir, run, opts)?;
    let path = dir.join(REPORT_FILE);
    crate::util::write_atomic(&path, html.as_bytes())
        .map_err(|e| crate::util::ioerr::with_path("写入", &path, e))
}

/// Cases the page's list holds at most (the highest-ranked, as the list
/// is sorted); the counts, charts and changes cover every case.
pub const MAX_ROWS: usize = 20_000;

/// The page for the run in `dir`. The list is read once, line by line:
/// every case is counted, the first [`MAX_ROWS`] are kept for the list.
pub fn render(dir: &Path, run: &RunInfo, opts: &ReportOptions) -> std::io::Result<String> {
    let masked = !opts.unmasked;
    let before = match &opts.previous {
        Some(p) if p.join("warnings.jsonl").is_file() => {
            // An earlier list that cannot be read is not compared with.
            Before::read(&p.join("warnings.jsonl")).ok()
        }
        _ => None,
    };
    let as_of = NaiveDate::parse_from_str(&run.as_of, "%Y-%m-%d").ok();
    let mut totals = Totals::new(as_of, masked, before);
    let mut kept: Vec<Listed> = Vec::new();
    model::for_each_jsonl(&dir.join("warnings.jsonl"), |v: Listed| {
        totals.add(&v);
        if kept.len() < MAX_ROWS {
            kept.push(v);
        }
        Ok(())
    })?;
    let rejects: Vec<Reject> = model::read_jsonl(&dir.join("rejects.jsonl"))?;
    let notes: Vec<NoteInfo> = model::read_jsonl(&dir.join("notes.jsonl"))?;
    let preamble = match &opts.preamble {
        Some(p) => p.clone(),
        None => std::fs::read_to_string(dir.join("summary.md"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("研判日期"))
                    .map(str::to_string)
            })
            .unwrap_or_default(),
    };
    let wanted: HashSet<&str> = kept.iter().map(|v| v.id.as_str()).collect();
    let (texts, texts_missing) = model::case_texts(&run.inputs, &wanted);
    let page = Page::build(
        run,
        opts,
        totals,
        &kept,
        &rejects,
        &notes,
        &texts,
        texts_missing,
        preamble,
    );
    let html = page
        .render()
        .map_err(|e| std::io::Error::other(format!("报告模板出错：{e}")))?;
    Ok(neutralise(&html))
}

/// JSON made safe inside a `<script>` block: `<`, `>`, `&`, `@`, and the
/// line separators as `\u` escapes and `/` as `\/`, so no value can end
/// the block or read as a URL. They only occur inside JSON strings, where
/// the escapes mean the same characters.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '@' => out.push_str("\\u0040"),
            '/' => out.push_str("\\/"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Record text that reached the HTML (titles, paths, routes) written so
/// that it cannot read as a resource: `//` as `/&#47;` and `@import` with
/// its `@` as a character reference. The page's own style sheet and
/// script contain neither (a test checks).
fn neutralise(html: &str) -> String {
    html.replace("//", "/&#47;")
        .replace("@import", "&#64;import")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_block() {
        let s = script_json(r#"{"x":"</script><!-- http://a @import"}"#);
        assert!(!s.contains('<') && !s.contains("//") && !s.contains("@import"));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back["x"], "</script><!-- http://a @import");
    }

    #[test]
    fn the_page_assets_hold_no_reference_to_elsewhere() {
        for asset in [REPORT_CSS, REPORT_JS] {
            assert!(!asset.contains("//"));
            assert!(!asset.contains("@import"));
            assert!(!asset.to_ascii_lowercase().contains("</script"));
            assert!(!asset.contains("url("));
        }
    }
}
