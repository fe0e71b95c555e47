//! The rejects file: every record that could not be read, with its file,
//! line and reason (never the case text), in input order.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{End, Sink};
use crate::util::Spool;

/// Rejects kept in memory to show on the terminal (all go to the file).
const SHOWN_REJECTS: usize = 20;

/// A refused input record, as written to the rejects file (no case text).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    dir: PathBuf,
    inputs: Vec<String>,
    spool: Option<Spool>,
    first: Vec<Reject>,
}

impl RejectSink {
    /// `rejects.jsonl` in `dir` (written when the run finishes).
    pub fn new(dir: &Path) -> std::io::Result<RejectSink> {
        Ok(RejectSink {
            path: dir.join("rejects.jsonl"),
            dir: dir.to_path_buf(),
            inputs: Vec::new(),
            spool: Some(Spool::new(dir)?),
            first: Vec::new(),
        })
    }
}

impl RejectSink {
    /// Where a reject goes in input order: its file's position, its line.
    fn key(&self, r: &Reject) -> (usize, u64) {
        let file = self.inputs.iter().position(|f| *f == r.file);
        (file.unwrap_or(usize::MAX), r.line)
    }
}

impl Sink for RejectSink {
    fn begin(&mut self, run: &super::Begin<'_>) -> std::io::Result<()> {
        self.inputs = run.inputs.to_vec();
        Ok(())
    }

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
        use std::io::{BufRead, Write};
        // The rejects came in input order; the repeated ids the list
        // found at the end are merged into their places.
        let mut dups = end.duplicates.clone();
        dups.sort_by_key(|d| self.key(d));
        let Some(mut spool) = self.spool.take() else {
            return Err(std::io::Error::other("rejects finished twice"));
        };
        let spool = if dups.is_empty() {
            spool
        } else {
            spool.out.flush()?;
            let reader = std::io::BufReader::new(spool.file.reopen()?);
            let mut merged = Spool::new(&self.dir)?;
            let mut dups = dups.into_iter().peekable();
            for line in reader.lines() {
                let line = line?;
                let key = serde_json::from_str::<Reject>(&line)
                    .map(|r| self.key(&r))
                    .unwrap_or((usize::MAX, u64::MAX));
                while let Some(d) = dups.next_if(|d| self.key(d) < key) {
                    merged.write(&encode(&d)?)?;
                    self.note_first(d);
                }
                merged.write(line.as_bytes())?;
                merged.write(b"\n")?;
            }
            for d in dups {
                merged.write(&encode(&d)?)?;
                self.note_first(d);
            }
            merged
        };
        spool
            .persist(&self.path)
            .map_err(|e| super::write_error(&self.path, e))?;
        let mut first = std::mem::take(&mut self.first);
        first.sort_by_key(|r| self.key(r));
        first.truncate(SHOWN_REJECTS);
        end.first_rejects = first;
        end.outputs.push("rejects.jsonl".to_string());
        Ok(())
    }
}

/// A reject as its masked line of the rejects file.
fn encode(r: &Reject) -> std::io::Result<Vec<u8>> {
    let masked = Reject {
        file: r.file.clone(),
        line: r.line,
        reason: crate::util::mask(&r.reason),
    };
    let mut line = serde_json::to_vec(&masked)?;
    line.push(b'\n');
    Ok(line)
}

impl RejectSink {
    fn note_first(&mut self, r: Reject) {
        self.first.push(Reject {
            reason: crate::util::mask(&r.reason),
            ..r
        });
    }
}
