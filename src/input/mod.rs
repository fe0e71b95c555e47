//! The source stage: the case record and how it is read.
//!
//! [`case`] holds the [`Case`] record and the parsing of its fields
//! (dates, levels, head counts, identity lists); [`reader`] streams JSON
//! Lines and CSV files in UTF-8 or GB18030, one [`Record`] per physical
//! record, with a reason when a record cannot be read.
//!
//! This is the ground floor: it uses nothing else of the crate.

pub mod case;
pub mod reader;
pub mod values;

pub use case::Case;
pub use reader::*;
