//! The run manifest: program version, rule and dictionary hashes, inputs
//! with their counts, times and the files written.

use serde::Serialize;

use super::Counts;
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
    pub format: Format,
    /// Encoding used.
    pub encoding: String,
    /// Records read.
    pub read: u64,
    /// Records rejected.
    pub rejected: u64,
}
