//! How good a score is, on any scored rows: metrics and their curves, a predicted value's metrics, cross-validation folds,
//! thresholds, tiers, the comparison of two scores on the same leads, and the statistics of a
//! prospective experiment's arms.
//!
//! Imports: `resources`, `data`.

mod compare;
mod curves;
mod cv;
mod experiments;
mod funnel;
mod metrics;
mod regression_metrics;
mod score_counts;
mod scored_models;
mod thresholds;
mod tiers;

pub use compare::{delong_compare, top_shares};
pub use curves::{calibration_curve, downsample_curve, lift_table, pr_curve, roc_curve};
pub use cv::{expanding_window_folds, stratified_k_fold, summarize, MetricSummary};
pub use experiments::{
    compare_arms, fisher_exact, median, two_proportion_z_test, verdict, wilson_interval, ArmComparison, ArmTest,
};
pub use funnel::{funnel_rates, FunnelCounts, FunnelRates, FunnelRow};
pub(crate) use metrics::order_key;
pub use metrics::{
    average_precision, brier, brier_term, confusion, ks_statistic, log_loss, log_loss_term, max_f1_threshold, part_metrics,
    part_metrics_of, precision_at_top, roc_auc, roc_auc_of_groups, Confusion, PartMetrics,
};
pub use regression_metrics::{median_of, regression_metrics, RegressionMetrics};
pub use score_counts::{
    average_precision_of_counts, bytes_for as score_counts_bytes, check_layout as check_score_counts,
    counts_of_state as score_counts_of_state, descending as counts_by_descending_score, entries_for as score_count_entries,
    ks_statistic_of_counts, merge_counts as merge_score_counts, roc_auc_of_counts, state_of_counts as score_counts_state,
    ScoreCounts,
};
pub use scored_models::models_scored_in;
pub use thresholds::{
    expected_value_threshold, f1_threshold, per_lead_value_choice, precision_target_threshold, Economics, ThresholdChoice,
};
pub use tiers::{tiers_from_quantiles, Tier, TierScale, Tiers};
