//! The run manifest: program version, rule and dictionary hashes, inputs
//! with their counts, times and the files written.

use serde::Serialize;

use std::path::{Path, PathBuf};

use super::{Counts, End, Sink, write_error};
use crate::input::Format;

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
    /// The date the run is judged at (`--as-of`; sensitive periods and
    /// handling deadlines).
    pub as_of: String,
    /// Start time (local, RFC 3339).
    pub started: String,
    /// End time.
    pub finished: String,
    /// Files written.
    pub outputs: Vec<String>,
    /// The history store the run read and recorded itself in (absent
    /// for a run without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryManifest>,
}

/// The history store of a run, in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryManifest {
    /// The store's path, as given.
    pub store: String,
    /// Whether clusters were searched.
    pub clusters: bool,
    /// Clusters found (filled in at the end).
    pub clusters_found: usize,
}

/// One input file in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct InputManifest {
    /// Path as given.
    pub path: String,
    /// The same path made absolute (a report rebuilt from another folder
    /// finds the file by it); absent for standard input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute: Option<String>,
    /// Format used.
    pub format: Format,
    /// Encoding the file was read in.
    pub encoding: String,
    /// The encoding records fall back to when they are not valid in
    /// `encoding` (with `--encoding auto`).
    pub fallback_encoding: String,
    /// Records read in `fallback_encoding`.
    pub fallback_lines: u64,
    /// Records read.
    pub read: u64,
    /// Records rejected.
    pub rejected: u64,
}

/// `manifest.json` as a [`Sink`]: the last to finish, it lists the files
/// the sinks before it wrote.
pub struct ManifestSink {
    path: PathBuf,
    manifest: Manifest,
}

impl ManifestSink {
    /// `manifest.json` in `dir`; `manifest` holds what is known before the
    /// run (program, rules, threads, masking, start time); the inputs,
    /// counts, end time and outputs are filled in at the end.
    pub fn new(dir: &Path, manifest: Manifest) -> ManifestSink {
        ManifestSink {
            path: dir.join("manifest.json"),
            manifest,
        }
    }
}

impl Sink for ManifestSink {
    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        let m = &mut self.manifest;
        m.inputs = end.inputs.clone();
        m.counts = end.counts;
        m.finished = chrono::Local::now().to_rfc3339();
        m.outputs = end.outputs.clone();
        if let Some(h) = &mut m.history {
            h.clusters_found = end.clusters.len();
        }
        let bytes = serde_json::to_vec_pretty(m)?;
        crate::util::write_atomic(&self.path, &bytes).map_err(|e| write_error(&self.path, e))?;
        end.outputs.push("manifest.json".to_string());
        Ok(())
    }
}
