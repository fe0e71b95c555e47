//! petition-triage: a rule-based risk early-warning and triage engine for
//! Chinese petition (信访) cases.
//!
//! Cases (JSON Lines or CSV, UTF-8 or GBK) are matched against rules that
//! staff can read and edit (TOML files of keywords, regexes, proximity
//! rules and exclusions), scored into classes and risk signals, and
//! written out as an early-warning list in tiers 红/橙/黄/蓝 with the
//! evidence for every point.
//!
//! ```no_run
//! use petition_triage::{Engine, RuleSet, RuleSource};
//!
//! let rules = RuleSet::load(RuleSource::builtin()).map_err(|d| d.len())?;
//! let engine = Engine::new(rules).map_err(|d| d.len())?;
//! let hits = engine.match_text(None, "我们村三十多户的房子被强拆，补偿款到现在还没到位");
//! assert!(!hits.hits.is_empty());
//! # Ok::<(), usize>(())
//! ```

pub mod calendar;
pub mod cluster;
pub mod context;
pub mod corpus;
pub mod eval;
pub mod explain;
pub mod history;
pub mod input;
pub mod matcher;
pub mod report;
pub mod rules;
pub mod run;
pub mod score;
pub mod sink;
pub mod text;
pub mod util;
pub mod verdict;

pub use input::Case;
pub use matcher::Engine;
pub use rules::{Diagnostic, RuleSet, RuleSource};
pub use verdict::{Tier, Verdict};

// The module paths before the stage folders, kept while code written
// against them is merged; new code names the stage paths.
#[doc(hidden)]
pub use input::case;
#[doc(hidden)]
pub use matcher as engine;
#[doc(hidden)]
pub use rules::literals;
#[doc(hidden)]
pub use run::batch;
#[doc(hidden)]
pub use sink as output;
#[doc(hidden)]
pub use sink::list;
#[doc(hidden)]
pub use text::{modality, normalize, quantity, segment};

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn shared_types_are_send_and_sync() {
        assert_send_sync::<crate::Engine>();
        assert_send_sync::<crate::RuleSet>();
        assert_send_sync::<crate::Verdict>();
    }
}
