//! Rules reloaded while a stream runs.
//!
//! A thread watches the rule folder (the folder, not the files: editors
//! save by writing a new file and renaming it over the old one). Changes
//! are debounced: the set is read once nothing has changed for
//! [`DEBOUNCE`]. The new set is then checked as `triage check` checks it
//! (the calendar files, `RuleSet::load`, `Engine::new` with every rule's
//! examples and counter-examples, the repeat rules and their examples)
//! and compiled on this thread, so the stream goes on meanwhile. A valid
//! set goes to the driver, which swaps it in between two cases; an
//! invalid one goes there as its diagnostics, and the old set stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::calendar::Calendar;
use crate::history::HistoryRules;
use crate::history::live::RuleGen;
use crate::matcher::Engine;
use crate::rules::{Diagnostic, RuleSet, RuleSource, Severity};

use super::Event;

/// Quiet time after the last change before the folder is read.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// A complete rule set: what every case is triaged with, from the first
/// byte of its findings to its score.
pub struct Generation {
    /// The engine and the repeat and cluster rules.
    pub rules: Arc<RuleGen>,
    /// The calendar of the same folder.
    pub calendar: Calendar,
    /// SHA-256 of the rule files (as the run manifest gives it).
    pub hash: String,
    /// SHA-256 of the user dictionary.
    pub dict_hash: String,
    /// Where the rules come from.
    pub origin: String,
}

/// Check and compile a rule set; every problem when it is not valid.
pub fn build(source: RuleSource) -> Result<Generation, Vec<Diagnostic>> {
    let calendar = Calendar::from_source(&source)?;
    let engine = Engine::new(RuleSet::load(source)?)?;
    let set = engine.rules();
    let history = HistoryRules::load(&set.source, &set.scoring)?;
    let errors: Vec<Diagnostic> = history
        .run_examples()
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let hash = set.source.rules_hash();
    let dict_hash = set.source.dict_hash();
    let origin = set.source.origin.clone();
    Ok(Generation {
        rules: Arc::new(RuleGen::new(Arc::new(engine), history)),
        calendar,
        hash,
        dict_hash,
        origin,
    })
}

impl Generation {
    /// What tells two rule folders apart: the rules' and the dictionary's
    /// hashes.
    pub fn identity(&self) -> String {
        format!("{} {}", self.hash, self.dict_hash)
    }
}

/// Watch `dir` until `stop`, sending each new rule set (or its errors)
/// whose files differ from `active` (the [`Generation::identity`] of the
/// set in use).
pub fn watch(
    dir: PathBuf,
    mut active: String,
    stop: Arc<AtomicBool>,
    tx: SyncSender<Event>,
) -> notify::Result<()> {
    use notify::Watcher;
    let (etx, erx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok_and(|e| !e.kind.is_access()) {
            let _ = etx.send(());
        }
    })?;
    watcher.watch(&dir, notify::RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        let _watcher = watcher;
        loop {
            match erx.recv_timeout(Duration::from_millis(200)) {
                Ok(()) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    continue;
                }
                Err(_) => return,
            }
            // Debounce: wait until the folder has been quiet for a while.
            while erx.recv_timeout(DEBOUNCE).is_ok() {}
            let Some(next) = read(&dir, &active) else {
                continue;
            };
            if let Ok(g) = &next {
                active = g.identity();
            }
            if tx.send(Event::Rules(next.map(Box::new))).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// The set in `dir`, unless its files hash to `active`.
fn read(dir: &Path, active: &str) -> Option<Result<Generation, Vec<Diagnostic>>> {
    let source = match RuleSource::from_dir(dir) {
        Ok(s) => s,
        Err(e) => {
            let name = dir.display().to_string();
            return Some(Err(vec![Diagnostic::file_level(
                "E000",
                &name,
                format!("无法读取规则目录：{e}"),
                None,
            )]));
        }
    };
    if format!("{} {}", source.rules_hash(), source.dict_hash()) == active {
        return None;
    }
    Some(build(source))
}
