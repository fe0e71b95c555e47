//! What the report reads from a run's folder: the list's lines, the
//! manifest, rejects and field notes, each as plain records that keep only
//! the fields the page shows, and read leniently (a missing optional field
//! is empty, not an error).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

/// One line of `warnings.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct Listed {
    /// Case id.
    pub id: String,
    /// Registration date.
    pub received: NaiveDate,
    /// Channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Petitioner ids.
    #[serde(default)]
    pub petitioner_ids: Vec<String>,
    /// Head count.
    #[serde(default)]
    pub persons: Option<u32>,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Risk score.
    pub risk: u32,
    /// Tier name (红, 橙, 黄, 蓝, 无).
    pub tier: String,
    /// Crisis flag.
    #[serde(default)]
    pub crisis: bool,
    /// Why the crisis flag is set.
    #[serde(default)]
    pub crisis_reason: Option<String>,
    /// Primary class.
    pub primary_class: String,
    /// Family of the primary class.
    #[serde(default)]
    pub family: Option<String>,
    /// Secondary classes.
    #[serde(default)]
    pub secondary_classes: Vec<String>,
    /// Routing hint.
    #[serde(default)]
    pub route: String,
    /// Signals with points.
    #[serde(default)]
    pub signals: Vec<Signal>,
    /// The score ledger.
    #[serde(default)]
    pub ledger: Vec<Ledger>,
    /// Rules that fired.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// The case's cluster.
    #[serde(default)]
    pub cluster: Option<Cluster>,
    /// Sensitive periods.
    #[serde(default)]
    pub periods: Vec<Period>,
    /// Handling-deadline flags.
    #[serde(default)]
    pub supervision: Vec<Supervision>,
}

/// A signal and its points.
#[derive(Debug, Clone, Deserialize)]
pub struct Signal {
    /// Signal name.
    pub signal: String,
    /// Points.
    pub points: f64,
}

/// A ledger line.
#[derive(Debug, Clone, Deserialize)]
pub struct Ledger {
    /// Kind of contribution (class, rule, field, cap, combo, bound …).
    pub source: String,
    /// Rule id, class, field or combination.
    #[serde(default)]
    pub item: String,
    /// Signal or class credited.
    #[serde(default)]
    pub target: String,
    /// Points.
    pub points: f64,
    /// Explanation.
    #[serde(default)]
    pub note: String,
}

/// A rule that fired.
#[derive(Debug, Clone, Deserialize)]
pub struct Evidence {
    /// Rule id.
    pub rule: String,
    /// Class or signal.
    #[serde(default)]
    pub target: String,
    /// Points.
    #[serde(default)]
    pub points: f64,
    /// Matched spans.
    #[serde(default)]
    pub matches: Vec<Span>,
    /// Explanation where there is no span.
    #[serde(default)]
    pub note: Option<String>,
}

/// A matched span, in characters of its field.
#[derive(Debug, Clone, Deserialize)]
pub struct Span {
    /// `title` or `text`.
    pub field: String,
    /// The matched words.
    pub text: String,
    /// Start.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
}

/// The cluster a case belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct Cluster {
    /// Cluster id.
    pub id: String,
    /// Members.
    pub size: u32,
    /// `near_duplicate` or `place`.
    #[serde(default)]
    pub kind: String,
}

/// A sensitive period holding the received date.
#[derive(Debug, Clone, Deserialize)]
pub struct Period {
    /// Period name.
    pub name: String,
    /// Where the date stands.
    #[serde(default)]
    pub relation: String,
}

/// A handling-deadline flag.
#[derive(Debug, Clone, Deserialize)]
pub struct Supervision {
    /// 临期, 超期 or 办结后再访.
    pub flag: String,
    /// The clock.
    #[serde(default)]
    pub clock: String,
    /// Its last day.
    #[serde(default)]
    pub due: Option<NaiveDate>,
}

