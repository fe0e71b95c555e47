//! Sinks: where verdicts and rejects go.
//!
//! The early-warning list as JSON Lines and CSV ([`list`], encoded by
//! [`encode`]), the Markdown [`summary`], the [`rejects`] file, the run
//! [`manifest`] and the rule [`profile`]. Every file is written through
//! [`crate::util::atomic`]: whole or not at all, owner-only.
//!
//! Sinks read verdicts, the rule set's names and the matcher's profile;
//! they never match or score. The drivers in `run` push into them.

pub mod encode;
pub mod list;
pub mod manifest;
pub mod profile;
pub mod rejects;
pub mod summary;

pub use crate::util::write_atomic;
pub use encode::{CSV_HEADERS, CsvEncoder, csv, csv_header, csv_row, jsonl, mask, mask_verdict};
pub use manifest::{InputManifest, Manifest};
pub use profile::profile_markdown;
pub use rejects::Reject;
pub use summary::{Counts, MAX_CRISIS_ROWS, Tally, TopRow, summary};
