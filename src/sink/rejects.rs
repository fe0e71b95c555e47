//! The rejects file: every record that could not be read, with its file,
//! line and reason (never the case text).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{End, Sink};
use crate::util::Spool;

/// Rejects kept in memory to show on the terminal (all go to the file).
const SHOWN_REJECTS: usize = 20;

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

/// The rejects file as a [`Sink`]: every reject in the order it came,
/// then the repeated ids the list refused; the first few are kept for the
/// terminal.
pub struct RejectSink {
    path: PathBuf,
    spool: Option<Spool>,
    first: Vec<Reject>,
}

impl RejectSink {
    /// `rejects.jsonl` in `dir` (written when the run finishes).
    pub fn new(dir: &Path) -> std::io::Result<RejectSink> {
        Ok(RejectSink {
            path: dir.join("rejects.jsonl"),
            spool: Some(Spool::new(dir)?),
            first: Vec::new(),
        })
    }
}

impl Sink for RejectSink {
    fn reject(&mut self, reject: &Reject) -> std::io::Result<()> {
        // Identity-card and mobile numbers never reach the file or the
        // terminal, whatever a reason quotes.
        let reject = &Reject {
            file: reject.file.clone(),
            line: reject.line,
            reason: crate::util::mask(&reject.reason),
        };
        let mut line = serde_json::to_vec(reject)?;
        line.push(b'\n');
        self.spool
            .as_mut()
            .ok_or_else(|| std::io::Error::other("rejects written after finish"))?
            .write(&line)?;
        if self.first.len() < SHOWN_REJECTS {
            self.first.push(reject.clone());
        }
        Ok(())
    }

    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        for d in &end.duplicates {
            self.reject(d)?;
        }
        if let Some(spool) = self.spool.take() {
            spool
                .persist(&self.path)
                .map_err(|e| super::write_error(&self.path, e))?;
        }
        end.first_rejects = std::mem::take(&mut self.first);
        end.outputs.push("rejects.jsonl".to_string());
        Ok(())
    }
}
