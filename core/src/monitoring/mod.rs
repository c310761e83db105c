//! A deployed model over time: input and score drift (PSI) against the reference distributions
//! stored at training, performance on newly labelled leads against the test baseline, and each
//! lead's score trend.
//!
//! Imports: `resources`, `data`, `evaluation`, `models`.

mod drift;
mod performance;
mod trend;

pub use drift::{build_reference, check_thresholds, drift_report, DriftRow, Reference, Status, DEFAULT_ALERT, DEFAULT_WARN};
pub use performance::{
    baseline_json, compare_with_baseline, group_metrics, metrics_json, overall_status, recommendation, tier_rates, tier_rates_of,
};
pub use trend::{push_history, trend, SCORE_HISTORY};
