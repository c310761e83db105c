//! The estimators and the model they make: weighted logistic regression (and its passes over the
//! rows), ridge regression for a numeric label, boosted trees with TreeSHAP, probability calibration, the model itself, and its versioned
//! artifact with the checks a decoded artifact must pass before it scores.
//!
//! Imports: `resources`, `data`, `evaluation`.

mod artifact;
mod calibration;
mod gbm;
mod gbm_estimator;
mod gbm_stop;
mod linear;
pub(crate) mod linfa_dataset;
mod logistic;
mod model;
mod model_checks;
mod treeshap;
mod treeshap_leaf_tables;

pub use artifact::{
    decode_model, decode_model_as, decode_scored_labels, encode_model, encode_scored_labels, encode_unbound_model,
};
pub use calibration::{expected_calibration_error, fit_isotonic, fit_platt, Calibration, ECE_BINS, PLATT_EPS};
pub use gbm::{fit_gbm, gbm_training_bytes, ForustModel, GbmData, GbmOptions, TreeBooster, MAX_TREES, MAX_TREE_DEPTH};
pub use gbm_estimator::{GbmParams, ValidGbmParams};
pub use linear::fit_linear;
pub(crate) use logistic::fit_logistic_rows;
pub use logistic::{
    accumulate_row, combine, fit_logistic, fit_logistic_by_passes, new_state, newton_system_bytes, sigmoid, LogisticError,
    LogisticFit, LogisticOptions, LogisticParams, LogisticPasses, ValidLogisticParams,
};
pub use model::{Estimator, LeadModel, Segments};
