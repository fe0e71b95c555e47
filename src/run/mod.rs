//! Drivers: one pipeline from a source to the sinks.
//!
//! ```text
//! source ─▶ findings (parallel, pure) ─▶ context (sequential) ─▶ score (parallel) ─▶ sinks
//! ```
//!
//! A driver reads records from its source in chunks. Each chunk's cases
//! are read by the matcher in parallel ([`crate::matcher::Engine::findings`]:
//! the text evidence, which depends on the case alone). The [`Context`]
//! stage then sees every case's findings in input order, one at a time,
//! and may keep state across cases: the history store, the calendar and
//! clusters plug in here. The findings are scored in parallel
//! ([`crate::score`]) and the chunk of verdicts goes to every
//! [`crate::sink::Sink`] in order.
//!
//! [`batch`] drives files; [`stream`] drives a stream of lines (standard
//! input or a followed file), one case at a time, with the history and
//! clusters kept up to date incrementally.
//! This floor may use everything below it (input, text, rules, matcher,
//! score, sink); only the command line stands above it.

pub mod batch;
pub mod calendar;
pub mod stream;

use rayon::prelude::*;

use crate::input::{Case, Pending};
use crate::matcher::{Engine, Findings};
use crate::sink::{Scored, mask_verdict};
use crate::verdict::ClusterSummary;

/// Records read together in one parallel step.
pub const CHUNK: usize = 256;
/// Records parsed and read by the matcher together on one thread.
const BLOCK: usize = 32;

/// The sequential, stateful stage between the text evidence and scoring.
/// It sees every case of a run once, in input order.
///
/// A context whose findings depend on cases still to come (a cluster
/// grows as its copies arrive) holds those cases back: it takes their
/// verdicts out in [`Context::scored`] and hands them back, scored again,
/// from [`Context::finish`], before the sinks finish. The list is sorted
/// at the end anyway, so it is the same list either way.
pub trait Context {
    /// Look at (and perhaps add to) the findings of the next case.
    fn case(&mut self, case: &Case, findings: &mut Findings);

    /// The verdicts of a chunk of input file number `file`, in input
    /// order, after scoring and before the sinks. A context may record
    /// them, and may take some out to return them from `finish`.
    fn scored(&mut self, _file: usize, _chunk: &mut Vec<Scored>) -> std::io::Result<()> {
        Ok(())
    }

    /// After the last chunk: the verdicts held back, final, with their
    /// input file number, and the clusters found.
    fn finish(&mut self, _engine: &Engine) -> std::io::Result<Finish> {
        Ok(Finish::default())
    }
}

/// What a context hands back at the end of a run.
#[derive(Debug, Default)]
pub struct Finish {
    /// Held-back verdicts, final, each with its input file number.
    pub verdicts: Vec<(usize, Vec<Scored>)>,
    /// Clusters, for the summary.
    pub clusters: Vec<ClusterSummary>,
}

/// The context stage of a run without history, calendar or clusters: it
/// passes the findings through unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough;

impl Context for PassThrough {
    fn case(&mut self, _case: &Case, _findings: &mut Findings) {}
}

/// A record of a chunk after the matcher: its line, and its case and
/// findings or the reason it could not be read.
type Read = (u64, Result<(Case, Findings), String>);

/// Run one chunk of records through the pipeline up to the sinks: the
/// findings in parallel, the context in order, the scores in parallel.
/// Returns the verdicts in input order and the refused records (line,
/// reason), also in input order.
pub fn triage_chunk(
    engine: &Engine,
    context: &mut dyn Context,
    mask: bool,
    pending: Vec<Pending>,
) -> (Vec<Scored>, Vec<(u64, String)>) {
    let read: Vec<Vec<Read>> = pending
        .into_par_iter()
        .chunks(BLOCK)
        .map(|part| {
            part.into_iter()
                .map(Pending::parse)
                .map(|rec| {
                    (
                        rec.line,
                        rec.case
                            .map(|c| {
                                let f = engine.findings(&c);
                                (c, f)
                            })
                            .map_err(|e| e.0),
                    )
                })
                .collect()
        })
        .collect();
    let mut refused = Vec::new();
    let mut found: Vec<(u64, Findings)> = Vec::with_capacity(read.iter().map(Vec::len).sum());
    for (line, r) in read.into_iter().flatten() {
        match r {
            Ok((case, mut f)) => {
                context.case(&case, &mut f);
                found.push((line, f));
            }
            Err(reason) => refused.push((line, reason)),
        }
    }
    let rules = engine.rules();
    let scored = found
        .into_par_iter()
        .with_min_len(BLOCK)
        .map(|(line, f)| {
            let mut verdict = crate::score::scored(&rules.scoring, &rules.rules, f);
            if mask {
                mask_verdict(&mut verdict);
            }
            Scored { line, verdict }
        })
        .collect();
    (scored, refused)
}
