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
//! [`crate::sink::Sink`] in order (masked there when the run masks). A
//! context may score a chunk later than it came, and may amend verdicts
//! already passed on at the end of the run ([`Context`]); the sinks then
//! get the amendments, and the list replaces those rows.
//!
//! [`batch`] drives files; [`stream`] drives a stream of lines (standard
//! input or a followed file), one case at a time, with the history and
//! clusters kept up to date incrementally.
//! This floor may use everything below it (input, text, rules, matcher,
//! score, sink, the contexts of [`crate::context`] and the history store);
//! only the command line stands above it.

pub mod batch;
pub mod calendar;
pub mod stream;

use rayon::prelude::*;

pub use crate::context::{Context, Finish, PassThrough, Passed};
use crate::input::{Case, Pending};
use crate::matcher::{Engine, Findings};
use crate::sink::{Scored, mask_verdict};

/// Mask identity-card and phone numbers in the verdicts of `chunk`, in
/// parallel.
pub fn mask_chunk(chunk: &mut [Scored]) {
    chunk
        .par_iter_mut()
        .with_min_len(BLOCK)
        .for_each(|s| mask_verdict(&mut s.verdict));
}

/// Records read together in one parallel step.
pub const CHUNK: usize = 256;
/// Records parsed and read by the matcher together on one thread.
const BLOCK: usize = 32;

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
                context.take_case(case, &mut f);
                found.push((line, f));
            }
            Err(reason) => refused.push((line, reason)),
        }
    }
    let rules = engine.rules();
    let scored = found
        .into_par_iter()
        .with_min_len(BLOCK)
        .map(|(line, f)| Scored {
            line,
            verdict: crate::score::scored(&rules.scoring, &rules.rules, f),
        })
        .collect();
    (scored, refused)
}
