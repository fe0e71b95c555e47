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
/// A context may score cases itself, later than the chunk they came in
/// (it takes the chunk's verdicts in [`Context::scored`] and returns
/// others), and may find at the end that verdicts already passed on
/// must change (a cluster grows as its copies arrive): it returns them,
/// scored again, as amendments from [`Context::finish`], and the list
/// replaces the earlier rows. The list is sorted at the end anyway, so
/// it is the same list either way.
pub trait Context {
    /// Look at (and perhaps add to) the findings of the next case.
    fn case(&mut self, case: &Case, findings: &mut Findings);

    /// [`Context::case`] for a driver that is done with the case: a
    /// context that keeps cases takes it instead of a copy.
    fn take_case(&mut self, case: Case, findings: &mut Findings) {
        self.case(&case, findings);
    }

    /// The verdicts of a chunk of input file number `file`, in input
    /// order, after scoring and before the sinks. Returns the verdicts to
    /// pass on now, each group with its input file number: by default
    /// the chunk itself.
    fn scored(
        &mut self,
        _engine: &Engine,
        file: usize,
        chunk: Vec<Scored>,
    ) -> std::io::Result<Passed> {
        Ok(vec![(file, chunk)])
    }

    /// The verdicts of [`Context::scored`] come back here after the sinks
    /// have read them (masked, when the run masks), so that a context
    /// that may amend them keeps them without a copy.
    fn passed(&mut self, _verdicts: Passed) {}

    /// After the last chunk: the verdicts still held, the amendments and
    /// the clusters found.
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

/// Verdicts passed on together, each group with its input file number.
pub type Passed = Vec<(usize, Vec<Scored>)>;

/// What a context hands back at the end of a run.
#[derive(Debug, Default)]
pub struct Finish {
    /// Verdicts held back until now, final, each with its input file
    /// number.
    pub verdicts: Passed,
    /// Verdicts passed on earlier that changed, final: each replaces
    /// the verdict of the same record.
    pub amended: Passed,
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
