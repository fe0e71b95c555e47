//! Sinks: where verdicts and rejects go.
//!
//! The early-warning list as JSON Lines and CSV ([`list`], encoded by
//! [`encode`]), the Markdown [`summary`], the [`rejects`] file, the run
//! [`manifest`] and the rule [`profile`]. Every file is written through
//! [`crate::util::atomic`]: whole or not at all, owner-only.
//!
//! Sinks read verdicts, the rule set's names and the matcher's profile;
//! they never match or score. The drivers in `run` push into them.

pub mod encode;
pub mod list;
pub mod manifest;
pub mod notes;
pub mod profile;
pub mod rejects;
pub mod summary;

pub use crate::util::write_atomic;
pub use encode::{
    CSV_HEADERS, CsvEncoder, csv, csv_header, csv_row, jsonl, mask, mask_verdict, spreadsheet_safe,
};
pub use list::ListSink;
pub use manifest::{HistoryManifest, InputManifest, Manifest, ManifestSink};
pub use notes::NotesSink;
pub use profile::{ProfileSink, profile_markdown};
pub use rejects::{Reject, RejectSink};
pub use summary::{
    Counts, MAX_CRISIS_ROWS, SummarySink, Tally, TopRow, summary, summary_with_notes,
};

use crate::rules::RuleSet;
use crate::verdict::Verdict;

/// What a sink is told before the first verdict.
#[derive(Debug, Clone, Copy)]
pub struct Begin<'a> {
    /// The rule set the run triages with (class names, families).
    pub rules: &'a RuleSet,
    /// The input files, as named in rejects and the manifest.
    pub inputs: &'a [String],
}

/// One scored verdict and where its record was read.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Physical line (JSONL) or record line (CSV) of the case.
    pub line: u64,
    /// The verdict.
    pub verdict: Verdict,
}

/// What the sinks learn at the end of a run. Sinks finish in order, and
/// each reads what the ones before it reported here: the list reports the
/// cases it listed, the repeated ids it refused and the tally; the
/// summary and the manifest read them.
#[derive(Debug, Default)]
pub struct End {
    /// Per-input accounting.
    pub inputs: Vec<InputManifest>,
    /// Totals.
    pub counts: Counts,
    /// Counts by tier and class, and the top cases (from the list).
    pub tally: Tally,
    /// Records refused at the end because their case id was seen before
    /// (from the list; the rejects file appends them).
    pub duplicates: Vec<Reject>,
    /// The first rejects, for the terminal (from the rejects file).
    pub first_rejects: Vec<Reject>,
    /// Field notes written (from the notes file).
    pub notes: u64,
    /// Files written so far, in order.
    pub outputs: Vec<String>,
    /// Clusters found by the context stage (runs with a history store).
    pub clusters: Vec<crate::verdict::ClusterSummary>,
}

/// Every file a run may write into its output folder; a folder holding
/// anything else is not replaced (see [`crate::util::OutputSet`]).
pub const OUTPUT_FILES: [&str; 9] = [
    "warnings.jsonl",
    "warnings.csv",
    "summary.md",
    "rejects.jsonl",
    "notes.jsonl",
    "profile.md",
    "manifest.json",
    "history.sqlite",
    "report.html",
];

/// Receives a run: `begin`, then the verdicts and rejects as they are
/// made (verdicts a chunk at a time, in input order), then `finish`.
/// A stream driver or a report writer is one more implementation.
pub trait Sink {
    /// Called once before any verdict.
    fn begin(&mut self, _run: &Begin<'_>) -> std::io::Result<()> {
        Ok(())
    }

    /// One verdict read from input file number `file`.
    fn verdict(&mut self, _file: usize, _scored: &Scored) -> std::io::Result<()> {
        Ok(())
    }

    /// A chunk of verdicts of input file number `file`, in input order. A
    /// sink that encodes may override this to encode in parallel.
    fn verdicts(&mut self, file: usize, chunk: &[Scored]) -> std::io::Result<()> {
        chunk.iter().try_for_each(|s| self.verdict(file, s))
    }

    /// Verdicts passed on earlier that changed (a context found more at
    /// the end of the run): each replaces the verdict read from the same
    /// file and line. A sink that keeps nothing of a verdict but what
    /// cannot change (the field notes) ignores them.
    fn amend(&mut self, _file: usize, _chunk: &[Scored]) -> std::io::Result<()> {
        Ok(())
    }

    /// A record that could not be read.
    fn reject(&mut self, _reject: &Reject) -> std::io::Result<()> {
        Ok(())
    }

    /// Called once after the last verdict; see [`End`].
    fn finish(&mut self, _end: &mut End) -> std::io::Result<()> {
        Ok(())
    }
}

/// An error writing `path`, in Chinese with the path in the message.
pub(crate) fn write_error(path: &std::path::Path, e: std::io::Error) -> std::io::Error {
    crate::util::ioerr::with_path("写入", path, e)
}
