//! What a training did, stored as the model's `training` jsonb and shown in its card: rows and
//! positives per part, the estimator's settings and convergence, class weights, resampling,
//! calibration, capped text levels, cross-validation, search, `auto`'s choice, segments, the
//! engine that fitted it, the seconds of each phase and the options that took effect.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::data::CappedLevels;
use crate::data::Resample;
use crate::models::GbmOptions;
use crate::training::options::{ClassWeight, TrainOptions};
use crate::training::outcomes::OutcomeCounts;
use crate::training::selection::{Candidate, CvReport};

/// Rows and converted rows of one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartCount {
    pub rows: usize,
    pub positives: usize,
}

/// The weight of each class in the fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassWeights {
    pub negative: f64,
    pub positive: f64,
}

/// How the training part was resampled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResampleReport {
    pub method: Resample,
    pub synthetic_rows: usize,
    pub dropped_rows: usize,
}

/// `algorithm => 'auto'`: both fits' validation ROC AUC and which one was kept, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoChoice {
    pub logistic_validation_roc_auc: Option<f64>,
    pub gbm_validation_roc_auc: Option<f64>,
    pub min_gain: f64,
    pub chosen: &'static str,
    pub reason: String,
}

/// Where the logistic fit ran: in memory, or by aggregate passes over the source (with their
/// count, seconds and the partial states parallel workers summed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineReport {
    pub engine: &'static str,
    pub engine_passes: Option<usize>,
    pub engine_pass_seconds: Option<f64>,
    pub engine_partial_states: Option<usize>,
}

impl Default for EngineReport {
    fn default() -> Self {
        EngineReport { engine: "memory", engine_passes: None, engine_pass_seconds: None, engine_partial_states: None }
    }
}

/// The aggregate engine's sample: the rows read into the backend out of all the rows, and what
/// was computed from them (everything else is an aggregate over all rows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleReport {
    pub rows_sampled: usize,
    pub rows_total: usize,
    pub sample_rows: usize,
    pub from_sample: Vec<&'static str>,
}

/// A regression's own record: the task, and the rows whose numeric label was NULL or NaN and
/// were left out (counted by the SQL layer, which reads them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionReport {
    pub task: &'static str,
    pub skipped_labels: usize,
}

/// The options that took effect, defaults included (the given ones are stored as given).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveOptions {
    pub alpha: f64,
    pub class_weight: ClassWeight,
    pub min_level_count: usize,
    pub max_levels: usize,
    pub max_memory: String,
    pub missing_values: Vec<String>,
    pub max_iter: usize,
    pub tol: f64,
}

impl EffectiveOptions {
    pub fn of(opts: &TrainOptions) -> EffectiveOptions {
        EffectiveOptions {
            alpha: opts.alpha,
            class_weight: opts.class_weight,
            min_level_count: opts.preprocess.min_level_count,
            max_levels: opts.preprocess.max_levels,
            max_memory: crate::resources::format_bytes(opts.max_memory.bytes),
            missing_values: opts.preprocess.missing_values.clone(),
            max_iter: opts.max_iter,
            tol: opts.tol,
        }
    }
}

/// The `training` record of a model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingSummary {
    pub rows: usize,
    /// "train", "validation", "test".
    pub parts: BTreeMap<&'static str, PartCount>,
    pub algorithm: &'static str,
    pub alpha: Option<f64>,
    pub gbm: Option<GbmOptions>,
    pub auto: Option<AutoChoice>,
    pub class_weight: ClassWeight,
    pub class_weights: ClassWeights,
    pub resample: ResampleReport,
    pub calibration: &'static str,
    pub iterations: usize,
    pub converged: bool,
    pub inputs: usize,
    pub capped_levels: Vec<CappedLevels>,
    pub cv: Option<CvReport>,
    pub search: Option<Vec<Candidate>>,
    pub segments: Option<Value>,
    #[serde(flatten)]
    pub engine: EngineReport,
    /// Seconds per phase, the core's and the SQL layer's (read, audit, reference).
    pub seconds: BTreeMap<String, f64>,
    /// Filled by the SQL layer, which knows which settings applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<OutcomeCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_options: Option<EffectiveOptions>,
    /// [`crate::data::content_fingerprint`] of the rows trained on (set by the SQL layer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_fingerprint: Option<String>,
    /// Set for a regression (`options.task = 'regression'`), absent for a classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionReport>,
    /// Set when the aggregate engine read a sample of the rows (set by the SQL layer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleReport>,
}

impl TrainingSummary {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a training summary serializes")
    }
}
