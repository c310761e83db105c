//! The top of the core: train()'s options, the pipeline from columns to a stored model (split,
//! preprocess, fit, calibrate, evaluate, thresholds, tiers, importance), segment models,
//! hyperparameter search and the aggregate (IRLS-by-passes) engine.
//!
//! Imports: everything below it; nothing imports it.

pub mod columns;
pub mod engine;
pub mod fit;
pub mod options;
pub mod pipeline;
pub mod segments;
pub mod selection;
pub mod summary;
