//! The estimators and the model they make: weighted logistic regression (and its passes over the
//! rows), ridge regression for a numeric label, boosted trees with TreeSHAP, probability calibration, the model itself, and its versioned
//! artifact with the checks a decoded artifact must pass before it scores.
//!
//! Imports: `resources`, `data`, `evaluation`.

mod artifact;
mod calibration;
pub(crate) mod flat_trees;
mod forust_json;
mod gbm;
mod gbm_inputs;
mod gbm_estimator;
mod cut_search;
mod leaf_masks;
mod lightgbm_ffi;
mod lightgbm_text;
mod linear;
pub(crate) mod linfa_dataset;
mod logistic;
mod model;
mod model_checks;
mod tree_sum;
mod treeshap;
mod treeshap_linear;
mod treeshap_linear_pass;
mod trees;

pub use artifact::{
    decode_model, decode_model_as, decode_scored_labels, encode_model, encode_scored_labels, encode_unbound_model,
};
pub use calibration::{
    ece_of_bins, expected_calibration_error, fit_isotonic, fit_platt, uniform_bin_edges, Calibration, ECE_BINS, PLATT_EPS,
};
pub use flat_trees::FlatTrees;
pub use gbm::{fit_gbm, gbm_training_bytes, walked_sum, GbmData, GbmModel, GbmOptions, TreeBooster};
pub use gbm_estimator::{GbmParams, ValidGbmParams};
pub use leaf_masks::LeafMasks;
pub use lightgbm_ffi::LgbmBooster;
pub use linear::fit_linear;
pub(crate) use logistic::fit_logistic_rows;
pub use logistic::{
    accumulate_row, combine, fit_logistic, fit_logistic_by_passes, new_state, newton_system_bytes, sigmoid, LogisticError,
    LogisticFit, LogisticOptions, LogisticParams, LogisticPasses, ValidLogisticParams,
};
pub use model::{Estimator, LeadModel, Segments};
pub use tree_sum::{sum_trees, TreeSum};
pub use trees::{MissingRule, Node, Tree, MAX_TREES, MAX_TREE_DEPTH};
