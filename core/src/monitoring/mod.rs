//! A deployed model over time: input and score drift (PSI) against the reference distributions
//! stored at training, performance on newly labelled leads against the test baseline, and each
//! lead's score trend.
//!
//! Imports: `resources`, `data`, `evaluation`, `models`.

pub mod drift;
pub mod performance;
pub mod trend;
