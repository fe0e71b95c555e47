//! The notes file: every optional field of a kept case that was read
//! leniently or could not be read, with its file, line, case id, field and
//! reason (never the value). The case itself is triaged as usual; an
//! unreadable field counts as unknown.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Begin, End, Scored, Sink};
use crate::input::case::NoteAction;
use crate::util::Spool;

/// One line of `notes.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct NoteLine<'a> {
    /// Input file.
    pub file: &'a str,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Case id (masked when the run masks).
    pub id: &'a str,
    /// Canonical field name.
    pub field: &'a str,
    /// What was done: `lenient`, `unknown`, `truncated` or `repeated`.
    pub action: NoteAction,
    /// Why, in Chinese.
    pub reason: &'a str,
}

/// `notes.jsonl` as a [`Sink`]: the notes of each chunk in input order.
pub struct NotesSink {
    path: PathBuf,
    dir: PathBuf,
    spool: Option<Spool>,
    inputs: Vec<String>,
    count: u64,
}

impl NotesSink {
    /// `notes.jsonl` in `dir` (written when the run finishes).
    pub fn new(dir: &Path) -> NotesSink {
        NotesSink {
            path: dir.join("notes.jsonl"),
            dir: dir.to_path_buf(),
            spool: None,
            inputs: Vec::new(),
            count: 0,
        }
    }

    fn spool(&mut self) -> std::io::Result<&mut Spool> {
        if self.spool.is_none() {
            self.spool = Some(Spool::new(&self.dir)?);
        }
        self.spool
            .as_mut()
            .ok_or_else(|| std::io::Error::other("notes spool missing"))
    }
}

impl Sink for NotesSink {
    fn begin(&mut self, run: &Begin<'_>) -> std::io::Result<()> {
        self.inputs = run.inputs.to_vec();
        Ok(())
    }

    fn verdict(&mut self, file: usize, scored: &Scored) -> std::io::Result<()> {
        if scored.verdict.notes.is_empty() {
            return Ok(());
        }
        let name = self.inputs.get(file).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for n in &scored.verdict.notes {
            serde_json::to_writer(
                &mut out,
                &NoteLine {
                    file: &name,
                    line: scored.line,
                    id: &scored.verdict.id,
                    field: n.field,
                    action: n.action,
                    reason: &n.reason,
                },
            )?;
            out.push(b'\n');
            self.count += 1;
        }
        self.spool()?.write(&out)
    }

    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        let spool = match self.spool.take() {
            Some(s) => s,
            None => Spool::new(&self.dir)?,
        };
        spool
            .persist(&self.path)
            .map_err(|e| super::write_error(&self.path, e))?;
        end.notes = self.count;
        end.outputs.push("notes.jsonl".to_string());
        Ok(())
    }
}
