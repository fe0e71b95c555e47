//! Drivers: a run from the source to the sinks.

pub mod batch;
