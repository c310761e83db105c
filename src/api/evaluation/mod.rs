//! How good a score is: `evaluate`, the metric aggregates and curve reports, `compare`, thresholds and tiers;
//! the sales funnel per tier and period (`funnel`).

pub mod compare;
pub mod curves;
pub mod evaluate;
pub mod funnel;
pub mod metric_aggregates;
pub mod segment_threshold;
pub mod ranking_aggregates;
pub mod thresholds;
pub mod validation_leads;
pub mod value_threshold;
