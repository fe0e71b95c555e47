//! Batch triage: read every input file as a stream, triage cases in
//! parallel chunks, keep the verdicts (never the case text) and account
//! for every record: `read = triaged + rejected`, always.
//!
//! Results do not depend on the thread count: each chunk keeps input
//! order, and the final list is sorted by a total order.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::engine::Engine;
use crate::input::{CaseReader, EncodingChoice, Format, Record};
use crate::output::{Counts, InputManifest, Reject, mask_verdict};
use crate::verdict::Verdict;

/// Records triaged together in one parallel step.
const CHUNK: usize = 1024;

/// Options of a batch run.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Force a format instead of guessing from the file name.
    pub format: Option<Format>,
    /// Encoding choice.
    pub encoding: EncodingChoice,
    /// Mask identity-card and phone numbers in the verdicts.
    pub mask: bool,
}

/// Everything a batch run produced.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Verdicts, sorted in list order.
    pub verdicts: Vec<Verdict>,
    /// Refused records, in input order.
    pub rejects: Vec<Reject>,
    /// Per-input accounting.
    pub inputs: Vec<InputManifest>,
    /// Totals.
    pub counts: Counts,
}

/// Triage every record of `inputs`. `progress` is called after each chunk
/// with the number of records read so far. An input that cannot be opened
/// is an error; a record that cannot be read is a reject.
pub fn run(
    engine: &Engine,
    inputs: &[PathBuf],
    opts: &BatchOptions,
    mut progress: impl FnMut(u64),
) -> std::io::Result<BatchResult> {
    let mut result = BatchResult::default();
    let mut seen_ids: HashMap<String, (usize, u64)> = HashMap::new();
    for (file_idx, path) in inputs.iter().enumerate() {
        let format = opts.format.unwrap_or_else(|| Format::from_path(path));
        let reader = CaseReader::open(path, format, opts.encoding).map_err(|e| {
            std::io::Error::new(e.kind(), format!("无法读取 {}：{e}", path.display()))
        })?;
        let name = path.display().to_string();
        let mut manifest = InputManifest {
            path: name.clone(),
            format,
            encoding: reader.detected().name().to_string(),
            read: 0,
            rejected: 0,
        };
        let mut reader = reader.peekable();
        loop {
            let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK);
            for rec in reader.by_ref().take(CHUNK) {
                chunk.push(rec.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("读取 {name} 时出错：{e}"))
                })?);
            }
            if chunk.is_empty() {
                break;
            }
            manifest.read += chunk.len() as u64;
            let mut cases = Vec::with_capacity(chunk.len());
            for rec in chunk {
                match rec.case {
                    Ok(case) => match seen_ids.get(&case.id) {
                        Some(&(f, line)) => {
                            let where_ = if f == file_idx {
                                format!("第 {line} 行")
                            } else {
                                format!("{} 第 {line} 行", inputs[f].display())
                            };
                            result.rejects.push(Reject {
                                file: name.clone(),
                                line: rec.line,
                                reason: format!("编号“{}”与{where_}重复，已跳过", case.id),
                            });
                            manifest.rejected += 1;
                        }
                        None => {
                            seen_ids.insert(case.id.clone(), (file_idx, rec.line));
                            cases.push(case);
                        }
                    },
                    Err(e) => {
                        result.rejects.push(Reject {
                            file: name.clone(),
                            line: rec.line,
                            reason: e.0,
                        });
                        manifest.rejected += 1;
                    }
                }
            }
            let verdicts: Vec<Verdict> = cases
                .par_iter()
                .map(|c| {
                    let mut v = engine.triage(c);
                    if opts.mask {
                        mask_verdict(&mut v);
                    }
                    v
                })
                .collect();
            result.verdicts.extend(verdicts);
            progress(result.counts.read + manifest.read);
        }
        result.counts.read += manifest.read;
        result.counts.rejected += manifest.rejected;
        result.inputs.push(manifest);
    }
    result.counts.triaged = result.verdicts.len() as u64;
    result.verdicts.par_sort_by(Verdict::list_order);
    debug_assert_eq!(
        result.counts.read,
        result.counts.triaged + result.counts.rejected
    );
    Ok(result)
}
