//! The context stage of the pipeline: the sequential, stateful step
//! between the text evidence and scoring, as a trait that the history
//! store, the calendar and clusters implement, and the context that does
//! nothing. It stands below the drivers ([`crate::run`]) and below what
//! plugs into it ([`crate::history`]), so both can name it.

use crate::input::Case;
use crate::matcher::{Engine, Findings};
use crate::sink::Scored;
use crate::verdict::ClusterSummary;

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

    /// After the sinks have finished: make lasting what the context
    /// records (a store written while the sinks write is complete when
    /// this returns).
    fn commit(&mut self) -> std::io::Result<()> {
        Ok(())
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
