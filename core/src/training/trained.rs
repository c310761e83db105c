//! What training produces, ready to be stored: the model with its threshold, tiers, metrics and
//! summary, and each row's part and prediction. Both pipelines (classification and regression)
//! return it.

use serde_json::Value;

use crate::data::Part;
use crate::evaluation::Tiers;
use crate::models::LeadModel;
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
