//! The estimators and the model they make: weighted logistic regression (and its passes over the
//! rows), boosted trees with TreeSHAP, probability calibration, the model itself, and its versioned
//! artifact with the checks a decoded artifact must pass before it scores.
//!
//! Imports: `resources`, `data`, `evaluation`.

pub mod artifact;
pub mod calibration;
pub mod gbm;
pub mod gbm_estimator;
pub(crate) mod linfa_dataset;
pub mod logistic;
pub mod model;
pub mod model_checks;
pub mod treeshap;
pub mod treeshap_leaf_tables;
