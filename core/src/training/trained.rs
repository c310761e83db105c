//! What training produces, ready to be stored: the model with its threshold, tiers, metrics and
//! summary, and each row's part and prediction. Both pipelines (classification and regression)
//! return it.

use serde_json::Value;

use crate::data::Part;
use crate::evaluation::Tiers;
use crate::models::TreeBooster;
use crate::models::{Estimator, LeadModel};
use crate::training::summary::TrainingSummary;

/// What training produced, ready to be stored.
pub struct TrainedModel {
    pub model: LeadModel,
    pub threshold: f64,
    pub tiers: Tiers,
    /// Metrics per part: {"train": {...}, "validation": {...}, "test": {...}}.
    pub metrics: Value,
    /// Rows and positives per part, class weights, convergence, CV and search results.
    pub summary: TrainingSummary,
    pub converged: bool,
    pub iterations: usize,
    /// Each row's part, predicted probability and label, in row order.
    pub parts: Vec<Part>,
    pub predictions: Vec<f64>,
    pub labels: Vec<bool>,
    /// Global importance (mean |SHAP|) on the validation part.
    pub importance: Vec<crate::explain::Importance>,
}

/// Validation rows used for global importance at most (evenly spaced), to bound training time.
pub const IMPORTANCE_ROWS: usize = 2000;

/// A boosted model's importance pass explains at most this many (lead, tree) pairs: TreeSHAP
/// costs per tree (300 trees of max depth 64 about 0.3 ms a lead with Linear TreeSHAP, 0.1 s
/// per train() for the 666 leads this allows), so a model of more than 100 trees explains fewer
/// leads (evenly spaced still) rather than taking longer.
pub const IMPORTANCE_LEAD_TREES: usize = 200_000;

/// A boosted model's importance uses at least this many validation rows (when there are that
/// many): the mean |SHAP| of n evenly spaced leads has a standard error of about s / sqrt(n),
/// s the spread of the feature's |SHAP| over the leads, so at 500 leads at most 4.5% of s.
pub const IMPORTANCE_MIN_ROWS: usize = 500;

/// Validation rows `model`'s global importance is computed on at most: [`IMPORTANCE_ROWS`], and
/// for boosted trees no more than [`IMPORTANCE_LEAD_TREES`] / trees, nor fewer than
/// [`IMPORTANCE_MIN_ROWS`].
pub fn importance_rows(model: &LeadModel) -> usize {
    match &model.estimator {
        Estimator::Gbm(booster) => (IMPORTANCE_LEAD_TREES / booster.trees().max(1)).clamp(IMPORTANCE_MIN_ROWS, IMPORTANCE_ROWS),
        _ => IMPORTANCE_ROWS,
    }
}
