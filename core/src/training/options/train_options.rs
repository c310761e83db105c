//! [`TrainOptions`]: everything train() can be told, with its defaults and bounds.

use serde::{Deserialize, Serialize};

use super::choices::{Algorithm, CalibrationChoice, ClassWeight, Engine, SearchSpec, Task};
use crate::audit::LeakagePolicy;
use crate::data::PreprocessOptions;
use crate::data::Resample;
use crate::data::SplitSpec;
use crate::evaluation::Tiers;
use crate::governance::{DeployPolicy, DeployRule};
use crate::models::GbmOptions;
use crate::resources::MemoryLimit;
use crate::training::outcomes::{DataWindow, OutcomeDefinition};

/// Upper bounds of the size options, checked before any work so an absurd value is an error
/// naming the option instead of hours of work or an allocation that cannot succeed.
pub const MAX_ITER_BOUND: usize = 10_000;
pub const MAX_TREE_LEAVES: usize = 65_536;
pub const MAX_SEARCH_CANDIDATES: usize = 1_000;
pub const MAX_SMOTE_NEIGHBOURS: usize = 100;

/// Everything `train()` can be told through `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub split: SplitSpec,
    /// L2 penalty (1/C in scikit-learn terms).
    pub alpha: f64,
    pub class_weight: ClassWeight,
    pub preprocess: PreprocessOptions,
    /// Columns never used as features.
    pub exclude: Vec<String>,
    /// The label value that means "converted", for labels that are not boolean or 0/1.
    pub positive_label: Option<String>,
    /// Label values per class (converted, not converted, open), instead of positive_label.
    pub outcomes: Option<OutcomeDefinition>,
    /// Rows read by creation time: label maturity and the data cut-off.
    pub window: DataWindow,
    /// Probability bounds; for a regression, amounts of the predicted value.
    pub tiers: Option<Tiers>,
    /// Classification (the default) or regression of a numeric label.
    pub task: Task,
    /// A regression's tiers as quantiles of the predicted value on validation.
    pub value_tiers: Option<Tiers>,
    /// A fixed decision threshold instead of the F1-maximizing one.
    pub threshold: Option<f64>,
    pub max_iter: usize,
    pub tol: f64,
    /// Minimum rows of each class in the training part.
    pub min_class_rows: usize,
    pub calibration: CalibrationChoice,
    /// Folds of cross-validation on the training part, if any.
    pub cv: Option<usize>,
    pub search: Option<SearchSpec>,
    /// Resampling of the training part only.
    pub resample: Resample,
    /// Set from train()'s `algorithm` argument.
    pub algorithm: Algorithm,
    pub gbm: GbmOptions,
    /// How much better (validation ROC AUC) gbm must be for `auto` to prefer it.
    pub min_gain: f64,
    /// What to do with leakage suspects (see core::audit).
    pub leakage: LeakagePolicy,
    /// Whether retraining deploys the new version (`governance::deploy_policy`).
    pub deploy: DeployPolicy,
    /// `options.deploy_margin` and `options.deploy_test` (if_better only; see `deploy_rule`).
    pub deploy_margin: f64,
    pub deploy_test_significant: bool,
    /// Train only when `monitor()` raised an alert for the model since its latest version
    /// (for scheduled retraining that reacts to alerts).
    pub retrain_on_alert: bool,
    /// Apply rep feedback (`lead_scoring.lead_feedback`) to the labels, matched on `key`.
    pub use_feedback: bool,
    /// Store no new version when the rows read, the features, the label, the algorithm and
    /// the options are those of the name's latest version (a scheduled retrain of unchanged data).
    pub skip_unchanged: bool,
    /// The source's lead key column (matched against the feedback's lead_key as text).
    pub key: Option<String>,
    /// Train one model per value of this feature column, plus the global fallback.
    pub segment_by: Option<String>,
    /// With `segment_by`: each segment model gets its own threshold (max F1 on the segment's
    /// validation leads) and hot / warm / cold tiers, applied by segment at scoring.
    pub segment_tiers: bool,
    /// How a logistic model is fitted: in memory or by aggregate passes (`training::engine`).
    pub engine: Engine,
    /// With the aggregate engine: the most rows read into the backend (a deterministic sample
    /// chosen by a hash of each row) for calibration, the threshold, tiers, importance and the
    /// drift reference; everything else is computed by aggregates over all rows.
    pub sample_rows: usize,
    /// The most memory this training may use (`options.max_memory`, else the
    /// `lead_scoring.max_memory` setting, else a quarter of the machine).
    pub max_memory: MemoryLimit,
}

impl TrainOptions {
    /// `options.deploy` with its margin and significance test.
    pub fn deploy_rule(&self) -> DeployRule {
        DeployRule { policy: self.deploy, margin: self.deploy_margin, significant: self.deploy_test_significant }
    }

    /// The calibration to fit: `auto` means Platt exactly when class weights or resampling
    /// shift the predicted probabilities away from the real conversion rate.
    pub fn effective_calibration(&self) -> CalibrationChoice {
        match self.calibration {
            CalibrationChoice::Auto if self.class_weight != ClassWeight::None || self.resample != Resample::None => {
                CalibrationChoice::Platt
            }
            CalibrationChoice::Auto => CalibrationChoice::None,
            other => other,
        }
    }
}

/// `options.sample_rows` by default: enough for a stable calibration and threshold, about
/// 50 MB of columns read for 60 inputs.
pub const DEFAULT_SAMPLE_ROWS: usize = 100_000;

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            split: SplitSpec::default(),
            alpha: 1.0,
            class_weight: ClassWeight::None,
            preprocess: PreprocessOptions::default(),
            exclude: Vec::new(),
            positive_label: None,
            outcomes: None,
            window: DataWindow::default(),
            tiers: None,
            task: Task::Classification,
            value_tiers: None,
            threshold: None,
            max_iter: 100,
            tol: 1e-8,
            min_class_rows: 10,
            calibration: CalibrationChoice::Auto,
            cv: None,
            search: None,
            resample: Resample::None,
            algorithm: Algorithm::Logistic,
            gbm: GbmOptions::default(),
            min_gain: 0.01,
            leakage: LeakagePolicy::Warn,
            deploy: DeployPolicy::IfBetter,
            deploy_margin: 0.0,
            deploy_test_significant: false,
            retrain_on_alert: false,
            use_feedback: false,
            skip_unchanged: false,
            key: None,
            segment_by: None,
            segment_tiers: false,
            engine: Engine::Auto,
            sample_rows: DEFAULT_SAMPLE_ROWS,
            max_memory: MemoryLimit::default(),
        }
    }
}

pub const KNOWN_OPTIONS: &[&str] = &[
    "alpha",
    "as_of",
    "bins",
    "calibration",
    "class_weight",
    "created_column",
    "cv",
    "deploy",
    "deploy_margin",
    "deploy_test",
    "early_stopping_rounds",
    "engine",
    "exclude",
    "interactions",
    "key",
    "l2",
    "leakage",
    "learning_rate",
    "log",
    "mature_after",
    "max_depth",
    "max_iter",
    "max_leaves",
    "max_levels",
    "max_memory",
    "min_child_weight",
    "min_class_rows",
    "min_gain",
    "min_level_count",
    "missing_values",
    "outcomes",
    "positive_label",
    "resample",
    "retrain_on_alert",
    "sample_rows",
    "search",
    "seed",
    "segment_by",
    "segment_tiers",
    "skip_unchanged",
    "since",
    "split",
    "subsample",
    "task",
    "threads",
    "threshold",
    "tiers",
    "tol",
    "trees",
    "use_feedback",
    "value_tiers",
];
