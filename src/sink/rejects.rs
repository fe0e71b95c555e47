//! The rejects file: every record that could not be read, with its file,
//! line and reason (never the case text).

use serde::Serialize;

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
