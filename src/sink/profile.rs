//! The per-rule profile of a run (`--profile`): where the matching time
//! went.

use std::fmt::Write as _;

use std::path::{Path, PathBuf};

use super::{End, Sink, write_error};
use crate::matcher::{Engine, RuleProfile};

/// The per-rule profile as a Markdown table, most expensive rule first.
pub fn profile_markdown(report: &[RuleProfile], cases: u64) -> String {
    let total: u64 = report.iter().map(|r| r.nanos).sum();
    let mut s = format!(
        "# 规则耗时与命中\n\n共 {cases} 件；规则检查合计 {:.1} 毫秒（不含所有规则共用的关键词扫描）。\n\n| 规则 | 耗时（毫秒） | 占比% | 候选数 | 命中件数 | 命中率% |\n|---|---:|---:|---:|---:|---:|\n",
        total as f64 / 1e6
    );
    for r in report {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.1} | {} | {} | {:.1} |",
            r.rule,
            r.nanos as f64 / 1e6,
            if total == 0 {
                0.0
            } else {
                r.nanos as f64 * 100.0 / total as f64
            },
            r.candidates,
            r.hits,
            if cases == 0 {
                0.0
            } else {
                r.hits as f64 * 100.0 / cases as f64
            }
        );
    }
    s
}

/// `profile.md` as a [`Sink`]: the engine's per-rule profile at the end
/// of the run.
pub struct ProfileSink<'e> {
    engine: &'e Engine,
    path: PathBuf,
}

impl<'e> ProfileSink<'e> {
    /// `profile.md` in `dir`, from `engine` (whose profile is enabled).
    pub fn new(engine: &'e Engine, dir: &Path) -> ProfileSink<'e> {
        ProfileSink {
            engine,
            path: dir.join("profile.md"),
        }
    }
}

impl Sink for ProfileSink<'_> {
    fn finish(&mut self, end: &mut End) -> std::io::Result<()> {
        let md = profile_markdown(&self.engine.profile_report(), end.counts.triaged);
        crate::util::write_atomic(&self.path, md.as_bytes())
            .map_err(|e| write_error(&self.path, e))?;
        end.outputs.push("profile.md".to_string());
        Ok(())
    }
}
