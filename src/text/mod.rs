//! Reading Chinese text: what the matcher sees and what surrounds a hit.
//!
//! Clause and sentence boundaries, character offsets and excerpts
//! ([`clause`], re-exported here), the normalised [`normalize::View`]
//! with offsets back to the original, the jieba [`segment::Segmenter`],
//! the negation, hearsay and condition cues of [`modality`], and the head
//! counts of [`quantity`].
//!
//! Ground floor, beside `input`: it uses only the [`crate::util`] helpers
//! (in tests). Rules, the matcher and the reports read it; it reads none
//! of them.

mod clause;
pub mod modality;
pub mod normalize;
pub mod quantity;
pub mod segment;

pub use clause::*;
