//! The choices train() offers beside numbers: class weights, algorithm, calibration, the
//! hyperparameter search space, the training engine and the task (classification or regression).

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::CoreResult;

/// How the two classes are weighted in the fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ClassWeight {
    /// Every row weighs 1.
    None,
    /// Each class weighs n / (2 * rows of that class), as scikit-learn's "balanced".
    Balanced,
    /// Positive rows weigh this much, negative rows 1.
    Positive(f64),
}

impl ClassWeight {
    /// (negative weight, positive weight) for a training part with these counts.
    pub fn weights(self, negatives: usize, positives: usize) -> (f64, f64) {
        match self {
            ClassWeight::None => (1.0, 1.0),
            ClassWeight::Positive(w) => (1.0, w),
            ClassWeight::Balanced => {
                let n = (negatives + positives) as f64;
                (n / (2.0 * negatives as f64), n / (2.0 * positives as f64))
            }
        }
    }
}

/// Which estimator to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    Logistic,
    Gbm,
    /// Fit both; keep logistic unless gbm wins on validation ROC AUC by more than `min_gain`.
    Auto,
}

impl Algorithm {
    pub const NAMES: &'static [&'static str] = &["logistic", "gbm", "auto"];

    pub fn parse(name: &str) -> CoreResult<Algorithm> {
        match name {
            "logistic" => Ok(Algorithm::Logistic),
            "gbm" => Ok(Algorithm::Gbm),
            "auto" => Ok(Algorithm::Auto),
            other => Err(core_err!(InvalidArgument, "unknown algorithm \"{other}\"; available: {}", Algorithm::NAMES.join(", "))),
        }
    }

    /// Options only boosted trees read. With `logistic` they would be ignored, which hides a
    /// mistake (the wrong algorithm, or options copied from a gbm model): an ERROR instead.
    pub const GBM_ONLY_OPTIONS: &'static [&'static str] = &[
        "trees",
        "learning_rate",
        "max_leaves",
        "max_depth",
        "min_child_weight",
        "subsample",
        "l2",
        "early_stopping_rounds",
        "threads",
    ];

    /// Refuses options this algorithm does not read: gbm options with `logistic`, `min_gain`
    /// (the auto choice's margin) with anything but `auto`.
    pub fn check_options_apply(self, options: &serde_json::Value) -> CoreResult<()> {
        let Some(map) = options.as_object() else { return Ok(()) };
        if self == Algorithm::Logistic {
            if let Some(key) = Self::GBM_ONLY_OPTIONS.iter().find(|k| map.contains_key(**k)) {
                return Err(core_err!(
                    InvalidArgument,
                    "option \"{key}\" applies to algorithm gbm (or auto), not logistic; remove it or use algorithm => 'gbm'"
                ));
            }
        }
        if self != Algorithm::Auto && map.contains_key("min_gain") {
            return Err(core_err!(InvalidArgument, "option \"min_gain\" applies to algorithm auto only"));
        }
        Ok(())
    }
}

/// Probability calibration fitted on the validation part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalibrationChoice {
    /// Platt when class weights or resampling distort probabilities, otherwise none.
    Auto,
    None,
    Platt,
    Isotonic,
}

/// Hyperparameter search scored by cross-validated ROC AUC on the training part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSpec {
    /// Every combination (grid) or `n_iter` of them drawn with the seed (random).
    pub random_iterations: Option<usize>,
    pub alphas: AlphaSpace,
    pub class_weights: Vec<ClassWeight>,
    /// Booster settings to try (empty: keep the configured one).
    pub learning_rates: Vec<f64>,
    pub max_depths: Vec<usize>,
    pub max_leaves: Vec<usize>,
}

/// Candidate alphas: a list, or a log-uniform range for random search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlphaSpace {
    List(Vec<f64>),
    LogRange { min: f64, max: f64 },
}

/// `options.engine`: where a logistic model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Engine {
    /// `aggregate` from [`AUTO_AGGREGATE_ROWS`] rows on when it applies, otherwise `memory`.
    Auto,
    /// The design matrix in the backend's memory (fastest on small tables).
    Memory,
    /// Aggregate passes over the source: memory independent of the row count, parallel workers.
    Aggregate,
}

/// Rows from which `auto` picks the aggregate engine. Below it the memory engine is several
/// times faster (1,000,000 rows: 5 s against 27 s, BENCHMARKS.md) and its peak, about 1.5x the
/// design matrix, stays under about 1.5 GB for a typical lead table (60-70 inputs, 60% of rows
/// training); above it the aggregate engine's memory, independent of the row count, matters more.
pub const AUTO_AGGREGATE_ROWS: usize = 3_000_000;

impl Engine {
    pub fn parse(v: &serde_json::Value) -> CoreResult<Engine> {
        match v.as_str() {
            Some("auto") => Ok(Engine::Auto),
            Some("memory") => Ok(Engine::Memory),
            Some("aggregate") => Ok(Engine::Aggregate),
            _ => Err(core_err!(InvalidArgument, "option \"engine\" must be 'auto', 'memory' or 'aggregate', got {v}")),
        }
    }
}

/// What the label is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Task {
    /// Converted or not: the model predicts a probability.
    #[default]
    Classification,
    /// A number (a deal value, say): the model predicts the value.
    Regression,
}

impl Task {
    pub fn parse(v: &serde_json::Value) -> CoreResult<Task> {
        match v.as_str() {
            Some("classification") => Ok(Task::Classification),
            Some("regression") => Ok(Task::Regression),
            _ => Err(core_err!(InvalidArgument, "option \"task\" must be \"classification\" or \"regression\", got {v}")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}
