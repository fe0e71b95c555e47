//! The batch driver: read every input file as a stream, run it through
//! the pipeline a chunk at a time, and push into the sinks (by default the
//! list, the summary and the rejects in the output directory). Every record is accounted for: `read = triaged +
//! rejected`, always.
//!
//! Memory stays flat whatever the input size: verdicts go to a spill file
//! as they are made ([`crate::sink::list`]) and rejects straight to their file.
//! Results do not depend on the thread count: each chunk keeps input
//! order, and the list is sorted by a total order.

use std::path::{Path, PathBuf};

use super::{CHUNK, Context, PassThrough, mask_chunk, triage_chunk};
use crate::input::{CaseReader, EncodingChoice, Format, Pending};
use crate::matcher::Engine;
use crate::sink::{
    Begin, Counts, End, InputManifest, ListSink, NotesSink, Reject, RejectSink, Sink, SummarySink,
    Tally,
};

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
    /// Field notes written.
    pub notes: u64,
    /// Files written, in order.
    pub outputs: Vec<String>,
    /// Clusters found by the context stage.
    pub clusters: usize,
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
    progress: impl FnMut(u64),
) -> std::io::Result<BatchResult> {
    let set = crate::util::OutputSet::prepare(out, &crate::sink::OUTPUT_FILES)?;
    let mut sinks = default_sinks(set.dir(), opts.top)?;
    let mut refs: Vec<&mut dyn Sink> = sinks
        .iter_mut()
        .map(|s| &mut **s as &mut dyn Sink)
        .collect();
    let result = run_into(engine, inputs, opts, &mut PassThrough, &mut refs, progress)?;
    drop(refs);
    drop(sinks);
    set.commit()?;
    Ok(result)
}

/// The sinks of a plain run, in the order they finish: the list, the
/// field notes, the summary (which reads the list's tally and the number
/// of notes) and the rejects (which append the list's repeated ids).
pub fn default_sinks(out: &Path, top: usize) -> std::io::Result<Vec<Box<dyn Sink>>> {
    default_sinks_with(out, top, String::new())
}

/// [`default_sinks`] with lines for the top of the summary.
pub fn default_sinks_with(
    out: &Path,
    top: usize,
    preamble: String,
) -> std::io::Result<Vec<Box<dyn Sink>>> {
    Ok(vec![
        Box::new(ListSink::new(out, top)),
        Box::new(NotesSink::new(out)),
        Box::new(SummarySink::with_preamble(out, preamble)),
        Box::new(RejectSink::new(out)?),
    ])
}

/// Triage every record of `inputs` through `context` into `sinks`, which
/// finish in the order given. `progress` is called after each chunk with
/// the number of records read so far.
pub fn run_into(
    engine: &Engine,
    inputs: &[PathBuf],
    opts: &BatchOptions,
    context: &mut dyn Context,
    sinks: &mut [&mut dyn Sink],
    mut progress: impl FnMut(u64),
) -> std::io::Result<BatchResult> {
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let begin = Begin {
        rules: engine.rules(),
        inputs: &names,
    };
    for s in sinks.iter_mut() {
        s.begin(&begin)?;
    }
    let mut end = End::default();
    for (file_idx, path) in inputs.iter().enumerate() {
        let format = opts.format.unwrap_or_else(|| Format::from_path(path));
        let reader = CaseReader::open(path, format, opts.encoding)
            .map_err(|e| crate::util::ioerr::with_path("读取", path, e))?;
        let name = names[file_idx].clone();
        let mut manifest = InputManifest {
            path: name.clone(),
            absolute: std::fs::canonicalize(path)
                .ok()
                .filter(|_| path.as_os_str() != "-")
                .map(|p| p.display().to_string()),
            format,
            encoding: reader.detected().name().to_string(),
            fallback_encoding: reader.detected().other().name().to_string(),
            fallback_lines: 0,
            read: 0,
            rejected: 0,
        };
        let stats = reader.stats();
        let mut process = |pending: Vec<Pending>| -> std::io::Result<()> {
            manifest.read += pending.len() as u64;
            let (scored, refused) = triage_chunk(engine, context, pending);
            let mut passed = context.scored(engine, file_idx, scored)?;
            for (line, reason) in refused {
                manifest.rejected += 1;
                let r = Reject {
                    file: name.clone(),
                    line,
                    reason,
                };
                for s in sinks.iter_mut() {
                    s.reject(&r)?;
                }
            }
            for (file, chunk) in &mut passed {
                if opts.mask {
                    mask_chunk(chunk);
                }
                for s in sinks.iter_mut() {
                    s.verdicts(*file, chunk)?;
                }
            }
            context.passed(passed);
            progress(end.counts.read + manifest.read);
            Ok(())
        };
        read_chunks(reader, &name, &mut process)?;
        manifest.fallback_lines = stats.fallback_lines();
        end.counts.read += manifest.read;
        end.counts.rejected += manifest.rejected;
        end.inputs.push(manifest);
    }
    let mut held = context.finish(engine)?;
    for (file, chunk) in &mut held.verdicts {
        if opts.mask {
            mask_chunk(chunk);
        }
        for s in sinks.iter_mut() {
            s.verdicts(*file, chunk)?;
        }
    }
    for (file, chunk) in &mut held.amended {
        if opts.mask {
            mask_chunk(chunk);
        }
        for s in sinks.iter_mut() {
            s.amend(*file, chunk)?;
        }
    }
    end.clusters = held.clusters;
    for s in sinks.iter_mut() {
        s.finish(&mut end)?;
    }
    context.commit()?;
    debug_assert_eq!(end.counts.read, end.counts.triaged + end.counts.rejected);
    Ok(BatchResult {
        inputs: end.inputs,
        counts: end.counts,
        tally: end.tally,
        first_rejects: end.first_rejects,
        notes: end.notes,
        outputs: end.outputs,
        clusters: end.clusters.len(),
    })
}

/// Hand `reader`'s records to `process` a chunk at a time. With more than
/// one thread, a reader thread reads the next chunk while the workers
/// triage this one.
fn read_chunks(
    mut reader: CaseReader,
    name: &str,
    process: &mut dyn FnMut(Vec<Pending>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if rayon::current_num_threads() == 1 {
        while let Some(p) = read_chunk(&mut reader, name)? {
            process(p)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| -> std::io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            loop {
                let chunk = read_chunk(&mut reader, name);
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
}
