//! Small helpers that every floor may use: atomic file writes and a
//! seeded random generator. They know nothing of cases, rules or
//! verdicts, and import nothing of the crate.

pub mod atomic;
pub mod rng;

pub use atomic::{Spool, write_atomic};
pub use rng::Rng;
