//! Small helpers that every floor may use: atomic file writes and output
//! sets, masking of identity numbers, I/O errors in Chinese and a seeded
//! random generator; a lower priority for background threads. They know nothing of cases, rules or
//! verdicts, and import nothing of the crate.

pub mod atomic;
pub mod ioerr;
pub mod mask;
pub mod priority;
pub mod rng;

pub use atomic::{OutputSet, Spool, create_private_dir, write_atomic};
pub use mask::{excerpt, mask};
pub use rng::Rng;
