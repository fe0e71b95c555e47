//! Batch triage: read every input file as a stream, triage cases in
//! parallel chunks, and write the list, the summary and the rejects into
//! the output directory. Every record is accounted for: `read = triaged +
//! rejected`, always.
//!
//! Memory stays flat whatever the input size: verdicts go to a spill file
//! as they are made ([`crate::sink::list`]) and rejects straight to their file.
//! Results do not depend on the thread count: each chunk keeps input
//! order, and the list is sorted by a total order.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::input::{CaseReader, EncodingChoice, Format, Pending};
use crate::matcher::Engine;
use crate::sink::list::{Block, ListBuilder};
use crate::sink::{Counts, InputManifest, Reject, Tally, mask_verdict};
use crate::util::{Spool, write_atomic};

/// Records triaged together in one parallel step.
const CHUNK: usize = 1024;
/// Verdicts encoded together on one thread into one block of rows.
const BLOCK: usize = 32;
/// Rejects kept in memory to show on the terminal (all go to the file).
const SHOWN_REJECTS: usize = 20;

/// A block of encoded verdicts and the records of it that were refused
/// (line, reason).
type Triaged = (Block, Vec<(u64, String)>);

/// Options of a batch run.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Force a format instead of guessing from the file name.
    pub format: Option<Format>,
    /// Encoding choice.
    pub encoding: EncodingChoice,
    /// Mask identity-card and phone numbers in the verdicts.
    pub mask: bool,
    /// Top cases listed in the summary.
    pub top: usize,
}

/// What a batch run reports.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Per-input accounting.
    pub inputs: Vec<InputManifest>,
    /// Totals.
    pub counts: Counts,
    /// Counts by tier and class, and the top cases.
    pub tally: Tally,
    /// The first rejects, for the terminal.
    pub first_rejects: Vec<Reject>,
}

/// Read up to [`CHUNK`] records; `None` at the end of the input.
fn read_chunk(reader: &mut CaseReader, name: &str) -> std::io::Result<Option<Vec<Pending>>> {
    let mut pending: Vec<Pending> = Vec::with_capacity(CHUNK);
    while pending.len() < CHUNK {
        match reader.next_pending() {
            None => break,
            Some(p) => {
                pending.push(p.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("读取 {name} 时出错：{e}"))
                })?)
            }
        }
    }
    Ok((!pending.is_empty()).then_some(pending))
}

/// Triage every record of `inputs` and write `warnings.jsonl`,
/// `warnings.csv`, `summary.md` and `rejects.jsonl` into `out` (each
/// atomically). `progress` is called after each chunk with the number of
/// records read so far. An input that cannot be opened is an error; a
/// record that cannot be read is a reject.
pub fn run(
    engine: &Engine,
    inputs: &[PathBuf],
    opts: &BatchOptions,
    out: &Path,
    mut progress: impl FnMut(u64),
) -> std::io::Result<BatchResult> {
    let scoring = &engine.rules().scoring;
    let classes: Vec<String> = scoring
        .classes
        .iter()
        .map(|c| c.name.clone())
        .chain([scoring.other.clone()])
        .collect();
    let mut list = ListBuilder::new(out, classes.clone())?;
    let mut rejects = Spool::new(out)?;
    let mut result = BatchResult::default();
    let mut note_reject = |r: Reject, result: &mut BatchResult| -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&r)?;
        line.push(b'\n');
        rejects.write(&line)?;
        if result.first_rejects.len() < SHOWN_REJECTS {
            result.first_rejects.push(r);
        }
        Ok(())
    };
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    for (file_idx, path) in inputs.iter().enumerate() {
        let format = opts.format.unwrap_or_else(|| Format::from_path(path));
        let reader = CaseReader::open(path, format, opts.encoding).map_err(|e| {
            std::io::Error::new(e.kind(), format!("无法读取 {}：{e}", path.display()))
        })?;
        let name = names[file_idx].clone();
        let mut manifest = InputManifest {
            path: name.clone(),
            format,
            encoding: reader.detected().name().to_string(),
            read: 0,
            rejected: 0,
        };
        // With more than one thread, a reader thread reads the next chunk
        // while the workers triage this one.
        // Each block of records is parsed, triaged and encoded on one
        // worker; refused records travel with their block, in input order.
        let mut process = |pending: Vec<Pending>| -> std::io::Result<()> {
            manifest.read += pending.len() as u64;
            let classes = list.classes();
            let blocks: Vec<std::io::Result<Triaged>> = pending
                .into_par_iter()
                .chunks(BLOCK)
                .map(|part| {
                    let mut block = Block::new();
                    let mut refused = Vec::new();
                    for rec in part.into_iter().map(Pending::parse) {
                        match rec.case {
                            Ok(c) => {
                                let mut v = engine.triage(&c);
                                if opts.mask {
                                    mask_verdict(&mut v);
                                }
                                block.add(&v, rec.line, classes)?;
                            }
                            Err(e) => refused.push((rec.line, e.0)),
                        }
                    }
                    Ok((block, refused))
                })
                .collect();
            for b in blocks {
                let (block, refused) = b?;
                for (line, reason) in refused {
                    manifest.rejected += 1;
                    let r = Reject {
                        file: name.clone(),
                        line,
                        reason,
                    };
                    note_reject(r, &mut result)?;
                }
                list.push(block, file_idx)?;
            }
            progress(result.counts.read + manifest.read);
            Ok(())
        };
        let mut reader = reader;
        let processed = if rayon::current_num_threads() == 1 {
            loop {
                match read_chunk(&mut reader, &name) {
                    Ok(Some(p)) => process(p)?,
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        } else {
            std::thread::scope(|scope| -> std::io::Result<()> {
                let (tx, rx) = std::sync::mpsc::sync_channel(2);
                let reader_name = name.clone();
                scope.spawn(move || {
                    loop {
                        let chunk = read_chunk(&mut reader, &reader_name);
                        let stop = !matches!(chunk, Ok(Some(_)));
                        if tx.send(chunk).is_err() || stop {
                            return;
                        }
                    }
                });
                for chunk in rx {
                    match chunk? {
                        Some(p) => process(p)?,
                        None => break,
                    }
                }
                Ok(())
            })
        };
        processed?;
        result.counts.read += manifest.read;
        result.counts.rejected += manifest.rejected;
        result.inputs.push(manifest);
    }
    let finished = list.finish(out, &names, opts.top)?;
    for d in finished.duplicates {
        if let Some(m) = result.inputs.iter_mut().find(|m| m.path == d.file) {
            m.rejected += 1;
        }
        result.counts.rejected += 1;
        note_reject(d, &mut result)?;
    }
    rejects.persist(&out.join("rejects.jsonl"))?;
    result.counts.triaged = finished.listed;
    result.tally = finished.tally;
    debug_assert_eq!(
        result.counts.read,
        result.counts.triaged + result.counts.rejected
    );
    let families: Vec<(String, Option<crate::rules::Family>)> = classes
        .iter()
        .map(|c| (c.clone(), scoring.family_of(c)))
        .collect();
    let summary = crate::sink::summary(&result.tally, result.counts, &families);
    write_atomic(&out.join("summary.md"), summary.as_bytes())?;
    Ok(result)
}
