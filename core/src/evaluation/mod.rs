//! How good a score is, on any scored rows: metrics and their curves, cross-validation folds,
//! thresholds, tiers, and the comparison of two scores on the same leads.
//!
//! Imports: `resources`, `data`.

pub mod compare;
pub mod curves;
pub mod cv;
pub mod metrics;
pub mod thresholds;
pub mod tiers;
