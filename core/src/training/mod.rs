//! The top of the core: train()'s options, the pipeline from columns to a stored model (split,
//! preprocess, fit, calibrate, evaluate, thresholds, tiers, importance), segment models,
//! hyperparameter search and the aggregate (IRLS-by-passes) engine; a regression of a numeric
//! label (`options.task = 'regression'`) has its own pipeline (`regression`), and both return a
//! `TrainedModel` (`trained`).
//!
//! Imports: everything below it; nothing imports it.

mod columns;
mod engine;
mod fit;
mod options;
mod outcomes;
mod pipeline;
mod regression;
mod segments;
mod selection;
mod summary;
mod trained;

pub use columns::{check_label_counts, check_label_type, check_labels, choose_features, id_like_columns, FeatureRequest};
pub use engine::uses_aggregate_engine;
pub use options::{default_value_tiers, parse_train_options, regression_algorithm, Algorithm, Task, TrainOptions, KNOWN_OPTIONS};
pub use outcomes::{tally_outcomes, DataWindow, LabelValueRows, OutcomeClass, OutcomeCounts, OutcomeDefinition};
#[cfg(test)]
pub(crate) use pipeline::tests as pipeline_tests;
pub use pipeline::{train_model, train_model_with};
pub use segments::{fallback_notice, keeps_segment_model};
pub use summary::{EffectiveOptions, EngineReport, PartCount, RegressionReport, SampleReport};
pub use trained::TrainedModel;