/// What the report shows of the manifest.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunInfo {
    /// Program and version.
    #[serde(default)]
    pub program: String,
    /// Where the rules came from.
    #[serde(default)]
    pub rules_origin: String,
    /// SHA-256 of the rule files.
    #[serde(default)]
    pub rules_sha256: String,
    /// SHA-256 of the dictionary.
    #[serde(default)]
    pub dict_sha256: String,
    /// Inputs.
    #[serde(default)]
    pub inputs: Vec<InputInfo>,
    /// Totals.
    #[serde(default)]
    pub counts: CountsInfo,
    /// Whether the run masked its lists.
    #[serde(default)]
    pub masked: bool,
    /// The date judged at.
    #[serde(default)]
    pub as_of: String,
    /// Start time.
    #[serde(default)]
    pub started: String,
    /// The history store the run used, if any.
    #[serde(default)]
    pub history: Option<HistoryInfo>,
}

/// The history store of a run, as its manifest names it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryInfo {
    /// The store's path.
    pub store: String,
    /// Whether clusters were searched.
    #[serde(default)]
    pub clusters: bool,
}

/// An input file of the run.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputInfo {
    /// Path as given.
    pub path: String,
    /// The same path made absolute, when the run recorded it.
    #[serde(default)]
    pub absolute: Option<String>,
    /// `jsonl`, `csv` or `tsv`.
    #[serde(default)]
    pub format: String,
    /// Encoding read in.
    #[serde(default)]
    pub encoding: String,
    /// Records read in the fallback encoding.
    #[serde(default)]
    pub fallback_lines: u64,
    /// Records read.
    #[serde(default)]
    pub read: u64,
    /// Records rejected.
    #[serde(default)]
    pub rejected: u64,
}

impl InputInfo {
    /// Where the input is now: the absolute path, else the path as given
    /// (which holds from the folder the run started in); `None` for
    /// standard input or a file that is gone.
    pub fn found(&self) -> Option<&Path> {
        if self.path == "-" {
            return None;
        }
        [self.absolute.as_deref(), Some(self.path.as_str())]
            .into_iter()
            .flatten()
            .map(Path::new)
            .find(|p| p.is_file())
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct CountsInfo {
    /// Records read.
    pub read: u64,
    /// Cases triaged.
    pub triaged: u64,
    /// Records rejected.
    pub rejected: u64,
}

/// A field note line (`notes.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct NoteInfo {
    /// Field.
    #[serde(default)]
    pub field: String,
    /// What was done.
    #[serde(default)]
    pub action: String,
}

/// Read a JSON Lines file of `T`; a missing file is empty, a bad line an
/// error naming the file and line.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let mut out = Vec::new();
    for_each_jsonl(path, |item| {
        out.push(item);
        Ok(())
    })?;
    Ok(out)
}

/// Hand each line of a JSON Lines file of `T` to `f`, in order; a missing
/// file has none, a bad line is an error naming the file and line.
pub fn for_each_jsonl<T: serde::de::DeserializeOwned>(
    path: &Path,
    mut f: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(crate::util::ioerr::with_path("读取", path, e)),
    };
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| crate::util::ioerr::with_path("读取", path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str(&line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} 第 {} 行无法读取：{e}", path.display(), n + 1),
            )
        })?;
        f(item)?;
    }
    Ok(())
}

/// The title and text of each case of `inputs` whose id is in `wanted`,
/// read again from the input files (the list does not carry the text).
/// Inputs that are gone or were standard input are skipped; the names of
/// those skipped are returned too.
pub fn case_texts(
    inputs: &[InputInfo],
    wanted: &std::collections::HashSet<&str>,
) -> (HashMap<String, String>, Vec<String>) {
    use crate::input::{CaseReader, EncodingChoice, Format};
    let mut texts = HashMap::new();
    let mut missing = Vec::new();
    for input in inputs {
        let Some(path) = input.found() else {
            missing.push(input.path.clone());
            continue;
        };
        let format = match input.format.as_str() {
            "jsonl" => Format::Jsonl,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            _ => Format::from_path(path),
        };
        let Ok(reader) = CaseReader::open(path, format, EncodingChoice::Auto) else {
            missing.push(input.path.clone());
            continue;
        };
        for record in reader {
            let Ok(record) = record else {
                break;
            };
            if let Ok(case) = record.case
                && wanted.contains(case.id.as_str())
                && !texts.contains_key(&case.id)
            {
                texts.insert(case.id, case.text);
            }
        }
    }
    (texts, missing)
}
