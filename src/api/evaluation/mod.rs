//! How good a score is: `evaluate`, the metric aggregates and curve reports, `compare`, thresholds and tiers.

pub mod compare;
pub mod curves;
pub mod evaluate;
pub mod metric_aggregates;
pub mod thresholds;
